"""Provenance: which privacy_guard macros each model applies, with which settings, and its tests.

Auditors ask "which de-identification was applied to this dataset, with which parameters, and
did its privacy tests pass in the last run". The answer is in the dbt artifacts: the model's
`raw_code` (the macro calls and their arguments), the test nodes attached to it
(`test_metadata.kwargs`) and `run_results.json` (their latest status). The Jinja is read with
jinja2's own parser, not regexes, so nested arguments, calls inside `{% for %}` / `{% set %}`
blocks and multi-line calls come out right; a template the parser cannot read becomes a note on
the model, never a crash.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from functools import lru_cache
from typing import Any

from jinja2 import Environment, nodes
from jinja2.exceptions import TemplateSyntaxError
from jinja2.ext import Extension
from jinja2.parser import Parser

from python_checks.loader import DataTest, Manifest, Node, RunResults

PACKAGE = "privacy_guard"
#: The nodes that get a provenance record (what they apply, how they are tested).
PROVENANCE_TYPES = frozenset({"model", "seed", "snapshot", "source"})
_MACRO_PREFIX = f"macro.{PACKAGE}."

#: dbt's own block tags (`{% test %}...{% endtest %}` etc.); jinja2 does not know them.
_DBT_BLOCK_TAGS = frozenset({"test", "data_test", "materialization", "snapshot", "docs", "unit_test"})
_COMPARE_SYMBOLS = {"eq": "==", "ne": "!=", "gt": ">", "gteq": ">=", "lt": "<", "lteq": "<=", "in": "in", "notin": "not in"}


class _DbtBlocks(Extension):
    """Reads dbt's block tags as transparent scopes so the calls inside them are still seen."""

    tags = set(_DBT_BLOCK_TAGS)

    def parse(self, parser: Parser) -> nodes.Node:
        tag = next(parser.stream)
        # The tag's own arguments (`materialization name, adapter='x'`) are irrelevant here.
        while parser.stream.current.type != "block_end":
            next(parser.stream)
        body = parser.parse_statements((f"name:end{tag.value}",), drop_needle=True)
        return nodes.Scope(body, lineno=tag.lineno)


@lru_cache(maxsize=1)
def _environment() -> Environment:
    return Environment(extensions=["jinja2.ext.do", "jinja2.ext.loopcontrols", _DbtBlocks])


class JinjaExpression(str):
    """An argument that is not a constant, as its Jinja source (`ref('x')`); JSON sees a string."""


@dataclass(frozen=True)
class MacroCall:
    """One call `privacy_guard.<macro>(...)` in a model's Jinja.

    Constant arguments are evaluated (literals, lists, dicts, nested); any other argument is its
    Jinja source text (`ref('x')`, `c`). `inside` names the enclosing `for`/`set` blocks, outermost
    first, because a call in a loop applies once per iteration.
    """

    macro: str
    args: list[Any]
    kwargs: dict[str, Any]
    line: int
    inside: list[str] = field(default_factory=list)

    def display(self) -> str:
        """The call as Jinja source: `generalize_numeric('age', width=10)`."""
        parts = [_display_value(arg) for arg in self.args] + [f"{key}={_display_value(value)}" for key, value in self.kwargs.items()]
        return f"{PACKAGE}.{self.macro}({', '.join(parts)})"


def _display_value(value: Any) -> str:
    if isinstance(value, JinjaExpression):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(_display_value(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_literal(key)}: {_display_value(item)}" for key, item in value.items()) + "}"
    return _literal(value)


@dataclass(frozen=True)
class AttachedTest:
    """A data test attached to a node, with its arguments and (when known) its latest result."""

    unique_id: str
    test: str
    namespace: str | None
    column: str | None
    kwargs: dict[str, Any]
    status: str | None = None
    failures: int | None = None

    @property
    def is_privacy_test(self) -> bool:
        return self.namespace == PACKAGE


@dataclass
class NodeProvenance:
    """What one model/seed/snapshot/source applies and is tested with."""

    unique_id: str
    macros: list[MacroCall] = field(default_factory=list)
    tests: list[AttachedTest] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        document = asdict(self)
        for test, record in zip(self.tests, document["tests"]):
            record["privacy_test"] = test.is_privacy_test
        return document


