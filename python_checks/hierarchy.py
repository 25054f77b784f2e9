"""Turn an ARX generalization hierarchy into a dbt seed for `privacy_guard.generalize_hierarchy`.

ARX ships hierarchies as `;`-separated CSV without a header: column 0 is the original value, each
further column one level coarser, the last usually `*`. `generalize_hierarchy` reads a relation
with columns `level_0` ... `level_n`, so the seed needs that header; writing it with the csv
module also quotes values that contain commas (`Married-civ-spouse, ...`).
"""

from __future__ import annotations

import csv
from pathlib import Path


class HierarchyError(ValueError):
    """The ARX file is not a rectangular hierarchy; the message names the file and line."""


def read_arx_hierarchy(src: str | Path) -> list[list[str]]:
    """The rows of the ARX hierarchy `src`: rectangular, each original value (column 0) once."""
    src = Path(src)
    try:
        with src.open(newline="", encoding="utf-8") as handle:
            rows = [row for row in csv.reader(handle, delimiter=";") if row]
    except OSError as error:
        raise HierarchyError(f"{src}: {error.strerror or error}") from None
    if not rows:
        raise HierarchyError(f"{src}: empty hierarchy")
    width = len(rows[0])
    for number, row in enumerate(rows, start=1):
        if len(row) != width:
            raise HierarchyError(f"{src}:{number}: {len(row)} levels, expected {width} like line 1")
    seen: set[str] = set()
    for number, row in enumerate(rows, start=1):
        if row[0] in seen:
            raise HierarchyError(f"{src}:{number}: value {row[0]!r} listed twice")
        seen.add(row[0])
    return rows


def arx_to_seed(src: str | Path, dst: str | Path) -> int:
    """Write `dst` (comma-separated, header level_0..level_n) from the ARX hierarchy `src`.

    Returns the number of levels (columns). Nothing is written when `src` is malformed.
    """
    rows = read_arx_hierarchy(src)
    width = len(rows[0])
    with Path(dst).open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow([f"level_{level}" for level in range(width)])
        writer.writerows(rows)
    return width
