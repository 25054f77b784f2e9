"""The HTML site: index.html (server-side SVG lineage, cards, findings, summary) + bundled assets.

The graph is laid out here, in Python, as a layered (Sugiyama-style) drawing: layers by longest
path from the sources, order within a layer by barycenter sweeps (fewer crossings), boxes as wide
as their labels. Drawing server-side means the page shows every node as an SVG element on first
load, from file:// and with no network, and layout is testable without a browser. The bundled
JavaScript (assets/site.js, a classic script) only adds interaction: search, focus on a node's
upstream/downstream, pan/zoom, cards, filters.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Any

import orjson
from jinja2 import Environment, PackageLoader, select_autoescape

if TYPE_CHECKING:
    from python_checks.docs_site import Site

#: Labels are monospace 12px (glyph advance 0.6em), subtitles 10px: widths are exact, boxes never clip.
NAME_CHAR_WIDTH = 7.2
SUBTITLE_CHAR_WIDTH = 6.0
BOX_PADDING = 26
MIN_BOX_WIDTH = 120
NODE_HEIGHT = 38
ROW_GAP = 14
COLUMN_GAP = 80
MARGIN = 20
#: Taller layers wrap into several columns, so one wide layer (many sources) stays on screen.
MAX_ROWS = 24
BARYCENTER_SWEEPS = 4
#: Department colours (no red: red means a flagged edge or an error).
PALETTE = ("#4e79a7", "#f28e2b", "#59a14f", "#b07aa1", "#76b7b2", "#edc948", "#9c755f", "#ff9da7", "#8cd17d", "#499894")
ASSETS = ("site.css", "site.js")


@dataclass(frozen=True)
class Box:
    """Where one node is drawn (top-left corner and size, SVG user units)."""

    x: float
    y: float
    width: float
    height: float

    def overlaps(self, other: Box) -> bool:
        return self.x < other.x + other.width and other.x < self.x + self.width and self.y < other.y + other.height and other.y < self.y + self.height


def _layers(node_ids: list[str], edges: list[tuple[str, str]]) -> dict[str, int]:
    """Longest-path layering: a node sits one layer right of its deepest parent."""
    parents: dict[str, list[str]] = {uid: [] for uid in node_ids}
    for source, target in edges:
        if source in parents and target in parents and source != target:
            parents[target].append(source)
    layer: dict[str, int] = {}
    # Depth-first with an explicit stack: a lineage chain of thousands of models exceeds Python's
    # recursion limit. A parent still on the stack closes a cycle (impossible in dbt, but a bad
    # manifest must not hang us) and is left out.
    for start in node_ids:
        if start in layer:
            continue
        stack, on_stack = [start], {start}
        while stack:
            uid = stack[-1]
            pending = next((p for p in parents[uid] if p not in layer and p not in on_stack), None)
            if pending is not None:
                stack.append(pending)
                on_stack.add(pending)
                continue
            stack.pop()
            on_stack.discard(uid)
            layer[uid] = 1 + max((layer[p] for p in parents[uid] if p in layer), default=-1)
    return layer


def _ordered_layers(layer: dict[str, int], edges: list[tuple[str, str]], initial_key: dict[str, Any]) -> list[list[str]]:
    """Nodes per layer, ordered by barycenter sweeps (down by parents, up by children)."""
    count = max(layer.values(), default=-1) + 1
    layers: list[list[str]] = [[] for _ in range(count)]
    for uid in sorted(layer, key=lambda u: initial_key[u]):
        layers[layer[uid]].append(uid)
    neighbours: dict[str, dict[str, list[str]]] = {"up": {u: [] for u in layer}, "down": {u: [] for u in layer}}
    for source, target in edges:
        if source in layer and target in layer:
            neighbours["up"][target].append(source)
            neighbours["down"][source].append(target)

    def position() -> dict[str, float]:
        return {uid: (index + 0.5) / len(nodes) for nodes in layers for index, uid in enumerate(nodes)}

    for _ in range(BARYCENTER_SWEEPS):
        for direction, sequence in (("up", range(1, count)), ("down", range(count - 2, -1, -1))):
            where = position()
            for index in sequence:
                current = {uid: i for i, uid in enumerate(layers[index])}

                def barycenter(uid: str) -> float:
                    linked = neighbours[direction][uid]
                    return sum(where[n] for n in linked) / len(linked) if linked else where[uid]

                layers[index].sort(key=lambda uid: (barycenter(uid), current[uid]))
    return layers


def box_width(name: str, subtitle: str) -> float:
    """Width that holds the node's name and subtitle at their fixed glyph widths."""
    return max(MIN_BOX_WIDTH, len(name) * NAME_CHAR_WIDTH + BOX_PADDING, len(subtitle) * SUBTITLE_CHAR_WIDTH + BOX_PADDING)


