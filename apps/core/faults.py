"""Test-only fault injection: stop a process at a named point, deterministically.

Off unless the environment variable FINSTACK_FAULTS names a directory, which only the fault
tests set for the worker they start (tests/reliability): `point()` is then a no-op that costs
one global read. A test arms a point by writing a file named after it in that directory,
holding the action: `kill` (SIGKILL this process) or `hang` (block until the test kills the
whole worker). A point fires once: the first process to rename the file wins.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

_DIRECTORY = os.environ.get("FINSTACK_FAULTS", "")


def point(name: str) -> None:
    if _DIRECTORY:
        _fire(Path(_DIRECTORY), name)


def _fire(directory: Path, name: str) -> None:
    armed, fired = directory / name, directory / f"{name}.fired"
    try:
        os.rename(armed, fired)
    except FileNotFoundError:
        return
    action = fired.read_text().strip()
    (directory / f"{name}.pid").write_text(str(os.getpid()))
    if action == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    while action == "hang":  # the test kills the whole worker now
        time.sleep(1)
