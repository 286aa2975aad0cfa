"""Properties of the ledger that must hold for any sequence of business documents.

Hypothesis draws up to 40 raw documents over a small world (one municipality,
two districts, the resident and assistance funds, 2013 and 2014) and posts
them. Many are refused — overdrafts, account-flow breaches, closed years,
unbalanced journals, conflicting re-sends — and that is intended: the
properties are about what the ledger keeps, whatever it is sent.

Hypothesis examples and function-scoped fixtures do not mix, so every example
opens its own empty store: a new SQLite file, or the PostgreSQL test database
emptied by conftest's ``_empty_postgres``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from fractions import Fraction
from typing import Any

import pytest
from eventsourcing.persistence import StoredEvent
from sqlalchemy import select
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from conftest import empty_store, require_backend
from ledger.accounts import BANK_ACCOUNTS, CHART
from ledger import registry
from ledger.aggregates.book import Book
from ledger.application import DUPLICATE, POSTED, REJECTED, Outcome
from ledger.documents import Document, read_document
from ledger.errors import DuplicateConflictError, LedgerError
from ledger.money import allocate, format_yuan
from ledger.projections import queries
from ledger.store import Ledger
from ledger.verify import verify

BACKENDS = ["sqlite", "postgres"]
MAXIMUM_DOCUMENTS = 40
STORE_SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# ---------------------------------------------------------------- the world

MUNICIPALITY = "500000"
DISTRICTS = ("500101", "500238")
SCHEMES = ("resident", "assistance")
YEARS = (2013, 2014)
SUBSIDY_LEVELS = ("central", "provincial", "prefecture", "county")
CLAIM_CATEGORIES = ("inpatient", "outpatient", "other")
ASSISTANCE_CATEGORIES = ("outpatient", "inpatient", "major_disease", "large_expense")
# The two movements 收支两条线 allows, and three it does not (income → payment
# is refused by the account-flow rule; the others are allowed but rarely funded).
TRANSFERS = (("income", "fiscal"), ("fiscal", "payment"), ("income", "payment"), ("payment", "fiscal"), ("fiscal", "income"))
# Journal accounts: bank, liability, fund balance, income, expense, and two not in the chart.
JOURNAL_ACCOUNTS = ("1002", "1003", "1004", "1101", "2001", "3001", "4201", "4501", "5001.01", "5401", "5501", "9999", "6001")

amounts_fen = st.one_of(st.integers(1, 100_000), st.integers(1, 10_000_000))
dates = st.dates(min_value=date(2013, 1, 1), max_value=date(2014, 12, 31))


def _tier_fields(draw: st.DrawFn, scheme: str) -> dict[str, Any]:
    """Resident books need a tier on income and expense; other books refuse one. Now and then, get it wrong."""
    wrong = draw(st.integers(0, 19)) == 0
    if (scheme == "resident") != wrong:
        return {"tier": draw(st.sampled_from((1, 2)))}
    return {}


def _base(draw: st.DrawFn, kind: str, earlier: list[dict[str, Any]], schemes: Sequence[str] = SCHEMES) -> dict[str, Any]:
    """Region, fund, date, amount and tier; often those of an earlier document, so that money
    collected into a book is also moved and spent in that book."""
    followed = [raw for raw in earlier if "amount" in raw and "region" in raw and raw.get("scheme", "assistance") in schemes]
    if followed and draw(st.booleans()):
        model = draw(st.sampled_from(followed))
        scheme, region, when, amount = model.get("scheme", "assistance"), model["region"], model["date"], model["amount"]
    else:
        scheme, region = draw(st.sampled_from(schemes)), draw(st.sampled_from(DISTRICTS))
        when, amount = draw(dates).isoformat(), format_yuan(draw(amounts_fen))
    return {"type": kind, "date": when, "region": region, "scheme": scheme, "amount": amount, **_tier_fields(draw, scheme)}


def _contribution(draw: st.DrawFn, earlier: list[dict[str, Any]]) -> dict[str, Any]:
    raw = _base(draw, "contribution", earlier)
    raw["into"] = draw(st.sampled_from(("income", "fiscal")))
    if draw(st.booleans()):
        raw["payer"] = draw(st.sampled_from(("individual", "finance")))
    return raw


def _subsidy(draw: st.DrawFn, earlier: list[dict[str, Any]]) -> dict[str, Any]:
    return {**_base(draw, "subsidy", earlier), "level": draw(st.sampled_from(SUBSIDY_LEVELS))}


def _transfer(draw: st.DrawFn, earlier: list[dict[str, Any]]) -> dict[str, Any]:
    raw = _base(draw, "transfer", earlier)
    raw.pop("tier", None)
    raw["from"], raw["to"] = draw(st.sampled_from(TRANSFERS))
    return raw


def _claim(draw: st.DrawFn, earlier: list[dict[str, Any]]) -> dict[str, Any]:
    # Mostly resident: a claim on the assistance book names an account its chart lacks.
    raw = _base(draw, "claim", earlier, ("resident", "resident", "resident", "assistance"))
    raw["category"] = draw(st.sampled_from(CLAIM_CATEGORIES))
    if draw(st.integers(0, 3)) == 0:
        raw["from"] = "fiscal"
    return raw


def _assistance(draw: st.DrawFn, earlier: list[dict[str, Any]]) -> dict[str, Any]:
    raw = _base(draw, "assistance", earlier, ("assistance",))
    del raw["scheme"]
    raw["category"] = draw(st.sampled_from(ASSISTANCE_CATEGORIES))
    if draw(st.integers(0, 3)) == 0:
        raw["from"] = "fiscal"
    return raw


def _sponsorship(draw: st.DrawFn, earlier: list[dict[str, Any]]) -> dict[str, Any]:
    raw = _base(draw, "sponsorship", earlier, ("resident",))
    del raw["scheme"]
    raw.setdefault("tier", 1)
    return raw


def _remittance(draw: st.DrawFn, earlier: list[dict[str, Any]]) -> dict[str, Any]:
    raw = _base(draw, "remittance", earlier, ("resident",))
    raw.setdefault("tier", 1)
    return raw


def _grant(draw: st.DrawFn, earlier: list[dict[str, Any]]) -> dict[str, Any]:
    return {**_remittance(draw, earlier), "type": "grant"}


def _interest(draw: st.DrawFn, earlier: list[dict[str, Any]]) -> dict[str, Any]:
    return {**_base(draw, "interest", earlier), "account": draw(st.sampled_from(("fiscal", "payment", "income")))}


def _refund(draw: st.DrawFn, earlier: list[dict[str, Any]]) -> dict[str, Any]:
    raw = _base(draw, "refund", earlier)
    # This year's or an earlier year's contribution; now and then a later year, which is refused.
    raw["original_year"] = draw(st.sampled_from((2012, 2013, 2014, 2015)))
    if draw(st.booleans()):
        raw["from"] = draw(st.sampled_from(("income", "fiscal")))
    return raw


def _recovery(draw: st.DrawFn, earlier: list[dict[str, Any]]) -> dict[str, Any]:
    raw = _base(draw, "recovery", earlier)
    raw["original_year"] = draw(st.sampled_from((2012, 2013, 2014)))
    raw["category"] = draw(st.sampled_from(CLAIM_CATEGORIES))
    return raw


def _reversal(draw: st.DrawFn, earlier: list[dict[str, Any]]) -> dict[str, Any]:
    """Reverse an earlier document (dated in its year, mostly), sometimes a missing one."""
    if earlier and draw(st.integers(0, 5)):
        original = draw(st.sampled_from(earlier))
        reverses = original["id"]
        same_date = "date" in original and draw(st.integers(0, 3))
        when = original["date"] if same_date else draw(dates).isoformat()
    else:
        reverses = f"MISSING-{draw(st.integers(0, 3))}"
        when = draw(dates).isoformat()
    return {"type": "reversal", "date": when, "reverses": reverses}


def _journal(draw: st.DrawFn, earlier: list[dict[str, Any]]) -> dict[str, Any]:
    """A two-line adjusting entry; sometimes unbalanced, sometimes on an account outside the chart."""
    raw = _base(draw, "journal", earlier)
    scheme = raw["scheme"]
    tier = raw.pop("tier", None)
    amount_fen = int(raw.pop("amount").replace(".", ""))
    credit_fen = amount_fen + draw(st.integers(1, 500)) if draw(st.integers(0, 4)) == 0 else amount_fen
    debit_account, credit_account = draw(
        st.lists(st.sampled_from(JOURNAL_ACCOUNTS), min_size=2, max_size=2, unique=True)
    )
    lines = []
    for account, side, line_fen in ((debit_account, "debit", amount_fen), (credit_account, "credit", credit_fen)):
        line: dict[str, Any] = {"account": account, side: format_yuan(line_fen)}
        leaf = CHART.get(account)
        if scheme == "resident" and leaf is not None and leaf.account_class.value in ("income", "expense", "net assets"):
            line["tier"] = tier or 1
        lines.append(line)
    return {**raw, "purpose": "correction", "postings": lines}


def _year_close(draw: st.DrawFn, earlier: list[dict[str, Any]]) -> dict[str, Any]:
    region, scheme = draw(
        st.sampled_from([(d, s) for d in DISTRICTS for s in SCHEMES] + [(MUNICIPALITY, "adjustment")])
    )
    raw = {"type": "year_close", "region": region, "scheme": scheme, "year": draw(st.sampled_from(YEARS))}
    if draw(st.integers(0, 4)) == 0:
        raw["date"] = draw(dates).isoformat()
    return raw


KINDS = {
    "contribution": (_contribution, 6),
    "subsidy": (_subsidy, 4),
    "transfer": (_transfer, 5),
    "claim": (_claim, 4),
    "assistance": (_assistance, 2),
    "sponsorship": (_sponsorship, 2),
    "remittance": (_remittance, 2),
    "grant": (_grant, 2),
    "interest": (_interest, 1),
    "refund": (_refund, 2),
    "recovery": (_recovery, 2),
    "reversal": (_reversal, 3),
    "journal": (_journal, 2),
    "year_close": (_year_close, 3),
}
WEIGHTED_KINDS = [kind for kind, (_, weight) in KINDS.items() for _ in range(weight)]


def _resend(draw: st.DrawFn, earlier: list[dict[str, Any]]) -> dict[str, Any]:
    """The same document again (a duplicate), or the same id with a changed amount (a conflict)."""
    original = dict(draw(st.sampled_from(earlier)))
    if draw(st.booleans()):
        if "amount" in original:
            original["amount"] = format_yuan(int(original["amount"].replace(".", "")) + 1)
        else:
            original["memo"] = "changed"
    return original


@st.composite
def raw_documents(draw: st.DrawFn) -> list[dict[str, Any]]:
    """1 to 40 raw documents with unique ids, except deliberate re-sends."""
    count = draw(st.integers(1, MAXIMUM_DOCUMENTS))
    drawn: list[dict[str, Any]] = []
    for number in range(count):
        if drawn and draw(st.integers(0, 9)) == 0:
            drawn.append(_resend(draw, drawn))
            continue
        kind = draw(st.sampled_from(WEIGHTED_KINDS))
        make, _ = KINDS[kind]
        drawn.append({"id": f"D{number}", **make(draw, drawn)})
    return drawn


def readable(raws: Sequence[dict[str, Any]]) -> list[Document]:
    """The documents the reader accepts; the ones it refuses never reach the store."""
    documents = []
    for raw in raws:
        try:
            documents.append(read_document(raw, default_actor="hypothesis"))
        except LedgerError:
            continue
    return documents


# ---------------------------------------------------------------- stores




def registered_documents(ledger: Ledger) -> dict[str, str]:
    """Every document in the registry: document id → content hash."""
    with ledger.engine.connect() as connection:
        rows = connection.execute(select(registry.documents.c.document_id, registry.documents.c.content_hash))
        return {document_id: content_hash for document_id, content_hash in rows}


def documents_in_events(ledger: Ledger) -> dict[str, str]:
    """Every document the book events name, read from the events: document id → content hash."""
    recorder = ledger.app.recorder
    record_cls = recorder.events_record_cls  # type: ignore[attr-defined]
    with recorder.transaction(commit=False) as session:  # type: ignore[attr-defined]
        rows = session.query(record_cls).all()
        stored = [StoredEvent(r.originator_id, r.originator_version, r.topic, bytes(r.state)) for r in rows]
    events = [ledger.app.mapper.to_domain_event(s) for s in stored]
    return {e.document_id: e.content_hash for e in events if isinstance(e, Book.Posted)}


def log_head(ledger: Ledger) -> int:
    return int(ledger.app.recorder.max_notification_id() or 0)


# ---------------------------------------------------------------- checks


def assert_books_balance(ledger: Ledger) -> None:
    """(a) Every book's trial balance sums to zero and no bank account is below zero."""
    books = queries.list_books(ledger.engine)
    for book in books:
        rows = queries.book_balances(ledger.engine, book.book_id)
        where = f"{book.region}/{book.scheme}/{book.year}"
        assert sum(r.balance_fen for r in rows) == 0, f"{where} trial balance off: {rows}"
        for row in rows:
            assert row.debit_fen - row.credit_fen == row.balance_fen, f"{where} {row}"
            if row.account in BANK_ACCOUNTS:
                assert row.balance_fen >= 0, f"{where} bank account {row.account} overdrawn: {row}"
    # The municipality's figure is the sum of its books', account by account.
    for year in {book.year for book in books}:
        expected: dict[tuple[str, int], int] = {}
        for book in books:
            if book.municipality == MUNICIPALITY and book.year == year:
                for row in queries.book_balances(ledger.engine, book.book_id):
                    expected[(row.account, row.tier)] = expected.get((row.account, row.tier), 0) + row.balance_fen
        summed = queries.municipality_balances(ledger.engine, MUNICIPALITY, None, year)
        assert {(r.account, r.tier): r.balance_fen for r in summed} == expected
        assert sum(r.balance_fen for r in summed) == 0