def layout(labels: dict[str, tuple[str, str]], edges: list[tuple[str, str]]) -> dict[str, Box]:
    """unique_id -> Box for a DAG whose nodes are labelled (name, subtitle). Boxes never overlap."""
    node_ids = sorted(labels)
    layer = _layers(node_ids, edges)
    initial = {uid: (labels[uid][1], labels[uid][0], uid) for uid in node_ids}
    columns = [
        nodes[start : start + MAX_ROWS]
        for nodes in _ordered_layers(layer, edges, initial)
        for start in range(0, max(len(nodes), 1), MAX_ROWS)
        if nodes
    ]
    pitch = NODE_HEIGHT + ROW_GAP
    tallest = max((len(column) for column in columns), default=0)
    boxes: dict[str, Box] = {}
    x = MARGIN
    for column in columns:
        width = max(box_width(*labels[uid]) for uid in column)
        top = MARGIN + (tallest - len(column)) * pitch / 2  # centre short columns
        for row, uid in enumerate(column):
            boxes[uid] = Box(x, top + row * pitch, width, NODE_HEIGHT)
        x += width + COLUMN_GAP
    return boxes


def _edge_path(source: Box, target: Box) -> str:
    """A cubic curve from the right side of the source to the left side of the target."""
    x1, y1 = source.x + source.width, source.y + source.height / 2
    x2, y2 = target.x, target.y + target.height / 2
    bend = max(40.0, abs(x2 - x1) / 2)
    return f"M{x1:.1f},{y1:.1f} C{x1 + bend:.1f},{y1:.1f} {x2 - bend:.1f},{y2:.1f} {x2:.1f},{y2:.1f}"


def subtitle(entry: dict[str, Any]) -> str:
    """The second line of a node box: its departments, or why it has none."""
    if entry["departments"]:
        return " + ".join(entry["departments"])
    return "personal, no department" if entry["personal"] else "not personal"


def _script_json(value: Any) -> str:
    # Inside <script>, "</" would end the element: escape the characters HTML cares about.
    text = orjson.dumps(value).decode()
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def _json_text(value: Any) -> str:
    return orjson.dumps(value).decode()


@lru_cache(maxsize=1)
def _templates() -> Environment:
    env = Environment(
        loader=PackageLoader("python_checks", "formatters/templates"),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["json_text"] = _json_text
    return env


def graph_model(site: Site) -> dict[str, Any]:
    """The drawing: node boxes with their colours, edge paths with their kinds, the canvas size."""
    departments = site.departments()
    colours = {d: PALETTE[i % len(PALETTE)] for i, d in enumerate(departments)}
    labels = {uid: (view.name, subtitle(view.entry)) for uid, view in site.nodes.items()}
    pairs = [(e["source"], e["target"]) for e in site.edges if e["source"] in labels and e["target"] in labels]
    boxes = layout(labels, pairs)
    index = {uid: i for i, uid in enumerate(sorted(site.nodes))}
    nodes = []
    for uid in sorted(site.nodes):
        view, box = site.nodes[uid], boxes[uid]
        own = view.entry["departments"]
        band = box.height / max(len(own), 1)
        nodes.append(
            {
                "index": index[uid],
                "view": view,
                "box": box,
                "subtitle": labels[uid][1],
                "fill": colours[own[0]] if len(own) == 1 else "#ffffff",
                "bands": [{"colour": colours[d], "y": i * band, "height": band} for i, d in enumerate(own)],
            }
        )
    edges = []
    for edge in site.edges:
        if edge["source"] not in boxes or edge["target"] not in boxes:
            continue
        kind = "flagged" if edge["flagged"] else "cross" if edge["cross_department"] else "plain"
        edges.append({**edge, "kind": kind, "path": _edge_path(boxes[edge["source"]], boxes[edge["target"]]),
                      "source_index": index[edge["source"]], "target_index": index[edge["target"]]})
    # Flagged edges last, so they are drawn on top of the others.
    edges.sort(key=lambda e: ("plain", "cross", "flagged").index(e["kind"]))
    width = max((b.x + b.width for b in boxes.values()), default=0) + MARGIN
    height = max((b.y + b.height for b in boxes.values()), default=0) + MARGIN
    return {
        "nodes": nodes,
        "edges": edges,
        "width": math.ceil(width),
        "height": math.ceil(height),
        "legend": [{"department": d, "colour": c} for d, c in colours.items()],
        "index": index,
    }


def render_site(site: Site) -> dict[str, str]:
    """Relative path -> text of every file of the site (index.html and assets/)."""
    graph = graph_model(site)
    script_data = {
        "nodes": [{"i": n["index"], "uid": n["view"].unique_id, "name": n["view"].name} for n in graph["nodes"]],
        "edges": [[e["source_index"], e["target_index"]] for e in graph["edges"]],
    }
    html = _templates().get_template("index.html.j2").render(
        site=site,
        graph=graph,
        metrics=site.metrics(),
        script_data=_script_json(script_data),
        severities=["error", "warning", "info"],
        categories=sorted({f["category"] for f in site.findings}),
    )
    assets = resources.files("python_checks").joinpath("formatters/assets")
    return {"index.html": html, **{f"assets/{name}": assets.joinpath(name).read_text(encoding="utf-8") for name in ASSETS}}
