"""One test per refusal: the specific error, a message naming document and field, and nothing written.

"Nothing written" is checked on both sides of the store: the event log's head
(no event stored) and every projection row (no balance moved).
"""

from __future__ import annotations

import pytest

from ledger.aggregates.book import BookKey, book_id
from ledger.documents import read_document
from ledger.errors import (
    AccountFlowError,
    AccountOverdrawnError,
    AdministrativeCostError,
    DuplicateConflictError,
    FenPrecisionError,
    NonPositiveAmountError,
    PeriodClosedError,
    ReversalError,
    TierError,
    UnbalancedEntryError,
    UnknownAccountError,
)
from ledger.projections import queries

WANZHOU = "500101"  # 万州区, Chongqing
JIANGJIN = "500116"  # 江津区, Chongqing
CHONGQING = "500000"
RESIDENT = {"region": WANZHOU, "scheme": "resident"}


def post(ledger, *lines):
    """Set-up documents; every one must be posted."""
    outcomes = list(ledger.post([read_document(line) for line in lines]))
    assert [o.status for o in outcomes] == ["posted"] * len(lines), [str(o.error) for o in outcomes]


def store_state(ledger):
    return ledger.app.recorder.max_notification_id(), queries.table_rows(ledger.engine)


def assert_refused(ledger, line, error_class, field):
    """Post one document that must be refused with `error_class`, naming its id and `field`, writing nothing."""
    before = store_state(ledger)
    outcome = ledger.post_one(read_document(line))
    assert outcome.status == "rejected"
    assert isinstance(outcome.error, error_class), repr(outcome.error)
    fields = field if isinstance(field, tuple) else (field,)
    message = str(outcome.error)
    assert f"document {line['id']}" in message, message
    assert any(f"field '{name}'" in message for name in fields), message
    assert store_state(ledger) == before


def assert_unreadable(ledger, line, error_class, field):
    """A bad field is refused while reading, before anything reaches the store."""
    before = store_state(ledger)
    with pytest.raises(error_class) as refused:
        ledger.post_one(read_document(line))
    assert f"document {line['id']}" in str(refused.value)
    assert f"field '{field}'" in str(refused.value)
    assert store_state(ledger) == before


def journal(document_id, *postings, day="2012-03-01", purpose="correction", **book):
    return {"id": document_id, "type": "journal", "date": day, **RESIDENT, **book, "purpose": purpose,
            "postings": list(postings)}


def subsidy(document_id, amount, region=WANZHOU, day="2012-01-20"):
    return {"id": document_id, "type": "subsidy", "date": day, "region": region, "scheme": "resident",
            "level": "central", "tier": 1, "amount": amount}


def contribution(document_id, amount, day="2012-01-05"):
    return {"id": document_id, "type": "contribution", "date": day, **RESIDENT, "tier": 1, "amount": amount}


def transfer(document_id, source, target, amount, day="2012-02-01"):
    return {"id": document_id, "type": "transfer", "date": day, **RESIDENT, "from": source, "to": target,
            "amount": amount}


def claim(document_id, amount, day="2012-03-01", **extra):
    return {"id": document_id, "type": "claim", "date": day, **RESIDENT, "category": "inpatient", "tier": 1,
            "amount": amount, **extra}


def year_close(year):
    return {"id": f"YC-{year}", "type": "year_close", **RESIDENT, "year": year}


# ------------------------------------------------------------------ double entry and the chart


def test_unbalanced_journal_is_refused(ledger):
    post(ledger, subsidy("S-1", "4000.00"))
    line = journal("J-1", {"account": "1003", "debit": "100.00"}, {"account": "4501", "tier": 1, "credit": "90.00"})
    assert_refused(ledger, line, UnbalancedEntryError, "postings")


def test_journal_to_an_account_outside_the_chart_is_refused(ledger):
    post(ledger, subsidy("S-1", "4000.00"))
    line = journal("J-1", {"account": "9999", "debit": "100.00"}, {"account": "1003", "credit": "100.00"})
    assert_refused(ledger, line, UnknownAccountError, "postings")


def test_assistance_only_account_in_a_resident_book_is_refused(ledger):
    post(ledger, subsidy("S-1", "4000.00"))
    # 5501 资助参保支出 belongs to the assistance book only.
    line = journal("J-1", {"account": "5501", "debit": "100.00"}, {"account": "1003", "credit": "100.00"})
    assert_refused(ledger, line, UnknownAccountError, "postings")


# ------------------------------------------------------------------ bank accounts


def test_claim_bigger_than_the_payment_account_is_refused(ledger):
    post(ledger, subsidy("S-1", "4000.00"), transfer("T-1", "fiscal", "payment", "1000.00"))
    assert_refused(ledger, claim("CL-1", "1000.01"), AccountOverdrawnError, "amount")  # 1004 holds 1000.00


