"""Scratch measurement (issue 12): the events and line tables partitioned by fiscal year, or not, at 10 million events.

``python -m bench.partitions --events 10000000 --size 20`` fills two
PostgreSQL databases beside the one ``LEDGER_BENCH_POSTGRES`` names
(``<name>_plain`` and ``<name>_by_year``; their ``ledger_*``, ``proj_*`` and
``bench_*`` tables are dropped), one per layout:

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

Each is filled to ``--events`` synthetic events of a province's 1,600 books
and their ``proj_lines`` rows (``reads.Filler``; the books and line
templates come from posting the size-``--size`` province file to a scratch
SQLite store), then ``CHECKPOINT`` and ``VACUUM ANALYZE``; the projector's
position is set past them, as if it had folded them. Then, so that a change
in the machine's load falls on both layouts alike, they take turns:

1. **posting**: the province file in ``--rounds`` consecutive pieces, each
   posted through ``Ledger.post`` (projections current) to one layout and
   then the other, the first alternating, in postings/s;
2. **as-of reads**: ``queries.balances_as_of`` of random province books and
   dates (and the same SQL through the bare driver), the samples in the
   same rounds, each a first read in its layout; then ``EXPLAIN (ANALYZE,
   BUFFERS)`` of ``--explain`` of them in each, for the pages touched, which
   the load does not move;
3. **rebuild**: the projection tables are emptied (``TRUNCATE``, keeping
   their layout) and the projector catches up from the start of the log:
   every event is read, the ledger's own are folded again.

Not part of ``make bench``: it fills two databases (at 10 million events about 25 GB and 30–60 minutes).
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
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

from bench import reads
from bench.baselines import copy_text, read_event_rows
from bench.run import generate_file, post_in_process
from bench.stores import PostgresBackend, SqliteBackend, postgres_url
from ledger import formats
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
        self.write_months()
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


@dataclass
class Layout:
    """One layout's store, filled and open: its own PostgreSQL database, so both layouts can be measured turn about."""

    name: str
    backend: PostgresBackend
    url: str
    connection: Any
    ledger: Ledger
    figures: dict[str, Any]


