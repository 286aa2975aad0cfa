"""Balance reads at province scale: the projections of a province's books, an events table of millions.

A balance read touches only the projection tables, so the bench does not
post ten million events to measure it: it adds the projection rows of as
many books as a province has (``PROVINCE_REGIONS`` regions × 4 schemes ×
``PROVINCE_YEARS`` years, each with the account lines of a real book posted
by the run), then fills the events table with synthetic rows of those books
up to the wanted count, and times ``queries.book_balances`` on random
(book, account) pairs drawn from every book.

The synthetic events carry ``FILLER_TOPIC``, which is not a ``Book`` topic,
so the projector never folds them; their state is a real event's state of
the ledger's median size. They are written book by book (versions in
order), as a book's events arrive, with ``COPY`` on PostgreSQL and
``executemany`` on SQLite, ``FILL_CHUNK_ROWS`` a transaction.
"""

from __future__ import annotations

import io
import random
import statistics
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine

from bench.baselines import copy_text
from ledger.projections import queries

PROVINCE_REGIONS = 40
PROVINCE_SCHEMES = ("resident", "assistance", "worker", "adjustment")
PROVINCE_YEARS = 10
PROVINCE_FIRST_YEAR = 2014
PROVINCE_MUNICIPALITY = "990000"
PROVINCE_NAMESPACE = uuid.UUID("0f6a1c2e-5d4b-4e8f-9a7b-2c3d4e5f6a7b")
FILLER_TOPIC = "bench.filler:SyntheticEvent"
FILL_CHUNK_ROWS = 50_000
BALANCE_READS = 2000
WARM_UP_READS = 50
MAXIMUM_PAIRS = 200_000

Reader = Callable[[str, str], list[Any]]


@dataclass(frozen=True)
class Latency:
    reads: int
    median_ms: float
    p99_ms: float
    books: int
    balance_rows: int


def balance_pairs(connection: Any) -> list[tuple[str, str]]:
    cursor = connection.cursor()
    cursor.execute(f"SELECT book_id, account FROM proj_balances ORDER BY book_id, account LIMIT {MAXIMUM_PAIRS}")
    pairs = [(str(book), str(account)) for book, account in cursor.fetchall()]
    cursor.close()
    connection.commit()
    return pairs


def ledger_reader(engine: Engine) -> Reader:
    """The ledger's own balance read, as ``ledger balance --account`` does it."""
    return lambda book_id, account: queries.book_balances(engine, book_id, account)


def driver_reader(connection: Any, placeholder: str) -> Reader:
    """The same query (same filter, order and limit) sent with the bare driver on one open connection."""
    query = (
        "SELECT account, tier, debit_fen, credit_fen, balance_fen, closed_fen FROM proj_balances"
        f" WHERE book_id = {placeholder} AND (account = {placeholder} OR account LIKE {placeholder})"
        f" ORDER BY account, tier LIMIT {queries.MAXIMUM_ROWS}"
    )

    def read(book_id: str, account: str) -> list[Any]:
        cursor = connection.cursor()
        cursor.execute(query, (book_id, account, account + ".%"))
        rows = cursor.fetchall()
        cursor.close()
        connection.commit()
        return rows

    return read


