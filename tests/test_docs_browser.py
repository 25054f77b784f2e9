"""The docs page in a real headless Chromium (Debian `chromium`, installed by scripts/install_system_deps.sh).

Opens index.html from a file:// URL with every non-file request aborted and recorded, then
checks what a governance reader does: the graph is drawn, a click shows the policy card, the
findings filter narrows the table, search focuses a model. Screenshots go to the test's tmp dir
and to /tmp/privacy_guard_docs_screenshot.png for a human look.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from dbt_harness import shared_build

pytestmark = [pytest.mark.browser, pytest.mark.dbt]

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"]
SHARED_SCREENSHOT = Path("/tmp/privacy_guard_docs_screenshot.png")
OVERVIEW_SCREENSHOT = Path("/tmp/privacy_guard_docs_overview.png")
DRILLDOWN_SCREENSHOT = Path("/tmp/privacy_guard_docs_drilldown.png")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("browser")
    project = shared_build(tmp_path_factory, "audit_project", expect_success=False).project_dir  # a planted not_null test fails
    target = project / "target"
    run = subprocess.run(
        [sys.executable, "-m", "python_checks", "docs", "--manifest", str(target / "manifest.json"),
         "--run-results", str(target / "run_results.json"), "--out", str(tmp / "site")],
        capture_output=True, text=True,
    )
    assert run.returncode == 0, run.stderr
    report = json.loads((tmp / "site" / "privacy_report.json").read_text())
    return {"tmp": tmp, "index": tmp / "site" / "index.html", "report": report}


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium")
    assert executable, "chromium is not installed: run `bash scripts/install_system_deps.sh` (make test does)"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def _open(browser: Any, index: Path) -> tuple[Any, list[str], list[str]]:
    """A page on index.html that aborts and records every non-file request and collects script errors."""
    network: list[str] = []
    errors: list[str] = []
    page = browser.new_page(viewport={"width": 1600, "height": 1000})

    def guard(route: Any) -> None:
        if route.request.url.startswith("file://"):
            route.continue_()
        else:
            network.append(route.request.url)
            route.abort()

    page.route("**/*", guard)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.goto(index.as_uri())
    return page, network, errors


@pytest.fixture(scope="module")
def browser_page(site: dict[str, Any], browser: Any) -> tuple[Any, list[str], list[str]]:
    return _open(browser, site["index"])


def _node_uid(report: dict[str, Any], name: str) -> str:
    return next(uid for uid, node in report["nodes"].items() if node["name"] == name)


def test_graph_draws_every_model_as_svg(site: dict[str, Any], browser_page: tuple[Any, list[str], list[str]]) -> None:
    page, network, errors = browser_page
    assert page.locator("#tab-overview").is_visible()  # the department map is the landing view
    page.click('.tabs button[data-tab="lineage"]')
    drawn = page.eval_on_selector_all("svg#lineage g.node", "els => els.map(e => [e.dataset.uid, e.querySelector('text.label').textContent])")
    assert sorted(map(tuple, drawn)) == sorted((uid, node["name"]) for uid, node in site["report"]["nodes"].items())
    # Visible: every node box has a real size on screen.
    sizes = page.eval_on_selector_all("svg#lineage g.node rect.box", "els => els.map(e => e.getBoundingClientRect().width)")
    assert len(sizes) == len(site["report"]["nodes"]) and min(sizes) > 5
    assert page.locator("svg#lineage path.edge").count() == len(site["report"]["edges"])
    assert errors == [] and network == []


def test_clicking_a_node_shows_its_policy_card(site: dict[str, Any], browser_page: tuple[Any, list[str], list[str]]) -> None:
    page, network, errors = browser_page
    expected = site["report"]["nodes"][_node_uid(site["report"], "stg_hr")]
    page.click('svg#lineage g.node[data-name="stg_hr"]')
    card = page.locator("#cards article.card:visible")
    assert card.count() == 1
    assert card.locator("h2").inner_text().startswith("stg_hr")
    assert card.locator("dd.department").inner_text() == ", ".join(expected["departments"]) == "hr"
    retention = card.locator("dd.retention").inner_text()
    assert retention == f"declared {expected['declared_retention_days']} days · effective {expected['retention_days']} days" == "declared 3650 days · effective 3650 days"
    # Focus: stg_hr's lineage stays visible, the clinic staging model (unrelated) is dimmed.
    assert "dim" not in page.get_attribute('g.node[data-name="hr_employees"]', "class")
    assert "dim" in page.get_attribute('g.node[data-name="stg_clinic"]', "class")
    page.screenshot(path=str(site["tmp"] / "card.png"))
    assert errors == [] and network == []


def test_findings_filter_by_category_and_severity(site: dict[str, Any], browser_page: tuple[Any, list[str], list[str]]) -> None:
    page, network, errors = browser_page
    findings = site["report"]["findings"]
    page.click('.tabs button[data-tab="findings"]')
    rows = page.locator("#findings-table tbody tr")
    assert rows.count() == len(findings) and page.locator("#findings-table tbody tr:visible").count() == len(findings)
    category = sorted({f["category"] for f in findings}, key=lambda c: sum(f["category"] == c for f in findings))[0]
    page.select_option("#filter-category", category)
    visible = page.eval_on_selector_all("#findings-table tbody tr", "rows => rows.filter(r => !r.hidden).map(r => r.dataset.category)")
    assert visible == [category] * sum(f["category"] == category for f in findings)
    assert len(visible) < len(findings)
    page.select_option("#filter-category", "")
    page.select_option("#filter-severity", "warning")
    visible = page.eval_on_selector_all("#findings-table tbody tr", "rows => rows.filter(r => !r.hidden).map(r => r.dataset.severity)")
    assert visible == ["warning"] * sum(f["severity"] == "warning" for f in findings)
    page.select_option("#filter-severity", "")
    page.screenshot(path=str(site["tmp"] / "findings.png"))
    page.click('.tabs button[data-tab="lineage"]')
    assert errors == [] and network == []


def test_search_selects_and_screenshot(site: dict[str, Any], browser_page: tuple[Any, list[str], list[str]]) -> None:
    page, network, errors = browser_page
    page.fill("#search", "visit_counts")
    assert page.locator("#search-count").inner_text() == "1 match"
    card = page.locator("#cards article.card:visible")
    assert card.locator("h2").inner_text().startswith("visit_counts")
    assert "fail" in card.locator("table.tests").inner_text()
    shot = site["tmp"] / "lineage.png"
    page.screenshot(path=str(shot))
    assert shot.stat().st_size > 10_000
    shutil.copyfile(shot, SHARED_SCREENSHOT)
    assert errors == [] and network == []


def test_small_site_overview_agreements_and_waivers(site: dict[str, Any], browser_page: tuple[Any, list[str], list[str]]) -> None:
    page, network, errors = browser_page
    report = site["report"]
    page.click('.tabs button[data-tab="overview"]')
    combined = {"+".join(sorted(n["meeting_departments"] or n["departments"])) for n in report["nodes"].values() if len(n["meeting_departments"] or n["departments"]) > 1}
    assert page.eval_on_selector_all("#meeting-points tr.point-row td:first-child", "tds => tds.map(t => t.textContent.split(' + ').join('+'))") == sorted(
        combined, key=lambda key: (-sum("+".join(sorted(n["meeting_departments"] or n["departments"])) == key for n in report["nodes"].values()), key)
    )
    shot = site["tmp"] / "overview.png"
    page.screenshot(path=str(shot))
    shutil.copyfile(shot, OVERVIEW_SCREENSHOT)
    # Agreements: every agreement a node cites is listed with the nodes relying on it.
    page.click('.tabs button[data-tab="agreements"]')
    cited: dict[str, int] = {}
    for node in report["nodes"].values():
        if node["agreement"]:
            cited[node["agreement"]] = cited.get(node["agreement"], 0) + 1
    rows = page.eval_on_selector_all("#agreements-table tbody tr", "rows => rows.map(r => [r.dataset.agreement, r.querySelector('td.relied').textContent.trim()])")
    assert {agreement for agreement, _ in rows} >= set(cited) and cited
    for agreement, relied in rows:
        assert relied.startswith(f"{cited.get(agreement, 0)} node"), (agreement, relied)
    page.click('.tabs button[data-tab="waivers"]')
    planted = sum(len((n["declared"] or {}).get("waivers") or []) for n in report["nodes"].values())
    assert page.locator("#waivers-table tbody tr").count() == planted
    page.click('.tabs button[data-tab="lineage"]')
    assert errors == [] and network == []


# --- a 2,000-model project: overview -> meeting point -> model card -> finding -> back -------------------

LARGE_MODELS = 2000


def _privacy(node: dict[str, Any]) -> dict[str, Any]:
    """The privacy block a generated node declares ({} for none, and for tests, which carry no config)."""
    return (node.get("config") or {}).get("meta", {}).get("privacy") or {}


def _upstream_departments(manifest: dict[str, Any]) -> dict[str, frozenset[str]]:
    """Independent of the check: the departments of the sources each node reads, transitively."""
    nodes = {**manifest["nodes"], **manifest["exposures"]}
    own = {uid: frozenset([s["config"]["meta"]["privacy"]["department"]]) for uid, s in manifest["sources"].items()}
    memo: dict[str, frozenset[str]] = dict(own)

    def of(uid: str) -> frozenset[str]:
        if uid not in memo:
            memo[uid] = frozenset().union(*(of(p) for p in nodes[uid]["depends_on"]["nodes"]))
        return memo[uid]

    return {uid: of(uid) for uid in nodes if nodes[uid]["resource_type"] != "test"}


@pytest.fixture(scope="module")
def large(tmp_path_factory: pytest.TempPathFactory, browser: Any) -> dict[str, Any]:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
    from bench_docs_site import write_project

    tmp = tmp_path_factory.mktemp("large")
    project = write_project(tmp / "project", LARGE_MODELS, dt.date.today())
    target = tmp / "project" / "target"
    run = subprocess.run(
        [sys.executable, "-m", "python_checks", "docs", "--manifest", str(target / "manifest.json"),
         "--run-results", str(target / "run_results.json"), "--out", str(tmp / "site")],
        capture_output=True, text=True, cwd=tmp / "project",
    )
    assert run.returncode == 0, run.stderr
    index = tmp / "site" / "index.html"
    start = time.perf_counter()
    opened = _open(browser, index)
    opened[0].wait_for_selector("#department-map g.department-node")
    timings = {"load": time.perf_counter() - start}
    return {"tmp": tmp, "index": index, "project": project, "report": json.loads((tmp / "site" / "privacy_report.json").read_text()),
            "page": opened, "timings": timings}


def _step(large: dict[str, Any], name: str, action: Any) -> None:
    start = time.perf_counter()
    action()
    large["timings"][name] = time.perf_counter() - start


def test_large_site_is_small_on_disk_and_lazy(large: dict[str, Any]) -> None:
    assert large["index"].stat().st_size < 1_000_000
    page, network, errors = large["page"]
    # Nothing of the lineage is drawn before a model is chosen; the map has one hub per combination.
    assert page.locator("svg#lineage").count() == 0 and page.locator("#neighbourhood g.node").count() == 0
    assert errors == [] and network == []


def test_large_site_overview_to_finding_and_back(large: dict[str, Any]) -> None:
    page, network, errors = large["page"]
    manifest = large["project"]["manifest"]
    departments = _upstream_departments(manifest)
    meeting: dict[str, list[str]] = {}
    for uid, held in departments.items():
        if len(held) > 1:
            meeting.setdefault("+".join(sorted(held)), []).append(uid)
    # Overview: one row per combination of departments, with its node count, biggest first.
    rows = page.eval_on_selector_all("#meeting-points tr.point-row", "rows => rows.map(r => [r.cells[0].textContent.split(' + ').join('+'), +r.cells[1].textContent])")
    assert [tuple(row) for row in rows] == sorted(((key, len(uids)) for key, uids in meeting.items()), key=lambda row: (-row[1], row[0]))
    assert page.locator("#department-map g.combo").count() == len(meeting)
    # Meeting point: the biggest pair lists its nodes, first page of 100.
    key, count = rows[0]
    _step(large, "meeting point", lambda: (page.click("tr.point-row >> nth=0"), page.wait_for_selector("#point-models tbody tr")))
    assert page.inner_text("#point-title") == f"{key.replace('+', ' + ')}: {count} nodes"
    listed = page.eval_on_selector_all("#point-models tbody tr td:first-child", "tds => tds.map(t => t.textContent)")
    assert len(listed) == min(100, count) and set(listed) <= {uid.rsplit(".", 1)[-1] for uid in meeting[key]}
    # Model card and its neighbourhood (2 steps up and down).
    model = next(name for name in listed if name.startswith("mart_"))
    uid = f"model.gov.{model}"
    _step(large, "model card", lambda: (page.click(f'#point-models a.goto:text-is("{model}")'), page.wait_for_selector("#cards article.card:visible")))
    card = page.locator("#cards article.card:visible")
    assert card.locator("h2").inner_text().startswith(model)
    assert card.locator("dd.department").inner_text().split(" (")[0] == ", ".join(sorted(departments[uid]))
    parents = {u: n["depends_on"]["nodes"] for u, n in {**manifest["nodes"], **manifest["exposures"]}.items() if n["resource_type"] != "test"}
    children: dict[str, list[str]] = {}
    for child, ps in parents.items():
        for parent in ps:
            children.setdefault(parent, []).append(child)
    reached = {uid}
    for links in (parents, children):
        frontier = [uid]
        for _ in range(2):
            frontier = [n for f in frontier for n in links.get(f, []) if n not in reached]
            assert len(frontier) <= 25  # below the page's per-column cap: every node is drawn
            reached.update(frontier)
    drawn = page.eval_on_selector_all("#neighbourhood g.node", "els => els.map(e => e.dataset.name)")
    assert sorted(drawn) == sorted(u.rsplit(".", 1)[-1] for u in reached)
    page.screenshot(path=str(large["tmp"] / "drilldown.png"))
    shutil.copyfile(large["tmp"] / "drilldown.png", DRILLDOWN_SCREENSHOT)
    # Findings: counts first, then the rule filter gives exactly that rule's findings; a row opens its model.
    report = large["report"]
    rule = "cross_department_join"
    expected = sum(f["rule"] == rule for f in report["findings"] + report["waived_findings"])
    _step(large, "findings", lambda: (page.click('.tabs button[data-tab="findings"]'), page.wait_for_selector("#findings-table tbody tr")))
    listed_total = len(report["findings"]) + len(report["waived_findings"])  # waived ones are listed too, marked
    assert page.inner_text("#findings-count") == f"Showing {listed_total} of {listed_total}"
    page.select_option("#filter-category", rule)
    page.wait_for_function(f"document.getElementById('findings-count').textContent.startsWith('Showing {expected} ')")
    assert page.locator("#findings-table tbody tr").count() == min(100, expected)
    assert set(page.eval_on_selector_all("#findings-table tbody tr", "rows => rows.map(r => r.dataset.category)")) == {rule}
    page.select_option("#filter-waiver", "waived")
    waived = {u for u, n in manifest["nodes"].items() if any(w["rule"] == rule for w in _privacy(n).get("waivers", []))}
    # Only nodes with a planted waiver have waived findings (the rule reports where departments first meet, so not every waiver silences one).
    assert set() < {f["node"] for f in report["waived_findings"] if f["rule"] == rule} <= waived
    waived_count = sum(f["rule"] == rule for f in report["waived_findings"])
    page.wait_for_function(f"document.getElementById('findings-count').textContent.startsWith('Showing {waived_count} ')")
    page.select_option("#filter-waiver", "")
    first = page.eval_on_selector("#findings-table tbody tr", "r => [r.cells[2].textContent, r.cells[3].textContent]")
    node = next(n for n in [*manifest["nodes"].values(), *manifest["exposures"].values()] if n["name"] == first[0])
    files = [node["original_file_path"]] + ([node["patch_path"].split("://")[1]] if node.get("patch_path") else [])
    assert first[1] == " · ".join(files)
    target = page.locator("#findings-table tbody tr a.goto").first
    name = target.inner_text()
    _step(large, "finding to card", lambda: (target.click(), page.wait_for_selector(f'#cards article.card:visible h2:text-matches("^{name}")')))
    # Back to the overview: the map and the chosen meeting point are still there.
    page.click('.tabs button[data-tab="overview"]')
    assert page.locator("#department-map").is_visible() and page.inner_text("#point-title").startswith(key.replace("+", " + "))
    print("\n2,000-model site, seconds per step:", {k: round(v, 3) for k, v in large["timings"].items()})
    assert all(seconds < 15 for seconds in large["timings"].values()), large["timings"]
    assert errors == [] and network == []


def test_large_site_board_summary_prints_on_one_page(large: dict[str, Any]) -> None:
    page, network, errors = large["page"]
    page.click('.tabs button[data-tab="summary"]')
    board = page.inner_text("#board-summary")
    report = large["report"]
    assert f"{sum(f['severity'] == 'error' for f in report['findings'])} errors" in board
    assert board.count("agr_") == len(large["project"]["project_yml"]["vars"]["privacy_guard"]["agreements"])
    pdf = page.pdf(format="A4")
    assert pdf.count(b"/Type /Page\n") + pdf.count(b"/Type /Page>") + pdf.count(b"/Type /Page/") == 1, "the board summary is one A4 page"
    assert errors == [] and network == []


def test_large_site_agreements_and_waivers(large: dict[str, Any]) -> None:
    page, network, errors = large["page"]
    manifest = large["project"]["manifest"]
    page.click('.tabs button[data-tab="agreements"]')
    rows = page.eval_on_selector_all("#agreements-table tbody tr", "rows => rows.map(r => [r.dataset.agreement, r.dataset.status, r.querySelector('td.relied').textContent.trim()])")
    cites: dict[str, int] = {}
    for node in manifest["nodes"].values():
        agreement = _privacy(node).get("agreement")
        if agreement:
            cites[agreement] = cites.get(agreement, 0) + 1
    defined = large["project"]["project_yml"]["vars"]["privacy_guard"]["agreements"]
    today = dt.date.today()
    expected_status = {
        a["id"]: "expired" if dt.date.fromisoformat(a["expires"]) < today else "expiring" if (dt.date.fromisoformat(a["expires"]) - today).days <= 60 else "active"
        for a in defined
    }
    assert {row[0]: row[1] for row in rows} == expected_status
    assert sorted(expected_status.values()).count("expired") == 1 and list(expected_status.values()).count("expiring") == 1
    for agreement, _, relied in rows:
        assert relied.startswith(f"{cites.get(agreement, 0)} node"), (agreement, relied)
    page.click('.tabs button[data-tab="waivers"]')
    waivers = [(u, w["rule"]) for u, n in manifest["nodes"].items() for w in _privacy(n).get("waivers", [])]
    assert sorted(page.eval_on_selector_all("#waivers-table tbody tr", "rows => rows.map(r => [r.dataset.node, r.cells[1].textContent])")) == sorted(map(list, waivers))
    assert waivers
    silenced = page.eval_on_selector_all("#waivers-table tbody tr", "rows => rows.map(r => [r.dataset.node, +r.cells[5].textContent])")
    report = large["report"]
    assert all(count == sum(f["node"] == node and f["rule"] == "cross_department_join" for f in report["waived_findings"]) for node, count in silenced)
    assert sum(count for _, count in silenced) == len(report["waived_findings"]) > 0
    assert errors == [] and network == []
