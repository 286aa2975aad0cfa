"""verify proves every rule, not only that copies agree: on both backends.

The story: 万州区 (500101) worker book of 2024, figures worked by hand.

  version 1  Opened
  version 2  C-1  2024-03-01 contribution 1,000.00 into 1003   Dr 1003 / Cr 4001.01
  version 3  T-1  2024-04-02 transfer 600.00 1003 → 1004        Dr 1004 / Cr 1003

Events that break a rule are written the way a program that skipped the
checks (or an older one) would: straight onto the book, with a valid hash
chain and a registry row, so only verify's own re-check of the rules can
name them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date

import pytest
from sqlalchemy import delete, select, update
from typer.testing import CliRunner

from ledger import registry
from ledger.aggregates.book import Book, BookKey, book_id
from ledger.chain import chain_hash
from ledger.cli import app
from ledger.documents import read_document
from ledger.postings import Posting
from ledger.projections import queries
from ledger.seals import seals as seal_table
from ledger.store import Ledger
from ledger.verify import DOCUMENT_TYPES_OF_EVENT, verify

WANZHOU = "500101"
BOOK = BookKey(WANZHOU, "worker", 2024)
WORKER = {"region": WANZHOU, "scheme": "worker"}
C1 = {"id": "C-1", "type": "contribution", "date": "2024-03-01", **WORKER, "into": "1003", "amount": "1000.00"}
T1 = {"id": "T-1", "type": "transfer", "date": "2024-04-02", **WORKER, "from": "1003", "to": "1004", "amount": "600.00"}
HASH = "ab" * 32


def post(ledger, *raws):
    outcomes = list(ledger.post([read_document(raw) for raw in raws]))
    assert [o.status for o in outcomes] == ["posted"] * len(raws), [str(o.error) for o in outcomes]


def findings(ledger):
    return [f"{f.book}: {f.message}" for f in verify(ledger).findings]


def write_unchecked(ledger, event_class, document_id, day, postings, document_type="journal", **extra):
    """Record an event on the book without its checks, with a registry row, as a careless program would."""
    book = ledger.app.repository.get(book_id(BOOK))
    book.record(
        event_class,
        document_id=document_id,
        effective_date=date.fromisoformat(day),
        actor="someone",
        postings=tuple(Posting(*p) for p in postings),
        content_hash=HASH,
        **extra,
    )
    row = registry.row(document_id, HASH, document_type, [[book.id.hex, book.version]])
    reversals = [(extra["reverses"], document_id)] if "reverses" in extra else []
    ledger.app.save(book, documents=[row], reversals=reversals)
    ledger.projector.catch_up()
    return book.version


BROKEN_RULES = [
    # (event, document, date, postings, extra, the finding's rule text)
    (
        Book.ClaimPaid, "K-1", "2024-03-28", [("5001.01", 0, 10000), ("1004", 0, -10000)], {},
        "1004 支出户存款 would fall to -100.00 on 2024-03-28: too little by 100.00 [bank accounts never below zero]",
    ),
    (
        Book.JournalPosted, "J-1", "2024-05-01", [("5001.01", 0, 10000), ("1003", 0, -9000)], {},
        "debits 100.00 and credits 90.00 differ: debits exceed credits by 10.00 [debits equal credits]",
    ),
    (
        Book.JournalPosted, "J-2", "2024-05-01", [("9999", 0, 10000), ("1003", 0, -10000)], {},
        "account 9999 is not in the chart of accounts of a worker book [chart of accounts (财会〔2017〕28号)]",
    ),
    (
        Book.JournalPosted, "J-3", "2024-05-01", [("1004", 0, 10000), ("1002", 0, -10000)], {},
        "the payment account 1004 may receive only from the fiscal special account 1003, the level above or its "
        "own interest, not from 1002 [account flow (财社〔2017〕144号 第39–42条)]",
    ),
    (
        Book.JournalPosted, "J-4", "2024-05-01", [("1003", 0, 10000), ("1003", 0, -10000)], {},
        "1003 is both debited and credited: an entry to and from the same account moves nothing [no entry to and from the same account]",
    ),
    (
        Book.JournalPosted, "J-5", "2023-12-31", [("5001.01", 0, 10000), ("1003", 0, -10000)], {},
        "2023-12-31 is outside fiscal year 2024 of book 500101/worker/2024 [effective date within the book's fiscal year]",
    ),
    (
        Book.DocumentReversed, "R-1", "2024-02-15", [("4001.01", 0, 100), ("1003", 0, -100)], {"reverses": "C-1"},
        "C-1 is dated 2024-03-01; its reversal cannot be dated before it (2024-02-15) [a reversal is dated on or after what it reverses]",
    ),
]


@pytest.mark.parametrize("event_class,document_id,day,postings,extra,rule", BROKEN_RULES, ids=[r[1] for r in BROKEN_RULES])
def test_verify_names_an_event_that_breaks_a_rule_of_the_book(ledger, event_class, document_id, day, postings, extra, rule):
    post(ledger, C1, T1)
    assert verify(ledger).agrees
    # The registry row a careless program would write for it: the document type that writes this event.
    (document_type,) = DOCUMENT_TYPES_OF_EVENT[event_class.__name__]
    version = write_unchecked(ledger, event_class, document_id, day, postings, document_type, **extra)
    assert version == 4
    kind = event_class.__name__
    expected = f"{BOOK}: version 4 ({kind}, document {document_id}), dated {day} breaks a rule the book enforces: {rule}"
    found = findings(ledger)
    assert expected in found, found
    # Nothing else disagrees: the chain, the registry and the projections all follow the event.
    assert [f for f in found if "breaks a rule" not in f and "replayed trial balance" not in f] == []


def test_verify_names_a_posting_into_a_closed_month(ledger):
    post(ledger, C1, T1, {"id": "MC-1", "type": "month_close", **WORKER, "year": 2024, "month": 1})
    write_unchecked(ledger, Book.ClaimPaid, "K-2", "2024-01-20", [("5001.01", 0, 100), ("1004", 0, -100)], "claim")
    found = findings(ledger)
    assert any(
        f.startswith(f"{BOOK}: version 5 (ClaimPaid, document K-2), dated 2024-01-20 breaks a rule the book enforces: "
                     "2024-01-20 falls in 2024-01, which is closed in book 500101/worker/2024")
        and f.endswith("[closed period]")
        for f in found
    ), found


def test_a_claim_moved_to_an_earlier_date_and_rechained_is_named(ledger):
    """The SQL tamperer rewrites K-3's date from 04-02 to 03-28 and recomputes the link: the chain holds, the rule does not."""
    claim = {"id": "K-3", "type": "claim", "date": "2024-04-02", **WORKER, "category": "inpatient", "amount": "100.00"}
    post(ledger, C1, T1, claim)
    table = ledger.app.recorder.events_record_cls.__table__
    events = list(ledger.app.events.get(book_id(BOOK)))
    fields = dict(vars(events[3]))
    fields["effective_date"] = "2024-03-28"
    # March holds C-1 (voucher #1): K-3 becomes March's #2, as it was April's #2 after T-1.
    fields["chain"] = chain_hash(events[2].chain, "ClaimPaid", fields)
    forged = type(events[3])(**fields)
    with ledger.engine.begin() as connection:
        connection.execute(
            update(table)
            .where(table.c.originator_id == book_id(BOOK), table.c.originator_version == 4)
            .values(state=ledger.app.mapper.to_stored_event(forged).state)
        )
    found = findings(ledger)
    assert not any("chain broken" in f for f in found), found
    assert (
        f"{BOOK}: version 4 (ClaimPaid, document K-3), dated 2024-03-28 breaks a rule the book enforces: "
        "1004 支出户存款 would fall to -100.00 on 2024-03-28: too little by 100.00 [bank accounts never below zero]"
    ) in found


