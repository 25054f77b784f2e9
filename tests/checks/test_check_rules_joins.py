"""cross_department_join, quasi_identifier_linkage, direct_identifier_join on hand-made manifests."""

from __future__ import annotations

from pathlib import Path

import pytest

from manifest_builder import ManifestBuilder, findings, pairs

QI = {"class": "quasi_identifier"}
EMAIL = {"class": "direct_identifier"}
JOIN_ON_EMAIL = 'select h.zip, h.sex, c.age from "db"."main"."hr" h join "db"."main"."clinic" c on h.email = c.email'


def two_departments(sql: str | None = JOIN_ON_EMAIL, combined: dict | None = None, key: dict | None = None) -> ManifestBuilder:
    """hr + clinic seeds, joined by `combined`, with a child below it."""
    builder = ManifestBuilder()
    policy = {"consent": ["research"], "retention": {"days": 365}}
    hr = builder.node("hr", "seed", {"department": "hr", **policy}, {"email": key or EMAIL, "zip": QI, "sex": QI})
    clinic = builder.node("clinic", "seed", {"department": "clinic", **policy}, {"email": key or EMAIL, "age": QI})
    joined = builder.node("combined", privacy=combined or {"purpose": "research"}, parents=(hr, clinic), sql=sql)
    builder.node("child", parents=(joined,), sql='select * from "db"."main"."combined"')
    return builder


AGREEMENT = {"id": "hr_clinic", "departments": ["hr", "clinic"], "purposes": ["research"], "expires": "2030-01-01"}


def test_combination_without_agreement_is_reported_once_at_the_meeting_point(tmp_path: Path) -> None:
    report = two_departments().check(tmp_path)
    assert pairs(report, "cross_department_join") == {("cross_department_join", "combined")}
    assert findings(report, "cross_department_join")[0].evidence["departments"] == ["clinic", "hr"]


def test_valid_agreement_clears_the_combination(tmp_path: Path) -> None:
    builder = two_departments(combined={"purpose": "research", "agreement": "hr_clinic"})
    assert pairs(builder.check(tmp_path, {"agreements": [AGREEMENT]}), "cross_department_join") == set()


def test_expired_uncovered_or_wrong_purpose_agreements_are_reported(tmp_path: Path) -> None:
    cases = {
        "expired on 2025-01-01": {**AGREEMENT, "expires": "2025-01-01"},
        "does not cover clinic": {**AGREEMENT, "departments": ["hr"]},
        "does not allow purpose 'research'": {**AGREEMENT, "purposes": ["billing"]},
    }
    for index, (reason, agreement) in enumerate(cases.items()):
        builder = two_departments(combined={"purpose": "research", "agreement": "hr_clinic"})
        found = findings(builder.check(tmp_path / str(index), {"agreements": [agreement]}), "cross_department_join")
        assert len(found) == 1 and reason in found[0].message, (reason, found)


def test_unknown_agreement_id_is_reported(tmp_path: Path) -> None:
    builder = two_departments(combined={"purpose": "research", "agreement": "nope"})
    [finding] = findings(builder.check(tmp_path, {"agreements": [AGREEMENT]}), "cross_department_join")
    assert "does not define" in finding.message


def test_three_quasi_identifiers_from_two_departments_are_linked(tmp_path: Path) -> None:
    [finding] = findings(two_departments().check(tmp_path), "quasi_identifier_linkage")
    assert finding.node == "model.demo.combined"
    assert finding.evidence["by_department"] == {"clinic": ["age"], "hr": ["sex", "zip"]}


def test_linkage_threshold_comes_from_the_rules_config(tmp_path: Path) -> None:
    report = two_departments().check(tmp_path, {"rules": {"quasi_identifier_linkage": {"threshold": 4}}})
    assert findings(report, "quasi_identifier_linkage") == []


def test_quasi_identifiers_of_one_department_only_are_not_linkage(tmp_path: Path) -> None:
    sql = 'select h.zip, h.sex, h.email from "db"."main"."hr" h join "db"."main"."clinic" c on h.email = c.email'
    assert findings(two_departments(sql).check(tmp_path), "quasi_identifier_linkage") == []


def test_k_anonymity_test_on_the_combined_model_guards_the_linkage(tmp_path: Path) -> None:
    builder = two_departments()
    builder.test("k_anonymity", "model.demo.combined")
    assert findings(builder.check(tmp_path), "quasi_identifier_linkage") == []


