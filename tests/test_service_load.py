"""The service under load (bench/service.py), small, on both backends: real ``ledger serve`` processes, real HTTP clients.

What must hold after concurrent clients post disjoint and overlapping
documents: each document answered ``201 posted`` exactly once (the sequential
post posted every one of the workload's documents: its first documents in
file order are funded in order), every other send of it ``duplicate`` or a
refusal re-sent, the books equal to the sequential post's, and ``verify``
agreeing. The bench itself computes those checks; these tests also check
that the check finds a lost document, and the counts of the answers.
"""

from __future__ import annotations

from collections import Counter

import pytest
from typer.testing import CliRunner

from bench import service
from bench.chaos.books import fingerprint
from bench.report import Report
from bench.stores import PostgresBackend, SqliteBackend
from ledger.cli import app
from ledger.store import Ledger

DOCUMENTS = 24  # 12 disjoint, 12 overlapping


def backend_for(store_url, tmp_path):
    return SqliteBackend(tmp_path) if store_url.startswith("sqlite") else PostgresBackend(store_url)


def test_concurrent_clients_leave_the_books_of_a_sequential_post(store_url, tmp_path):
    backend = backend_for(store_url, tmp_path)
    report = Report()
    figures = service.measure(backend, size=1, seed=7, report=report, clients=(1, 4), servers=((1, 1), (2, 3)), count=DOCUMENTS)
    assert figures["sequential"]["posted"] == DOCUMENTS  # the workload's documents all post in file order
    expected_runs = {"1 clients, 1 process × 1 ledger", "4 clients, 1 process × 1 ledger"}
    if backend.name == "postgres":  # two processes of three ledgers each: six requests on the books at once
        expected_runs |= {"1 clients, 2 processes × 3 ledgers", "4 clients, 2 processes × 3 ledgers"}
    assert set(figures["runs"]) == expected_runs
    for name, run in figures["runs"].items():
        assert run["problems"] == [], name
        disjoint, overlapping = run["disjoint"], run["overlapping"]
        assert disjoint["documents"] == overlapping["documents"] == DOCUMENTS // 2
        assert disjoint["requests"] == DOCUMENTS // 2
        # Each overlapping document is sent by min(3, clients) clients: 12 × 1 with one client, 12 × 3 with four.
        copies = min(service.OVERLAP, run["clients"])
        assert overlapping["requests"] == DOCUMENTS // 2 * copies
        # Every send is posted once, a duplicate, or refused (and re-sent later): nothing else.
        refused = sum(overlapping["refusals"].values())
        assert overlapping["duplicates"] + refused >= overlapping["requests"] - overlapping["documents"]
        assert overlapping["duplicates"] <= overlapping["requests"] - overlapping["documents"]
        assert run["reads"]["reads"] == run["clients"] * service.READS_PER_CLIENT
        assert run["reads"]["read_p50_ms"] <= run["reads"]["read_p99_ms"]
    assert any("service checks" in row.measurement and "books equal the sequential post" in row.target for row in report.rows)


def test_the_check_names_a_document_posted_twice_or_never(tmp_path):
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    with Ledger(url):
        pass
    work = service.Workload(opening=[], load=[], books=[], expected={"C-1": True, "C-2": True, "C-3": False})
    seen = service.Tally(posted=Counter({"C-1": 2, "C-3": 1}))
    problems = service.check(url, work, fingerprint(url), {"overlapping": seen}, service.Tally(), service.Tally())
    assert problems == [
        "document C-1 was answered 201 posted 2 times; the sequential post posted it",
        "document C-2 was answered 201 posted 0 times; the sequential post posted it",
        "document C-3 was answered 201 posted 1 times; the sequential post refused it",
    ]


def test_serve_refuses_several_workers_on_sqlite_without_a_traceback(tmp_path):
    answer = CliRunner().invoke(app, ["serve", "--db", f"sqlite:///{tmp_path / 'l.db'}", "--workers", "2"])
    assert answer.exit_code == 2
    assert "--workers 2 needs a PostgreSQL store" in answer.output
    assert "Traceback" not in answer.output


def test_serve_refuses_an_unknown_log_level(tmp_path):
    answer = CliRunner().invoke(app, ["serve", "--db", f"sqlite:///{tmp_path / 'l.db'}", "--log-level", "loud"])
    assert answer.exit_code == 2
    assert "--log-level loud: choose one of critical, error, warning, info, debug" in answer.output


@pytest.mark.parametrize("clients, copies", [(1, 1), (2, 2), (8, 3)])
def test_overlapping_documents_go_to_as_many_clients_as_overlap_allows(clients, copies):
    documents = [{"id": f"D-{n}"} for n in range(10)]
    shares = service.deal_overlapping(documents, clients, __import__("random").Random(1))
    sent = Counter(d["id"] for share in shares for d in share)
    assert sent == {f"D-{n}": copies for n in range(10)}
    assert all(len({d["id"] for d in share}) == len(share) for share in shares)  # never twice to one client


def test_a_process_works_on_the_books_with_four_ledgers_on_postgresql_and_one_on_sqlite(store_url, monkeypatch):
    from ledger.service import create_app

    monkeypatch.delenv("LEDGER_SERVICE_LEDGERS", raising=False)
    app = create_app(store_url)
    try:
        assert app.state.ledgers == (1 if store_url.startswith("sqlite") else 4)
    finally:
        app.state.ledger.close()


@pytest.mark.parametrize("value, message", [("many", "LEDGER_SERVICE_LEDGERS='many': give a whole number of ledgers, 1 to 16"),
                                            ("17", "17 ledgers per process: choose 1 to 16")])
def test_a_ledger_count_out_of_bounds_is_refused_before_the_store_is_opened(tmp_path, monkeypatch, value, message):
    from ledger.service import create_app
    from ledger.tasks.arguments import ArgumentError

    monkeypatch.setenv("LEDGER_SERVICE_LEDGERS", value)
    with pytest.raises(ArgumentError, match=message):
        create_app(f"sqlite:///{tmp_path / 'never.db'}")
    assert not (tmp_path / "never.db").exists()


def test_behind_a_proxy_on_the_loopback_the_login_limits_count_the_forwarded_address(tmp_path):
    """A real ``ledger serve``: a login from 127.0.0.1 (the proxy) naming ``X-Forwarded-For`` is counted under that
    address; one without the header under 127.0.0.1 (docs/service.md, deployment)."""
    import httpx2
    import sqlalchemy

    from ledger.access.tables import login_attempts

    url = f"sqlite:///{tmp_path / 'proxy.db'}"
    with Ledger(url):
        pass
    with service.Server(url, workers=1, ledgers=1) as server:
        for headers in ({"X-Forwarded-For": "203.0.113.7"}, {}):
            answer = httpx2.post(f"{server.base_url}/api/login", json={"username": "nobody", "password": "not the password"},
                                headers=headers, timeout=60)
            assert answer.status_code == 401
    engine = sqlalchemy.create_engine(url)
    try:
        with engine.connect() as connection:
            counted = [row.client_address for row in connection.execute(
                sqlalchemy.select(login_attempts.c.client_address).order_by(login_attempts.c.attempt_id))]
    finally:
        engine.dispose()
    assert counted == ["203.0.113.7", "127.0.0.1"]
