"""Balances of a book, trial balances (试算平衡表), the list of books, the fiscal special account (财政专户).

Every function reads the projections (no replay) and returns plain records
with money as ``int`` fen, debit positive; the ``*_json`` functions give the
same records with money as yuan text (``"1234.56"``), the shape every face
hands out.
"""

from __future__ import annotations

from dataclasses import dataclass

from ledger.aggregates.book import BookKey
from ledger.money import format_yuan
from ledger.projections import queries
from ledger.regions import municipality_of, region_name
from ledger.store import Ledger
from ledger.tasks.arguments import NotFoundError, check_account, check_scheme, dated_title, day, known_on_bound, known_on_shown
from ledger.tasks.reading import current, dated_rows, one_book


@dataclass(frozen=True)
class BalanceQuery:
    """Which balances: one book (``region``/``scheme``/``year``), one account with its sub-accounts or all, now or dated.

    ``as_of`` (``YYYY-MM-DD``) takes the balances at the end of that effective date; ``known_on`` (a date or an
    ISO time, agency's zone unless it has an offset) only what had been recorded by then. Checked on creation
    (``ArgumentError``).
    """

    region: str
    scheme: str
    year: int
    account: str | None = None
    as_of: str | None = None
    known_on: str | None = None

    def __post_init__(self) -> None:
        check_scheme(self.scheme)
        if self.account:
            check_account(self.account)
        day(self.as_of, "--as-of")
        if self.known_on is not None:
            known_on_bound(self.known_on)

    @property
    def dated(self) -> bool:
        return bool(self.as_of or self.known_on)


@dataclass(frozen=True)
class BookBalances:
    """One book's balances: ``title`` names the region and the date bound; ``rows`` in fen."""

    book: BookKey
    title: str
    as_of: str | None
    known_on: str | None
    rows: list[queries.BalanceRow]


def balance(ledger: Ledger, query: BalanceQuery) -> BookBalances:
    """The balances ``query`` asks for; ``NotFoundError`` when the book does not exist or did not yet at ``known_on``."""
    key = BookKey(query.region, query.scheme, query.year)
    book = one_book(current(ledger), query.region, query.scheme, query.year)
    if query.dated:
        rows = dated_rows(ledger, [book.book_id], day(query.as_of, "--as-of"), query.known_on, query.account)
    else:
        rows = queries.book_balances(ledger.engine, book.book_id, query.account)
    title = f"{region_name(query.region)} {key}{dated_title(query.as_of, query.known_on)}"
    return BookBalances(key, title, query.as_of, known_on_shown(query.known_on), rows)


def row_json(row: queries.BalanceRow) -> dict[str, object]:
    """A balance line with yuan text: debit, credit, the signed balance and its side (``Dr``/``Cr``)."""
    return {
        "account": row.account,
        "name": row.name,
        "tier": row.tier,
        "debit": format_yuan(row.debit_fen),
        "credit": format_yuan(row.credit_fen),
        "balance": format_yuan(row.balance_fen),
        "side": "Dr" if row.balance_fen >= 0 else "Cr",
    }


def balance_json(result: BookBalances) -> dict[str, object]:
    """``{"book", ["as_of", "known_on"], "rows"}``: the date bounds only when the query was dated."""
    dated = {"as_of": result.as_of, "known_on": result.known_on} if result.as_of or result.known_on else {}
    return {"book": str(result.book), **dated, "rows": [row_json(r) for r in result.rows]}


@dataclass(frozen=True)
class TrialBalanceQuery:
    """A district's books (one trial balance each) or a municipality's (one summed); one scheme or all; now or dated."""

    region: str
    year: int
    scheme: str | None = None
    as_of: str | None = None
    known_on: str | None = None

    def __post_init__(self) -> None:
        if self.scheme:
            check_scheme(self.scheme)
        day(self.as_of, "--as-of")
        if self.known_on is not None:
            known_on_bound(self.known_on)


def trial_balances(ledger: Ledger, query: TrialBalanceQuery) -> list[queries.TrialBalance]:
    """The trial balances ``query`` asks for; ``NotFoundError`` when there are no such books."""
    current(ledger)
    region, scheme, year = query.region, query.scheme, query.year
    dated = bool(query.as_of or query.known_on)
    as_of = day(query.as_of, "--as-of")
    suffix = dated_title(query.as_of, query.known_on)
    result = []
    if municipality_of(region) == region:
        if dated:
            ids = [b.book_id for b in queries.list_books(ledger.engine, region, scheme, year)]
            rows = dated_rows(ledger, ids, as_of, query.known_on) if ids else []
        else:
            rows = queries.municipality_balances(ledger.engine, region, scheme, year)
        title = f"{region_name(region)} {region} {scheme or 'all schemes'} {year} (municipality){suffix}"
        result = [queries.TrialBalance(title, rows)] if rows else []
    else:
        for book in queries.list_books(ledger.engine, region, scheme, year):
            if book.region == region:
                rows = dated_rows(ledger, [book.book_id], as_of, query.known_on) if dated else queries.book_balances(ledger.engine, book.book_id)
                result.append(queries.TrialBalance(f"{region_name(region)} {BookKey(book.region, book.scheme, book.year)}{suffix}", rows))
    if not result:
        raise NotFoundError(f"no books for {region} in {year}")
    return result


def trial_balance_json(tb: queries.TrialBalance) -> dict[str, object]:
    """A trial balance with yuan text: its rows, the four column totals and whether it balances."""
    return {
        "title": tb.title,
        "rows": [row_json(r) for r in tb.rows],
        "debit_turnover_total": format_yuan(tb.debit_turnover_fen),
        "credit_turnover_total": format_yuan(tb.credit_turnover_fen),
        "debit_total": format_yuan(tb.debit_total_fen),
        "credit_total": format_yuan(tb.credit_total_fen),
        "balanced": tb.balanced,
    }


def books(ledger: Ledger, region: str | None = None, year: int | None = None) -> list[queries.BookRow]:
    """The books (of a district, or a municipality's with its districts; of one year), with status and event count."""
    return queries.list_books(current(ledger).engine, region, None, year)


def fiscal_accounts(ledger: Ledger, region: str | None = None, year: int | None = None) -> list[queries.FiscalAccountRow]:
    """The 财政专户 per region and fund: opening, receipts, payments, closing in fen, as the finance bureau keeps it."""
    return queries.fiscal_accounts(current(ledger).engine, region, year)


def fiscal_account_json(row: queries.FiscalAccountRow) -> dict[str, object]:
    """One region's and fund's 财政专户 with yuan text."""
    return {
        "region": row.region,
        "scheme": row.scheme,
        "year": row.year,
        "opening": format_yuan(row.opening_fen),
        "receipts": format_yuan(row.receipts_fen),
        "payments": format_yuan(row.payments_fen),
        "closing": format_yuan(row.closing_fen),
    }
