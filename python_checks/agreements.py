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
from python_checks.cli import as_of_option, manifest_options
from python_checks.docs_site import load_site
from python_checks.formatters.escaping import terminal as clean
from python_checks.formatters.json import dumps
from python_checks.outputs import write_output


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
@manifest_options
@as_of_option
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True)
def agreements_command(manifest: Path, project_dir: Path, as_of: dt.datetime | None, output_format: str) -> int:
    """List data-use agreements: active / expiring / expired (undefined: cited, not defined), and the models and exposures citing each."""
    site = load_site(manifest, project_dir=project_dir, as_of=as_of.date() if as_of else None)
    today = site.report.analysis.as_of  # the day `check` judges expiry against, so both agree
    rows = governance.agreements(site, today)
    write_output(dumps({"as_of": today.isoformat(), "agreements": rows}) if output_format == "json" else render_text(rows, today), None)
    return 0
