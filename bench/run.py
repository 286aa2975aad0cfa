"""``python -m bench.run --size N``: measure the ledger on SQLite and PostgreSQL against same-run baselines.

For each backend, in this order:

1. post a synthetic province (the demo generator at ``--size``) through
   ``Ledger(url).post`` with projections kept current, on a fresh store;
2. insert the rows the ledger wrote with the bare driver, and save as many
   events with the untouched ``eventsourcing`` library (``bench.baselines``);
   write every row of every table the ledger's store holds with the bare
   driver, a transaction per batch (the floor, ``bench.floor``); on
   PostgreSQL with ``PGLEDGER=PATH``, time the pgledger peer on 1 and 4
   connections (``bench.peer``), or say it was skipped;
3. read the notification log raw, then rebuild the projections;
4. time balance reads and as-of reads (``queries.balances_as_of``) on the
   posted store, then on the province's books with the events table filled
   to each ``--query-events`` count and ``proj_lines`` filled with those
   events' posting lines (``bench.reads``);
5. run ``ledger post`` as a child process at N and 4N documents for peak
   memory and how the cost grows (``bench.processes``);
6. put ``ledger serve`` under 1, 8 and 32 concurrent HTTP clients and check
   the books afterwards (``bench.service``).

Everything is printed as one table at the end (``bench.report``); ``--json``
writes every figure. The ledger is measured only through its public API, so
the bench measures whatever the posting path does when it runs.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from bench import baselines, floor, peer, reads, service, writers
from bench.processes import ChildRun, post_in_child, startup
from bench.report import Report, Row, number
from bench.stores import Backend, PostgresBackend, SqliteBackend, postgres_url
from ledger.demo import generate_documents
from ledger.reader import read_records
from ledger.store import Ledger

DEFAULT_QUERY_EVENTS = "1000000,10000000"
# Filling 10 million events and their ~20 million posting lines took about 250 s on PostgreSQL here (docs/performance.md).
DEFAULT_FILL_BUDGET_SECONDS = 600
GROWTH_FACTOR = 4
BASELINE_REPEATS = 3
PACKAGES = ("eventsourcing", "eventsourcing-sqlalchemy", "SQLAlchemy", "psycopg2-binary")
TARGET_POSTINGS_PER_SECOND = 40_000
TARGET_P99_MS = 5.0


@dataclass(frozen=True)
class Posting:
    """One posting run in this process."""

    documents: int
    postings: int
    events: int
    seconds: float
    statuses: dict[str, int]

    def rate(self, count: int) -> float:
        return count / self.seconds


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, required=True, help="demo generator size (documents grow linearly with it)")
    parser.add_argument("--backends", default="sqlite,postgres", help="comma-separated: sqlite, postgres")
    parser.add_argument("--query-events", default=DEFAULT_QUERY_EVENTS,
                        help="event counts at which balance and as-of reads are timed (comma-separated; empty for none)")
    parser.add_argument("--fill-budget", type=float, default=DEFAULT_FILL_BUDGET_SECONDS,
                        help="seconds per backend for filling the events table and proj_lines; the fill stops there and says so")
    parser.add_argument("--reads", type=int, default=reads.BALANCE_READS, help="balance reads, and as-of reads, per measurement")
    parser.add_argument("--seed", type=int, default=7, help="generator and read-sampling seed")
    parser.add_argument("--service-clients", default=",".join(map(str, service.CLIENTS)),
                        help="the service under load (bench.service): numbers of concurrent HTTP clients, comma-separated; empty for none")
    parser.add_argument("--service-servers", default=service.servers_text(service.SERVERS),
                        help="servers measured on PostgreSQL: processes x ledgers per process, comma-separated (1x1,1x4,2x4)")
    parser.add_argument("--service-documents", type=int, default=service.DOCUMENTS, help="documents posted under load per run")
    parser.add_argument("--peer-seconds", type=float, default=peer.DEFAULT_SECONDS,
                        help=f"seconds pgledger is timed on each of {', '.join(map(str, peer.CONNECTIONS))} connections "
                             f"(only with {peer.PGLEDGER_VARIABLE}=PATH of a pgledger checkout)")
    parser.add_argument("--only-reads", action="store_true",
                        help="post the file, then time only the balance and as-of reads (no baselines, floor, peer, rebuild, "
                             "child processes, writers or service)")
    parser.add_argument("--json", type=Path, help="write every figure to this file")
    arguments = parser.parse_args(argv)
    arguments.backends = [name.strip() for name in arguments.backends.split(",") if name.strip()]
    arguments.query_events = [int(value) for value in arguments.query_events.replace("_", "").split(",") if value.strip()]
    unknown = set(arguments.backends) - {"sqlite", "postgres"}
    if unknown or arguments.size < 1:
        parser.error(f"unknown backends {', '.join(sorted(unknown))}" if unknown else "--size must be at least 1")
    return arguments


def main(argv: list[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    started = time.perf_counter()
    report = Report()
    with tempfile.TemporaryDirectory(prefix="ledger-bench-") as folder_name:
        folder = Path(folder_name)
        files = generate_files(folder, arguments.size, arguments.seed, report)
        idle = startup()
        report.figures["startup"] = {"seconds": idle.seconds, "peak_rss_mb": idle.peak_rss_mb}
        backends: list[Backend] = []
        for name in arguments.backends:
            backend = open_backend(name, folder, report)
            if backend is not None:
                backends.append(backend)
        report.figures["machine"] = machine_facts(backends)
        for backend in backends:
            measure_backend(backend, files, arguments, idle, report)
    add_general_notes(report)
    report.figures["bench_seconds"] = elapsed = time.perf_counter() - started
    report.note(f"the whole bench took {elapsed:.0f} s")
    print(header(report.figures, arguments))
    print(report.text())
    if arguments.json:
        report.write_json(arguments.json)
        print(f"\nwrote {arguments.json}")
    return 0


def add_general_notes(report: Report) -> None:
    figures = report.figures
    books = {name: figures[name]["books"] for name in ("sqlite", "postgres") if name in figures}
    report.note(
        "posting runs post every document of the file in order on a fresh store; the in-process run times "
        "read_records + Ledger.post; the `ledger post` runs are child processes, their rate is over the wall time less "
        f"{figures['startup']['seconds']:.2f} s (the fastest `ledger --help`: interpreter and imports)"
    )
    report.note(
        f"raw inserts put the ledger's own rows into a fresh table of the same shape, one transaction, pages of {baselines.PAGE_ROWS}; "
        f"raw inserts and the raw read are the fastest of {BASELINE_REPEATS} runs; "
        f"the eventsourcing baseline saves {baselines.EVENTS_PER_SAVE} events per save on {baselines.LIBRARY_AGGREGATES} aggregates "
        "kept in memory (a few long aggregates, like the ledger's books)"
    )
    if books:
        counts = ", ".join(f"{name} {count}" for name, count in books.items())
        report.note(
            f"books: the generator's districts are fixed, so a province file has the same books at every size ({counts}); "
            "posting cost is measured against events only; reads are measured with the posted books and with "
            f"{reads.PROVINCE_REGIONS * len(reads.PROVINCE_SCHEMES) * reads.PROVINCE_YEARS:,} more books' projection rows "
            f"({reads.PROVINCE_REGIONS} regions × {len(reads.PROVINCE_SCHEMES)} schemes × {reads.PROVINCE_YEARS} years)"
        )
    report.note(
        "as-of reads: queries.balances_as_of(engine, [book], through, known_on) (the monthly rows proj_months before the date's month, "
        "then that month's lines of proj_lines; with known_on also the earlier months' lines recorded in known_on's month) "
        "on a random book with a random `through` day of the book's year, "
        f"{reads.KNOWN_ON_SHARE:.0%} of them also with a random `known_on` between the book's first and last recorded line; "
        "the province's synthetic events each get the lines of an ordinary event of the real book their book copies "
        f"(closes and carry-forwards left out), dated on a random day of the book's year and recorded 0–{reads.RECORDED_LAG_DAYS} days later; "
        "the driver sends the same statements, and both answers are compared first; "
        "after each fill, the monthly rows of a few books are compared with a GROUP BY over their lines; "
        "the first pass is the ledger reading each sampled book once (its pages may still be on disk), then every read is "
        "made again by the ledger and the driver, interleaved, the one or the other first in turn"
    )


def progress(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


def generate_files(folder: Path, size: int, seed: int, report: Report) -> dict[int, Path]:
    """The province file of N documents, and one of about GROWTH_FACTOR × N, written once as JSON Lines.

    The generator's documents grow linearly with its size but not in
    proportion (every district writes a fixed part of its year at any size),
    so the larger file's size is found from the line through the first two.
    """
    documents = generate_file(folder, size, seed)
    larger_size = size * GROWTH_FACTOR
    larger = generate_file(folder, larger_size, seed)
    documents_per_size = (larger - documents) / (larger_size - size)
    missing = GROWTH_FACTOR * documents - larger
    if documents_per_size > 0 and missing >= documents_per_size:
        (folder / f"province-size-{larger_size}.jsonl").unlink()
        larger_size += round(missing / documents_per_size)
        larger = generate_file(folder, larger_size, seed)
    files = {1: (size, documents), GROWTH_FACTOR: (larger_size, larger)}
    report.figures["files"] = {factor: {"size": s, "documents": n} for factor, (s, n) in files.items()}
    return {factor: folder / f"province-size-{s}.jsonl" for factor, (s, _) in files.items()}


def generate_file(folder: Path, size: int, seed: int) -> int:
    count = 0
    with (folder / f"province-size-{size}.jsonl").open("w", encoding="utf-8") as stream:
        for raw in generate_documents(size=size, seed=seed):
            stream.write(json.dumps(raw, ensure_ascii=False) + "\n")
            count += 1
    progress(f"generated {count:,} documents at size {size}")
    return count


def open_backend(name: str, folder: Path, report: Report) -> Backend | None:
    if name == "sqlite":
        return SqliteBackend(folder)
    backend = PostgresBackend(postgres_url())
    try:
        backend.ensure_database()
        backend.version()
    except Exception as error:  # no server here: measure SQLite and say so
        report.note(f"postgres skipped: cannot reach {backend.url}: {str(error).strip()}")
        progress(f"postgres skipped: {error}")
        return None
    return backend


def measure_backend(backend: Backend, files: dict[int, Path], arguments: argparse.Namespace, idle: ChildRun, report: Report) -> None:
    figures: dict[str, Any] = report.figures.setdefault(backend.name, {})
    url = backend.fresh_store("posted")
    try:
        with Ledger(url) as ledger:
            connection = backend.connect(url)
            try:
                measure_posted_store(backend, ledger, connection, files[1], arguments, figures, report)
            finally:
                connection.close()
    finally:
        backend.remove_store(url)
    if arguments.only_reads:
        return
    measure_children(backend, files, idle, figures, report)
    if backend.name == "postgres":
        measure_writers(backend, files[1], figures, report)
    clients = service.parse_counts(arguments.service_clients)
    if clients:
        service.measure(backend, arguments.size, arguments.seed, report, clients, service.parse_servers(arguments.service_servers),
                        arguments.service_documents)


def measure_writers(backend: Backend, file: Path, figures: dict[str, Any], report: Report) -> None:
    """1, 2 and 4 ``ledger post`` processes at once on disjoint districts (``bench.writers``)."""
    runs = writers.measure(file, file.parent, lambda: backend.fresh_store("writers"))
    figures["writers"] = [{**asdict(run), "postings_per_second": run.postings_per_second} for run in runs]
    single = runs[0]
    for run in runs:
        refused = "" if set(run.exit_codes) == {0} else f", exit codes {list(run.exit_codes)}"
        report.compare(backend.name, f"post: {run.writers} writer(s) at once, districts split between them, "
                                     f"{run.waiting_for_lock:.2f} waiting for a lock on average{refused}",
                       run.postings_per_second, "postings/s", "1 writer", single.postings_per_second, "postings/s")


def measure_posted_store(backend: Backend, ledger: Ledger, connection: Any, file: Path,
                         arguments: argparse.Namespace, figures: dict[str, Any], report: Report) -> None:
    name = backend.name
    progress(f"{name}: posting {file.name}")
    posting = post_in_process(ledger, file)
    figures["posting"] = {**asdict(posting), "documents_per_second": posting.rate(posting.documents),
                          "postings_per_second": posting.rate(posting.postings), "events_per_second": posting.rate(posting.events)}
    table = getattr(ledger.app.recorder, "events_table_name", "ledger_events")
    rows = baselines.read_event_rows(connection, table)
    state_bytes = int(statistics.median(len(row[3]) for row in rows))
    figures["events_table"] = {"name": table, "rows": len(rows), "median_state_bytes": state_bytes}
    figures["books"] = len({book for book, _ in reads.balance_pairs(connection)})
    if arguments.only_reads:
        measure_reads(backend, ledger, connection, table, posting.events, state_bytes, rows, arguments, figures, report)
        return
    raw = measure_raw_inserts(backend, connection, table, rows, figures)
    library = measure_library(backend, posting.events, state_bytes, figures)
    report_posting(name, posting, raw, library, report)
    measure_floor(backend, connection, posting, figures, report)
    if isinstance(backend, PostgresBackend):
        measure_peer(backend, connection, posting, arguments, figures, report)
    measure_rebuild(backend, ledger, connection, table, posting.events, figures, report)
    measure_reads(backend, ledger, connection, table, posting.events, state_bytes, rows, arguments, figures, report)


def post_in_process(ledger: Ledger, file: Path) -> Posting:
    """Post the file through ``Ledger.post`` over ``read_records``, as ``ledger post`` does."""
    statuses: Counter[str] = Counter()
    postings = 0
    started = time.perf_counter()
    with file.open(encoding="utf-8") as stream:
        records = read_records(stream, "jsonl", "bench")
        for outcome in ledger.post(record.document for record in records if record.document is not None):
            statuses[outcome.status] += 1
            postings += outcome.postings
    seconds = time.perf_counter() - started
    events = int(ledger.app.recorder.max_notification_id() or 0)
    if set(statuses) != {"posted"}:
        raise RuntimeError(f"the province did not post cleanly: {dict(statuses)}")
    return Posting(sum(statuses.values()), postings, events, seconds, dict(statuses))


def measure_raw_inserts(backend: Backend, connection: Any, table: str, rows: list[baselines.EventRow],
                        figures: dict[str, Any]) -> dict[str, float]:
    """Rows per second of each raw driver insert of the ledger's rows."""
    progress(f"{backend.name}: raw driver inserts of {len(rows):,} rows")
    if backend.name == "postgres":
        seconds = {
            "execute_values": fastest(lambda: baselines.postgres_execute_values(connection, table, rows)),
            "COPY": fastest(lambda: baselines.postgres_copy(connection, table, rows)),
        }
        baselines.drop_postgres_raw_table(connection)
    else:
        seconds = {"executemany": fastest(lambda: sqlite_raw_insert(backend, connection, table, rows))}
    rates = {method: len(rows) / value for method, value in seconds.items()}
    figures["raw_insert"] = {"rows": len(rows), "seconds": seconds, "rows_per_second": rates}
    return rates


