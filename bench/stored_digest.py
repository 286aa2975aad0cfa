"""``python -m bench.stored_digest --size N --backend sqlite|postgres``: a digest of every row posting a file stores.

Posts the demo file at ``--size`` in-process (``read_records`` then
``Ledger.post``, as ``ledger post`` does) on a fresh store with the event
clock fixed (each event's timestamp is one microsecond after the last,
from 2026-01-01T00:00:00+00:00), then prints, per table, the number of rows
and the SHA-256 of its rows read back in key order, and one digest of all
of them. Two versions of the ledger that write the same bytes for the same
file print the same lines; to compare a change with its base, run the
base from a folder of its own (``python -m`` puts the current folder first
on the path, before ``PYTHONPATH``, so the base must be the current folder):

    mkdir /tmp/base && git archive BASE ledger bench | tar -x -C /tmp/base && cp bench/stored_digest.py /tmp/base/bench/
    (cd /tmp/base && $OLDPWD/.venv/bin/python -m bench.stored_digest --size 10 --backend sqlite)
    .venv/bin/python -m bench.stored_digest --size 10 --backend sqlite

Every column of every table of the store is read (events with their
chain, registry rows, projections), as the driver returns it.
PostgreSQL is reached at ``LEDGER_BENCH_POSTGRES``, whose ``ledger_*``,
``proj_*`` and ``bench_*`` tables are dropped first.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import eventsourcing.domain
from sqlalchemy import inspect, text

from bench.stores import PostgresBackend, SqliteBackend, postgres_url
from ledger.demo import generate_documents
from ledger.reader import read_records
from ledger.store import Ledger

EPOCH = datetime(2026, 1, 1, tzinfo=timezone.utc)


def fix_clock() -> None:
    """Make every new event's timestamp the last one plus a microsecond, so two runs store the same bytes."""
    ticks = iter(range(1 << 62))
    eventsourcing.domain.datetime_now_with_tzinfo = lambda: EPOCH + timedelta(microseconds=next(ticks))  # type: ignore[assignment]


def digests(ledger: Ledger) -> dict[str, tuple[int, str]]:
    """Per table: (rows, SHA-256 of the rows' reprs in the order of every column)."""
    found: dict[str, tuple[int, str]] = {}
    with ledger.engine.connect() as connection:
        for table in sorted(inspect(connection).get_table_names()):
            columns = [column["name"] for column in inspect(connection).get_columns(table)]
            order = ", ".join(f'"{name}"' for name in columns)
            rows = connection.execute(text(f'SELECT {order} FROM "{table}" ORDER BY {order}')).all()
            digest = hashlib.sha256()
            for row in rows:
                digest.update(repr(tuple(bytes(v) if isinstance(v, memoryview) else v for v in row)).encode("utf-8") + b"\n")
            found[table] = (len(rows), digest.hexdigest())
    return found


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.stored_digest", description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=10)
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    arguments = parser.parse_args()
    fix_clock()
    with tempfile.TemporaryDirectory(prefix="ledger-digest-") as folder:
        file = Path(folder) / "province.jsonl"
        file.write_text("".join(json.dumps(raw, ensure_ascii=False) + "\n" for raw in generate_documents(size=arguments.size)),
                        encoding="utf-8")
        backend: Any
        if arguments.backend == "postgres":
            backend = PostgresBackend(postgres_url())
            backend.ensure_database()
        else:
            backend = SqliteBackend(Path(folder))
        with Ledger(backend.fresh_store("digest")) as ledger:
            with file.open(encoding="utf-8") as stream:
                outcomes = list(ledger.post(r.document for r in read_records(stream, "jsonl", "bench") if r.document is not None))
            statuses: dict[str, int] = {}
            for outcome in outcomes:
                statuses[outcome.status] = statuses.get(outcome.status, 0) + 1
            print(f"outcomes: {json.dumps(statuses, sort_keys=True)}, postings {sum(o.postings for o in outcomes)}")
            everything = hashlib.sha256()
            for table, (count, digest) in digests(ledger).items():
                print(f"{table}: {count} rows, {digest}")
                everything.update(f"{table}:{count}:{digest}\n".encode())
            print(f"all: {everything.hexdigest()}")


if __name__ == "__main__":
    main()