def assert_closed_books_have_no_income_or_expense(ledger: Ledger) -> None:
    """(e) After the year-end close every income and expense account of the book is zero."""
    for book in queries.list_books(ledger.engine):
        if not book.closed:
            continue
        for row in queries.book_balances(ledger.engine, book.book_id):
            if CHART[row.account].is_income_or_expense:
                assert row.balance_fen == 0, f"closed book {book.region}/{book.scheme}/{book.year} keeps {row}"


def assert_resends_never_post_twice(documents: Sequence[Document], outcomes: Sequence[Outcome]) -> None:
    """Within one run: an id, once posted, is a duplicate if sent unchanged and a conflict if changed."""
    posted_hashes: dict[str, str] = {}
    for document, outcome in zip(documents, outcomes):
        known = posted_hashes.get(document.id)
        if known is None:
            if outcome.status == POSTED:
                posted_hashes[document.id] = document.content_hash()
            else:
                assert outcome.status == REJECTED, outcome
        elif known == document.content_hash():
            assert outcome.status == DUPLICATE, outcome
        else:
            assert outcome.status == REJECTED and isinstance(outcome.error, DuplicateConflictError), outcome


def check_every_property(ledger: Ledger, documents: Sequence[Document]) -> None:
    """Post the documents into an empty ledger, then check (a) to (e) and the document registry."""
    outcomes = list(ledger.post(documents))
    assert [o.document_id for o in outcomes] == [d.id for d in documents]
    event(f"documents posted: {sum(o.status == POSTED for o in outcomes) // 5 * 5}+")
    assert_resends_never_post_twice(documents, outcomes)
    posted = [d for d, o in zip(documents, outcomes) if o.status == POSTED]

    assert_books_balance(ledger)  # (a)
    assert_closed_books_have_no_income_or_expense(ledger)  # (e)

    report = verify(ledger)  # (b)
    assert report.agrees, report.findings

    before = queries.table_rows(ledger.engine)  # (c)
    ledger.projector.rebuild()
    assert queries.table_rows(ledger.engine) == before

    # The registry holds exactly the documents reported posted, and the events name the same ones.
    assert registered_documents(ledger) == {d.id: d.content_hash() for d in posted}
    assert documents_in_events(ledger) == registered_documents(ledger)

    # (d) Re-sending never posts twice. Sending again exactly the documents that were posted
    # writes no event and calls every one a duplicate.
    head = log_head(ledger)
    assert [o.status for o in ledger.post(posted)] == [DUPLICATE] * len(posted)
    assert log_head(ledger) == head

    # Sending the whole sequence again calls every posted document a duplicate. A document
    # refused the first time is a new attempt, not a re-send (DOMAIN.md §4): it may be
    # accepted now that the whole sequence has moved money, and only such a document may
    # write anything.
    again = list(ledger.post(documents))
    for first, second in zip(outcomes, again):
        if first.status == POSTED:
            assert second.status == DUPLICATE, (first, second)
    now_posted = [d for d, o in zip(documents, again) if o.status == POSTED]
    assert registered_documents(ledger) == {d.id: d.content_hash() for d in [*posted, *now_posted]}
    if not now_posted:
        assert log_head(ledger) == head
    # Whatever the second run accepted keeps the books as sound as the first run left them.
    assert_books_balance(ledger)
    assert_closed_books_have_no_income_or_expense(ledger)
    assert verify(ledger).agrees


