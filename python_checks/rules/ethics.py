"""Ethics review: a meeting point that `vars.privacy_guard.ethics_review` says needs one must be
covered by an agreement whose `review` is there and recent enough."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from python_checks.policy import SENSITIVITY_ORDER
from python_checks.rules.base import Context, Issue, node_label, rule
from python_checks.settings import EthicsReview


def review_reasons(requirement: EthicsReview, departments: frozenset[str], sensitivity: str | None) -> list[str]:
    """Why a combination of `departments` at `sensitivity` needs an ethics review ([] when it does not)."""
    reasons = []
    if requirement.sensitivity is not None and sensitivity is not None and SENSITIVITY_ORDER.index(sensitivity) >= SENSITIVITY_ORDER.index(requirement.sensitivity):
        reasons.append(f"sensitivity {sensitivity}")
    reasons += [f"combines {' and '.join(sorted(pair))}" for pair in requirement.department_pairs if pair <= departments]
    return reasons


def review_problem(review: dict[str, object] | None, max_age_days: int | None, as_of: dt.date) -> str | None:
    """What is wrong with an agreement's review for use on `as_of`, or None when it counts."""
    if review is None:
        return "has no ethics review"
    reviewed = dt.date.fromisoformat(str(review["date"]))
    if reviewed > as_of:  # a mistyped year would otherwise never age
        return f"has ethics review {review['id']} dated {reviewed.isoformat()}, after {as_of.isoformat()}"
    if max_age_days is not None and (as_of - reviewed).days > max_age_days:
        return f"has ethics review {review['id']} of {reviewed.isoformat()}, {(as_of - reviewed).days} days old (more than {max_age_days})"
    return None


@rule(
    "ethics_review",
    summary="A cross-department combination that vars.privacy_guard.ethics_review says needs an ethics review cites no agreement with a valid one (missing, older than max_age_days, or dated after the check date).",
    hint="Have the combination reviewed and record it on the agreement (`review: {id, date, reviewers}`), or stop combining the data.",
)
def ethics_review(context: Context) -> Iterator[Issue]:
    """At each meeting point (one finding per combination); an undefined or uncited agreement has no review either."""
    requirement = context.settings.ethics_review
    if requirement is None:
        return
    for unique_id, departments in sorted(context.meetings.items()):
        policy = context.policies[unique_id]
        reasons = review_reasons(requirement, departments, policy.sensitivity)
        if not reasons:
            continue
        cited = policy.declared.get("agreement")
        agreement = context.settings.agreements.get(cited) if cited else None
        if agreement is None:
            problem = f"cites no defined agreement ({cited!r})" if cited else "cites no agreement"
        elif (review := review_problem(agreement.review, requirement.max_age_days, context.as_of)) is not None:
            problem = f"agreement {agreement.id} {review}"
        else:
            continue
        yield Issue(
            unique_id,
            f"{node_label(context, unique_id)} needs an ethics review ({'; '.join(reasons)}) but {problem}",
            {"departments": sorted(departments), "sensitivity": policy.sensitivity, "reasons": reasons, "agreement": cited,
             "review": agreement.review if agreement else None, "max_age_days": requirement.max_age_days},
        )
