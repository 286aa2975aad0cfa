"""The shared state of one campaign: its sizes, its files, its stores, the clean references and the results."""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.chaos import books as fingerprints
from bench.chaos.children import post
from bench.processes import startup
from bench.stores import Backend, PostgresBackend, SqliteBackend

PROBLEM_CHARACTERS = 600


@dataclass(frozen=True)
class Sizes:
    """How big a campaign is.

    Attributes:
      size: the demo generator's size for the large import (documents grow linearly with it).
      kills: SIGKILL trials per backend name.
      writer_trials: trials of each concurrent-writer scenario (PostgreSQL).
      writers: concurrent ``ledger post`` processes per trial.
      connection_kills: trials of killing the store's connections mid-posting (PostgreSQL).
      malformed: malformed documents in all, across the malformed files.
      tamper_size: the demo size of the store that is tampered with (plus one book past a snapshot).
      tamper_rows: rows deleted per table, and rows changed per column, on each backend.
      tamper_every_column: change every column of every table (else one column per table, chosen at random).
      malformed_files: which mixed files to post (see ``bench.chaos.malformed``); each kind is also tried alone.
    """

    size: int = 20
    kills: dict[str, int] = field(default_factory=lambda: {"sqlite": 50, "postgres": 30})
    writer_trials: int = 3
    writers: int = 8
    connection_kills: int = 10
    malformed: int = 10_000
    tamper_size: int = 1
    tamper_rows: int = 2
    tamper_every_column: bool = True
    malformed_files: tuple[str, ...] = ("jsonl", "jsonl-non-utf8", "jsonl-limits", "csv", "csv-non-utf8")


@dataclass
class Result:
    """One scenario on one backend: how many trials, how many failed and why."""

    scenario: str
    backend: str
    trials: int = 0
    failures: int = 0
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def record(self, problems: list[str], label: str = "") -> None:
        """Count one trial; a trial with any problem is a failure, kept with its problems (shortened)."""
        self.trials += 1
        if problems:
            self.failures += 1
            text = "; ".join(problems)
            if len(text) > PROBLEM_CHARACTERS:
                text = text[:PROBLEM_CHARACTERS] + " …"
            self.problems.append((f"{label}: " if label else "") + text)

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)


@dataclass
class Campaign:
    """A campaign's folder, backends, seed and results; the clean reference of each file, computed once."""

    folder: Path
    sizes: Sizes
    backends: dict[str, Backend]
    rng: random.Random
    results: list[Result] = field(default_factory=list)
    _references: dict[Path, tuple[fingerprints.Books, float]] = field(default_factory=dict)
    _startup_seconds: float | None = None

    def scenario(self, name: str, backend: str) -> Result:
        result = Result(name, backend)
        self.results.append(result)
        return result

    def timed(self, result: Result, trial: Callable[[], Any]) -> Any:
        started = time.perf_counter()
        try:
            return trial()
        finally:
            result.seconds += time.perf_counter() - started

    def reference(self, file: Path) -> fingerprints.Books:
        """The books of a clean ``ledger post`` of the file on a fresh SQLite store."""
        return self._reference(file)[0]

    def clean_seconds(self, file: Path) -> float:
        """How long the clean ``ledger post`` of the file took (on SQLite)."""
        return self._reference(file)[1]

    def _reference(self, file: Path) -> tuple[fingerprints.Books, float]:
        if file not in self._references:
            url = SqliteBackend(self.folder).fresh_store(f"reference-{file.stem}")
            started = time.perf_counter()
            run = post(file, url)
            seconds = time.perf_counter() - started
            if run.traceback or run.posted is None:
                raise RuntimeError(f"the clean reference run of {file} failed: {run.tail()}")
            self._references[file] = (fingerprints.fingerprint(url), seconds)
        return self._references[file]

    def startup_seconds(self) -> float:
        """The fastest ``ledger --help``: a child's interpreter start and imports, before it can write."""
        if self._startup_seconds is None:
            self._startup_seconds = startup().seconds
        return self._startup_seconds

    def write_documents(self, name: str, documents: Iterable[dict[str, Any]]) -> Path:
        path = self.folder / name
        with path.open("w", encoding="utf-8") as stream:
            for document in documents:
                stream.write(json.dumps(document, ensure_ascii=False) + "\n")
        return path


def open_backends(names: Iterable[str], folder: Path, postgres_url: str) -> dict[str, Backend]:
    """The backends asked for; PostgreSQL's database is created if missing (a server that does not answer raises)."""
    backends: dict[str, Backend] = {}
    for name in names:
        if name == "sqlite":
            backends[name] = SqliteBackend(folder)
        elif name == "postgres":
            backend = PostgresBackend(postgres_url)
            backend.ensure_database()
            backends[name] = backend
        else:
            raise ValueError(f"unknown backend {name!r}: use sqlite or postgres")
    return backends
