"""Join analysis of compiled SQL: which relations are joined on which columns, through CTEs."""

from __future__ import annotations

from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path

import sqlglot.parser
import sqlglot.tokenizer_core

from python_checks.sql_joins import analyze
from python_checks.sql_model import COUNTED, PSEUDONYM, RAW, TESTED, UNKEYED_HASH, RelationIndex, relation_keys

REPO = Path(__file__).resolve().parents[2]


def index(*names: str, ephemeral: tuple[str, ...] = ()) -> RelationIndex:
    parents = [(f"model.p.{name}", relation_keys(f'"db"."main"."{name}"', ("db", "main", name), False, name)) for name in names]
    parents += [(f"model.p.{name}", relation_keys(None, ("db", "main", name), True, name)) for name in ephemeral]
    return RelationIndex(parents)


def test_sql_is_parsed_by_the_compiled_sqlglot() -> None:
    # pyproject declares sqlglot[c]: without sqlglotc the analysis is ~4x slower (docs/benchmarks.md).
    assert [str(module.__file__).endswith(tuple(EXTENSION_SUFFIXES)) for module in (sqlglot.parser, sqlglot.tokenizer_core)] == [True, True]


def test_join_columns_through_a_cte_with_renames() -> None:
    sql = """
    with people as (select email as contact, zip from "db"."main"."hr")
    select p.zip, c.age from people p join main.clinic c on lower(p.contact) = c.patient_email
    """
    resolved = index("hr", "clinic").resolve(analyze(sql, "duckdb"))
    [join] = resolved.joins
    assert join.left_columns == {("model.p.hr", "email", RAW)}
    assert join.right_columns == {("model.p.clinic", "patient_email", RAW)}
    assert resolved.outputs == {"zip": {("model.p.hr", "zip", RAW)}, "age": {("model.p.clinic", "age", RAW)}}


def test_ephemeral_cte_maps_back_to_its_model() -> None:
    sql = """
    with __dbt__cte__eph as (select email from "db"."main"."raw")
    select e.email from __dbt__cte__eph e join "db"."main"."crm" c on e.email = c.email
    """
    analysis = analyze(sql, "duckdb")
    resolved = index("crm", ephemeral=("eph",)).resolve(analysis)
    assert resolved.joins[0].columns == {("model.p.eph", "email", RAW), ("model.p.crm", "email", RAW)}
    # The ephemeral body is the ephemeral model's own SQL: its tables are not read by this model.
    assert analysis.relations == {"db.main.crm"}


def test_cross_join_comma_join_and_using() -> None:
    cross = analyze('select * from "db"."main"."a" cross join "db"."main"."b"', "duckdb")
    assert [(j.kind, j.has_condition) for j in cross.joins] == [("cross", False)]
    assert cross.passthrough == {"db.main.a", "db.main.b"}
    implicit = analyze("select a.x from main.a a, main.b b where a.id = b.id", "duckdb")
    assert [(j.kind, j.left_columns, j.right_columns) for j in implicit.joins] == [("inner", {("main.a", "id", RAW)}, {("main.b", "id", RAW)})]
    using = analyze("select * from main.a left join main.b using (person_key)", "postgres")
    assert using.joins[0].kind == "left"
    assert using.joins[0].left_columns == {("main.a", "person_key", RAW)} and using.joins[0].right_columns == {("main.b", "person_key", RAW)}


def test_unparsable_sql_is_a_note() -> None:
    broken = analyze("select from from where", "duckdb")
    assert broken.note is not None and broken.note.startswith("SQL not analysed (duckdb dialect)")
    assert broken.joins == ()


def test_relation_suffix_shared_by_two_parents_maps_to_nobody() -> None:
    relations = RelationIndex([("model.p.a", relation_keys('"db"."x"."t"', (), False, "t")), ("model.p.b", relation_keys('"db"."y"."t"', (), False, "t"))])
    assert relations.node("db.x.t") == "model.p.a" and relations.node("y.t") == "model.p.b"
    assert relations.node("t") is None


