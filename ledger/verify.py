"""The auditor's check: replay every book from its events and compare with the projections.

Each book is replayed from its first event, ignoring snapshots and caches, a
page of events at a time, so memory stays flat however long the book. Every
difference is collected and reported; the ledger agrees only when there is
none.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from uuid import UUID

from eventsourcing.utils import get_topic
from sqlalchemy import distinct, select

from ledger.accounts import FISCAL_ACCOUNT
from ledger.aggregates.book import Book
from ledger.money import format_yuan
from ledger.postings import balance_key
from ledger.projections import queries

PAGE_SIZE_EVENTS = 5000


@dataclass(frozen=True)
class Finding:
    """One disagreement: where it is and what differs."""

    book: str
    message: str


@dataclass
class Report:
    books: int = 0
    events: int = 0
    findings: list[Finding] = field(default_factory=list)

    @property
    def agrees(self) -> bool:
        return not self.findings


def book_ids(app) -> Iterator[UUID]:  # type: ignore[no-untyped-def]
    """Every book that has an Opened event in the store, read from the events, not the projections."""
    record_cls = app.recorder.events_record_cls
    topic = get_topic(Book.Opened)
    with app.recorder.transaction(commit=False) as session:
        ids = [row[0] for row in session.execute(select(distinct(record_cls.originator_id)).where(record_cls.topic == topic))]
    return iter(sorted(ids, key=lambda u: u.hex))


def replay(app, identifier: UUID) -> Book:  # type: ignore[no-untyped-def]
    book = None
    version = 0
    while True:
        events = list(app.events.get(identifier, gt=version, limit=PAGE_SIZE_EVENTS))
        for event in events:
            book = event.mutate(book)
        if len(events) < PAGE_SIZE_EVENTS:
            break
        version = events[-1].originator_version
    if book is None:
        raise LookupError(f"no events for book {identifier}")
    return book


def verify(ledger) -> Report:  # type: ignore[no-untyped-def]
    ledger.projector.catch_up()
    report = Report()
    projected_books = {row.book_id: row for row in queries.list_books(ledger.engine)}
    fiscal = {(r.region, r.scheme, r.year): r for r in queries.fiscal_accounts(ledger.engine)}
    seen: set[str] = set()
    for identifier in book_ids(ledger.app):
        book = replay(ledger.app, identifier)
        seen.add(identifier.hex)
        report.books += 1
        report.events += book.version
        report.findings += _compare_book(ledger, book, projected_books.get(identifier.hex), fiscal)
    for book_hex in sorted(set(projected_books) - seen):
        row = projected_books[book_hex]
        report.findings.append(Finding(f"{row.region}/{row.scheme}/{row.year}", "is in the projections but has no events"))
    return report


def _compare_book(ledger, book: Book, projected, fiscal) -> list[Finding]:  # type: ignore[no-untyped-def]
    name = str(book.key)
    findings: list[Finding] = []
    total_fen = sum(book.balances.values())
    if total_fen:
        findings.append(Finding(name, f"replayed trial balance is off by {format_yuan(total_fen)}"))
    if projected is None:
        return findings + [Finding(name, "has events but no row in the projections")]
    if projected.events != book.version:
        findings.append(Finding(name, f"projection counted {projected.events} events, replay {book.version}"))
    if projected.closed != book.closed:
        findings.append(Finding(name, f"projection says closed={projected.closed}, replay closed={book.closed}"))
    rows = queries.book_balances(ledger.engine, book.id.hex)
    projected_balances = {balance_key(r.account, r.tier): r.balance_fen for r in rows if r.balance_fen}
    for row in rows:
        if row.debit_fen - row.credit_fen != row.balance_fen:
            findings.append(Finding(name, f"projection row {row.account} tier {row.tier}: debits − credits ≠ balance"))
    for key in sorted(set(projected_balances) | set(book.balances)):
        replayed_fen, shown_fen = book.balances.get(key, 0), projected_balances.get(key, 0)
        if replayed_fen != shown_fen:
            findings.append(
                Finding(name, f"{key}: replay {format_yuan(replayed_fen)}, projection {format_yuan(shown_fen)}")
            )
    account = fiscal.get((book.region, book.scheme, book.year))
    fiscal_fen = book.balance_fen(FISCAL_ACCOUNT)
    shown_fen = account.closing_fen if account else 0
    if fiscal_fen != shown_fen:
        findings.append(
            Finding(name, f"fiscal special account: replay {format_yuan(fiscal_fen)}, projection {format_yuan(shown_fen)}")
        )
    return findings
