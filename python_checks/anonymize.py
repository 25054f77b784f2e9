"""Optimal full-domain generalization (`privacy-guard anonymize`): the least-lossy combination of
hierarchy levels that makes a relation k-anonymous (optionally distinct-l-diverse) after suppressing
the remaining small classes, up to a limit.

The warehouse computes ONE grouped histogram of the distinct quasi-identifier combinations (plus
the sensitive value for l); the lattice search runs in Python over that histogram, whose size is
the number of distinct combinations, not of rows. A node of the lattice is one level per column.

Search (after Flash, Kohlmayer et al. 2012, and ARX): nodes are visited in ascending order of a
lower bound of their loss. A node whose anonymity is still unknown is resolved by a path upwards
through unknown successors and a binary search on it; every check tags its successors anonymous
(k-anonymity with a suppression limit is monotone under generalization) or its predecessors not
anonymous. The first anonymous node whose loss is not beaten by the next lower bound is optimal.
For entropy and height the lower bound is the loss itself (both depend only on the levels); for
discernibility it is rows^2 / (classes the node can have at most), by Cauchy-Schwarz.

Definitions, as ARX computes them (so the optima match ARX's test suite on Adult):
- suppression limit: floor(fraction * rows) rows (ARXConfiguration); a class is suppressed when it
  is smaller than k or has fewer than l distinct sensitive values;
- non-uniform entropy (ARX `MetricMDNUEntropyPrecomputed`, the monotone variant ARX's Adult test
  uses): sum over columns and original values v of count(v) * -log2(count(v) / count(g(v))), with
  g(v) the generalized value and the counts over all rows of the relation; suppressed rows are
  not counted again, so the loss depends on the levels alone;
- discernibility (ARX `MetricSDDiscernability`, Bayardo & Agrawal 2005): the sum of squared sizes
  of the kept classes plus rows * (suppressed rows);
- height: the sum of the levels.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from python_checks.hierarchy import HierarchyError, read_arx_hierarchy
from python_checks.loader import ArtifactError, Manifest, Node
from python_checks.policy import declared_policy
from python_checks.relation import Relation, quote

METRICS = ("entropy", "discernibility", "height")
UNKNOWN, NOT_ANONYMOUS, ANONYMOUS = -1, 0, 1
DENSE_LIMIT = 1 << 21  # key spaces up to this size are counted with bincount instead of a sort


@dataclass(frozen=True)
class Requirement:
    """What an anonymous node must satisfy."""

    k: int
    max_suppression: float = 0.0
    l: int | None = None  # noqa: E741 -- the letter of the literature

    def __post_init__(self) -> None:
        if self.k < 1:
            raise ArtifactError(f"--k {self.k}: must be at least 1")
        if not 0.0 <= self.max_suppression <= 1.0:
            raise ArtifactError(f"--max-suppression {self.max_suppression}: must be a fraction between 0 and 1")
        if self.l is not None and self.l < 1:
            raise ArtifactError(f"--l {self.l}: must be at least 1")


@dataclass(frozen=True)
class Evaluation:
    """One node, grouped: its classes after suppression."""

    levels: tuple[int, ...]
    anonymous: bool
    suppressed_rows: int
    classes: int  # kept classes
    k: int  # smallest kept class (0 when nothing is kept)
    discernibility: float


@dataclass
class Histogram:
    """The distinct quasi-identifier combinations with their counts, encoded for the search.

    `codes[:, j]` is the level-0 code of column j; `generalize[j][h]` maps a level-0 code to the
    code of its level-h ancestor; `domain[j][h]` is the number of level-h values.
    """

    columns: list[str]
    codes: np.ndarray
    counts: np.ndarray
    generalize: list[list[np.ndarray]]
    domain: list[list[int]]
    sensitive: np.ndarray | None = None
    sensitive_domain: int = 1
    rows: int = field(init=False)
    _level_codes: dict[tuple[int, int], np.ndarray] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.rows = int(self.counts.sum())

    @property
    def heights(self) -> list[int]:
        """Number of levels per column (level 0 included)."""
        return [len(levels) for levels in self.generalize]

    def entropy_by_level(self) -> list[np.ndarray]:
        """Per column, the non-uniform entropy loss of each level (ARX's definition, module doc)."""
        losses = []
        for j, levels in enumerate(self.generalize):
            original = np.bincount(self.codes[:, j], weights=self.counts, minlength=self.domain[j][0])
            present = original > 0
            per_level = []
            for h, mapping in enumerate(levels):
                generalized = np.bincount(mapping, weights=original, minlength=self.domain[j][h])
                ratio = original[present] / generalized[mapping[present]]
                per_level.append(float(-(original[present] * np.log2(ratio)).sum()))
            losses.append(np.array(per_level))
        return losses

    def level_codes(self, column: int, level: int) -> np.ndarray:
        """Per distinct combination, the code of column `column` at `level` (computed once)."""
        key = (column, level)
        if key not in self._level_codes:
            self._level_codes[key] = self.generalize[column][level][self.codes[:, column]]
        return self._level_codes[key]

    def class_sizes(self, levels: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
        """(class index of every combination, size of every class) at `levels`."""
        key = np.zeros(len(self.counts), dtype=np.int64)
        space = 1
        for j, level in enumerate(levels):
            key *= self.domain[j][level]
            key += self.level_codes(j, level)
            space *= self.domain[j][level]
        if space <= DENSE_LIMIT:  # no sort needed: count straight into the key space
            sizes = np.bincount(key, weights=self.counts, minlength=space).astype(np.int64)
            present = np.flatnonzero(sizes)
            position = np.zeros(space, dtype=np.int64)
            position[present] = np.arange(len(present))
            return position[key], sizes[present]
        _, classes = np.unique(key, return_inverse=True)
        return classes, np.bincount(classes, weights=self.counts).astype(np.int64)

    def evaluate(self, levels: Sequence[int], requirement: Requirement) -> Evaluation:
        """Group the histogram at `levels`, suppress the violating classes, judge the limit."""
        classes, sizes = self.class_sizes(levels)
        violating = sizes < requirement.k
        if requirement.l is not None and self.sensitive is not None:
            pairs = np.unique(classes.astype(np.int64) * self.sensitive_domain + self.sensitive)
            distinct = np.bincount(pairs // self.sensitive_domain, minlength=len(sizes))
            violating |= distinct < requirement.l
        suppressed = int(sizes[violating].sum())
        kept = sizes[~violating]
        return Evaluation(
            levels=tuple(int(level) for level in levels),
            anonymous=suppressed <= math.floor(requirement.max_suppression * self.rows),
            suppressed_rows=suppressed,
            classes=int(kept.size),
            k=int(kept.min()) if kept.size else 0,
            discernibility=float((kept.astype(np.float64) ** 2).sum() + float(suppressed) * self.rows),
        )


def read_hierarchies(columns: Sequence[str], files: Mapping[str, Path]) -> dict[str, list[list[str]]]:
    """Every quasi-identifier's ARX hierarchy rows; a missing or extra --hierarchy is an error."""
    for column in files:
        if column not in columns:
            raise ArtifactError(f"--hierarchy {column}=...: {column} is not one of the --qi columns")
    result = {}
    for column in columns:
        if column not in files:
            raise ArtifactError(f"--qi {column}: no --hierarchy {column}=FILE.csv given")
        try:
            result[column] = read_arx_hierarchy(files[column])
        except HierarchyError as error:
            raise ArtifactError(f"--hierarchy {column}: {error}") from None
    return result


def encode(
    rows: Sequence[Sequence[object]],
    columns: Sequence[str],
    hierarchies: Mapping[str, Sequence[Sequence[str]]],
    sensitive: bool = False,
) -> Histogram:
    """Encode histogram rows `(*qi values, [sensitive value,] count)` against the hierarchies.

    A value the hierarchy does not list (or NULL) is an error naming the column.
    """
    width = len(columns)
    codes = np.zeros((len(rows), width), dtype=np.int64)
    generalize: list[list[np.ndarray]] = []
    domain: list[list[int]] = []
    for j, column in enumerate(columns):
        table = hierarchies[column]
        position: dict[object, int] = {row[0]: index for index, row in enumerate(table)}
        missing = {row[j] for row in rows if row[j] not in position}
        if missing:
            example = sorted(map(str, missing))[0]
            raise ArtifactError(f"--hierarchy {column}: {len(missing)} value(s) of the column are not in the hierarchy (e.g. {example!r})")
        codes[:, j] = [position[row[j]] for row in rows]
        column_levels, column_domain = [], []
        for level in range(len(table[0])):
            labels: dict[str, int] = {}
            column_levels.append(np.array([labels.setdefault(row[level], len(labels)) for row in table], dtype=np.int64))
            column_domain.append(len(labels))
        generalize.append(column_levels)
        domain.append(column_domain)
    histogram = Histogram(list(columns), codes, np.array([row[-1] for row in rows], dtype=np.int64), generalize, domain)
    if sensitive:
        values: dict[object, int] = {}
        histogram.sensitive = np.array([values.setdefault(row[width], len(values)) for row in rows], dtype=np.int64)
        histogram.sensitive_domain = max(len(values), 1)
    return histogram


@dataclass
class SearchResult:
    """The optimum, its loss under every metric, and what the search cost."""

    columns: list[str]
    heights: list[int]  # levels per column, level 0 included
    rows: int
    best: Evaluation
    metric: str
    loss: float
    entropy: float
    height: int
    lattice_size: int
    nodes_checked: int
    max_suppressed_rows: int


class Lattice:
    """All level combinations with their anonymity tags, filled in as nodes are checked."""

    def __init__(self, histogram: Histogram, requirement: Requirement) -> None:
        self.histogram = histogram
        self.requirement = requirement
        self.shape = tuple(histogram.heights)
        self.nodes = np.indices(self.shape).reshape(len(self.shape), -1).T
        self.levels = self.nodes.tolist()
        # index of a node's successor in column j: its index + strides[j] (C order of np.indices)
        self.strides = [math.prod(self.shape[j + 1 :]) for j in range(len(self.shape))]
        self.tags = np.full(len(self.nodes), UNKNOWN, dtype=np.int8)
        self.checked: dict[int, Evaluation] = {}

    def check(self, index: int) -> Evaluation:
        """Group one node (once) and tag what its result implies for the others."""
        if index in self.checked:
            return self.checked[index]
        node = self.nodes[index]
        evaluation = self.histogram.evaluate(node, self.requirement)
        self.checked[index] = evaluation
        if evaluation.anonymous:
            self.tags[(self.nodes >= node).all(axis=1)] = ANONYMOUS
        else:
            self.tags[(self.nodes <= node).all(axis=1)] = NOT_ANONYMOUS
        return evaluation

    def resolve(self, index: int, rank: np.ndarray) -> None:
        """Tag `index`: binary search for the lowest anonymous node on a path up from it."""
        path = [index]
        while True:
            levels = self.levels[path[-1]]
            unknown = [
                path[-1] + stride
                for level, height, stride in zip(levels, self.shape, self.strides, strict=True)
                if level < height - 1 and self.tags[path[-1] + stride] == UNKNOWN
            ]
            if not unknown:
                break
            path.append(min(unknown, key=lambda successor: rank[successor]))
        low, high = 0, len(path) - 1
        while low <= high and self.tags[index] == UNKNOWN:
            middle = (low + high) // 2
            if self.tags[path[middle]] == UNKNOWN:
                self.check(path[middle])
            if self.tags[path[middle]] == ANONYMOUS:
                high = middle - 1
            else:
                low = middle + 1


def search(histogram: Histogram, requirement: Requirement, metric: str = "entropy") -> SearchResult:
    """The optimal node under `metric` (ties: the other metrics, then the levels in column order)."""
    if metric not in METRICS:
        raise ArtifactError(f"--metric {metric}: expected one of {', '.join(METRICS)}")
    lattice = Lattice(histogram, requirement)
    nodes = lattice.nodes
    entropy = sum((losses[nodes[:, j]] for j, losses in enumerate(histogram.entropy_by_level())), np.zeros(len(nodes)))
    height = nodes.sum(axis=1)
    classes_at_most = np.minimum(
        np.prod([np.array(levels)[nodes[:, j]] for j, levels in enumerate(histogram.domain)], axis=0, dtype=np.float64),
        float(len(histogram.counts)),
    )
    bound = {
        "entropy": entropy,
        "height": height.astype(np.float64),
        "discernibility": float(histogram.rows) ** 2 / classes_at_most,
    }[metric]
    order = np.lexsort((np.arange(len(nodes)), height, entropy, bound))
    rank = np.empty(len(nodes), dtype=np.int64)
    rank[order] = np.arange(len(nodes))

    best_index, best_loss = -1, math.inf
    for index in map(int, order):
        if bound[index] >= best_loss:
            break
        if lattice.tags[index] == UNKNOWN:
            lattice.resolve(index, rank)
        if lattice.tags[index] != ANONYMOUS:
            continue
        loss = lattice.check(index).discernibility if metric == "discernibility" else float(bound[index])
        if loss < best_loss:
            best_index, best_loss = index, loss
    if best_index < 0:
        raise ArtifactError("no generalization satisfies the requirement, not even the top of every hierarchy: raise --max-suppression or lower --k/--l")
    return SearchResult(
        columns=list(histogram.columns),
        heights=histogram.heights,
        rows=histogram.rows,
        best=lattice.check(best_index),
        metric=metric,
        loss=best_loss,
        entropy=float(entropy[best_index]),
        height=int(height[best_index]),
        lattice_size=len(nodes),
        nodes_checked=len(lattice.checked),
        max_suppressed_rows=math.floor(requirement.max_suppression * histogram.rows),
    )


def anonymize_relation(
    relation: Relation,
    quasi_identifiers: Sequence[str],
    hierarchies: Mapping[str, Sequence[Sequence[str]]],
    requirement: Requirement,
    metric: str = "entropy",
    sensitive: str | None = None,
) -> SearchResult:
    """Histogram from the warehouse, then the search."""
    relation.require("--qi", quasi_identifiers)
    if (requirement.l is None) != (sensitive is None):
        raise ArtifactError("--l and --sensitive: give both or neither")
    if sensitive is not None:
        relation.require("--sensitive", [sensitive])
        if sensitive in quasi_identifiers:
            raise ArtifactError(f"--sensitive {sensitive}: is also a --qi column")
    rows = relation.histogram([*quasi_identifiers, *([sensitive] if sensitive else [])])
    if not rows:
        raise ArtifactError(f"--relation {relation.name}: has no rows")
    return search(encode(rows, quasi_identifiers, hierarchies, sensitive=sensitive is not None), requirement, metric)


def result_document(result: SearchResult) -> dict[str, object]:
    """The JSON document of `anonymize --format json` (exactly these keys)."""
    return {
        "levels": dict(zip(result.columns, result.best.levels, strict=True)),
        "k": result.best.k,
        "suppressed_rows": result.best.suppressed_rows,
        "loss": result.loss,
        "metric": result.metric,
        "nodes_checked": result.nodes_checked,
    }


def render_text(result: SearchResult, relation: str, requirement: Requirement) -> str:
    """The human report: the levels and the utility they leave."""
    best, rows = result.best, result.rows
    kept = rows - best.suppressed_rows
    required = f"k={requirement.k}" + (f", l={requirement.l} (distinct)" if requirement.l is not None else "")
    lines = [
        f"{relation}: optimal full-domain generalization for {required}, at most "
        f"{requirement.max_suppression:.2%} suppressed ({result.max_suppressed_rows} of {rows} rows), metric {result.metric}",
        "",
        "  column  level / top",
    ]
    width = max(len(column) for column in result.columns)
    for column, level, height in zip(result.columns, best.levels, result.heights, strict=True):
        lines.append(f"  {column:<{width}}  {level} / {height - 1}")
    lines += [
        "",
        f"achieved k: {best.k}; kept classes: {best.classes}; average class size: {kept / best.classes if best.classes else 0:.2f}",
        f"suppressed rows: {best.suppressed_rows} ({best.suppressed_rows / rows:.2%})",
        f"non-uniform entropy: {result.entropy:.4f}; discernibility: {best.discernibility:.0f}; height: {result.height}",
        f"lattice: {result.lattice_size} nodes, {result.nodes_checked} checked",
    ]
    return "\n".join(lines) + "\n"


def seed_name(path: Path) -> str:
    """The dbt seed name `arx_to_seed` output gets when saved under this file's stem."""
    return "".join(char if char.isalnum() or char == "_" else "_" for char in path.stem)


def model_snippet(
    result: SearchResult,
    relation: Relation,
    source: str,
    seeds: Mapping[str, str],
    requirement: Requirement,
    sensitive: str | None = None,
) -> str:
    """A dbt model (DuckDB) applying the optimum with `generalize_hierarchy` + `suppress_small_groups`."""
    levels = dict(zip(result.columns, result.best.levels, strict=True))
    select_list = []
    for column in relation.columns:
        quoted = '"' + column.replace('"', '""') + '"'
        if levels.get(column):
            select_list.append(f"{{{{ privacy_guard.generalize_hierarchy({quoted!r}, ref({seeds[column]!r}), {levels[column]}) }}}} as {quoted}")
        else:
            select_list.append(quoted)
    used = ", ".join(sorted({seeds[column] for column in seeds if levels.get(column)})) or "none"
    header = [
        f"{{#- privacy-guard anonymize of {relation.name}: k={requirement.k}"
        + (f", l={requirement.l} on {sensitive}" if requirement.l is not None else "")
        + f", max suppression {requirement.max_suppression:g}, metric {result.metric}.",
        f"    Expected: {result.best.suppressed_rows} rows suppressed, achieved k {result.best.k}.",
        f"    Hierarchy seeds (level_0..level_n; privacy-guard anonymize --write-seeds DIR): {used}. -#}}",
    ]
    body = [
        "with generalized as (",
        "    select",
        ",\n".join(f"        {item}" for item in select_list),
        f"      from {{{{ ref({source!r}) }}}}",
        ")",
    ]
    suppress = f"{{{{ privacy_guard.suppress_small_groups('generalized', {list(result.columns)!r}, {requirement.k}) }}}}"
    if requirement.l is None or sensitive is None:
        return "\n".join([*header, *body, suppress]) + "\n"
    columns = ", ".join('"' + column.replace('"', '""') + '"' for column in result.columns)
    quoted_sensitive = '"' + sensitive.replace('"', '""') + '"'
    return "\n".join([
        *header,
        *body[:-1],
        "), k_anonymous as (",
        f"    {suppress}",
        ")",
        "select * from k_anonymous",
        f" where ({columns}) in (select {columns} from k_anonymous group by all having count(distinct {quoted_sensitive}) >= {requirement.l})",
    ]) + "\n"


@dataclass(frozen=True)
class ModelTarget:
    """What `anonymize --model` reads from the manifest: the relation, its QIs and their hierarchy seeds."""

    name: str
    relation: str  # schema.identifier
    quasi_identifiers: list[str]
    seeds: dict[str, str]  # column -> hierarchy seed/model name
    seed_relations: dict[str, str]  # column -> schema.identifier of that seed
    k: int | None


def _relation_of(node: Node) -> str:
    if not node.schema or not node.identifier:
        raise ArtifactError(f"--model: {node.unique_id} has no schema/identifier in the manifest")
    return f"{node.schema}.{node.identifier}"


def model_target(manifest: Manifest, model: str) -> ModelTarget:
    """The model named `model`: its quasi-identifier columns (declared order) and their `hierarchy`."""
    found = [node for node in manifest.nodes.values() if node.name == model and node.resource_type in {"model", "seed", "snapshot"}]
    if len(found) != 1:
        raise ArtifactError(f"--model {model}: {'no' if not found else 'more than one'} model, seed or snapshot of that name in {manifest.path}")
    node = found[0]
    policy = declared_policy(node)
    if policy.errors:
        raise ArtifactError(f"--model {model}: invalid privacy meta: {policy.errors[0]}")
    columns = [column for column in policy.columns.values() if column.column_class == "quasi_identifier"]
    if not columns:
        raise ArtifactError(f"--model {model}: no column declares config.meta.privacy.class: quasi_identifier")
    by_name = {candidate.name: candidate for candidate in manifest.nodes.values() if candidate.resource_type in {"seed", "model"}}
    seeds, seed_relations = {}, {}
    for column in columns:
        if not column.hierarchy:
            raise ArtifactError(f"--model {model}: quasi-identifier {column.name} declares no privacy.hierarchy")
        if column.hierarchy not in by_name:
            raise ArtifactError(f"--model {model}: hierarchy {column.hierarchy} of column {column.name} is no seed or model in {manifest.path}")
        seeds[column.name] = column.hierarchy
        seed_relations[column.name] = _relation_of(by_name[column.hierarchy])
    return ModelTarget(node.name, _relation_of(node), [column.name for column in columns], seeds, seed_relations, policy.declared.get("k"))


def hierarchy_from_relation(relation: Relation) -> list[list[str]]:
    """A hierarchy stored as a table with columns level_0..level_n (as `generalize_hierarchy` reads it)."""
    levels = sorted((column for column in relation.columns if column.lower().startswith("level_") and column[6:].isdigit()), key=lambda column: int(column[6:]))
    if not levels or [int(column[6:]) for column in levels] != list(range(len(levels))):
        raise ArtifactError(f"hierarchy {relation.name}: expected columns level_0..level_n, found {', '.join(relation.columns)}")
    rows = relation.rows("select " + ", ".join(f"cast({quote(column)} as varchar)" for column in levels) + f" from {relation.sql}")
    originals = [row[0] for row in rows]
    if not rows or len(set(originals)) != len(originals):
        raise ArtifactError(f"hierarchy {relation.name}: {'empty' if not rows else 'a level_0 value is listed twice'}")
    return [list(row) for row in rows]
