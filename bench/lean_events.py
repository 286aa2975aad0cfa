"""``python -m bench.lean_events --size N``: one event per book per batch against one per document, measured only.

A prototype for issue 13's "fewer, leaner events"; the stored event shape is
not changed. The province file is posted in-process on a fresh store, and
the events of every saved batch are kept as the application made them.
Then, for the same events, two ways of storing them are timed on the same
backend:

- **per document** (today): each event's chain link (``chain.chain_hash``),
  its encoding by the application's mapper, and the rows written by the
  recorder's bulk insert into a fresh table of the events table's shape;
- **per book and batch**: the events of one book in one batch folded into
  one event carrying the list of their attributes (documents, postings,
  vouchers, content hashes), one chain link over it, one encoding by the
  same transcoder, one row.

Both write in one transaction per batch. The figure is the time of those
three steps per document; building the domain events themselves (about a
third of ``Book.record`` in the profile) and the fold would shrink the same
way but are not in the figure.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import text

from bench.stores import PostgresBackend, SqliteBackend, postgres_url
from ledger import bulk
from ledger.chain import GENESIS, chain_hash
from ledger.demo import generate_documents
from ledger.documents import read_document
from ledger.store import Ledger

TABLE = "bench_lean_events"
COLUMNS = ("originator_id", "originator_version", "topic", "state")


def capture_batches(ledger: Ledger, size: int) -> list[list[Any]]:
    """Post the province file; return the domain events of each saved batch, in order."""
    batches: list[list[Any]] = []
    project = ledger.app.project_in_transaction

    def keep(connection: Any, recordings: list[Any]) -> bool:
        batches.append([r.domain_event for r in recordings])
        return project(connection, recordings) if project else False

    ledger.app.project_in_transaction = keep
    for _ in ledger.post(read_document(raw) for raw in generate_documents(size=size)):
        pass
    return batches


def per_document(ledger: Ledger, batches: list[list[Any]]) -> float:
    mapper = ledger.app.mapper
    started = time.perf_counter()
    for events in batches:
        rows = []
        for event in events:
            fields = {k: v for k, v in vars(event).items() if k != "chain"}
            chain_hash(GENESIS, type(event).__name__, fields)
            stored = mapper.to_stored_event(event)
            rows.append((stored.originator_id, stored.originator_version, stored.topic, stored.state))
        write(ledger, rows)
    return time.perf_counter() - started


def per_book_batch(ledger: Ledger, batches: list[list[Any]]) -> tuple[float, int]:
    transcoder = ledger.app.mapper.transcoder
    written = 0
    started = time.perf_counter()
    for number, events in enumerate(batches):
        by_book: dict[Any, list[dict[str, Any]]] = {}
        for event in events:
            by_book.setdefault(event.originator_id, []).append(
                {"kind": type(event).__name__, **{k: v for k, v in vars(event).items() if k not in ("chain", "originator_id")}}
            )
        rows = []
        for book_id, documents in by_book.items():
            fields = {"documents": documents, "originator_id": book_id, "originator_version": number + 1}
            chain_hash(GENESIS, "BatchPosted", fields)
            state = transcoder.encode({"documents": documents})
            rows.append((book_id, number + 1, "ledger.aggregates.book:Book.BatchPosted", state))
        write(ledger, rows)
        written += len(rows)
    return time.perf_counter() - started, written


def write(ledger: Ledger, rows: list[tuple]) -> None:
    """One transaction of rows whose first value is a UUID, bound as each backend stores it."""
    sqlite = ledger.engine.dialect.name == "sqlite"
    prepared = [(r[0].bytes if sqlite else str(r[0]), *r[1:]) for r in rows]
    with ledger.engine.begin() as connection:
        bulk.insert_rows(connection, TABLE, COLUMNS, prepared)


def fresh_table(ledger: Ledger) -> None:
    """An empty table of the events table's shape: id, the (book, version) key, topic, state."""
    sqlite = ledger.engine.dialect.name == "sqlite"
    identity, uuid, binary = ("INTEGER PRIMARY KEY", "BLOB", "BLOB") if sqlite else ("BIGSERIAL PRIMARY KEY", "UUID", "BYTEA")
    with ledger.engine.begin() as connection:
        connection.execute(text(f"DROP TABLE IF EXISTS {TABLE}"))
        connection.execute(text(
            f"CREATE TABLE {TABLE} (id {identity}, originator_id {uuid} NOT NULL, originator_version BIGINT NOT NULL, "
            f"topic TEXT NOT NULL, state {binary} NOT NULL)"
        ))
        connection.execute(text(f"CREATE UNIQUE INDEX {TABLE}_key ON {TABLE} (originator_id, originator_version)"))


def _fresh(ledger: Ledger, measure: Any, batches: list[list[Any]]) -> Any:
    fresh_table(ledger)
    return measure(ledger, batches)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.lean_events")
    parser.add_argument("--size", type=int, default=10)
    parser.add_argument("--backends", default="sqlite,postgres")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ledger-lean-") as folder:
        for name in arguments.backends.split(","):
            backend = SqliteBackend(Path(folder)) if name == "sqlite" else PostgresBackend(postgres_url())
            if name == "postgres":
                backend.ensure_database()
            with Ledger(backend.fresh_store("lean")) as ledger:
                batches = capture_batches(ledger, arguments.size)
                documents = sum(1 for events in batches for e in events if getattr(e, "document_id", None))
                events = sum(len(b) for b in batches)
                today = min(_fresh(ledger, per_document, batches) for _ in range(3))
                lean, rows = min(_fresh(ledger, per_book_batch, batches) for _ in range(3))
                print(f"{name}: {documents:,} documents, {events:,} events in {len(batches)} batches; "
                      f"chain + encode + write: per document {today:.3f} s ({today / documents * 1e6:.1f} µs a document), "
                      f"per book and batch {lean:.3f} s ({rows:,} events, {lean / documents * 1e6:.1f} µs a document): "
                      f"{today / lean:.2f} × faster")


if __name__ == "__main__":
    main()
