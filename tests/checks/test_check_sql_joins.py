"""Join analysis of compiled SQL: which relations are joined on which columns, through CTEs."""

from __future__ import annotations

from python_checks.sql_joins import RelationIndex, analyze


def index(*names: str, ephemeral: tuple[str, ...] = ()) -> RelationIndex:
    parents = [(f"model.p.{name}", f'"db"."main"."{name}"', ("db", "main", name), False, name) for name in names]
    parents += [(f"model.p.{name}", None, ("db", "main", name), True, name) for name in ephemeral]
    return RelationIndex(parents)


def test_join_columns_through_a_cte_with_renames() -> None:
    sql = """
    with people as (select email as contact, zip from "db"."main"."hr")
    select p.zip, c.age from people p join main.clinic c on lower(p.contact) = c.patient_email
    """
    resolved = index("hr", "clinic").resolve(analyze(sql, "duckdb"))
    [join] = resolved.joins
    assert join.left_columns == {("model.p.hr", "email")}
    assert join.right_columns == {("model.p.clinic", "patient_email")}
    assert resolved.outputs == {"zip": {("model.p.hr", "zip")}, "age": {("model.p.clinic", "age")}}


def test_ephemeral_cte_maps_back_to_its_model() -> None:
    sql = """
    with __dbt__cte__eph as (select email from "db"."main"."raw")
    select e.email from __dbt__cte__eph e join "db"."main"."crm" c on e.email = c.email
    """
    resolved = index("crm", ephemeral=("eph",)).resolve(analyze(sql, "duckdb"))
    assert resolved.joins[0].columns == {("model.p.eph", "email"), ("model.p.crm", "email")}


def test_cross_join_comma_join_and_using() -> None:
    cross = analyze('select * from "db"."main"."a" cross join "db"."main"."b"', "duckdb")
    assert [(j.kind, j.has_condition) for j in cross.joins] == [("cross", False)]
    assert cross.passthrough == {"db.main.a", "db.main.b"}
    implicit = analyze("select a.x from main.a a, main.b b where a.id = b.id", "duckdb")
    assert [(j.kind, j.left_columns, j.right_columns) for j in implicit.joins] == [("inner", {("main.a", "id")}, {("main.b", "id")})]
    using = analyze("select * from main.a left join main.b using (person_key)", "postgres")
    assert using.joins[0].kind == "left"
    assert using.joins[0].left_columns == {("main.a", "person_key")} and using.joins[0].right_columns == {("main.b", "person_key")}


def test_unparsable_sql_is_a_note() -> None:
    broken = analyze("select from from where", "duckdb")
    assert broken.note is not None and broken.note.startswith("SQL not analysed (duckdb dialect)")
    assert broken.joins == ()


def test_relation_suffix_shared_by_two_parents_maps_to_nobody() -> None:
    relations = RelationIndex([("model.p.a", '"db"."x"."t"', (), False, "t"), ("model.p.b", '"db"."y"."t"', (), False, "t")])
    assert relations.node("db.x.t") == "model.p.a" and relations.node("y.t") == "model.p.b"
    assert relations.node("t") is None


def test_tsql_brackets_resolve() -> None:
    resolved = RelationIndex([("model.p.o", "[db].[dbo].[orders]", (), False, "orders")]).resolve(
        analyze("select top 5 o.id from [db].[dbo].[orders] o", "tsql")
    )
    assert resolved.outputs == {"id": {("model.p.o", "id")}}


def test_star_exclude_drops_helper_columns() -> None:
    """The suppression macros count class sizes in a helper column and `* exclude` it again."""
    sql = """
    with sized as (select age_band, zip, count(*) over (partition by age_band, zip) as class_size from "db"."main"."hr")
    select * exclude (class_size) from sized
    """
    resolved = index("hr").resolve(analyze(sql, "duckdb"))
    assert resolved.outputs == {"age_band": {("model.p.hr", "age_band")}, "zip": {("model.p.hr", "zip")}}
