"""The `privacy-guard` command line: `check`, `inventory`, `validate`, `init`, `docs` here; the
measuring commands and `agreements` from their modules (LazyGroup.LAZY).

Exit codes: 0 clean, 1 findings at or above --fail-on (or contract violations for `validate`),
2 bad input -- printed as one line on stderr, never a traceback. Machine-readable formats write
only the document to stdout; everything else goes to stderr.

Each command imports what it uses when it runs (sqlglot, jsonschema, rich, duckdb, numpy are
heavy): `--help` and `check --no-sql` start without them (tests/checks/test_check_cli_imports.py).
"""

from __future__ import annotations

import datetime as dt
import functools
import sys
from collections.abc import Callable, Sequence
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

import click

from python_checks.findings import SEVERITIES
from python_checks.formatters import FORMATTERS, renderer
from python_checks.formatters.escaping import terminal as clean
from python_checks.loader import ArtifactError
from python_checks.outputs import write_output
from python_checks.project import TARGET, resolve_artifacts

if TYPE_CHECKING:  # connections loads only for --target
    from python_checks.connections import DbtTarget

F = TypeVar("F", bound=Callable[..., Any])
PathOption = click.Path(path_type=Path)
#: Modules the base install leaves out -> the extra of pyproject.toml that installs them: a CLI-only
#: install reads artifacts; `--database`, `anonymize`, `risk` and `simulate-join` need DuckDB.
EXTRA_OF_MODULE = {"duckdb": "duckdb", "numpy": "duckdb", "dbt": "dbt", "dbt_common": "dbt"}


def manifest_options(function: F) -> F:
    """--manifest and --project-dir, shared by every command; the command gets both resolved."""

    @functools.wraps(function)
    def resolved(*args: Any, manifest: Path | None, project_dir: Path | None, **kwargs: Any) -> Any:
        manifest, project_dir = resolve_artifacts(manifest, project_dir)
        return function(*args, manifest=manifest, project_dir=project_dir, **kwargs)

    with_project = click.option(
        "--project-dir",
        type=PathOption,
        help="dbt project whose dbt_project.yml holds vars.privacy_guard [default: the nearest folder with dbt_project.yml at or above the manifest, else the working folder].",
    )(resolved)
    return cast(F, click.option(
        "--manifest", type=PathOption, help="dbt manifest.json (schema v1-v12) [default: target/manifest.json of the dbt project at or above the working folder]."
    )(with_project))


def dbt_target_options(function: F) -> F:
    """--target, --profile, --profiles-dir: connect through dbt's own adapter (any warehouse dbt
    reaches) instead of a --database DuckDB file; the command gets `target` (a DbtTarget or None)."""

    @functools.wraps(function)
    def resolved(*args: Any, dbt_target: str | None, dbt_profile: str | None, profiles_dir: Path | None, project_dir: Path, **kwargs: Any) -> Any:
        target = None
        if dbt_target is not None or dbt_profile is not None or profiles_dir is not None:
            from python_checks.connections import DbtTarget  # dbt loads only when asked for

            target = DbtTarget(project_dir, dbt_profile, dbt_target, profiles_dir)
        return function(*args, project_dir=project_dir, target=target, **kwargs)

    with_dir = click.option(
        "--profiles-dir", type=PathOption, help="With --target: folder of profiles.yml [default: DBT_PROFILES_DIR, else the project or working folder holding one, else ~/.dbt]."
    )(resolved)
    with_profile = click.option("--profile", "dbt_profile", help="With --target: the dbt profile [default: `profile:` of dbt_project.yml].")(with_dir)
    return cast(F, click.option(
        "--target", "dbt_target", help="Connect through dbt's adapter for this target of the project's profile (any warehouse dbt connects to) instead of a --database file."
    )(with_profile))


def as_of_option(function: F) -> F:
    """--as-of DAY: the one day expiry, retention and agreement status are judged against (check, docs, agreements)."""
    return click.option(
        "--as-of", type=click.DateTime(formats=["%Y-%m-%d"]), help="Reference date for expiry, retention and agreement status [default: vars.privacy_guard.today, else today]."
    )(function)


def output_option(function: F) -> F:
    """--output FILE (atomic)."""
    return click.option("--output", type=PathOption, help="Write the report to FILE (atomically; a symlink's target; never a directory, FIFO or device) instead of stdout.")(function)


