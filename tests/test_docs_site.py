"""`privacy-guard docs`: the site's files, content, layout and failure behaviour.

Two inputs: a synthetic 250-node manifest (layout must stay sane: no overlapping boxes, edges
left to right, every model named) and a real `dbt build` of tests/fixtures/audit_project run
through the real CLI.
"""

from __future__ import annotations

import html as html_module
import json
import re
import subprocess
import sys
from html.parser import HTMLParser
from itertools import combinations
from pathlib import Path
from typing import Any

import pytest
from dbt_harness import shared_build

from python_checks.docs_site import load_site, write_site
from python_checks.check import NodeEntry
from python_checks.governance import NodeView, protection_status, resolved_settings
from python_checks.loader import EMPTY_RUN
from python_checks.provenance import AttachedTest, NodeProvenance
from python_checks.formatters.html import NAME_CHAR_WIDTH, graph_model

CLI = [sys.executable, "-m", "python_checks"]
DEPARTMENTS = ["hr", "clinic", "sales", "support", "finance"]


class _Page(HTMLParser):
    """Collects what the assertions need from index.html: node groups, urls, scripts, texts."""

    def __init__(self) -> None:
        super().__init__()
        self.nodes: list[dict[str, str]] = []
        self.urls: list[str] = []
        self.scripts: list[dict[str, str]] = []
        self.texts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "g" and "node" in values.get("class", "").split():
            self.nodes.append(values)
        self.urls += [v for k, v in values.items() if k in {"src", "href", "xlink:href", "action"}]
        if tag == "script":
            self.scripts.append(values)

    def handle_data(self, data: str) -> None:
        self.texts.append(data)


