"""`privacy-guard agreements`: every data-use agreement, its status and who relies on it.

The governance reviewer's list. Status and citations come from `governance.agreements`, the same
rows the docs site's Agreements view shows, so the command and the site cannot disagree.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import click

from python_checks import governance
from python_checks.docs_site import load_site
from python_checks.formatters.escaping import terminal as clean
from python_checks.formatters.json import dumps
from python_checks.outputs import write_output
from python_checks.project import resolve_artifacts

PathOption = click.Path(path_type=Path)


def render_text(rows: list[dict[str, Any]], today: dt.date) -> str:
    """One block per agreement: status, expiry, owner, roles, review and the nodes citing it."""
    if not rows:
        return "no agreements defined or cited\n"
    lines = [f"agreements as of {today.isoformat()} (expiring = within {governance.EXPIRING_DAYS} days):"]
    for row in rows:
        expires = f"expires {row['expires']} ({row['days_left']} days)" if row["expires"] else "no expiry"
        review = f"review {row['review']['id']} on {row['review']['date']}" if row["review"] else "no ethics review"
        lines.append(f"- {row['id']}: {row['status']}, {expires}, owner {row['owner'] or '-'}, {review}")
        lines.append(f"    departments: {', '.join(row['departments']) or '-'}; roles: {', '.join(row['roles']) if row['roles'] is not None else '-'}")
        lines.append(f"    cited by: {', '.join(row['nodes'])}" if row["nodes"] else "    cited by: nobody")
    return "".join(clean(line) + "\n" for line in lines)


@click.command("agreements")
@click.option("--manifest", type=PathOption, help="dbt manifest.json (schema v1-v12) [default: target/manifest.json of the dbt project at or above the working folder].")
@click.option(
    "--project-dir",
    type=PathOption,
    help="dbt project whose dbt_project.yml holds vars.privacy_guard.agreements (and agreements_seed) [default: the nearest folder with dbt_project.yml at or above the manifest, else the working folder].",
)
@click.option("--as-of", type=click.DateTime(formats=["%Y-%m-%d"]), help="Reference date for the status [default: today].")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True)
def agreements_command(manifest: Path | None, project_dir: Path | None, as_of: dt.datetime | None, output_format: str) -> int:
    """List data-use agreements: active / expiring / expired, and the models and exposures citing each."""
    today = as_of.date() if as_of else dt.date.today()
    manifest, project_dir = resolve_artifacts(manifest, project_dir)
    rows = governance.agreements(load_site(manifest, project_dir=project_dir), today)
    write_output(dumps({"as_of": today.isoformat(), "agreements": rows}) if output_format == "json" else render_text(rows, today), None)
    return 0
