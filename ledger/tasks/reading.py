"""Finding books and reading them now, as of a date, or as they were known at a time: what every reading task shares."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from ledger.agency_time import local_time
from ledger.aggregates.book import BookKey, book_id
from ledger.projections import queries
from ledger.projections.projector import recorded_text
from ledger.store import Ledger
from ledger.tasks.arguments import NotFoundError, known_on_bound, known_on_shown

# A municipality has a few dozen books; the check of a known-on bound reads one event of each.
MAXIMUM_BOOKS_CHECKED = 10_000


def current(ledger: Ledger) -> Ledger:
    """Bring the projections up to date (incremental: only events not yet applied) and give the ledger back."""
    ledger.projector.catch_up()
    return ledger


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
