"""The verification log: every completed verification is a row in the store, which every worker and the command line read.

The story: 万州区 (500101) and 开州区 (500154) resident books of 2012, one
contribution each (DOMAIN.md §2: Dr 1002 / Cr 4001.01 tier 1). Counted by
hand: each book's events are Opened and its contribution, so two books, four
book events; each contribution is one event of the log beside the book's
Opened, so the log's highest notification id is 4 when nothing else is posted
(the policy engine writes no state for a contribution).
"""

from __future__ import annotations

import json

import pytest
import sqlalchemy
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import update
from typer.testing import CliRunner

from ledger import verification_log
from ledger.access import grants, users
from ledger.aggregates.book import BookKey, book_id
from ledger.cli import app as cli
from ledger.documents import read_document
from ledger.projections import tables
from ledger.service import create_app
from ledger.store import Ledger
from ledger.tasks import verifying

WANZHOU, KAIZHOU = "500101", "500154"
PASSWORD = "correct horse battery"
runner = CliRunner()


@pytest.fixture(autouse=True)
def quick_hashes(monkeypatch):
    monkeypatch.setattr(users, "HASHER", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


def contribution(document_id, region, amount="100.00"):
    return {"id": document_id, "type": "contribution", "date": "2012-01-05", "region": region, "scheme": "resident",
            "tier": 1, "amount": amount}


@pytest.fixture
def story(store_url):
    with Ledger(store_url) as ledger:
        outcomes = ledger.post([read_document(contribution("C-1", WANZHOU)), read_document(contribution("K-1", KAIZHOU))])
        assert [o.status for o in outcomes] == ["posted", "posted"]
        users.add_user(ledger.engine, "wz", "万州审计", PASSWORD, by="admin")
        grants.grant(ledger.engine, "wz", "auditor", WANZHOU, by="admin")
    return store_url


def login(client, username="wz"):
    answer = client.post("/api/login", json={"username": username, "password": PASSWORD})
    return {"Authorization": f"Bearer {answer.json()['token']}"}


def history_json(url):
    shown = runner.invoke(cli, ["verify", "--db", url, "--history", "--json"])
    assert shown.exit_code == 0, shown.output
    return json.loads(shown.stdout)


def break_kaizhou(url):
    """Tamper 开州's balance projection so verify finds it (the projections disagree with the replay)."""
    engine = sqlalchemy.create_engine(url)
    book = book_id(BookKey(KAIZHOU, "resident", 2012)).hex
    with engine.begin() as connection:
        connection.execute(update(tables.balances).where(tables.balances.c.book_id == book, tables.balances.c.account == "1002")
                           .values(balance_fen=1))
    engine.dispose()


def test_the_command_line_records_who_when_what_and_the_verdict(story):
    verified = runner.invoke(cli, ["verify", "--db", story])
    assert verified.exit_code == 0, verified.output
    (row,) = history_json(story)
    # By hand (module docstring): two books, four book events, the log ends at notification 4.
    assert {k: row[k] for k in ("verification_id", "channel", "scope", "agrees", "findings", "store_findings", "first_finding",
                                "position", "chain_heads", "events")} == {
        "verification_id": 1, "channel": "cli", "scope": "all", "agrees": True, "findings": 0, "store_findings": 0,
        "first_finding": None, "position": 4, "chain_heads": 2, "events": 4}
    assert row["verified_by"] == verification_log.os_user()
    assert row["verified_at"].endswith("+00:00")
    table = runner.invoke(cli, ["verify", "--db", story, "--history"])
    assert "verification log (newest first)" in table.output and "agree" in table.output and "cli" in table.output


def test_a_verification_with_findings_is_recorded_with_its_first_finding_and_exits_1(story):
    break_kaizhou(story)
    verified = runner.invoke(cli, ["verify", "--db", story])
    assert verified.exit_code == 1
    (row,) = history_json(story)
    assert (row["agrees"], row["findings"], row["store_findings"]) == (False, row["store_findings"], row["findings"])
    assert row["findings"] >= 1 and row["first_finding_book"] == f"{KAIZHOU}/resident/2012"
    assert row["first_finding"].startswith(f"{KAIZHOU}/resident/2012: ")


def test_a_log_that_cannot_be_written_does_not_hide_the_verdict(story, monkeypatch):
    def refuse(*args, **kwargs):
        raise sqlalchemy.exc.OperationalError("INSERT INTO ledger_verifications", {}, Exception("disk I/O error"))

    monkeypatch.setattr(verification_log, "record", refuse)
    verified = runner.invoke(cli, ["verify", "--db", story])
    # The verdict and its exit are verify's own: agree, exit 0; the log's failure is said beside it.
    assert verified.exit_code == 0, verified.output
    shown = " ".join(verified.output.split())
    assert "events, seals and projections agree" in shown
    assert "the verification above was not written to the verification log: OperationalError" in shown
    assert "Traceback" not in verified.output
    break_kaizhou(story)
    assert runner.invoke(cli, ["verify", "--db", story]).exit_code == 1  # findings still exit 1
    monkeypatch.undo()
    assert history_json(story) == []


def test_every_service_worker_and_the_command_line_read_the_same_last_verification(story):
    # Two services on one store stand for two workers (or a restart): neither verified anything itself.
    first, second = TestClient(create_app(story)), TestClient(create_app(story))
    with first, second:
        assert "verification" not in first.get("/api/health").json()  # nothing verified yet
        assert "ledger_verify_age_seconds" not in second.get("/metrics").text
        assert runner.invoke(cli, ["verify", "--db", story]).exit_code == 0
        for client in (first, second):
            shown = client.get("/api/health").json()["verification"]
            assert (shown["channel"], shown["agrees"], shown["findings"], shown["position"], shown["chain_heads"]) == ("cli", True, 0, 4, 2)
            assert shown["last_failed_at"] is None and shown["last_agreed_at"] == shown["verified_at"]
            assert "ledger_verify_agrees 1.0" in client.get("/metrics").text
        # A verification through the first worker, by the district's auditor, is what the second then shows.
        token = login(first)
        answer = first.get(f"/api/verify?region={WANZHOU}", headers=token)
        assert answer.status_code == 200 and answer.json()["verification_id"] == 2 and answer.json()["log_error"] is None
        shown = second.get("/api/health").json()["verification"]
        assert (shown["channel"], shown["verified_by"]) == ("api", "wz")
        # 开州's books broken, verified from the command line: both workers say so, and when it last agreed.
        break_kaizhou(story)
        assert runner.invoke(cli, ["verify", "--db", story]).exit_code == 1
        for client in (first, second):
            shown = client.get("/api/health").json()["verification"]
            assert shown["agrees"] is False and shown["findings"] >= 1
            assert shown["last_failed_at"] == shown["verified_at"] and shown["last_agreed_at"] < shown["verified_at"]
            metrics = client.get("/metrics").text
            assert "ledger_verify_agrees 0.0" in metrics and "ledger_verify_agreed_age_seconds " in metrics


def test_the_auditors_endpoint_shows_their_region_s_rows_and_withholds_other_districts_findings(story):
    service = create_app(story)
    with TestClient(service) as client:
        token = login(client)
        break_kaizhou(story)
        assert runner.invoke(cli, ["verify", "--db", story]).exit_code == 1  # all: the first finding is 开州's
        verified = client.get(f"/api/verify?region={WANZHOU}", headers=token)
        # 万州's auditor sees 万州's books agree; the whole store does not, and the log keeps both counts.
        assert verified.json()["agrees"] is True and verified.json()["findings"] == []
        page = client.get(f"/api/verifications?region={WANZHOU}", headers=token)
        assert page.status_code == 200, page.text
        rows = page.json()["items"]
        assert [(r["verification_id"], r["channel"], r["scope"], r["agrees"], r["findings"]) for r in rows] == [
            (2, "api", WANZHOU, True, 0), (1, "cli", "all", False, rows[1]["findings"])]
        assert rows[0]["store_findings"] == rows[1]["findings"] >= 1
        # The whole-store row's first finding is 开州's: withheld from 万州's auditor, its count shown.
        assert rows[1]["first_finding"] is None and rows[1]["first_finding_book"] is None
        refused = client.get(f"/api/verifications?region={KAIZHOU}", headers=token)
        assert refused.status_code == 403


def test_the_verify_page_lists_the_log(story):
    service = create_app(story)
    with TestClient(service) as client:
        assert runner.invoke(cli, ["verify", "--db", story]).exit_code == 0
        answer = client.post("/login", data={"username": "wz", "password": PASSWORD}, follow_redirects=False)
        assert answer.status_code in (302, 303), answer.text
        page = client.get(f"/verify?region={WANZHOU}")
        assert page.status_code == 200, page.text
        assert 'id="history"' in page.text and "校验记录" in page.text
        # This page's own verification (web, wz) above the command line's.
        rows = page.text.split('id="history"', 1)[1]
        assert rows.index(">web<") < rows.index(">cli<") and ">wz<" in rows
    with Ledger(story) as ledger:
        assert [(r.channel, r.scope) for r in verifying.history(ledger)] == [("web", WANZHOU), ("cli", "all")]
