"""cross_department_join, quasi_identifier_linkage, direct_identifier_join on hand-made manifests."""

from __future__ import annotations

from pathlib import Path

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
