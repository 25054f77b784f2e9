"""Rules about the model where departments meet: is the combination allowed, and what does it link?"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Annotated

from python_checks.policy import QUASI_IDENTIFIER, NodePolicy
from python_checks.rules.base import AtLeast, Context, Issue, Note, node_label, rule
from python_checks.rules.testing import k_anonymity_clearance
from python_checks.sql_model import COUNTED, RAW, UNKEYED_HASH, NodeColumn


def _departments(context: Context, nodes: Iterable[str]) -> frozenset[str]:
    """The departments whose data the given nodes carry."""
    return frozenset().union(*(context.policies[node].departments for node in nodes))


def _agreement_problem(context: Context, unique_id: str, departments: frozenset[str]) -> tuple[str, dict[str, object]] | None:
    """Why the cited agreement does not cover this combination, or None when it does."""
    policy = context.policies[unique_id]
    cited = policy.declared.get("agreement")
    if cited is None:
        return "cites no data-use agreement", {}
    agreement = context.settings.agreements.get(cited)
    if agreement is None:
        return f"cites agreement {cited!r}, which vars.privacy_guard.agreements (with its agreements_seed) does not define", {}
    uncovered = sorted(departments - agreement.departments)
    if uncovered:
        return f"cites agreement {cited!r}, which does not cover {', '.join(uncovered)}", {"uncovered_departments": uncovered}
    if agreement.purposes is not None and policy.purpose and policy.purpose not in agreement.purposes:
        return f"cites agreement {cited!r}, which does not allow purpose {policy.purpose!r}", {"agreement_purposes": sorted(agreement.purposes)}
    if agreement.expires < context.as_of:
        return f"cites agreement {cited!r}, which expired on {agreement.expires.isoformat()}", {"expired": agreement.expires.isoformat()}
    return None


@rule(
    "cross_department_join",
    summary="Data of two or more departments is combined without a valid data-use agreement that covers them and the purpose.",
    hint="Cite an agreement (config.meta.privacy.agreement) defined in vars.privacy_guard.agreements or its agreements_seed that lists every department and the model's purpose and has not expired.",
    join_rule=True,
)
def cross_department_join(context: Context) -> Iterator[Issue]:
    """Checked only at the meeting point, so one combination gives one finding."""
    for unique_id, departments in context.meetings.items():
        problem = _agreement_problem(context, unique_id, departments)
        if problem is None:
            continue
        reason, details = problem
        sql = context.sql.get(unique_id)
        cross_joins = [sorted(join.left_nodes | join.right_nodes) for join in (sql.joins if sql else ()) if not join.has_condition]
        evidence = {
            "departments": sorted(departments),
            "agreement": context.policies[unique_id].declared.get("agreement"),
            "purpose": context.policies[unique_id].purpose,
            **details,
        }
        if cross_joins:
            evidence["cross_joins"] = cross_joins
        yield Issue(unique_id, f"{node_label(context, unique_id)} combines {', '.join(sorted(departments))} but {reason}", evidence)


def _measured_risk(context: Context, unique_id: str, quasi_identifiers: list[str], policy: NodePolicy) -> dict[str, object]:
    """Prosecutor risk over the combined QIs (threshold 1/k), as `privacy-guard risk` measures it; a note when it cannot."""
    assert context.warehouse is not None and policy.k is not None
    report = context.warehouse.risk(context.node(unique_id), quasi_identifiers, policy.privacy_unit, 1 / policy.k)
    if isinstance(report, str):
        context.notes.append(Note(unique_id, f"re-identification risk not measured: {report}"))
        return {}
    return {"max_risk": report.max_risk, "average_risk": report.average_risk, "sample_uniques": report.sample_uniques, "records_at_risk": report.records_at_risk}


@rule(
    "quasi_identifier_linkage",
    summary="Quasi-identifiers from two or more departments are brought together (default: 3 or more QIs).",
    hint="Generalize or drop quasi-identifiers before the join and attach privacy_guard.k_anonymity to the combined model (a k_anonymity test over every QI with at least the effective k that could fail -- and passed, with --run-results -- or measured classes >= k with --database, clears this).",
    join_rule=True,
)
def quasi_identifier_linkage(context: Context, *, threshold: Annotated[int, AtLeast(1)] = 3) -> Iterator[Issue]:
    """A k_anonymity test clears the combination only when it proves what it claims (rules.testing);
    with a database, a combination whose classes are all >= k in the data is not reported.
    `threshold`: the fewest quasi-identifiers in the output that count as linkage."""
    for unique_id, departments in context.meetings.items():
        policy = context.policies[unique_id]
        quasi_identifiers = policy.columns_of(QUASI_IDENTIFIER)
        by_department = {
            department: sorted(name for name in quasi_identifiers if department in policy.columns[name].departments)
            for department in sorted(departments)
        }
        contributing = {department: names for department, names in by_department.items() if names}
        if len(contributing) < 2 or len(quasi_identifiers) < threshold:
            continue
        cleared, refused = k_anonymity_clearance(context, unique_id)
        if cleared:
            continue
        evidence: dict[str, object] = {"quasi_identifiers": quasi_identifiers, "by_department": contributing, "threshold": threshold}
        why = ""
        if refused:
            evidence["k_anonymity_tests_not_counted"] = refused
            why = f"; its k_anonymity test does not count: {'; '.join(next(iter(refused.values())))}"
        if context.warehouse is not None and policy.k is not None and context.node(unique_id).relation_name:
            measured = context.warehouse.small_classes(context.node(unique_id), quasi_identifiers, policy.k, policy.privacy_unit)
            if isinstance(measured, str):
                context.notes.append(Note(unique_id, f"uniqueness not measured, reporting the static criterion: {measured}"))
            elif measured[0] == 0:
                continue
            else:
                evidence.update({"k": policy.k, "rows_in_small_classes": measured[0], "small_classes": measured[1]})
                evidence.update(_measured_risk(context, unique_id, quasi_identifiers, policy))
        yield Issue(
            unique_id,
            f"{node_label(context, unique_id)} combines {len(quasi_identifiers)} quasi-identifiers from {', '.join(contributing)}{why}",
            evidence,
        )


@rule(
    "direct_identifier_join",
    summary="Departments are linked on a direct identifier (email, SSN, employee id...) instead of a pseudonym.",
    hint="Join on a pseudonym: apply privacy_guard.pseudonymize to the key in each department's staging model and mark the column `protection: pseudonymized`.",
    join_rule=True,
)
def direct_identifier_join(context: Context) -> Iterator[Issue]:
    """From the join conditions when the SQL was analysed, else from identifier names the parents share."""
    for unique_id, departments in context.meetings.items():
        sql = context.sql.get(unique_id)
        linked: set[str] = set()
        if sql is not None and sql.note is None:
            for join in sql.joins:
                if len(_departments(context, join.left_nodes | join.right_nodes)) < 2:
                    continue
                for parent, column, via in context.join_columns(join.columns):
                    found = context.policies[parent].columns.get(column)
                    # md5(a.email) = md5(b.email) links on the e-mail as surely as a.email = b.email.
                    if found is not None and found.raw_identifier and via in (RAW, UNKEYED_HASH):
                        linked.add(f"{context.node(parent).name}.{column}")
            basis = "join condition"
        else:
            owners: dict[str, set[str]] = {}
            for parent_policy in context.parents(unique_id):
                for column in parent_policy.raw_identifiers():
                    owners.setdefault(column, set()).update(parent_policy.departments)
            linked = {column for column, owner_departments in owners.items() if len(owner_departments) >= 2}
            basis = "shared column names (an exposure has no SQL)" if context.node(unique_id).resource_type == "exposure" else "shared column names (SQL not analysed)"
        if linked:
            yield Issue(
                unique_id,
                f"{node_label(context, unique_id)} links {', '.join(sorted(departments))} on direct identifier {', '.join(sorted(linked))}",
                {"columns": sorted(linked), "departments": sorted(departments), "basis": basis},
            )


def _compared_quasi_identifiers(context: Context, columns: Iterable[NodeColumn]) -> list[str]:
    """`node.column` of the quasi-identifiers a join compares (a pseudonymized QI still matches
    equal values: it links as well as the value; a count does not)."""
    found = set()
    for parent, column, via in context.join_columns(columns):
        policy = context.policies[parent].columns.get(column)
        if policy is not None and policy.column_class == QUASI_IDENTIFIER and via != COUNTED:
            found.add(f"{context.node(parent).name}.{column}")
    return sorted(found)


@rule(
    "join_key_linkage",
    summary="Rows of different departments are matched on quasi-identifiers (birth date, zip, sex...): the classic linkage attack, whatever the output keeps and whatever agreement is cited (default: 2 or more QIs compared).",
    hint="Join on a pseudonym of a shared identifier (privacy_guard.pseudonymize on both sides) under an agreement, or combine only aggregates; never match people on their quasi-identifiers.",
    join_rule=True,
)
def join_key_linkage(context: Context, *, threshold: Annotated[int, AtLeast(1)] = 2) -> Iterator[Issue]:
    """Every analysed join (ON, USING, NATURAL, WHERE of a comma join, IN/EXISTS subquery, set
    operation) whose two sides bring different departments. `threshold`: the fewest quasi-identifiers
    one side of a join must compare."""
    for node, _ in context.models():
        sql = context.sql.get(node.unique_id)
        if sql is None or sql.note is not None:
            continue
        linked: dict[str, list[str]] = {}
        departments: set[str] = set()
        for join in sql.joins:
            if all(len(columns) < threshold and all(column != "*" for _, column, _ in columns) for columns in (join.left_columns, join.right_columns)):
                continue  # a side compares no more quasi-identifiers than columns (`*` aside): most joins compare one key
            left, right = _departments(context, join.left_nodes), _departments(context, join.right_nodes)
            if left == right or len(left | right) < 2:
                continue
            sides = (_compared_quasi_identifiers(context, join.left_columns), _compared_quasi_identifiers(context, join.right_columns))
            if max(map(len, sides)) >= threshold:
                linked.setdefault(join.kind, []).extend(name for side in sides for name in side)
                departments |= left | right
        if linked:
            columns = sorted({name for names in linked.values() for name in names})
            yield Issue(
                node.unique_id,
                f"{node_label(context, node.unique_id)} matches rows of {', '.join(sorted(departments))} on quasi-identifiers {', '.join(columns)}",
                {"columns": columns, "departments": sorted(departments), "joins": sorted(linked), "threshold": threshold},
            )