class LazyGroup(click.Group):
    """A group whose commands from other modules are imported only when one of them is run."""

    #: name -> (module, command attribute, the command's docstring summary for the group's --help;
    #: tests/checks/test_check_cli_imports.py checks each agrees with the command).
    LAZY = {
        "agreements": ("python_checks.agreements", "agreements_command", "List data-use agreements: active / expiring / expired (undefined: cited, not defined), and the models and exposures citing each."),
        "anonymize": ("python_checks.measure_cli", "anonymize_command", "Find the least-lossy hierarchy levels that make a relation k-anonymous (ARX's optimum)."),
        "risk": ("python_checks.measure_cli", "risk_command", "Prosecutor, journalist and marketer re-identification risk of RELATION, measured in the warehouse."),
        "simulate-join": ("python_checks.measure_cli", "simulate_join_command", "Classes, uniques and k of the quasi-identifiers of LEFT JOIN RIGHT, from each side's histogram, before the join exists."),
    }

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *self.LAZY])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.LAZY:
            module, attribute, _ = self.LAZY[cmd_name]
            command: click.Command = getattr(import_module(module), attribute)
            return command
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(map(len, names))
        rows = []
        for name in names:
            if name in self.LAZY:
                rows.append((name, click.utils.make_default_short_help(self.LAZY[name][2], limit)))
            elif (command := super().get_command(ctx, name)) is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(limit)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="privacy-guard", prog_name="privacy-guard")
def cli() -> None:
    """Check dbt projects that combine data from several departments for re-identification risk."""


@cli.command()
@manifest_options
@click.option("--catalog", type=PathOption, help="catalog.json: warehouse columns, so undocumented columns are tracked too.")
@click.option("--run-results", type=PathOption, help="run_results.json: enables unvalidated_input and privacy_test_failed; a k_anonymity test must then have passed (never in a --empty run) to clear a finding.")
@click.option("--database", type=PathOption, help="DuckDB file: enables retention_expired and measured QI uniqueness.")
@dbt_target_options
@click.option("--state", type=PathOption, help="Base manifest.json: report only what is new relative to it.")
@click.option("--format", "output_format", type=click.Choice(FORMATTERS), default="text", show_default=True)
@output_option
@click.option("--fail-on", type=click.Choice([*SEVERITIES, "never"]), default="error", show_default=True, help="Exit 1 when a finding is at least this severe.")
@click.option("--no-sql", is_flag=True, help="Skip join analysis of compiled SQL (columns then travel by name).")
@as_of_option
@click.option("--cache-dir", type=PathOption, help="Folder of the SQL analysis cache [default: privacy_guard_cache/ beside the manifest, i.e. in target/].")
@click.option("--no-cache", is_flag=True, help="Neither read nor write the SQL analysis cache.")
@click.option("--jobs", type=click.IntRange(min=1), help="Processes analysing uncached SQL [default: every core when 400+ models miss the cache].")
def check(
    manifest: Path,
    project_dir: Path,
    catalog: Path | None,
    run_results: Path | None,
    database: Path | None,
    target: DbtTarget | None,
    state: Path | None,
    output_format: str,
    output: Path | None,
    fail_on: str,
    no_sql: bool,
    as_of: dt.datetime | None,
    cache_dir: Path | None,
    no_cache: bool,
    jobs: int | None,
) -> int:
    """Flag risky cross-department joins, consent and retention conflicts."""
    from python_checks.check import no_cyclic_gc, run_check
    from python_checks.sql_cache import DEFAULT_DIR_NAME

    with no_cyclic_gc():
        report = run_check(
            manifest,
            project_dir=project_dir,
            catalog=catalog,
            run_results=run_results,
            database=database,
            target=target,
            state=state,
            sql=not no_sql,
            as_of=as_of.date() if as_of else None,
            cache_dir=None if no_cache else cache_dir or manifest.parent / DEFAULT_DIR_NAME,
            jobs=jobs,
        )
        color = output is None and output_format == "text" and sys.stdout.isatty()
        write_output(renderer(output_format)(report, color), output)
    if output is not None or output_format != "text":
        click.echo(f"privacy-guard: {len(report.findings)} findings", err=True)
    return report.exit_code(fail_on)


@cli.command()
@manifest_options
@click.option("--catalog", type=PathOption, help="catalog.json: warehouse columns.")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True)
@output_option
def inventory(manifest: Path, project_dir: Path, catalog: Path | None, output_format: str, output: Path | None) -> int:
    """List personal nodes per department and the identifier/QI columns departments share."""
    from python_checks.check import run_check
    from python_checks.formatters.json import dumps
    from python_checks.inventory import build_inventory, render_text

    report = run_check(manifest, project_dir=project_dir, catalog=catalog)
    found = build_inventory(report.analysis)
    write_output(dumps(found) if output_format == "json" else render_text(found), output)
    return 0


