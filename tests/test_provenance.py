"""Provenance extraction: privacy_guard macro calls with their arguments, attached tests, results.

The unit tests feed hand-written Jinja and manifest fragments; the last tests read the manifest
and run_results.json of a real `dbt build` of tests/fixtures/audit_project.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from dbt_harness import shared_build
from jinja2.exceptions import TemplateSyntaxError

from python_checks.loader import load_manifest, load_run_results
from python_checks.provenance import JinjaExpression, extract, extract_macro_calls


def _calls(code: str, bare: frozenset[str] = frozenset()) -> list[tuple[str, list[Any], dict[str, Any], list[str]]]:
    return [(c.macro, c.args, c.kwargs, c.inside) for c in extract_macro_calls(code, bare)]


def test_positional_and_keyword_constants() -> None:
    assert _calls("select {{ privacy_guard.generalize_numeric('age', width=10) }} as age_band") == [
        ("generalize_numeric", ["age"], {"width": 10}, [])
    ]


def test_nested_constant_and_jinja_arguments() -> None:
    code = """
    {{ privacy_guard.suppress_small_groups(
        ref('stg_hr'),
        quasi_identifiers=['age_band', var('zip_column')],
        k=var('k', 5),
        options={'levels': [1, (2, 3)], 'strict': true, 'none': none}
    ) }}
    {{ privacy_guard.generalize_numeric(column_name ~ '_raw', breakpoints=[18, 30, 50]) }}
    """
    calls = extract_macro_calls(code)
    assert [(c.macro, c.args, c.kwargs) for c in calls] == [
        (
            "suppress_small_groups",
            ["ref('stg_hr')"],
            {
                "quasi_identifiers": ["age_band", "var('zip_column')"],
                "k": "var('k', 5)",
                "options": {"levels": [1, [2, 3]], "strict": True, "none": None},
            },
        ),
        ("generalize_numeric", ["column_name ~ '_raw'"], {"breakpoints": [18, 30, 50]}),
    ]
    # Non-constant arguments are marked as Jinja source, constants are not.
    assert isinstance(calls[0].args[0], JinjaExpression)
    assert not isinstance(calls[0].kwargs["quasi_identifiers"][0], JinjaExpression)
    assert calls[0].line == 2
    assert calls[1].display() == "privacy_guard.generalize_numeric(column_name ~ '_raw', breakpoints=[18, 30, 50])"


def test_calls_inside_for_loops_and_set_blocks() -> None:
    code = """
    {% set bands %}
      {% for column in ['age', 'hours'] %}
        {{ privacy_guard.generalize_numeric(column, width=5) }},
      {% endfor %}
    {% endset %}
    {% set masked = privacy_guard.mask_string('name', keep=2) %}
    {% do privacy_guard.top_code('salary', 100000) %}
    """
    assert _calls(code) == [
        ("generalize_numeric", ["column"], {"width": 5}, ["set bands", "for column in ['age', 'hours']"]),
        ("mask_string", ["name"], {"keep": 2}, []),
        ("top_code", ["salary", 100000], {}, []),
    ]


def test_dbt_block_tags_are_read_through() -> None:
    code = """
    {% snapshot hr_snapshot %}
      {{ config(unique_key='id', strategy='check', check_cols='all') }}
      select {{ privacy_guard.pseudonymize('email') }} as email_pseudonym from {{ source('hr', 'roster') }}
    {% endsnapshot %}
    {% docs explained %}Uses privacy_guard.pseudonymize.{% enddocs %}
    """
    assert _calls(code) == [("pseudonymize", ["email"], {}, [])]


def test_only_privacy_guard_calls_and_listed_bare_names() -> None:
    code = "{{ dbt_utils.star(ref('x')) }} {{ other.generalize_numeric('a', width=2) }} {{ age_band('born') }} {{ mask_string('n') }}"
    assert _calls(code) == []
    assert _calls(code, frozenset({"age_band"})) == [("age_band", ["born"], {}, [])]


def test_unparsable_template_raises_for_one_model() -> None:
    with pytest.raises(TemplateSyntaxError):
        extract_macro_calls("{% if %}{{ privacy_guard.top_code('x', 1) }}")


def _node(uid: str, raw_code: str, macros: list[str], resource_type: str = "model") -> dict[str, Any]:
    return {
        "unique_id": uid,
        "resource_type": resource_type,
        "name": uid.rsplit(".", 1)[-1],
        "original_file_path": f"models/{uid.rsplit('.', 1)[-1]}.sql",
        "raw_code": raw_code,
        "depends_on": {"macros": macros, "nodes": []},
    }


def _test_node(uid: str, attached: str | None, depends: list[str], name: str, namespace: str | None, kwargs: dict[str, Any]) -> dict[str, Any]:
    return {
        "unique_id": uid,
        "resource_type": "test",
        "name": uid.split(".")[2],
        "attached_node": attached,
        "column_name": kwargs.get("column_name"),
        "depends_on": {"nodes": depends, "macros": []},
        "test_metadata": {"name": name, "namespace": namespace, "kwargs": kwargs},
    }


def test_extract_from_a_manifest(tmp_path: Path) -> None:
    manifest = {
        "metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v12.json"},
        "nodes": {
            "model.p.banded": _node("model.p.banded", "{{ privacy_guard.age_band('born', width=5) }}", ["macro.privacy_guard.age_band"]),
            # The call is in the text but depends_on lists no privacy_guard macro: not parsed.
            "model.p.commented": _node("model.p.commented", "-- privacy_guard.top_code('x', 1) {{ privacy_guard.top_code('x', 1) }}", []),
            "model.p.broken": _node("model.p.broken", "{% for %}{{ privacy_guard.top_code('x', 1) }}", ["macro.privacy_guard.top_code"]),
            "seed.p.roster": _node("seed.p.roster", "", [], "seed"),
            "test.p.k_anonymity_banded.abc": _test_node(
                "test.p.k_anonymity_banded.abc",
                "model.p.banded",
                ["model.p.banded"],
                "k_anonymity",
                "privacy_guard",
                {"k": 5, "quasi_identifiers": ["age_band"], "model": "{{ get_where_subquery(ref('banded')) }}"},
            ),
            "test.p.not_null_banded_id.def": _test_node(
                "test.p.not_null_banded_id.def", "model.p.banded", ["model.p.banded"], "not_null", None, {"column_name": "id"}
            ),
            "test.p.source_not_null.ghi": _test_node(
                "test.p.source_not_null.ghi", None, ["source.p.hr.roster"], "not_null", None, {"column_name": "email"}
            ),
        },
        "sources": {"source.p.hr.roster": {"unique_id": "source.p.hr.roster", "resource_type": "source", "name": "roster"}},
    }
    run_results = {
        "metadata": {
            "dbt_schema_version": "https://schemas.getdbt.com/dbt/run-results/v6.json",
            "invocation_id": "inv-1",
            "generated_at": "2024-05-01T10:00:00Z",
            "dbt_version": "1.11.0",
        },
        "args": {"which": "build", "target": "prod"},
        "results": [
            {"unique_id": "test.p.k_anonymity_banded.abc", "status": "fail", "failures": 2},
            {"unique_id": "test.p.not_null_banded_id.def", "status": "pass", "failures": 0},
        ],
    }
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    (tmp_path / "run_results.json").write_text(json.dumps(run_results))
    results = load_run_results(tmp_path / "run_results.json")
    found = extract(load_manifest(tmp_path / "manifest.json"), results)
    assert sorted(found) == ["model.p.banded", "model.p.broken", "model.p.commented", "seed.p.roster", "source.p.hr.roster"]
    assert [(c.macro, c.args, c.kwargs) for c in found["model.p.banded"].macros] == [("age_band", ["born"], {"width": 5})]
    assert found["model.p.commented"].macros == []
    broken = found["model.p.broken"]
    assert broken.macros == [] and len(broken.notes) == 1
    assert "models/broken.sql" in broken.notes[0] and "top_code" in broken.notes[0]
    tests = found["model.p.banded"].tests
    assert [(t.test, t.namespace, t.kwargs, t.status, t.failures) for t in tests] == [
        ("k_anonymity", "privacy_guard", {"k": 5, "quasi_identifiers": ["age_band"]}, "fail", 2),  # privacy tests first
        ("not_null", None, {"column_name": "id"}, "pass", 0),
    ]
    assert [(t.test, t.column, t.status) for t in found["source.p.hr.roster"].tests] == [("not_null", "email", None)]
    assert found["model.p.banded"].to_dict()["tests"][0]["privacy_test"] is True
    info = results.run
    assert (info.invocation_id, info.command, info.target, info.dbt_version) == ("inv-1", "build", "prod", "1.11.0")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    result = shared_build(tmp_path_factory, "audit_project", expect_success=False)  # a planted not_null test fails
    target = result.project_dir / "target"
    manifest = json.loads((target / "manifest.json").read_text())
    provenance = extract(load_manifest(target / "manifest.json"), load_run_results(target / "run_results.json"))
    return {"manifest": manifest, "run_results": result.run_results, "provenance": provenance}


@pytest.mark.dbt
def test_real_manifest_macro_calls(built: dict[str, Any]) -> None:
    banded = built["provenance"]["model.audit_project.hr_banded"]
    assert [(c.macro, c.args, c.kwargs, c.inside) for c in banded.macros] == [
        ("generalize_numeric", ["column"], {"width": "width"}, ["set numeric_bands", "for (column, width) in band_widths.items()"]),
        ("truncate_postcode", ["zip"], {"keep": 3}, []),
        ("suppress_small_groups", ["banded"], {"quasi_identifiers": ["age_band", "zip3"], "k": 2}, []),
    ]
    assert banded.notes == []
    # Models that call no privacy_guard macro have none.
    assert built["provenance"]["model.audit_project.stg_hr"].macros == []


@pytest.mark.dbt
def test_real_manifest_tests_and_results(built: dict[str, Any]) -> None:
    provenance = built["provenance"]
    k_tests = [t for t in provenance["model.audit_project.hr_banded"].tests if t.test == "k_anonymity"]
    assert [(t.namespace, t.kwargs, t.status, t.failures) for t in k_tests] == [
        ("privacy_guard", {"k": 2, "quasi_identifiers": ["age_band", "zip3"]}, "pass", 0)
    ]
    repeat = provenance["model.audit_project.visit_counts"].tests
    assert [(t.test, t.column, t.status, t.failures) for t in repeat] == [("not_null", "repeat_visits", "fail", 3)]
    stg_hr = sorted((t.test, t.column, t.status) for t in provenance["model.audit_project.stg_hr"].tests)
    assert stg_hr == [("not_null", "employee_id", "pass"), ("unique", "employee_id", "pass")]
    # Every test of the manifest is attached to exactly one node.
    tests = [n for n in built["manifest"]["nodes"].values() if n["resource_type"] == "test"]
    assert sum(len(p.tests) for p in provenance.values()) == len(tests) == 5