def test_tsql_brackets_resolve() -> None:
    resolved = RelationIndex([("model.p.o", relation_keys("[db].[dbo].[orders]", (), False, "orders"))]).resolve(
        analyze("select top 5 o.id from [db].[dbo].[orders] o", "tsql")
    )
    assert resolved.outputs == {"id": {("model.p.o", "id", RAW)}}


def test_star_exclude_drops_helper_columns() -> None:
    """The suppression macros count class sizes in a helper column and `* exclude` it again."""
    sql = """
    with sized as (select age_band, zip, count(*) over (partition by age_band, zip) as class_size from "db"."main"."hr")
    select * exclude (class_size) from sized
    """
    resolved = index("hr").resolve(analyze(sql, "duckdb"))
    assert resolved.outputs == {"age_band": {("model.p.hr", "age_band", RAW)}, "zip": {("model.p.hr", "zip", RAW)}}


def test_pseudonymize_udf_name_is_the_plugins() -> None:
    from python_checks.duckdb_plugin import HMAC_FUNCTION
    from python_checks.sql_joins import PSEUDONYMIZE_FUNCTION

    assert PSEUDONYMIZE_FUNCTION == HMAC_FUNCTION


def vias(sql: str, dialect: str = "duckdb") -> dict[str, set[tuple[str, str, str]]]:
    return {name: set(origins) for name, origins in analyze(sql, dialect).outputs}


def test_postgres_pseudonymize_is_keyed_only_under_the_session_setting() -> None:
    from python_checks.sql_joins import POSTGRES_KEY_SETTING

    assert f"current_setting('{POSTGRES_KEY_SETTING}')" in (REPO / "macros" / "pseudonymization" / "pseudonymize.sql").read_text()
    outputs = vias(
        f"""
        select encode(hmac(cast(email as text), current_setting('{POSTGRES_KEY_SETTING}'), 'sha256'), 'hex') as person_key,
               encode(hmac(cast(email as text), 'a-key-anyone-reads-in-target', 'sha256'), 'hex') as literal_key,
               encode(hmac(cast(email as text), current_setting('other.key'), 'sha256'), 'hex') as other_setting,
               encode(hmac(cast(email as text), email, 'sha256'), 'hex') as self_keyed
        from main.hr
        """,
        "postgres",
    )
    assert outputs == {
        "person_key": {("main.hr", "email", PSEUDONYM)},
        "literal_key": {("main.hr", "email", UNKEYED_HASH)},
        "other_setting": {("main.hr", "email", UNKEYED_HASH)},
        "self_keyed": {("main.hr", "email", UNKEYED_HASH)},
    }


def test_wrappers_say_how_a_column_reaches_the_output() -> None:
    outputs = vias(
        """
        with keyed as (select privacy_guard_hmac_sha256(cast(email as varchar)) as person_key, email from main.hr)
        select person_key, lower(person_key) as lowered, md5(person_key) as rehashed, sha256(email) as hashed,
               hash(email) as hashed2, count(distinct email) as people, email,
               email is not null as has_email, case when email like '%@x.org' then 'x' else email end as domain
        from keyed
        """
    )
    assert outputs == {
        "person_key": {("main.hr", "email", PSEUDONYM)},
        "lowered": {("main.hr", "email", PSEUDONYM)},
        "rehashed": {("main.hr", "email", PSEUDONYM)},  # an unkeyed hash of a pseudonym is still keyed
        "hashed": {("main.hr", "email", UNKEYED_HASH)},
        "hashed2": {("main.hr", "email", UNKEYED_HASH)},
        "people": {("main.hr", "email", COUNTED)},
        "email": {("main.hr", "email", RAW)},
        "has_email": {("main.hr", "email", TESTED)},
        "domain": {("main.hr", "email", TESTED), ("main.hr", "email", RAW)},  # the ELSE outputs the value
    }


