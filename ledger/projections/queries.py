"""Reading the projections: balances, trial balances, the fiscal special account.

Every read is one bounded query on the projection tables; none replays events.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, func, select

from ledger.accounts import CHART
from ledger.projections import tables

MAXIMUM_ROWS = 100_000


@dataclass(frozen=True)
class BalanceRow:
    """One account line of a book or of a municipality.

    Attributes:
      account: the leaf account code.
      tier: 1 or 2 on a resident book's tiered accounts, else 0.
      debit_fen, credit_fen: everything posted to each side.
      balance_fen: debit minus credit.
      closed_fen: what the year-end close posted (balance_fen − closed_fen is the balance before it).
    """

    account: str
    tier: int
    debit_fen: int
    credit_fen: int
    balance_fen: int
    closed_fen: int = 0

    @property
    def before_close_fen(self) -> int:
        return self.balance_fen - self.closed_fen

    @property
    def name(self) -> str:
        account = CHART.get(self.account)
        return account.name if account else "?"


@dataclass(frozen=True)
class TrialBalance:
    title: str
    rows: list[BalanceRow]

    @property
    def debit_total_fen(self) -> int:
        return sum(row.balance_fen for row in self.rows if row.balance_fen > 0)

    @property
    def credit_total_fen(self) -> int:
        return -sum(row.balance_fen for row in self.rows if row.balance_fen < 0)

    @property
    def balanced(self) -> bool:
        return self.debit_total_fen == self.credit_total_fen


@dataclass(frozen=True)
class BookRow:
    book_id: str
    region: str
    scheme: str
    year: int
    municipality: str
    closed: bool
    events: int


def list_books(engine: Engine, region: str | None = None, scheme: str | None = None, year: int | None = None) -> list[BookRow]:
    b = tables.books
    query = select(b).order_by(b.c.region, b.c.scheme, b.c.year).limit(MAXIMUM_ROWS)
    if region:
        query = query.where((b.c.region == region) | (b.c.municipality == region))
    if scheme:
        query = query.where(b.c.scheme == scheme)
    if year:
        query = query.where(b.c.year == year)
    with engine.connect() as connection:
        return [BookRow(**row._mapping) for row in connection.execute(query)]


def book_balances(engine: Engine, book_id: str, account: str | None = None) -> list[BalanceRow]:
    t = tables.balances
    query = (
        select(t.c.account, t.c.tier, t.c.debit_fen, t.c.credit_fen, t.c.balance_fen, t.c.closed_fen)
        .where(t.c.book_id == book_id)
        .order_by(t.c.account, t.c.tier)
        .limit(MAXIMUM_ROWS)
    )
    if account:
        query = query.where((t.c.account == account) | t.c.account.like(account + ".%"))
    with engine.connect() as connection:
        return [BalanceRow(*row) for row in connection.execute(query)]


def municipality_balances(engine: Engine, municipality: str, scheme: str | None, year: int) -> list[BalanceRow]:
    """Every book of the municipality's districts and its own books, summed by account and tier."""
    t, b = tables.balances, tables.books
    query = (
        select(
            t.c.account,
            t.c.tier,
            func.sum(t.c.debit_fen),
            func.sum(t.c.credit_fen),
            func.sum(t.c.balance_fen),
            func.sum(t.c.closed_fen),
        )
        .join(b, b.c.book_id == t.c.book_id)
        .where(b.c.municipality == municipality, b.c.year == year)
        .group_by(t.c.account, t.c.tier)
        .order_by(t.c.account, t.c.tier)
        .limit(MAXIMUM_ROWS)
    )
    if scheme:
        query = query.where(b.c.scheme == scheme)
    with engine.connect() as connection:
        return [BalanceRow(r[0], r[1], int(r[2]), int(r[3]), int(r[4]), int(r[5])) for r in connection.execute(query)]


@dataclass(frozen=True)
class FiscalAccountRow:
    region: str
    scheme: str
    year: int
    municipality: str
    opening_fen: int
    receipts_fen: int
    payments_fen: int
    closing_fen: int


def fiscal_accounts(engine: Engine, region: str | None = None, year: int | None = None) -> list[FiscalAccountRow]:
    f = tables.fiscal_accounts
    query = select(f).order_by(f.c.region, f.c.scheme, f.c.year).limit(MAXIMUM_ROWS)
    if region:
        query = query.where((f.c.region == region) | (f.c.municipality == region))
    if year:
        query = query.where(f.c.year == year)
    with engine.connect() as connection:
        return [FiscalAccountRow(**row._mapping) for row in connection.execute(query)]


def table_rows(engine: Engine) -> dict[str, list[tuple[object, ...]]]:
    """Every projection row, sorted: what a rebuild must reproduce exactly."""
    result = {}
    with engine.connect() as connection:
        for table in tables.PROJECTION_TABLES:
            keys = list(table.primary_key.columns)
            result[table.name] = [tuple(row) for row in connection.execute(select(table).order_by(*keys))]
    return result