def test_join_on_a_raw_identifier_is_reported_with_both_columns(tmp_path: Path) -> None:
    [finding] = findings(two_departments().check(tmp_path), "direct_identifier_join")
    assert finding.evidence["columns"] == ["clinic.email", "hr.email"]
    assert finding.evidence["basis"] == "join condition"


def test_join_on_a_pseudonym_is_fine(tmp_path: Path) -> None:
    key = {"class": "direct_identifier", "protection": "pseudonymized"}
    assert findings(two_departments(key=key).check(tmp_path), "direct_identifier_join") == []


def test_join_on_a_non_identifier_is_fine(tmp_path: Path) -> None:
    sql = 'select h.zip, h.sex, c.age from "db"."main"."hr" h join "db"."main"."clinic" c on h.zip = c.zip'
    assert findings(two_departments(sql).check(tmp_path), "direct_identifier_join") == []


def test_without_sql_shared_identifier_names_are_the_evidence(tmp_path: Path) -> None:
    [finding] = findings(two_departments(sql=None).check(tmp_path), "direct_identifier_join")
    assert finding.evidence["columns"] == ["email"] and "shared column names" in finding.evidence["basis"]


def test_edges_into_the_meeting_point_are_cross_department_and_flagged(tmp_path: Path) -> None:
    edges = {(e["source"].rsplit(".", 1)[-1], e["target"].rsplit(".", 1)[-1]): e for e in two_departments().check(tmp_path).to_document()["edges"]}
    assert edges["hr", "combined"]["cross_department"] and edges["hr", "combined"]["flagged"]
    assert edges["hr", "combined"]["join_columns"] == ["email"]
    assert not edges["combined", "child"]["cross_department"]


def test_measured_uniqueness_decides_with_a_database(tmp_path: Path) -> None:
    import duckdb

    database = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(database)) as connection:
        connection.execute("create table main.combined (zip varchar, sex varchar, age integer)")
        # Two classes of 2 and one of 1 over (age, sex, zip): with k 2, one row in one small class.
        connection.execute("insert into main.combined values ('1','F',30),('1','F',30),('2','M',40),('2','M',40),('3','F',50)")
    settings = {"default_k": 2}
    [finding] = findings(two_departments().check(tmp_path / "small", settings, database=database), "quasi_identifier_linkage")
    assert (finding.evidence["k"], finding.evidence["rows_in_small_classes"], finding.evidence["small_classes"]) == (2, 1, 1)
    # Measured risk over the combined QIs, worked out by hand: classes of 2, 2 and 1 among 5 rows.
    assert (finding.evidence["max_risk"], finding.evidence["average_risk"], finding.evidence["sample_uniques"], finding.evidence["records_at_risk"]) == (1.0, 3 / 5, 1, 1)
    with duckdb.connect(str(database)) as connection:
        connection.execute("delete from main.combined where zip = '3'")
    assert findings(two_departments().check(tmp_path / "large", settings, database=database), "quasi_identifier_linkage") == []


def test_measured_uniqueness_counts_people_with_a_privacy_unit(tmp_path: Path) -> None:
    import duckdb

    database = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(database)) as connection:
        connection.execute("create table main.combined (pid varchar, zip varchar, sex varchar, age integer)")
        # Two classes of 2 rows: one of 2 people, one of a single person seen twice.
        connection.execute("insert into main.combined values ('a','1','F',30),('b','1','F',30),('c','2','M',40),('c','2','M',40)")
    builder = two_departments(combined={"purpose": "research", "privacy_unit": "pid"})
    [finding] = findings(builder.check(tmp_path / "people", {"default_k": 2}, database=database), "quasi_identifier_linkage")
    assert (finding.evidence["k"], finding.evidence["rows_in_small_classes"], finding.evidence["small_classes"]) == (2, 2, 1)
    # People, not rows: person c alone in a class of 2 rows is a sample unique (risk 1); a and b share risk 1/2.
    assert (finding.evidence["max_risk"], finding.evidence["average_risk"], finding.evidence["sample_uniques"], finding.evidence["records_at_risk"]) == (1.0, (0.5 + 0.5 + 1) / 3, 1, 1)


