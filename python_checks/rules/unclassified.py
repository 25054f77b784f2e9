"""Personal data without privacy meta: column names that look personal on nodes the policy cannot see.

No department or class is guessed: the finding names the columns and asks for a privacy block.
Column names come from the catalog, the YAML, a seed's CSV header (read through the manifest's
`root_path`) and the model's compiled SQL, whichever are there.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator, Mapping
from fnmatch import translate
from pathlib import Path

from python_checks.graph import Lineage
from python_checks.loader import Node
from python_checks.policy import POLICY_TYPES
from python_checks.rules.base import Context, Issue, node_label, rule
from python_checks.settings import Settings
from python_checks.sql_model import ModelSql

#: A seed's header is on its first line; reading more would read data.
_HEADER_BYTES = 65536


def _seed_header(node: Node) -> list[str]:
    """The column names of a seed's CSV file, when the file is where the manifest says."""
    if node.resource_type != "seed" or not node.root_path or not node.original_file_path:
        return []
    path = Path(node.root_path) / node.original_file_path
    if not path.is_file():
        return []  # moved, or not a regular file (a FIFO would block the read)
    try:
        with path.open("rb") as stream:
            first = stream.read(_HEADER_BYTES).decode("utf-8-sig", errors="replace").splitlines()[:1]
    except OSError:
        return []
    return [name.strip().lower() for name in next(csv.reader(io.StringIO(first[0])), [])] if first else []


def column_names(sql_by_node: Mapping[str, ModelSql], lineage: Lineage, node: Node, known: dict[str, frozenset[str]]) -> frozenset[str]:
    """A node's column names (lower case) from catalog, YAML, seed header and compiled SQL; `known`
    holds those of its parents (computed first, in lineage order) for columns a model passes through."""
    names = set(node.observed_columns or ()) | {str(name).lower() for name in node.documented_columns} | set(_seed_header(node))
    sql = sql_by_node.get(node.unique_id)
    if sql is not None and sql.note is None:
        names.update(sql.outputs)
        for parent in sql.passthrough:
            names.update(known.get(parent, ()))
    elif node.resource_type in ("model", "snapshot") and not names:
        for parent in lineage.parents[node.unique_id]:
            names.update(known.get(parent, ()))
    return frozenset(names)


def personal_pattern(settings: Settings) -> re.Pattern[str]:
    """One regex for `personal_column_patterns` (whole, case-insensitive names; matches nothing when empty)."""
    return re.compile("|".join(translate(p.lower()) for p in settings.personal_column_patterns) or "(?!)")


def _has_privacy_meta(node: Node) -> bool:
    return node.privacy is not None or bool(node.columns)


@rule(
    "unclassified_personal_data",
    severity="warning",
    enforce_severity="error",
    summary="A seed, source or model without privacy meta holds columns whose names look personal (vars.privacy_guard.personal_column_patterns), or a personal model reads such a node.",
    hint="Declare config.meta.privacy (department, consent, retention) and classify the columns; a column that is not personal gets `class: none`.",
)
def unclassified_personal_data(context: Context) -> Iterator[Issue]:
    """Reported where the columns first appear (not again on the undeclared models that pass them on)."""
    pattern = personal_pattern(context.settings)
    known: dict[str, frozenset[str]] = {}
    flagged: dict[str, list[str]] = {}
    nodes = context.manifest.nodes
    for unique_id in context.lineage.order:
        node, policy = nodes[unique_id], context.policies[unique_id]
        if node.resource_type not in POLICY_TYPES:
            continue
        parents = context.lineage.parents[unique_id]
        if policy.personal or _has_privacy_meta(node):
            undeclared = [parent for parent in parents if parent in flagged] if flagged else None
            if policy.personal and undeclared and node.resource_type in ("model", "snapshot"):
                yield Issue(
                    unique_id,
                    f"{node_label(context, unique_id)} carries personal data and reads {', '.join(nodes[p].name for p in undeclared)}, which has personal-looking columns but no privacy meta",
                    {"undeclared_parents": {parent: flagged[parent] for parent in undeclared}},
                )
            continue
        known[unique_id] = names = column_names(context.sql, context.lineage, node, known)
        matched = sorted(name for name in names if pattern.fullmatch(name))
        if not matched:
            continue
        flagged[unique_id] = matched
        inherited = set().union(*(flagged.get(parent, ()) for parent in parents))
        new = [name for name in matched if name not in inherited]
        if new:
            yield Issue(
                unique_id,
                f"{node_label(context, unique_id)} has no privacy meta but holds columns that look personal: {', '.join(new)}",
                {"columns": new},
            )
