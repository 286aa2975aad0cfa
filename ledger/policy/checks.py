"""Year-end checks the policy sets on a fund's surplus, read from the projections.

- The resident fund's accumulated balance should not exceed its share of the
  year's fundraising (adjustment.resident_surplus_check).
- The assistance fund's year surplus should not exceed 15% of the funds
  raised (assistance.surplus_check; 渝府发〔2012〕78号, 财社〔2013〕217号).

Findings are reported, not refused: the books are what happened.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Engine

from ledger.accounts import CHART, AccountClass
from ledger.policy import load_policy
from ledger.projections import queries

FUNDRAISING_PREFIXES = ("4001", "4101")


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


def surplus_findings(engine: Engine, region: str, year: int) -> list[Finding]:
    from ledger.policy.rules import adjustment, assistance

    findings = []
    for book in queries.list_books(engine, region, None, year):
        figures = _figures(queries.book_balances(engine, book.book_id))
        policy = load_policy(book.region, date(year, 12, 31))
        name = f"{book.region}/{book.scheme}/{book.year}"
        if book.scheme == "resident" and policy.has("resident.surplus.accumulated_limit_percent"):
            messages = adjustment.resident_surplus_check(figures["fund"], figures["fundraising"], policy)
        elif book.scheme == "assistance" and policy.has("assistance.surplus.maximum_percent"):
            messages = assistance.surplus_check(figures["income"] - figures["expense"], figures["income"], policy)
        else:
            continue
        findings += [Finding(name, message) for message in messages]
    return findings