# ---------------------------------------------------------------- seals


def test_a_deleted_seal_row_is_named(ledger):
    post(ledger, C1, T1, {"id": "MC-1", "type": "month_close", **WORKER, "year": 2024, "month": 1, "seal": True})
    post(ledger, {"id": "MC-2", "type": "month_close", **WORKER, "year": 2024, "month": 2})
    post(ledger, {"id": "YC-1", "type": "year_close", **WORKER, "year": 2024})
    assert verify(ledger).agrees
    # By hand: Opened, C-1, T-1, MC-1 (version 4, sealed), MC-2 (5, no seal), YC-1 (6, always sealed).
    with ledger.engine.begin() as connection:
        connection.execute(delete(seal_table))
    found = findings(ledger)
    assert f"{BOOK}: version 4 (document MC-1) issued a seal of 2024-01, but ledger_seals has no row for it: the stored seal was deleted" in found
    assert f"{BOOK}: version 6 (document YC-1) issued a seal of 2024, but ledger_seals has no row for it: the stored seal was deleted" in found
    assert len(found) == 2, found
    result = CliRunner().invoke(app, ["verify", "--db", ledger.url])
    assert result.exit_code == 1



@pytest.mark.parametrize(
    "key,value,says",
    [
        ("sealed_at", "2024-01-31T00:00:00+00:00", "the seal says sealed_at '2024-01-31T00:00:00+00:00', the events say"),
        ("format", "ledger-seal/0", "the seal says format 'ledger-seal/0', the events say 'ledger-seal/1'"),
        ("events", 99, "the seal says events 99, the events say 4"),
        ("signed_by", "someone", "the seal holds signed_by, which no seal states"),
    ],
)
def test_a_seal_row_whose_payload_was_edited_beside_its_figures_is_named(ledger, key, value, says):
    post(ledger, C1, T1, {"id": "MC-1", "type": "month_close", **WORKER, "year": 2024, "month": 1, "seal": True})
    assert verify(ledger).agrees
    with ledger.engine.begin() as connection:
        (stored,) = connection.execute(select(seal_table.c.payload)).scalars()
        edited = {**json.loads(stored), key: value}
        connection.execute(update(seal_table).values(payload=json.dumps(edited)))
    found = findings(ledger)
    assert any(says in finding for finding in found), found