# ---------------------------------------------------------------- properties


@pytest.mark.parametrize("backend", BACKENDS)
def test_any_document_sequence_leaves_balanced_verifiable_idempotent_books(backend: str) -> None:
    require_backend(backend)

    @STORE_SETTINGS
    @given(raws=raw_documents())
    def check(raws: list[dict[str, Any]]) -> None:
        with empty_store(backend) as ledger:
            check_every_property(ledger, readable(raws))

    check()


weights_not_all_zero = st.builds(
    lambda weights, positive, at: [*weights[:at], positive, *weights[at:]],
    st.lists(st.integers(0, 10**9), max_size=29),
    st.integers(1, 10**9),
    st.integers(0, 29),
)


@given(total_fen=st.integers(-(10**15), 10**15), weights=weights_not_all_zero)
def test_allocate_loses_no_fen_and_stays_within_a_fen_of_each_exact_share(total_fen: int, weights: list[int]) -> None:
    parts = allocate(total_fen, weights)
    assert len(parts) == len(weights)
    assert sum(parts) == total_fen
    weight_total = sum(weights)
    for part_fen, weight in zip(parts, weights):
        # Largest remainder gives each part the floor or the ceiling of its exact share.
        assert abs(part_fen - Fraction(total_fen * weight, weight_total)) < 1


@given(total_fen=st.integers(-(10**15), 10**15), weights=st.lists(st.integers(-(10**9), 0), max_size=10))
def test_allocate_refuses_weights_that_are_negative_or_all_zero(total_fen: int, weights: list[int]) -> None:
    with pytest.raises(ValueError):
        allocate(total_fen, weights)


def test_a_document_refused_for_want_of_money_is_posted_when_sent_again_after_the_money_came(ledger):
    """Why re-sending a whole sequence may write events: a refusal is not a posting (DOMAIN.md §4).

    The smallest sequence hypothesis finds against "a second run writes nothing".
    """
    documents = readable(
        [
            {"id": "T-1", "type": "transfer", "date": "2013-01-01", "region": "500101", "scheme": "assistance",
             "from": "fiscal", "to": "payment", "amount": "0.01"},
            {"id": "S-1", "type": "subsidy", "date": "2013-01-01", "region": "500101", "scheme": "assistance",
             "level": "central", "amount": "0.01"},
        ]
    )
    assert [o.status for o in ledger.post(documents)] == [REJECTED, POSTED]
    assert [o.status for o in ledger.post(documents)] == [POSTED, DUPLICATE]
    assert [o.status for o in ledger.post(documents)] == [DUPLICATE, DUPLICATE]
