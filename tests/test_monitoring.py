"""The service's positions, health and metrics, with the projections kept in process and with a follower.

Figures by hand: a contribution of 1,120.00 yuan to 万州区's resident book
debits 1002 (docs/service.md's example); a second of 80.00 makes 1,200.00.
"""

from __future__ import annotations

import pytest
import sqlalchemy
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from ledger.access import grants, users
from ledger.cli import app as cli
from ledger.service import create_app
from ledger.service.app import POSITION_HEADER
from ledger.tasks.arguments import ArgumentError

WANZHOU = "500101"
PASSWORD = "correct horse battery"
BALANCES = f"/api/books/{WANZHOU}/resident/2012/balances"
runner = CliRunner()


@pytest.fixture(autouse=True)
def quick_hashes(monkeypatch):
    monkeypatch.setattr(users, "HASHER", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


def contribution(document_id, amount):
    return {"id": document_id, "type": "contribution", "date": "2012-01-05", "region": WANZHOU, "scheme": "resident",
            "tier": 1, "amount": amount}


def open_service(store_url, follower):
    service = create_app(store_url, follower=follower)
    engine = service.state.ledger.engine
    users.add_user(engine, "acc", "会计", PASSWORD, by="admin")
    grants.grant(engine, "acc", "accountant", WANZHOU, by="admin")
    grants.grant(engine, "acc", "auditor", WANZHOU, by="admin")  # to run a verification
    client = TestClient(service)
    answer = client.post("/api/login", json={"username": "acc", "password": PASSWORD})
    return client, {"Authorization": f"Bearer {answer.json()['token']}"}


def events_in_log(store_url) -> tuple[int, int]:
    """(rows, highest notification id) of the events table, read apart from the service."""
    engine = sqlalchemy.create_engine(store_url)
    with engine.connect() as connection:
        rows, head = connection.execute(sqlalchemy.text("SELECT count(*), max(id) FROM ledger_events")).one()
    engine.dispose()
    return int(rows), int(head)


def cash(answer) -> str:
    (row,) = [r for r in answer.json()["rows"] if r["account"] == "1002"]
    return row["balance"]


def test_inline_projection_reads_say_their_position_and_health_shows_no_lag(store_url):
    client, token = open_service(store_url, follower=False)
    with client:
        posted = client.post("/api/documents", json=contribution("C-1", "1120.00"), headers=token)
        assert posted.status_code == 201, posted.text
        rows, head = events_in_log(store_url)
        assert posted.headers[POSITION_HEADER] == str(head)
        shown = client.get(BALANCES, headers=token)
        assert shown.status_code == 200 and cash(shown) == "1120.00"
        assert shown.headers[POSITION_HEADER] == str(head)
        assert client.get("/api/health").json() == {
            "status": "ok", "position": head, "log_head": head, "lag": 0, "projection": "inline", "reads_from": "primary"}
        metrics = client.get("/metrics")
        assert metrics.headers["content-type"].startswith("text/plain")
        text = metrics.text
        assert 'ledger_documents_total{outcome="posted"} 1.0' in text
        assert f"ledger_events_written_total {float(rows)}" in text
        assert "ledger_projection_lag_events 0.0" in text
        assert f"ledger_log_head {float(head)}" in text
        assert "ledger_verify_agrees" not in text  # no verification yet
        verified = client.get(f"/api/verify?region={WANZHOU}", headers=token)
        assert verified.status_code == 200, verified.text
        after = client.get("/metrics").text
        assert "ledger_verify_agrees 1.0" in after and "ledger_verify_findings 0.0" in after
        assert "ledger_verify_age_seconds " in after and "ledger_verify_agreed_age_seconds " in after


def test_with_a_follower_posting_does_not_project_and_reads_wait_for_the_follower(store_url, monkeypatch):
    monkeypatch.setenv("LEDGER_READ_WAIT_SECONDS", "0.3")
    client, token = open_service(store_url, follower=True)
    with client:
        assert client.post("/api/documents", json=contribution("C-1", "1120.00"), headers=token).status_code == 201
        _, head = events_in_log(store_url)
        health = client.get("/api/health").json()
        assert (health["position"], health["log_head"], health["lag"], health["projection"]) == (0, head, head, "follower")
        assert f"ledger_projection_lag_events {float(head)}" in client.get("/metrics").text
        # The follower has not run: the book is not in the projections yet, and a wait for C-1 gives up with 503.
        assert client.get(BALANCES, headers=token).status_code == 404
        waited = client.get(BALANCES, params={"wait_for": "C-1"}, headers=token)
        assert waited.status_code == 503, waited.text
        assert waited.headers["Retry-After"] == "1"
        assert waited.json()["rule"] == "read position" and "document C-1" in waited.json()["detail"]

        assert runner.invoke(cli, ["project", "--once", "--db", store_url]).exit_code == 0  # the follower's work, once
        shown = client.get(BALANCES, params={"wait_for": "C-1"}, headers=token)
        assert shown.status_code == 200 and cash(shown) == "1120.00"
        assert shown.headers[POSITION_HEADER] == str(head)

        second = client.post("/api/documents", json=contribution("C-2", "80.00"), headers=token)
        written = int(second.headers[POSITION_HEADER])
        stale = client.get(BALANCES, headers=token)
        assert cash(stale) == "1120.00" and stale.headers[POSITION_HEADER] == str(head)  # the follower's position, not the log's
        assert runner.invoke(cli, ["project", "--once", "--db", store_url]).exit_code == 0
        fresh = client.get(BALANCES, params={"wait_for": str(written)}, headers=token)
        assert cash(fresh) == "1200.00" and fresh.headers[POSITION_HEADER] == str(written)
        assert client.get("/api/health").json()["lag"] == 0


def test_a_follower_setting_that_is_not_understood_is_refused(monkeypatch, tmp_path):
    monkeypatch.setenv("LEDGER_FOLLOWER", "perhaps")
    with pytest.raises(ArgumentError, match="LEDGER_FOLLOWER must be yes or no"):
        create_app(f"sqlite:///{tmp_path / 'x.db'}")
