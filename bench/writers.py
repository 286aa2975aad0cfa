"""Several writers at once: the province file split by district, posted by 1, 2 and 4 ``ledger post`` processes.

Each district's own documents (those that write only its books, and the
reversals of them) go to one slice, the districts dealt to the slices in
turn; every slice keeps the file's order. The documents that also write the
municipality's books (remittances, grants, the adjustment fund's interest
and close: ``documents.MUNICIPAL_BOOK_TYPES``) depend on every district's,
so from the first of them on (the year end: remittances, grants, closes)
the file is posted after the timed run by one writer and is not counted.
Each writer is a process of its own posting through ``Ledger.post``, as
``ledger post`` does; all open the store (whose tables were created first,
so they race on posting, not on ``CREATE TABLE``) and then start together
at a barrier. The figure is the postings of all of them over the wall time
from the barrier until the last one ends. Every writer must post every
document of its slice, and the projections must have caught up with the
log at the end.
"""

from __future__ import annotations

import json
import multiprocessing
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from ledger.documents import CARE_OTHER_REGION, MUNICIPAL_BOOK_TYPES
from ledger.regions import municipality_of

WRITER_COUNTS = (1, 2, 4)
BARRIER_TIMEOUT_SECONDS = 300
WRITER_TIMEOUT_SECONDS = 3600
LOCK_SAMPLE_SECONDS = 0.05


@dataclass(frozen=True)
class WritersRun:
    """One run of ``writers`` processes on one store.

    Attributes:
      writers: how many ``ledger post`` processes ran at once.
      seconds: wall time until the last one ended, less one start-up.
      documents, postings: what their reports say they posted, summed.
      exit_codes: each writer process's exit code.
      waiting_for_lock: the mean number of writers waiting for a lock (PostgreSQL's ``pg_locks``,
        not granted), sampled every ``LOCK_SAMPLE_SECONDS`` while they ran.
    """

    writers: int
    seconds: float
    documents: int
    postings: int
    exit_codes: tuple[int, ...]
    waiting_for_lock: float

    @property
    def postings_per_second(self) -> float:
        return self.postings / self.seconds


def split_by_district(file: Path, folder: Path, writers: int) -> tuple[list[Path], Path]:
    """Write ``writers`` slices of the district documents, in file order, and the file of the shared ones after them."""
    documents = [json.loads(line) for line in file.open(encoding="utf-8") if line.strip()]
    own = [d for d in documents if _district_only(d)]
    regions = sorted({d["region"] for d in own if d.get("region")})
    slice_of_region = {region: number % writers for number, region in enumerate(regions)}
    slice_of_document: dict[str, int] = {}
    slices: list[list[dict]] = [[] for _ in range(writers)]
    shared: list[dict] = []
    for document in documents:
        if shared:
            shared.append(document)  # the year end: after the first shared document, everything stays in order
            continue
        if document.get("region") in slice_of_region and _district_only(document):
            number = slice_of_region[document["region"]]
        elif document.get("type") == "reversal" and str(document.get("reverses")) in slice_of_document:
            number = slice_of_document[str(document["reverses"])]
        else:
            shared.append(document)
            continue
        slice_of_document[document["id"]] = number
        slices[number].append(document)
    paths = [_write(folder / f"{file.stem}-writer-{n + 1}-of-{writers}.jsonl", lines) for n, lines in enumerate(slices)]
    return paths, _write(folder / f"{file.stem}-shared-after-{writers}.jsonl", shared)


def _district_only(document: dict) -> bool:
    """Whether the document writes only its own district's books (a reversal: see its original)."""
    region = document.get("region")
    return (
        bool(region)
        and municipality_of(str(region)) != region
        and document.get("type") not in MUNICIPAL_BOOK_TYPES
        and document.get("type") not in CARE_OTHER_REGION
    )


def _write(path: Path, documents: list[dict]) -> Path:
    path.write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in documents), encoding="utf-8")
    return path


def post_in_parallel(paths: list[Path], url: str) -> WritersRun:
    """One process per slice, each posting its slice through ``Ledger.post`` once all have started and imported.

    The processes are spawned fresh (no state inherited from the bench) and
    wait at a barrier after opening the store, so interpreter start-up and
    imports, which on a busy two-core machine cost more than a small slice's
    posting, are not timed.
    """
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(len(paths) + 1)
    results = context.Queue()
    children = [context.Process(target=_post_slice, args=(str(path), url, barrier, results)) for path in paths]
    for child in children:
        child.start()
    sampler = _LockSampler(url)
    barrier.wait(timeout=BARRIER_TIMEOUT_SECONDS)
    started = time.perf_counter()
    sampler.start()
    reports = [results.get(timeout=WRITER_TIMEOUT_SECONDS) for _ in children]
    seconds = time.perf_counter() - started
    waiting = sampler.stop()
    for child in children:
        child.join()
    failed = [report for report in reports if report[0] != "ok"]
    if failed:
        raise RuntimeError(f"a writer failed: {failed[0][1]}")
    documents = sum(report[1] for report in reports)
    postings = sum(report[2] for report in reports)
    return WritersRun(len(paths), seconds, documents, postings, tuple(child.exitcode or 0 for child in children), waiting)


class _LockSampler(threading.Thread):
    """Counts, every ``LOCK_SAMPLE_SECONDS``, the backends of this database waiting for a lock."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.engine = create_engine(url)
        self.samples: list[int] = []
        self.stopping = threading.Event()

    def run(self) -> None:
        query = text(
            "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE NOT l.granted AND a.datname = current_database()"
        )
        with self.engine.connect() as connection:
            while not self.stopping.wait(LOCK_SAMPLE_SECONDS):
                self.samples.append(int(connection.execute(query).scalar_one()))
                connection.rollback()

    def stop(self) -> float:
        self.stopping.set()
        self.join()
        self.engine.dispose()
        return sum(self.samples) / len(self.samples) if self.samples else 0.0


def _post_slice(path: str, url: str, barrier: Any, results: Any) -> None:
    """A writer process: open the store, wait for the others, post the slice, report what was posted."""
    from ledger.reader import read_records
    from ledger.store import Ledger

    try:
        with Ledger(url) as ledger:
            barrier.wait(timeout=BARRIER_TIMEOUT_SECONDS)
            documents = postings = 0
            with open(path, encoding="utf-8") as stream:
                records = read_records(stream, "jsonl", "bench")
                for outcome in ledger.post(record.document for record in records if record.document is not None):
                    if outcome.status != "posted":
                        raise RuntimeError(f"{outcome.document_id} was {outcome.status}: {outcome.error}")
                    documents += 1
                    postings += outcome.postings
        results.put(("ok", documents, postings))
    except Exception as error:  # reported to the bench, which stops with it
        results.put(("failed", repr(error), 0))


def measure(file: Path, folder: Path, fresh_store: Callable[[], str]) -> list[WritersRun]:
    """1, 2 and 4 writers on a fresh store each; the projections must be caught up after each run."""
    from ledger.store import Ledger

    runs = []
    for writers in WRITER_COUNTS:
        url = fresh_store()
        with Ledger(url):
            pass  # the tables, made once before the writers start
        paths, shared = split_by_district(file, folder, writers)
        print(f"bench: postgres: {writers} writer(s) at once", file=sys.stderr, flush=True)
        run = post_in_parallel(paths, url)
        post_in_parallel([shared], url)
        with Ledger(url) as ledger:
            position, head = ledger.projector.position(), ledger.projector.log_head()
        if position != head:
            raise RuntimeError(f"after {writers} writers the projections stand at {position}, the log at {head}")
        runs.append(run)
    return runs