def time_reads(read: Reader, pairs: list[tuple[str, str]], seed: int, reads: int = BALANCE_READS) -> Latency:
    """Median and 99th percentile (nearest rank) of ``read`` over random (book, account) pairs."""
    rng = random.Random(seed)
    for book_id, account in rng.choices(pairs, k=WARM_UP_READS):
        read(book_id, account)
    durations = []
    for book_id, account in rng.choices(pairs, k=reads):
        started = time.perf_counter()
        rows = read(book_id, account)
        durations.append(time.perf_counter() - started)
        if not rows:
            raise RuntimeError(f"no balance for book {book_id} account {account}")
    durations.sort()
    p99 = durations[max(0, -(-99 * len(durations) // 100) - 1)]
    books = len({book for book, _ in pairs})
    return Latency(reads, statistics.median(durations) * 1000, p99 * 1000, books, len(pairs))


# ------------------------------------------------------------ the province's projection rows


def add_province_books(connection: Any, placeholder: str) -> list[uuid.UUID]:
    """Projection rows for a province's books, each copying the account lines of a real book."""
    templates = _template_books(connection)
    book_columns, book_rows = _rows(connection, "SELECT * FROM proj_books ORDER BY book_id")
    balance_columns, balance_rows = _rows(connection, "SELECT * FROM proj_balances ORDER BY book_id, account, tier")
    books_by_id = {row["book_id"]: row for row in book_rows}
    lines_by_book: dict[str, list[dict[str, Any]]] = {}
    for row in balance_rows:
        lines_by_book.setdefault(row["book_id"], []).append(row)
    new_books, new_lines, ids = [], [], []
    number = 0
    for region_number in range(1, PROVINCE_REGIONS + 1):
        region = f"99{region_number:04d}"
        for scheme in PROVINCE_SCHEMES:
            for year in range(PROVINCE_FIRST_YEAR, PROVINCE_FIRST_YEAR + PROVINCE_YEARS):
                template = templates[number % len(templates)]
                number += 1
                identifier = uuid.uuid5(PROVINCE_NAMESPACE, f"book:{region}:{scheme}:{year}")
                ids.append(identifier)
                changes = {"book_id": identifier.hex, "region": region, "scheme": scheme, "year": year, "municipality": PROVINCE_MUNICIPALITY}
                new_books.append({**books_by_id[template], **{k: v for k, v in changes.items() if k in book_columns}})
                new_lines.extend({**line, "book_id": identifier.hex} for line in lines_by_book[template])
    _insert(connection, "proj_books", book_columns, new_books, placeholder)
    _insert(connection, "proj_balances", balance_columns, new_lines, placeholder)
    connection.commit()
    return ids


def _template_books(connection: Any) -> list[str]:
    cursor = connection.cursor()
    cursor.execute("SELECT DISTINCT book_id FROM proj_balances ORDER BY book_id")
    books = [row[0] for row in cursor.fetchall()]
    cursor.close()
    if not books:
        raise RuntimeError("the posted store has no balances to copy")
    return books


def _rows(connection: Any, query: str) -> tuple[list[str], list[dict[str, Any]]]:
    cursor = connection.cursor()
    cursor.execute(query)
    columns = [description[0] for description in cursor.description]
    rows = [dict(zip(columns, row)) for row in cursor.fetchall()]
    cursor.close()
    return columns, rows


def _insert(connection: Any, table: str, columns: list[str], rows: list[dict[str, Any]], placeholder: str) -> None:
    cursor = connection.cursor()
    cursor.executemany(
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join([placeholder] * len(columns))})",
        [tuple(row[column] for column in columns) for row in rows],
    )
    cursor.close()


# ------------------------------------------------------------ filling the events table


@dataclass
class Filler:
    """Appends synthetic events of the province's books to the ledger's events table."""

    backend: str
    connection: Any
    table: str
    books: list[uuid.UUID]
    state: bytes
    rows: int  # rows in the table now
    next_version: dict[uuid.UUID, int] = field(default_factory=dict)

    def fill_to(self, target_rows: int, deadline: float) -> float:
        """Append rows until the table holds ``target_rows`` or the deadline passes; return the seconds taken."""
        started = time.perf_counter()
        while self.rows < target_rows and time.perf_counter() < deadline:
            chunk = self._chunk(min(FILL_CHUNK_ROWS, target_rows - self.rows), target_rows)
            self._write(chunk)
            self.rows += len(chunk)
        return time.perf_counter() - started

    def settle(self) -> float:
        """Let the store settle after a bulk load, as a long-lived store would be; return the seconds it took.

        On PostgreSQL a CHECKPOINT and a VACUUM ANALYZE of the filled and the
        read tables, so that reads are not timed against the checkpoint and
        autovacuum the load itself set off; on SQLite a WAL checkpoint.
        """
        started = time.perf_counter()
        if self.backend == "postgres":
            self.connection.commit()
            self.connection.autocommit = True
            try:
                with self.connection.cursor() as cursor:
                    cursor.execute("CHECKPOINT")
                    cursor.execute(f"VACUUM ANALYZE {self.table}, proj_books, proj_balances")
            finally:
                self.connection.autocommit = False
        else:
            self.connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            self.connection.commit()
        return time.perf_counter() - started

    def _chunk(self, size: int, target_rows: int) -> list[tuple[uuid.UUID, int]]:
        """The next ``size`` (book, version) pairs: each book's share of the target, book after book."""
        share = -(-target_rows // len(self.books))
        chunk: list[tuple[uuid.UUID, int]] = []
        for book in self.books:
            version = self.next_version.get(book, 1)
            take = min(share - version + 1, size - len(chunk))
            if take > 0:
                chunk.extend((book, number) for number in range(version, version + take))
                self.next_version[book] = version + take
            if len(chunk) == size:
                break
        return chunk

    def _write(self, chunk: list[tuple[uuid.UUID, int]]) -> None:
        columns = "originator_id, originator_version, topic, state"
        if self.backend == "postgres":
            tail = f"\t{copy_text(FILLER_TOPIC)}\t\\\\x{self.state.hex()}\n"
            text = "".join(f"{book}\t{version}{tail}" for book, version in chunk)
            with self.connection.cursor() as cursor:
                cursor.copy_expert(f"COPY {self.table} ({columns}) FROM STDIN", io.StringIO(text))
        else:
            self.connection.executemany(
                f"INSERT INTO {self.table} ({columns}) VALUES (?, ?, ?, ?)",
                [(book.bytes, version, FILLER_TOPIC, self.state) for book, version in chunk],
            )
        self.connection.commit()
