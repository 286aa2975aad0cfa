"""Prove the projection tables against a fresh fold of the event log, row by row and column by column.

``verify`` folds the notification log again with the projector's own fold
(``Projector._fold``), into memory rather than into the tables, and compares
every projection table with what that fold gives: every column of every
row, rows missing and rows the events do not explain. The dated tables
(``proj_lines``, ``proj_periods``) are keyed by notification id, so they are
compared a page of the log at a time and memory stays flat; the others
(``proj_books``, ``proj_balances``, ``proj_fiscal_accounts``, ``proj_months``)
hold one row per book, account, fiscal account or month and are kept whole. The projections'
position (``proj_tracking``) must hold exactly one row, named
``ledger_projections``, at the log's last notification.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Boolean, Integer, Table, cast, select

from ledger.projections import tables
from ledger.projections.projector import LINE_COLUMNS, PROJECTION_NAME, Projector, _Deltas
from ledger.regions import municipality_of

# A tampered event can move thousands of rows; the auditor reads the first of each table, then a count.
FINDINGS_SHOWN_PER_TABLE = 20


@dataclass(frozen=True)
class Difference:
    """One projection row that differs from the fold of the events.

    Attributes:
      book: the book the row belongs to (``region/scheme/year``), or its id
        when no event names it, or "projections" for the position row.
      message: the table, the row's key and what differs.
    """

    book: str
    message: str


class _Shadow(Projector):
    """The projector's fold, run into memory: it never reads the projection tables it is checking."""

    def _book_key(self, book_hex: str) -> tuple[str, str, int]:
        return self._book_keys.get(book_hex, ("", "", 0))


@dataclass
class _Folded:
    """The whole-table projections as the events give them."""

    books: dict[str, dict[str, Any]] = field(default_factory=dict)
    balances: dict[tuple[str, str, int], list[int]] = field(default_factory=dict)
    fiscal: dict[tuple[str, str, int], list[int]] = field(default_factory=dict)
    months: dict[tuple[str, str, str, str, int], list[int]] = field(default_factory=dict)


def compare_projections(ledger) -> list[Difference]:  # type: ignore[no-untyped-def]
    """Every difference between the stored projection tables and a fresh fold of the log, worded for the auditor."""
    shadow = _Shadow(ledger.app, ledger.engine)
    folded = _Folded()
    counter = _Counter()
    deltas = _Deltas()
    previous: int | None = None
    position = 0
    while True:
        notifications = shadow._notifications_after(position)
        if not notifications:
            break
        for notification in notifications:
            try:
                decoded = shadow._decode(notification)
                if decoded is not None:
                    shadow._fold(deltas, notification.id, *decoded)
            except Exception:  # an event that no longer decodes is named by the chain check; it projects nothing
                continue
        _merge(folded, deltas)
        last = notifications[-1].id
        lines = [dict(zip(LINE_COLUMNS, line)) for line in deltas.lines]
        _compare_dated(ledger.engine, tables.lines, ("notification_id", "line"), lines, previous, last, folded, counter)
        _compare_dated(ledger.engine, tables.periods, ("notification_id",), deltas.periods, previous, last, folded, counter)
        deltas = _Deltas()
        previous = position = last
    _compare_dated(ledger.engine, tables.lines, ("notification_id", "line"), [], previous, None, folded, counter)
    _compare_dated(ledger.engine, tables.periods, ("notification_id",), [], previous, None, folded, counter)
    _compare_whole(ledger.engine, tables.books, _book_rows(folded), folded, counter)
    _compare_whole(ledger.engine, tables.balances, _balance_rows(folded), folded, counter)
    _compare_whole(ledger.engine, tables.fiscal_accounts, _fiscal_rows(folded), folded, counter)
    _compare_whole(ledger.engine, tables.months, _month_rows(folded), folded, counter)
    _compare_whole(ledger.engine, tables.tracking, {(PROJECTION_NAME,): {"name": PROJECTION_NAME, "notification_id": position}}, folded, counter)
    return counter.differences + counter.summary()


def _merge(folded: _Folded, deltas: _Deltas) -> None:
    """Add one page's deltas, as ``Projector._write`` adds them to the tables."""
    for row in deltas.opened:
        folded.books.setdefault(str(row["book_id"]), dict(row))
    for book_hex, count in deltas.events.items():
        if book_hex in folded.books:  # the projector's update touches only a book that was opened
            folded.books[book_hex]["events"] += count
    for book_hex, closed in deltas.closed.items():
        if book_hex in folded.books:
            folded.books[book_hex]["closed"] = closed
    for key, (debit, credit, closing) in deltas.balances.items():
        row = folded.balances.setdefault(key, [0, 0, 0])
        row[0], row[1], row[2] = row[0] + debit, row[1] + credit, row[2] + closing
    for key, (debit, credit, closing) in deltas.months.items():
        row = folded.months.setdefault(key, [0, 0, 0])
        row[0], row[1], row[2] = row[0] + debit, row[1] + credit, row[2] + closing
    for key, (opening, receipts, payments) in deltas.fiscal.items():
        row = folded.fiscal.setdefault(key, [0, 0, 0])
        row[0], row[1], row[2] = row[0] + opening, row[1] + receipts, row[2] + payments


def _book_rows(folded: _Folded) -> dict[tuple, dict[str, Any]]:
    return {(book_hex,): row for book_hex, row in folded.books.items()}