# --- Jinja expressions -> values or source text ---------------------------------------------------


def source_text(node: nodes.Node) -> str:
    """Jinja source of an expression, close to how it was written (`ref('x')`, `cols | join(',')`)."""
    if isinstance(node, nodes.Const):
        return _literal(node.value)
    if isinstance(node, nodes.Name):
        return node.name
    if isinstance(node, nodes.Getattr):
        return f"{source_text(node.node)}.{node.attr}"
    if isinstance(node, nodes.Getitem):
        return f"{source_text(node.node)}[{source_text(node.arg)}]"
    if isinstance(node, nodes.Slice):
        parts = [source_text(part) if part is not None else "" for part in (node.start, node.stop)]
        return ":".join(parts) + (f":{source_text(node.step)}" if node.step is not None else "")
    if isinstance(node, nodes.Call):
        return f"{source_text(node.node)}({_call_arguments(node)})"
    if isinstance(node, nodes.List):
        return "[" + ", ".join(source_text(item) for item in node.items) + "]"
    if isinstance(node, nodes.Tuple):
        return "(" + ", ".join(source_text(item) for item in node.items) + ("," if len(node.items) == 1 else "") + ")"
    if isinstance(node, nodes.Dict):
        return "{" + ", ".join(f"{source_text(pair.key)}: {source_text(pair.value)}" for pair in node.items) + "}"
    if isinstance(node, (nodes.Filter, nodes.Test)):
        applied = f"{node.name}({_call_arguments(node)})" if node.args or node.kwargs else node.name
        joiner = " | " if isinstance(node, nodes.Filter) else " is "
        return f"{source_text(node.node)}{joiner}{applied}" if node.node is not None else applied
    if isinstance(node, nodes.Concat):
        return " ~ ".join(source_text(part) for part in node.nodes)
    if isinstance(node, nodes.BinExpr):
        return f"{source_text(node.left)} {node.operator} {source_text(node.right)}"
    if isinstance(node, nodes.UnaryExpr):
        return f"{node.operator}{' ' if node.operator == 'not' else ''}{source_text(node.node)}"
    if isinstance(node, nodes.Compare):
        ops = " ".join(f"{_COMPARE_SYMBOLS.get(op.op, op.op)} {source_text(op.expr)}" for op in node.ops)
        return f"{source_text(node.expr)} {ops}"
    if isinstance(node, nodes.CondExpr):
        otherwise = f" else {source_text(node.expr2)}" if node.expr2 is not None else ""
        return f"{source_text(node.expr1)} if {source_text(node.test)}{otherwise}"
    return f"<{type(node).__name__}>"


def _literal(value: Any) -> str:
    if value is None or isinstance(value, bool):
        return {None: "none", True: "true", False: "false"}[value]
    return repr(value)


def _call_arguments(node: nodes.Call | nodes.Filter | nodes.Test) -> str:
    parts = [source_text(arg) for arg in node.args]
    parts += [f"{kw.key}={source_text(kw.value)}" for kw in node.kwargs]
    if node.dyn_args is not None:
        parts.append(f"*{source_text(node.dyn_args)}")
    if node.dyn_kwargs is not None:
        parts.append(f"**{source_text(node.dyn_kwargs)}")
    return ", ".join(parts)


def argument_value(node: nodes.Expr) -> Any:
    """The value of a constant argument; lists/dicts are evaluated item by item; else source text."""
    try:
        value = node.as_const()
    except nodes.Impossible:
        if isinstance(node, (nodes.List, nodes.Tuple)):
            return [argument_value(item) for item in node.items]
        if isinstance(node, nodes.Dict):
            return {_dict_key(pair.key): argument_value(pair.value) for pair in node.items}
        return JinjaExpression(source_text(node))
    return _json_ready(value)


def _dict_key(node: nodes.Expr) -> str:
    try:
        return str(node.as_const())
    except nodes.Impossible:
        return source_text(node)


