"""The HTML site: index.html (department map, server-side SVG lineage, cards, findings, summary) + assets.

Overview first: the landing tab is the department map (governance.meeting_points). A project of
more than LARGE_SITE_NODES nodes does not get the whole lineage drawn nor every card inlined:
index.html keeps the map, the counts and a compact index, and each view's data lives in its own
`data/<chunk>.js` (a classic script that calls `PG_LOADED(name, value)`), loaded by a `<script>`
tag when the view opens (Chromium blocks fetch() from file://). A small site inlines the same
chunks into index.html, so both sizes run the same JavaScript.

The graph is laid out here, in Python, as a layered (Sugiyama-style) drawing: layers by longest
path from the sources, order within a layer by barycenter sweeps (fewer crossings), boxes as wide
as their labels. Drawing server-side means the page shows every node as an SVG element on first
load, from file:// and with no network, and layout is testable without a browser. The bundled
JavaScript (assets/site.js, a classic script) only adds interaction: search, focus on a node's
upstream/downstream, pan/zoom, cards, filters.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import orjson
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup, escape

from python_checks import governance
from python_checks.findings import Finding
from python_checks.governance import NodeView, Site

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
#: Above this many nodes the lineage is drawn per model neighbourhood and the data is lazy.
LARGE_SITE_NODES = 300
#: Cards per data chunk of a large site (one chunk is one <script> load).
CARDS_PER_CHUNK = 200
#: Department map: radius of the ring of departments, and of agreements outside it.
MAP_RADIUS = 220


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
                    linked = neighbours[direction][uid]  # noqa: B023 -- called within this iteration
                    return sum(where[n] for n in linked) / len(linked) if linked else where[uid]  # noqa: B023 -- called within this iteration

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
    x: float = MARGIN
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


def subtitle(view: NodeView) -> str:
    """The second line of a node box: its departments, or why it has none."""
    if view.entry.departments:
        return " + ".join(view.entry.departments)
    state = governance.node_state(view)
    return "personal, no department" if state == "personal" else state


def _script_json(value: Any) -> str:
    # Inside <script>, "</" would end the element: escape the characters HTML cares about.
    text = orjson.dumps(value).decode()
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def _json_text(value: Any) -> str:
    return orjson.dumps(value).decode()


def _breakable(value: Any) -> Markup:
    """Escaped text with a line-break opportunity after each _ . / so identifiers wrap at their separators, never mid-word."""
    text = str(escape(value))
    for separator in "_./":
        text = text.replace(separator, separator + "<wbr>")
    return Markup(text)


@lru_cache(maxsize=1)
def _templates() -> Environment:
    env = Environment(
        loader=PackageLoader("python_checks", "formatters/templates"),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["json_text"] = _json_text
    env.filters["breakable"] = _breakable
    env.globals["resolve"] = governance.resolved_settings
    env.globals["resolved_tests"] = governance.TEST_THRESHOLDS
    return env


def graph_model(site: Site) -> dict[str, Any]:
    """The drawing: node boxes with their colours, edge paths with their kinds, the canvas size."""
    departments = site.departments()
    colours = {d: PALETTE[i % len(PALETTE)] for i, d in enumerate(departments)}
    labels = {uid: (view.name, subtitle(view)) for uid, view in site.nodes.items()}
    pairs = [(e["source"], e["target"]) for e in site.edges if e["source"] in labels and e["target"] in labels]
    boxes = layout(labels, pairs)
    index = {uid: i for i, uid in enumerate(sorted(site.nodes))}
    nodes = []
    for uid in sorted(site.nodes):
        view, box = site.nodes[uid], boxes[uid]
        own = view.entry.departments
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


def _ring_order(departments: list[str], points: list[governance.MeetingPoint]) -> list[str]:
    """Departments around the ring so that strongly combined ones sit side by side (greedy walk, fewer crossings)."""
    weight: dict[frozenset[str], int] = {}
    for point in points:
        for a in point.departments:
            for b in point.departments:
                if a < b:
                    weight[frozenset((a, b))] = weight.get(frozenset((a, b)), 0) + len(point.nodes)
    left = list(departments)
    order: list[str] = []
    while left:
        last = order[-1] if order else None
        best = max(left, key=lambda d: (weight.get(frozenset((last, d)), 0) if last else sum(w for k, w in weight.items() if d in k), -left.index(d)))
        order.append(best)
        left.remove(best)
    return order


def department_map(site: Site, points: list[governance.MeetingPoint]) -> dict[str, Any]:
    """The landing drawing: departments on a ring, a pair's meeting point as an edge, three or more
    departments as a hub at their centroid, agreements outside the ring linked to their departments."""
    colours = {d: PALETTE[i % len(PALETTE)] for i, d in enumerate(site.departments())}
    departments = _ring_order(site.departments(), points)
    centre = MAP_RADIUS + 190
    angle = {d: 2 * math.pi * i / max(len(departments), 1) - math.pi / 2 for i, d in enumerate(departments)}

    def at(radius: float, theta: float) -> tuple[float, float]:
        return round(centre + radius * math.cos(theta), 1), round(centre + radius * math.sin(theta), 1)

    places = {d: at(MAP_RADIUS, angle[d]) for d in departments}
    combos = []
    for index, point in enumerate(points):
        ends = [places[d] for d in point.departments if d in places]
        if not ends:
            continue
        x = sum(e[0] for e in ends) / len(ends)
        y = sum(e[1] for e in ends) / len(ends)
        if len(ends) > 2:  # pull hubs apart a little so equal centroids do not stack
            x, y = x + 14 * math.cos(index), y + 14 * math.sin(index)
        errors = point.findings.get("error", 0)
        combos.append({"index": index, "point": point, "ends": ends, "x": round(x, 1), "y": round(y, 1), "errors": errors,
                       "width": round(1.5 + 5 * math.log10(1 + len(point.nodes)), 1)})
    agreements = []
    for i, agreement in enumerate(sorted(site.agreements.values(), key=lambda a: a.id)):
        linked = [d for d in sorted(agreement.departments) if d in places]
        # Outside the ring in the direction of its departments' centroid (angles do not average).
        cx, cy = (sum(places[d][0] for d in linked) / len(linked) - centre, sum(places[d][1] for d in linked) / len(linked) - centre) if linked else (0.0, 0.0)
        theta = math.atan2(cy, cx) if abs(cx) + abs(cy) > 1 else 2 * math.pi * i / max(len(site.agreements), 1)
        x, y = at(MAP_RADIUS + 95 + 18 * (i % 3), theta)
        agreements.append({"id": agreement.id, "x": x, "y": y, "links": [places[d] for d in linked]})
    return {
        "size": 2 * centre,
        "departments": [{"name": d, "colour": colours[d], "x": places[d][0], "y": places[d][1]} for d in departments],
        "combos": combos,
        "agreements": agreements,
    }


def _finding_row(finding: Finding, site: Site, index: dict[str, int]) -> list[Any]:
    """One finding, compact: [severity, rule, node index or -1, node name, message, hint, files, departments, agreement, waived]."""
    view = site.nodes.get(finding.node)
    if view is None:
        departments, files, agreement = [], [], None
    else:
        entry = view.entry
        departments = list(governance.combination(entry.meeting_departments, entry.departments) or entry.departments)
        # The node's SQL/seed file and the YAML that declares its policy (patch_path is "package://path").
        files = [entry.original_file_path, (entry.patch_path or "").split("://", 1)[-1]]
        agreement = entry.agreement
    return [finding.severity, finding.category, index.get(finding.node, -1), view.name if view else finding.node,
            finding.message, finding.hint or "", " · ".join(dict.fromkeys(f for f in files if f)), departments,
            agreement or "", finding.waiver is not None]


def data_chunks(
    site: Site, graph_index: dict[str, int], points: list[governance.MeetingPoint], large: bool, render_card: Callable[[int, str], str]
) -> dict[str, Any]:
    """Every lazily loaded piece of data by chunk name (see the module docstring)."""
    every = _every_finding(site)
    chunks: dict[str, Any] = {
        f"findings-{i}": [_finding_row(f, site, graph_index) for f in every if f.category == rule] for i, rule in enumerate(_rules(every))
    }
    for i, point in enumerate(points):
        chunks[f"meet-{i}"] = [
            [graph_index[uid], site.nodes[uid].name, site.nodes[uid].resource_type, site.nodes[uid].entry.purpose or "",
             site.nodes[uid].entry.agreement or "", len(site.nodes[uid].findings), governance.protection_status(site.nodes[uid])]
            for uid in point.nodes
        ]
    if large:
        order = sorted(site.nodes)
        parents = [[graph_index[p] for p in site.nodes[uid].entry.parents if p in graph_index] for uid in order]
        colours = {d: PALETTE[i % len(PALETTE)] for i, d in enumerate(site.departments())}

        def colour(view: NodeView) -> str:  # one department: its colour; combined: drawn purple by the CSS
            own = view.entry.departments
            return colours[own[0]] if len(own) == 1 else ""

        chunks["graph"] = {
            "nodes": [[site.nodes[uid].name, subtitle(site.nodes[uid]), int(site.nodes[uid].entry.personal),
                       len(site.nodes[uid].findings), site.nodes[uid].worst_severity or "", colour(site.nodes[uid])] for uid in order],
            "parents": parents,
        }
        for start in range(0, len(order), CARDS_PER_CHUNK):
            chunks[f"cards-{start // CARDS_PER_CHUNK}"] = {str(i): render_card(i, order[i]) for i in range(start, min(start + CARDS_PER_CHUNK, len(order)))}
    return chunks


def _every_finding(site: Site) -> list[Finding]:
    """Open findings and those a waiver silences (the findings list can show either)."""
    return [*site.findings, *site.waived]


def _rules(findings: list[Finding]) -> list[str]:
    return sorted({f.category for f in findings})


def _chunk_script(name: str, value: Any) -> str:
    return f"PG_LOADED({_script_json(name)},{_script_json(value)});\n"


def render_site(site: Site) -> dict[str, str]:
    """Relative path -> text of every file of the site (index.html, assets/ and, for a large site, data/)."""
    large = len(site.nodes) > LARGE_SITE_NODES
    points = governance.meeting_points(site)
    templates = _templates()
    if large:
        order = sorted(site.nodes)
        graph: dict[str, Any] = {"nodes": [], "edges": [], "width": 0, "height": 0, "legend": [], "index": {uid: i for i, uid in enumerate(order)}}
    else:
        graph = graph_model(site)
    card_template = templates.get_template("card.html.j2")

    def render_card(index: int, uid: str) -> str:
        return card_template.render(node={"index": index, "view": site.nodes[uid]}, graph=graph, site=site)

    chunks = data_chunks(site, graph["index"], points, large, render_card)
    today = site.report.analysis.as_of  # the day the findings were judged against
    every = _every_finding(site)
    rules = _rules(every)
    script_data = {
        "large": large,
        "cards_per_chunk": CARDS_PER_CHUNK,
        "nodes": [{"i": n["index"], "uid": n["view"].unique_id, "name": n["view"].name} for n in graph["nodes"]],
        "edges": [[e["source_index"], e["target_index"]] for e in graph["edges"]],
        "rules": rules,
        "points": [p.key for p in points],
        "names": [site.nodes[uid].name for uid in sorted(site.nodes)] if large else [],
    }
    html = templates.get_template("index.html.j2").render(
        site=site,
        graph=graph,
        large=large,
        metrics=site.metrics(),
        points=points,
        department_map=department_map(site, points),
        agreements=governance.agreements(site, today),
        waivers=governance.waivers(site, today),
        trends=governance.trends(site.history),
        rule_counts=sorted(((r, sum(f.category == r for f in site.findings)) for r in rules), key=lambda rc: (-rc[1], rc[0])),
        waived_count=len(every) - len(site.findings),
        script_data=_script_json(script_data),
        inline_chunks="" if large else "".join(_chunk_script(name, value) for name, value in chunks.items()),
        severities=["error", "warning", "info"],
        categories=rules,
    )
    assets = resources.files("python_checks").joinpath("formatters/assets")
    files = {"index.html": html, **{f"assets/{name}": assets.joinpath(name).read_text(encoding="utf-8") for name in ASSETS}}
    if large:
        files.update({f"data/{name}.js": _chunk_script(name, value) for name, value in chunks.items()})
    return files
