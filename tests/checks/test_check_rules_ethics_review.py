"""ethics_review on a real `dbt build` of tests/fixtures/access_project (today frozen at 2026-06-01):
a review is required at restricted sensitivity and for hr + sales, and counts for 365 days."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from dbt_harness import shared_build

from python_checks.check import CheckReport, run_check
from python_checks.rules.ethics import review_problem, review_reasons
from python_checks.settings import EthicsReview

PREFIX = "model.access_project."
TODAY = dt.date(2026, 6, 1)


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> CheckReport:
    project = shared_build(tmp_path_factory, "access_project").project_dir
    return run_check(Path(project) / "target" / "manifest.json")


@pytest.mark.dbt
def test_exactly_the_planted_meeting_points_lack_a_valid_review(report: CheckReport) -> None:
    stale_age = (TODAY - dt.date(2024, 1, 10)).days
    assert stale_age == 873
    assert {f.node: f.message for f in report.findings if f.rule == "ethics_review"} == {
        PREFIX + "clinic_uncited": "model clinic_uncited needs an ethics review (sensitivity restricted) but cites no agreement",
        PREFIX + "hr_clinic_stale": f"model hr_clinic_stale needs an ethics review (sensitivity restricted) but agreement stale has ethics review ERB-0 of 2024-01-10, {stale_age} days old (more than 365)",
        PREFIX + "hr_sales": "model hr_sales needs an ethics review (combines hr and sales) but agreement unreviewed has no ethics review",
    }


@pytest.mark.dbt
def test_reviews_age_from_the_check_date(report: CheckReport) -> None:
    # hr_clinic_ok's review of 2026-01-10 counts on the var's today; 366 days later it no longer does.
    assert report.analysis.settings.today == TODAY
    assert report.project_dir is not None
    later = run_check(report.project_dir / "target" / "manifest.json", as_of=dt.date(2027, 1, 11))
    assert {f.node for f in later.findings if f.rule == "ethics_review"} == {PREFIX + n for n in ("clinic_uncited", "hr_clinic_stale", "hr_sales", "hr_clinic_ok")}


def test_reasons_are_sensitivity_at_or_above_and_listed_pairs() -> None:
    requirement = EthicsReview(sensitivity="confidential", department_pairs=(frozenset({"hr", "sales"}),))
    assert review_reasons(requirement, frozenset({"hr", "sales", "clinic"}), "internal") == ["combines hr and sales"]
    assert review_reasons(requirement, frozenset({"hr", "clinic"}), "restricted") == ["sensitivity restricted"]
    assert review_reasons(requirement, frozenset({"hr", "clinic"}), "confidential") == ["sensitivity confidential"]
    assert review_reasons(requirement, frozenset({"hr", "clinic"}), None) == []


def test_a_review_exactly_max_age_days_old_still_counts() -> None:
    review = {"id": "ERB-9", "date": "2025-06-01"}
    assert review_problem(review, 365, TODAY) is None
    assert review_problem(review, 364, TODAY) == "has ethics review ERB-9 of 2025-06-01, 365 days old (more than 364)"
    assert review_problem(review, None, TODAY) is None
    assert review_problem(None, None, TODAY) == "has no ethics review"


def test_a_review_dated_after_the_check_date_does_not_count() -> None:
    assert review_problem({"id": "ERB-9", "date": "2062-01-10"}, None, TODAY) == "has ethics review ERB-9 dated 2062-01-10, after 2026-06-01"