def test_measured_uniqueness_counts_a_null_unit_as_nobody(tmp_path: Path) -> None:
    """The package's rule for a NULL privacy unit: it adds nobody to a class and is a record of its own."""
    import duckdb

    database = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(database)) as connection:
        connection.execute("create table main.combined (pid varchar, zip varchar, sex varchar, age integer)")
        # (1,F,30): a, b and a NULL -- 2 people; (2,M,40): c and a NULL -- 1 person (2 if NULL were one);
        # (3,F,50): two NULLs -- nobody.
        connection.execute(
            "insert into main.combined values ('a','1','F',30),('b','1','F',30),(null,'1','F',30),"
            "('c','2','M',40),(null,'2','M',40),(null,'3','F',50),(null,'3','F',50)"
        )
    builder = two_departments(combined={"purpose": "research", "privacy_unit": "pid"})
    [finding] = findings(builder.check(tmp_path / "people", {"default_k": 2}, database=database), "quasi_identifier_linkage")
    assert (finding.evidence["k"], finding.evidence["rows_in_small_classes"], finding.evidence["small_classes"]) == (2, 4, 2)
    # Records: a, b, c and the 4 NULL rows. Risks by hand: 1/2 for a, b and the NULL row with them;
    # 1 for c and its NULL row (class of 1 person) and for both rows of the class of nobody.
    assert (finding.evidence["max_risk"], finding.evidence["average_risk"], finding.evidence["sample_uniques"], finding.evidence["records_at_risk"]) == (
        1.0, pytest.approx((3 * 0.5 + 4 * 1.0) / 7, rel=1e-12), 4, 4,
    )


HR, CLINIC = '"db"."main"."hr"', '"db"."main"."clinic"'


def pseudonym(column: str) -> str:
    """What `{{ privacy_guard.pseudonymize(column) }}` compiles to on DuckDB."""
    return f"privacy_guard_hmac_sha256(cast({column} as varchar))"


#: Every way SQL matches hr's rows with clinic's on the raw e-mail.
RAW_EMAIL_JOINS = {
    "in": f"select h.zip from {HR} h where h.email in (select email from {CLINIC})",
    "exists": f"select h.zip from {HR} h where exists (select 1 from {CLINIC} c where c.email = h.email)",
    "scalar": f"select h.zip, (select max(c.age) from {CLINIC} c where c.email = h.email) as age from {HR} h",
    "any": f"select h.zip from {HR} h where h.email = any(select email from {CLINIC})",
    "lateral": f"select h.zip, x.age from {HR} h, lateral (select c.age from {CLINIC} c where c.email = h.email) x",
    "semi": f"select h.zip from {HR} h semi join {CLINIC} c on h.email = c.email",
    "anti": f"select h.zip from {HR} h anti join {CLINIC} c on h.email = c.email",
    "intersect": f"select email from {HR} intersect select email from {CLINIC}",
    "except": f"select email from {HR} except select email from {CLINIC}",
    "union": f"select email, 'hr' as origin from {HR} union all select email, 'clinic' from {CLINIC}",
    "union_star": f"select * from {HR} union all by name select * from {CLINIC}",
    "natural": f"select h.zip from {HR} h natural join (select email, age from {CLINIC}) c",
    "using": f"select zip from {HR} join {CLINIC} using (email)",
    "comma_lower": f"select h.zip from {HR} h, {CLINIC} c where lower(trim(h.email)) = lower(c.email)",
    "cte": f"with matched as (select h.zip from {HR} h join {CLINIC} c on h.email = c.email) select * from matched",
    "md5": f"select h.zip from {HR} h join {CLINIC} c on md5(h.email) = md5(c.email)",
}


def test_every_way_of_matching_rows_on_a_raw_identifier_is_a_direct_identifier_join(tmp_path: Path) -> None:
    flagged = {}
    for name, sql in RAW_EMAIL_JOINS.items():
        found = findings(two_departments(sql).check(tmp_path / name), "direct_identifier_join")
        flagged[name] = [(f.node, f.evidence["columns"]) for f in found]
    assert flagged == dict.fromkeys(RAW_EMAIL_JOINS, [("model.demo.combined", ["clinic.email", "hr.email"])])


