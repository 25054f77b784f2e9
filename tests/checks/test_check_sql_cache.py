"""Incremental SQL analysis: the on-disk cache and the process pool, over a real `dbt build` of
tests/fixtures/verdicts_sql (every SQL construct the analyser reads, NATURAL JOIN included).

Whatever the cache holds (nothing, everything, garbage, another analyser's entries) and however
many processes analyse, the JSON report must be byte-identical to a serial run without cache; the
count of models analysed in a run says whether the cache was used.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from dbt_harness import DbtResult, dbt, shared_build

from python_checks import sql_cache
from python_checks.check import run_check
from python_checks.cli import main
from python_checks.formatters.json import render
from python_checks.sql_joins import analyze
from python_checks.sql_model import RelationIndex, SqlAnalysis

pytestmark = pytest.mark.dbt

AS_OF = dt.date(2026, 1, 15)
KEY = {"PRIVACY_GUARD_KEY": "verdicts-sql-fixture-key-0123456789"}
PLUGIN = "plugins:\n  - module: python_checks.duckdb_plugin"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> DbtResult:
    # Same build as test_check_verdicts_sql (shared per session).
    return shared_build(tmp_path_factory, "verdicts_sql", PLUGIN, KEY, prepare=lambda project: dbt(project, "seed", env=KEY, check=True))


@pytest.fixture()
def manifest(built: DbtResult, tmp_path: Path) -> Path:
    """A private copy of the manifest (tests edit it) in a target/ of their own."""
    target = tmp_path / "target"
    target.mkdir()
    return Path(shutil.copy(built.project_dir / "target" / "manifest.json", target / "manifest.json"))


def sql_models(manifest: Path) -> dict[str, str]:
    """Straight from the manifest JSON: the models whose compiled SQL the check must analyse."""
    nodes = json.loads(manifest.read_text())["nodes"]
    return {
        unique_id: node["compiled_code"]
        for unique_id, node in nodes.items()
        if node["resource_type"] in ("model", "snapshot") and node.get("compiled_code") and node.get("language", "sql") == "sql"
    }


def checked(manifest: Path, cache_dir: Path | None, jobs: int | None = 1) -> tuple[str, int]:
    """The JSON report and how many models this run analysed."""
    report = run_check(manifest, project_dir=manifest.parent, as_of=AS_OF, cache_dir=cache_dir, jobs=jobs)
    return render(report), report.analysis.sql_analysed


@pytest.fixture()
def serial(manifest: Path) -> str:
    document, analysed = checked(manifest, None)
    assert analysed == len(sql_models(manifest))
    return document


def _never() -> SqlAnalysis:
    raise AssertionError("a valid entry is not analysed again")


def test_a_cached_analysis_resolves_as_the_analysis_does(manifest: Path) -> None:
    models = sql_models(manifest)
    assert len(models) > 30
    origins_per_output: set[int] = set()
    for sql in models.values():
        analysis = analyze(sql, "duckdb")
        cached = sql_cache.CachedAnalysis(json.loads(json.dumps(sql_cache.encode(analysis))), redo=_never)
        assert (cached.relations, cached.needs_schema) == (analysis.relations, analysis.needs_schema)
        relations = sorted(analysis.relations)
        # Every relation a parent, then every other one (the origins of the others are dropped).
        for parents in (relations, relations[::2]):
            index = RelationIndex((f"model.p.{key}", (key,)) for key in parents)
            assert cached.resolve(index) == index.resolve(analysis)
        origins_per_output.update(len(origins) for _, origins in analysis.outputs)
    assert {0, 1, 2} <= origins_per_output  # both ways of decoding the outputs were compared


def test_cold_parallel_and_warm_runs_are_byte_identical_to_serial(manifest: Path, serial: str, tmp_path: Path) -> None:
    cache_dir = tmp_path / "cache"
    cold, analysed_cold = checked(manifest, cache_dir, jobs=2)
    assert (analysed_cold, cold) == (len(sql_models(manifest)), serial)
    assert (cache_dir / sql_cache.FILE_NAME).is_file()
    warm, analysed_warm = checked(manifest, cache_dir)
    assert (analysed_warm, warm) == (0, serial)
    parallel_no_cache, _ = checked(manifest, None, jobs=2)
    assert parallel_no_cache == serial


def test_one_changed_model_is_the_only_one_analysed(manifest: Path, tmp_path: Path) -> None:
    cache_dir = tmp_path / "cache"
    checked(manifest, cache_dir)
    document = json.loads(manifest.read_text())
    changed = sorted(sql_models(manifest))[0]
    document["nodes"][changed]["compiled_code"] += "\n-- edited in this pull request\n"
    manifest.write_text(json.dumps(document))
    reference, _ = checked(manifest, None)
    incremental, analysed = checked(manifest, cache_dir)
    assert (analysed, incremental) == (1, reference)
    assert checked(manifest, cache_dir)[1] == 0


def _flip_last_byte(data: bytes) -> bytes:
    return data[:-1] + bytes([data[-1] ^ 0x01])


def _forged(data: bytes, entry: Callable[[list[Any]], list[Any]] = lambda _: ["not", "an", "analysis"]) -> bytes:
    """A well-formed file with a valid checksum whose entries are not analyses."""
    header, _, payload = data.partition(b"\n")
    entries = {key: entry(value) for key, value in json.loads(payload).items()}
    body = json.dumps(entries).encode()
    fields = json.loads(header) | {"bytes": len(body), "sha256": hashlib.sha256(body).hexdigest()}
    return json.dumps(fields).encode() + b"\n" + body


DAMAGE = {
    "flipped_byte": _flip_last_byte,
    "truncated": lambda data: data[: len(data) // 2],
    "empty": lambda data: b"",
    "foreign_json": lambda data: b'{"format": "something_else"}\n{}',
    "binary_garbage": lambda data: bytes(range(256)) * 4,
    "forged_entries": _forged,
    # The right shape, wrong types: an origin of numbers, an origin of two parts, a relation that is a number.
    "forged_origin_types": lambda data: _forged(data, lambda entry: [entry[0], [["x", [[1, 2, 3]]]], *entry[2:]]),
    "forged_origin_length": lambda data: _forged(data, lambda entry: [entry[0], [["x", [["a", "b"]]]], *entry[2:]]),
    "forged_relation_types": lambda data: _forged(data, lambda entry: [*entry[:5], [7], *entry[6:]]),
}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_damaged_cache_is_ignored_and_replaced(manifest: Path, serial: str, tmp_path: Path, damage: str) -> None:
    cache_dir = tmp_path / "cache"
    checked(manifest, cache_dir)
    cache_file = cache_dir / sql_cache.FILE_NAME
    cache_file.write_bytes(DAMAGE[damage](cache_file.read_bytes()))
    document, analysed = checked(manifest, cache_dir)
    assert (analysed, document) == (len(sql_models(manifest)), serial)
    assert checked(manifest, cache_dir)[1] == 0  # replaced by a valid file


def test_another_analyser_version_is_not_trusted(manifest: Path, serial: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache_dir = tmp_path / "cache"
    checked(manifest, cache_dir)
    monkeypatch.setattr(sql_cache, "analyser_version", lambda: "0.0.0+sqlglot0+0000000000000000")
    document, analysed = checked(manifest, cache_dir)
    assert (analysed, document) == (len(sql_models(manifest)), serial)
    assert checked(manifest, cache_dir)[1] == 0


def test_cli_cache_folder_and_no_cache(manifest: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = ["check", "--manifest", str(manifest), "--project-dir", str(manifest.parent), "--format", "json", "--fail-on", "never", "--as-of", "2026-01-15"]
    assert main([*base, "--no-cache"]) == 0
    assert not (manifest.parent / sql_cache.DEFAULT_DIR_NAME).exists()
    assert main(base) == 0
    assert (manifest.parent / sql_cache.DEFAULT_DIR_NAME / sql_cache.FILE_NAME).is_file()
    chosen = tmp_path / "elsewhere"
    assert main([*base, "--cache-dir", str(chosen), "--jobs", "2"]) == 0
    assert (chosen / sql_cache.FILE_NAME).is_file()
    outputs = capsys.readouterr().out
    first = outputs[: len(outputs) // 3]
    assert outputs == first * 3