def sqlite_raw_insert(backend: Backend, connection: Any, table: str, rows: list[baselines.EventRow]) -> float:
    target_url = backend.fresh_store("raw")
    target = backend.connect(target_url)
    try:
        return baselines.sqlite_executemany(connection, target, table, rows)
    finally:
        target.close()
        backend.remove_store(target_url)


def fastest(measure: Callable[[], float]) -> float:
    """The least of BASELINE_REPEATS timings: a baseline is a ceiling, so its best run is the one to beat."""
    return min(measure() for _ in range(BASELINE_REPEATS))


def measure_library(backend: Backend, events: int, state_bytes: int, figures: dict[str, Any]) -> baselines.LibraryFigures:
    progress(f"{backend.name}: eventsourcing library saving {events:,} events")
    if isinstance(backend, PostgresBackend):
        # Beside the posted store, in the library's own tables (bench_library_*), dropped before and after.
        url = backend.url
        prefix = baselines.LIBRARY_APPLICATION_NAME + "_"
        clear = lambda: backend.drop_tables((prefix,))  # noqa: E731
    else:
        url = backend.fresh_store("library")
        clear = lambda: backend.remove_store(url)  # noqa: E731
    clear()
    try:
        library = baselines.library_baseline(url, events, state_bytes)
    finally:
        clear()
    figures["library"] = {**asdict(library), "events_per_second": library.events_per_second}
    return library


