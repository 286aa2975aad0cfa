"""Balance and as-of reads at province scale: a province's projections, an events table of millions.

A balance read touches only the projection tables, so the bench does not
post ten million events to measure it: it adds the projection rows of as
many books as a province has (``PROVINCE_REGIONS`` regions × 4 schemes ×
``PROVINCE_YEARS`` years, each with the account lines of a real book posted
by the run), then fills the events table with synthetic rows of those books
up to the wanted count, and times ``queries.book_balances`` on random
(book, account) pairs drawn from every book.

An as-of read (``queries.balances_as_of``, what ``ledger balance R S Y
--as-of DATE [--known-on TIME]`` runs) adds a book's monthly rows
(``proj_months``) before the date's month and the rows of the dated
projection ``proj_lines``, one row per posting line, of that month. So every
synthetic event also gets the lines the projector would have written for
it, and the monthly rows get their sums (added up in memory per chunk and
upserted with the chunk; ``check_months`` proves them against the lines): the
kind, accounts, tiers and amounts of an ordinary event of the real book its
province book copies (each of that book's events in turn, year-end closes
and carry-forwards left out, about two lines an event), dated on a random
day of the book's year and recorded up to ``RECORDED_LAG_DAYS`` days later.
As-of reads are timed on random books with a random ``through`` date in the
book's year, ``KNOWN_ON_SHARE`` of them also with a random ``known_on``
between the first and the last recorded time of the book's lines.

The synthetic events carry ``FILLER_TOPIC``, which is not a ``Book`` topic,
so the projector never folds them; their state is a real event's state of
the ledger's median size. They are written book by book (versions in
order), as a book's events arrive, with ``COPY`` on PostgreSQL and
``executemany`` on SQLite, ``FILL_CHUNK_ROWS`` events and their lines a
transaction, so memory stays flat however far the fill goes.
"""

from __future__ import annotations

import calendar
import io
import random
import statistics
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from functools import cached_property
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
# Synthetic lines: recorded on their effective day or up to this many days later.
RECORDED_LAG_DAYS = 30
# The share of as-of reads that also pass ``known_on``.
KNOWN_ON_SHARE = 0.25
# Events a book has once a year (dated 31 December and 1 January): not copied into synthetic lines.
YEAR_BOUNDARY_KINDS = frozenset({"YearClosed", "BalancesCarriedForward"})
# As-of reads whose ledger and driver answers are compared before timing.
CHECKED_READS = 25
LINE_COLUMNS = (
    "notification_id", "line", "book_id", "version", "kind", "document_id", "period", "voucher",
    "effective_date", "recorded_at", "account", "tier", "amount_fen",
)

Reader = Callable[..., list[Any]]
# (book id hex, through, known_on as fixed-width UTC text or None)
AsOfSample = tuple[str, date, "str | None"]


@dataclass(frozen=True)
class Latency:
    reads: int
    median_ms: float
    p99_ms: float
    books: int
    balance_rows: int


@dataclass(frozen=True)
class AsOfLatency:
    reads: int
    median_ms: float
    p99_ms: float
    books_read: int  # distinct books among the reads
    with_known_on: int
    empty: int  # reads that found no line (a date before the book's first posting)


@dataclass(frozen=True)
class ProvinceBook:
    """A province book the bench adds: its identity and the posted book whose lines it copies."""

    id: uuid.UUID
    region: str
    scheme: str
    year: int
    template: str  # book id hex of a posted book


@dataclass(frozen=True)
class DatedBook:
    """A book as-of reads are drawn from: its year and the span of its lines' recorded times."""

    book_id: str
    year: int
    first_recorded: datetime
    last_recorded: datetime


