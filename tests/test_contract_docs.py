"""The rendered meta contract documents every key and enum value of the schema (that docs/meta-contract.md
holds this rendering is tests/test_docs_pages.py's job)."""

from python_checks import contract, contract_docs


def test_every_schema_key_is_documented() -> None:
    rendered = contract_docs.render()
    for kind in ("node", "column", "project"):
        for key in contract.definition(kind)["properties"]:
            assert f"`{key}`" in rendered, f"{kind} key {key} missing from the generated docs"
    for value in contract.enum_values("column_class") + contract.enum_values("sensitivity"):
        assert f"`{value}`" in rendered