def report_posting(name: str, posting: Posting, raw: dict[str, float], library: baselines.LibraryFigures, report: Report) -> None:
    pg = name == "postgres"
    events, postings = posting.rate(posting.events), posting.rate(posting.postings)
    what = f"{posting.documents:,} docs, {posting.postings:,} postings, {posting.events:,} events"
    report.add(Row(name, f"post, projections current ({what})", posting.rate(posting.documents), "docs/s"))
    report.add(Row(name, "post: postings/s", postings, "postings/s",
                   target=f"≥ {TARGET_POSTINGS_PER_SECOND:,} postings/s" if pg else ""))
    report.add(Row(name, "post: events/s", events, "events/s"))
    for method, rate in raw.items():
        report.add(Row(name, f"baseline: raw {method} of the same rows", rate, "rows/s"))
    best_method, best = max(raw.items(), key=lambda item: item[1])
    target = "≥ 0.5" if pg else "(PG: ≥ 0.5)"
    report.compare(name, "post events/s ÷ raw insert", events, "events/s", f"raw {best_method}", best, "rows/s", target)
    report.compare(name, "post postings/s ÷ raw insert", postings, "postings/s", f"raw {best_method}", best, "rows/s", target)
    label = f"eventsourcing {library.events_per_save}/save"
    report.add(Row(name, f"baseline: eventsourcing library ({library.aggregates} aggregates, ~{library.state_bytes} B state)",
                   library.events_per_second, "events/s"))
    report.compare(name, "post events/s ÷ eventsourcing", events, "events/s", label, library.events_per_second, "events/s", "≥ 3")
    report.compare(name, "post postings/s ÷ eventsourcing", postings, "postings/s", label, library.events_per_second, "events/s", "≥ 3")


