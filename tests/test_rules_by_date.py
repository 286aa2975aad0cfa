"""Every rule holds at every effective date, not only in posting order: on both backends.

The story: 万州区 (500101) worker book of 2024, figures worked by hand.

  C-1  2024-03-01 contribution 1,000.00 into the fiscal account   Dr 1003 1,000.00 / Cr 4001.01
  T-1  2024-04-02 transfer 600.00 fiscal → payment                Dr 1004 600.00 / Cr 1003

after which 1003 holds 1,000.00 from 03-01 and 400.00 from 04-02; 1004 holds
nothing before 04-02 and 600.00 from 04-02. Balances are judged at the end of
each day: documents of one day net, whatever order they were posted in.
"""

from __future__ import annotations

import pytest

from ledger.aggregates.book import BookKey, book_id
from ledger.documents import read_document
from ledger.errors import (
    AccountOverdrawnError,
    BookLimitError,
    ReversalDateError,
    SelfEntryError,
)
from ledger.postings import MAXIMUM_BOOK_TURNOVER_FEN
from ledger.projections import queries
from ledger.verify import verify

WANZHOU = "500101"
BOOK = BookKey(WANZHOU, "worker", 2024)
WORKER = {"region": WANZHOU, "scheme": "worker"}

C1 = {"id": "C-1", "type": "contribution", "date": "2024-03-01", **WORKER, "into": "1003", "amount": "1000.00"}
T1 = {"id": "T-1", "type": "transfer", "date": "2024-04-02", **WORKER, "from": "1003", "to": "1004", "amount": "600.00"}


def claim(document_id: str, day: str, amount: str, year: int = 2024) -> dict:
    return {"id": document_id, "type": "claim", "date": f"{year}-{day}", **WORKER, "category": "inpatient", "amount": amount}


def transfer(document_id: str, day: str, amount: str, source: str = "1003", target: str = "1004") -> dict:
    return {"id": document_id, "type": "transfer", "date": f"2024-{day}", **WORKER, "from": source, "to": target, "amount": amount}


def post(ledger, *raws):
    outcomes = list(ledger.post([read_document(raw) for raw in raws]))
    assert [o.status for o in outcomes] == ["posted"] * len(raws), [str(o.error) for o in outcomes]


def refused(ledger, raw):
    before = queries.book_balances(ledger.engine, book_id(BookKey(WANZHOU, "worker", int(raw.get("date", "2024")[:4]))).hex)
    (outcome,) = list(ledger.post([read_document(raw)]))
    assert outcome.status == "rejected"
    # Nothing was written: the registry does not know it and the balances did not move.
    assert ledger.app.registered([raw["id"]]) == {}
    after = queries.book_balances(ledger.engine, book_id(BookKey(WANZHOU, "worker", int(raw.get("date", "2024")[:4]))).hex)
    assert after == before
    return outcome.error


def balances(ledger, key=BOOK):
    return {(r.account, r.tier): r.balance_fen for r in queries.book_balances(ledger.engine, book_id(key).hex) if r.balance_fen}


# ---------------------------------------------------------------- bank accounts at every date


def test_a_back_dated_claim_that_would_overdraw_the_payment_account_on_its_own_date_is_refused(ledger):
    """The issue's case: the claim of 03-28 comes before the payment account was funded on 04-02."""
    post(ledger, C1, T1)
    error = refused(ledger, claim("K-1", "03-28", "100.00"))
    assert isinstance(error, AccountOverdrawnError) and error.field == "amount"
    assert error.document_id == "K-1"
    assert "1004 支出户存款 would fall to -100.00 on 2024-03-28: too little by 100.00" in str(error)
    # The same claim dated the day of the transfer, or later, is paid: 600.00 − 100.00 = 500.00 on 04-02.
    post(ledger, claim("K-2", "04-02", "100.00"))
    assert balances(ledger)[("1004", 0)] == 50000
    assert verify(ledger).agrees


def test_a_back_dated_transfer_out_is_judged_against_every_later_day(ledger):
    post(ledger, C1, T1)
    # 500.00 out of 1003 on 03-15 leaves 500.00 that day, but T-1 then takes 600.00 on 04-02: −100.00.
    error = refused(ledger, transfer("T-2", "03-15", "500.00"))
    assert isinstance(error, AccountOverdrawnError)
    assert "1003 财政专户存款 would fall to -100.00 on 2024-04-02: too little by 100.00" in str(error)
    # 400.00 leaves exactly nothing on 04-02: accepted.
    post(ledger, transfer("T-3", "03-15", "400.00"))
    assert balances(ledger)[("1004", 0)] == 100000
    assert ("1003", 0) not in balances(ledger)