def test_set_operations_map_columns_by_position_not_by_name() -> None:
    analysis = analyze("select email, zip from main.sales union all select mail, postcode from main.support", "duckdb")
    assert {name: set(origins) for name, origins in analysis.outputs} == {
        "email": {("main.sales", "email", RAW), ("main.support", "mail", RAW)},
        "zip": {("main.sales", "zip", RAW), ("main.support", "postcode", RAW)},
    }  # no phantom `mail`/`postcode` columns
    [union] = analysis.joins
    assert (union.kind, union.left_relations, union.right_relations) == ("union", {"main.sales"}, {"main.support"})
    assert union.right_columns == {("main.support", "mail", RAW), ("main.support", "postcode", RAW)}
    kinds = [analyze(f"select a from main.x {operation} select b from main.y", "duckdb").joins[0].kind for operation in ("intersect", "except")]
    assert kinds == ["intersect", "except"]


def test_subqueries_that_match_rows_are_joins() -> None:
    cases = {
        "select a.zip from main.a a where a.email in (select b.email from main.b b)": ("in", "email", "email"),
        "select a.zip from main.a a where a.email not in (select email from main.b)": ("not_in", "email", "email"),
        "select a.zip from main.a a where exists (select 1 from main.b b where lower(b.mail) = lower(a.email))": ("exists", "email", "mail"),
        "select a.zip from main.a a where not exists (select 1 from main.b b where b.mail = a.email)": ("not_exists", "email", "mail"),
        "select a.zip, (select max(b.score) from main.b b where b.mail = a.email) as score from main.a a": ("scalar", "email", "mail"),
        "select zip from main.a semi join main.b on a.email = b.mail": ("semi", "email", "mail"),
        "select zip from main.a anti join main.b on a.email = b.mail": ("anti", "email", "mail"),
        "select a.zip from main.a a where a.email = any(select mail from main.b)": ("any", "email", "mail"),
        "select a.zip from main.a a where a.email <> all(select mail from main.b)": ("all", "email", "mail"),
    }
    for sql, (kind, left, right) in cases.items():
        [join] = analyze(sql, "duckdb").joins
        assert (join.kind, join.left_relations, join.right_relations) == (kind, {"main.a"}, {"main.b"}), sql
        assert (join.left_columns, join.right_columns) == ({("main.a", left, RAW)}, {("main.b", right, RAW)}), sql
    lateral = analyze("select a.zip, x.score from main.a a, lateral (select b.score from main.b b where b.mail = a.email) x", "duckdb")
    assert [(j.kind, j.left_columns, j.right_columns) for j in lateral.joins if j.has_condition] == [("lateral", {("main.a", "email", RAW)}, {("main.b", "mail", RAW)})]
    assert dict(lateral.outputs)["score"] == {("main.b", "score", RAW)}
    # An uncorrelated scalar subquery gives every row one value: no row-by-row match.
    assert analyze("select a.zip from main.a a where a.age > (select avg(age) from main.b)", "duckdb").joins == ()
    # `select *` over a SEMI JOIN outputs only the left side.
    assert analyze("select * from main.a semi join main.b on a.k = b.k", "duckdb").passthrough == {"main.a"}


def test_comma_join_with_functions_in_where() -> None:
    [join] = analyze("select x.k from main.a x, main.b y where lower(trim(x.email)) = lower(y.email) and x.k > 0", "duckdb").joins
    assert (join.kind, join.left_columns, join.right_columns) == ("inner", {("main.a", "email", RAW)}, {("main.b", "email", RAW)})


def test_where_equalities_are_join_keys_of_any_join() -> None:
    """A CROSS JOIN, `ON true` or a LEFT JOIN filtered in WHERE matches rows on the WHERE's columns."""
    for sql in (
        "select a.k from main.a a cross join main.b b where lower(a.email) = b.email",
        "select a.k from main.a a join main.b b on true where a.email = b.email",
        "select a.k from main.a a left join main.b b on a.k = b.k where a.email = b.email",
    ):
        [join] = analyze(sql, "duckdb").joins
        assert join.has_condition and ("main.a", "email", RAW) in join.left_columns and ("main.b", "email", RAW) in join.right_columns, sql


