"""``python -m bench.as_of_months --events N``: as-of reads from the monthly rows against a plain sum of the lines, on one store.

The read before ``proj_months`` (one aggregate over a book's ``proj_lines``
up to the date) and the read from the months (``queries.balances_as_of``
now: the monthly rows before the date's month, then that month's lines)
are sent with the bare driver to the same filled store, so that they read
the same data with the machine's load falling on both alike:

1. post the demo file at ``--size`` to a fresh store, add the province's
   books and fill the events table, ``proj_lines`` and ``proj_months`` to
   ``--events`` (``bench.reads.Filler``; with ``--books N`` only the
   first N of the province's books, so that each is as long as it would be
   in a larger store), then settle it; check the monthly
   rows of a few books against a ``GROUP BY`` over their lines;
2. draw ``--reads`` as-of samples (``bench.reads.as_of_samples``: a quarter
   with ``known_on``) and check that both reads give the same answer for
   every one of them;
3. first pass: half the samples read by the one, the other half by the
   other, interleaved (a sample is a random book, so each way reads pages
   that the other has mostly not read); then every sample read again by
   both, the one or the other first in turn;
4. on PostgreSQL, ``EXPLAIN (ANALYZE, BUFFERS)`` of ``--explain`` samples
   each way: the 8 kB pages touched (shared hit + read), which the load
   does not move, and the server's execution time.

Prints JSON with the load average before and after. PostgreSQL at
``LEDGER_BENCH_POSTGRES`` (its ``ledger_*`` and ``proj_*`` tables are
dropped), SQLite in a temporary folder.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

from bench import baselines, reads
from bench.run import generate_file, post_in_process
from bench.stores import PostgresBackend, SqliteBackend, postgres_url
from ledger.store import Ledger

LINE_SUM = (
    "SELECT account, tier, sum(CASE WHEN amount_fen > 0 THEN amount_fen ELSE 0 END),"
    " sum(CASE WHEN amount_fen < 0 THEN -amount_fen ELSE 0 END),"
    " sum(CASE WHEN kind = 'YearClosed' THEN amount_fen ELSE 0 END) FROM proj_lines"
    " WHERE book_id IN ({p}) AND effective_date <= {p}{known} GROUP BY account, tier ORDER BY account, tier"
)


def line_sum_reader(connection: Any, placeholder: str) -> reads.Reader:
    """The read before proj_months: one aggregate over the book's lines up to the date (recorded by known_on)."""
    statements = {
        False: LINE_SUM.format(p=placeholder, known=""),
        True: LINE_SUM.format(p=placeholder, known=f" AND recorded_at <= {placeholder}"),
    }

    def read(book_id: str, through: date, known_on: str | None) -> list[Any]:
        parameters: tuple[Any, ...] = (book_id, through.isoformat()) + ((known_on,) if known_on is not None else ())
        cursor = connection.cursor()
        cursor.execute(statements[known_on is not None], parameters)
        rows = cursor.fetchall()
        cursor.close()
        connection.commit()
        return [(a, int(t), int(d), int(c), int(d) - int(c), int(z)) for a, t, d, c, z in rows]

    return read


class Explaining:
    """A cursor stand-in that runs each statement under EXPLAIN (ANALYZE, BUFFERS) and adds up pages and server time."""

    def __init__(self, connection: Any) -> None:
        self.connection = connection
        self.pages = 0
        self.milliseconds = 0.0
        self._rows: list[Any] = []

    def cursor(self) -> "Explaining":
        return self

    def commit(self) -> None:
        self.connection.commit()

    def close(self) -> None:
        pass

    def execute(self, statement: str, parameters: Any) -> None:
        with self.connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + statement, parameters)
            (plan,) = cursor.fetchone()[0]
            top = plan["Plan"]
            self.pages += int(top.get("Shared Hit Blocks", 0)) + int(top.get("Shared Read Blocks", 0))
            self.milliseconds += float(plan["Execution Time"])
            cursor.execute(statement, parameters)
            self._rows = cursor.fetchall()

    def fetchall(self) -> list[Any]:
        return self._rows


def explain(reader_factory: Any, connection: Any, samples: list[Any]) -> dict[str, Any]:
    pages, milliseconds = [], []
    for sample in samples:
        explaining = Explaining(connection)
        reader_factory(explaining, "%s")(*sample)
        pages.append(explaining.pages)
        milliseconds.append(explaining.milliseconds)
    return {"samples": len(samples), "pages_median": statistics.median(pages), "pages_p99": _p99(pages),
            "server_ms_median": statistics.median(milliseconds), "server_ms_p99": _p99(milliseconds)}


