"""Agreements kept in a seed (`vars.privacy_guard.agreements_seed`): governance teams keep them in a spreadsheet.

Each row becomes the dict an agreement in `vars.privacy_guard.agreements` is, so both sources go
through the same contract validation and the same `settings.Agreement` (settings.load_settings).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

from python_checks.loader import ArtifactError, read_bounded

#: Separates the items of a list-valued cell (departments, purposes, roles, reviewers): `hr;clinic`.
LIST_DELIMITER = ";"
#: Columns holding a list; the rest hold one value.
LIST_COLUMNS = ("departments", "purposes", "roles", "reviewers")
#: Columns of the agreement's `review` block, and the key each fills.
REVIEW_COLUMNS = {"review_id": "id", "review_date": "date", "reviewers": "reviewers"}
COLUMNS = ("id", "departments", "purposes", "expires", "owner", "roles", *REVIEW_COLUMNS, "description")
REQUIRED_COLUMNS = ("id", "departments", "expires")
#: A governance spreadsheet is a few hundred rows.
MAX_SEED_BYTES = 10 << 20

#: One parsed row: the agreement as vars would hold it, and where(key) naming its row and column for errors.
SeedRow = tuple[dict[str, Any], Callable[[str], str]]


def seed_file(project_dir: Path, seed_paths: list[str], name: str, where: str) -> Path:
    """The one `<name>.csv` under the project's seed paths; ArtifactError (naming `where`) when none or several."""
    found = sorted({path for folder in seed_paths for path in (project_dir / folder).rglob(f"{name}.csv")})
    if len(found) != 1:
        state = "no" if not found else f"{len(found)} files named"
        raise ArtifactError(f"{where}: {name!r}: {state} {name}.csv under the seed paths ({', '.join(seed_paths)}) of {project_dir}")
    return found[0]


def column_of(key: str) -> str:
    """The seed column a contract error's key path (`review.date`, `departments.1`) is about."""
    head, _, rest = key.partition(".")
    if head == "review" and rest:
        return next(column for column, field in REVIEW_COLUMNS.items() if rest.startswith(field))
    return head


def read_rows(path: Path) -> list[SeedRow]:
    """The seed's rows as agreement dicts; ArtifactError naming the file, row and column of a malformed row."""
    try:
        text = read_bounded(path, "seed", MAX_SEED_BYTES).decode("utf-8-sig")  # a spreadsheet may write a BOM
    except UnicodeDecodeError as error:
        raise ArtifactError(f"seed {path}: not UTF-8 (byte {error.start}); save the spreadsheet as CSV UTF-8") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = reader.fieldnames or []
    names = [column.strip() for column in header]
    unknown = [column for column in names if column not in COLUMNS]
    twice = sorted({column for column in names if names.count(column) > 1})
    if unknown or twice or not header:
        problem = f"unknown column {unknown[0]!r}" if unknown else f"column {twice[0]!r} twice" if twice else "no header row"
        raise ArtifactError(f"seed {path}: {problem} (columns: {', '.join(COLUMNS)}; lists separated by {LIST_DELIMITER!r})")
    try:
        return [_agreement(path, record, reader.line_num, len(header)) for record in reader]
    except csv.Error as error:  # a NUL byte, a cell past csv's field size limit, an unclosed quote
        raise ArtifactError(f"seed {path}: after row {reader.line_num}: not readable as CSV ({error})") from None


def _agreement(path: Path, record: dict[Any, Any], row: int, columns: int) -> SeedRow:
    """One row (`row` as a spreadsheet numbers it: the header is row 1) as an agreement dict, and its where()."""

    def where(key: str) -> str:
        return f"seed {path}: row {row}" + (f", column {column_of(key)}" if key else "")

    if None in record:
        raise ArtifactError(f"{where('')}: more cells than the {columns} columns of the header")
    item: dict[str, Any] = {}
    for column, value in record.items():
        if value := (value or "").strip():
            item[column.strip()] = [part.strip() for part in value.split(LIST_DELIMITER) if part.strip()] if column.strip() in LIST_COLUMNS else value
    for column in REQUIRED_COLUMNS + (("review_id", "review_date") if any(c in item for c in REVIEW_COLUMNS) else ()):
        if column not in item:
            raise ArtifactError(f"{where(column if column in REQUIRED_COLUMNS else 'review.' + REVIEW_COLUMNS[column])}: empty, but required")
    review = {field: item.pop(column) for column, field in REVIEW_COLUMNS.items() if column in item}
    return ({**item, "review": review} if review else item), where
