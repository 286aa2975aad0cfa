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


def commands() -> list[tuple[str, int]]:
    blocks = re.findall(r"```sh\n(.*?)```", PAGE.read_text(encoding="utf-8"), flags=re.S)
    found = []
    for block in blocks:
        for line in block.splitlines():
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            expected = EXPECTED_EXIT.search(line)
            found.append((EXPECTED_EXIT.sub("", line), int(expected.group(1)) if expected else 0))
    return found


def test_the_page_has_the_auditors_day():
    shown = " ".join(command for command, _ in commands())
    for step in ("seal export", "verify --seal", "sqlite3", "trace", "reconcile", "statement show", "period reopen", "--as-of"):
        assert step in shown, f"docs/audit.md shows no `{step}`"


def test_every_command_of_the_walkthrough_runs_as_the_page_says(tmp_path):
    if shutil.which("sqlite3") is None:
        pytest.skip("the walkthrough tampers with the store through the sqlite3 command, which is not installed")
    shutil.copytree(ROOT / "docs" / "examples", tmp_path / "docs" / "examples")
    environment = {key: value for key, value in os.environ.items() if key != "LEDGER_DB"}
    environment["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{environment.get('PATH', '')}"
    environment["COLUMNS"] = "160"
    for command, expected in commands():
        if command.startswith("export PATH="):
            continue  # the test sets the path itself
        result = subprocess.run(
            ["bash", "-c", command], cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=300
        )
        assert result.returncode == expected, f"`{command}` exited {result.returncode}, the page says {expected}:\n{result.stdout}\n{result.stderr}"