def _parse(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    return page


def _synthetic_manifest() -> dict[str, Any]:
    """250 nodes: 5 departments x (10 seeds + 20 staging), 40 cross-department marts, 40 reports, 20 utilities."""
    nodes: dict[str, Any] = {}

    def add(kind: str, name: str, parents: list[str], privacy: dict[str, Any] | None, columns: dict[str, str]) -> str:
        uid = f"{kind}.synth.{name}"
        nodes[uid] = {
            "unique_id": uid,
            "resource_type": kind,
            "name": name,
            "package_name": "synth",
            "original_file_path": f"{'seeds' if kind == 'seed' else 'models'}/{name}.{'csv' if kind == 'seed' else 'sql'}",
            "raw_code": "select 1",
            "depends_on": {"nodes": parents, "macros": []},
            "config": {"meta": {"privacy": privacy} if privacy else {}, "materialized": "table"},
            "columns": {c: {"name": c, "config": {"meta": {"privacy": {"class": cls}}}} for c, cls in columns.items()},
        }
        return uid

    staging: dict[str, list[str]] = {}
    for d in DEPARTMENTS:
        policy = {"department": d, "consent": ["analytics", "care"], "retention": {"days": 365}}
        seeds = [add("seed", f"raw_{d}_table_{i:02d}", [], policy, {"person_key": "quasi_identifier", "age": "quasi_identifier"}) for i in range(10)]
        staging[d] = [add("model", f"stg_{d}__entity_number_{i:02d}", [seeds[i // 2]], None, {}) for i in range(20)]
    marts = []
    for i in range(40):
        left, right = DEPARTMENTS[i % 5], DEPARTMENTS[(i + 1 + i // 5) % 5]
        parents = [staging[left][i % 20], staging[right][(i * 3) % 20]]
        marts.append(add("model", f"mart_{left}_{right}_{i:02d}", parents, {"purpose": "analytics"}, {}))
    for i in range(40):
        add("model", f"report_{i:02d}{'_with_a_much_longer_descriptive_name' if i % 7 == 0 else ''}", [marts[i], marts[(i + 5) % 40]], None, {})
    for i in range(20):
        add("model", f"util_calendar_{i:02d}", [], None, {})
    return {
        "metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v12.json", "dbt_version": "1.11.0", "adapter_type": "duckdb"},
        "nodes": nodes,
        "sources": {},
        "exposures": {},
    }


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("synthetic")
    manifest = _synthetic_manifest()
    (tmp / "manifest.json").write_text(json.dumps(manifest))
    site = load_site(tmp / "manifest.json", project_dir=tmp)
    index = write_site(site, tmp / "site")
    return {"manifest": manifest, "site": site, "html": index.read_text(), "out": tmp / "site"}


def test_synthetic_layout_has_no_overlapping_boxes(synthetic: dict[str, Any]) -> None:
    graph = graph_model(synthetic["site"])
    boxes = {n["view"].unique_id: n["box"] for n in graph["nodes"]}
    assert len(boxes) == 250
    rects = [(b.x, b.y, b.x + b.width, b.y + b.height) for b in boxes.values()]
    overlapping = [(a, b) for a, b in combinations(rects, 2) if a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]]
    assert overlapping == []
    # Every box lies on the canvas and is wide enough for its name in the 12px monospace font.
    assert all(0 <= x1 and 0 <= y1 and x2 <= graph["width"] and y2 <= graph["height"] for x1, y1, x2, y2 in rects)
    assert all(boxes[uid].width >= len(node["name"]) * NAME_CHAR_WIDTH for uid, node in synthetic["manifest"]["nodes"].items())
    # Lineage reads left to right: every parent's box ends before its child's begins.
    for uid, node in synthetic["manifest"]["nodes"].items():
        for parent in node["depends_on"]["nodes"]:
            assert boxes[parent].x + boxes[parent].width < boxes[uid].x, (parent, uid)
    # Readable: the drawing is not one endless column (wide layers wrap).
    assert graph["height"] < 24 * 60 and graph["width"] < 20_000


def test_synthetic_page_names_every_model_in_svg(synthetic: dict[str, Any]) -> None:
    page = _parse(synthetic["html"])
    names = {n["data-name"] for n in page.nodes}
    assert names == {n["name"] for n in synthetic["manifest"]["nodes"].values()}
    texts = set(page.texts)
    assert all(name in texts for name in names)  # the name is drawn, not only an attribute
    # 5 departments with their colours in the legend, combined marts drawn as combined.
    assert len([n for n in page.nodes if "combined" in n["class"].split()]) >= 40


def test_page_is_self_contained(synthetic: dict[str, Any]) -> None:
    out = synthetic["out"]
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == [
        ".privacy-guard-docs",
        "assets/site.css",
        "assets/site.js",
        "history.json",
        "index.html",
        "privacy_report.json",
        "provenance.json",
    ]
    page = _parse(synthetic["html"])
    assert page.urls and all(not re.match(r"^\s*(https?:)?//", url) for url in page.urls)
    assert all((out / url).is_file() for url in page.urls if not url.startswith("#")), page.urls
    assert all(script.get("type", "") in {"", "text/javascript"} for script in page.scripts)  # classic scripts, no modules
    javascript = (out / "assets" / "site.js").read_text() + synthetic["html"]
    assert not re.search(r"\bfetch\(|XMLHttpRequest|\bimport\s*\(|^\s*import\s|https?://", javascript, re.MULTILINE)
    assert not re.search(r"https?://|@import", (out / "assets" / "site.css").read_text())


@pytest.fixture(scope="module")
def real(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("docs")
    project = shared_build(tmp_path_factory, "audit_project", expect_success=False).project_dir  # a planted not_null test fails
    target = project / "target"
    args = ["--manifest", str(target / "manifest.json"), "--run-results", str(target / "run_results.json")]
    html = subprocess.run([*CLI, "docs", *args, "--out", str(tmp / "site")], capture_output=True, text=True, cwd=tmp)
    markdown = subprocess.run([*CLI, "docs", *args, "--out", str(tmp / "md"), "--format", "markdown"], capture_output=True, text=True, cwd=tmp)
    check = subprocess.run([*CLI, "check", *args, "--format", "json", "--fail-on", "never"], capture_output=True, text=True, cwd=tmp)
    return {
        "tmp": tmp,
        "project": project,
        "manifest": json.loads((target / "manifest.json").read_text()),
        "run_results": json.loads((target / "run_results.json").read_text()),
        "html_run": html,
        "markdown_run": markdown,
        "check": json.loads(check.stdout),
    }


def _card(html: str, name: str) -> str:
    """The text of the card of node `name` (cards are <article> elements, one per node)."""
    match = re.search(r'<article class="card" id="card-\d+" data-index="\d+" data-uid="[^"]*\.' + re.escape(name) + r'".*?</article>', html, re.S)
    assert match, name
    # <wbr> (a line-break opportunity inside an identifier) is not a word boundary.
    return html_module.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(0).replace("<wbr>", ""))))


@pytest.mark.dbt
def test_docs_exits_zero_with_findings_and_writes_the_check_json(real: dict[str, Any]) -> None:
    run = real["html_run"]
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == f"privacy-guard: docs written to {real['tmp'] / 'site' / 'index.html'} (7 nodes, {len(real['check']['findings'])} findings)"
    report = json.loads((real["tmp"] / "site" / "privacy_report.json").read_text())
    assert report["findings"] and report["findings"] == real["check"]["findings"]
    assert report["nodes"] == real["check"]["nodes"]


@pytest.mark.dbt
def test_card_shows_policy_provenance_and_results(real: dict[str, Any]) -> None:
    html = (real["tmp"] / "site" / "index.html").read_text()
    banded = _card(html, "hr_banded")
    assert "Department hr" in banded and "Purpose workforce_planning" in banded
    effective_k = real["check"]["nodes"]["model.audit_project.hr_banded"]["k"]
    assert f"Effective k {effective_k} (declared 2)" in banded
    assert "privacy_guard.truncate_postcode('zip', keep=3) line 14" in banded
    assert "privacy_guard.suppress_small_groups('banded', quasi_identifiers=['age_band', 'zip3'], k=2) line 18" in banded
    assert "in set numeric_bands › for (column, width) in band_widths.items()" in banded
    assert 'privacy_guard.k_anonymity k=2 argument quasi_identifiers=["age_band","zip3"] argument pass' in banded
    counts = _card(html, "visit_counts")
    assert "agreement hr-clinic-2024" in counts.lower() and re.search(r"not_null on repeat_visits .*? fail \(3 failing\)", counts)
    stg_hr = _card(html, "stg_hr")
    assert "Retention declared 3650 days" in stg_hr


@pytest.mark.dbt
def test_findings_table_and_metrics_match_the_check(real: dict[str, Any]) -> None:
    html = (real["tmp"] / "site" / "index.html").read_text()
    findings = real["check"]["findings"]
    # A small site inlines its findings chunks (one per rule): [severity, rule, ...] rows.
    rows = [tuple(row[:2]) for chunk in re.findall(r'PG_LOADED\("findings-\d+",(.*?)\);\n', html) for row in json.loads(chunk)]
    assert sorted(rows) == sorted((f["severity"], f["category"]) for f in findings)
    # Coverage from the manifest itself: released personal models (staging counts only when an exposure
    # reads it) with every attached privacy_guard k_anonymity/min_cell_size test passing.
    statuses = {r["unique_id"]: r["status"] for r in real["run_results"]["results"]}
    protecting: dict[str, list[str]] = {}
    for node in real["manifest"]["nodes"].values():
        if node["resource_type"] == "test" and (node.get("test_metadata") or {}).get("name") in {"k_anonymity", "min_cell_size"}:
            protecting.setdefault(node["attached_node"], []).append(statuses.get(node["unique_id"], "not run"))
    read_by_exposure = {p for e in real["manifest"]["exposures"].values() for p in e["depends_on"]["nodes"]}
    released = [
        uid for uid, n in real["check"]["nodes"].items()
        if n["resource_type"] == "model" and n["personal"] and (not n["name"].startswith(("stg_", "base_")) or uid in read_by_exposure)
    ]
    protected = [uid for uid in released if protecting.get(uid) and set(protecting[uid]) == {"pass"}]
    assert protected == ["model.audit_project.hr_banded"] and len(released) == 2  # stg_hr and stg_clinic are not counted
    kpi = re.sub(r"\s+", " ", re.search(r'id="kpi-k"[^>]*>(.*?)</div>', html, re.S).group(1))
    assert f"{round(100 * len(protected) / len(released))}%" in kpi and f"({len(protected)} of {len(released)};" in kpi
    assert "2 never-released staging not counted" in kpi
    errors = sum(f["severity"] == "error" for f in findings)
    assert re.search(rf'id="kpi-violations">\s*<span class="value">{errors}</span>', html)


@pytest.mark.dbt
def test_markdown_is_one_file_with_a_mermaid_lineage(real: dict[str, Any]) -> None:
    assert real["markdown_run"].returncode == 0, real["markdown_run"].stderr
    out = real["tmp"] / "md"
    assert sorted(p.name for p in out.iterdir()) == [".privacy-guard-docs", "history.json", "privacy_lineage.md", "privacy_report.json", "provenance.json"]
    text = (out / "privacy_lineage.md").read_text()
    mermaid = re.search(r"```mermaid\n(.*?)```", text, re.S).group(1)
    assert mermaid.startswith("flowchart LR")
    for node in real["check"]["nodes"].values():
        assert f'["{node["name"]}<br/>' in mermaid
    assert mermaid.count("-->") + mermaid.count("-.->") + mermaid.count("==>") == len(real["check"]["edges"])
    assert "`privacy_guard.suppress_small_groups('banded', quasi_identifiers=['age_band', 'zip3'], k=2)`" in text


def _docs(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, "docs", *args], capture_output=True, text=True, cwd=tmp)


@pytest.mark.dbt
def test_bad_input_is_one_line_exit_2_and_writes_nothing(real: dict[str, Any]) -> None:
    tmp = real["tmp"]
    broken = tmp / "broken.json"
    broken.write_text('{"metadata": {')
    for manifest, expected in [(tmp / "missing.json", "missing.json: no such file"), (broken, "not valid JSON")]:
        run = _docs(tmp, "--manifest", str(manifest), "--out", str(tmp / "never"))
        assert run.returncode == 2 and expected in run.stderr and len(run.stderr.strip().splitlines()) == 1, run.stderr
        assert "Traceback" not in run.stderr and not (tmp / "never").exists()
    foreign = tmp / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me")
    manifest = str(real["project"] / "target" / "manifest.json")
    run = _docs(tmp, "--manifest", manifest, "--out", str(foreign))
    assert run.returncode == 2 and "refusing to replace" in run.stderr
    assert [p.name for p in foreign.iterdir()] == ["notes.txt"]
    assert not [p for p in tmp.iterdir() if p.name.startswith((".never", ".foreign", ".site"))]  # no staging left behind


@pytest.mark.dbt
def test_rerun_replaces_an_earlier_site_whole(real: dict[str, Any]) -> None:
    tmp = real["tmp"]
    manifest = str(real["project"] / "target" / "manifest.json")
    assert _docs(tmp, "--manifest", manifest, "--out", str(tmp / "again")).returncode == 0
    (tmp / "again" / "stale.html").write_text("from an older run")
    assert _docs(tmp, "--manifest", manifest, "--out", str(tmp / "again")).returncode == 0
    assert not (tmp / "again" / "stale.html").exists() and (tmp / "again" / "index.html").is_file()
    assert not [p for p in tmp.iterdir() if p.name.startswith(".again")]


def _combinations(manifest: dict[str, Any]) -> set[str]:
    """Independent of the check: department sets of two or more, from the seeds each node reads transitively."""
    nodes = manifest["nodes"]

    def held(uid: str) -> frozenset[str]:
        own = (nodes[uid]["config"]["meta"].get("privacy") or {}).get("department")
        return frozenset([own] if own else []).union(*(held(p) for p in nodes[uid]["depends_on"]["nodes"]))

    return {"+".join(sorted(h)) for h in map(held, nodes) if len(h) > 1}


def test_history_shows_new_and_resolved_combinations(tmp_path: Path) -> None:
    current = _synthetic_manifest()
    earlier = json.loads(json.dumps(current))
    # The earlier build had no marts joining clinic, and one combination that is gone since.
    earlier["nodes"] = {uid: n for uid, n in earlier["nodes"].items() if not (uid.startswith("model.synth.mart_clinic") or uid.startswith("model.synth.report_"))}
    template = next(n for uid, n in earlier["nodes"].items() if uid.startswith("model.synth.mart_"))
    every_staging = [f"model.synth.stg_{d}__entity_number_00" for d in DEPARTMENTS]  # five departments: no current node combines all
    earlier["nodes"]["model.synth.mart_retired"] = {**template, "unique_id": "model.synth.mart_retired", "name": "mart_retired", "depends_on": {"nodes": every_staging, "macros": []}}
    for name, manifest in (("earlier", earlier), ("current", current)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "manifest.json").write_text(json.dumps(manifest))
    write_site(load_site(tmp_path / "earlier" / "manifest.json", project_dir=tmp_path), tmp_path / "earlier" / "site")
    run = subprocess.run([*CLI, "docs", "--manifest", str(tmp_path / "current" / "manifest.json"), "--project-dir", str(tmp_path),
                          "--history", str(tmp_path / "earlier" / "site" / "privacy_report.json"), "--out", str(tmp_path / "site")], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    new, resolved = sorted(_combinations(current) - _combinations(earlier)), sorted(_combinations(earlier) - _combinations(current))
    assert new and resolved == ["+".join(sorted(DEPARTMENTS))]
    html = (tmp_path / "site" / "index.html").read_text()
    change = html_module.unescape(re.search(r'id="history-changes">\s*<li>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC: (.*?)</li>', html).group(1))
    assert change == f"new {', '.join(new)}; resolved {', '.join(resolved)}"
    # history.json carries both points; handing it to the next build gives three, oldest first.
    points = json.loads((tmp_path / "site" / "history.json").read_text())["points"]
    assert [len(p["combinations"]) for p in points] == [len(_combinations(earlier)), len(_combinations(current))]
    assert [p["findings"] for p in points][1] == len(json.loads((tmp_path / "site" / "privacy_report.json").read_text())["findings"])
    again = load_site(tmp_path / "current" / "manifest.json", project_dir=tmp_path, history=[tmp_path / "site" / "history.json"])
    assert len(again.history) == 3 and again.history[0]["when"] < again.history[1]["when"] < again.history[2]["when"]


def test_history_that_is_not_a_report_is_one_line_exit_2(tmp_path: Path) -> None:
    (tmp_path / "manifest.json").write_text(json.dumps(_synthetic_manifest()))
    (tmp_path / "other.json").write_text('{"hello": 1}')
    run = subprocess.run([*CLI, "docs", "--manifest", str(tmp_path / "manifest.json"), "--project-dir", str(tmp_path),
                          "--history", str(tmp_path / "other.json"), "--out", str(tmp_path / "site")], capture_output=True, text=True)
    assert run.returncode == 2 and run.stderr.strip().count("\n") == 0 and "other.json" in run.stderr and "Traceback" not in run.stderr
    assert not (tmp_path / "site").exists()


def _entry(**values: Any) -> NodeEntry:
    """A personal model's node entry; `values` override its fields."""
    defaults: dict[str, Any] = dict(
        name="m", resource_type="model", package="p", original_file_path="models/m.sql", patch_path=None, personal=True,
        declared={}, departments=["hr"], consent=None, purpose=None, retention_days=None, declared_retention_days=None,
        k=None, privacy_unit=None, sensitivity=None, agreement=None, waivers=[], meeting_departments=[], columns={},
        quasi_identifiers=[], direct_identifiers=[], parents=[],
    )
    return NodeEntry(**{**defaults, **values})


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [(["pass"], "protected"), (["pass", "fail"], "failing"), ([None], "not run"), ([EMPTY_RUN], "not run"), ([EMPTY_RUN, "pass"], "failing"), ([], "untested")],
)
def test_protection_status_of_a_model_by_its_group_size_tests(statuses: list[str | None], expected: str) -> None:
    tests = [AttachedTest(f"test.p.k_{i}", "k_anonymity", "privacy_guard", None, {}, status) for i, status in enumerate(statuses)]
    tests.append(AttachedTest("test.p.not_null", "not_null", None, "id", {}, "fail"))  # not a privacy test: never counts
    view = NodeView("model.p.m", _entry(), NodeProvenance("model.p.m", tests=tests), [])
    assert protection_status(view) == expected


def test_test_settings_resolve_from_arguments_meta_and_defaults() -> None:
    entry = _entry(declared={"k": 7, "l": 3}, k=7, quasi_identifiers=["age", "zip3"])
    assert resolved_settings("k_anonymity", {}, entry) == [("k", 7, "meta"), ("quasi_identifiers", ["age", "zip3"], "column classes")]
    assert resolved_settings("min_cell_size", {"k": 11}, entry)[0] == ("k", 11, "argument")
    assert resolved_settings("l_diversity", {}, entry)[0] == ("l", 3, "meta")
    # No t anywhere: the contract's documented default (0.2, "else 0.2" in the schema's description).
    assert resolved_settings("t_closeness", {}, entry)[0] == ("t", 0.2, "default_t")
    assert resolved_settings("not_null", {"column_name": "x"}, entry) == []


def test_database_without_audit_table_is_one_line_exit_2(tmp_path: Path) -> None:
    import duckdb

    (tmp_path / "manifest.json").write_text(json.dumps(_synthetic_manifest()))
    duckdb.connect(str(tmp_path / "empty.duckdb")).close()
    run = subprocess.run([*CLI, "docs", "--manifest", str(tmp_path / "manifest.json"), "--project-dir", str(tmp_path),
                          "--database", str(tmp_path / "empty.duckdb"), "--out", str(tmp_path / "site")], capture_output=True, text=True)
    assert run.returncode == 2 and run.stderr.strip().count("\n") == 0 and "no privacy_guard_audit table" in run.stderr
    assert not (tmp_path / "site").exists()
