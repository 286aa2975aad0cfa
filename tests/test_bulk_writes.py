"""One transaction of bulk writes per batch: events, registry and projections commit together or not at all."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, update

from ledger import bulk
from ledger.documents import read_document
from ledger.projections import tables
from ledger.projections.projector import PROJECTION_NAME


def _contribution(number: int, amount: str = "10.00", region: str = "500101") -> object:
    return read_document(
        {"id": f"C-{number}", "type": "contribution", "date": "2012-01-05", "region": region,
         "scheme": "resident", "tier": 1, "amount": amount}
    )


def _count(ledger, table) -> int:  # type: ignore[no-untyped-def]
    with ledger.engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(table)).scalar_one())


def _balances(ledger) -> dict[tuple[str, int], tuple[int, int, int]]:  # type: ignore[no-untyped-def]
    b = tables.balances
    with ledger.engine.connect() as connection:
        rows = connection.execute(select(b.c.account, b.c.tier, b.c.debit_fen, b.c.credit_fen, b.c.balance_fen))
        return {(r.account, r.tier): (r.debit_fen, r.credit_fen, r.balance_fen) for r in rows}


def test_a_batch_writes_gap_free_ids_readable_by_the_library_and_its_projections_in_the_same_commit(ledger):
    # Three contributions of 10.00, 20.00 and 30.00 yuan to one book: the book opens (1 event), then 3 postings events.
    outcomes = list(ledger.post([_contribution(1, "10.00"), _contribution(2, "20.00"), _contribution(3, "30.00")]))
    assert [o.status for o in outcomes] == ["posted"] * 3
    notifications = ledger.app.recorder.select_notifications(start=1, limit=100)
    assert [n.id for n in notifications] == [1, 2, 3, 4]
    assert ledger.projector.position() == 4
    assert _count(ledger, tables.lines) == 6  # two lines a contribution
    # 60.00 yuan received: 6,000 fen on one side and 6,000 on the other, whatever the accounts are called.
    figures = _balances(ledger)
    assert sorted(debit for debit, _, _ in figures.values() if debit) == [6000]
    assert sorted(credit for _, credit, _ in figures.values() if credit) == [6000]
    # A second batch continues the ids where the first stopped.
    list(ledger.post([_contribution(4, "5.00")]))
    assert [n.id for n in ledger.app.recorder.select_notifications(start=5, limit=100)] == [5]
    assert ledger.projector.position() == 5


def test_a_projection_that_fails_in_the_saving_transaction_leaves_no_event_and_no_registry_row(ledger, monkeypatch):
    list(ledger.post([_contribution(1)]))
    events_before = ledger.projector.log_head()

    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(bulk, "upsert_adding", broken)
    with pytest.raises(RuntimeError):
        list(ledger.post([_contribution(2, "20.00")]))
    monkeypatch.undo()
    assert ledger.projector.log_head() == events_before
    assert ledger.app.registered(["C-2"]) == {}
    assert ledger.projector.position() == events_before
    # The books are as before the document; posting it again now works.
    ledger.app._working_books = {}
    (outcome,) = list(ledger.post([_contribution(2, "20.00")]))
    assert outcome.status == "posted"
    assert ledger.projector.position() == ledger.projector.log_head()


def test_when_the_projections_lag_the_batch_still_commits_and_they_catch_up_after_it(ledger):
    list(ledger.post([_contribution(1, "10.00")]))
    # Wind the projections back by hand, as a follower that has not run yet would leave them.
    with ledger.engine.begin() as connection:
        connection.execute(update(tables.tracking).where(tables.tracking.c.name == PROJECTION_NAME).values(notification_id=0))
        for table in tables.PROJECTION_TABLES:
            connection.execute(table.delete())
    list(ledger.post([_contribution(2, "20.00")]))
    assert ledger.projector.position() == ledger.projector.log_head() == 3
    figures = _balances(ledger)
    assert sorted(debit for debit, _, _ in figures.values() if debit) == [3000]


def test_rebuild_gives_the_rows_of_the_live_projection_and_keeps_the_lines_index(ledger):
    documents = [_contribution(n, f"{n}.00", region) for n, region in enumerate(["500101", "500103"] * 3, start=1)]
    list(ledger.post(documents))

    def snapshot() -> dict[str, list[tuple]]:
        with ledger.engine.connect() as connection:
            return {
                table.name: sorted(tuple(row) for row in connection.execute(select(table)))
                for table in (*tables.PROJECTION_TABLES, tables.tracking)
            }

    live = snapshot()
    assert ledger.projector.rebuild() == ledger.projector.log_head() == 8  # two books opened, six postings events
    assert snapshot() == live
    from sqlalchemy import inspect

    indexed = {index["name"] for index in inspect(ledger.engine).get_indexes(tables.lines.name)}
    assert {index.name for index in tables.lines.indexes} <= indexed


@pytest.mark.parametrize(
    ("value", "field"),
    [
        (None, "\\N"),
        (True, "t"),
        (False, "f"),
        (b"\x00\xff", "\\\\x00ff"),
        ("a\tb\nc\\d\re", "a\\tb\\nc\\\\d\\re"),
        (-1250, "-1250"),
        ("住院", "住院"),
    ],
)
def test_copy_fields_are_escaped_as_postgresql_reads_them(value, field):
    assert bulk.copy_field(value) == field