def _p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, -(-99 * len(ordered) // 100) - 1)]


def timed(read: reads.Reader, sample: Any, into: list[float]) -> None:
    started = time.perf_counter()
    read(*sample)
    into.append((time.perf_counter() - started) * 1000)


def summary(durations: list[float]) -> dict[str, float]:
    return {"reads": len(durations), "median_ms": statistics.median(durations), "p99_ms": _p99(durations)}


def measure(backend_name: str, folder: Path, arguments: argparse.Namespace) -> dict[str, Any]:
    backend = PostgresBackend(postgres_url()) if backend_name == "postgres" else SqliteBackend(folder)
    if isinstance(backend, PostgresBackend):
        backend.ensure_database()
    placeholder = "%s" if backend_name == "postgres" else "?"
    url = backend.fresh_store("months")
    connection = backend.connect(url)
    figures: dict[str, Any] = {"backend": backend_name, "load_before": os.getloadavg()}
    try:
        with Ledger(url) as ledger:
            post_in_process(ledger, folder / f"province-size-{arguments.size}.jsonl")
            table = "ledger_events"
            rows = baselines.read_event_rows(connection, table)
            median = statistics.median(len(row[3]) for row in rows)
            state = min((row[3] for row in rows), key=lambda value: abs(len(value) - median))
            templates = reads.line_templates(connection)
            books = reads.add_province_books(connection, placeholder)[: arguments.books]
            filler = reads.Filler(backend_name, connection, table, books, state, len(rows), templates, seed=arguments.seed)
            print(f"as_of_months: {backend_name}: filling to {arguments.events:,} events", file=sys.stderr, flush=True)
            seconds = filler.fill_to(arguments.events, time.perf_counter() + arguments.fill_budget)
            figures["fill"] = {"events": filler.rows, "lines": filler.lines, "seconds": seconds, "settle_seconds": filler.settle()}
            figures["months_rows"] = reads.count_rows(connection, "proj_months")
            figures["months_checked"] = reads.check_months(connection, placeholder, [b.id.hex for b in books[:: len(books) // 8]])
            samples = reads.as_of_samples(reads.province_dated_books(books), arguments.seed, arguments.reads)
            plain, months = line_sum_reader(connection, placeholder), reads.driver_as_of_reader(connection, placeholder)
            ours = reads.ledger_as_of_reader(ledger.engine)
            for sample in samples:
                expected = plain(*sample)
                if months(*sample) != expected or [tuple(vars(r).values()) for r in ours(*sample)] != expected:
                    raise RuntimeError(f"as-of read {sample}: the months and the plain line sum differ")
            figures["answers_compared"] = len(samples)
            # The check above read every sample once: the first pass is timed on samples drawn afresh.
            fresh = reads.as_of_samples(reads.province_dated_books(books), arguments.seed + 1, arguments.reads)
            first: dict[str, list[float]] = {"line_sum": [], "months": []}
            for number, sample in enumerate(fresh):
                way = "line_sum" if number % 2 == 0 else "months"
                timed(plain if way == "line_sum" else months, sample, first[way])
            again: dict[str, list[float]] = {"line_sum": [], "months": [], "ledger": []}
            for number, sample in enumerate(fresh):
                order = [("line_sum", plain), ("months", months)] if number % 2 == 0 else [("months", months), ("line_sum", plain)]
                for way, read in order + [("ledger", ours)]:
                    timed(read, sample, again[way])
            figures["first_pass"] = {way: summary(values) for way, values in first.items()}
            figures["again"] = {way: summary(values) for way, values in again.items()}
            if backend_name == "postgres" and arguments.explain:
                chosen = fresh[: arguments.explain]
                figures["explain"] = {"line_sum": explain(line_sum_reader, connection, chosen),
                                      "months": explain(reads.driver_as_of_reader, connection, chosen)}
    finally:
        connection.close()
        backend.remove_store(url)
    figures["load_after"] = os.getloadavg()
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.as_of_months", description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--size", type=int, default=2, help="demo generator size of the posted file the books copy")
    parser.add_argument("--reads", type=int, default=2000)
    parser.add_argument("--explain", type=int, default=300, help="samples explained each way (PostgreSQL)")
    parser.add_argument("--books", type=int, default=None,
                        help="fill and read only the first N province books: 1,000,000 events on 160 books give each book "
                             "the lines it has at 10,000,000 events on all 1,600")
    parser.add_argument("--fill-budget", type=float, default=3600)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--backends", default="postgres,sqlite")
    parser.add_argument("--json", type=Path)
    arguments = parser.parse_args(argv)
    results = []
    with tempfile.TemporaryDirectory(prefix="ledger-as-of-months-") as name:
        folder = Path(name)
        generate_file(folder, arguments.size, arguments.seed)
        for backend_name in [value.strip() for value in arguments.backends.split(",") if value.strip()]:
            results.append(measure(backend_name, folder, arguments))
    text = json.dumps(results, indent=2, default=str)
    print(text)
    if arguments.json:
        arguments.json.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