def measure_floor(backend: Backend, connection: Any, posting: Posting, figures: dict[str, Any], report: Report) -> None:
    """The bare driver writing every row the ledger's store holds, a transaction per batch (``bench.floor``)."""
    tables = floor.read_ledger_rows(connection, backend.name)
    batches = floor.batches_for(posting.documents)
    rows = sum(len(table.rows) for table in tables)
    progress(f"{backend.name}: the floor, {rows:,} rows of {len(tables)} tables in {batches} transactions")
    if isinstance(backend, PostgresBackend):
        try:
            seconds = fastest(lambda: floor.postgres_floor(connection, tables, batches))
        finally:
            floor.drop_postgres_copies(connection, tables)
    else:
        seconds = fastest(lambda: sqlite_floor(backend, connection, tables, batches))
    result = floor.FloorFigures({table.name: len(table.rows) for table in tables}, batches, seconds)
    figures["floor"] = {**asdict(result), "rows": result.rows, "postings_per_second": posting.postings / seconds}
    method = "COPY" if backend.name == "postgres" else "executemany"
    report.add(Row(backend.name, f"floor: the driver writes the ledger's {result.rows:,} rows ({len(tables)} tables) "
                                 f"by {method}, {batches} transactions", seconds, "s"))
    report.compare(backend.name, "post postings/s ÷ floor (same postings in the floor's time)", posting.rate(posting.postings),
                   "postings/s", "floor", posting.postings / seconds, "postings/s", "≥ 0.5")