def test_transfer_overdrawing_the_fiscal_account_is_refused(ledger):
    post(ledger, subsidy("S-1", "4000.00"))
    line = transfer("T-1", "fiscal", "payment", "4000.01")  # 1003 holds 4000.00
    assert_refused(ledger, line, AccountOverdrawnError, "amount")


def test_income_account_paying_the_payment_account_is_refused(ledger):
    post(ledger, contribution("C-1", "1000.00"))
    # 收支两条线: 1002 pays only into 1003. A transfer has no 'postings' field, so the
    # message must point at the transfer's own 'from' or 'to'.
    line = transfer("T-1", "income", "payment", "500.00")
    assert_refused(ledger, line, AccountFlowError, ("from", "to"))


def test_journal_paying_a_claim_from_the_income_account_is_refused(ledger):
    post(ledger, contribution("C-1", "1000.00"))
    line = journal("J-1", {"account": "5001.01", "tier": 1, "debit": "100.00"}, {"account": "1002", "credit": "100.00"})
    assert_refused(ledger, line, AccountFlowError, "postings")


def test_payment_account_receiving_a_contribution_is_refused(ledger):
    line = journal("J-1", {"account": "1004", "debit": "100.00"}, {"account": "4001.01", "tier": 1, "credit": "100.00"})
    assert_refused(ledger, line, AccountFlowError, "postings")


# ------------------------------------------------------------------ closed years


def test_posting_dated_in_a_closed_year_is_refused(ledger):
    post(ledger, subsidy("S-1", "4000.00"), year_close(2012))
    assert_refused(ledger, contribution("C-1", "10.00", day="2012-12-20"), PeriodClosedError, "date")


def test_reversal_of_a_document_in_a_closed_year_is_refused(ledger):
    post(ledger, subsidy("S-1", "4000.00"), contribution("C-1", "1000.00"), year_close(2012))
    line = {"id": "REV-1", "type": "reversal", "date": "2013-01-15", "reverses": "C-1"}
    assert_refused(ledger, line, PeriodClosedError, ("date", "reverses"))


# ------------------------------------------------------------------ fields refused while reading


@pytest.mark.parametrize(
    "line",
    [
        claim("CL-1", "300.00", purpose="工作经费"),
        journal("J-1", {"account": "5001.03", "tier": 1, "debit": "300.00"}, {"account": "1004", "credit": "300.00"},
                purpose="administration"),
    ],
    ids=["claim-工作经费", "journal-administration"],
)
def test_administrative_costs_are_refused(ledger, line):
    post(ledger, subsidy("S-1", "4000.00"), transfer("T-1", "fiscal", "payment", "1000.00"))
    assert_unreadable(ledger, line, AdministrativeCostError, "purpose")


@pytest.mark.parametrize("amount", ["0.00", "-5.00"])
def test_non_positive_amount_is_refused(ledger, amount):
    assert_unreadable(ledger, contribution("C-1", amount), NonPositiveAmountError, "amount")


def test_amount_with_a_fraction_of_a_fen_is_refused(ledger):
    assert_unreadable(ledger, contribution("C-1", "10.005"), FenPrecisionError, "amount")


# ------------------------------------------------------------------ tiers


def test_resident_income_without_a_tier_is_refused(ledger):
    line = {"id": "C-1", "type": "contribution", "date": "2012-01-05", **RESIDENT, "amount": "10.00"}
    assert_refused(ledger, line, TierError, "tier")


@pytest.mark.parametrize(
    "line",
    [
        {"id": "C-1", "type": "contribution", "date": "2012-01-05", "region": WANZHOU, "scheme": "worker",
         "tier": 1, "amount": "10.00"},
        {"id": "S-1", "type": "subsidy", "date": "2012-01-05", "region": WANZHOU, "scheme": "assistance",
         "level": "central", "tier": 1, "amount": "10.00"},
    ],
    ids=["worker-contribution", "assistance-subsidy"],
)
def test_tier_on_a_non_resident_book_is_refused(ledger, line):
    assert_refused(ledger, line, TierError, "tier")


# ------------------------------------------------------------------ document identity


def test_same_id_with_different_content_is_refused(ledger):
    post(ledger, contribution("C-1", "10.00"))
    assert_refused(ledger, contribution("C-1", "20.00"), DuplicateConflictError, "id")


def test_same_document_again_is_a_no_op_reported_as_duplicate(ledger):
    post(ledger, contribution("C-1", "10.00"))
    before = store_state(ledger)
    outcome = ledger.post_one(read_document(contribution("C-1", "10.00"), default_actor="someone else"))
    assert (outcome.status, outcome.postings, outcome.error) == ("duplicate", 0, None)
    assert store_state(ledger) == before


def test_reversing_a_document_twice_is_refused(ledger):
    post(
        ledger,
        contribution("C-1", "10.00"),
        {"id": "REV-1", "type": "reversal", "date": "2012-02-01", "reverses": "C-1"},
    )
    line = {"id": "REV-2", "type": "reversal", "date": "2012-02-02", "reverses": "C-1"}
    assert_refused(ledger, line, ReversalError, "reverses")


