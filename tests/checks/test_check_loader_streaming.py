"""The streaming manifest reader (in batches of entries) gives exactly the whole-document parse's Manifest,
on every manifest fixture of the tests: the hand-written v1/v4/v7 files, builder-made manifests and
a real `dbt build`'s manifest; and it really streams them (no silent fallback)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from dbt_harness import shared_build
from manifest_builder import ManifestBuilder
from python_checks import loader
from test_check_rules_joins import two_departments

MANIFESTS = Path(__file__).resolve().parents[1] / "fixtures" / "manifests"


def assert_streaming_equals_whole(path: Path) -> None:
    streamed, whole = loader.load_manifest(path), loader.load_manifest(path, streaming=False)
    assert streamed == whole
    assert streamed.nodes and list(streamed.nodes) == list(whole.nodes)  # same entries, same order
    # ... and the streamed result came from the entry-by-entry reader, not from its fallback.
    collected: list[str] = []
    loader._read_split(path.read_bytes(), path, lambda section, unique_id, entry: collected.append(unique_id))
    assert set(streamed.nodes) | {test.unique_id for test in streamed.tests} <= set(collected)


@pytest.mark.parametrize("name", sorted(path.name for path in MANIFESTS.glob("*.json")))
def test_hand_written_manifests(name: str) -> None:
    assert_streaming_equals_whole(MANIFESTS / name)


def tricky_builder() -> ManifestBuilder:
    """A manifest whose strings look like the boundaries the streaming reader searches for."""
    builder = two_departments()
    builder.test("k_anonymity", "model.demo.combined")
    builder.exposure("dashboard", ("model.demo.combined",), {"purpose": "research"})
    builder.nodes["model.demo.combined"]["description"] = '}, "model.demo.fake": {"name": "fake"}} , "sources": {'
    builder.nodes["model.demo.combined"]["compiled_code"] += ' -- }}, "metadata": {}'
    return builder


@pytest.mark.parametrize("version", [12, 7, 4])
def test_builder_manifests(version: int, tmp_path: Path) -> None:
    path = tmp_path / "manifest.json"
    for indent in (None, 2):  # dbt writes compact JSON; editors and jq pretty-print it
        path.write_text(json.dumps(tricky_builder().document(version), indent=indent))
        assert_streaming_equals_whole(path)


def test_strings_that_look_like_an_entry_boundary_stay_inside_their_entry(tmp_path: Path) -> None:
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(tricky_builder().document()))
    manifest = loader.load_manifest(path)
    assert "model.demo.fake" not in manifest.nodes
    assert manifest.nodes["model.demo.combined"].compiled_code is not None and manifest.nodes["model.demo.combined"].compiled_code.endswith('-- }}, "metadata": {}')


@pytest.mark.dbt
def test_a_real_dbt_build_manifest(tmp_path_factory: pytest.TempPathFactory) -> None:
    project = shared_build(tmp_path_factory, "audit_project", expect_success=False).project_dir  # the build other modules share
    path = project / "target" / "manifest.json"
    document: dict[str, Any] = json.loads(path.read_text())
    assert len(document["nodes"]) > 5  # a real manifest, with models, seeds and tests
    assert_streaming_equals_whole(path)


@pytest.mark.parametrize(("batch_bytes", "an_end_inside_an_entry"), [(1000, True), (3000, False)])
def test_batches_of_entries_equal_the_whole_parse(batch_bytes: int, an_end_inside_an_entry: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Entries are parsed a batch at a time; where a batch's far end is not an entry's end (a dotted
    column name looks like the next entry's key), they are read entry by entry for a while."""
    builder = tricky_builder()
    for number in range(40):
        builder.node(f"m{number}", columns={"plain": None, "a.b": {"class": "quasi_identifier"}}, parents=("model.demo.combined",), sql="select 1")
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(builder.document()))
    sizes: list[int] = []
    parse = loader._entries_object

    def recording(view: memoryview, start: int, end: int) -> dict[str, Any] | None:
        found = parse(view, start, end)
        sizes.append(-1 if found is None else len(found))
        return found

    monkeypatch.setattr(loader, "_BATCH_BYTES", batch_bytes)
    monkeypatch.setattr(loader, "_entries_object", recording)
    assert_streaming_equals_whole(path)
    assert max(sizes) > 1  # batches of several entries were read
    assert (-1 in sizes) == an_end_inside_an_entry