def sqlite_floor(backend: Backend, connection: Any, tables: list[floor.TableRows], batches: int) -> float:
    target_url = backend.fresh_store("floor")
    target = backend.connect(target_url)
    try:
        return floor.sqlite_floor(connection, target, tables, batches)
    finally:
        target.close()
        backend.remove_store(target_url)


def measure_peer(backend: PostgresBackend, connection: Any, posting: Posting, arguments: argparse.Namespace,
                 figures: dict[str, Any], report: Report) -> None:
    """pgledger on the same server, as many accounts as the posted store has balance rows (``bench.peer``)."""
    try:
        checkout = peer.checkout_from_environment()
    except peer.PeerUnavailable as error:
        report.note(f"pgledger peer skipped: {error}")
        return
    if checkout is None:
        report.note(f"pgledger peer skipped: set {peer.PGLEDGER_VARIABLE}=PATH to a checkout of github.com/pgr0ss/pgledger "
                    "to time it beside the ledger")
        return
    accounts = reads.count_rows(connection, "proj_balances")
    progress(f"postgres: pgledger peer, {accounts:,} accounts, {arguments.peer_seconds:g} s on each of {peer.CONNECTIONS}")
    result = peer.measure(checkout, backend.dsn, accounts, arguments.peer_seconds, arguments.seed)
    figures["pgledger"] = {**asdict(result), "transfers_per_second": {run.connections: run.transfers_per_second for run in result.runs}}
    postings = posting.rate(posting.postings)
    targets = {1: "≥ 10", 4: "≥ 5"}
    for run in result.runs:
        report.add(Row(backend.name, f"peer: pgledger transfers, {run.connections} connection{'s' if run.connections > 1 else ''} "
                                     f"({result.accounts:,} accounts, {result.prefilled_transfers:,} prefilled)",
                       run.transfers_per_second, "transfers/s"))
        report.compare(backend.name, f"post postings/s ÷ pgledger transfers/s, {run.connections} conn.", postings, "postings/s",
                       f"pgledger {run.connections} conn.", run.transfers_per_second, "transfers/s", targets.get(run.connections, ""))
    report.note(f"pgledger {result.commit[:10]} from {result.checkout}: its own SQL files in schema {peer.SCHEMA}, "
                f"one pgledger_create_transfer call and one commit per transfer between random accounts, "
                f"{arguments.peer_seconds:g} s per connection count; a transfer writes two entries, a ledger posting one line")


