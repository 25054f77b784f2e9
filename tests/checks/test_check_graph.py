"""The lineage graph: order, upstream/downstream walks, cycles as bad input."""

from __future__ import annotations

from pathlib import Path

import pytest
from manifest_builder import ManifestBuilder

from python_checks.graph import Lineage
from python_checks.loader import ArtifactError, load_manifest


def diamond(tmp_path: Path) -> Lineage:
    builder = ManifestBuilder()
    source = builder.node("events", "source")
    left = builder.node("left", parents=(source,))
    right = builder.node("right", parents=(source, source))
    joined = builder.node("joined", parents=(left, right))
    builder.node("dashboard", "exposure", parents=(joined,))
    return Lineage(load_manifest(builder.write(tmp_path)))


def test_order_upstream_and_downstream(tmp_path: Path) -> None:
    lineage = diamond(tmp_path)
    order = lineage.order
    assert order.index("source.demo.events") < order.index("model.demo.left") < order.index("model.demo.joined") < order.index("exposure.demo.dashboard")
    assert lineage.parents["model.demo.right"] == ("source.demo.events",)  # a repeated parent counts once
    # (a parent missing from the manifest is refused by the loader: tests/checks/test_hostile_inputs.py)
    assert set(lineage.upstream("exposure.demo.dashboard")) == {"model.demo.joined", "model.demo.left", "model.demo.right", "source.demo.events"}
    assert lineage.upstream("exposure.demo.dashboard")[0] == "model.demo.joined"  # nearest first
    assert set(lineage.downstream("source.demo.events")) == {"model.demo.left", "model.demo.right", "model.demo.joined", "exposure.demo.dashboard"}
    assert len(list(lineage.edges())) == 5


def test_a_cycle_is_bad_input(tmp_path: Path) -> None:
    builder = ManifestBuilder()
    builder.node("a", parents=("model.demo.b",))
    builder.node("b", parents=("model.demo.a",))
    with pytest.raises(ArtifactError, match="lineage has a cycle"):
        Lineage(load_manifest(builder.write(tmp_path)))

