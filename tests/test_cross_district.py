"""Cross-district care: the district of care advances, the municipal platform settles monthly (渝办发〔2011〕293号).

Worked example, by hand (docs/policy/cross-district.md): an insured of 江津区
(500116, the home district B) is cared for in 万州区 (500101, the district of
care A), 2013, tier 1. The platform's clearing is kept in the municipality's
resident book (500000).

  A: contribution 1,000.00 into 1003; 1,000.00 moved to 1004.
  B: contribution 2,000.00 into 1003.
  03-12 care 600.00 and 03-20 care 150.00, both inpatient, advanced by A:
    A  Dr 1101.01 750.00 / Cr 1004 750.00
    P  Dr 1101.01 750.00 / Cr 2001.02 750.00
    B  Dr 5001.01 tier 1 750.00 / Cr 2001.02 750.00
  As of 03-25: A 1004 250.00, 1101 750.00, assets 1,000.00, fund 1,000.00;
    B 1003 2,000.00, 2001 750.00, fund 2,000.00 − 750.00 = 1,250.00;
    P 1101 750.00, 2001 750.00.
    Consolidated (A + B + P): 1101 750.00 + 750.00 = 1,500.00 against 2001
    1,500.00, netting to zero: both removed. 1003 2,000.00, 1004 250.00,
    assets 2,250.00 = fund 1,000.00 + 1,250.00; eliminated 1101 1,500.00, 2001 1,500.00.
  03-31 settlement of 750.00, B to A through the platform:
    B  Dr 2001.02 / Cr 1003; P Dr 2001.02 / Cr 1101.01; A Dr 1003 / Cr 1101.01.
  Year end: A 1003 750.00, 1004 250.00; B 1003 1,250.00; P nothing.
    Consolidated 01: 1003 2,000.00, 1004 250.00, assets 2,250.00, fund 2,250.00.
    Consolidated 02: income 3,000.00, expense 5001.01 750.00, surplus 2,250.00.
"""

from __future__ import annotations

from datetime import date

from ledger.aggregates.book import BookKey
from ledger.documents import read_document
from ledger.errors import AccountOverdrawnError, DocumentFormatError, HeldOverdrawnError
from ledger.statements import Period, Scope, compute
from ledger.verify import verify

WANZHOU, JIANGJIN, CHONGQING = "500101", "500116", "500000"

SETUP = [
    {"id": "A-CT", "type": "contribution", "date": "2013-01-05", "region": WANZHOU, "scheme": "resident", "tier": 1,
     "into": "fiscal", "amount": "1000.00"},
    {"id": "A-TR", "type": "transfer", "date": "2013-01-06", "region": WANZHOU, "scheme": "resident", "from": "fiscal",
     "to": "payment", "amount": "1000.00"},
    {"id": "B-CT", "type": "contribution", "date": "2013-01-05", "region": JIANGJIN, "scheme": "resident", "tier": 1,
     "into": "fiscal", "amount": "2000.00"},
]
CARE = [
    {"id": "XD-1", "type": "cross_district_care", "date": "2013-03-12", "region": WANZHOU, "home_region": JIANGJIN,
     "category": "inpatient", "tier": 1, "amount": "600.00", "memo": "江津参保人 万州住院 异地垫付"},
    {"id": "XD-2", "type": "cross_district_care", "date": "2013-03-20", "region": WANZHOU, "home_region": JIANGJIN,
     "category": "inpatient", "tier": 1, "amount": "150.00"},
]
SETTLEMENT = {"id": "XS-2013-03", "type": "cross_district_settlement", "date": "2013-03-31", "region": JIANGJIN,
              "care_region": WANZHOU, "month": 3, "amount": "750.00", "memo": "市级结算平台 3月清算"}


def post(ledger, *documents):
    return [ledger.post_one(read_document(document, "accountant")) for document in documents]


def posted(ledger, *documents):
    outcomes = post(ledger, *documents)
    assert [o.status for o in outcomes] == ["posted"] * len(documents), [str(o.error) for o in outcomes]


def balances(ledger, region):
    return dict(ledger.app.book(BookKey(region, "resident", 2013)).balances)


def yuan(fen):
    return None if fen is None else f"{'-' if fen < 0 else ''}{abs(fen) // 100}.{abs(fen) % 100:02d}"


def closing(statement):
    """The 期末余额 (or 本年数) column, lines with a figure only."""
    return {line.spec.code: yuan(line.values[-1]) for line in statement.lines if line.values[-1]}


