"""Faults from outside the ledger: a clean run, SIGKILL, concurrent writers, killed database connections.

After every trial the books must equal the clean reference run of the same
file, every document must be in the registry once, and ``verify`` must
agree. A child that was killed is followed by a second ``ledger post`` of
the same file, which must finish it: what was saved before the kill is
skipped as duplicates, the rest is posted, and nothing is posted twice.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Any

from bench.chaos.books import Books, differences, fingerprint, verify_problems
from bench.chaos.campaign import Campaign, Result
from bench.chaos.children import Posted, finish, post, start_post, summary_problems
from bench.stores import Backend
from ledger.application import SERIAL_TYPES
from ledger.store import Ledger

POLL_SECONDS = 0.01
CONNECTION_KILL_ROUNDS = 3


def proven(url: str, reference: Books) -> list[str]:
    """The books of the store equal the clean run's, and ``verify`` agrees."""
    return differences(reference, fingerprint(url)) + verify_problems(url)


def clean(campaign: Campaign, backend: Backend, file: Path, total: int) -> float:
    """One clean post of the whole file on a fresh store: the baseline of the kill window. Returns its seconds."""
    result = campaign.scenario("clean import", backend.name)
    url = backend.fresh_store("chaos")
    started = time.perf_counter()
    run = campaign.timed(result, lambda: post(file, url))
    seconds = time.perf_counter() - started
    reference = campaign.reference(file)
    result.record(campaign.timed(result, lambda: summary_problems(run, "ledger post", posted=total) + proven(url, reference)))
    return seconds


def killed_imports(campaign: Campaign, backend: Backend, file: Path, total: int, clean_seconds: float) -> None:
    """SIGKILL a ``ledger post`` of the file at a random moment of its run, then post the file again."""
    result = campaign.scenario("SIGKILL during import", backend.name)
    reference = campaign.reference(file)
    low = campaign.startup_seconds() * 0.9
    high = max(clean_seconds, low + 0.5)
    finished_first = 0
    for trial in range(campaign.sizes.kills.get(backend.name, 0)):
        delay = campaign.rng.uniform(low, high)

        def one_trial() -> list[str]:
            nonlocal finished_first
            url = backend.fresh_store("chaos")
            process = start_post(file, url)
            if not _ran_for(process, delay):
                finished_first += 1
            if process.poll() is None:
                os.kill(process.pid, signal.SIGKILL)
            finish(process)
            again = post(file, url)
            return summary_problems(again, "the second post", total=total) + proven(url, reference)

        result.record(campaign.timed(result, one_trial), f"trial {trial + 1} (killed at {delay:.2f} s)")
    if finished_first:
        result.note(f"{finished_first} of {result.trials} imports had finished before their kill came")


