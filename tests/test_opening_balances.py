"""Opening a book with the last audited balances of an earlier system (期初余额).

Worked example, by hand: 万州区's resident fund moves to the ledger for 2013. Its
audited balances at the end of 2012 in the old system:
  assets: 1003 5,000.00; 1004 800.00; 1101 200.00 → 6,000.00
  liabilities: 2001 300.00; fund: 3001 tier 1 4,200.00, tier 2 1,500.00 → 5,700.00
  6,000.00 = 300.00 + 5,700.00.
In 2013: a tier-1 contribution of 1,000.00 into 1003, a tier-1 inpatient claim of
400.00 from 1004.
  期末: 1003 6,000.00; 1004 400.00; 1101 200.00 → 6,600.00; 2001 300.00;
        3001 tier 1 4,200.00 + 1,000.00 − 400.00 = 4,800.00, tier 2 1,500.00 → 6,300.00.
  收支表: income 1,000.00, expense 400.00, 本期结余 600.00, 年初基金结余 5,700.00,
          其他基金变动 0.00, 期末 6,300.00.
"""

from __future__ import annotations

from ledger.aggregates.book import BookKey, book_id
from ledger.documents import read_document
from ledger.errors import (
    DocumentFormatError,
    OpeningBalancesError,
    ReversalError,
    UnbalancedEntryError,
)
from ledger.statements import Period, Scope, compute
from ledger.verify import verify

WANZHOU, JIANGJIN = "500101", "500116"
RESIDENT = {"region": WANZHOU, "scheme": "resident"}

OPENING = {
    **RESIDENT,
    "id": "WZ-2013-OB",
    "type": "opening_balances",
    "year": 2013,
    "audited": "2012年度基金决算 审计报告 万审〔2013〕12号",
    "balances": [
        {"account": "1003", "debit": "5000.00"},
        {"account": "1004", "debit": "800.00"},
        {"account": "1101", "debit": "200.00"},
        {"account": "2001", "credit": "300.00"},
        {"account": "3001", "tier": 1, "credit": "4200.00"},
        {"account": "3001", "tier": 2, "credit": "1500.00"},
    ],
}
YEAR_2013 = [
    {**RESIDENT, "id": "OB-CT-1", "type": "contribution", "date": "2013-01-10", "tier": 1, "into": "fiscal", "amount": "1000.00"},
    {**RESIDENT, "id": "OB-CL-1", "type": "claim", "date": "2013-02-10", "tier": 1, "category": "inpatient", "amount": "400.00"},
]


def post(ledger, *documents):
    return [ledger.post_one(read_document(document, "accountant")) for document in documents]


def posted(ledger, *documents):
    outcomes = post(ledger, *documents)
    assert [o.status for o in outcomes] == ["posted"] * len(documents), [str(o.error) for o in outcomes]


def yuan(fen):
    return None if fen is None else f"{'-' if fen < 0 else ''}{abs(fen) // 100}.{abs(fen) % 100:02d}"


def shown(statement):
    return {line.spec.code: tuple(yuan(v) for v in line.values) for line in statement.lines if any(line.values)}


def test_opening_balances_are_the_year_s_opening_column_not_a_fund_movement(ledger):
    posted(ledger, OPENING, *YEAR_2013)
    scope, period = Scope(WANZHOU, "resident"), Period(2013)
    assert shown(compute(ledger, "01", scope, period)) == {
        "1003": ("5000.00", "6000.00"),
        "1004": ("800.00", "400.00"),
        "1101": ("200.00", "200.00"),
        "assets_total": ("6000.00", "6600.00"),
        "2001": ("300.00", "300.00"),
        "liabilities_total": ("300.00", "300.00"),
        "3001": ("5700.00", "6300.00"),
        "3001:1": ("4200.00", "4800.00"),
        "3001:2": ("1500.00", "1500.00"),
        "fund_total": ("5700.00", "6300.00"),
        "liabilities_and_fund_total": ("6000.00", "6600.00"),
    }
    income = {code: values[0] for code, values in shown(compute(ledger, "02", scope, period)).items()}
    assert income == {
        "income_total": "1000.00",
        "4001": "1000.00",
        "4001.01": "1000.00",
        "expense_total": "400.00",
        "5001": "400.00",
        "5001.01": "400.00",
        "surplus": "600.00",
        "opening_fund": "5700.00",
        "closing_fund": "6300.00",
    }
    assert "other_fund" not in income
    assert verify(ledger).agrees, verify(ledger).findings