# ---------------------------------------------------------------- snapshots


def _store_snapshot(ledger, edit=None):
    """Write a snapshot row of the book as an older ledger would have (it kept one every 1,000 events)."""
    book = ledger.app.repository.get(book_id(BOOK))
    snapshot = Book.Snapshot.take(book)
    if edit is not None:
        edit(snapshot.state)
    recorder = ledger.app.factory.aggregate_recorder(purpose="snapshots")
    recorder.insert_events([ledger.app.mapper.to_stored_event(snapshot)])


def test_a_faithful_stored_snapshot_agrees_and_an_edited_one_is_named_and_never_read(ledger):
    post(ledger, C1, T1)
    _store_snapshot(ledger)
    report = verify(ledger)
    assert report.agrees and report.snapshots == 1, report.findings
    # Someone edits a snapshot row: 1004 holds 10,000.00 instead of 600.00.
    ledger.app.factory.aggregate_recorder(purpose="snapshots")
    with ledger.engine.begin() as connection:
        from sqlalchemy import MetaData, Table

        table = Table("ledger_snapshots", MetaData(), autoload_with=connection)
        connection.execute(delete(table))
    _store_snapshot(ledger, edit=lambda state: state["balances"].update({"1004:0": 1000000}))
    found = findings(ledger)
    assert (
        f"{BOOK}: the stored snapshot at version 3 differs from the replay in balances: it was edited or written "
        "by another program (the ledger does not read snapshots; delete the row)"
    ) in found
    # Posting does not read it: a claim of 700.00 is still more than the 600.00 the events give 1004.
    with Ledger(ledger.url) as fresh:
        (outcome,) = list(fresh.post([read_document({"id": "K-9", "type": "claim", "date": "2024-05-01", **WORKER, "category": "inpatient", "amount": "700.00"})]))
    assert outcome.status == "rejected"
    assert "1004 支出户存款 would fall to -100.00 on 2024-05-01: too little by 100.00" in str(outcome.error)


# ---------------------------------------------------------------- rebuild