def fill_layout(name: str, url: str, books: list[reads.ProvinceBook], templates: dict[str, list[reads.LineGroup]],
                state: bytes, arguments: argparse.Namespace) -> Layout:
    """A fresh store in the layout, filled to ``--events`` synthetic events and their lines, the projector set past them."""
    backend = PostgresBackend(url)
    backend.ensure_database()
    url = backend.fresh_store("partitions")
    connection = backend.connect(url)
    if name != "plain":
        # The store's format first, as a new store records it before any table (ledger.formats.prepare).
        engine = create_engine(url)
        formats.prepare(engine, url, lambda: None)
        engine.dispose()
        create_partitioned_tables(connection)
    ledger = Ledger(url)
    figures: dict[str, Any] = {"layout": name, "database": make_url(url).database}
    filler_class = YearFiller if name != "plain" else reads.Filler
    filler = filler_class("postgres", connection, "ledger_events", books, state, 0, templates, seed=arguments.seed)
    progress(f"{name}: filling to {arguments.events:,} events (load {os.getloadavg()[0]:.1f})")
    seconds = filler.fill_to(arguments.events, time.perf_counter() + arguments.fill_budget)
    settle = filler.settle()
    figures["fill"] = {"events": filler.rows, "lines": filler.lines, "seconds": seconds, "settle_seconds": settle,
                       "events_per_second": filler.rows / seconds, "load_after": os.getloadavg()}
    with connection.cursor() as cursor:
        cursor.execute("UPDATE proj_tracking SET notification_id = (SELECT max(id) FROM ledger_events)")
    connection.commit()
    figures["bytes"] = {table: table_bytes(connection, table) for table in ("ledger_events", "proj_lines", "proj_months")}
    # The filler writes proj_months itself: prove it against the lines for a few books before reading.
    figures["months_checked"] = reads.check_months(connection, "%s", [book.id.hex for book in books[:: max(1, len(books) // 5)]])
    return Layout(name, backend, url, connection, ledger, figures)


def split_file(file: Path, parts: int) -> list[Path]:
    """The file's lines in ``parts`` consecutive pieces (document order kept), each written beside it."""
    lines = file.read_text(encoding="utf-8").splitlines(keepends=True)
    size = -(-len(lines) // parts)
    pieces = []
    for number in range(parts):
        piece = file.with_name(f"{file.stem}-part-{number + 1}.jsonl")
        piece.write_text("".join(lines[number * size:(number + 1) * size]), encoding="utf-8")
        pieces.append(piece)
    return pieces


def measure_turn_about(layouts: list[Layout], file: Path, books: list[reads.ProvinceBook], arguments: argparse.Namespace) -> None:
    """Posting, as-of reads and rebuild, each layout in turn piece by piece, so a change in the machine's load falls on both.

    Posting: the file in ``--rounds`` consecutive pieces, each posted to every
    layout before the next piece (the first layout alternates). As-of reads:
    the samples in the same number of rounds, each layout's first pass over a
    round before the next round. Rebuild: one after the other, the order
    reversed from the fill's.
    """
    pieces = split_file(file, arguments.rounds)
    postings: dict[str, list[Any]] = {layout.name: [] for layout in layouts}
    for number, piece in enumerate(pieces):
        order = layouts if number % 2 == 0 else layouts[::-1]
        for layout in order:
            progress(f"{layout.name}: posting {piece.name} (load {os.getloadavg()[0]:.1f})")
            postings[layout.name].append(post_in_process(layout.ledger, piece))
    for layout in layouts:
        done = postings[layout.name]
        seconds = sum(p.seconds for p in done)
        count = sum(p.postings for p in done)
        layout.figures["posting"] = {"documents": sum(p.documents for p in done), "postings": count, "seconds": seconds,
                                     "postings_per_second": count / seconds, "rounds": [asdict(p) for p in done]}

    dated = reads.province_dated_books(books)
    samples = reads.as_of_samples(dated, arguments.seed, reads.WARM_UP_READS + arguments.reads)
    readers = {}
    for layout in layouts:
        ledger_read = reads.ledger_as_of_reader(layout.ledger.engine)
        driver_read = reads.driver_as_of_reader(layout.connection, "%s")
        reads.check_as_of_readers(ledger_read, driver_read, samples)
        readers[layout.name] = (ledger_read, driver_read)
    timed = samples[reads.WARM_UP_READS:]
    size = -(-len(timed) // arguments.rounds)
    durations: dict[str, dict[str, list[float]]] = {layout.name: {"first": [], "driver": []} for layout in layouts}
    for number in range(arguments.rounds):
        chunk = timed[number * size:(number + 1) * size]
        order = layouts if number % 2 == 0 else layouts[::-1]
        for layout in order:
            progress(f"{layout.name}: as-of reads, round {number + 1} (load {os.getloadavg()[0]:.1f})")
            ledger_read, driver_read = readers[layout.name]
            for sample in chunk:
                started = time.perf_counter()
                ledger_read(*sample)
                durations[layout.name]["first"].append(time.perf_counter() - started)
            for sample in chunk:
                started = time.perf_counter()
                driver_read(*sample)
                durations[layout.name]["driver"].append(time.perf_counter() - started)
    for layout in layouts:
        layout.figures["as_of"] = {}
        for kind, values in durations[layout.name].items():
            median_ms, p99_ms = reads._median_p99_ms(values)
            layout.figures["as_of"][kind] = {"reads": len(values), "median_ms": median_ms, "p99_ms": p99_ms}
        if arguments.explain:
            progress(f"{layout.name}: pages an as-of read touches (EXPLAIN ANALYZE, BUFFERS)")
            layout.figures["explain"] = explain_as_of(layout.connection, timed, arguments.explain)

    for layout in layouts[::-1]:
        progress(f"{layout.name}: rebuild from the start of the log (load {os.getloadavg()[0]:.1f})")
        events = int(layout.ledger.app.recorder.max_notification_id() or 0)
        started = time.perf_counter()
        with layout.connection.cursor() as cursor:
            cursor.execute("TRUNCATE proj_books, proj_balances, proj_fiscal_accounts, proj_lines, proj_months, proj_periods")
            cursor.execute("UPDATE proj_tracking SET notification_id = 0")
        layout.connection.commit()
        layout.ledger.projector._book_keys.clear()
        applied = layout.ledger.projector.catch_up()
        seconds = time.perf_counter() - started
        layout.figures["rebuild"] = {"events_read": applied, "log_events": events, "seconds": seconds,
                                     "events_per_second": applied / seconds, "load_after": os.getloadavg()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.partitions", description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--size", type=int, default=20, help="demo generator size of the file posted at that depth")
    parser.add_argument("--reads", type=int, default=reads.BALANCE_READS)
    parser.add_argument("--rounds", type=int, default=4, help="pieces of the posting and of the reads, taken by each layout in turn")
    parser.add_argument("--fill-budget", type=float, default=3600)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--layouts", default=",".join(LAYOUTS))
    parser.add_argument("--keep", action="store_true", help="leave both databases filled (to measure again)")
    parser.add_argument("--explain", type=int, default=200, help="as-of reads explained (ANALYZE, BUFFERS) in each layout")
    parser.add_argument("--json", type=Path)
    arguments = parser.parse_args(argv)
    base = make_url(postgres_url())
    names = [value.strip() for value in arguments.layouts.split(",")]
    results: dict[str, Any] = {"uptime_before": os.getloadavg(), "layouts": []}
    layouts: list[Layout] = []
    with tempfile.TemporaryDirectory(prefix="ledger-partitions-") as name:
        folder = Path(name)
        generate_file(folder, arguments.size, arguments.seed)
        file = folder / f"province-size-{arguments.size}.jsonl"
        books, templates, state = templates_from_sqlite(folder, file)
        try:
            for layout_name in names:
                database = f"{base.database}_{'plain' if layout_name == 'plain' else 'by_year'}"
                url = base.set(database=database).render_as_string(hide_password=False)
                layouts.append(fill_layout(layout_name, url, books, templates, state, arguments))
            measure_turn_about(layouts, file, books, arguments)
        finally:
            for layout in layouts:
                results["layouts"].append(layout.figures)
                layout.ledger.close()
                layout.connection.close()
                if not arguments.keep:
                    layout.backend.remove_store(layout.url)
    results["load_after"] = os.getloadavg()
    text = json.dumps(results, indent=2, default=str)
    print(text)
    if arguments.json:
        arguments.json.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
