"""The adjustment fund and the worker settlement computed from facts and posted, on both backends."""

from __future__ import annotations

from ledger.aggregates.book import BookKey, book_id
from ledger.documents import read_document
from ledger.policy.engine import NothingPayableError
from ledger.policy.rules.adjustment import GrantRefusedError
from ledger.projections import queries
from ledger.verify import verify

CHONGQING, WANZHOU, JIANGJIN, YUBEI = "500000", "500101", "500116", "500112"


def post(ledger, *lines):
    return list(ledger.post(read_document(line) for line in lines))


def balances(ledger, region, scheme, year):
    rows = queries.book_balances(ledger.engine, book_id(BookKey(region, scheme, year)).hex)
    return {f"{r.account}:{r.tier}": r.balance_fen for r in rows if r.balance_fen}


def subsidy(document_id, region, year, amount):
    return {"id": document_id, "type": "subsidy", "date": f"{year}-01-20", "region": region, "scheme": "resident",
            "tier": 1, "level": "central", "amount": amount}


def remittance(document_id, region, year, fundraising):
    return {"id": document_id, "type": "remittance", "date": f"{year}-06-30", "region": region, "tier": 1,
            "facts": {"fundraising": fundraising}}


def test_the_first_remittance_is_8_percent_then_only_the_top_up(ledger):
    outcomes = post(
        ledger,
        subsidy("S-12", WANZHOU, 2012, "20000.00"),
        remittance("R-12", WANZHOU, 2012, "10000.00"),  # first year: 10,000.00 × 8% = 800.00
        subsidy("S-13", WANZHOU, 2013, "20000.00"),
        remittance("R-13", WANZHOU, 2013, "12000.00"),  # 12,000.00 × 8% = 960.00 − 800.00 before = 160.00
        subsidy("S-14", WANZHOU, 2014, "20000.00"),
        remittance("R-14", WANZHOU, 2014, "9000.00"),  # 9,000.00 × 8% = 720.00 < 960.00 remitted: nothing
    )
    assert [o.status for o in outcomes[:5]] == ["posted"] * 5
    assert isinstance(outcomes[5].error, NothingPayableError)
    assert balances(ledger, WANZHOU, "resident", 2012)["5301:1"] == 80000
    assert balances(ledger, WANZHOU, "resident", 2013)["5301:1"] == 16000
    assert "5301:1" not in balances(ledger, WANZHOU, "resident", 2014)
    assert balances(ledger, CHONGQING, "adjustment", 2013) == {"1003:0": 16000, "4402:0": -16000}


def test_a_gap_is_met_by_surplus_then_a_grant_then_the_district_s_finance(ledger):
    post(
        ledger,
        subsidy("S-W", WANZHOU, 2012, "1000.00"),
        subsidy("S-J", JIANGJIN, 2012, "5000.00"),
        {"id": "R-W", "type": "remittance", "date": "2012-06-30", "region": WANZHOU, "tier": 1, "amount": "100.00"},
        {"id": "R-J", "type": "remittance", "date": "2012-06-30", "region": JIANGJIN, "tier": 1, "amount": "400.00"},
    )
    gap = {"id": "GAP-1", "type": "gap_cover", "date": "2012-12-20", "region": WANZHOU, "tier": 1,
           "facts": {"gap": "1000.00", "surplus": "300.00", "grant": "200.00"}}
    (outcome,) = post(ledger, gap)
    assert outcome.status == "posted", outcome.error
    # 1,000.00 gap: 300.00 from surplus (no movement), 200.00 granted, 500.00 from the district's finance
    assert balances(ledger, WANZHOU, "resident", 2012) == {
        "1003:0": 160000,  # 1,000.00 − 100.00 remitted + 200.00 + 500.00
        "4101.01:1": -100000,
        "4101.04:1": -50000,
        "4401:1": -20000,
        "5301:1": 10000,
    }
    # 400.00 + 100.00 remitted − 200.00 granted = 300.00
    assert balances(ledger, CHONGQING, "adjustment", 2012) == {"1003:0": 30000, "4402:0": -50000, "5302:0": 20000}
    assert verify(ledger).agrees


def test_no_grant_part_for_a_district_that_did_not_remit(ledger):
    post(ledger, subsidy("S-J", JIANGJIN, 2012, "5000.00"),
         {"id": "R-J", "type": "remittance", "date": "2012-06-30", "region": JIANGJIN, "tier": 1, "amount": "400.00"})
    gap = {"id": "GAP-1", "type": "gap_cover", "date": "2012-12-20", "region": WANZHOU, "tier": 1,
           "facts": {"gap": "1000.00", "surplus": "300.00", "grant": "200.00"}}
    head = ledger.app.recorder.max_notification_id()
    (outcome,) = post(ledger, gap)
    assert isinstance(outcome.error, GrantRefusedError)
    assert ledger.app.recorder.max_notification_id() == head


def test_a_worker_fund_overspend_is_shared_with_the_municipality(ledger):
    settlement = {"id": "WS-1", "type": "worker_settlement", "date": "2013-12-28", "region": YUBEI,
                  "facts": {"district_class": "main_urban", "collection_target": "1000000.00", "collected": "900000.00",
                            "spending_target": "800000.00", "spent": "900000.00", "pooled_surplus": "30000.00"}}
    outcomes = post(
        ledger,
        {"id": "M-0", "type": "subsidy", "date": "2013-01-10", "region": CHONGQING, "scheme": "adjustment",
         "level": "provincial", "amount": "1000000.00"},
        settlement,
    )
    assert outcomes[-1].status == "posted", outcomes[-1].error
    # collection: 95% of 1,000,000.00 = 950,000.00; 50,000.00 short: 30,000.00 from the surplus, 20,000.00 from
    # the district government. spending: 100,000.00 over, 主城区 50/50: 50,000.00 municipal; the district's
    # 50,000.00 from its government (the surplus is used up). District: 50,000.00 grant + 70,000.00 fiscal.
    assert balances(ledger, YUBEI, "worker", 2013) == {"1003:0": 12000000, "4101.04:0": -7000000, "4401:0": -5000000}
    assert balances(ledger, CHONGQING, "adjustment", 2013) == {
        "1003:0": 95000000, "4101.02:0": -100000000, "5302:0": 5000000,
    }


def test_a_gap_met_wholly_from_surplus_moves_no_money_but_keeps_its_computation(ledger):
    from ledger.store import explain

    gap = {"id": "GAP-2", "type": "gap_cover", "date": "2012-12-20", "region": WANZHOU, "tier": 1,
           "facts": {"gap": "300.00", "surplus": "500.00", "grant": "0.00"}}
    (outcome,) = post(ledger, gap)
    assert outcome.status == "posted" and outcome.postings == 0
    # 300.00 gap, 500.00 surplus: all of it from the surplus, nothing granted, nothing from finance
    assert explain(ledger, "GAP-2")["computation"]["amounts"] == {"from_surplus": 30000, "from_grant": 0, "from_fiscal": 0}


def test_a_second_computed_remittance_for_the_same_tier_and_year_finds_nothing_to_pay(ledger):
    outcomes = post(
        ledger,
        subsidy("S-12", WANZHOU, 2012, "20000.00"),
        remittance("R-1", WANZHOU, 2012, "10000.00"),  # 800.00
        remittance("R-2", WANZHOU, 2012, "10000.00"),  # 800.00 − 800.00 already remitted = 0
    )
    assert outcomes[1].status == "posted"
    assert isinstance(outcomes[2].error, NothingPayableError)