def test_rebuild_refuses_a_broken_chain_unless_forced(ledger):
    claim = {"id": "K-4", "type": "claim", "date": "2024-04-10", **WORKER, "category": "inpatient", "amount": "100.00"}
    post(ledger, C1, T1, claim)
    table = ledger.app.recorder.events_record_cls.__table__
    with ledger.engine.connect() as connection:
        state = bytes(connection.execute(select(table.c.state).where(table.c.originator_id == book_id(BOOK), table.c.originator_version == 4)).scalar())
    # The claim's 100.00 (10000 fen) made 10.00 in the stored row, without a new link.
    assert state.count(b"10000") == 2
    with ledger.engine.begin() as connection:
        connection.execute(
            update(table)
            .where(table.c.originator_id == book_id(BOOK), table.c.originator_version == 4)
            .values(state=state.replace(b"10000", b"1000"))
        )
    runner = CliRunner()
    refused = runner.invoke(app, ["rebuild", "--db", ledger.url])
    assert refused.exit_code == 1
    shown = " ".join(refused.output.split())
    assert f"{BOOK}: chain broken at version 4 (ClaimPaid, document K-4)" in shown
    assert "refused: 1 book(s) with a broken hash chain; the projections were left as they were" in shown
    # The projections still show 1004 at 600.00 − 100.00 = 500.00, not the forged 590.00.
    rows = {(r.account, r.tier): r.balance_fen for r in queries.book_balances(ledger.engine, book_id(BOOK).hex)}
    assert rows[("1004", 0)] == 50000
    forced = runner.invoke(app, ["rebuild", "--force", "--db", ledger.url])
    assert forced.exit_code == 0, forced.output
    rows = {(r.account, r.tier): r.balance_fen for r in queries.book_balances(ledger.engine, book_id(BOOK).hex)}
    assert rows[("1004", 0)] == 59000


def test_verify_and_rebuild_count_the_same_things_under_the_same_names(ledger):
    post(ledger, C1, T1, {"id": "YC-1", "type": "year_close", **WORKER, "year": 2024})
    # By hand: the 2024 book has Opened, C-1, T-1, YC-1 (4 events); the close opens 2025 and carries into it
    # (Opened, BalancesCarriedForward: 2). 2 books, 6 book events; no policy-engine state was written.
    runner = CliRunner()
    checked = runner.invoke(app, ["verify", "--db", ledger.url])
    rebuilt = runner.invoke(app, ["rebuild", "--db", ledger.url])
    assert checked.exit_code == 0 and rebuilt.exit_code == 0, checked.output + rebuilt.output
    counts = "2 books (6 book events; 6 events in the log, 0 of them policy-engine state)"
    assert counts in " ".join(checked.output.split())
    assert counts in " ".join(rebuilt.output.split())


def test_verify_and_rebuild_agree_on_the_demo_counts_with_policy_engine_state(tmp_path, store_url):
    runner = CliRunner()
    demo = runner.invoke(app, ["demo", "--size", "1", "--db", store_url])
    assert demo.exit_code == 0, demo.output
    checked = " ".join(runner.invoke(app, ["verify", "--db", store_url]).output.split())
    rebuilt = " ".join(runner.invoke(app, ["rebuild", "--db", store_url]).output.split())
    counted = checked[checked.index("replayed ") + len("replayed "):checked.index("), proved") + 1]
    assert "policy-engine state)" in counted and not counted.endswith("0 of them policy-engine state)")
    assert f"rebuilt the projections of {counted}" in rebuilt


# ---------------------------------------------------------------- concurrent first use


@pytest.mark.parametrize("round_number", [1, 2])
def test_eight_posts_started_at_once_on_an_empty_store_all_succeed(store_url, tmp_path, round_number):
    """The race on creating the tables is a matter of timing (without the schema lock about one run in three failed): two rounds.

    Each process posts into its own book (years 2017–2024), so they race on creating the tables, not on a book.
    """
    commands = []
    for number in range(8):
        path = tmp_path / f"part-{number}.jsonl"
        path.write_text(
            f'{{"id": "P-{number}", "type": "contribution", "date": "{2017 + number}-03-01", "region": "500101", '
            f'"scheme": "worker", "into": "1003", "amount": "{number + 1}.00"}}\n'
        )
        commands.append([sys.executable, "-m", "ledger.cli", "post", str(path), "--db", store_url, "-q"])
    environment = {**os.environ, "COLUMNS": "200"}
    writers = [subprocess.Popen(c, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environment) for c in commands]
    results = [(w.wait(timeout=300), w.stderr.read()) for w in writers]
    assert [code for code, _ in results] == [0] * 8, [text[-2000:] for _, text in results]
    with Ledger(store_url) as ledger:
        # By hand: the book of 2017 + n holds (n + 1).00 in 1003.
        assert [ledger.app.book(BookKey(WANZHOU, "worker", 2017 + n)).balance_fen("1003") for n in range(8)] == [
            100, 200, 300, 400, 500, 600, 700, 800
        ]
        assert verify(ledger).agrees