def _json_ready(value: Any) -> Any:
    # as_const() gives tuples for Jinja tuples; JSON (and the docs) want lists.
    if isinstance(value, (list, tuple)):
        return [_json_ready(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _json_ready(item) for key, item in value.items()}
    return value


# --- Walking a template --------------------------------------------------------------------------


def _block_label(node: nodes.Node) -> str | None:
    if isinstance(node, nodes.For):
        return f"for {source_text(node.target)} in {source_text(node.iter)}"
    if isinstance(node, nodes.AssignBlock):
        return f"set {source_text(node.target)}"
    if isinstance(node, nodes.Macro):
        return f"macro {node.name}"
    return None


def _macro_name(call: nodes.Call, bare_names: frozenset[str]) -> str | None:
    target = call.node
    if isinstance(target, nodes.Getattr) and isinstance(target.node, nodes.Name) and target.node.name == PACKAGE:
        return target.attr
    if isinstance(target, nodes.Name) and target.name in bare_names:
        return target.name
    return None


def _walk(node: nodes.Node, inside: list[str], bare_names: frozenset[str], found: list[MacroCall]) -> None:
    if isinstance(node, nodes.Call):
        macro = _macro_name(node, bare_names)
        if macro is not None:
            found.append(
                MacroCall(
                    macro=macro,
                    args=[argument_value(arg) for arg in node.args],
                    kwargs={kw.key: argument_value(kw.value) for kw in node.kwargs},
                    line=node.lineno,
                    inside=list(inside),
                )
            )
    label = _block_label(node)
    scope = [*inside, label] if label else inside
    for child in node.iter_child_nodes():
        _walk(child, scope, bare_names, found)


def extract_macro_calls(raw_code: str, bare_names: frozenset[str] = frozenset()) -> list[MacroCall]:
    """Every `privacy_guard.<macro>(...)` call in a Jinja template, in source order.

    `bare_names` are privacy_guard macros the template may call unqualified (dbt resolves a bare
    name to a package macro when the root project does not define one). Raises
    TemplateSyntaxError for a template jinja2 cannot parse.
    """
    found: list[MacroCall] = []
    _walk(_environment().parse(raw_code), [], bare_names, found)
    return found


# --- The manifest ---------------------------------------------------------------------------------


def _package_macros_used(node: Node) -> frozenset[str]:
    return frozenset(m[len(_MACRO_PREFIX):] for m in node.macros if m.startswith(_MACRO_PREFIX))


def _attached_test(test: DataTest, results: RunResults | None) -> AttachedTest:
    # `model` is dbt's own `{{ get_where_subquery(ref(...)) }}`: not a setting anybody chose.
    kwargs = {key: value for key, value in test.arguments.items() if key != "model"}
    return AttachedTest(
        unique_id=test.unique_id,
        test=test.name,
        namespace=test.namespace,
        column=test.column,
        kwargs=kwargs,
        status=results.get(test.unique_id) if results is not None else None,
        failures=results.failures.get(test.unique_id) if results is not None else None,
    )


def _macro_calls(node: Node, record: NodeProvenance) -> None:
    used = _package_macros_used(node)
    if not used:  # depends_on.macros lists none of ours: nothing to parse.
        return
    try:
        record.macros = extract_macro_calls(node.raw_code or "", bare_names=used)
    except TemplateSyntaxError as error:
        record.notes.append(
            f"could not read the Jinja of {node.original_file_path or node.unique_id} (line {error.lineno}): {error.message}; "
            f"it uses {', '.join(sorted(used))}"
        )
    except RecursionError:  # Jinja's parser and the walk recurse per nesting level
        record.notes.append(f"could not read the Jinja of {node.original_file_path or node.unique_id}: nested too deeply; it uses {', '.join(sorted(used))}")


def extract(manifest: Manifest, run_results: RunResults | None = None) -> dict[str, NodeProvenance]:
    """unique_id -> provenance, for every model, seed, snapshot and source of the manifest."""
    provenance = {uid: NodeProvenance(uid) for uid, node in manifest.nodes.items() if node.resource_type in PROVENANCE_TYPES}
    for uid, record in provenance.items():
        node = manifest.nodes[uid]
        if node.resource_type not in ("seed", "source"):
            _macro_calls(node, record)
    for test in manifest.tests:
        if test.attached_node in provenance:
            provenance[test.attached_node].tests.append(_attached_test(test, run_results))
    for record in provenance.values():
        record.tests.sort(key=lambda t: (not t.is_privacy_test, t.test, t.column or "", t.unique_id))
    return provenance
