"""Several writers on PostgreSQL: no table lock between them, and nothing reads or folds past a batch still in flight.

Each test holds one writer's batch open inside its transaction (after its
events and registry rows are written, before its projections and commit)
and lets a second writer, a catch-up or a rebuild run meanwhile. With the
library's exclusive table lock the second writer could not commit until the
first did; a reader paging by position past the open batch would lose its
events for good.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import func, select, text

from conftest import POSTGRES_URL, _empty_postgres, require_backend
from ledger import log_order
from ledger.documents import read_document
from ledger.projections import tables
from ledger.store import Ledger

WAIT_SECONDS = 60


@pytest.fixture
def url() -> str:
    require_backend("postgres")
    _empty_postgres()
    return POSTGRES_URL


def _contribution(number: int, region: str, amount: str = "10.00") -> Any:
    return read_document(
        {"id": f"C-{region}-{number}", "type": "contribution", "date": "2012-01-05", "region": region,
         "scheme": "resident", "tier": 1, "amount": amount}
    )


def _scalar(ledger: Ledger, statement: Any) -> Any:
    with ledger.engine.connect() as connection:
        return connection.execute(statement).scalar_one()


def _events(ledger: Ledger) -> int:
    return int(_scalar(ledger, text("SELECT count(*) FROM ledger_events")))


def _received_fen(ledger: Ledger) -> int:
    """The debits of every balance row: each contribution debits what it receives once."""
    return int(_scalar(ledger, select(func.coalesce(func.sum(tables.balances.c.debit_fen), 0))))


def _until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"waited {WAIT_SECONDS} s for {what}")
        time.sleep(0.05)


@contextmanager
def held_open(ledger: Ledger, documents: list[Any]) -> Iterator[tuple[threading.Event, dict[str, Any]]]:
    """Post ``documents`` in a thread whose batch stops inside its transaction until the yielded event is set.

    The batch waits after its events and registry rows are written, before
    its projections and commit. The dict gets ``outcomes`` (or ``error``)
    and ``first_id`` once known.
    """
    entered, release = threading.Event(), threading.Event()
    result: dict[str, Any] = {}
    project = ledger.app.project_in_transaction
    assert project is not None

    def paused(connection: Any, recordings: list[Any]) -> bool:
        result["first_id"] = recordings[0].notification.id
        entered.set()
        release.wait(WAIT_SECONDS)
        return project(connection, recordings)

    def post() -> None:
        try:
            result["outcomes"] = [o.status for o in ledger.post(documents)]
        except BaseException as error:  # reported by the test, not lost in the thread
            result["error"] = error

    ledger.app.project_in_transaction = paused
    thread = threading.Thread(target=post, daemon=True)
    thread.start()
    try:
        assert entered.wait(WAIT_SECONDS), "the held writer never reached its transaction"
        yield release, result
    finally:
        release.set()
        thread.join(WAIT_SECONDS)
        ledger.app.project_in_transaction = project
    assert not thread.is_alive(), "the held writer did not finish"
    assert "error" not in result, result.get("error")


def test_a_second_writer_commits_while_the_first_batch_is_open_and_no_catch_up_passes_the_open_batch(url):
    # Writer A: 3 contributions of 10.00 to 渝中区 (500103); writer B: 2 of 25.00 to 大渡口区 (500104).
    with Ledger(url) as a, Ledger(url) as b, Ledger(url, project=False) as reader:
        with held_open(a, [_contribution(n, "500103") for n in range(3)]) as (release, held):
            first_a = held["first_id"]
            b_done: dict[str, Any] = {}
            b_thread = threading.Thread(
                target=lambda: b_done.update(outcomes=[o.status for o in b.post([_contribution(n, "500104", "25.00") for n in range(2)])]),
                daemon=True,
            )
            b_thread.start()
            # B's batch (a book opening and two postings: 3 events) commits while A's is still open:
            # no table lock makes it wait. A's 4 events (opening + 3) are not visible yet.
            _until(lambda: _events(reader) == 3, "the second writer's events to commit")
            # The settled head stops before A's reservation, although B's later ids are committed.
            assert reader.projector.settled_head() == first_a - 1
            # A catch-up meanwhile folds nothing past the open batch.
            reader.projector.catch_up()
            assert reader.projector.position() < first_a
            assert b_thread.is_alive(), "the second writer returned before its batch's projections could be current"
            release.set()
            b_thread.join(WAIT_SECONDS)
            assert b_done["outcomes"] == ["posted", "posted"]
        assert held["outcomes"] == ["posted"] * 3
        # Every event folded exactly once: 3 × 10.00 + 2 × 25.00 = 80.00 received.
        assert _events(reader) == 7
        assert reader.projector.position() == reader.projector.log_head() == 7
        assert _received_fen(reader) == 8000
        reader.projector.rebuild()
        assert _received_fen(reader) == 8000


def test_a_rebuild_waits_for_the_writer_in_flight_and_folds_its_batch(url):
    # B posts without projecting (as ``ledger post --no-project`` does), so its post returns without waiting for A.
    with Ledger(url) as a, Ledger(url, project=False) as b, Ledger(url, project=False) as rebuilder:
        list(b.post([_contribution(0, "500104", "25.00")]))  # 2 events
        with held_open(a, [_contribution(n, "500103") for n in range(2)]) as (release, held):
            list(b.post([_contribution(1, "500104", "25.00")]))  # 1 event, after A's reservation, committed before A
            done: dict[str, Any] = {}
            rebuild = threading.Thread(target=lambda: done.update(events=rebuilder.projector.rebuild()), daemon=True)
            rebuild.start()

            def rebuild_waits() -> bool:
                waiting = _scalar(
                    rebuilder,
                    text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
                         "AND (classid::bigint << 32) | objid::bigint = :key").bindparams(key=log_order.LOG_KEY),
                )
                return bool(waiting)

            _until(rebuild_waits, "the rebuild to wait for the open batch")
            release.set()
            rebuild.join(WAIT_SECONDS)
        # 2 + 1 events of B and A's 3 (opening + 2): all folded once, 2 × 25.00 + 2 × 10.00 = 70.00.
        assert done["events"] == 6
        rebuilder.projector.catch_up()
        assert rebuilder.projector.position() == 6
        assert _received_fen(rebuilder) == 7000


def test_a_reservation_that_fails_midway_leaves_the_id_lock_free(url):
    with Ledger(url) as ledger:
        list(ledger.post([_contribution(0, "500103")]))
        with ledger.engine.connect() as connection:
            with pytest.raises(Exception, match="no_such_sequence"):
                log_order.reserve_ids(connection, "no_such_sequence", 3)
        # Another session takes the id lock at once: the failed one's connection was closed with it.
        with ledger.engine.connect() as connection:
            taken = connection.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": log_order.ID_KEY}).scalar_one()
            assert taken
            connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": log_order.ID_KEY})
        list(ledger.post([_contribution(1, "500103")]))
        assert ledger.projector.position() == ledger.projector.log_head() == 3
