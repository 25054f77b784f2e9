"""The docs page in a real headless Chromium (Debian `chromium`, installed by scripts/install_system_deps.sh).

Opens index.html from a file:// URL with every non-file request aborted and recorded, then
checks what a governance reader does: the graph is drawn, a click shows the policy card, the
findings filter narrows the table, search focuses a model. Screenshots go to the test's tmp dir
and to /tmp/privacy_guard_docs_screenshot.png for a human look.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from dbt_harness import shared_build

pytestmark = [pytest.mark.browser, pytest.mark.dbt]

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"]
SHARED_SCREENSHOT = Path("/tmp/privacy_guard_docs_screenshot.png")


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
def browser_page(site: dict[str, Any]) -> Iterator[tuple[Any, list[str], list[str]]]:
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium")
    assert executable, "chromium is not installed: run `bash scripts/install_system_deps.sh` (make test does)"
    network: list[str] = []
    errors: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
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
        page.goto(site["index"].as_uri())
        yield page, network, errors
        browser.close()


def _node_uid(report: dict[str, Any], name: str) -> str:
    return next(uid for uid, node in report["nodes"].items() if node["name"] == name)


def test_graph_draws_every_model_as_svg(site: dict[str, Any], browser_page: tuple[Any, list[str], list[str]]) -> None:
    page, network, errors = browser_page
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
