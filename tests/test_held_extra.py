"""The tier-1 hardship extra is held for the person (记账), not pooled income: 渝府发〔2007〕113号 三(八).

Worked example, every figure by hand from seed 000 (docs/policy/resident.md):
万州区 (500101, a general district: the municipality pays 75% of the local part),
2013, one household at tier 1 of two urban residents and one 低保 adult.

Subsidy (三(五)2): urban 40.00 each, central 20.00, local 20.00 → municipal 15.00,
district 5.00; the hardship adult 40.00 + 60.00 = 100.00, central 20.00 + 30.00 =
50.00, local 50.00 → municipal 37.50, district 12.50.
  received: central 2 × 20.00 + 50.00 = 90.00; municipal 2 × 15.00 + 37.50 = 67.50;
            district 2 × 5.00 + 12.50 = 22.50; in all 180.00 into 1003.
  held (the extra 60.00): central 30.00; municipal 30.00 × 75% = 22.50; district 7.50.
  income: 4101.01 90.00 − 30.00 = 60.00; 4101.02 67.50 − 22.50 = 45.00;
          4101.04 22.50 − 7.50 = 15.00 → 120.00 = 3 × 40.00; Cr 2001.01 60.00.
Contribution (三(四)): 3 × (50.00 − 40.00) = 30.00 into 1003.
Transfer 100.00 from 1003 to 1004. Drawdown: out of pocket 45.00 → 45.00 from the
held money (Dr 2001.01 / Cr 1004), not a benefit of the fund.
Before the close: 1003 180.00 + 30.00 − 100.00 = 110.00; 1004 100.00 − 45.00 =
55.00; assets 165.00; 2001 (all of it 2001.01) 60.00 − 45.00 = 15.00; fund tier 1
120.00 + 30.00 = 150.00; 15.00 + 150.00 = 165.00.
At the close the 15.00 left lapses into the fund as 其他收入 4501 tier 1 (reading
3): income 120.00 + 30.00 + 15.00 = 165.00, fund 165.00, 2001.01 zero.
"""

from __future__ import annotations

from ledger.aggregates.book import BookKey
from ledger.documents import read_document
from ledger.errors import HeldOverdrawnError
from ledger.statements import Period, Scope, compute
from ledger.verify import verify

WANZHOU = "500101"
RESIDENT = {"region": WANZHOU, "scheme": "resident"}
PERSON = "500101-0203-0522-03"

SUBSIDY = {**RESIDENT, "id": "H-SB-1", "type": "subsidy", "date": "2013-03-18", "tier": 1,
           "facts": {"urban": 2, "urban_hardship_adult": 1}}
CONTRIBUTION = {**RESIDENT, "id": "H-CT-1", "type": "contribution", "date": "2013-01-08", "tier": 1, "into": "fiscal",
                "facts": {"urban": 2, "urban_hardship_adult": 1}}
TRANSFER = {**RESIDENT, "id": "H-TR-1", "type": "transfer", "date": "2013-04-01", "from": "fiscal", "to": "payment",
            "amount": "100.00"}
DRAWDOWN = {**RESIDENT, "id": "H-CL-1", "type": "claim", "date": "2013-08-20", "tier": 1, "category": "other",
            "facts": {"person": PERSON, "hardship_group": "hardship_adult", "out_of_pocket": "45.00"}}
CLOSE = {**RESIDENT, "id": "H-YC-2013", "type": "year_close", "year": 2013}


def post(ledger, *documents):
    return [ledger.post_one(read_document(document, "accountant")) for document in documents]


def posted(ledger, *documents):
    outcomes = post(ledger, *documents)
    assert [o.status for o in outcomes] == ["posted"] * len(documents), [str(o.error) for o in outcomes]


def balances(ledger, year=2013):
    return dict(ledger.app.book(BookKey(WANZHOU, "resident", year)).balances)


def yuan(fen):
    return None if fen is None else f"{'-' if fen < 0 else ''}{abs(fen) // 100}.{abs(fen) % 100:02d}"


def shown(statement):
    return {line.spec.code: tuple(yuan(v) for v in line.values) for line in statement.lines if any(line.values)}


def test_the_extra_arrives_with_the_subsidy_as_money_held_not_income(ledger):
    posted(ledger, SUBSIDY)
    assert balances(ledger) == {
        "1003:0": 18000,
        "4101.01:1": -6000,
        "4101.02:1": -4500,
        "4101.04:1": -1500,
        "2001.01:0": -6000,
    }