def test_the_shortfall_is_the_deepest_deficit_and_the_first_date_is_named(ledger):
    post(ledger, C1, T1, transfer("T-4", "06-01", "400.00"))
    # 1003: 1,000.00 on 03-01, 400.00 from 04-02, 0.00 from 06-01. Taking 300.00 on 03-10
    # leaves 700.00, then 100.00 (04-02), then −300.00 (06-01): first and deepest on 06-01.
    error = refused(ledger, transfer("T-5", "03-10", "300.00"))
    assert "1003 财政专户存款 would fall to -300.00 on 2024-06-01: too little by 300.00" in str(error)
    # A claim back-dated while later claims already spent the payment account: 1004 holds 600.00
    # from 04-02; a claim of 500.00 on 05-01 leaves 100.00, T-4 brings 500.00 on 06-01 and a claim
    # of 400.00 on 07-01 leaves 100.00. A claim of 250.00 on 04-10 takes 04-10 to 350.00, 05-01 to
    # −150.00, 06-01 to 250.00 and 07-01 to −150.00: first (and as deep as any) −150.00 on 05-01.
    post(ledger, claim("K-3", "05-01", "500.00"), claim("K-4", "07-01", "400.00"))
    error = refused(ledger, claim("K-5", "04-10", "250.00"))
    assert "1004 支出户存款 would fall to -150.00 on 2024-05-01: too little by 150.00" in str(error)


def test_the_first_date_below_zero_and_a_deeper_later_one_are_both_named(ledger):
    post(ledger, C1, T1, claim("K-6", "04-20", "200.00"), transfer("T-6", "05-01", "300.00"), claim("K-7", "05-05", "650.00"))
    # 1004 by day: 600.00 (04-02), 400.00 (04-20), 700.00 (05-01), 50.00 (05-05).
    # A claim of 450.00 on 04-15: 150.00, −50.00 on 04-20, 250.00, −400.00 on 05-05.
    error = refused(ledger, claim("K-8", "04-15", "450.00"))
    assert "1004 支出户存款 would fall to -50.00 on 2024-04-20 and to -400.00 on 2024-05-05: too little by 400.00" in str(error)


def test_a_back_dated_reversal_of_a_receipt_is_refused_when_later_days_spent_it(ledger):
    post(ledger, C1, T1)
    reversal = {"id": "R-1", "type": "reversal", "date": "2024-03-20", "reverses": "C-1"}
    error = refused(ledger, reversal)
    # Without C-1's 1,000.00, 1003 holds 0.00 on 03-20 and −600.00 once T-1 moved 600.00 on 04-02.
    assert "1003 财政专户存款 would fall to -600.00 on 2024-04-02: too little by 600.00" in str(error)


def test_same_day_movements_net_whatever_order_they_were_posted_in(ledger):
    post(ledger, C1)
    # The claim alone on 05-10: 1004 holds nothing that day.
    error = refused(ledger, claim("K-9", "05-10", "100.00"))
    assert "1004 支出户存款 would fall to -100.00 on 2024-05-10: too little by 100.00" in str(error)
    # A transfer on the same day, then the claim: the day ends at 500.00 − 100.00 = 400.00.
    post(ledger, transfer("T-7", "05-10", "500.00"), claim("K-9", "05-10", "100.00"))
    # Reversing the transfer on 05-10 would leave the day at −100.00.
    error = refused(ledger, {"id": "R-2", "type": "reversal", "date": "2024-05-10", "reverses": "T-7"})
    assert "1004 支出户存款 would fall to -100.00 on 2024-05-10: too little by 100.00" in str(error)


def test_month_boundaries_the_last_day_funds_the_first_of_the_next(ledger):
    post(ledger, C1, transfer("T-8", "04-30", "300.00"))
    # Funded on 04-30: a claim of 05-01 and one of 04-30 itself are paid (300 − 100 − 100 = 100.00).
    post(ledger, claim("K-10", "05-01", "100.00"), claim("K-11", "04-30", "100.00"))
    # A transfer on 06-01 does not fund a claim of 05-31: 1004 holds 100.00 on 05-31.
    post(ledger, transfer("T-9", "06-01", "500.00"))
    error = refused(ledger, claim("K-12", "05-31", "150.00"))
    assert "1004 支出户存款 would fall to -50.00 on 2024-05-31: too little by 50.00" in str(error)


