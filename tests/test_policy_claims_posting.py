"""Claims and assistance computed from facts and posted, with each person's annual cap kept across documents."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import empty_store, require_backend
from ledger.aggregates.book import BookKey, book_id
from ledger.documents import read_document
from ledger.money import format_yuan
from ledger.policy.engine import NothingPayableError, PolicyMismatchError
from ledger.projections import queries
from ledger.verify import verify

WANZHOU = "500101"
FUNDED = "300000.00"
RATE_PERCENT = {1: 80, 2: 60, 3: 40}  # tier 1, 渝办发〔2011〕293号 居民办法 四(二)
DEDUCTIBLE_FEN = {1: 10000, 2: 30000, 3: 80000}  # our reading: 100 / 300 / 800 per stay
CAP_FEN = 7_000_000  # tier 1: 70,000 元 a person a year


def funding(year: int = 2012) -> list[dict]:
    """Put 300,000.00 in the resident book's payment account."""
    return [
        {"id": f"S-{year}", "type": "subsidy", "date": f"{year}-01-10", "region": WANZHOU, "scheme": "resident",
         "tier": 1, "level": "central", "amount": FUNDED},
        {"id": f"T-{year}", "type": "transfer", "date": f"{year}-01-11", "region": WANZHOU, "scheme": "resident",
         "from": "fiscal", "to": "payment", "amount": FUNDED},
    ]


def inpatient(document_id: str, person: str, cost: str, level: int, **facts) -> dict:
    return {"id": document_id, "type": "claim", "date": "2012-05-01", "region": WANZHOU, "scheme": "resident",
            "tier": 1, "category": "inpatient",
            "facts": {"person": person, "hospital_level": str(level), "covered_cost": cost, **facts}}


def post(ledger, *lines):
    return list(ledger.post(read_document(line) for line in lines))


def paid_fen(ledger) -> int:
    rows = queries.book_balances(ledger.engine, book_id(BookKey(WANZHOU, "resident", 2012)).hex, "5001")
    return sum(r.balance_fen for r in rows)


def test_an_inpatient_stay_is_reimbursed_at_the_tier_and_level_rate_after_the_deductible(ledger):
    outcomes = post(ledger, *funding(), inpatient("K-1", "P-1", "12000.00", 2))
    assert outcomes[-1].status == "posted", outcomes[-1].error
    # (12,000.00 − 300.00 deductible) × 60% = 7,020.00
    assert paid_fen(ledger) == 702000


def test_an_unapproved_level_3_stay_outside_the_district_pays_the_penalty(ledger):
    post(ledger, *funding(), inpatient("K-1", "P-1", "20000.00", 3, out_of_district=True, approved=False))
    # deductible 800.00 × 1.05 = 840.00; rate 40% − 5 = 35%: (20,000.00 − 840.00) × 35% = 6,706.00
    assert paid_fen(ledger) == 670600


def test_the_annual_cap_holds_across_a_person_s_claims_and_then_nothing_is_payable(ledger):
    post(ledger, *funding())
    # (80,100.00 − 100.00) × 80% = 64,000.00
    assert post(ledger, inpatient("K-1", "P-2", "80100.00", 1))[0].status == "posted"
    # (10,100.00 − 100.00) × 80% = 8,000.00, but 70,000.00 − 64,000.00 = 6,000.00 is left under the cap
    assert post(ledger, inpatient("K-2", "P-2", "10100.00", 1))[0].status == "posted"
    assert paid_fen(ledger) == 7_000_000
    head = ledger.app.recorder.max_notification_id()
    (third,) = post(ledger, inpatient("K-3", "P-2", "5000.00", 1))
    assert isinstance(third.error, NothingPayableError)
    assert ledger.app.recorder.max_notification_id() == head
    # another person is not touched by P-2's cap: (1,100.00 − 100.00) × 80% = 800.00
    assert post(ledger, inpatient("K-4", "P-3", "1100.00", 1))[0].status == "posted"
    assert paid_fen(ledger) == 7_080_000
    assert verify(ledger).agrees


def test_a_claim_that_carries_a_different_amount_is_refused_naming_both_figures(ledger):
    post(ledger, *funding())
    line = {**inpatient("K-1", "P-1", "12000.00", 2), "amount": "7000.00"}
    (outcome,) = post(ledger, line)
    assert isinstance(outcome.error, PolicyMismatchError)
    assert "says 7000.00" in str(outcome.error) and "computes 7020.00" in str(outcome.error)


def test_explain_names_the_rule_the_clauses_and_the_cap(ledger):
    from ledger.store import explain

    post(ledger, *funding(), inpatient("K-1", "P-2", "80100.00", 1), inpatient("K-2", "P-2", "10100.00", 1))
    shown = explain(ledger, "K-2")
    computation = shown["computation"]
    assert computation["rule"] == "claims.inpatient"
    assert computation["amounts"]["reimbursement"] == 600000
    sources = " ".join(step["source"] for step in computation["steps"])
    assert "渝办发〔2011〕293号" in sources
    assert computation["usage"] == {"resident_annual_cap": 600000}


def expected_total_fen(claims: list[tuple[int, int]]) -> int:
    """By hand: each stay (cost − deductible) × rate, rounded half up, never below 0; the year's total capped."""
    uncapped = 0
    for cost_fen, level in claims:
        base = max(cost_fen - DEDUCTIBLE_FEN[level], 0) * RATE_PERCENT[level]
        uncapped += (base + 50) // 100
    return min(uncapped, CAP_FEN)


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_claims_never_exceed_the_annual_cap_however_ordered_or_split(backend):
    require_backend(backend)

    @settings(max_examples=15 if backend == "postgres" else 30, deadline=None)
    @given(
        claims=st.lists(
            st.tuples(st.integers(min_value=1, max_value=6_000_000), st.sampled_from([1, 2, 3])), min_size=1, max_size=8
        ),
        order=st.randoms(use_true_random=False),
    )
    def check(claims, order):
        shuffled = list(claims)
        order.shuffle(shuffled)
        with empty_store(backend) as ledger:
            post(ledger, *funding())
            for number, (cost_fen, level) in enumerate(shuffled):
                post(ledger, inpatient(f"K-{number}", "P-1", format_yuan(cost_fen), level))
            assert paid_fen(ledger) == expected_total_fen(claims)
            assert paid_fen(ledger) <= CAP_FEN

    check()


def test_the_cap_holds_within_one_batch_as_across_batches(ledger):
    outcomes = post(
        ledger,
        *funding(),
        inpatient("K-1", "P-2", "80100.00", 1),  # 64,000.00
        inpatient("K-2", "P-2", "10100.00", 1),  # 8,000.00 capped to the 6,000.00 left
        inpatient("K-3", "P-2", "5000.00", 1),  # nothing left
    )
    assert [o.status for o in outcomes] == ["posted", "posted", "posted", "posted", "rejected"]
    assert paid_fen(ledger) == 7_000_000
