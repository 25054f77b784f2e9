"""Writing reports and sites without destroying what privacy-guard did not write.

`--output FILE` is replaced atomically (a temporary file beside it, renamed when complete), so a
reader never sees half a report; onto a symlink the link's target is written and the link stays;
directories, FIFOs, sockets and devices are refused. `docs --out DIR` replaces a folder only when
it is empty or carries MARKER (a file only `privacy-guard docs` writes), and holds an exclusive
lock on the parent folder while it swaps, so of two concurrent runs into one folder one writes
and the other stops with one line. New files get the permissions of the user's umask, like any
file the user creates (mkstemp/mkdtemp would leave 0600/0700).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import shutil
import stat
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from python_checks.loader import ArtifactError

#: The file `privacy-guard docs` writes into every site: a folder holding it may be replaced.
MARKER = ".privacy-guard-docs"


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _regular_target(output: Path) -> Path:
    """The file to replace: `output`, or the file a symlink points to; anything but a regular file is refused."""
    target = output.resolve()  # follows links; a dangling link resolves to the path it names
    try:
        mode = target.stat().st_mode
    except FileNotFoundError:
        return target
    except OSError as error:
        raise ArtifactError(f"--output {output}: cannot be written ({error.strerror})") from None
    if stat.S_ISDIR(mode):
        raise ArtifactError(f"--output {output}: is a directory; give a file name")
    if not stat.S_ISREG(mode):
        raise ArtifactError(f"--output {output}: is not a regular file (a FIFO, socket or device); refusing to write to it")
    return target


def write_output(text: str, output: Path | None) -> None:
    """Print to stdout, or write `output` atomically: a reader never sees half a report."""
    if output is None:
        sys.stdout.write(text)
        return
    target = _regular_target(output)
    if not target.parent.is_dir():
        raise ArtifactError(f"--output {output}: directory {target.parent} does not exist")
    try:
        mode = target.stat().st_mode & 0o7777 if target.exists() else 0o666 & ~_umask()
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as error:
        raise ArtifactError(f"--output {output}: cannot be written ({error.strerror})") from None
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.chmod(temporary, mode)
        os.replace(temporary, target)
    except BaseException as error:
        Path(temporary).unlink(missing_ok=True)
        if isinstance(error, OSError):
            raise ArtifactError(f"--output {output}: cannot be written ({error.strerror})") from None
        raise


@contextlib.contextmanager
def _folder_lock(out: Path) -> Iterator[None]:
    """An exclusive lock on out's parent folder (flock: released by the kernel if the process dies, no lock file left)."""
    handle = os.open(out.parent, os.O_RDONLY)
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:
            if error.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
                raise ArtifactError(f"--out {out}: another privacy-guard docs run is writing in {out.parent}; try again when it has finished") from None
            raise  # replace_folder reports it as one line
        yield
    finally:
        os.close(handle)


def replace_folder(out: Path, files: dict[str, str]) -> None:
    """Write `files` (relative path -> text) as the folder `out`, replacing an earlier docs output whole."""
    out = out.resolve()
    if not out.parent.is_dir():
        raise ArtifactError(f"--out {out}: parent folder {out.parent} does not exist")
    try:
        _replace_folder(out, files)
    except OSError as error:
        raise ArtifactError(f"--out {out}: cannot be written ({error.strerror})") from None


def _replace_folder(out: Path, files: dict[str, str]) -> None:
    with _folder_lock(out):
        if out.exists() and not out.is_dir():
            raise ArtifactError(f"--out {out}: exists and is not a directory")
        if out.is_dir() and any(out.iterdir()) and not (out / MARKER).is_file():
            raise ArtifactError(f"--out {out}: folder is not empty and was not written by privacy-guard docs (no {MARKER}); refusing to replace it")
        staging = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}."))
        previous = out.with_name(f".{out.name}.previous")
        try:
            for relative, text in {**files, MARKER: "written by privacy-guard docs; the folder is replaced whole on the next run\n"}.items():
                target = staging / relative
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(text, encoding="utf-8")
            staging.chmod(0o777 & ~_umask())
            shutil.rmtree(previous, ignore_errors=True)
            if out.exists():
                out.rename(previous)
            staging.rename(out)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            if previous.exists() and not out.exists():
                previous.rename(out)  # put the earlier site back
            raise
        finally:
            shutil.rmtree(previous, ignore_errors=True)
