"""Policy propagation: what a node inherits from its parents, column by column."""

from __future__ import annotations

from pathlib import Path

from manifest_builder import ManifestBuilder


def test_merged_column_hierarchy_does_not_depend_on_parent_order(tmp_path: Path) -> None:
    """Two parents bring `zip` of the same class; only one names its hierarchy."""
    documents = []
    for order in ((0, 1), (1, 0)):
        builder = ManifestBuilder()
        parents = [
            builder.node("hr", "seed", {"department": "hr"}, {"zip": {"class": "quasi_identifier", "hierarchy": "hierarchy_zip"}}),
            builder.node("sales", "seed", {"department": "sales"}, {"zip": {"class": "quasi_identifier"}}),
        ]
        builder.node("combined", parents=tuple(parents[i] for i in order))
        directory = tmp_path / "".join(map(str, order))
        directory.mkdir()
        documents.append(builder.check(directory).to_document()["nodes"]["model.demo.combined"]["columns"]["zip"])
    assert documents[0] == documents[1]
    assert documents[0]["hierarchy"] == "hierarchy_zip"