def test_a_second_year_close_whose_smaller_carry_would_overdraw_next_year_is_refused(ledger):
    post(ledger, C1, T1, {"id": "YC-1", "type": "year_close", **WORKER, "year": 2024})
    # 2025 opens on 01-01 with 1003 400.00 and 1004 600.00; a claim of 500.00 on 2025-02-01 leaves 100.00.
    post(ledger, claim("K-20", "02-01", "500.00", year=2025))
    reopen = {"id": "RO-1", "type": "period_reopen", "actor": "王科长", **WORKER, "year": 2024, "reason": "年末漏记理赔"}
    post(ledger, reopen, claim("K-21", "12-20", "300.00"))
    # Closed again, 2024 carries only the difference: 1004 −300.00 on 2025-01-01, so 2025's 1004 holds
    # 300.00 on 01-01 and 300.00 − 500.00 = −200.00 on 02-01.
    error = refused(ledger, {"id": "YC-2", "type": "year_close", **WORKER, "year": 2024})
    assert isinstance(error, AccountOverdrawnError)
    assert "1004 支出户存款 would fall to -200.00 on 2025-02-01: too little by 200.00" in str(error)
    assert verify(ledger).agrees


# ---------------------------------------------------------------- reversal order


def test_a_reversal_dated_before_its_document_is_refused_and_one_the_same_day_is_not(ledger):
    post(ledger, C1, T1, claim("K-30", "04-10", "100.00"))
    error = refused(ledger, {"id": "R-30", "type": "reversal", "date": "2024-03-10", "reverses": "K-30"})
    assert isinstance(error, ReversalDateError) and error.field == "date"
    assert "K-30 is dated 2024-04-10; its reversal cannot be dated before it (2024-03-10)" in str(error)
    post(ledger, {"id": "R-31", "type": "reversal", "date": "2024-04-10", "reverses": "K-30"})
    assert balances(ledger)[("1004", 0)] == 60000


# ---------------------------------------------------------------- journals to and from one account


def journal(document_id: str, lines: list[dict], scheme: str = "worker") -> dict:
    return {"id": document_id, "type": "journal", "date": "2024-05-01", "region": WANZHOU, "scheme": scheme, "purpose": "更正", "postings": lines}


def test_a_journal_debiting_and_crediting_one_account_is_refused(ledger):
    post(ledger, C1)
    error = refused(ledger, journal("J-1", [{"account": "1003", "debit": "100.00"}, {"account": "1003", "credit": "100.00"}]))
    assert isinstance(error, SelfEntryError) and error.field == "postings"
    assert "1003 is both debited and credited: an entry to and from the same account moves nothing" in str(error)


def test_a_resident_journal_to_and_from_one_tier_is_refused_across_tiers_it_is_not(ledger):
    resident = {"region": WANZHOU, "scheme": "resident"}
    contribution = {"id": "CR-1", "type": "contribution", "date": "2024-03-01", **resident, "tier": 1, "amount": "100.00"}
    post(ledger, contribution)
    same = journal("J-2", [{"account": "4001.01", "tier": 1, "debit": "10.00"}, {"account": "4001.01", "tier": 1, "credit": "10.00"}], "resident")
    (outcome,) = list(ledger.post([read_document(same)]))
    assert isinstance(outcome.error, SelfEntryError)
    assert "4001.01 tier 1 is both debited and credited" in str(outcome.error)
    across = journal("J-3", [{"account": "4001.01", "tier": 1, "debit": "10.00"}, {"account": "4001.01", "tier": 2, "credit": "10.00"}], "resident")
    post(ledger, across)


# ---------------------------------------------------------------- bounded sums


def test_a_book_turnover_past_its_limit_is_refused_before_anything_is_written(ledger):
    assert MAXIMUM_BOOK_TURNOVER_FEN == 10**15  # ten trillion yuan, docs/design.md "Limits"
    big = {**C1, "id": "B-1", "amount": "9000000000000.00"}
    post(ledger, big, {**C1, "id": "B-2", "amount": "1000000000000.00"})
    # 9 + 1 trillion = exactly the limit: accepted. One fen more is not.
    error = refused(ledger, {**C1, "id": "B-3", "amount": "0.01"})
    assert isinstance(error, BookLimitError) and error.field == "amount"
    assert "the book's debit turnover would reach 10000000000000.01, above its limit of 10000000000000.00" in str(error)
    # A transfer moves 1003 → 1004 and counts as turnover too.
    assert isinstance(refused(ledger, transfer("B-4", "04-01", "1.00")), BookLimitError)
    assert balances(ledger)[("1003", 0)] == 10**15
    assert verify(ledger).agrees
