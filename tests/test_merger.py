"""The Chenzhou merger of 城镇居民医保 and 新农合 into one resident fund (郴政办发〔2016〕37号 四(二)), on both backends."""

from __future__ import annotations

from ledger.aggregates.book import BookKey, book_id
from ledger.documents import read_document
from ledger.policy.rules.chenzhou import MergerAuditError
from ledger.projections import queries
from ledger.verify import verify

REGION = "431002"  # 北湖区, 郴州市

HISTORY = [
    # 城镇居民: 500.00 collected straight into the fiscal account
    {"id": "U-1", "type": "contribution", "date": "2016-08-01", "region": REGION, "scheme": "urban_resident",
     "amount": "500.00", "into": "fiscal"},
    # 新农合: 300.00 central subsidy, 300.00 to the payment account, 200.00 inpatient paid → fund 100.00
    {"id": "N-1", "type": "subsidy", "date": "2016-08-01", "region": REGION, "scheme": "ncms", "level": "central",
     "amount": "300.00"},
    {"id": "N-2", "type": "transfer", "date": "2016-08-02", "region": REGION, "scheme": "ncms", "from": "fiscal",
     "to": "payment", "amount": "300.00"},
    {"id": "N-3", "type": "claim", "date": "2016-08-03", "region": REGION, "scheme": "ncms", "category": "inpatient",
     "amount": "200.00"},
]


def merger(urban: str, ncms: str) -> dict:
    return {"id": "M-1", "type": "merger", "date": "2016-08-30", "region": REGION, "tier": 1,
            "facts": {"urban_audited": urban, "ncms_audited": ncms, "audit_reference": "郴审〔2016〕12号"}}


def post(ledger, *lines):
    return list(ledger.post(read_document(line) for line in lines))


def balances(ledger, scheme: str) -> dict:
    rows = queries.book_balances(ledger.engine, book_id(BookKey(REGION, scheme, 2016)).hex)
    return {f"{r.account}:{r.tier}": r.balance_fen for r in rows if r.balance_fen}


def test_both_funds_move_into_the_resident_book_at_their_audited_balances(ledger):
    outcomes = post(ledger, *HISTORY, merger("500.00", "100.00"))
    assert [o.status for o in outcomes] == ["posted"] * 5
    assert balances(ledger, "urban_resident") == {} and balances(ledger, "ncms") == {}
    # 1003: 500.00 from 城镇居民; 1004: 300.00 − 200.00 = 100.00 from 新农合; fund 500 + 100 = 600.00 on tier 1
    assert balances(ledger, "resident") == {"1003:0": 50000, "1004:0": 10000, "3001:1": -60000}
    closed = {(b.scheme, b.closed) for b in queries.list_books(ledger.engine, REGION)}
    assert closed == {("urban_resident", True), ("ncms", True), ("resident", False)}
    assert verify(ledger).agrees


def test_a_balance_that_differs_from_the_audit_is_refused_and_nothing_moves(ledger):
    post(ledger, *HISTORY)
    head = ledger.app.recorder.max_notification_id()
    (outcome,) = post(ledger, merger("500.00", "150.00"))
    assert isinstance(outcome.error, MergerAuditError)
    assert "ncms_audited" in str(outcome.error) and "150.00" in str(outcome.error) and "100.00" in str(outcome.error)
    assert ledger.app.recorder.max_notification_id() == head
    assert balances(ledger, "ncms") == {"1004:0": 10000, "4101.01:0": -30000, "5001.01:0": 20000}


def test_a_fund_in_deficit_is_made_whole_by_finance(ledger):
    # 新农合 overspent: an extra 150.00 claim paid from an advance (暂收 2001) leaves its fund at 100 − 150 = −50.00
    overspent = {"id": "N-4", "type": "journal", "date": "2016-08-04", "region": REGION, "scheme": "ncms",
                 "purpose": "claims paid from a suspense receipt",
                 "postings": [{"account": "5001.01", "debit": "150.00"}, {"account": "2001", "credit": "150.00"}]}
    outcomes = post(ledger, *HISTORY, overspent, merger("500.00", "-50.00"))
    assert outcomes[-1].status == "posted", outcomes[-1].error
    # resident: 1003 500.00 + 50.00 from finance = 550.00; 1004 100.00; 2001 −150.00 taken over;
    # fund 500 − 50 = 450.00 moved in, plus 50.00 finance income (4101.04) → trial balance 650 = 650
    assert balances(ledger, "resident") == {
        "1003:0": 55000, "1004:0": 10000, "2001:0": -15000, "3001:1": -45000, "4101.04:1": -5000,
    }
    assert verify(ledger).agrees
