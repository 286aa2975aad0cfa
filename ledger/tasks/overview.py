"""The funds of a municipality at a glance, and each fund's year month by month: what the web page's first screens show.

Nothing here is computed anew: every figure is read from the official
statements (``ledger.tasks.statements.show``, 会社保02表 收支表) and from the
财政专户 (``ledger.tasks.balances.fiscal_accounts``), so the page shows the
same numbers the API's ``/api/statements`` and ``/api/fiscal-accounts`` give.
Scope is the face's business: every function takes ``visible``, the face's
answer to "may this user read the books of this region?".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ledger.accounts import CHART, SUBSIDY_LEVELS
from ledger.projections import queries
from ledger.regions import municipality_of, region_name
from ledger.statements.forms import FUND_NAMES, INCOME_STATEMENT
from ledger.store import Ledger
from ledger.tasks.arguments import NotFoundError
from ledger.tasks.balances import fiscal_accounts
from ledger.tasks.reading import current
from ledger.tasks.statements import StatementRequest, show

# The levels of government a subsidy comes from, in the order the 收支表 prints them (行次 7–10), named as the
# chart names their 财政补贴收入 accounts (4101.01 财政补贴收入—中央 → 中央).
SUBSIDY_LEVEL_NAMES = {level: CHART[account].name.split("—", 1)[1] for level, account in SUBSIDY_LEVELS.items()}
MONTHS = range(1, 13)


@dataclass(frozen=True)
class FundGlance:
    """One book of a municipality (a district's fund, or the municipality's own) in one year, all in fen.

    Attributes:
      region, region_name, scheme, fund_name: whose book.
      fiscal_closing_fen: the 财政专户 balance now (closing; receipts less payments on the opening).
      income_fen, income_last_year_fen: 收支表 行次 1 基金收入, this year and last (本年数, 上年数).
      expense_fen, expense_last_year_fen: 行次 15 基金支出, this year and last.
      subsidy_fen: 行次 7–10 财政补贴收入 by level of government (``central``, ``provincial``, ``prefecture``,
        ``county``), this year.
    """

    region: str
    region_name: str
    scheme: str
    fund_name: str
    fiscal_closing_fen: int
    income_fen: int
    income_last_year_fen: int
    expense_fen: int
    expense_last_year_fen: int
    subsidy_fen: dict[str, int]


@dataclass(frozen=True)
class MunicipalityGlance:
    """A municipality's books of one year (``funds``), the regions left out of the user's scope counted, not named."""

    municipality: str
    municipality_name: str
    year: int
    funds: list[FundGlance]
    hidden_books: int


def _figure(value: int | None) -> int:
    return value or 0


def fund_glance(ledger: Ledger, region: str, scheme: str, year: int, fiscal_closing_fen: int) -> FundGlance:
    """One book's line of the glance, from its annual 收支表 (``NotFoundError`` when the book does not exist)."""
    statement = show(ledger, StatementRequest(INCOME_STATEMENT, region, scheme, year))
    shown = {line.spec.code for line in statement.lines}

    def value(code: str, column: str) -> int:
        return _figure(statement.value(code, column)) if code in shown else 0

    return FundGlance(
        region, region_name(region), scheme, FUND_NAMES.get(scheme, scheme), fiscal_closing_fen,
        value("income_total", "this_year"), value("income_total", "last_year"),
        value("expense_total", "this_year"), value("expense_total", "last_year"),
        {level: value(account, "this_year") for level, account in SUBSIDY_LEVELS.items()},
    )


def glance(ledger: Ledger, municipality: str, year: int, visible: Callable[[str], bool]) -> MunicipalityGlance:
    """Every book of ``municipality`` (its districts' and its own) in ``year`` that ``visible`` lets the user read.

    Books come ordered by region then fund. ``NotFoundError`` when the municipality has no books that year.
    """
    books = [b for b in queries.list_books(current(ledger).engine, municipality, None, year)
             if municipality_of(b.region) == municipality]
    if not books:
        raise NotFoundError(f"there are no books of {municipality} in {year}")
    fiscal = {(r.region, r.scheme): r.closing_fen for r in fiscal_accounts(ledger, municipality, year)}
    shown = [b for b in books if visible(b.region)]
    funds = [fund_glance(ledger, b.region, b.scheme, year, fiscal.get((b.region, b.scheme), 0)) for b in shown]
    return MunicipalityGlance(municipality, region_name(municipality), year, funds, len(books) - len(shown))


@dataclass(frozen=True)
class MonthFigures:
    """One month of a fund: 基金收入 and 基金支出 of the month (本月数) and the 期末基金结余 at its end, in fen."""

    month: int
    income_fen: int
    expense_fen: int
    fund_balance_fen: int


def months(ledger: Ledger, region: str, scheme: str, year: int, consolidated: bool = False) -> list[MonthFigures]:
    """A fund's year month by month (consolidated over a municipality when asked), from the 收支表.

    Each month comes from its monthly statement: income and expense from the 本月数 column, the
    期末基金结余 from the 本年累计数 column (a month's column leaves the fund balances blank).
    """
    figures = []
    for month in MONTHS:
        statement = show(ledger, StatementRequest(INCOME_STATEMENT, region, scheme, year, month, consolidated))
        figures.append(
            MonthFigures(
                month,
                _figure(statement.value("income_total", "month")),
                _figure(statement.value("expense_total", "month")),
                _figure(statement.value("closing_fund", "year_to_date")),
            )
        )
    return figures


def default_year(ledger: Ledger, region: str) -> int:
    """The latest year in which ``region``'s books (or its municipality's) received anything into the 财政专户.

    A year-end close opens next year's books with only their carried-forward balances, so the latest year with
    receipts is the one a finance officer means. ``NotFoundError`` when the region has no books at all.
    """
    rows = fiscal_accounts(ledger, region)
    active = [r.year for r in rows if r.receipts_fen]
    if active:
        return max(active)
    years = [b.year for b in queries.list_books(current(ledger).engine, region)]
    if not years:
        raise NotFoundError(f"there are no books of {region}")
    return max(years)