@dataclass(frozen=True)
class LineGroup:
    """The posting lines of one real event: its kind and (account, tier, amount_fen) per line."""

    kind: str
    lines: tuple[tuple[str, int, int], ...]

    @cached_property
    def sums(self) -> tuple[tuple[str, int, int, int, int], ...]:
        """(account, tier, debit, credit, closed) per account and tier of the lines: what they add to a monthly row."""
        totals: dict[tuple[str, int], list[int]] = {}
        for account, tier, amount in self.lines:
            row = totals.setdefault((account, tier), [0, 0, 0])
            row[0 if amount > 0 else 1] += abs(amount)
            if self.kind == "YearClosed":
                row[2] += amount
        return tuple((account, tier, *row) for (account, tier), row in totals.items())

    @cached_property
    def copy_lines(self) -> tuple[str, ...]:
        """The lines' last three columns (account, tier, amount_fen) as COPY text, each ending the row."""
        return tuple(f"{account}\t{tier}\t{amount}\n" for account, tier, amount in self.lines)


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
    median_ms, p99_ms = _median_p99_ms(durations)
    books = len({book for book, _ in pairs})
    return Latency(reads, median_ms, p99_ms, books, len(pairs))


def _median_p99_ms(durations: list[float]) -> tuple[float, float]:
    durations = sorted(durations)
    p99 = durations[max(0, -(-99 * len(durations) // 100) - 1)]
    return statistics.median(durations) * 1000, p99 * 1000


# ------------------------------------------------------------ as-of reads (proj_lines)


def dated_books(connection: Any) -> list[DatedBook]:
    """The store's books that have posting lines, with the span of their lines' recorded times."""
    cursor = connection.cursor()
    cursor.execute(
        "SELECT b.book_id, b.year, min(l.recorded_at), max(l.recorded_at) FROM proj_books b"
        " JOIN proj_lines l ON l.book_id = b.book_id GROUP BY b.book_id, b.year ORDER BY b.book_id"
    )
    books = [
        DatedBook(str(book), int(year), datetime.fromisoformat(first), datetime.fromisoformat(last))
        for book, year, first, last in cursor.fetchall()
    ]
    cursor.close()
    connection.commit()
    if not books:
        raise RuntimeError("the posted store has no posting lines (proj_lines) to read as of a date")
    return books


def province_dated_books(books: Sequence[ProvinceBook]) -> list[DatedBook]:
    """The province's books as the filler dates their lines: in their year, recorded up to RECORDED_LAG_DAYS later."""
    return [
        DatedBook(
            book.id.hex,
            book.year,
            datetime(book.year, 1, 1, tzinfo=timezone.utc),
            datetime(book.year, 12, 31, 23, 59, 59, 999999, tzinfo=timezone.utc) + timedelta(days=RECORDED_LAG_DAYS),
        )
        for book in books
    ]


def as_of_samples(books: Sequence[DatedBook], seed: int, count: int) -> list[AsOfSample]:
    """``count`` random (book, through, known_on) reads: a day of the book's year, sometimes a recorded time."""
    rng = random.Random(seed)
    samples: list[AsOfSample] = []
    for _ in range(count):
        book = rng.choice(books)
        days = 366 if calendar.isleap(book.year) else 365
        through = date(book.year, 1, 1) + timedelta(days=rng.randrange(days))
        known_on = None
        if rng.random() < KNOWN_ON_SHARE:
            moment = book.first_recorded + (book.last_recorded - book.first_recorded) * rng.random()
            known_on = queries.recorded_cutoff(moment)
        samples.append((book.book_id, through, known_on))
    return samples


def ledger_as_of_reader(engine: Engine) -> Reader:
    """The ledger's own as-of read of one book, as ``ledger balance R S Y --as-of DATE [--known-on TIME]`` does it."""
    return lambda book_id, through, known_on: queries.balances_as_of(engine, [book_id], through, known_on)


def driver_as_of_reader(connection: Any, placeholder: str) -> Reader:
    """The statement ``balances_as_of`` sends (the months before the date's month, that month's lines, and with ``known_on`` the earlier lines recorded in its month), with the bare driver."""
    p = placeholder
    sums = (
        "SELECT account, tier, sum(CASE WHEN amount_fen > 0 THEN amount_fen ELSE 0 END),"
        " sum(CASE WHEN amount_fen < 0 THEN -amount_fen ELSE 0 END),"
        " sum(CASE WHEN kind = 'YearClosed' THEN amount_fen ELSE 0 END) FROM proj_lines"
        f" WHERE book_id IN ({p}) AND effective_date >= {p} AND effective_date <= {p}"
    )
    months = (
        "SELECT account, tier, sum(debit_fen), sum(credit_fen), sum(closed_fen) FROM proj_months"
        f" WHERE book_id IN ({p}) AND month < {p}"
    )
    # Term 3: the earlier months the monthly rows say K recorded lines in, each one range of the lines' index.
    late = (
        "SELECT l.account, l.tier, sum(CASE WHEN l.amount_fen > 0 THEN l.amount_fen ELSE 0 END),"
        " sum(CASE WHEN l.amount_fen < 0 THEN -l.amount_fen ELSE 0 END),"
        " sum(CASE WHEN l.kind = 'YearClosed' THEN l.amount_fen ELSE 0 END)"
        f" FROM (SELECT book_id, month FROM proj_months WHERE book_id IN ({p}) AND month < {p} AND recorded_month = {p}"
        " GROUP BY book_id, month) AS earlier JOIN proj_lines l ON l.book_id = earlier.book_id"
        " AND l.effective_date >= earlier.month || '-01' AND l.effective_date <= earlier.month || '-31'"
        f" WHERE l.recorded_at >= {p} AND l.recorded_at <= {p} GROUP BY l.account, l.tier"
    )

    def read(book_id: str, through: date, known_on: str | None) -> list[Any]:
        through_text = through.isoformat()
        month = through_text[:7]
        cursor = connection.cursor()
        totals: dict[tuple[str, int], list[int]] = {}
        if known_on is None:
            cursor.execute(months + " GROUP BY account, tier UNION ALL " + sums + " GROUP BY account, tier",
                           (book_id, month, book_id, month + "-01", through_text))
        else:
            cursor.execute(months + f" AND recorded_month < {p} GROUP BY account, tier UNION ALL "
                           + sums + f" AND recorded_at <= {p} GROUP BY account, tier UNION ALL " + late,
                           (book_id, month, known_on[:7], book_id, month + "-01", through_text, known_on,
                            book_id, month, known_on[:7], known_on[:7], known_on))
        _add(totals, cursor.fetchall())
        cursor.close()
        connection.commit()
        return [(account, tier, debit, credit, debit - credit, closed) for (account, tier), (debit, credit, closed) in sorted(totals.items())]

    return read


def _add(totals: dict[tuple[str, int], list[int]], rows: Sequence[Any]) -> None:
    for account, tier, debit, credit, closed in rows:
        row = totals.setdefault((account, int(tier)), [0, 0, 0])
        row[0] += int(debit)
        row[1] += int(credit)
        row[2] += int(closed)


def check_months(connection: Any, placeholder: str, book_ids: Sequence[str]) -> int:
    """The books' monthly rows must equal a GROUP BY over their lines, or the as-of reads are wrong; return the rows compared."""
    p = placeholder
    queries_by_table = {
        "proj_months": "SELECT month, recorded_month, account, tier, debit_fen, credit_fen, closed_fen FROM proj_months"
                       f" WHERE book_id = {p} ORDER BY month, recorded_month, account, tier",
        "proj_lines": "SELECT substr(effective_date, 1, 7), substr(recorded_at, 1, 7), account, tier,"
                      " sum(CASE WHEN amount_fen > 0 THEN amount_fen ELSE 0 END),"
                      " sum(CASE WHEN amount_fen < 0 THEN -amount_fen ELSE 0 END),"
                      " sum(CASE WHEN kind = 'YearClosed' THEN amount_fen ELSE 0 END) FROM proj_lines"
                      f" WHERE book_id = {p} GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4",
    }
    compared = 0
    cursor = connection.cursor()
    for book_id in book_ids:
        found = {}
        for table, query in queries_by_table.items():
            cursor.execute(query, (book_id,))
            found[table] = [(str(m), str(r), str(a), int(t), int(d), int(c), int(z)) for m, r, a, t, d, c, z in cursor.fetchall()]
        if found["proj_months"] != found["proj_lines"]:
            raise RuntimeError(f"book {book_id}: proj_months holds {found['proj_months'][:3]}…, its lines give {found['proj_lines'][:3]}…")
        compared += len(found["proj_months"])
    cursor.close()
    connection.commit()
    return compared


def check_as_of_readers(ledger_read: Reader, driver_read: Reader, samples: Sequence[AsOfSample]) -> None:
    """The driver's SQL must give the ledger's answer, or the comparison means nothing."""
    for sample in samples[:CHECKED_READS]:
        ours = [(r.account, r.tier, r.debit_fen, r.credit_fen, r.balance_fen, r.closed_fen) for r in ledger_read(*sample)]
        theirs = driver_read(*sample)
        if ours != theirs:
            raise RuntimeError(f"as-of read {sample}: the ledger gave {ours[:3]}…, the same SQL by the driver {theirs[:3]}…")


def time_as_of_reads(ledger_read: Reader, driver_read: Reader, samples: Sequence[AsOfSample],
                     reads: int = BALANCE_READS) -> tuple[AsOfLatency, AsOfLatency, AsOfLatency]:
    """The ledger's first pass over the reads, then the ledger and the driver on the same reads again, interleaved.

    At ten million events the dated projection is larger than the memory the
    operating system gives its page cache here, so the first read of a book
    may wait for the disk, and whichever reader came second would find the
    book's pages cached. So the ledger first reads every sample once (timed:
    the first pass), and then each sample is read by both, the ledger first
    on even reads and the driver first on odd ones, so that neither gets
    the other's warm cache more often.
    """
    for sample in samples[:WARM_UP_READS]:
        ledger_read(*sample)
        driver_read(*sample)
    timed = samples[WARM_UP_READS:WARM_UP_READS + reads]
    first, ours, theirs = [], [], []
    empty = 0
    for sample in timed:
        started = time.perf_counter()
        rows = ledger_read(*sample)
        first.append(time.perf_counter() - started)
        empty += not rows
    for number, sample in enumerate(timed):
        order = ((ledger_read, ours), (driver_read, theirs)) if number % 2 == 0 else ((driver_read, theirs), (ledger_read, ours))
        for read, durations in order:
            started = time.perf_counter()
            read(*sample)
            durations.append(time.perf_counter() - started)
    with_known_on = sum(1 for sample in timed if sample[2] is not None)
    books = len({sample[0] for sample in timed})

    def latency(durations: list[float]) -> AsOfLatency:
        median_ms, p99_ms = _median_p99_ms(durations)
        return AsOfLatency(len(durations), median_ms, p99_ms, books, with_known_on, empty)

    return latency(first), latency(ours), latency(theirs)


def count_rows(connection: Any, table: str) -> int:
    cursor = connection.cursor()
    cursor.execute(f"SELECT count(*) FROM {table}")
    (count,) = cursor.fetchone()
    cursor.close()
    connection.commit()
    return int(count)


# ------------------------------------------------------------ the province's projection rows


def add_province_books(connection: Any, placeholder: str) -> list[ProvinceBook]:
    """Projection rows for a province's books, each copying the account lines of a real book."""
    templates = _template_books(connection)
    book_columns, book_rows = _rows(connection, "SELECT * FROM proj_books ORDER BY book_id")
    balance_columns, balance_rows = _rows(connection, "SELECT * FROM proj_balances ORDER BY book_id, account, tier")
    books_by_id = {row["book_id"]: row for row in book_rows}
    lines_by_book: dict[str, list[dict[str, Any]]] = {}
    for row in balance_rows:
        lines_by_book.setdefault(row["book_id"], []).append(row)
    new_books, new_lines, books = [], [], []
    number = 0
    for region_number in range(1, PROVINCE_REGIONS + 1):
        region = f"99{region_number:04d}"
        for scheme in PROVINCE_SCHEMES:
            for year in range(PROVINCE_FIRST_YEAR, PROVINCE_FIRST_YEAR + PROVINCE_YEARS):
                template = templates[number % len(templates)]
                number += 1
                identifier = uuid.uuid5(PROVINCE_NAMESPACE, f"book:{region}:{scheme}:{year}")
                books.append(ProvinceBook(identifier, region, scheme, year, template))
                changes = {"book_id": identifier.hex, "region": region, "scheme": scheme, "year": year, "municipality": PROVINCE_MUNICIPALITY}
                new_books.append({**books_by_id[template], **{k: v for k, v in changes.items() if k in book_columns}})
                new_lines.extend({**line, "book_id": identifier.hex} for line in lines_by_book[template])
    _insert(connection, "proj_books", book_columns, new_books, placeholder)
    _insert(connection, "proj_balances", balance_columns, new_lines, placeholder)
    connection.commit()
    return books


def line_templates(connection: Any) -> dict[str, list[LineGroup]]:
    """Each posted book's ordinary events as line groups, in posting order (year-end closes and carry-forwards left out)."""
    cursor = connection.cursor()
    cursor.execute(
        "SELECT book_id, notification_id, kind, account, tier, amount_fen FROM proj_lines"
        " ORDER BY book_id, notification_id, line"
    )
    groups: dict[str, list[LineGroup]] = {}
    current: tuple[str, int] | None = None
    kind, lines = "", []  # type: ignore[var-annotated]
    for book, notification_id, row_kind, account, tier, amount in cursor.fetchall():
        if (book, notification_id) != current:
            if current is not None and kind not in YEAR_BOUNDARY_KINDS:
                groups.setdefault(current[0], []).append(LineGroup(kind, tuple(lines)))
            current, kind, lines = (book, notification_id), row_kind, []
        lines.append((str(account), int(tier), int(amount)))
    if current is not None and kind not in YEAR_BOUNDARY_KINDS:
        groups.setdefault(current[0], []).append(LineGroup(kind, tuple(lines)))
    cursor.close()
    connection.commit()
    if not groups:
        raise RuntimeError("the posted store has no ordinary posting lines to copy")
    return groups


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


# ------------------------------------------------------------ filling the events table and proj_lines


@dataclass
class Filler:
    """Appends synthetic events of the province's books to the ledger's events table, and their lines to ``proj_lines``."""

    backend: str
    connection: Any
    table: str
    books: list[ProvinceBook]
    state: bytes
    rows: int  # rows in the events table now
    templates: dict[str, list[LineGroup]]
    seed: int = 7
    lines: int = 0  # rows in proj_lines now (counted when the filler starts)
    next_version: dict[uuid.UUID, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.lines = count_rows(self.connection, "proj_lines")
        cursor = self.connection.cursor()
        cursor.execute(f"SELECT max(id) FROM {self.table}")
        (last_id,) = cursor.fetchone()
        cursor.close()
        self.connection.commit()
        # Synthetic lines name their event by the id it will get: the filler is the only writer.
        self._last_id = int(last_id or 0)
        self._rng = random.Random(self.seed)
        pool = [group for groups in self.templates.values() for group in groups]
        # A book whose template has only year-boundary events (a carry-forward book) copies from every book.
        self._groups = {book.id: self.templates.get(book.template) or pool for book in self.books}
        self._by_id = {book.id: book for book in self.books}
        self._vouchers: dict[tuple[str, str], int] = {}
        # The chunk's monthly sums: (book, month, recorded month, account, tier) -> [debit, credit, closed].
        self._months: dict[tuple[str, str, str, str, int], list[int]] = {}
        self._days: dict[int, list[str]] = {}
        self._times = [
            f"T{self._rng.randrange(24):02d}:{self._rng.randrange(60):02d}:{self._rng.randrange(60):02d}"
            f".{self._rng.randrange(1_000_000):06d}+00:00"
            for _ in range(4096)
        ]

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
                    cursor.execute(f"VACUUM ANALYZE {self.table}, proj_books, proj_balances, proj_lines, proj_months")
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
            version = self.next_version.get(book.id, 1)
            take = min(share - version + 1, size - len(chunk))
            if take > 0:
                chunk.extend((book.id, number) for number in range(version, version + take))
                self.next_version[book.id] = version + take
            if len(chunk) == size:
                break
        return chunk

    def _events(self, chunk: list[tuple[uuid.UUID, int]]) -> Iterator[tuple[int, tuple[Any, ...], LineGroup]]:
        """Per event of the chunk: its notification id, the columns its lines share, its line group.

        The shared columns are ``book_id`` to ``recorded_at``: ``LINE_COLUMNS``
        less the first two (notification id, line) and the last three (account,
        tier, amount).
        """
        random_fraction = self._rng.random
        times, vouchers, months = self._times, self._vouchers, self._months
        for offset, (book_id, version) in enumerate(chunk, start=1):
            book = self._by_id[book_id]
            groups = self._groups[book_id]
            group = groups[(version - 1) % len(groups)]
            days = self._days.get(book.year) or self._year_days(book.year)
            day = int(random_fraction() * (len(days) - RECORDED_LAG_DAYS))
            effective = days[day]
            recorded = days[day + int(random_fraction() * (RECORDED_LAG_DAYS + 1))] + times[int(random_fraction() * len(times))]
            period = effective[:7]
            book_hex = book_id.hex
            key = (book_hex, period)
            voucher = vouchers[key] = vouchers.get(key, 0) + 1
            document = f"{book.year}-{book.region}-bench-{version:07d}"
            recorded_month = recorded[:7]
            for account, tier, debit, credit, closed in group.sums:
                row = months.get((book_hex, period, recorded_month, account, tier))
                if row is None:
                    row = months[(book_hex, period, recorded_month, account, tier)] = [0, 0, 0]
                row[0] += debit
                row[1] += credit
                row[2] += closed
            yield self._last_id + offset, (book_hex, version, group.kind, document, period, voucher, effective, recorded), group
        self._last_id += len(chunk)

    def write_months(self) -> None:
        """Add the monthly sums of the lines written since the last call to ``proj_months`` (one upsert, in the caller's transaction)."""
        if not self._months:
            return
        columns = "book_id, month, recorded_month, account, tier, debit_fen, credit_fen, closed_fen"
        tail = (" ON CONFLICT (book_id, month, recorded_month, account, tier) DO UPDATE SET"
                " debit_fen = proj_months.debit_fen + excluded.debit_fen,"
                " credit_fen = proj_months.credit_fen + excluded.credit_fen,"
                " closed_fen = proj_months.closed_fen + excluded.closed_fen")
        rows = [(*key, *sums) for key, sums in self._months.items()]
        if self.backend == "postgres":
            from psycopg2.extras import execute_values

            with self.connection.cursor() as cursor:
                execute_values(cursor, f"INSERT INTO proj_months ({columns}) VALUES %s{tail}", rows, page_size=1000)
        else:
            self.connection.executemany(f"INSERT INTO proj_months ({columns}) VALUES ({', '.join('?' * 8)}){tail}", rows)
        self._months.clear()

    def _year_days(self, year: int) -> list[str]:
        """Every day of the year and RECORDED_LAG_DAYS days after it, as ISO text."""
        first = date(year, 1, 1)
        count = (366 if calendar.isleap(year) else 365) + RECORDED_LAG_DAYS
        days = self._days[year] = [(first + timedelta(days=number)).isoformat() for number in range(count)]
        return days

    def _write(self, chunk: list[tuple[uuid.UUID, int]]) -> None:
        """The chunk's events and their lines, in one transaction."""
        columns = "originator_id, originator_version, topic, state"
        lines = 0
        if self.backend == "postgres":
            tail = f"\t{copy_text(FILLER_TOPIC)}\t\\\\x{self.state.hex()}\n"
            text = "".join(f"{book}\t{version}{tail}" for book, version in chunk)
            parts = []
            for notification_id, shared, group in self._events(chunk):
                middle = "\t".join(map(str, shared))
                parts.extend(f"{notification_id}\t{number}\t{middle}\t{line}" for number, line in enumerate(group.copy_lines))
            lines = len(parts)
            with self.connection.cursor() as cursor:
                cursor.copy_expert(f"COPY {self.table} ({columns}) FROM STDIN", io.StringIO(text))
                cursor.copy_expert(f"COPY proj_lines ({', '.join(LINE_COLUMNS)}) FROM STDIN", io.StringIO("".join(parts)))
        else:
            rows = []
            for notification_id, shared, group in self._events(chunk):
                rows.extend((notification_id, number, *shared, *line) for number, line in enumerate(group.lines))
            lines = len(rows)
            self.connection.executemany(
                f"INSERT INTO {self.table} ({columns}) VALUES (?, ?, ?, ?)",
                [(book.bytes, version, FILLER_TOPIC, self.state) for book, version in chunk],
            )
            self.connection.executemany(
                f"INSERT INTO proj_lines ({', '.join(LINE_COLUMNS)}) VALUES ({', '.join('?' * len(LINE_COLUMNS))})", rows
            )
        self.write_months()
        self.connection.commit()
        self.lines += lines