def test_the_date_is_1_january_of_the_year(ledger):
    posted(ledger, OPENING)
    opened, entered = ledger.app.events.get(book_id(BookKey(WANZHOU, "resident", 2013)))
    assert type(entered).__name__ == "OpeningBalancesEntered" and entered.effective_date == "2013-01-01"
    # A date other than 1 January is refused, naming the field.
    try:
        read_document({**OPENING, "id": "X", "date": "2013-03-01"})
    except DocumentFormatError as error:
        assert error.field == "date" and "2013-01-01" in str(error)
    else:
        raise AssertionError("a mid-year opening date was accepted")
    assert read_document({**OPENING, "date": "2013-01-01"}).date.isoformat() == "2013-01-01"


def test_opening_balances_open_an_empty_book_once(ledger):
    posted(ledger, OPENING, YEAR_2013[0])
    head = ledger.app.recorder.max_notification_id()
    (again,) = post(ledger, {**OPENING, "id": "WZ-2013-OB-2"})
    assert isinstance(again.error, OpeningBalancesError)
    assert again.error.field == "balances" and "already has postings with WZ-2013-OB" in str(again.error)
    # A book that something else was posted to first cannot be opened either.
    posted(ledger, {"region": JIANGJIN, "scheme": "resident", "id": "JJ-CT-1", "type": "contribution", "date": "2013-01-05",
                    "tier": 1, "into": "fiscal", "amount": "50.00"})
    head = ledger.app.recorder.max_notification_id()
    (late,) = post(ledger, {**OPENING, "id": "JJ-2013-OB", "region": JIANGJIN})
    assert isinstance(late.error, OpeningBalancesError) and "already has postings" in str(late.error)
    assert ledger.app.recorder.max_notification_id() == head


def test_opening_balances_must_balance_and_hold_only_balance_sheet_accounts(ledger):
    unbalanced = {**OPENING, "balances": OPENING["balances"][:-1]}
    (refused,) = post(ledger, unbalanced)
    # debits 6,000.00, credits 300.00 + 4,200.00 = 4,500.00
    assert isinstance(refused.error, UnbalancedEntryError) and "by 1500.00" in str(refused.error)
    flows = {**OPENING, "balances": [{"account": "1003", "debit": "10.00"}, {"account": "4201", "tier": 1, "credit": "10.00"}]}
    (refused,) = post(ledger, flows)
    assert isinstance(refused.error, OpeningBalancesError) and "4201" in str(refused.error)
    overdrawn = {**OPENING, "balances": [{"account": "1004", "credit": "10.00"}, {"account": "3001", "tier": 1, "debit": "10.00"}]}
    (refused,) = post(ledger, overdrawn)
    assert refused.status == "rejected" and "1004" in str(refused.error)
    assert ledger.app.recorder.max_notification_id() in (None, 0)


def test_opening_balances_are_not_reversed_and_no_earlier_book_carries_into_them(ledger):
    posted(ledger, OPENING)
    (reversal,) = post(ledger, {"id": "RV-OB", "type": "reversal", "date": "2013-02-01", "reverses": "WZ-2013-OB"})
    assert isinstance(reversal.error, ReversalError) and "journal" in str(reversal.error)
    # A 2012 book in the ledger too: its close would carry balances into a book already opened.
    posted(ledger, {**RESIDENT, "id": "CT-2012", "type": "contribution", "date": "2012-05-01", "tier": 1, "into": "fiscal", "amount": "10.00"})
    (close,) = post(ledger, {**RESIDENT, "id": "YC-2012", "type": "year_close", "year": 2012})
    assert isinstance(close.error, OpeningBalancesError) and "WZ-2013-OB" in str(close.error)
    assert verify(ledger).agrees
