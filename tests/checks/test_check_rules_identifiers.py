"""unprotected_identifier on hand-made manifests: judged per output column from the compiled SQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from manifest_builder import ManifestBuilder, findings

POLICY = {"department": "a", "consent": ["x"], "retention": {"days": 1}}
PSEUDONYMIZE = "macro.privacy_guard.pseudonymize"


def pseudonym(column: str) -> str:
    """What `{{ privacy_guard.pseudonymize(column) }}` compiles to on DuckDB."""
    return f"privacy_guard_hmac_sha256(cast({column} as varchar))"


def chain(staged_sql: str | None = 'select email, zip from "db"."main"."raw"', macros: tuple[str, ...] = (), staged_columns: dict | None = None) -> ManifestBuilder:
    builder = ManifestBuilder()
    raw = builder.node("raw", "seed", POLICY, {"email": {"class": "direct_identifier"}, "zip": {"class": "quasi_identifier"}})
    staged = builder.node("staged", parents=(raw,), sql=staged_sql, macros=macros, columns=staged_columns)
    builder.node("mart", parents=(staged,), sql='select * from "db"."main"."staged"' if staged_sql else None)
    return builder


def exposed(builder: ManifestBuilder, tmp_path: Path) -> dict[str, dict]:
    return {finding.node.rsplit(".", 1)[-1]: finding.evidence for finding in findings(builder.check(tmp_path), "unprotected_identifier")}


def test_raw_identifier_is_reported_at_the_first_model_only(tmp_path: Path) -> None:
    assert exposed(chain(), tmp_path) == {"staged": {"columns": ["email"]}}


def test_the_pseudonymized_column_is_protected_downstream_too(tmp_path: Path) -> None:
    builder = chain(f'select {pseudonym("email")} as person_key, zip from "db"."main"."raw"', macros=(PSEUDONYMIZE,))
    report = builder.check(tmp_path)
    assert findings(report, "unprotected_identifier") == []
    key = report.analysis.policies["model.demo.mart"].columns["person_key"]
    assert (key.column_class, key.protection, key.raw_identifier) == ("direct_identifier", "pseudonymized", False)


def test_pseudonymize_on_another_column_clears_nothing(tmp_path: Path) -> None:
    """The macro in depends_on used to clear the whole lineage."""
    builder = chain(f'select {pseudonym("zip")} as zip_key, email from "db"."main"."raw"', macros=(PSEUDONYMIZE,))
    assert exposed(builder, tmp_path) == {"staged": {"columns": ["email"]}}


def test_raw_identifier_next_to_its_pseudonym_is_still_exposed(tmp_path: Path) -> None:
    builder = chain(f'select {pseudonym("email")} as person_key, email from "db"."main"."raw"', macros=(PSEUDONYMIZE,))
    assert exposed(builder, tmp_path) == {"staged": {"columns": ["email"]}}


def test_pseudonymize_in_another_branch_clears_nothing(tmp_path: Path) -> None:
    sql = f"""
    with keyed as (select {pseudonym("email")} as person_key from "db"."main"."raw")
    select person_key from keyed
    union all
    select email from "db"."main"."raw"
    """
    assert exposed(chain(sql, macros=(PSEUDONYMIZE,)), tmp_path) == {"staged": {"columns": ["person_key"]}}


def test_an_aggregate_over_an_identifier_is_not_an_identifier(tmp_path: Path) -> None:
    sql = 'select zip, count(distinct email) as people, approx_count_distinct(email) as approx from "db"."main"."raw" group by zip'
    report = chain(sql).check(tmp_path)
    assert findings(report, "unprotected_identifier") == []
    assert set(report.analysis.policies["model.demo.staged"].columns) == {"zip"}


def test_a_test_on_an_identifier_is_not_one_but_a_test_on_a_quasi_identifier_still_is_one(tmp_path: Path) -> None:
    sql = """select email is not null as has_email, case when email like '%@x.org' then 'x' end as domain,
                    zip like '1%' as north, string_agg(email, ',') as emails
             from "db"."main"."raw" group by all"""
    report = chain(sql).check(tmp_path)
    assert exposed(chain(sql), tmp_path / "again") == {"staged": {"columns": ["emails"]}}  # string_agg keeps the values
    columns = report.analysis.policies["model.demo.staged"].columns
    assert {name: column.column_class for name, column in columns.items()} == {"north": "quasi_identifier", "emails": "direct_identifier"}


@pytest.mark.parametrize("hashed", ["sha256(email)", "md5(email)", "hash(email)", "md5(lower(trim(email)))", "sha256(email || 'salt')"])
def test_an_unkeyed_hash_is_no_pseudonym_even_when_declared_one(tmp_path: Path, hashed: str) -> None:
    builder = chain(f'select {hashed} as email_hash, zip from "db"."main"."raw"', staged_columns={"email_hash": {"protection": "pseudonymized"}})
    evidence = exposed(builder, tmp_path)
    assert evidence == {"staged": {"columns": ["email_hash"], "unkeyed_hash": ["email_hash"]}}


def test_a_keyed_pseudonym_of_a_hash_is_a_pseudonym(tmp_path: Path) -> None:
    builder = chain(f'select {pseudonym("md5(email)")} as person_key from "db"."main"."raw"')
    assert exposed(builder, tmp_path) == {}


def test_a_raw_column_declared_pseudonymized_is_flagged_where_the_sql_shows_it(tmp_path: Path) -> None:
    builder = chain(staged_columns={"email": {"protection": "pseudonymized"}})
    assert exposed(builder, tmp_path) == {"staged": {"columns": ["email"], "declared_pseudonymized_but_raw": ["email"]}}


def test_without_sql_the_declaration_and_the_macro_lineage_are_trusted(tmp_path: Path) -> None:
    """No compiled SQL: nothing shows which column the macro was applied to (a note says so)."""
    report = chain(None, macros=(PSEUDONYMIZE,)).check(tmp_path)
    assert findings(report, "unprotected_identifier") == []
    assert [(note.node, note.message.split(":")[0]) for note in report.analysis.notes] == [(None, "the manifest has no compiled SQL (dbt parse output, or a build that failed before compiling)")]
    declared = chain(None, staged_columns={"email": {"protection": "pseudonymized"}}).check(tmp_path)
    assert findings(declared, "unprotected_identifier") == []
    assert exposed(chain(None), tmp_path) == {"staged": {"columns": ["email"], "basis": "column names and declared protection (SQL not analysed)"}}


def test_an_identifier_renamed_in_sql_is_still_tracked(tmp_path: Path) -> None:
    builder = ManifestBuilder()
    raw = builder.node("raw", "seed", POLICY, {"email": {"class": "direct_identifier"}})
    builder.node("renamed", parents=(raw,), sql='select lower(email) as contact from "db"."main"."raw"')
    [finding] = findings(builder.check(tmp_path), "unprotected_identifier")
    assert finding.evidence == {"columns": ["contact"]}


def test_star_exclude_drops_the_identifier_and_replace_recomputes_it(tmp_path: Path) -> None:
    assert exposed(chain('select * exclude (email) from "db"."main"."raw"'), tmp_path / "exclude") == {}
    replaced = chain(f'select * replace ({pseudonym("email")} as email) from "db"."main"."raw"')
    report = replaced.check(tmp_path / "replace")
    assert findings(report, "unprotected_identifier") == []
    assert report.analysis.policies["model.demo.staged"].columns["email"].protection == "pseudonymized"
    assert exposed(chain('select * replace (sha256(email) as email) from "db"."main"."raw"'), tmp_path / "hash") == {
        "staged": {"columns": ["email"], "unkeyed_hash": ["email"]}
    }
