"""The dbt package installs by `git:` at a version tag, as README's packages.yml shows (issue 10).

Offline: the repository is cloned to a local bare repository (its committed HEAD), tagged there
with `v` + the version in dbt_project.yml, and a consumer project whose packages.yml is README's
block with a file:// URL runs `dbt deps` and `dbt build` with one of the package's macros and
tests. Nothing is written to the repository itself (the tag exists only in the clone).
"""

from __future__ import annotations

import re
import subprocess
import textwrap
from pathlib import Path

import pytest
import yaml
from dbt_harness import REPO_ROOT, dbt, write_profile

pytestmark = pytest.mark.dbt

URL_PLACEHOLDER = "<this repository's URL>"
CONSUMER_PROJECT = """\
name: tagged_consumer
version: "1.0"
config-version: 2
profile: tagged_consumer
model-paths: ["models"]
"""
PEOPLE = "select * from (values (1, 34), (2, 38), (3, 41), (4, 47), (5, 45)) as people(person_id, age)"
BANDED = "select person_id, {{ privacy_guard.generalize_numeric('age', width=10) }} as age_band from {{ ref('people') }}"
BANDED_YML = """\
version: 2
models:
  - name: banded
    columns:
      - {name: age_band, config: {meta: {privacy: {class: quasi_identifier}}}}
    data_tests:
      - privacy_guard.k_anonymity:
          arguments: {k: 2}
"""


def package_version() -> str:
    return str(yaml.safe_load((REPO_ROOT / "dbt_project.yml").read_text())["version"])


def readme_packages_yml() -> str:
    """The packages.yml block README shows under "Use it in your project"."""
    blocks = re.findall(r"```yaml\n( *# packages\.yml\n.*?\n) *```", (REPO_ROOT / "README.md").read_text(encoding="utf-8"), re.S)
    assert len(blocks) == 1, "README shows one packages.yml block"
    return textwrap.dedent(blocks[0])


@pytest.fixture(scope="module")
def tagged_repository(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A bare clone of this repository's committed HEAD with the release tag."""
    bare = tmp_path_factory.mktemp("git") / "privacy_guard.git"
    subprocess.run(["git", "clone", "--quiet", "--bare", "--no-local", str(REPO_ROOT), str(bare)], check=True, capture_output=True, timeout=300)
    subprocess.run(["git", "--git-dir", str(bare), "tag", f"v{package_version()}", "HEAD"], check=True, capture_output=True)
    return bare


def consumer(tmp_path: Path, packages_yml: str) -> Path:
    project = tmp_path / "tagged_consumer"
    (project / "models").mkdir(parents=True)
    (project / "dbt_project.yml").write_text(CONSUMER_PROJECT)
    (project / "packages.yml").write_text(packages_yml)
    (project / "models" / "people.sql").write_text(PEOPLE)
    (project / "models" / "banded.sql").write_text(BANDED)
    (project / "models" / "banded.yml").write_text(BANDED_YML)
    write_profile(project, "tagged_consumer", tmp_path / "consumer.duckdb")
    return project


def test_readme_pins_the_version_of_dbt_project_yml() -> None:
    (revision,) = re.findall(r"revision: (\S+)", readme_packages_yml())
    assert revision == f"v{package_version()}"


def test_dbt_deps_installs_the_tagged_package_from_git_and_it_builds(tagged_repository: Path, tmp_path: Path) -> None:
    packages_yml = readme_packages_yml().replace(URL_PLACEHOLDER, tagged_repository.as_uri())
    assert f'git: "{tagged_repository.as_uri()}"' in packages_yml
    project = consumer(tmp_path, packages_yml)
    dbt(project, "deps", check=True)
    installed = project / "dbt_packages" / "privacy_guard"
    assert not installed.is_symlink() and yaml.safe_load((installed / "dbt_project.yml").read_text())["version"] == package_version()
    tagged = subprocess.run(["git", "--git-dir", str(tagged_repository), "rev-parse", f"v{package_version()}^{{commit}}"], capture_output=True, text=True, check=True).stdout.strip()
    lock = yaml.safe_load((project / "package-lock.yml").read_text())
    assert [(entry["git"], entry["revision"]) for entry in lock["packages"]] == [(tagged_repository.as_uri(), tagged)]
    build = dbt(project, "build", check=True)
    assert "WARNING" not in build.stdout, build.stdout[-3000:]  # e.g. package YAML documenting a macro that does not exist
    statuses = build.statuses()
    assert sorted(statuses.values()) == ["pass", "success", "success"], statuses  # two models and the k_anonymity test
    compiled = (project / "target" / "compiled" / "tagged_consumer" / "models" / "banded.sql").read_text()
    assert "privacy_guard" not in compiled and "'-'" in compiled  # the macro rendered to SQL


def test_an_unknown_tag_fails_dbt_deps(tagged_repository: Path, tmp_path: Path) -> None:
    packages_yml = readme_packages_yml().replace(URL_PLACEHOLDER, tagged_repository.as_uri()).replace(f"v{package_version()}", "v99.0.0")
    result = dbt(consumer(tmp_path, packages_yml), "deps", check=False)
    assert "v99.0.0" in result.stdout + result.stderr
