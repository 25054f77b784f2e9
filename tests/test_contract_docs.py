"""docs/meta-contract.md's tables are the schema rendered, not a hand-kept copy."""

from dbt_harness import REPO_ROOT

from python_checks import contract, contract_docs


def test_meta_contract_page_matches_schema() -> None:
    assert contract_docs.PAGE == REPO_ROOT / "docs" / "meta-contract.md"
    page = contract_docs.PAGE.read_text()
    assert contract_docs.render() in page, "run: .venv/bin/python -m python_checks.contract_docs"


def test_every_schema_key_is_documented() -> None:
    rendered = contract_docs.render()
    for kind in ("node", "column", "project"):
        for key in contract.definition(kind)["properties"]:
            assert f"`{key}`" in rendered, f"{kind} key {key} missing from the generated docs"
    for value in contract.enum_values("column_class") + contract.enum_values("sensitivity"):
        assert f"`{value}`" in rendered
