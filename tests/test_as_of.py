"""As-of and as-known-on views equal a replay cut at the same date and time, on random histories, on both backends.

The projection answers with one aggregate query over ``proj_lines``; the
replay reads every stored event of the book and adds up the postings whose
effective date is on or before the date and whose recorded time is on or
before the time. Documents are posted in a random order, so most histories
hold back-dated documents.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import empty_store, require_backend
from ledger.aggregates.book import BookKey, book_id
from ledger.documents import read_document
from ledger.postings import postings_from_rows
from ledger.projections import queries
from ledger.projections.projector import recorded_text

WANZHOU = "500101"
BOOK = BookKey(WANZHOU, "resident", 2025)
START = date(2025, 1, 1)

dates = st.integers(min_value=0, max_value=364).map(lambda days: START + timedelta(days=days))
amounts = st.integers(min_value=1, max_value=500_000).map(lambda fen: f"{fen // 100}.{fen % 100:02d}")


@st.composite
def documents(draw):
    kind = draw(st.sampled_from(["contribution", "subsidy", "interest", "transfer", "claim"]))
    base = {"type": kind, "date": draw(dates).isoformat(), "region": WANZHOU, "scheme": "resident", "amount": draw(amounts)}
    if kind == "contribution":
        return {**base, "tier": draw(st.sampled_from([1, 2])), "into": draw(st.sampled_from(["1002", "1003"]))}
    if kind == "subsidy":
        return {**base, "tier": draw(st.sampled_from([1, 2])), "level": draw(st.sampled_from(["central", "provincial", "county"]))}
    if kind == "interest":
        return {**base, "tier": 1, "account": "1003"}
    if kind == "transfer":
        return {**base, "from": "1003", "to": "1004"}
    return {**base, "tier": draw(st.sampled_from([1, 2])), "category": "inpatient"}


def replayed_balances(ledger, through: date, known_on: str | None) -> dict[tuple[str, int], int]:
    """The book's balances from its stored events, cut at an effective date and a recorded time."""
    totals: dict[tuple[str, int], int] = {}
    for event in ledger.app.events.get(book_id(BOOK)):
        if not hasattr(event, "postings") or event.effective_date > through.isoformat():
            continue
        if known_on is not None and recorded_text(event.timestamp) > known_on:
            continue
        for posting in postings_from_rows(event.postings):
            key = (posting.account, posting.tier)
            totals[key] = totals.get(key, 0) + posting.amount_fen
    return {key: fen for key, fen in totals.items() if fen}


def projected_balances(ledger, through: date, known_on: str | None) -> dict[tuple[str, int], int]:
    rows = queries.balances_as_of(ledger.engine, [book_id(BOOK).hex], through, known_on)
    return {(r.account, r.tier): r.balance_fen for r in rows if r.balance_fen}


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(
    history=st.lists(documents(), min_size=1, max_size=12),
    cuts=st.lists(st.tuples(dates, st.integers(min_value=0, max_value=12)), min_size=1, max_size=4),
)
def test_as_of_and_known_on_equal_a_cut_replay(backend, history, cuts):
    require_backend(backend)
    with empty_store(backend) as ledger:
        recorded: list[str] = []
        for number, raw in enumerate(history):
            # One document at a time, so each has its own recorded time.
            outcome = ledger.post_one(read_document({**raw, "id": f"D-{number}"}))
            if outcome.status == "posted":
                event = list(ledger.app.events.get(book_id(BOOK)))[-1]
                recorded.append(recorded_text(event.timestamp))
        if not recorded:
            return
        for through, index in cuts:
            known_on = recorded[index] if index < len(recorded) else None
            assert projected_balances(ledger, through, known_on) == replayed_balances(ledger, through, known_on)


def test_a_back_dated_correction_shows_as_of_but_not_as_known_before_it(ledger):
    """By hand: a 300.00 claim on 2025-03-05, then in April a 50.00 recovery found, back-dated to 2025-03-10.

    As of 2025-03-31, known now: 5001.01:1 = 300 − 50 = 250.00. As known just before the
    correction was recorded: 300.00. As of 2025-03-06, known now: 300.00 (the correction is dated later).
    """
    posts = [
        {"id": "SB", "type": "subsidy", "date": "2025-02-01", "region": WANZHOU, "scheme": "resident", "tier": 1, "level": "central", "amount": "1000.00"},
        {"id": "TR", "type": "transfer", "date": "2025-02-02", "region": WANZHOU, "scheme": "resident", "from": "1003", "to": "1004", "amount": "1000.00"},
        {"id": "CL", "type": "claim", "date": "2025-03-05", "region": WANZHOU, "scheme": "resident", "tier": 1, "category": "inpatient", "amount": "300.00"},
    ]
    for raw in posts:
        assert ledger.post_one(read_document(raw)).status == "posted"
    before_correction = recorded_text(list(ledger.app.events.get(book_id(BOOK)))[-1].timestamp)
    recovery = {
        "id": "RC", "type": "recovery", "date": "2025-03-10", "region": WANZHOU, "scheme": "resident", "tier": 1,
        "category": "inpatient", "original_year": 2025, "amount": "50.00",
    }
    assert ledger.post_one(read_document(recovery)).status == "posted"

    def claims(through, known_on=None):
        rows = queries.balances_as_of(ledger.engine, [book_id(BOOK).hex], through, known_on)
        return {r.account: r.balance_fen for r in rows if r.tier == 1}.get("5001.01")

    assert claims(date(2025, 3, 31)) == 25000
    assert claims(date(2025, 3, 31), before_correction) == 30000
    assert claims(date(2025, 3, 6)) == 30000
    assert claims(date(2025, 3, 4)) is None
