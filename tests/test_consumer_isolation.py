"""A consumer's build runs nothing of the package unless it opts in.

The consumer fixture has one seed, one model, one generic test of the package, one singular test
and one on-run-start hook of its own: its manifest must hold exactly those five nodes (no package
model, seed, hook, and none of this repository's tests/ folder turned into dbt tests).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from dbt_harness import DbtResult, REPO_ROOT, copy_project, dbt, dbt_project

pytestmark = pytest.mark.dbt

CONSUMER_NODES = {
    "seed.consumer.people",
    "model.consumer.people_by_band",
    "test.consumer.assert_people_by_band_not_empty",
    "test.consumer.privacy_guard_k_anonymity_people_by_band_",
    "operation.consumer.consumer-on-run-start-0",
}


def _manifest(project: Path) -> dict:
    return json.loads((project / "target" / "manifest.json").read_text())


def _node_ids(manifest: dict) -> set[str]:
    """Node unique ids, generic tests without their hash suffix."""
    return {uid.rsplit(".", 1)[0] if uid.startswith("test.") and uid.count(".") == 3 else uid for uid in manifest["nodes"]}


@pytest.fixture(scope="module")
def consumer_build(tmp_path_factory: pytest.TempPathFactory) -> DbtResult:
    project = dbt_project("consumer", tmp_path_factory.mktemp("consumer"))
    return dbt(project, "build", check=True)


def test_consumer_manifest_holds_only_its_own_nodes(consumer_build: DbtResult) -> None:
    manifest = _manifest(consumer_build.project_dir)
    assert len(manifest["nodes"]) == 5
    assert _node_ids(manifest) == CONSUMER_NODES
    assert manifest["sources"] == {}
    assert set(consumer_build.statuses()) == set(manifest["nodes"])


def test_validate_meta_hook_runs_clean_on_a_valid_consumer(consumer_build: DbtResult) -> None:
    assert "privacy_guard.validate_meta: 2 nodes, no problems" in consumer_build.stdout


def _probe_package(root: Path) -> Path:
    """This package's dbt_project.yml and macros plus one model and one seed of its own."""
    package = root / "probe_package"
    (package / "models").mkdir(parents=True)
    (package / "seeds").mkdir()
    shutil.copy(REPO_ROOT / "dbt_project.yml", package / "dbt_project.yml")
    shutil.copytree(REPO_ROOT / "macros", package / "macros")
    (package / "models" / "probe_model.sql").write_text("select 1 as probe\n")
    (package / "seeds" / "probe_seed.csv").write_text("probe\n1\n")
    return package


def test_package_models_and_seeds_appear_only_when_the_consumer_opts_in(tmp_path: Path) -> None:
    project = copy_project("consumer", tmp_path)
    (project / "packages.yml").write_text(f"packages:\n  - local: {_probe_package(tmp_path)}\n")
    dbt(project, "deps", check=True)

    dbt(project, "parse", check=True)
    assert _node_ids(_manifest(project)) == CONSUMER_NODES

    # The opt-in that works: the root project's config wins over the package's dbt_project.yml.
    # (A var cannot do it: dbt renders a package's dbt_project.yml without the consumer's vars.)
    with (project / "dbt_project.yml").open("a") as dbt_project_yml:
        dbt_project_yml.write("models:\n  privacy_guard:\n    +enabled: true\nseeds:\n  privacy_guard:\n    +enabled: true\n")
    dbt(project, "parse", check=True)
    probes = {"model.privacy_guard.probe_model", "seed.privacy_guard.probe_seed"}
    assert _node_ids(_manifest(project)) == CONSUMER_NODES | probes
