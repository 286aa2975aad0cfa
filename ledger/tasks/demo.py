"""The demo: a municipality's year of business documents, generated; and a store filled with it, closed and verified."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from ledger.demo import DEMO_MUNICIPALITY, generate_documents
from ledger.documents import Document, read_document
from ledger.projections import queries
from ledger.store import Ledger
from ledger.tasks.balances import TrialBalanceQuery, trial_balances
from ledger.tasks.posting import PostSummary, post_documents
from ledger.verify import Report, verify

DEMO_ACTOR = "demo"


def generate(size: int = 5, year: int = 2013, seed: int = 7) -> Iterator[dict[str, Any]]:
    """The demo municipality's year of raw documents (JSON-ready), growing linearly with ``size``; the same seed, the same documents."""
    return generate_documents(size=size, year=year, seed=seed)


@dataclass(frozen=True)
class FundPosition:
    """One book carried into the next year: its bank accounts and fund balance in fen (balances positive).

    ``tier_1_fen`` is the resident tier-1 fund balance (None on other schemes); ``rest_fen`` the tier-2 part with the
    untiered fund balance.
    """

    region: str
    scheme: str
    fiscal_fen: int
    payment_fen: int
    tier_1_fen: int | None
    rest_fen: int


@dataclass(frozen=True)
class DemoRun:
    """A demo year posted: the run's counts, each fund's position after the close, the trial balances, the verify report."""

    summary: PostSummary
    positions: list[FundPosition]
    trial_balances: list[queries.TrialBalance]
    report: Report


def run(ledger: Ledger, size: int = 5, year: int = 2013, advance: Callable[[], None] = lambda: None,
        started: Callable[[int], None] = lambda total: None) -> DemoRun:
    """Generate the demo year with its month closes, post it, and read and verify the result.

    ``started(total)`` is told how many documents there are, ``advance()`` each one as it is read: a face's progress bar.
    """
    raws = list(generate_documents(size=size, year=year, close_months=True))
    started(len(raws))

    def documents() -> Iterator[Document]:
        for raw in raws:
            advance()
            yield read_document(raw, DEMO_ACTOR)

    summary = PostSummary()
    for _ in post_documents(ledger, documents(), summary):
        pass
    return DemoRun(summary, fund_positions(ledger, year), trial_balances(ledger, TrialBalanceQuery(DEMO_MUNICIPALITY, year)), verify(ledger))


def fund_positions(ledger: Ledger, year: int) -> list[FundPosition]:
    """Every demo book of ``year + 1``: what the close of ``year`` carried into it."""
    engine = ledger.engine
    positions = []
    for book in queries.list_books(engine, DEMO_MUNICIPALITY, None, year + 1):
        rows = {(r.account, r.tier): r.balance_fen for r in queries.book_balances(engine, book.book_id)}
        positions.append(FundPosition(
            book.region, book.scheme, rows.get(("1003", 0), 0), rows.get(("1004", 0), 0),
            -rows.get(("3001", 1), 0) if book.scheme == "resident" else None,
            -rows.get(("3001", 2), 0) - rows.get(("3001", 0), 0),
        ))
    return positions
