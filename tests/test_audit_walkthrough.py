"""docs/audit.md runs as written: every ``sh`` block, command by command, against a fresh demo.

A command is expected to exit 0 unless its line ends with ``# exit N``. The
commands run in a temporary folder holding a copy of ``docs/examples``, with
the venv's ``ledger`` first on the path and no ``LEDGER_DB``, so the demo
goes into ``./ledger.db`` there, as it would for a reader.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "audit.md"
EXPECTED_EXIT = re.compile(r"\s+#\s*exit\s+(\d+)\s*$")


def commands() -> list[tuple[str, int, list[str]]]:
    """(command, expected exit status, lines its output must show) in page order.

    A ``text`` block right after an ``sh`` block shows output of that
    block's last command; each of its lines must appear in it (spaces and
    line breaks aside, as the terminal wraps long lines).
    """
    found: list[tuple[str, int, list[str]]] = []
    previous = ""
    for language, block in re.findall(r"```(\w*)\n(.*?)```", PAGE.read_text(encoding="utf-8"), flags=re.S):
        if language == "text" and previous == "sh" and found:
            command, expected, _ = found[-1]
            found[-1] = (command, expected, [line for line in block.splitlines() if line.strip()])
        if language == "sh":
            for line in block.splitlines():
                if not line.strip() or line.lstrip().startswith("#"):
                    continue
                expected = EXPECTED_EXIT.search(line)
                found.append((EXPECTED_EXIT.sub("", line), int(expected.group(1)) if expected else 0, []))
        previous = language
    return found


def _flat(text: str) -> str:
    return " ".join(text.split())


def test_the_page_has_the_auditors_day():
    shown = " ".join(command for command, _, _ in commands())
    for step in ("seal export", "verify --seal", "sqlite3", "trace", "reconcile", "statement show", "period reopen", "--as-of"):
        assert step in shown, f"docs/audit.md shows no `{step}`"


def test_every_command_of_the_walkthrough_runs_as_the_page_says(tmp_path):
    if shutil.which("sqlite3") is None:
        pytest.skip("the walkthrough tampers with the store through the sqlite3 command, which is not installed")
    shutil.copytree(ROOT / "docs" / "examples", tmp_path / "docs" / "examples")
    environment = {key: value for key, value in os.environ.items() if key != "LEDGER_DB"}
    environment["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{environment.get('PATH', '')}"
    environment["COLUMNS"] = "160"
    for command, expected, shows in commands():
        if command.startswith("export PATH="):
            continue  # the test sets the path itself
        result = subprocess.run(
            ["bash", "-c", command], cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=300
        )
        assert result.returncode == expected, f"`{command}` exited {result.returncode}, the page says {expected}:\n{result.stdout}\n{result.stderr}"
        printed = _flat(result.stdout + result.stderr)
        for line in shows:
            assert _flat(line) in printed, f"`{command}` did not print, as the page shows:\n{line}\n---\n{result.stdout}"
