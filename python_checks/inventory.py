"""Inventory: per department, its personal nodes and classed columns, and the identifier/QI
columns several departments share -- the joins that *could* happen, before anyone writes them.
"""

from __future__ import annotations

from typing import Any

from python_checks.analysis import Analysis
from python_checks.formatters.escaping import terminal as clean
from python_checks.policy import DIRECT_IDENTIFIER, PERSONAL_CLASSES, QUASI_IDENTIFIER

#: Column classes that can link records across departments.
LINKING_CLASSES = (DIRECT_IDENTIFIER, QUASI_IDENTIFIER)


def build_inventory(analysis: Analysis) -> dict[str, Any]:
    """{departments: {dept: {nodes: {id: {class: [columns]}}}}, shared_columns: [...], unassigned: [...]}."""
    departments: dict[str, dict[str, dict[str, dict[str, list[str]]]]] = {}
    owners: dict[tuple[str, str], dict[str, set[str]]] = {}
    unassigned = []
    for unique_id in analysis.lineage.order:
        policy = analysis.policies[unique_id]
        if not policy.personal:
            continue
        if not policy.departments:
            unassigned.append(unique_id)
        classes: dict[str, list[str]] = {}
        for name, column in sorted(policy.columns.items()):
            if column.column_class in PERSONAL_CLASSES:
                classes.setdefault(column.column_class, []).append(name)
                # Only single-department nodes say what a department holds; combined ones hold both.
                if column.column_class in LINKING_CLASSES and len(policy.departments) == 1:
                    owners.setdefault((name, column.column_class), {}).setdefault(next(iter(policy.departments)), set()).add(unique_id)
        for department in policy.departments:
            departments.setdefault(department, {}).setdefault("nodes", {})[unique_id] = classes
    shared = [
        {"column": name, "class": column_class, "departments": {dept: sorted(nodes) for dept, nodes in sorted(by_dept.items())}}
        for (name, column_class), by_dept in sorted(owners.items())
        if len(by_dept) >= 2
    ]
    return {"departments": dict(sorted(departments.items())), "shared_columns": shared, "unassigned": unassigned}


def render_text(inventory: dict[str, Any]) -> str:
    """A plain listing for the console (project values stripped of escape sequences)."""
    lines = []
    for department, entry in inventory["departments"].items():
        lines.append(f"department {clean(department)}: {len(entry['nodes'])} personal nodes")
        for unique_id, classes in entry["nodes"].items():
            described = "; ".join(f"{column_class}: {', '.join(names)}" for column_class, names in sorted(classes.items()))
            lines.append(f"  {clean(unique_id)}" + (f"  ({clean(described)})" if described else ""))
    if inventory["unassigned"]:
        lines.append(f"personal nodes with no department: {clean(', '.join(inventory['unassigned']))}")
    lines.append(f"columns shared by several departments (possible joins): {len(inventory['shared_columns'])}")
    for shared in inventory["shared_columns"]:
        lines.append(clean(f"  {shared['column']} ({shared['class']}): {', '.join(shared['departments'])}"))
    return "\n".join(lines) + "\n"
