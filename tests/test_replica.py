"""Reads from a real PostgreSQL hot standby (``--read-db``), posting on the primary (docs/operations.md).

The pair is made by ``tests/replica.py`` for this module (its own primary
and standby, on free ports) and removed after. The figures are worked by
hand from the journals posted.
"""

from __future__ import annotations

import json

import pytest
import sqlalchemy
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from conftest import REQUIRE_POSTGRES
from ledger.cli import app
from ledger.documents import read_document
from ledger.service import create_app
from ledger.store import Ledger
from replica import postgres_bin, replica_pair, wait_for_replay

runner = CliRunner()


@pytest.fixture(scope="module")
def pair():
    if postgres_bin() is None:
        if REQUIRE_POSTGRES:
            pytest.fail("the replica test needs PostgreSQL's server programs (initdb, pg_basebackup) and finds none")
        pytest.skip("no PostgreSQL server programs on this machine")
    with replica_pair() as made:
        yield made


def journal(document_id: str, amount: str, account: str = "1003") -> dict:
    return {"date": "2013-01-02", "id": document_id, "type": "journal", "region": "500101", "scheme": "resident",
            "purpose": "replica test", "postings": [{"account": account, "debit": amount}, {"account": "3001", "tier": 1, "credit": amount}]}


def balance_on_standby(pair, *extra: str):
    shown = runner.invoke(app, ["--read-db", pair.standby_url, *extra, "balance", "500101", "resident", "2013",
                                "--account", "1003", "--json", "--db", pair.primary_url])
    return shown


def test_posting_on_the_primary_reads_on_the_standby_with_figures_position_and_lag(pair):
    with Ledger(pair.primary_url) as primary:  # the projector runs inline: events and projection rows on the primary
        outcomes = list(primary.post([read_document(journal("R-1", "100.00"), "tester"), read_document(journal("R-2", "250.50"), "tester")]))
        assert [o.status for o in outcomes] == ["posted", "posted"]
        head = primary.written_position
    lag_seconds = wait_for_replay(pair)
    assert lag_seconds < 30

    # 1003 debited 100.00 + 250.50 = 350.50, read on the standby, at the primary's position.
    shown = balance_on_standby(pair, "--wait-for", "R-2")
    assert shown.exit_code == 0, shown.output
    answer = json.loads(shown.stdout)
    assert [(r["account"], r["balance"], r["side"]) for r in answer["rows"]] == [("1003", "350.50", "Dr")]
    assert answer["position"] == head
    assert f"read at log position {head}" in shown.stderr
    engine = sqlalchemy.create_engine(pair.standby_url)
    with engine.connect() as connection:
        assert connection.execute(sqlalchemy.text("SELECT pg_is_in_recovery()")).scalar() is True
    engine.dispose()

    # The trial balance on the standby balances: 350.50 on each side.
    trial = runner.invoke(app, ["--read-db", pair.standby_url, "trial-balance", "500101", "2013", "--json", "--db", pair.primary_url])
    assert trial.exit_code == 0, trial.output
    (only,) = json.loads(trial.stdout)
    assert only["debit_total"] == "350.50" and only["credit_total"] == "350.50" and only["balanced"]

    # A position the log has not reached: the wait gives up with a message naming it, exit 1.
    waited = balance_on_standby(pair, "--wait-for", str(head + 1000), "--wait-seconds", "0.3")
    assert waited.exit_code == 1
    assert f"not yet {head + 1000}" in waited.output and "Traceback" not in waited.output


def test_with_a_follower_the_standby_shows_the_followers_position_and_waits_for_a_document(pair):
    with Ledger(pair.primary_url, project=False) as primary:  # posting without projecting: the follower's job
        list(primary.post([read_document(journal("R-3", "49.50"), "tester")]))
        written = primary.written_position
        before = primary.projector.position()
    assert before < written
    wait_for_replay(pair)

    # Nothing projected R-3 yet: the standby shows the earlier position, and a read that must include R-3 times out.
    stale = balance_on_standby(pair)
    assert json.loads(stale.stdout)["position"] == before
    assert [r["balance"] for r in json.loads(stale.stdout)["rows"]] == ["350.50"]
    missing = balance_on_standby(pair, "--wait-for", "R-3", "--wait-seconds", "0.3")
    assert missing.exit_code == 1 and "document R-3" in missing.output

    # The service on the primary with the standby for reads: its health says the lag, in events.
    service = TestClient(create_app(pair.primary_url, follower=True, read_url=pair.standby_url))
    health = service.get("/api/health").json()
    assert health == {"status": "ok", "position": before, "log_head": written, "lag": written - before,
                      "projection": "follower", "reads_from": "replica"}
    metrics = service.get("/metrics").text
    assert f"ledger_projection_lag_events {float(written - before)}" in metrics

    projected = runner.invoke(app, ["project", "--once", "--db", pair.primary_url])
    assert projected.exit_code == 0, projected.output
    # 350.50 + 49.50 = 400.00, once the standby has replayed the follower's commit.
    shown = balance_on_standby(pair, "--wait-for", "R-3", "--wait-seconds", "30")
    assert shown.exit_code == 0, shown.output
    answer = json.loads(shown.stdout)
    assert answer["position"] == written
    assert [r["balance"] for r in answer["rows"]] == ["400.00"]
    wait_for_replay(pair)
    assert service.get("/api/health").json()["lag"] == 0
    service.close()