def test_the_advance_posts_in_three_books_and_nets_to_zero(ledger):
    posted(ledger, *SETUP, *CARE)
    # A's 1003 is empty (1,000.00 in, 1,000.00 to 1004), so it has no balance.
    assert balances(ledger, WANZHOU) == {"1004:0": 25000, "1101.01:0": 75000, "4001.01:1": -100000}
    assert balances(ledger, CHONGQING) == {"1101.01:0": 75000, "2001.02:0": -75000}
    assert balances(ledger, JIANGJIN) == {"1003:0": 200000, "2001.02:0": -75000, "4001.01:1": -200000, "5001.01:1": 75000}
    clearing = sum(
        fen for region in (WANZHOU, JIANGJIN, CHONGQING) for key, fen in balances(ledger, region).items()
        if key.split(":")[0] in ("1101.01", "2001.02")
    )
    assert clearing == 0


def test_a_consolidated_balance_sheet_shows_neither_the_advance_nor_what_is_owed(ledger):
    posted(ledger, *SETUP, *CARE)
    as_of = Period(2013, None, date(2013, 3, 25))
    district = closing(compute(ledger, "01", Scope(WANZHOU, "resident"), as_of))
    assert district["1101"] == "750.00" and district["assets_total"] == "1000.00"
    home = closing(compute(ledger, "01", Scope(JIANGJIN, "resident"), as_of))
    assert home["2001"] == "750.00" and home["fund_total"] == "1250.00"
    consolidated = compute(ledger, "01", Scope(CHONGQING, "resident", consolidated=True), as_of)
    assert closing(consolidated) == {
        "1003": "2000.00",
        "1004": "250.00",
        "assets_total": "2250.00",
        "3001": "2250.00",
        "3001:1": "2250.00",
        "fund_total": "2250.00",
        "liabilities_and_fund_total": "2250.00",
    }
    assert {line.spec.code: yuan(line.values[-1]) for line in consolidated.eliminations} == {"1101": "1500.00", "2001": "1500.00"}


def test_the_monthly_settlement_clears_every_book_and_the_year_consolidates(ledger):
    posted(ledger, *SETUP, *CARE, SETTLEMENT)
    assert balances(ledger, WANZHOU) == {"1003:0": 75000, "1004:0": 25000, "4001.01:1": -100000}
    assert balances(ledger, JIANGJIN) == {"1003:0": 125000, "4001.01:1": -200000, "5001.01:1": 75000}
    assert balances(ledger, CHONGQING) == {}
    scope = Scope(CHONGQING, "resident", consolidated=True)
    sheet = compute(ledger, "01", scope, Period(2013))
    assert closing(sheet) == {
        "1003": "2000.00",
        "1004": "250.00",
        "assets_total": "2250.00",
        "3001": "2250.00",
        "3001:1": "2250.00",
        "fund_total": "2250.00",
        "liabilities_and_fund_total": "2250.00",
    }
    assert sheet.eliminations == ()
    statement = compute(ledger, "02", scope, Period(2013))
    income = {line.spec.code: yuan(line.values[0]) for line in statement.lines if line.values[0]}  # 本年数
    assert income["income_total"] == "3000.00" and income["5001.01"] == "750.00" and income["surplus"] == "2250.00"
    assert verify(ledger).agrees, verify(ledger).findings


def test_no_district_is_repaid_more_than_it_advanced(ledger):
    posted(ledger, *SETUP, *CARE)
    (refused,) = post(ledger, {**SETTLEMENT, "amount": "800.00"})
    assert isinstance(refused.error, HeldOverdrawnError)
    # B owes 750.00 and would pay 800.00: the first book judged names it.
    assert "too much by 50.00" in str(refused.error)
    assert balances(ledger, CHONGQING) == {"1101.01:0": 75000, "2001.02:0": -75000}


def test_the_districts_must_differ_and_share_a_municipality(ledger):
    for change, field in (
        ({"home_region": WANZHOU}, "home_region"),  # care at home is an ordinary claim
        ({"home_region": "431002"}, "home_region"),  # 郴州 北湖区: another municipality's platform
        ({"home_region": CHONGQING}, "home_region"),  # the municipality keeps the platform, it has no insured here
    ):
        (refused,) = post(ledger, {**CARE[0], **change})
        assert isinstance(refused.error, DocumentFormatError) and refused.error.field == field, str(refused.error)
    (refused,) = post(ledger, {**SETTLEMENT, "care_region": JIANGJIN})
    assert isinstance(refused.error, DocumentFormatError) and refused.error.field == "care_region"
    assert ledger.app.recorder.max_notification_id() in (None, 0)


def test_an_advance_the_payment_account_cannot_cover_is_refused_in_every_book(ledger):
    posted(ledger, *SETUP)
    head = ledger.app.recorder.max_notification_id()
    (refused,) = post(ledger, {**CARE[0], "amount": "1000.01"})
    assert isinstance(refused.error, AccountOverdrawnError) and "too little by 0.01" in str(refused.error)
    assert ledger.app.recorder.max_notification_id() == head
    assert balances(ledger, WANZHOU) == {"1004:0": 100000, "4001.01:1": -100000}
