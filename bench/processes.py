"""``ledger post`` in a child process: its wall time and its peak resident memory.

The child is started by a small wrapper interpreter that waits for it with
``os.wait4`` and prints that one child's ``ru_maxrss`` (KiB on Linux). The
wrapper matters: Linux carries the peak of the address space a child was
forked from into the child's ``ru_maxrss`` across ``exec``, so a child
spawned straight from the bench (hundreds of MB after its own measurements)
would report the bench's peak, not its own. The wrapper is a few MB, far
below any ledger run. Per-child ``wait4`` also keeps two runs' peaks apart,
where ``RUSAGE_CHILDREN`` would give the largest of all children so far.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

POSTED_LINE = re.compile(r"posted (\d+) documents \((\d+) postings\)")
PEAK_LINE = re.compile(r"^bench-peak-rss-kib (\d+)$", re.MULTILINE)
STARTUP_RUNS = 3
WRAPPER = (
    "import os, sys\n"
    "pid = os.spawnv(os.P_NOWAIT, sys.argv[1], sys.argv[1:])\n"
    "_, status, usage = os.wait4(pid, 0)\n"
    "sys.stdout.flush()\n"
    "print(f'bench-peak-rss-kib {usage.ru_maxrss}', file=sys.stderr)\n"
    "sys.exit(os.waitstatus_to_exitcode(status))\n"
)


@dataclass(frozen=True)
class ChildRun:
    exit_code: int
    seconds: float
    peak_rss_mb: float
    documents: int
    postings: int
    output: str


def ledger_command() -> list[str]:
    """The installed ``ledger`` script beside this interpreter, else the module."""
    script = Path(sys.executable).with_name("ledger")
    if script.exists():
        return [str(script)]
    found = shutil.which("ledger")
    return [found] if found else [sys.executable, "-m", "ledger.cli"]


def run_child(arguments: list[str]) -> ChildRun:
    """Run ``arguments`` under the wrapper: exit code, wall time, the child's own peak RSS, its report."""
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-I", "-S", "-c", WRAPPER, *arguments],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ, "COLUMNS": "200"},
        check=False,
    )
    seconds = time.perf_counter() - started
    output = result.stdout.decode("utf-8", errors="replace")
    peak = PEAK_LINE.search(output)
    if peak is None:
        raise RuntimeError(f"the wrapper did not report the peak memory of {arguments}:\n{output[-2000:]}")
    posted = POSTED_LINE.search(output)
    documents, postings = (int(posted.group(1)), int(posted.group(2))) if posted else (0, 0)
    return ChildRun(result.returncode, seconds, int(peak.group(1)) / 1024, documents, postings, output)


def post_in_child(file: Path, url: str) -> ChildRun:
    run = run_child([*ledger_command(), "post", str(file), "--db", url, "-q"])
    if run.exit_code != 0 or run.documents == 0:
        raise RuntimeError(f"ledger post {file} failed (exit {run.exit_code}):\n{run.output[-2000:]}")
    return run


def startup() -> ChildRun:
    """The fastest of a few ``ledger --help`` runs: interpreter start and imports, paid once per ``ledger post``."""
    return min((run_child([*ledger_command(), "--help"]) for _ in range(STARTUP_RUNS)), key=lambda run: run.seconds)
