"""Year-end checks the policy sets on a fund's surplus, read from the projections.

- The resident fund's accumulated balance should not exceed its share of the
  year's fundraising (adjustment.resident_surplus_check).
- The assistance fund's year surplus should not exceed 15% of the funds
  raised (assistance.surplus_check; 渝府发〔2012〕78号, 财社〔2013〕217号).

- The outpatient benefits of the year should stay within the outpatient
  pool, about 15% of the fund (chenzhou.outpatient_pool_check; 郴政办发〔2016〕37号 四(四)4).
- A district's own assistance funding of the year should be at least 15% of
  last year's municipal allocation (assistance.budget_check; 渝府发〔2012〕78号 四(一)).

Findings are reported, not refused: the books are what happened, and each
of these is a year's total that no single document can know. The command
``ledger policy check`` prints ``surplus_findings`` (every check above).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Engine

from ledger.accounts import CHART, AccountClass
from ledger.policy import load_policy
from ledger.projections import queries
from ledger.regions import DIRECT_MUNICIPALITIES, municipality_of

FUNDRAISING_PREFIXES = ("4001", "4101")
OUTPATIENT_BENEFITS = "5001.02"
DISTRICT_SUBSIDY = "4101.04"


@dataclass(frozen=True)
class Finding:
    book: str
    message: str


def _figures(rows: list[queries.BalanceRow]) -> dict[str, int]:
    """Fundraising, income, expense and the fund balance at year end, in credit-positive fen."""
    fundraising = income = expense = fund = 0
    for row in rows:
        account = CHART[row.account]
        before_close = -row.before_close_fen
        if account.account_class is AccountClass.INCOME:
            income += before_close
            if row.account.startswith(FUNDRAISING_PREFIXES):
                fundraising += before_close
        elif account.account_class is AccountClass.EXPENSE:
            expense -= before_close
        if account.account_class in (AccountClass.INCOME, AccountClass.EXPENSE, AccountClass.NET_ASSETS):
            fund -= row.balance_fen
    return {"fundraising": fundraising, "income": income, "expense": expense, "fund": fund}


def _before_close_fen(rows: list[queries.BalanceRow], account: str) -> int:
    """An account's (and its sub-accounts') year's movement before the close, debit-positive."""
    return sum(row.before_close_fen for row in rows if row.account == account or row.account.startswith(account + "."))


def _municipal_subsidy_account(region: str) -> str:
    """The municipality's own subsidy line: provincial-level money in 北京, 天津, 上海 and 重庆, prefecture-level elsewhere."""
    return "4101.02" if region[:2] in DIRECT_MUNICIPALITIES else "4101.03"


def _book_findings(engine: Engine, book: queries.BookRow, year: int) -> list[str]:
    from ledger.policy.rules import adjustment, assistance, chenzhou

    rows = queries.book_balances(engine, book.book_id)
    figures = _figures(rows)
    policy = load_policy(book.region, date(year, 12, 31))
    messages: list[str] = []
    if book.scheme == "resident":
        if policy.has("resident.surplus.accumulated_limit_percent"):
            messages += adjustment.resident_surplus_check(figures["fund"], figures["fundraising"], policy)
        if policy.has("resident.outpatient_pool.share_percent"):
            outpatient_fen = _before_close_fen(rows, OUTPATIENT_BENEFITS)
            messages += chenzhou.outpatient_pool_check(max(outpatient_fen, 0), max(figures["fundraising"], 0), policy)
    elif book.scheme == "assistance":
        if policy.has("assistance.surplus.maximum_percent"):
            messages += assistance.surplus_check(figures["income"] - figures["expense"], figures["income"], policy)
        if policy.has("assistance.district_budget.minimum_percent") and municipality_of(book.region) != book.region:
            messages += assistance.budget_check(*_assistance_funding(engine, book, rows), policy)
    return messages


def _assistance_funding(engine: Engine, book: queries.BookRow, rows: list[queries.BalanceRow]) -> tuple[int, int]:
    """(the district's own funding this year, last year's municipal allocation), in fen, from the assistance books.

    Our reading: the district's budget (本级财政预算安排资金) is what its own
    finance paid in during the year (4101.04), and the municipal allocation
    (市级下拨补助资金) is last year's subsidy from the municipality's level; the
    ledger keeps no budgets, only what arrived.
    """
    district_fen = max(-_before_close_fen(rows, DISTRICT_SUBSIDY), 0)
    allocation_fen = 0
    for earlier in queries.list_books(engine, book.region, "assistance", book.year - 1):
        if earlier.region == book.region:
            earlier_rows = queries.book_balances(engine, earlier.book_id)
            allocation_fen += max(-_before_close_fen(earlier_rows, _municipal_subsidy_account(book.region)), 0)
    return district_fen, allocation_fen


def surplus_findings(engine: Engine, region: str, year: int) -> list[Finding]:
    """Every year-end finding of the policy on the books of ``region`` (a district, or a municipality's every book) for ``year``.

    Returns the findings in book order; an empty list when every check passes.
    """
    findings = []
    for book in queries.list_books(engine, region, None, year):
        name = f"{book.region}/{book.scheme}/{book.year}"
        findings += [Finding(name, message) for message in _book_findings(engine, book, year)]
    return findings


policy_findings = surplus_findings