def test_inline_pseudonyms_on_both_sides_are_a_pseudonym_join(tmp_path: Path) -> None:
    sql = f"select h.zip from {HR} h join {CLINIC} c on {pseudonym('h.email')} = {pseudonym('c.email')}"
    report = two_departments(sql).check(tmp_path)
    assert pairs(report) & {("direct_identifier_join", "combined"), ("join_key_linkage", "combined")} == set()
    assert pairs(report, "cross_department_join") == {("cross_department_join", "combined")}  # still a combination


LINKED_ON_QIS = f"select h.email from {HR} h join {CLINIC} c on h.zip = c.zip and h.sex = c.sex"


def test_matching_departments_on_quasi_identifiers_is_linkage_whatever_the_output_and_agreement(tmp_path: Path) -> None:
    builder = two_departments(LINKED_ON_QIS, combined={"purpose": "research", "agreement": "hr_clinic"})
    builder.test("k_anonymity", "model.demo.combined")
    report = builder.check(tmp_path, {"agreements": [AGREEMENT]})
    [finding] = findings(report, "join_key_linkage")
    assert finding.node == "model.demo.combined" and finding.severity == "error"
    assert finding.evidence == {"columns": ["hr.sex", "hr.zip"], "departments": ["clinic", "hr"], "joins": ["inner"], "threshold": 2}
    assert pairs(report, "cross_department_join") == set()  # the agreement covers the combination, not the linkage


def test_join_key_linkage_in_subqueries_set_operations_and_natural_joins(tmp_path: Path) -> None:
    cases = {
        "in": f"select h.email from {HR} h where (h.zip, h.sex) in (select zip, sex from {CLINIC})",
        "intersect": f"select zip, sex from {HR} intersect select zip, sex from {CLINIC}",
        # One compared column per side, `*`: expanded to each node's classed columns, quasi-identifiers among them.
        "intersect_star": f"select * from {HR} intersect select * from {CLINIC}",
        "natural": f"select h.email from (select zip, sex, email from {HR}) h natural join (select zip, sex from {CLINIC}) c",
        "pseudonymized_qis": f"select h.email from {HR} h join {CLINIC} c on {pseudonym('h.zip')} = {pseudonym('c.zip')} and h.sex = c.sex",
    }
    found = {name: [f.evidence["columns"] for f in findings(two_departments(sql).check(tmp_path / name), "join_key_linkage")] for name, sql in cases.items()}
    assert found == {**dict.fromkeys(cases, [["hr.sex", "hr.zip"]]), "intersect_star": [["clinic.age", "hr.sex", "hr.zip"]]}


def test_one_quasi_identifier_or_a_pseudonym_key_is_below_the_linkage_threshold(tmp_path: Path) -> None:
    one = f"select h.email from {HR} h join {CLINIC} c on h.zip = c.zip"
    assert findings(two_departments(one).check(tmp_path / "one"), "join_key_linkage") == []
    key = {"class": "direct_identifier", "protection": "pseudonymized"}
    assert findings(two_departments(key=key).check(tmp_path / "key"), "join_key_linkage") == []
    raised = two_departments(LINKED_ON_QIS).check(tmp_path / "raised", {"rules": {"join_key_linkage": {"threshold": 3}}})
    assert findings(raised, "join_key_linkage") == []


def test_a_self_join_of_one_department_is_no_linkage(tmp_path: Path) -> None:
    sql = f"select a.email from {HR} a join {HR} b on a.zip = b.zip and a.sex = b.sex"
    assert findings(two_departments(sql).check(tmp_path), "join_key_linkage") == []


def test_natural_join_keys_include_columns_a_parent_inherits_without_documenting_them(tmp_path: Path) -> None:
    """hr_view documents no column: its e-mail is known from what reaches it, not from its YAML."""
    builder = two_departments(f"select count(*) as matched from {HR.replace('hr', 'hr_view')} natural join {CLINIC}")
    hr_view = builder.node("hr_view", parents=("seed.demo.hr",), sql=f"select * from {HR}")
    builder.nodes["model.demo.combined"]["depends_on"]["nodes"] = [hr_view, "seed.demo.clinic"]
    report = builder.check(tmp_path)
    [finding] = findings(report, "direct_identifier_join")
    assert finding.evidence["columns"] == ["clinic.email", "hr_view.email"]
    [join] = report.analysis.sql["model.demo.combined"].joins
    assert {column for _, column, _ in join.columns} == {"email"}  # zip/sex/age are not on both sides
    assert report.analysis.notes == []
