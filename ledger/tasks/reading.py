"""Finding books and reading them now, as of a date, or as they were known at a time: what every reading task shares."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date
from typing import TypeVar
from uuid import UUID

from sqlalchemy import and_, func, or_, select

from ledger.agency_time import local_time
from ledger.aggregates.book import BookKey, book_id
from ledger.errors import LedgerError
from ledger.projections import queries
from ledger.projections.projector import recorded_text
from ledger.store import Ledger
from ledger.tasks.arguments import NotFoundError, known_on_bound, known_on_shown

# A municipality has a few dozen books; the check of a known-on bound reads one event of each.
MAXIMUM_BOOKS_CHECKED = 10_000

T = TypeVar("T")


def current(ledger: Ledger) -> Ledger:
    """Bring the projections up to date (incremental: only events not yet applied) and give the ledger back.

    A ledger whose projections another process keeps (a follower's store,
    or a read replica) is read as it stands: its reads say the position
    they reflect (``read_at_position``).
    """
    if ledger.catches_up_on_read:
        ledger.projector.catch_up()
    return ledger


# A read retried while the projections moved under it; after this many it reports the position it ended at.
READ_ATTEMPTS = 5


def read_at_position(ledger: Ledger, read: Callable[[], T]) -> tuple[T, int]:
    """Run ``read`` (which may take several queries) and give its result with the log position it reflects.

    Every write to the projections moves the tracked position in the same
    transaction, so when the position is the same before and after the
    read, every query of the read saw the projections at exactly that
    position. If a projector committed meanwhile the read is run again (at
    most ``READ_ATTEMPTS`` times; then the later position is given, which
    the read reflects at least in part).
    """
    position = ledger.projector.position()
    for _ in range(READ_ATTEMPTS):
        result = read()
        after = ledger.projector.position()
        if after == position:
            return result, position
        position = after
    return result, position


def one_book(ledger: Ledger, region: str, scheme: str, year: int) -> queries.BookRow:
    """The book of ``region``/``scheme``/``year``; ``NotFoundError`` when it has not been opened."""
    key = BookKey(region, scheme, year)
    for row in queries.list_books(ledger.engine, region, scheme, year):
        if row.book_id == book_id(key).hex:
            return row
    raise NotFoundError(f"there is no book {key}")


def first_recorded(ledger: Ledger, book_ids: list[str]) -> str | None:
    """When the first of these books was opened (its first event), as UTC text; None for no books."""
    times = []
    for hex_id in book_ids[:MAXIMUM_BOOKS_CHECKED]:
        first = list(ledger.app.events.get(UUID(hex_id), lte=1))
        if first:
            times.append(recorded_text(first[0].timestamp))
    return min(times) if times else None


def check_known_on(ledger: Ledger, book_ids: list[str], known_on: str | None) -> None:
    """Refuse a ``--known-on`` before the first thing recorded in these books: the books did not exist yet (``NotFoundError``)."""
    if known_on is None:
        return
    bound = known_on_bound(known_on)
    first = first_recorded(ledger, book_ids)
    if first is not None and bound < first:
        raise NotFoundError(
            f"nothing had been recorded by {known_on_shown(known_on)}: the first record in these books is at {local_time(first)}"
        )


def dated_rows(
    ledger: Ledger, book_ids: list[str], as_of: date | None, known_on: str | None, account: str | None = None
) -> list[queries.BalanceRow]:
    """Balances from the dated projection (``proj_lines``): at the end of ``as_of`` (None: every date), as known on ``known_on``.

    ``account`` keeps one account with its sub-accounts. Amounts in fen, debit positive.
    """
    check_known_on(ledger, book_ids, known_on)
    rows = queries.balances_as_of(ledger.engine, book_ids, as_of or date.max, known_on)
    if account:
        rows = [r for r in rows if r.account == account or r.account.startswith(account + ".")]
    return rows


def document_position(ledger: Ledger, document_id: str) -> int:
    """The log position (notification id) of the last event ``document_id`` wrote, read on ``ledger``'s store.

    A read that must include the document waits until the projections it
    reads reach this position. Raises ``NotFoundError`` when the document has
    not been posted there.
    """
    record = ledger.app.registered([document_id]).get(document_id)
    if record is None or not record.entries:
        raise NotFoundError(f"document {document_id} has not been posted on the primary, so no read can wait for it")
    table = ledger.app.recorder.events_record_cls.__table__  # type: ignore[attr-defined]
    wanted = [and_(table.c.originator_id == UUID(book_hex), table.c.originator_version == int(version)) for book_hex, version in record.entries]
    with ledger.engine.connect() as connection:
        position = connection.execute(select(func.max(table.c.id)).where(or_(*wanted))).scalar()
    return int(position or 0)


# How often a wait for a position looks at the projections again.
WAIT_STEP_SECONDS = 0.1


def wait_for_position(ledger: Ledger, position: int, timeout_seconds: float, what: str) -> int:
    """Wait until ``ledger``'s projections reflect the log up to ``position``; the position they reached.

    ``what`` names what is waited for in the message (a document, or a
    position). Raises ``PositionNotReachedError`` after ``timeout_seconds``.
    """
    deadline = time.monotonic() + timeout_seconds
    while True:
        reached = current(ledger).projector.position()
        if reached >= position:
            return reached
        if time.monotonic() >= deadline:
            raise PositionNotReachedError(
                f"the store read reflects the log up to position {reached}, not yet {position} ({what}), "
                f"after waiting {timeout_seconds:g} s: its follower or its replication lags; read again later, "
                "or read the primary"
            )
        time.sleep(WAIT_STEP_SECONDS)


class PositionNotReachedError(LedgerError):
    """A read asked to include a document or a log position that the store read has not reached in time."""

    rule = "read position"