def test_tier_2_holds_nothing_the_extra_lowers_the_share_and_is_income(ledger):
    # At tier 2 the 60.00 is part of the subsidy (reading 2): 100.00 of income, nothing held.
    posted(ledger, {**SUBSIDY, "tier": 2, "facts": {"urban_hardship_adult": 1}})
    assert balances(ledger) == {"1003:0": 10000, "4101.01:2": -5000, "4101.02:2": -3750, "4101.04:2": -1250}


def test_the_drawdown_pays_from_the_held_money_and_the_rest_lapses_into_the_fund_at_the_close(ledger):
    posted(ledger, CONTRIBUTION, SUBSIDY, TRANSFER, DRAWDOWN)
    assert balances(ledger) == {
        "1003:0": 11000,
        "1004:0": 5500,
        "2001.01:0": -1500,
        "4001.01:1": -3000,
        "4101.01:1": -6000,
        "4101.02:1": -4500,
        "4101.04:1": -1500,
    }
    scope, period = Scope(WANZHOU, "resident"), Period(2013)
    sheet = compute(ledger, "01", scope, period)
    assert shown(sheet) == {
        "1003": ("0.00", "110.00"),
        "1004": ("0.00", "55.00"),
        "assets_total": ("0.00", "165.00"),
        "2001": ("0.00", "15.00"),
        "2001.01": ("0.00", "15.00"),
        "liabilities_total": ("0.00", "15.00"),
        "3001": ("0.00", "150.00"),
        "3001:1": ("0.00", "150.00"),
        "fund_total": ("0.00", "150.00"),
        "liabilities_and_fund_total": ("0.00", "165.00"),
    }
    income = compute(ledger, "02", scope, period)
    figures = {code: values[0] for code, values in shown(income).items()}
    # No benefit expense: the drawdown was the person's own money.
    assert "expense_total" not in figures and "5001" not in figures
    assert figures["income_total"] == "150.00" and figures["4101"] == "120.00"

    posted(ledger, CLOSE)
    after = balances(ledger)
    assert "2001.01:0" not in after
    assert after == {"1003:0": 11000, "1004:0": 5500, "3001:1": -16500}
    closed_income = {code: values[0] for code, values in shown(compute(ledger, "02", scope, period)).items()}
    assert closed_income["4501"] == "15.00"
    assert closed_income["income_total"] == "165.00"
    assert closed_income["closing_fund"] == "165.00"
    assert balances(ledger, 2014) == {"1003:0": 11000, "1004:0": 5500, "3001:1": -16500}
    assert verify(ledger).agrees, verify(ledger).findings


def test_no_one_draws_more_than_the_book_holds(ledger):
    posted(ledger, CONTRIBUTION, SUBSIDY, TRANSFER, DRAWDOWN)
    head = ledger.app.recorder.max_notification_id()
    # Another hardship adult's first drawdown: the engine allows 30.00 of their 60.00,
    # but the book holds only 15.00.
    other = {**DRAWDOWN, "id": "H-CL-2", "facts": {"person": "P-OTHER", "hardship_group": "hardship_adult", "out_of_pocket": "30.00"}}
    (refused,) = post(ledger, other)
    assert isinstance(refused.error, HeldOverdrawnError)
    assert "2001.01" in str(refused.error) and "too much by 15.00" in str(refused.error)
    # Taking the subsidy back would take the held 60.00 of which 45.00 is spent (1003 has the money:
    # 110.00 + 100.00 = 210.00 against 180.00).
    posted(ledger, {**RESIDENT, "id": "H-CT-2", "type": "contribution", "date": "2013-08-25", "tier": 1, "into": "fiscal", "amount": "100.00"})
    head = ledger.app.recorder.max_notification_id()
    (reversal,) = post(ledger, {"id": "H-RV-1", "type": "reversal", "date": "2013-09-01", "reverses": "H-SB-1"})
    assert isinstance(reversal.error, HeldOverdrawnError)
    assert "too much by 45.00" in str(reversal.error)
    assert ledger.app.recorder.max_notification_id() == head
    assert verify(ledger).agrees


def test_a_drawdown_before_anything_is_held_is_refused(ledger):
    posted(ledger, CONTRIBUTION, {**TRANSFER, "amount": "30.00"})
    (refused,) = post(ledger, {**DRAWDOWN, "facts": {**DRAWDOWN["facts"], "out_of_pocket": "25.00"}})
    assert isinstance(refused.error, HeldOverdrawnError)
    assert "holds 0.00" in str(refused.error) and "too much by 25.00" in str(refused.error)


def test_a_year_with_nothing_held_closes_as_before(ledger):
    posted(ledger, {**CONTRIBUTION, "facts": {"urban": 3}}, CLOSE)
    assert balances(ledger) == {"1003:0": 3000, "3001:1": -3000}
    assert verify(ledger).agrees
