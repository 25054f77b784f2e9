"""Where a node is declared: the YAML line of its entry, found by name through an index built once
per file. The expected lines are counted in the YAML text below, not computed by the code under test."""

from __future__ import annotations

from pathlib import Path

from manifest_builder import ManifestBuilder

from python_checks.declarations import declaration
from python_checks.loader import load_manifest

SCHEMA_YML = """\
version: 2
models:
  - name: orders
  - name: customers
  - name: orders
sources:
  - name: app
    tables:
      - name: users
      - name: users
  - name: app
    tables:
      - name: events
seeds:
  - name: customers
"""


def test_the_first_entry_of_each_name_declares_the_node(tmp_path: Path) -> None:
    builder = ManifestBuilder()
    for name in ("orders", "customers", "missing"):
        builder.node(name)
    builder.node("customers", "seed")
    for table in ("users", "events"):
        source = builder.node(table, "source")
        builder.sources[f"source.demo.app.{table}"] = builder.sources.pop(source) | {"unique_id": f"source.demo.app.{table}"}
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "schema.yml").write_text(SCHEMA_YML)
    nodes = load_manifest(builder.write(tmp_path)).nodes
    located = {unique_id: str(declaration(node, tmp_path)) for unique_id, node in nodes.items()}
    assert located == {
        "model.demo.orders": "models/schema.yml:3",  # the first of two `orders` entries
        "model.demo.customers": "models/schema.yml:4",  # the models' entry, not the seeds'
        "model.demo.missing": "models/schema.yml:1",  # declared nowhere in its YAML
        "seed.demo.customers": "models/schema.yml:15",
        "source.demo.app.users": "models/schema.yml:9",
        # `events` is a table of the second `app` block: a search by source name finds the first.
        "source.demo.app.events": "models/schema.yml:1",
    }
