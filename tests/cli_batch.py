"""Run many `privacy-guard` command lines in one process (a real subprocess of the tests).

Reads a JSON list of argument lists on stdin and prints, per command line, its exit code, stdout
and stderr as the CLI's `main()` produced them. A command line that runs longer than its time
budget is stopped by SIGALRM and reported as `hang`. Used by tests that feed the CLI hundreds of
malformed artifacts: one interpreter start instead of hundreds.
"""

from __future__ import annotations

import contextlib
import io
import json
import signal
import sys
from types import FrameType

from python_checks.cli import main

SECONDS_PER_COMMAND = 20


class Hang(BaseException):
    """Raised by the alarm; a BaseException so the CLI's own handlers do not swallow it."""


def _alarm(signum: int, frame: FrameType | None) -> None:
    raise Hang


def run(argv: list[str]) -> dict[str, object]:
    stdout, stderr = io.StringIO(), io.StringIO()
    signal.alarm(SECONDS_PER_COMMAND)
    try:
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            code: object = main(argv)
    except Hang:
        code = "hang"
    except BaseException as error:  # noqa: BLE001 -- escaping main() at all is what the tests look for
        code = f"escaped {type(error).__name__}: {error}"
    finally:
        signal.alarm(0)
    return {"argv": argv, "code": code, "stdout": stdout.getvalue(), "stderr": stderr.getvalue()}


if __name__ == "__main__":
    signal.signal(signal.SIGALRM, _alarm)
    json.dump([run(argv) for argv in json.load(sys.stdin)], sys.stdout)
