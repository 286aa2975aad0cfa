"""``ledger post`` in child processes, as a user runs it: its summary, its exit, and any traceback."""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from bench.processes import ledger_command

SUMMARY = re.compile(r"posted (\d+) documents \((\d+) postings\), (\d+) duplicates skipped, (\d+) rejected")
CHILD_LIMIT_SECONDS = 900
CHILD_ENVIRONMENT = {**os.environ, "COLUMNS": "200"}


@dataclass(frozen=True)
class Posted:
    """What one ``ledger post`` run said and how it ended.

    Attributes:
      exit_code: the child's exit status (negative: killed by that signal).
      posted, duplicates, rejected: the summary line's counts, None when it printed none.
      stdout, stderr: its output, decoded (bytes that are not UTF-8 replaced).
    """

    exit_code: int
    posted: int | None
    duplicates: int | None
    rejected: int | None
    stdout: str
    stderr: str

    @property
    def traceback(self) -> bool:
        return "Traceback" in self.stderr or "Traceback" in self.stdout

    def tail(self) -> str:
        """The last lines of what it printed, for a failure's description."""
        text = (self.stderr.strip() or self.stdout.strip()).splitlines()
        return " | ".join(line.strip() for line in text[-3:])[:400]


def post_command(file: Path, url: str, *options: str) -> list[str]:
    return [*ledger_command(), "post", str(file), "--db", url, "-q", *options]


def start_post(file: Path, url: str, *options: str) -> subprocess.Popen:
    return subprocess.Popen(post_command(file, url, *options), stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=CHILD_ENVIRONMENT)


def finish(process: subprocess.Popen, timeout: float = CHILD_LIMIT_SECONDS) -> Posted:
    """Wait for a started child and read what it said."""
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        stdout, stderr = process.communicate()
        stderr += f"\n[the campaign killed it after {timeout:.0f} s]".encode()
    return parsed(process.returncode, stdout, stderr)


def parsed(exit_code: int, stdout: bytes, stderr: bytes) -> Posted:
    out = stdout.decode("utf-8", errors="replace")
    summary = SUMMARY.search(out)
    counts = (int(summary.group(1)), int(summary.group(3)), int(summary.group(4))) if summary else (None, None, None)
    return Posted(exit_code, *counts, out, stderr.decode("utf-8", errors="replace"))


def post(file: Path, url: str, *options: str) -> Posted:
    """Post a whole file in a child process (with ``ledger post`` options) and wait for it."""
    return finish(start_post(file, url, *options))


def summary_problems(run: Posted, label: str, *, posted: int | None = None, rejected: int = 0, total: int | None = None) -> list[str]:
    """What is wrong with a finished run: a traceback, a missing summary, or counts other than expected.

    ``total`` checks posted + duplicates (every document of the file is in
    the books once, posted now or before); ``posted`` checks the posted
    count alone; ``rejected`` the rejected lines.
    """
    if run.traceback:
        return [f"{label} printed a traceback (exit {run.exit_code}): {run.tail()}"]
    if run.posted is None:
        return [f"{label} printed no summary (exit {run.exit_code}): {run.tail()}"]
    problems = []
    if run.exit_code != (1 if rejected else 0):
        problems.append(f"{label} exited {run.exit_code}: {run.tail()}")
    if posted is not None and run.posted != posted:
        problems.append(f"{label} posted {run.posted} documents, expected {posted}")
    if total is not None and run.posted + (run.duplicates or 0) != total:
        problems.append(f"{label}: {run.posted} posted + {run.duplicates} duplicates ≠ the file's {total} documents")
    if run.rejected != rejected:
        problems.append(f"{label} rejected {run.rejected} lines, expected {rejected}: {run.tail()}")
    return problems
