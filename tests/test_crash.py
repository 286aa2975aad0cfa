"""A crash at any point leaves the books as before a document or as after it; posting again finishes the file."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import sqlalchemy

from ledger.demo import generate_documents
from ledger.store import Ledger
from ledger.verify import verify

POLL_SECONDS = 0.02
STARTUP_LIMIT_SECONDS = 60


def _events(url: str) -> int:
    engine = sqlalchemy.create_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(sqlalchemy.text("SELECT count(*) FROM ledger_events")).scalar() or 0
    except sqlalchemy.exc.DBAPIError:
        return 0
    finally:
        engine.dispose()


def test_a_killed_import_posts_again_without_double_posting(store_url, tmp_path):
    path = tmp_path / "year.jsonl"
    documents = list(generate_documents(size=8, year=2013))
    path.write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in documents), encoding="utf-8")
    command = [sys.executable, "-m", "ledger.cli", "post", str(path), "--db", store_url, "-q"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + STARTUP_LIMIT_SECONDS
    while _events(store_url) == 0 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(POLL_SECONDS)
    os.kill(process.pid, signal.SIGKILL)  # in the middle of the file, wherever it is
    process.wait()

    again = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stdout + again.stderr
    summary = again.stdout.strip().splitlines()[-1]
    posted = int(summary.split("posted ")[1].split(" documents")[0])
    duplicates = int(summary.split(", ")[1].split(" duplicates")[0])
    # Every document is either in the books once (posted before the kill) or posted now, never twice.
    assert duplicates > 0, summary  # the kill came after the first batch was saved
    assert posted + duplicates == len(documents), summary
    with Ledger(store_url) as ledger:
        assert len(ledger.app.registered([d["id"] for d in documents])) == len(documents)
        assert verify(ledger).agrees


def test_two_writers_on_the_same_books_both_finish_and_the_books_agree(store_url, tmp_path):
    documents = [d for d in generate_documents(size=2, year=2013) if d["type"] not in ("year_close", "reversal")]
    second = [{**d, "id": "B-" + d["id"]} for d in documents]
    paths = []
    for name, lines in (("a.jsonl", documents), ("b.jsonl", second)):
        path = tmp_path / name
        path.write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in lines), encoding="utf-8")
        paths.append(path)
    commands = [[sys.executable, "-m", "ledger.cli", "post", str(p), "--db", store_url, "-q"] for p in paths]
    with Ledger(store_url):
        pass  # create the tables once, so the two writers race on the books, not on CREATE TABLE
    writers = [subprocess.Popen(c, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for c in commands]
    results = [w.communicate(timeout=300) for w in writers]
    for (stdout, stderr), writer in zip(results, writers):
        assert "Traceback" not in stderr, stderr[-2000:]
        assert writer.returncode in (0, 1), stderr[-2000:]
    posted = sum(int(out.strip().splitlines()[-1].split("posted ")[1].split(" documents")[0]) for out, _ in results)
    with Ledger(store_url) as ledger:
        ids = [d["id"] for d in documents] + [d["id"] for d in second]
        assert len(ledger.app.registered(ids)) == posted
        report = verify(ledger)
        assert report.agrees, report.findings[:5]


def test_a_database_that_fails_under_a_command_is_a_message_and_exit_3(monkeypatch, capsys):
    import pytest
    from sqlalchemy.exc import OperationalError

    import ledger.cli as cli

    from eventsourcing.persistence import OperationalError as LibraryOperationalError

    driver_error = OperationalError("LOCK TABLE ledger_events", {}, Exception("terminating connection due to administrator command"))
    # The driver's error as SQLAlchemy raises it, and as the eventsourcing recorder wraps it around a save.
    for raised, says in (
        (driver_error, "the database failed: terminating connection due to administrator command"),
        (LibraryOperationalError(driver_error), "the database failed: (builtins.Exception) terminating connection"),
    ):

        def killed(raised=raised) -> None:
            raise raised

        monkeypatch.setattr(cli, "app", killed)
        with pytest.raises(SystemExit) as exited:
            cli.main()
        assert exited.value.code == cli.EXIT_DATABASE_FAILED == 3
        printed = " ".join(capsys.readouterr().err.split())
        assert says in printed
        assert "run the command again" in printed and "Traceback" not in printed


def test_a_document_that_lost_every_race_leaves_no_unsaved_event_behind(ledger, monkeypatch):
    """A document whose saves all lose to other writers is refused; the next document is prepared from the store.

    The working books of a posting run are the books as last saved. A save that failed must not leave its
    events in them: the next document would then be linked to an event that is not in the store, and
    verify would find the chain broken (seen once in ``test_two_writers_…`` when a document used up its retries).
    """
    from eventsourcing.persistence import IntegrityError

    from ledger.documents import read_document

    def contribution(document_id, amount):
        return read_document({"id": document_id, "type": "contribution", "date": "2013-01-05", "region": "500101",
                              "scheme": "resident", "tier": 1, "amount": amount}, "accountant")

    assert ledger.post_one(contribution("C-1", "100.00")).status == "posted"
    app = ledger.app
    saving = app._save_batch

    def always_lost(aggregates, *rest):
        if any(event.document_id == "C-2" for aggregate in aggregates for event in aggregate.pending_events):
            for aggregate in aggregates:
                aggregate.collect_events()  # as the real save does before the insert that fails
            raise IntegrityError("another writer saved this book's next version first")
        return saving(aggregates, *rest)

    monkeypatch.setattr(app, "_save_batch", always_lost)
    # One posting run: C-2 loses every race, then C-3 goes to the same book.
    lost, posted = ledger.post([contribution("C-2", "20.00"), contribution("C-3", "3.00")])
    assert lost.status == "rejected" and "kept changing" in str(lost.error)
    assert posted.status == "posted"
    report = verify(ledger)
    assert report.agrees, report.findings[:3]
    # The book holds C-1 and C-3: 100.00 + 3.00 in 4001.01 tier 1, and C-2 nowhere.
    assert len(app.registered(["C-1", "C-2", "C-3"])) == 2