@cli.command()
@manifest_options
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True)
def validate(manifest: Path, project_dir: Path, output_format: str) -> int:
    """Validate every privacy block in the manifest (and vars.privacy_guard) against the meta contract."""
    from python_checks.formatters.json import dumps
    from python_checks.loader import load_manifest
    from python_checks.policy import declared_policy
    from python_checks.rules import REGISTRY
    from python_checks.settings import load_settings

    load_settings(project_dir, REGISTRY)
    loaded = load_manifest(manifest)
    violations = {
        unique_id: errors for unique_id, node in sorted(loaded.nodes.items()) if (errors := declared_policy(node).errors)
    }
    if output_format == "json":
        write_output(dumps({"valid": not violations, "violations": violations}), None)
    else:
        lines = [clean(f"{unique_id}: {error}") for unique_id, errors in violations.items() for error in errors]
        write_output("\n".join(lines) + "\n" if lines else f"{len(loaded.nodes)} nodes: privacy meta valid\n", None)
    return 1 if violations else 0


@cli.command()
@manifest_options
@click.option("--catalog", type=PathOption, help="catalog.json: warehouse columns of nodes the YAML does not document.")
@click.option("--database", type=PathOption, help="DuckDB file: column names of the built relations (opened read-only).")
@dbt_target_options
@click.option("--out", type=PathOption, help="Write the proposal to this new file (never overwrites) instead of stdout.")
def init(manifest: Path, project_dir: Path, catalog: Path | None, database: Path | None, target: DbtTarget | None, out: Path | None) -> int:
    """Propose privacy meta (YAML, for review) for nodes whose personal-looking columns have no class."""
    from python_checks.init_meta import run_init, write_new

    text = run_init(manifest, project_dir, catalog, database, target)
    if out is None:
        write_output(text, None)
    else:
        write_new(text, out)
        click.echo(f"privacy-guard: proposal written to {out}", err=True)
    return 0


@cli.command()
@manifest_options
@click.option("--out", type=PathOption, help="Folder to write the site into (replaced atomically; only an empty folder or an earlier docs output) [default: the project's target/privacy_docs].")
@click.option("--run-results", type=PathOption, help="run_results.json: latest test results on the cards.")
@click.option("--catalog", type=PathOption, help="catalog.json: warehouse columns.")
@click.option("--format", "output_format", type=click.Choice(["html", "markdown"]), default="html", show_default=True)
@click.option(
    "--history",
    type=PathOption,
    multiple=True,
    help="An earlier build's privacy_report.json or an earlier site's history.json (repeatable): trends over time.",
)
@click.option("--database", type=PathOption, help="DuckDB file with the audit table: runs over time on the History tab.")
@as_of_option
def docs(
    manifest: Path,
    project_dir: Path,
    out: Path | None,
    run_results: Path | None,
    catalog: Path | None,
    output_format: str,
    history: tuple[Path, ...],
    database: Path | None,
    as_of: dt.datetime | None,
) -> int:
    """Write the privacy lineage site (index.html + assets, or one markdown file) and the check JSON."""
    from python_checks.docs_site import load_site, write_site

    site = load_site(
        manifest, run_results=run_results, catalog=catalog, project_dir=project_dir, history=list(history), database=database, as_of=as_of.date() if as_of else None
    )
    written = write_site(site, out or project_dir / TARGET / "privacy_docs", output_format)
    click.echo(f"privacy-guard: docs written to {written} ({len(site.nodes)} nodes, {len(site.findings)} findings)")
    return 0


def missing_extra(error: ModuleNotFoundError, args: Sequence[str]) -> str | None:
    """The one line for a module an extra installs (None for any other missing module)."""
    module = (error.name or "").partition(".")[0]
    if module not in EXTRA_OF_MODULE:
        return None
    command = " ".join(["privacy-guard", *[arg for arg in args if not arg.startswith("-")][:1]])
    extra = EXTRA_OF_MODULE[module]
    return f"{command} needs the [{extra}] extra ({module} is not installed): pip install 'privacy-guard[{extra}]'"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return its exit code; bad input is one line on stderr, exit 2."""
    args = list(argv) if argv is not None else sys.argv[1:]
    try:
        result = cli.main(args=args, prog_name="privacy-guard", standalone_mode=False)
    except ArtifactError as error:
        click.echo(f"privacy-guard: error: {clean(error)}", err=True)
        return 2
    except click.exceptions.Abort:
        click.echo("privacy-guard: aborted", err=True)
        return 2
    except click.ClickException as error:
        click.echo(f"privacy-guard: error: {clean(error.format_message())}", err=True)
        return 2
    except Exception as error:  # noqa: BLE001 -- the contract is "never a traceback", even for our own bugs
        if isinstance(error, ModuleNotFoundError) and (message := missing_extra(error, args)):
            click.echo(f"privacy-guard: error: {message}", err=True)
            return 2
        click.echo(f"privacy-guard: internal error ({type(error).__name__}): {clean(error)}", err=True)
        return 2
    return result if isinstance(result, int) else 0
