"""Periods: a month's close (结账), a reopening (反结账), and every close and reopening of a book.

A close or a reopening is a business document like any other (docs/documents.md:
``month_close``, ``period_reopen``): it is built here from the request and
posted, so it is chained, voucher-numbered and explained as every document is.
"""

from __future__ import annotations

from dataclasses import dataclass

from ledger.aggregates.book import BookKey, book_id
from ledger.application import Outcome
from ledger.documents import read_document
from ledger.projections import queries
from ledger.store import Ledger
from ledger.tasks.arguments import ArgumentError, check_scheme
from ledger.tasks.reading import current


@dataclass(frozen=True)
class MonthClose:
    """Close ``month`` (1–12) of a book; ``seal`` also issues a seal of the book as it stands after the close."""

    region: str
    scheme: str
    year: int
    month: int
    seal: bool = False

    def __post_init__(self) -> None:
        check_scheme(self.scheme)
        if not 1 <= self.month <= 12:
            raise ArgumentError(f"month must be 1 to 12, not {self.month}")

    def document(self) -> dict[str, object]:
        """The ``month_close`` document, its id without the request number ``enter`` adds."""
        return {"id": f"MC-{self.region}-{self.scheme}-{self.year}{self.month:02d}", "type": "month_close", "region": self.region,
                "scheme": self.scheme, "year": self.year, "month": self.month, "seal": self.seal}


@dataclass(frozen=True)
class Reopening:
    """Reopen a closed ``month`` (with every later closed month) or, without one, the year; ``reason`` is kept in the book."""

    region: str
    scheme: str
    year: int
    reason: str
    month: int | None = None

    def __post_init__(self) -> None:
        check_scheme(self.scheme)
        if self.month is not None and not 1 <= self.month <= 12:
            raise ArgumentError(f"month must be 1 to 12, not {self.month}")

    def document(self) -> dict[str, object]:
        """The ``period_reopen`` document, its id without the request number ``enter`` adds."""
        period = f"{self.year}{self.month:02d}" if self.month else str(self.year)
        raw: dict[str, object] = {"id": f"RO-{self.region}-{self.scheme}-{period}", "type": "period_reopen", "region": self.region,
                                  "scheme": self.scheme, "year": self.year, "reason": self.reason}
        if self.month:
            raw["month"] = self.month
        return raw


def enter(ledger: Ledger, request: MonthClose | Reopening, actor: str) -> Outcome:
    """Post the close or reopening as ``actor``; the posted (or duplicate) outcome, or the refusal raised (``LedgerError``).

    Each request gets a fresh document id (the book's count of closes and reopenings so far, plus one): a month
    reopened and closed again is closed by a second document.
    """
    raw = request.document()
    done = history(ledger, request.region, request.scheme, request.year)
    document = read_document({**raw, "id": f"{raw['id']}-{len(done) + 1}"}, actor)
    outcome = ledger.post_one(document)
    if outcome.error is not None:
        raise outcome.error
    return outcome


def history(ledger: Ledger, region: str, scheme: str, year: int) -> list[queries.PeriodAction]:
    """Every close and reopening of a book in the order recorded: action, period, actor, reason, document, time (UTC text)."""
    return queries.period_actions(current(ledger).engine, book_id(BookKey(region, scheme, year)).hex)
