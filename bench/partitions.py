"""Scratch measurement (issue 12): the events and line tables partitioned by fiscal year, or not, at 10 million events.

``python -m bench.partitions --events 10000000 --size 20`` on the PostgreSQL
database at ``LEDGER_BENCH_POSTGRES`` (whose ``ledger_*``, ``proj_*`` and
``bench_*`` tables it drops), for each layout in turn:

- **plain**: the tables as the ledger creates them;
- **by fiscal year**: before the ledger opens the store, ``ledger_events``
  is created ``PARTITION BY LIST (fiscal_year)`` with a ``fiscal_year``
  column (one partition per year 2013–2024 and a default one; primary key
  ``(id, fiscal_year)``, unique ``(originator_id, originator_version,
  fiscal_year)``), and ``proj_lines`` ``PARTITION BY RANGE
  (effective_date)``, a partition per calendar year and a default one
  (primary key ``(notification_id, line, effective_date)``, the same
  secondary index, created on the parent). The ``eventsourcing`` recorder
  writes only its four columns, so the ledger's own events land in the
  default partition (``fiscal_year`` 0), as a current year's would land in
  its own small partition; the synthetic events carry their book's year.

Then, the same for both layouts:

1. the size-``--size`` province file is posted to a scratch SQLite store
   only to have real books to copy (the bench's ``reads`` helpers);
2. the PostgreSQL store is filled to ``--events`` synthetic events of a
   province's 1,600 books and their ``proj_lines`` rows (``reads.Filler``),
   then ``CHECKPOINT`` and ``VACUUM ANALYZE``; the projector's position is
   set past them, as if it had folded them;
3. **posting**: the province file is posted through ``Ledger.post`` into
   that store (projections current), in postings/s;
4. **as-of reads**: ``queries.balances_as_of`` of random province books and
   dates (``reads.time_as_of_reads``: a first pass, then read again);
5. **rebuild**: the projection tables are emptied (``TRUNCATE``, keeping
   their layout) and the projector catches up from the start of the log:
   every event is read, the ledger's own are folded again.

Not part of ``make bench``: it fills the database twice (about 20 minutes).
The figures are in docs/scaling.md.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bench import reads
from bench.baselines import copy_text, read_event_rows
from bench.run import generate_file, post_in_process
from bench.stores import PostgresBackend, SqliteBackend, postgres_url
from ledger.store import Ledger

YEARS = range(2013, 2025)
LAYOUTS = ("plain", "by fiscal year")


def progress(message: str) -> None:
    print(f"partitions: {message}", file=sys.stderr, flush=True)


def create_partitioned_tables(connection: Any) -> None:
    """``ledger_events`` by LIST (fiscal_year) and ``proj_lines`` by RANGE (effective_date), a partition per year."""
    statements = [
        "CREATE TABLE ledger_events (id BIGSERIAL NOT NULL, originator_id UUID NOT NULL, originator_version BIGINT NOT NULL,"
        " topic TEXT NOT NULL, state BYTEA NOT NULL, fiscal_year INTEGER NOT NULL DEFAULT 0,"
        " PRIMARY KEY (id, fiscal_year)) PARTITION BY LIST (fiscal_year)",
        "CREATE UNIQUE INDEX ledger_events_aggregate_idx ON ledger_events (originator_id, originator_version, fiscal_year)",
        "CREATE TABLE ledger_events_default PARTITION OF ledger_events DEFAULT",
        "CREATE TABLE proj_lines (notification_id BIGINT NOT NULL, line INTEGER NOT NULL, book_id VARCHAR(32) NOT NULL,"
        " version INTEGER NOT NULL, kind VARCHAR(40) NOT NULL, document_id VARCHAR(64) NOT NULL, period VARCHAR(7) NOT NULL,"
        " voucher INTEGER NOT NULL, effective_date VARCHAR(10) NOT NULL, recorded_at VARCHAR(32) NOT NULL,"
        " account VARCHAR(16) NOT NULL, tier INTEGER NOT NULL, amount_fen BIGINT NOT NULL,"
        " PRIMARY KEY (notification_id, line, effective_date)) PARTITION BY RANGE (effective_date)",
        "CREATE INDEX ix_proj_lines_book_date ON proj_lines"
        " (book_id, effective_date, account, tier, kind, amount_fen, recorded_at)",
        "CREATE TABLE proj_lines_default PARTITION OF proj_lines DEFAULT",
    ]
    for year in YEARS:
        statements.append(f"CREATE TABLE ledger_events_{year} PARTITION OF ledger_events FOR VALUES IN ({year})")
        statements.append(f"CREATE TABLE proj_lines_{year} PARTITION OF proj_lines"
                          f" FOR VALUES FROM ('{year}-01-01') TO ('{year + 1}-01-01')")
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)
    connection.commit()


class YearFiller(reads.Filler):
    """The bench's filler, writing each synthetic event's fiscal year (its book's) into ``ledger_events.fiscal_year``."""

    def _write(self, chunk: list[Any]) -> None:
        tail = f"\t{copy_text(reads.FILLER_TOPIC)}\t\\\\x{self.state.hex()}\n"
        years = {book.id: book.year for book in self.books}
        text = "".join(f"{book}\t{version}\t{years[book]}{tail}" for book, version in chunk)
        parts = []
        for notification_id, shared, group in self._events(chunk):
            middle = "\t".join(map(str, shared))
            parts.extend(f"{notification_id}\t{number}\t{middle}\t{line}" for number, line in enumerate(group.copy_lines))
        with self.connection.cursor() as cursor:
            cursor.copy_expert(f"COPY {self.table} (originator_id, originator_version, fiscal_year, topic, state) FROM STDIN",
                               io.StringIO(text))
            cursor.copy_expert(f"COPY proj_lines ({', '.join(reads.LINE_COLUMNS)}) FROM STDIN", io.StringIO("".join(parts)))
        self.connection.commit()
        self.lines += len(parts)


def templates_from_sqlite(folder: Path, file: Path) -> tuple[list[reads.ProvinceBook], dict[str, list[reads.LineGroup]], bytes]:
    """Post the file to a scratch SQLite store; return the province books, their line templates and a median event state."""
    backend = SqliteBackend(folder)
    url = backend.fresh_store("templates")
    with Ledger(url) as ledger:
        post_in_process(ledger, file)
    connection = backend.connect(url)
    try:
        templates = reads.line_templates(connection)
        books = reads.add_province_books(connection, "?")
        rows = read_event_rows(connection, "ledger_events")
    finally:
        connection.close()
    median = statistics.median(len(row[3]) for row in rows)
    state = min((row[3] for row in rows), key=lambda value: abs(len(value) - median))
    return books, templates, state


def table_bytes(connection: Any, table: str) -> int:
    """Heap and indexes of a table, its partitions included."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT coalesce((SELECT sum(pg_total_relation_size(relid)) FROM pg_partition_tree(%s::regclass)),"
            " pg_total_relation_size(%s::regclass))", (table, table)
        )
        (size,) = cursor.fetchone()
    connection.commit()
    return int(size)


def explain_as_of(connection: Any, samples: list[Any], count: int) -> dict[str, Any]:
    """Buffers (8 kB pages, shared hits + reads) and server time of the as-of statement, by ``EXPLAIN (ANALYZE, BUFFERS)``.

    Pages touched do not depend on the machine's load, which the latencies do.
    """
    statement = (
        "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) SELECT account, tier,"
        " sum(CASE WHEN amount_fen > 0 THEN amount_fen ELSE 0 END), sum(CASE WHEN amount_fen < 0 THEN -amount_fen ELSE 0 END),"
        " sum(CASE WHEN kind = 'YearClosed' THEN amount_fen ELSE 0 END) FROM proj_lines"
        " WHERE book_id IN (%s) AND effective_date <= %s AND (%s::text IS NULL OR recorded_at <= %s)"
        " GROUP BY account, tier ORDER BY account, tier"
    )
    buffers, reads_from_disk, milliseconds, scans = [], [], [], set()
    with connection.cursor() as cursor:
        for book_id, through, known_on in samples[:count]:
            cursor.execute(statement, (book_id, through.isoformat(), known_on, known_on))
            (plan,) = cursor.fetchone()[0]
            top = plan["Plan"]
            buffers.append(top["Shared Hit Blocks"] + top["Shared Read Blocks"])
            reads_from_disk.append(top["Shared Read Blocks"])
            milliseconds.append(plan["Execution Time"])
            node = top
            while "Plans" in node:
                node = node["Plans"][0]
            scans.add(node["Node Type"])
    connection.commit()
    ordered = sorted(buffers)
    return {"reads": len(buffers), "buffers_median": statistics.median(buffers), "buffers_p99": ordered[int(0.99 * (len(ordered) - 1))],
            "disk_reads_median": statistics.median(reads_from_disk), "server_ms_median": statistics.median(milliseconds),
            "server_ms_p99": sorted(milliseconds)[int(0.99 * (len(milliseconds) - 1))], "scans": sorted(scans)}


def measure_layout(layout: str, backend: PostgresBackend, file: Path, books: list[reads.ProvinceBook],
                   templates: dict[str, list[reads.LineGroup]], state: bytes, arguments: argparse.Namespace) -> dict[str, Any]:
    figures: dict[str, Any] = {"layout": layout}
    url = backend.fresh_store("partitions")
    connection = backend.connect(url)
    try:
        if layout != "plain":
            create_partitioned_tables(connection)
        with Ledger(url) as ledger:
            filler_class = YearFiller if layout != "plain" else reads.Filler
            filler = filler_class("postgres", connection, "ledger_events", books, state, 0, templates, seed=arguments.seed)
            progress(f"{layout}: filling to {arguments.events:,} events")
            seconds = filler.fill_to(arguments.events, time.perf_counter() + arguments.fill_budget)
            settle = filler.settle()
            figures["fill"] = {"events": filler.rows, "lines": filler.lines, "seconds": seconds, "settle_seconds": settle,
                               "events_per_second": filler.rows / seconds}
            with connection.cursor() as cursor:
                cursor.execute("UPDATE proj_tracking SET notification_id = (SELECT max(id) FROM ledger_events)")
            connection.commit()
            figures["bytes"] = {table: table_bytes(connection, table) for table in ("ledger_events", "proj_lines")}

            progress(f"{layout}: posting {file.name} onto {filler.rows:,} events")
            posting = post_in_process(ledger, file)
            figures["posting"] = {**asdict(posting), "postings_per_second": posting.rate(posting.postings)}

            progress(f"{layout}: as-of reads")
            dated = reads.province_dated_books(books)
            samples = reads.as_of_samples(dated, arguments.seed, reads.WARM_UP_READS + arguments.reads)
            ledger_read = reads.ledger_as_of_reader(ledger.engine)
            driver_read = reads.driver_as_of_reader(connection, "%s")
            reads.check_as_of_readers(ledger_read, driver_read, samples)
            first, again, driver = reads.time_as_of_reads(ledger_read, driver_read, samples, arguments.reads)
            figures["as_of"] = {"first_pass": asdict(first), "again": asdict(again), "driver": asdict(driver)}

            if layout == "plain" and arguments.explain:
                progress(f"{layout}: pages an as-of read touches, covering index and the previous one")
                figures["explain"] = {"covering": explain_as_of(connection, samples, arguments.explain)}
                with connection.cursor() as cursor:
                    cursor.execute("CREATE INDEX bench_previous_book_date ON proj_lines (book_id, effective_date, account, tier)")
                    cursor.execute("DROP INDEX ix_proj_lines_book_date")
                connection.commit()
                connection.autocommit = True
                with connection.cursor() as cursor:
                    cursor.execute("VACUUM ANALYZE proj_lines")
                connection.autocommit = False
                figures["explain"]["previous"] = explain_as_of(connection, samples, arguments.explain)
                with connection.cursor() as cursor:
                    cursor.execute("DROP INDEX bench_previous_book_date")
                    cursor.execute("CREATE INDEX ix_proj_lines_book_date ON proj_lines"
                                   " (book_id, effective_date, account, tier, kind, amount_fen, recorded_at)")
                connection.commit()

            progress(f"{layout}: rebuild from the start of the log")
            events = int(ledger.app.recorder.max_notification_id() or 0)
            started = time.perf_counter()
            with connection.cursor() as cursor:
                cursor.execute("TRUNCATE proj_books, proj_balances, proj_fiscal_accounts, proj_lines, proj_periods")
                cursor.execute("UPDATE proj_tracking SET notification_id = 0")
            connection.commit()
            ledger.projector._book_keys.clear()
            applied = ledger.projector.catch_up()
            seconds = time.perf_counter() - started
            figures["rebuild"] = {"events_read": applied, "log_events": events, "seconds": seconds,
                                  "events_per_second": applied / seconds}
    finally:
        connection.close()
        backend.remove_store(url)
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.partitions", description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--size", type=int, default=20, help="demo generator size of the file posted at that depth")
    parser.add_argument("--reads", type=int, default=reads.BALANCE_READS)
    parser.add_argument("--fill-budget", type=float, default=1800)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--layouts", default=",".join(LAYOUTS))
    parser.add_argument("--explain", type=int, default=200,
                        help="as-of reads explained (ANALYZE, BUFFERS) with the covering index and the previous one (plain layout)")
    parser.add_argument("--json", type=Path)
    arguments = parser.parse_args(argv)
    backend = PostgresBackend(postgres_url())
    backend.ensure_database()
    results = {"uptime_before": os.getloadavg(), "layouts": []}
    with tempfile.TemporaryDirectory(prefix="ledger-partitions-") as name:
        folder = Path(name)
        generate_file(folder, arguments.size, arguments.seed)
        file = folder / f"province-size-{arguments.size}.jsonl"
        books, templates, state = templates_from_sqlite(folder, file)
        for layout in [value.strip() for value in arguments.layouts.split(",")]:
            results["layouts"].append(measure_layout(layout, backend, file, books, templates, state, arguments))
            results.setdefault("load_after", []).append(os.getloadavg())
    text = json.dumps(results, indent=2, default=str)
    print(text)
    if arguments.json:
        arguments.json.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