def measure_rebuild(backend: Backend, ledger: Ledger, connection: Any, table: str, events: int,
                    figures: dict[str, Any], report: Report) -> None:
    progress(f"{backend.name}: raw read of the log, then rebuild")
    read_rows, read_seconds = min(
        (baselines.read_log(connection, backend.name, table) for _ in range(BASELINE_REPEATS)), key=lambda result: result[1]
    )
    started = time.perf_counter()
    applied = ledger.projector.rebuild()
    seconds = time.perf_counter() - started
    if applied != events or read_rows != events:
        raise RuntimeError(f"rebuild applied {applied} and the raw read saw {read_rows} of {events} events")
    figures["rebuild"] = {"events": applied, "seconds": seconds, "events_per_second": applied / seconds}
    figures["raw_read"] = {"rows": read_rows, "seconds": read_seconds, "rows_per_second": read_rows / read_seconds}
    report.compare(backend.name, "rebuild projections", applied / seconds, "events/s",
                   "raw read of the log", read_rows / read_seconds, "rows/s", "≥ 0.5")


def measure_reads(backend: Backend, ledger: Ledger, connection: Any, table: str, events: int, state_bytes: int,
                  rows: list[baselines.EventRow], arguments: argparse.Namespace, figures: dict[str, Any], report: Report) -> None:
    placeholder = "%s" if backend.name == "postgres" else "?"
    progress(f"{backend.name}: balance and as-of reads on the posted store")
    latencies: dict[str, Any] = figures.setdefault("balance_reads", {})
    as_of: dict[str, Any] = figures.setdefault("as_of_reads", {})
    posted_books = reads.dated_books(connection)
    time_balance_reads(backend.name, ledger, connection, placeholder, events, arguments, latencies, report)
    time_as_of_reads(backend.name, ledger, connection, placeholder, events, reads.count_rows(connection, "proj_lines"),
                     posted_books, arguments, as_of, report)
    if not arguments.query_events:
        return
    templates = reads.line_templates(connection)
    books = reads.add_province_books(connection, placeholder)
    dated = posted_books + reads.province_dated_books(books)
    # The synthetic events carry the state of a real event of the median size.
    state = min((row[3] for row in rows), key=lambda value: abs(len(value) - state_bytes))
    filler = reads.Filler(backend.name, connection, table, books, state, events, templates, seed=arguments.seed)
    deadline = time.perf_counter() + arguments.fill_budget
    for target in sorted(arguments.query_events):
        progress(f"{backend.name}: filling the events table to {target:,} rows, and proj_lines with their lines")
        before, lines_before = filler.rows, filler.lines
        seconds = filler.fill_to(target, deadline)
        settle_seconds = filler.settle()
        added, lines_added = filler.rows - before, filler.lines - lines_before
        latencies.setdefault("fills", []).append(
            {"target": target, "reached": filler.rows, "added": added, "lines": filler.lines, "lines_added": lines_added,
             "seconds": seconds, "settle_seconds": settle_seconds}
        )
        method, settle = ("COPY", "CHECKPOINT + VACUUM ANALYZE") if backend.name == "postgres" else ("executemany", "WAL checkpoint")
        rate = f"; {number(added / seconds)} events/s, {number(lines_added / seconds)} lines/s" if seconds > 0 else ""
        reached = f"{filler.rows:,} rows" if filler.rows >= target else f"{filler.rows:,} of {target:,} rows, budget spent"
        report.add(Row(backend.name, f"fill events table to {reached}, proj_lines to {filler.lines:,} "
                                     f"({added:,} events + {lines_added:,} lines by {method}{rate})", seconds, "s"))
        report.add(Row(backend.name, f"then {settle}", settle_seconds, "s"))
        # The fill writes proj_months itself: prove it against the lines for a few books before reading.
        sampled = [book.id.hex for book in books[:: max(1, len(books) // 4)]] + [posted_books[0].book_id]
        latencies.setdefault("months_checked", []).append(reads.check_months(connection, placeholder, sampled))
        if filler.rows < target:
            report.note(f"{backend.name}: the fill towards {target:,} events stopped at {filler.rows:,} after the "
                        f"{arguments.fill_budget:.0f} s budget (--fill-budget); reads are timed at {filler.rows:,}")
        time_balance_reads(backend.name, ledger, connection, placeholder, filler.rows, arguments, latencies, report,
                           target_p99=target >= 10_000_000)
        time_as_of_reads(backend.name, ledger, connection, placeholder, filler.rows, filler.lines, dated, arguments, as_of,
                         report, target_p99=target >= 10_000_000)
        if filler.rows < target:
            break


def time_balance_reads(name: str, ledger: Ledger, connection: Any, placeholder: str, events: int,
                       arguments: argparse.Namespace, latencies: dict[str, Any], report: Report, target_p99: bool = False) -> None:
    pairs = reads.balance_pairs(connection)
    ledger_latency = reads.time_reads(reads.ledger_reader(ledger.engine), pairs, arguments.seed, arguments.reads)
    driver_latency = reads.time_reads(reads.driver_reader(connection, placeholder), pairs, arguments.seed, arguments.reads)
    latencies[str(events)] = {"ledger": asdict(ledger_latency), "driver": asdict(driver_latency)}
    where = f"{events:,} events, {ledger_latency.books:,} books"
    report.compare(name, f"balance read median ({where})", ledger_latency.median_ms, "ms",
                   "same query, bare driver", driver_latency.median_ms, "ms")
    report.compare(name, f"balance read p99 ({where})", ledger_latency.p99_ms, "ms",
                   "same query, bare driver", driver_latency.p99_ms, "ms", f"< {TARGET_P99_MS:g} ms at 10M" if target_p99 else "")


def time_as_of_reads(name: str, ledger: Ledger, connection: Any, placeholder: str, events: int, lines: int,
                     books: list[reads.DatedBook], arguments: argparse.Namespace, latencies: dict[str, Any], report: Report,
                     target_p99: bool = False) -> None:
    """``queries.balances_as_of`` of one random book at a random date of its year (some also as known on a time)."""
    samples = reads.as_of_samples(books, arguments.seed, reads.WARM_UP_READS + arguments.reads)
    ledger_read = reads.ledger_as_of_reader(ledger.engine)
    driver_read = reads.driver_as_of_reader(connection, placeholder)
    reads.check_as_of_readers(ledger_read, driver_read, samples)
    first_pass, ledger_latency, driver_latency = reads.time_as_of_reads(ledger_read, driver_read, samples, arguments.reads)
    latencies[str(events)] = {"lines": lines, "first_pass": asdict(first_pass), "ledger": asdict(ledger_latency),
                              "driver": asdict(driver_latency)}
    if ledger_latency.empty:
        report.note(f"{name}: {ledger_latency.empty} of the {ledger_latency.reads:,} as-of reads at {events:,} events found no line "
                    "(a date or recorded time before the book's first)")
    where = f"{events:,} events, {lines:,} lines, {len(books):,} books"
    report.add(Row(name, f"as-of read, first pass, median ({where})", first_pass.median_ms, "ms"))
    report.add(Row(name, f"as-of read, first pass, p99 ({where})", first_pass.p99_ms, "ms",
                   target=f"< {TARGET_P99_MS:g} ms at 10M (issue 13)" if target_p99 else ""))
    report.compare(name, f"as-of read median, read again ({where})", ledger_latency.median_ms, "ms",
                   "same SQL, bare driver", driver_latency.median_ms, "ms")
    report.compare(name, f"as-of read p99, read again ({where})", ledger_latency.p99_ms, "ms",
                   "same SQL, bare driver", driver_latency.p99_ms, "ms", f"< {TARGET_P99_MS:g} ms at 10M" if target_p99 else "")


def measure_children(backend: Backend, files: dict[int, Path], idle: ChildRun, figures: dict[str, Any], report: Report) -> None:
    """``ledger post`` at N and GROWTH_FACTOR × N on fresh stores: peak memory and throughput."""
    runs: dict[int, tuple[ChildRun, int]] = {}
    for factor, file in sorted(files.items()):
        url = backend.fresh_store(f"child-{factor}")
        progress(f"{backend.name}: ledger post {file.name} in a child process")
        try:
            run = post_in_child(file, url)
            runs[factor] = (run, count_events(backend, url, figures["events_table"]["name"]))
        finally:
            backend.remove_store(url)
    child_figures = figures.setdefault("children", {})
    for factor, (run, events) in runs.items():
        seconds = max(run.seconds - idle.seconds, 1e-9)
        child_figures[factor] = {"documents": run.documents, "postings": run.postings, "events": events,
                                 "wall_seconds": run.seconds, "seconds_without_startup": seconds, "peak_rss_mb": run.peak_rss_mb,
                                 "documents_per_second": run.documents / seconds, "postings_per_second": run.postings / seconds,
                                 "events_per_second": events / seconds}
    small, large = child_figures[1], child_figures[GROWTH_FACTOR]
    for factor, item in child_figures.items():
        what = f"ledger post, {item['documents']:,} docs / {item['events']:,} events"
        if factor == 1:
            report.add(Row(backend.name, f"{what}: postings/s", item["postings_per_second"], "postings/s"))
        else:
            report.compare(backend.name, f"{what}: postings/s", item["postings_per_second"], "postings/s",
                           f"at {small['documents']:,} docs", small["postings_per_second"], "postings/s", "≈ 1 (linear cost)")
    report.compare(backend.name, f"peak RSS, ledger post {small['documents']:,} docs", small["peak_rss_mb"], "MB",
                   "ledger --help (imports only)", idle.peak_rss_mb, "MB")
    report.compare(backend.name, f"peak RSS, ledger post {large['documents']:,} docs", large["peak_rss_mb"], "MB",
                   f"at {small['documents']:,} docs", small["peak_rss_mb"], "MB", "≈ 1 (flat)")


def count_events(backend: Backend, url: str, table: str) -> int:
    connection = backend.connect(url)
    try:
        cursor = connection.cursor()
        cursor.execute(f"SELECT count(*) FROM {table}")
        (count,) = cursor.fetchone()
        cursor.close()
        connection.commit()
    finally:
        connection.close()
    return int(count)


def machine_facts(backends: list[Backend]) -> dict[str, Any]:
    facts: dict[str, Any] = {
        "date": datetime.now().isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "cpu_model": _proc_value("/proc/cpuinfo", "model name"),
        "memory_gb": round(int((_proc_value("/proc/meminfo", "MemTotal") or "0 kB").split()[0]) / 1024 / 1024, 1),
        "python": platform.python_version(),
        "packages": {name: _package_version(name) for name in PACKAGES},
        "commit": _commit(),
    }
    for backend in backends:
        facts[backend.name] = backend.version()
    return facts


def header(figures: dict[str, Any], arguments: argparse.Namespace) -> str:
    machine = figures["machine"]
    files = figures["files"]
    packages = ", ".join(f"{name} {version}" for name, version in machine["packages"].items())
    databases = ", ".join(machine[name] for name in ("sqlite", "postgres") if name in machine)
    sizes = "; ".join(f"size {item['size']}: {item['documents']:,} documents" for item in files.values())
    return (
        f"ledger bench, {machine['date']}, commit {machine['commit'][:10]} (the working tree may differ)\n"
        f"machine: {machine['cpus']} cpus ({machine['cpu_model']}), {machine['memory_gb']} GB; "
        f"Python {machine['python']}; {databases}; {packages}\n"
        f"province files: {sizes}; query events: {', '.join(f'{n:,}' for n in arguments.query_events) or 'none'}\n"
    )


def _proc_value(path: str, key: str) -> str | None:
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(key):
                return line.split(":", 1)[1].strip()
    except OSError:
        return None
    return None


def _package_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def _commit() -> str:
    try:
        result = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True,
                                cwd=Path(__file__).resolve().parent)
        return result.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


if __name__ == "__main__":
    sys.exit(main())