def test_inline_pseudonyms_on_both_sides_of_a_join() -> None:
    sql = "select a.zip from main.a a join main.b b on privacy_guard_hmac_sha256(cast(a.email as varchar)) = privacy_guard_hmac_sha256(cast(b.email as varchar))"
    [join] = analyze(sql, "duckdb").joins
    assert (join.left_columns, join.right_columns) == ({("main.a", "email", PSEUDONYM)}, {("main.b", "email", PSEUDONYM)})


def test_natural_join_keys_are_the_shared_names() -> None:
    sql = "select * from main.a natural join main.b"
    assert analyze(sql, "duckdb").needs_schema
    schema = (("main.a", frozenset({"email", "zip", "x"})), ("main.b", frozenset({"email", "zip", "y"})))
    [join] = analyze(sql, "duckdb", schema).joins
    assert (join.kind, join.has_condition) == ("natural", True)
    assert join.left_columns == {("main.a", "email", RAW), ("main.a", "zip", RAW)}
    assert join.right_columns == {("main.b", "email", RAW), ("main.b", "zip", RAW)}
    # Sides the SQL names itself need no schema.
    named = analyze("select * from (select email, q from main.a) a natural join (select email, r from main.b) b", "duckdb")
    assert not named.needs_schema and named.joins[0].left_columns == {("main.a", "email", RAW)}


def test_joins_inside_ctes_and_subqueries_are_found() -> None:
    sql = """
    with linked as (select s.zip from main.sales s join main.support t on s.email = t.email)
    select * from (select l.zip from linked l join main.hr h on l.zip = h.zip) deep
    """
    joins = analyze(sql, "duckdb").joins
    assert [(j.left_relations, j.right_relations) for j in joins] == [({"main.sales"}, {"main.support"}), ({"main.sales"}, {"main.hr"})]


def test_star_exclude_and_replace_take_names_out_of_a_table_passing_through() -> None:
    sql = """
    with trimmed as (select * exclude (email) replace (md5(phone) as phone) from main.people)
    select * from trimmed union all by name select * from main.people_archive
    """
    analysis = analyze(sql, "duckdb")
    assert not analysis.needs_schema and analysis.blind_spots == ()
    assert analysis.passthrough == {"main.people", "main.people_archive"}
    assert analysis.passthrough_excluded == (("main.people", frozenset({"email", "phone"})),)
    assert dict(analysis.outputs) == {"phone": {("main.people", "phone", UNKEYED_HASH)}}
    resolved = index("people", "people_archive").resolve(analyze(sql.replace("main.", '"db"."main".'), "duckdb"))
    assert resolved.passthrough_excluded == {"model.p.people": frozenset({"email", "phone"})}
    # A name one path excludes and another passes is not excluded.
    both = analyze("select * exclude (email) from main.people union all by name select * from main.people", "duckdb")
    assert both.passthrough_excluded == ()


def test_what_is_not_resolved_is_a_blind_spot_not_a_guess() -> None:
    pivot = analyze("select * from main.t pivot (sum(v) for k in ('a', 'b'))", "duckdb")
    assert pivot.blind_spots == ("PIVOT of main.t: its output columns are not resolved, every column of main.t is assumed to pass",)
    columns = analyze("select max(columns(*)) from main.t", "duckdb")
    assert len(columns.blind_spots) == 1 and columns.blind_spots[0].startswith("COLUMNS(...)")
    regex = "select columns('^e') from main.t"
    assert analyze(regex, "duckdb").needs_schema
    resolved = analyze(regex, "duckdb", (("main.t", frozenset({"email", "zip", "ein"})),))
    assert {name: set(origins) for name, origins in resolved.outputs} == {"email": {("main.t", "email", RAW)}, "ein": {("main.t", "ein", RAW)}}
    assert resolved.passthrough == frozenset() and resolved.blind_spots == ()
    assert analyze("select 1", "duckdb").relations == frozenset()
    assert analyze('with c as (select * from "db"."main"."x") select * from c join main.y on true', "duckdb").relations == {"db.main.x", "main.y"}
