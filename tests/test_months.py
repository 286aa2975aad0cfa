"""As-of reads from the monthly rows (``proj_months``) equal a plain sum over the posting lines, on both backends.

``queries.balances_as_of`` adds the monthly rows before the date's month and
reads at most a month of lines (and, as known on a time, the lines of
earlier months recorded in that time's month). These tests fold events with
chosen effective dates and recorded times through the projector (its own
``_apply_page``, as catch-up writes them), so that back-dated corrections,
closes, reopenings and month and year boundaries in both dates are reached,
then compare the read with one ``GROUP BY`` over ``proj_lines``.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
import sqlalchemy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import case, func, select, text

from conftest import empty_store, require_backend
from ledger.projections import queries, tables
from ledger.store import Ledger

BOOK_A = "a" * 32
BOOK_B = "b" * 32
YEAR = 2024  # a leap year: 29 February is a month's last day
UTC = timezone.utc


def opened(book_hex: str) -> tuple[str, str, dict]:
    return book_hex, "Opened", {"region": "500101", "scheme": "resident", "year": YEAR, "municipality": "500100"}


def posted(book_hex: str, kind: str, number: int, effective: str, recorded: datetime, postings, **extra) -> tuple[str, str, dict]:
    """A book event as the projector folds it: (book, kind, attributes)."""
    data = {
        "effective_date": effective,
        "timestamp": recorded,
        "postings": [list(p) for p in postings],
        "document_id": f"D-{number}",
        "voucher": number,
        "originator_version": number + 1,
        "actor": "tester",
        "reason": "test",
        **extra,
    }
    return book_hex, kind, data


def apply_pages(ledger: Ledger, folded: list, pages: int = 1) -> None:
    """Fold the events with notification ids 1, 2, … in ``pages`` pages, as catch-up would."""
    events = list(enumerate(folded, start=1))
    size = max(1, -(-len(events) // pages))
    position = 0
    for start in range(0, len(events), size):
        page = events[start : start + size]
        ledger.projector._apply_page(position, page)
        position = page[-1][0]


def plain_sum(ledger: Ledger, book_ids: list[str], through: date | str, known_on: str | None) -> list[tuple]:
    """The answer from the lines alone: one aggregate over proj_lines, as balances_as_of answered before proj_months."""
    t = tables.lines
    query = (
        select(
            t.c.account,
            t.c.tier,
            func.sum(case((t.c.amount_fen > 0, t.c.amount_fen), else_=0)),
            func.sum(case((t.c.amount_fen < 0, -t.c.amount_fen), else_=0)),
            func.sum(case((t.c.kind == "YearClosed", t.c.amount_fen), else_=0)),
        )
        .where(t.c.book_id.in_(book_ids), t.c.effective_date <= (through if isinstance(through, str) else through.isoformat()))
        .group_by(t.c.account, t.c.tier)
        .order_by(t.c.account, t.c.tier)
    )
    if known_on is not None:
        query = query.where(t.c.recorded_at <= queries.recorded_cutoff(known_on))
    with ledger.engine.connect() as connection:
        return [(a, int(tr), int(d), int(c), int(d) - int(c), int(z)) for a, tr, d, c, z in connection.execute(query)]


def as_tuples(rows) -> list[tuple]:
    return [(r.account, r.tier, r.debit_fen, r.credit_fen, r.balance_fen, r.closed_fen) for r in rows]


# ---------------------------------------------------------------- by hand


def hand_story() -> list:
    """Book A, resident 2024, in fen (tiers 0 on the bank accounts, 1 on the fund's):

    1. dated 2024-01-15, recorded 2024-01-16 02:00 UTC: contribution, Dr 1003 100,000 / Cr 4001.01:1 100,000
    2. dated 2024-02-10, recorded 2024-02-10 03:00 UTC: transfer, Dr 1004 40,000 / Cr 1003 40,000
    3. dated 2024-01-20 (back-dated), recorded 2024-03-05 01:00 UTC: late contribution, Dr 1003 5,000 / Cr 4001.01:1 5,000
    4. dated 2024-03-03, recorded 2024-03-06 01:00 UTC: claim, Dr 5001.01:1 30,000 / Cr 1004 30,000
    5. dated 2024-12-31, recorded 2025-01-05 01:00 UTC: year close,
       Dr 4001.01:1 105,000 / Cr 5001.01:1 30,000 / Cr 3001:1 75,000
    """
    return [
        opened(BOOK_A),
        posted(BOOK_A, "ContributionReceived", 1, "2024-01-15", datetime(2024, 1, 16, 2, tzinfo=UTC), [("1003", 0, 100000), ("4001.01", 1, -100000)]),
        posted(BOOK_A, "FundsTransferred", 2, "2024-02-10", datetime(2024, 2, 10, 3, tzinfo=UTC), [("1004", 0, 40000), ("1003", 0, -40000)]),
        posted(BOOK_A, "ContributionReceived", 3, "2024-01-20", datetime(2024, 3, 5, 1, tzinfo=UTC), [("1003", 0, 5000), ("4001.01", 1, -5000)]),
        posted(BOOK_A, "ClaimPaid", 4, "2024-03-03", datetime(2024, 3, 6, 1, tzinfo=UTC), [("5001.01", 1, 30000), ("1004", 0, -30000)]),
        posted(BOOK_A, "YearClosed", 5, "2024-12-31", datetime(2025, 1, 5, 1, tzinfo=UTC),
               [("4001.01", 1, 105000), ("5001.01", 1, -30000), ("3001", 1, -75000)], period="2024"),
    ]


def test_as_of_reads_from_the_months_give_the_hand_worked_figures(ledger):
    apply_pages(ledger, hand_story(), pages=2)

    def read(through, known_on=None):
        return as_tuples(queries.balances_as_of(ledger.engine, [BOOK_A], through, known_on))

    # Through 31 March, known now: 1003 = 100,000 + 5,000 − 40,000; 1004 = 40,000 − 30,000.
    assert read("2024-03-31") == [
        ("1003", 0, 105000, 40000, 65000, 0),
        ("1004", 0, 40000, 30000, 10000, 0),
        ("4001.01", 1, 0, 105000, -105000, 0),
        ("5001.01", 1, 30000, 0, 30000, 0),
    ]
    # As known at 12:00 UTC on 5 March: the back-dated contribution (recorded 01:00 that day, dated in
    # January) is known, the claim (recorded 6 March) is not.
    assert read("2024-03-31", "2024-03-05T12:00:00+00:00") == [
        ("1003", 0, 105000, 40000, 65000, 0),
        ("1004", 0, 40000, 0, 40000, 0),
        ("4001.01", 1, 0, 105000, -105000, 0),
    ]
    # Through 29 February, as known just before 5 March (UTC): January had only the 100,000 then.
    assert read(date(2024, 2, 29), "2024-03-04T23:59:59+00:00") == [
        ("1003", 0, 100000, 40000, 60000, 0),
        ("1004", 0, 40000, 0, 40000, 0),
        ("4001.01", 1, 0, 100000, -100000, 0),
    ]
    # The same date known now: the back-dated 5,000 is in January.
    assert read(date(2024, 2, 29))[0] == ("1003", 0, 105000, 40000, 65000, 0)
    # Through 31 December, known now: the close empties income and expense into 3001:1.
    assert read("2024-12-31") == [
        ("1003", 0, 105000, 40000, 65000, 0),
        ("1004", 0, 40000, 30000, 10000, 0),
        ("3001", 1, 0, 75000, -75000, -75000),
        ("4001.01", 1, 105000, 105000, 0, 105000),
        ("5001.01", 1, 30000, 30000, 0, -30000),
    ]
    # As known at the end of 31 December in Shanghai (15:59:59.999999 UTC): the close was recorded in January.
    assert read("2024-12-31", "2024-12-31")[2:] == [("4001.01", 1, 0, 105000, -105000, 0), ("5001.01", 1, 30000, 0, 30000, 0)]
    # Before the first line: nothing.
    assert read("2024-01-14") == []
    # The monthly rows themselves: January holds two recorded months (January and March).
    m = tables.months
    with ledger.engine.connect() as connection:
        january = connection.execute(
            select(m.c.recorded_month, m.c.account, m.c.tier, m.c.debit_fen, m.c.credit_fen, m.c.closed_fen)
            .where(m.c.book_id == BOOK_A, m.c.month == "2024-01")
            .order_by(m.c.recorded_month, m.c.account)
        ).all()
    assert [tuple(row) for row in january] == [
        ("2024-01", "1003", 0, 100000, 0, 0),
        ("2024-01", "4001.01", 1, 0, 100000, 0),
        ("2024-03", "1003", 0, 5000, 0, 0),
        ("2024-03", "4001.01", 1, 0, 5000, 0),
    ]


# ---------------------------------------------------------------- random histories

BOUNDARY_DATES = ["2023-12-31", "2024-01-01", "2024-01-31", "2024-02-01", "2024-02-29", "2024-03-01", "2024-06-30",
                  "2024-07-01", "2024-12-01", "2024-12-31", "2025-01-01"]
effective_dates = st.one_of(
    st.sampled_from(BOUNDARY_DATES),
    st.integers(min_value=0, max_value=365).map(lambda days: (date(YEAR, 1, 1) + timedelta(days=days)).isoformat()),
)
# Recorded times from January 2024 to March 2025, with the last and first instants of UTC months among them.
BOUNDARY_TIMES = [datetime(2024, 2, 29, 23, 59, 59, 999999, tzinfo=UTC), datetime(2024, 3, 1, tzinfo=UTC),
                  datetime(2024, 12, 31, 23, 59, 59, 999999, tzinfo=UTC), datetime(2025, 1, 1, tzinfo=UTC)]
recorded_times = st.one_of(
    st.sampled_from(BOUNDARY_TIMES),
    st.integers(min_value=0, max_value=425 * 24 * 3600).map(lambda seconds: datetime(2024, 1, 1, tzinfo=UTC) + timedelta(seconds=seconds)),
)
postings = st.lists(
    st.tuples(st.sampled_from(["1003", "1004", "4001.01", "5001.01", "3001"]), st.integers(0, 2),
              st.integers(min_value=-50000, max_value=50000).filter(bool)),
    min_size=1, max_size=4,
)


@st.composite
def histories(draw):
    """Events of two books in recorded order: ordinary postings, back-dated ones, closes and year reopenings."""
    count = draw(st.integers(min_value=1, max_value=25))
    times = sorted(draw(st.lists(recorded_times, min_size=count, max_size=count)))
    events = [opened(BOOK_A), opened(BOOK_B)]
    for number, recorded in enumerate(times, start=1):
        book = draw(st.sampled_from([BOOK_A, BOOK_B]))
        kind = draw(st.sampled_from(["ContributionReceived", "ClaimPaid", "YearClosed", "PeriodReopened", "BalancesCarriedForward"]))
        if kind == "YearClosed":
            events.append(posted(book, kind, number, "2024-12-31", recorded, draw(postings), period="2024"))
        elif kind == "PeriodReopened":
            events.append(posted(book, kind, number, draw(effective_dates), recorded, [], period="2024"))
        else:
            events.append(posted(book, kind, number, draw(effective_dates), recorded, draw(postings)))
    return events


known_on_values = st.one_of(
    st.none(),
    recorded_times.map(lambda moment: moment.isoformat()),
    # A date alone: the end of that day in the agency's zone (Asia/Shanghai), 16:00 UTC the day before the next.
    st.sampled_from(BOUNDARY_DATES),
)


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(
    history=histories(),
    pages=st.integers(min_value=1, max_value=3),
    reads=st.lists(st.tuples(effective_dates, known_on_values, st.sampled_from([[BOOK_A], [BOOK_B], [BOOK_A, BOOK_B]])),
                   min_size=1, max_size=6),
)
def test_as_of_from_the_months_equals_the_plain_sum_of_the_lines(backend, history, pages, reads):
    require_backend(backend)
    with empty_store(backend) as ledger:
        apply_pages(ledger, history, pages)
        for through, known_on, books in reads:
            assert as_tuples(queries.balances_as_of(ledger.engine, books, through, known_on)) == plain_sum(
                ledger, books, through, known_on
            ), (through, known_on, books)
        # Known on a line's own recorded time: that line is in, the next one out.
        for _, _, data in history[2:5]:
            moment = data["timestamp"].isoformat()
            assert as_tuples(queries.balances_as_of(ledger.engine, [BOOK_A, BOOK_B], "2024-12-31", moment)) == plain_sum(
                ledger, [BOOK_A, BOOK_B], "2024-12-31", moment
            )


# ---------------------------------------------------------------- the prepared statement (PostgreSQL)


def test_as_of_reads_on_the_same_connections_give_the_same_answer_after_a_rebuild_remakes_the_tables(ledger):
    """On PostgreSQL a pooled connection keeps the as-of statement it prepared while ``rebuild`` drops and remakes the tables."""
    from ledger.documents import read_document

    raws = [
        {"id": "SB", "type": "subsidy", "date": "2025-02-01", "region": "500101", "scheme": "resident", "tier": 1, "level": "central", "amount": "1000.00"},
        {"id": "TR", "type": "transfer", "date": "2025-02-02", "region": "500101", "scheme": "resident", "from": "1003", "to": "1004", "amount": "1000.00"},
        {"id": "CL", "type": "claim", "date": "2025-03-05", "region": "500101", "scheme": "resident", "tier": 1, "category": "inpatient", "amount": "300.00"},
    ]
    for raw in raws:
        assert ledger.post_one(read_document(raw)).status == "posted"
    (book,) = [b.book_id for b in queries.list_books(ledger.engine)]
    known_on = datetime.now(UTC) + timedelta(days=1)

    def reads():
        return [as_tuples(queries.balances_as_of(ledger.engine, [book], through, at)) for through in ("2025-02-28", "2025-03-31") for at in (None, known_on)]

    before = reads()
    ledger.projector.rebuild()
    assert reads() == before
    # By hand: 5001.01:1 paid 300.00 from 1004 in March, nothing in February.
    assert ("5001.01", 1, 30000, 0, 30000, 0) in before[2] and all(row[0] != "5001.01" for row in before[0])


# ---------------------------------------------------------------- an existing store gets the table


def test_a_store_without_proj_months_is_replayed_on_opening_and_reads_the_same(store_url):
    from ledger.documents import read_document

    wanzhou = "500101"
    raws = [
        {"id": "SB", "type": "subsidy", "date": "2025-02-01", "region": wanzhou, "scheme": "resident", "tier": 1, "level": "central", "amount": "1000.00"},
        {"id": "TR", "type": "transfer", "date": "2025-02-02", "region": wanzhou, "scheme": "resident", "from": "1003", "to": "1004", "amount": "1000.00"},
        {"id": "CL", "type": "claim", "date": "2025-03-05", "region": wanzhou, "scheme": "resident", "tier": 1, "category": "inpatient", "amount": "300.00"},
    ]
    with Ledger(store_url) as ledger:
        for raw in raws:
            assert ledger.post_one(read_document(raw)).status == "posted"
        (book,) = [b.book_id for b in queries.list_books(ledger.engine)]
        before = as_tuples(queries.balances_as_of(ledger.engine, [book], "2025-03-31"))
        months_before = queries.table_rows(ledger.engine)[tables.months.name]
        position = ledger.projector.position()
    engine = sqlalchemy.create_engine(store_url)
    try:
        with engine.begin() as connection:
            connection.execute(text("DROP TABLE proj_months"))
    finally:
        engine.dispose()
    with Ledger(store_url) as ledger:
        assert ledger.projector.position() == position
        assert queries.table_rows(ledger.engine)[tables.months.name] == months_before
        # By hand: 1003 received 1,000.00 and sent 1,000.00; 5001.01:1 paid 300.00 from 1004.
        after = as_tuples(queries.balances_as_of(ledger.engine, [book], "2025-03-31"))
        assert after == before
        assert ("5001.01", 1, 30000, 0, 30000, 0) in after
        assert ("1003", 0, 100000, 100000, 0, 0) in after