def _balance_rows(folded: _Folded) -> dict[tuple, dict[str, Any]]:
    return {
        (b, a, t): {"book_id": b, "account": a, "tier": t, "debit_fen": d, "credit_fen": c, "balance_fen": d - c, "closed_fen": z}
        for (b, a, t), (d, c, z) in folded.balances.items()
    }


def _month_rows(folded: _Folded) -> dict[tuple, dict[str, Any]]:
    return {
        (b, m, r, a, t): {
            "book_id": b, "month": m, "recorded_month": r, "account": a, "tier": t,
            "debit_fen": d, "credit_fen": c, "closed_fen": z,
        }
        for (b, m, r, a, t), (d, c, z) in folded.months.items()
    }


def _fiscal_rows(folded: _Folded) -> dict[tuple, dict[str, Any]]:
    return {
        (r, s, y): {
            "region": r, "scheme": s, "year": y, "municipality": municipality_of(r),
            "opening_fen": o, "receipts_fen": i, "payments_fen": p, "closing_fen": o + i - p,
        }
        for (r, s, y), (o, i, p) in folded.fiscal.items()
    }


class _Counter:
    """Differences by table, the first ``FINDINGS_SHOWN_PER_TABLE`` of each worded, the rest counted."""

    def __init__(self) -> None:
        self.differences: list[Difference] = []
        self.shown: dict[str, int] = {}
        self.hidden: dict[str, int] = {}

    def add(self, table: str, book: str, message: str) -> None:
        if self.shown.get(table, 0) < FINDINGS_SHOWN_PER_TABLE:
            self.shown[table] = self.shown.get(table, 0) + 1
            self.differences.append(Difference(book, f"{table} {message}"))
        else:
            self.hidden[table] = self.hidden.get(table, 0) + 1

    def summary(self) -> list[Difference]:
        return [Difference("projections", f"{table}: {count} more rows differ from the events") for table, count in sorted(self.hidden.items())]


def _readable_columns(table: Table) -> list[Any]:
    """The table's columns as stored: a flag read as the integer it holds, so 2 is not taken for true."""
    return [cast(column, Integer).label(column.name) if isinstance(column.type, Boolean) else column for column in table.columns]


def _stored_rows(engine, table: Table, key: tuple[str, ...], after: int | None, through: int | None) -> Iterator[dict[str, Any]]:  # type: ignore[no-untyped-def]
    query = select(*_readable_columns(table))
    if key[0] == "notification_id":
        if after is not None:
            query = query.where(table.c.notification_id > after)
        if through is not None:
            query = query.where(table.c.notification_id <= through)
    with engine.connect() as connection:
        for row in connection.execute(query.order_by(*(table.c[name] for name in key))):
            yield dict(row._mapping)


def _compare_dated(engine, table: Table, key: tuple[str, ...], expected_rows: list[dict[str, object]], after: int | None, through: int | None, folded: _Folded, counter: _Counter) -> None:  # type: ignore[no-untyped-def]
    """Compare the stored rows of a notification range with the fold's rows of it."""
    expected = {tuple(row[name] for name in key): row for row in expected_rows}
    _compare(table, key, expected, _stored_rows(engine, table, key, after, through), folded, counter)


def _compare_whole(engine, table: Table, expected: dict[tuple, dict[str, Any]], folded: _Folded, counter: _Counter) -> None:  # type: ignore[no-untyped-def]
    key = tuple(column.name for column in table.primary_key.columns)
    _compare(table, key, expected, _stored_rows(engine, table, key, None, None), folded, counter)


def _compare(table: Table, key: tuple[str, ...], expected: Mapping[tuple, Mapping[str, Any]], stored: Iterator[dict[str, Any]], folded: _Folded, counter: _Counter) -> None:
    seen: set[tuple] = set()
    for row in stored:
        row_key = tuple(row[name] for name in key)
        seen.add(row_key)
        want = expected.get(row_key)
        if want is None:
            counter.add(table.name, _book_of(row, folded), f"row {_key_text(key, row_key)} follows from no event (a row added, or re-keyed)")
            continue
        for name in (column.name for column in table.columns):
            if not _same(row.get(name), want.get(name)):
                counter.add(
                    table.name,
                    _book_of(want, folded),
                    f"row {_key_text(key, row_key)}: {name} is {row.get(name)!r}, the events give {want.get(name)!r}",
                )
    for row_key, want in expected.items():
        if row_key not in seen:
            counter.add(table.name, _book_of(want, folded), f"has no row {_key_text(key, row_key)}: the events give one (a row deleted, or re-keyed)")


def _same(stored: Any, expected: Any) -> bool:
    if isinstance(expected, bool):
        return type(stored) is int and stored == int(expected) or stored is expected
    return type(stored) is type(expected) and stored == expected


def _key_text(key: tuple[str, ...], values: tuple) -> str:
    return "(" + ", ".join(f"{name}={value!r}" for name, value in zip(key, values)) + ")"


def _book_of(row: Mapping[str, Any], folded: _Folded) -> str:
    """The book a projection row belongs to, as ``region/scheme/year``; its id when no event opened it."""
    if "book_id" in row:
        book = folded.books.get(str(row["book_id"]))
        return f"{book['region']}/{book['scheme']}/{book['year']}" if book else str(row["book_id"])
    if "region" in row:
        return f"{row['region']}/{row['scheme']}/{row['year']}"
    return "projections"