def test_reversing_a_missing_document_is_refused(ledger):
    post(ledger, contribution("C-1", "10.00"))
    line = {"id": "REV-1", "type": "reversal", "date": "2012-02-01", "reverses": "C-404"}
    assert_refused(ledger, line, ReversalError, "reverses")


# ------------------------------------------------------------------ documents touching two books


def _books(ledger):
    return [(b.region, b.scheme, b.year) for b in queries.list_books(ledger.engine)]


def test_remittance_that_would_overdraw_the_district_writes_to_neither_book(ledger):
    post(ledger, subsidy("S-1", "300.00"))
    line = {"id": "R-1", "type": "remittance", "date": "2012-06-30", "region": WANZHOU, "tier": 1, "amount": "400.00"}
    assert_refused(ledger, line, AccountOverdrawnError, "amount")  # 万州 1003 holds 300.00
    assert _books(ledger) == [(WANZHOU, "resident", 2012)]  # no adjustment book was opened


def test_grant_that_would_overdraw_the_adjustment_book_writes_to_neither_book(ledger):
    post(
        ledger,
        subsidy("JS-1", "2000.00", region=JIANGJIN),
        subsidy("WS-1", "1000.00"),
        {"id": "JR-1", "type": "remittance", "date": "2012-06-30", "region": JIANGJIN, "tier": 1, "amount": "400.00"},
        {"id": "WR-1", "type": "remittance", "date": "2012-06-30", "region": WANZHOU, "tier": 1, "amount": "100.00"},
    )
    line = {"id": "G-1", "type": "grant", "date": "2012-11-30", "region": WANZHOU, "tier": 1, "amount": "500.01"}
    assert_refused(ledger, line, AccountOverdrawnError, "amount")  # the adjustment fund holds 400.00 + 100.00
    assert _books(ledger) == [(CHONGQING, "adjustment", 2012), (WANZHOU, "resident", 2012), (JIANGJIN, "resident", 2012)]


def test_grant_to_a_district_that_did_not_remit_this_year_is_refused(ledger):
    # Seed 004 居民办法 六(三): 未按规定上解市级调剂金的区县…市级调剂金不予调剂补助
    from ledger.policy.rules.adjustment import GrantRefusedError

    post(
        ledger,
        subsidy("JS-1", "2000.00", region=JIANGJIN),
        {"id": "JR-1", "type": "remittance", "date": "2012-06-30", "region": JIANGJIN, "tier": 1, "amount": "400.00"},
    )
    line = {"id": "G-1", "type": "grant", "date": "2012-11-30", "region": WANZHOU, "tier": 1, "amount": "100.00"}
    assert_refused(ledger, line, GrantRefusedError, "region")


def test_sponsorship_beyond_the_assistance_account_writes_to_neither_book(ledger):
    post(ledger, {"id": "AS-1", "type": "subsidy", "date": "2012-01-05", "region": WANZHOU, "scheme": "assistance",
                  "level": "central", "amount": "500.00"})
    line = {"id": "SP-1", "type": "sponsorship", "date": "2012-01-10", "region": WANZHOU, "tier": 2, "amount": "600.00"}
    assert_refused(ledger, line, AccountOverdrawnError, "amount")  # assistance 1003 holds 500.00
    assert _books(ledger) == [(WANZHOU, "assistance", 2012)]


# ------------------------------------------------------------------ a file of documents


def test_a_batch_posts_its_good_documents_and_reposting_it_posts_nothing_new(ledger):
    lines = [
        subsidy("S-1", "2000.00"),
        claim("CL-1", "500.00"),  # 1004 is empty here, and holds only 300.00 after T-1
        transfer("T-1", "fiscal", "payment", "300.00"),
        journal("J-1", {"account": "1003", "debit": "100.00"}, {"account": "4501", "tier": 1, "credit": "90.00"}),
        contribution("C-1", "1000.00"),
    ]
    first = list(ledger.post([read_document(line) for line in lines]))
    assert [o.status for o in first] == ["posted", "rejected", "posted", "rejected", "posted"]
    assert isinstance(first[1].error, AccountOverdrawnError)
    assert isinstance(first[3].error, UnbalancedEntryError)
    rows = queries.book_balances(ledger.engine, book_id(BookKey(WANZHOU, "resident", 2012)).hex)
    assert {(r.account, r.tier): r.balance_fen for r in rows} == {
        ("1002", 0): 1000_00,  # C-1
        ("1003", 0): 1700_00,  # 2000.00 − 300.00
        ("1004", 0): 300_00,  # T-1; CL-1 would have taken it to −200.00
        ("4001.01", 1): -1000_00,
        ("4101.01", 1): -2000_00,
    }

    before = store_state(ledger)
    again = list(ledger.post([read_document(line) for line in lines]))
    assert [o.status for o in again] == ["duplicate", "rejected", "duplicate", "rejected", "duplicate"]
    assert store_state(ledger) == before