def _ran_for(process: Any, seconds: float) -> bool:
    """Wait until the child has run this long; False when it ended first."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        time.sleep(POLL_SECONDS)
    return True


def concurrent_writers(campaign: Campaign, backend: Backend, file: Path, documents: list[dict[str, Any]]) -> None:
    """``writers`` processes at once: the same file; disjoint slices; disjoint slices on a store with no tables yet."""
    reference = campaign.reference(file)
    sizes = campaign.sizes
    slices = _slices(campaign, documents, sizes.writers)
    for name, files, first_use in (
        (f"{sizes.writers} writers, same file", [file] * sizes.writers, False),
        (f"{sizes.writers} writers, disjoint slices", slices, False),
        (f"{sizes.writers} writers, first use of an empty database", slices, True),
    ):
        result = campaign.scenario(name, backend.name)
        for trial in range(sizes.writer_trials):
            problems = campaign.timed(result, lambda: _writers_trial(backend, file, files, first_use, len(documents), reference, result))
            result.record(problems, f"trial {trial + 1}")


def _slices(campaign: Campaign, documents: list[dict[str, Any]], count: int) -> list[Path]:
    """The file's documents by book (region and scheme), the books dealt round the writers.

    Documents that read what earlier ones wrote (closes, reversals) are in
    no slice: the whole file posted afterwards posts them, in order.
    """
    keys = sorted({(d.get("region", ""), d.get("scheme", d["type"])) for d in documents if d["type"] not in SERIAL_TYPES})
    writer_of = {key: index % count for index, key in enumerate(keys)}
    parts: list[list[dict[str, Any]]] = [[] for _ in range(count)]
    for document in documents:
        if document["type"] not in SERIAL_TYPES:
            parts[writer_of[(document.get("region", ""), document.get("scheme", document["type"]))]].append(document)
    return [campaign.write_documents(f"slice-{index + 1}.jsonl", part) for index, part in enumerate(parts)]


def _writers_trial(
    backend: Backend, file: Path, files: list[Path], first_use: bool, total: int, reference: Books, result: Result
) -> list[str]:
    url = backend.fresh_store("chaos")
    if not first_use:
        with Ledger(url):
            pass  # the tables exist, so the writers race on the books
    runs = [finish(process) for process in [start_post(f, url) for f in files]]
    refused = [0]
    problems = _writer_problems(runs, refused)
    if refused[0]:
        result.note(f"writers refused documents that another writer's documents had to come before, {refused[0]} in one trial "
                    "(the whole file posted afterwards posts them)" if files[0] != file else
                    f"writers refused {refused[0]} documents of the same file in one trial (another writer posted them)")
    posted = sum(run.posted or 0 for run in runs)
    if files[0] != file:
        # Slices: post the whole file once more, which posts what only the whole file has and skips the rest.
        rest = post(file, url)
        problems += summary_problems(rest, "the whole file afterwards", total=total)
        posted += rest.posted or 0
    if posted != total:
        problems.append(f"the writers posted {posted} documents in all, the file has {total}")
    return problems + proven(url, reference)


def _writer_problems(runs: list[Posted], refused: list[int]) -> list[str]:
    """A writer may lose a race or miss a document of another slice (it refuses it); it may not crash.

    ``refused[0]`` is increased by the documents the writers refused.
    """
    problems = []
    for number, run in enumerate(runs, start=1):
        if run.traceback:
            problems.append(f"writer {number} printed a traceback (exit {run.exit_code}): {run.tail()}")
        elif run.exit_code not in (0, 1) or run.posted is None:
            problems.append(f"writer {number} exited {run.exit_code} without its summary: {run.tail()}")
        elif run.rejected:
            refused[0] += run.rejected
    return problems


def killed_connections(campaign: Campaign, backend: Backend, file: Path, total: int, clean_seconds: float) -> None:
    """``pg_terminate_backend`` on every other connection to the ledger's database while ``ledger post`` runs."""
    result = campaign.scenario("database connections killed", backend.name)
    reference = campaign.reference(file)
    low = campaign.startup_seconds() * 0.9
    for trial in range(campaign.sizes.connection_kills):
        delay = campaign.rng.uniform(low, max(clean_seconds, low + 0.5))

        def one_trial() -> list[str]:
            url = backend.fresh_store("chaos")
            process = start_post(file, url)
            killed = 0
            for _ in range(campaign.rng.randint(1, CONNECTION_KILL_ROUNDS)):
                if _ran_for(process, delay / CONNECTION_KILL_ROUNDS):
                    killed += _terminate_connections(backend, url)
            first = finish(process)
            # The interrupted post says what happened (exit 3) or finished; it never shows a traceback.
            interrupted = [f"the interrupted `ledger post` printed a traceback: {first.tail()[:240]}"] if first.traceback else []
            again = post(file, url)
            return interrupted + summary_problems(again, f"the post after {killed} connections were killed", total=total) + proven(url, reference)

        result.record(campaign.timed(result, one_trial), f"trial {trial + 1}")


def _terminate_connections(backend: Backend, url: str) -> int:
    connection = backend.connect(url)
    try:
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            (count,) = cursor.fetchone()
        return int(count)
    finally:
        connection.close()
