"""Tamper evidence, voucher numbers, period close and reopening, seals: on both backends.

The story: 万州区 (500101) resident book of 2025. Figures are worked by hand
from the standard entries of DOMAIN.md §2:

  CT-1  2025-01-10 contribution 1,000.00 tier 1   Dr 1002 1,000.00 / Cr 4001.01:1
  SW-1  2025-01-31 sweep 1002 → 1003 1,000.00     Dr 1003 / Cr 1002
  SB-1  2025-02-12 central subsidy 2,000.00 t1    Dr 1003 2,000.00 / Cr 4101.01:1
  TR-1  2025-02-20 fund the payment account 800   Dr 1004 800.00 / Cr 1003
  CL-1  2025-03-05 inpatient claim 500.00 t1      Dr 5001.01:1 500.00 / Cr 1004

Voucher numbers (per book and month): 2025-01 #1 CT-1, #2 SW-1; 2025-02 #1
SB-1, #2 TR-1; 2025-03 #1 CL-1. The book's events: version 1 Opened, 2 CT-1,
3 SW-1, 4 SB-1, 5 TR-1, 6 CL-1.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import delete, select, update
from typer.testing import CliRunner

from ledger.aggregates.book import BookKey, book_id
from ledger.chain import chain_hash
from ledger.cli import app
from ledger.documents import read_document
from ledger.errors import PeriodClosedError
from ledger.projections import queries
from ledger.seals import sign, stored
from ledger.stored import read_events
from ledger.verify import verify

WANZHOU = "500101"
BOOK = BookKey(WANZHOU, "resident", 2025)

STORY = [
    {"id": "CT-1", "type": "contribution", "date": "2025-01-10", "region": WANZHOU, "scheme": "resident", "tier": 1, "amount": "1000.00"},
    {"id": "SW-1", "type": "transfer", "date": "2025-01-31", "region": WANZHOU, "scheme": "resident", "from": "1002", "to": "1003", "amount": "1000.00"},
    {"id": "SB-1", "type": "subsidy", "date": "2025-02-12", "region": WANZHOU, "scheme": "resident", "tier": 1, "level": "central", "amount": "2000.00"},
    {"id": "TR-1", "type": "transfer", "date": "2025-02-20", "region": WANZHOU, "scheme": "resident", "from": "1003", "to": "1004", "amount": "800.00"},
    {"id": "CL-1", "type": "claim", "date": "2025-03-05", "region": WANZHOU, "scheme": "resident", "tier": 1, "category": "inpatient", "amount": "500.00"},
]


def post(ledger, *raws):
    outcomes = list(ledger.post([read_document(raw) for raw in raws]))
    assert [o.status for o in outcomes] == ["posted"] * len(raws), [str(o.error) for o in outcomes]


def refused(ledger, raw):
    (outcome,) = list(ledger.post([read_document(raw)]))
    assert outcome.status == "rejected"
    return outcome.error


def events_table(ledger):
    return ledger.app.recorder.events_record_cls.__table__


def stored_row(ledger, version, book=BOOK):
    table = events_table(ledger)
    with ledger.engine.connect() as connection:
        return connection.execute(
            select(table).where(table.c.originator_id == book_id(book), table.c.originator_version == version)
        ).one()


def set_state(ledger, version, state, book=BOOK):
    table = events_table(ledger)
    with ledger.engine.begin() as connection:
        connection.execute(
            update(table)
            .where(table.c.originator_id == book_id(book), table.c.originator_version == version)
            .values(state=state)
        )


def delete_event(ledger, version, book=BOOK):
    table = events_table(ledger)
    with ledger.engine.begin() as connection:
        connection.execute(delete(table).where(table.c.originator_id == book_id(book), table.c.originator_version == version))


def findings(ledger, seal_files=()):
    return [f"{f.book}: {f.message}" for f in verify(ledger, seal_files).findings]


# ---------------------------------------------------------------- the chain


def test_every_event_links_to_the_one_before(ledger):
    post(ledger, *STORY)
    reads = read_events(ledger.app, book_id(BOOK))
    events = [read.event for read in reads]
    assert len(events) == 6
    previous = "0" * 64
    for read in reads:
        assert read.link(previous) == read.event.chain
        previous = read.event.chain
    assert ledger.app.book(BOOK).chain_head == events[-1].chain
    report = verify(ledger)
    assert report.agrees, report.findings


def test_a_changed_amount_is_named_as_the_first_broken_link(ledger):
    post(ledger, *STORY)
    # CL-1 is version 6: 500.00 = 50000 fen. Someone makes it 5,000.00 in the stored row.
    state = bytes(stored_row(ledger, 6).state)
    assert b"50000" in state
    set_state(ledger, 6, state.replace(b"50000", b"500000"))
    found = findings(ledger)
    assert f"{BOOK}: chain broken at version 6 (ClaimPaid, document CL-1): the event as stored does not match its link (it was changed after it was recorded, or moved from another place)" in found


def test_a_changed_recorded_time_or_actor_breaks_the_chain_too(ledger):
    post(ledger, *STORY)
    state = json.loads(bytes(stored_row(ledger, 3).state))
    state["actor"] = "someone else"
    set_state(ledger, 3, json.dumps(state).encode())
    assert any("chain broken at version 3 (TransferMade, document SW-1)" in f for f in findings(ledger))


def test_a_deleted_event_is_named(ledger):
    post(ledger, *STORY)
    delete_event(ledger, 4)
    found = findings(ledger)
    assert (
        f"{BOOK}: chain broken after version 3: version 4 missing, the next stored event is version 5 "
        "(TransferMade, document TR-1) (events were deleted)"
    ) in found


def test_two_events_swapped_are_named_at_the_first(ledger):
    post(ledger, *STORY)
    # Swap the stored content of versions 4 (SB-1) and 5 (TR-1).
    fourth, fifth = bytes(stored_row(ledger, 4).state), bytes(stored_row(ledger, 5).state)
    table = events_table(ledger)
    with ledger.engine.begin() as connection:
        for version, state, topic in ((4, fifth, stored_row(ledger, 5).topic), (5, fourth, stored_row(ledger, 4).topic)):
            connection.execute(
                update(table)
                .where(table.c.originator_id == book_id(BOOK), table.c.originator_version == version)
                .values(state=state, topic=topic)
            )
    found = findings(ledger)
    assert any(f.startswith(f"{BOOK}: chain broken at version 4 (TransferMade, document TR-1)") for f in found), found


def test_a_truncated_log_is_named_from_the_registry_and_the_projections(ledger):
    post(ledger, *STORY)
    delete_event(ledger, 6)
    found = findings(ledger)
    assert f"{BOOK}: the log ends at version 5 but document CL-1 wrote version 6: events were removed from the end" in found
    assert f"{BOOK}: projection counted 6 events, replay 5" in found


# ---------------------------------------------------------------- vouchers


def test_vouchers_are_consecutive_per_book_and_month(ledger):
    post(ledger, *STORY)
    got = [(e.document_id, e.effective_date[:7], e.voucher) for e in list(ledger.app.events.get(book_id(BOOK)))[1:]]
    assert got == [
        ("CT-1", "2025-01", 1),
        ("SW-1", "2025-01", 2),
        ("SB-1", "2025-02", 1),
        ("TR-1", "2025-02", 2),
        ("CL-1", "2025-03", 1),
    ]
    # A back-dated document takes the next number of its own month: 2025-01 #3.
    post(ledger, {"id": "CT-2", "type": "contribution", "date": "2025-01-20", "region": WANZHOU, "scheme": "resident", "tier": 1, "amount": "10.00"})
    (line,) = [r for r in _lines(ledger) if r.document_id == "CT-2" and r.account == "1002"]
    assert (line.period, line.voucher) == ("2025-01", 3)


def _lines(ledger):
    from ledger.projections import tables

    with ledger.engine.connect() as connection:
        return connection.execute(select(tables.lines).order_by(tables.lines.c.notification_id, tables.lines.c.line)).all()


# ---------------------------------------------------------------- period close


MONTH_CLOSE = {"type": "month_close", "region": WANZHOU, "scheme": "resident", "year": 2025}


def test_a_closed_month_refuses_postings_dated_in_it_and_reopening_needs_a_reason(ledger):
    post(ledger, *STORY)
    # Months close in order.
    error = refused(ledger, {**MONTH_CLOSE, "id": "MC-2", "month": 2})
    assert isinstance(error, PeriodClosedError)
    assert "months close in order: close 2025-01 of book 500101/resident/2025 before 2025-02" in str(error)
    post(ledger, {**MONTH_CLOSE, "id": "MC-1", "month": 1}, {**MONTH_CLOSE, "id": "MC-2", "month": 2})
    late = {"id": "CT-9", "type": "contribution", "date": "2025-02-27", "region": WANZHOU, "scheme": "resident", "tier": 1, "amount": "10.00"}
    error = refused(ledger, late)
    assert isinstance(error, PeriodClosedError) and error.field == "date"
    assert "2025-02-27 falls in 2025-02, which is closed in book 500101/resident/2025" in str(error)
    # Reopening without a reason is refused by the reader.
    with pytest.raises(Exception, match="reason"):
        read_document({"id": "RO-1", "type": "period_reopen", "region": WANZHOU, "scheme": "resident", "year": 2025, "month": 2})
    reopen = {
        "id": "RO-1", "type": "period_reopen", "actor": "李审核", "region": WANZHOU, "scheme": "resident",
        "year": 2025, "month": 2, "reason": "漏记2月缴费",
    }
    post(ledger, reopen)
    post(ledger, late)
    # January stays closed.
    error = refused(ledger, {**late, "id": "CT-10", "date": "2025-01-15"})
    assert "2025-01-15 falls in 2025-01, which is closed" in str(error)
    rows = _periods(ledger)
    assert [(r.action, r.period, r.actor, r.reason) for r in rows] == [
        ("close", "2025-01", "unknown", ""),
        ("close", "2025-02", "unknown", ""),
        ("reopen", "2025-02", "李审核", "漏记2月缴费"),
    ]
    assert verify(ledger).agrees


def _periods(ledger):
    from ledger.projections import tables

    with ledger.engine.connect() as connection:
        return connection.execute(select(tables.periods).order_by(tables.periods.c.notification_id)).all()


def test_a_reopened_year_closes_again_and_carries_only_the_difference(ledger):
    post(ledger, *STORY)
    close = {"id": "YC-1", "type": "year_close", "region": WANZHOU, "scheme": "resident", "year": 2025}
    post(ledger, close)
    late = {"id": "IN-1", "type": "interest", "date": "2025-12-31", "region": WANZHOU, "scheme": "resident", "account": "1003", "tier": 1, "amount": "12.34"}
    assert isinstance(refused(ledger, late), PeriodClosedError)
    post(
        ledger,
        {"id": "RO-Y", "type": "period_reopen", "actor": "王科长", "region": WANZHOU, "scheme": "resident", "year": 2025, "reason": "年末利息漏记"},
        late,
        {**close, "id": "YC-2"},
    )
    # By hand: after the first close the 2026 book opened with 1003 2,200.00 (1,000 + 2,000 − 800),
    # 1004 300.00 (800 − 500) and 3001:1 Cr 2,500.00 (1,000 + 2,000 − 500). The interest adds 12.34
    # to 1003 and, once closed again, to 3001:1; the second carry brings only that difference.
    rows = queries.book_balances(ledger.engine, book_id(BookKey(WANZHOU, "resident", 2026)).hex)
    assert {(r.account, r.tier): r.balance_fen for r in rows if r.balance_fen} == {
        ("1003", 0): 221234,
        ("1004", 0): 30000,
        ("3001", 1): -251234,
    }
    closed = queries.book_balances(ledger.engine, book_id(BOOK).hex)
    assert all(r.balance_fen == 0 for r in closed if r.account[0] in "45")
    assert verify(ledger).agrees


# ---------------------------------------------------------------- seals


def _keys(tmp_path):
    runner = CliRunner()
    result = runner.invoke(app, ["seal", "keygen", "--out", str(tmp_path / "keys")])
    assert result.exit_code == 0, result.output
    return tmp_path / "keys" / "seal.key", tmp_path / "keys" / "seal.pub"


def test_a_year_close_issues_a_seal_that_verify_proves(ledger, tmp_path):
    post(ledger, *STORY, {"id": "YC-1", "type": "year_close", "region": WANZHOU, "scheme": "resident", "year": 2025})
    (seal,) = stored(ledger.engine, str(BOOK))
    payload = seal.payload
    # By hand: 6 events of the story + the close (7); the close posts 4001.01:1 Dr 1,000, 4101.01:1 Dr 2,000,
    # 5001.01:1 Cr 500, 3001:1 Cr 2,500: 4 lines, after 10 lines of the story (two per document).
    # Debits: 1,000 + 1,000 + 2,000 + 800 + 500 = 5,300.00 in the story, + 3,000.00 in the close.
    assert (payload["period"], payload["version"], payload["lines"], payload["debit_total_fen"]) == ("2025", 7, 14, 830000)
    assert payload["balances"] == {"1003:0": 220000, "1004:0": 30000, "3001:1": -250000}
    assert payload["vouchers"] == {"2025-01": 2, "2025-02": 2, "2025-03": 1, "2025-12": 1}
    assert payload["chain_head"] == ledger.app.book(BOOK).chain_head
    private_key, public_key = _keys(tmp_path)
    signed = sign(payload, private_key)
    (tmp_path / "seal.json").write_text(json.dumps(signed))
    assert findings(ledger, [payload]) == []


def test_a_seal_file_catches_a_rewritten_and_rechained_history(ledger, tmp_path):
    """The strongest attacker changes a claim, recomputes every later link, rebuilds the projections and the stored seal.

    Only a seal kept outside the database can then tell.
    """
    post(ledger, *STORY, {"id": "YC-1", "type": "year_close", "region": WANZHOU, "scheme": "resident", "year": 2025})
    private_key, public_key = _keys(tmp_path)
    runner = CliRunner()
    seal_file = tmp_path / "wanzhou-2025.seal.json"
    exported = runner.invoke(app, ["seal", "export", "--db", ledger.url, "--book", str(BOOK), "--key", str(private_key), "--out", str(seal_file)])
    assert exported.exit_code == 0, exported.output
    _rechain_with_claim(ledger, "50000", "40000")
    # The chain holds again and the projections follow the forged events once rebuilt, with the stored seal forged too.
    from ledger.seals import seals as seal_table

    with ledger.engine.begin() as connection:
        connection.execute(delete(seal_table))
    ledger.projector.rebuild()
    forged = findings(ledger)
    assert not any("chain broken" in f for f in forged), forged
    checked = runner.invoke(app, ["verify", "--db", ledger.url, "--seal", str(seal_file), "--public-key", str(public_key)])
    assert checked.exit_code == 1
    shown = " ".join(checked.output.split())
    assert f"{BOOK} (seal file of 2025): chain head at version 7 is" in shown
    # By hand: the claim was 500.00 and is now 400.00, so the debit turnover falls by 100.00 (the claim's
    # debit; the close's 5001.01 and 3001 lines are credits): 8,300.00 − 100.00. The payment account keeps
    # 800 − 400 = 400.00 instead of 300.00, and the fund 3,000 − 400 = 2,600.00 instead of 2,500.00 (credit).
    assert f"{BOOK} (seal file of 2025): debit turnover 8200.00, the seal says 8300.00" in shown
    assert f"{BOOK} (seal file of 2025): balance 1004:0 is 400.00, the seal says 300.00" in shown
    assert f"{BOOK} (seal file of 2025): balance 3001:1 is -2600.00, the seal says -2500.00" in shown


def _rechain_with_claim(ledger, old: str, new: str) -> None:
    """Rewrite CL-1's amount (and the close that follows from it) and recompute every link from there."""
    mapper = ledger.app.mapper
    table = events_table(ledger)
    events = list(ledger.app.events.get(book_id(BOOK)))
    previous = events[4].chain
    for event in events[5:]:
        fields = dict(vars(event))
        fields["postings"] = [
            [a, t, (-int(new) if v == -int(old) else int(new) if v == int(old) else v)] for a, t, v in event.postings
        ]
        if type(event).__name__ == "YearClosed":
            # The forger keeps the close consistent: 3001:1 takes 100.00 more.
            fields["postings"] = [[a, t, v - 10000 if a == "3001" else v] for a, t, v in fields["postings"]]
        fields["chain"] = chain_hash(previous, type(event).__name__, fields)
        forged = type(event)(**fields)
        previous = forged.chain
        with ledger.engine.begin() as connection:
            connection.execute(
                update(table)
                .where(table.c.originator_id == book_id(BOOK), table.c.originator_version == event.originator_version)
                .values(state=mapper.to_stored_event(forged).state)
            )


def test_a_seal_file_that_was_edited_is_refused(ledger, tmp_path):
    post(ledger, *STORY, {"id": "YC-1", "type": "year_close", "region": WANZHOU, "scheme": "resident", "year": 2025})
    private_key, public_key = _keys(tmp_path)
    (seal,) = stored(ledger.engine, str(BOOK))
    signed = sign(seal.payload, private_key)
    signed["seal"]["debit_total_fen"] = 1
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(signed))
    result = CliRunner().invoke(app, ["verify", "--db", ledger.url, "--seal", str(path)])
    assert result.exit_code == 1
    shown = " ".join(result.output.split())
    assert "field 'signature': the signature of" in shown and "does not match its content: the file was altered [seal]" in shown


def test_a_sealed_month_close_and_the_truncated_log_it_reveals(ledger):
    post(ledger, *STORY, {**MONTH_CLOSE, "id": "MC-1", "month": 1, "seal": True})
    (seal,) = stored(ledger.engine, str(BOOK))
    # By hand: Opened, CT-1, SW-1, SB-1, TR-1, CL-1, then the month close is version 7.
    assert (seal.period, seal.version) == ("2025-01", 7)
    delete_event(ledger, 7)
    found = findings(ledger)
    assert f"{BOOK} (stored seal of 2025-01): the store has 6 events of the book; the seal covers 7: events were removed" in found


def test_period_commands_close_reopen_and_list_with_the_reopener(ledger):
    post(ledger, *STORY)
    runner = CliRunner()
    db = ["--db", ledger.url]
    assert runner.invoke(app, ["period", "close", WANZHOU, "resident", "2025", "2", *db]).exit_code == 1  # January first
    assert runner.invoke(app, ["period", "close", WANZHOU, "resident", "2025", "1", *db]).exit_code == 0
    reopened = runner.invoke(app, ["period", "reopen", WANZHOU, "resident", "2025", "--month", "1", "--reason", "补记利息", "--actor", "赵主任", *db])
    assert reopened.exit_code == 0, reopened.output
    assert runner.invoke(app, ["period", "close", WANZHOU, "resident", "2025", "1", *db]).exit_code == 0
    shown = runner.invoke(app, ["period", "history", WANZHOU, "resident", "2025", "--json", *db])
    rows = json.loads(shown.stdout)
    assert [(r["action"], r["period"], r["actor"], r["reason"]) for r in rows] == [
        ("close", "2025-01", rows[0]["actor"], ""),
        ("reopen", "2025-01", "赵主任", "补记利息"),
        ("close", "2025-01", rows[2]["actor"], ""),
    ]


# ---------------------------------------------------------------- the registry and the dated projection


def test_a_changed_registry_hash_and_a_deleted_registry_row_are_named(ledger):
    from ledger import registry

    post(ledger, *STORY)
    table = registry.documents
    with ledger.engine.begin() as connection:
        connection.execute(update(table).where(table.c.document_id == "SB-1").values(content_hash="f" * 64))
        connection.execute(delete(table).where(table.c.document_id == "TR-1"))
    found = findings(ledger)
    assert any(
        f.startswith(f"{BOOK}: the document registry gives SB-1 content hash ffffffffffffffff…, the event at version 4 (SubsidyAllocated, document SB-1) says")
        for f in found
    ), found
    assert f"{BOOK}: the document registry has no row for version 5 (TransferMade, document TR-1): a re-sent document would post twice" in found


def test_a_changed_posting_line_in_the_dated_projection_is_named(ledger):
    from ledger.projections import tables

    post(ledger, *STORY)
    lines = tables.lines
    with ledger.engine.begin() as connection:
        connection.execute(
            update(lines).where(lines.c.document_id == "CL-1", lines.c.account == "1004").values(amount_fen=-40000)
        )
    # By hand: 1004 was funded 800.00 and paid 500.00: 300.00; with the claim's credit line made 400.00, the lines say 400.00.
    assert f"{BOOK}: 1004:0: replay 300.00, posting lines (proj_lines) 400.00" in findings(ledger)


def test_a_document_id_with_backslashes_reaches_the_dated_projection_intact(ledger):
    """PostgreSQL writes posting lines with COPY, whose text format gives the backslash a meaning."""
    document_id = "WZ\\2025\\CT\\n-1"
    post(ledger, {**STORY[0], "id": document_id})
    assert {row.document_id for row in _lines(ledger)} == {document_id}
    assert verify(ledger).agrees


# ---------------------------------------------------------------- every row of every table is proved


def _tamper(ledger, statement):
    with ledger.engine.begin() as connection:
        connection.execute(statement)


def _closed_story(ledger):
    post(ledger, *STORY, {"id": "YC-1", "type": "year_close", "region": WANZHOU, "scheme": "resident", "year": 2025})
    assert verify(ledger).agrees


def _tamperings():
    from ledger import registry
    from ledger.projections import tables
    from ledger.seals import seals as seal_table

    hexadecimal = book_id(BOOK).hex
    b, ln, f = tables.balances, tables.lines, tables.fiscal_accounts
    return {
        # By hand: the year close sets the book's closed flag.
        "books closed": (update(tables.books).where(tables.books.c.book_id == hexadecimal).values(closed=False), "closed is 0, the events give True"),
        "books region": (update(tables.books).where(tables.books.c.book_id == hexadecimal).values(region="500102"), "region is '500102', the events give '500101'"),
        "periods deleted": (delete(tables.periods).where(tables.periods.c.book_id == hexadecimal), "proj_periods has no row (notification_id="),
        "lines date": (
            update(ln).where(ln.c.document_id == "CL-1", ln.c.account == "1004").values(effective_date="2025-03-06"),
            "effective_date is '2025-03-06', the events give '2025-03-05'",
        ),
        "lines voucher": (update(ln).where(ln.c.document_id == "CL-1").values(voucher=2), "voucher is 2, the events give 1"),
        # March holds only CL-1: Dr 5001.01:1 500.00, so the month's debit is 50,000 fen.
        "months debit": (
            update(tables.months).where(tables.months.c.book_id == hexadecimal, tables.months.c.month == "2025-03",
                                        tables.months.c.account == "5001.01").values(debit_fen=50001),
            "debit_fen is 50001, the events give 50000",
        ),
        # Receipts of 1003 in 2025: SW-1 1,000.00 + SB-1 2,000.00 = 300,000 fen.
        "fiscal receipts": (
            update(f).where(f.c.region == WANZHOU, f.c.year == 2025).values(receipts_fen=300001),
            "receipts_fen is 300001, the events give 300000",
        ),
        # The close credits 3001:1 with 2,500.00 (1,000 + 2,000 − 500).
        "balances closed": (
            update(b).where(b.c.book_id == hexadecimal, b.c.account == "3001").values(closed_fen=0),
            "closed_fen is 0, the events give -250000",
        ),
        # 1002 received 1,000.00 and swept it out: a zero balance whose row still follows from the events.
        "zero balance deleted": (
            delete(b).where(b.c.book_id == hexadecimal, b.c.account == "1002"),
            f"proj_balances has no row (book_id='{hexadecimal}', account='1002', tier=0)",
        ),
        "document type": (
            update(registry.documents).where(registry.documents.c.document_id == "CL-1").values(document_type="journal"),
            "the document registry gives CL-1 type 'journal', but version 6 (ClaimPaid, document CL-1) is written only by claim",
        ),
        "reversed by": (
            update(registry.documents).where(registry.documents.c.document_id == "CT-1").values(reversed_by="X-1"),
            "the document registry says CT-1 is reversed by 'X-1', but no event of 'X-1' reverses it",
        ),
        "seal period": (update(seal_table).values(period="2024"), "ledger_seals row says period '2024', its payload says '2025'"),
        "seal document": (update(seal_table).values(document_id="YC-2"), "ledger_seals row says document_id 'YC-2', its payload says 'YC-1'"),
        "seal version": (update(seal_table).values(version=8), "ledger_seals row says version 8, its payload says 7"),
        "tracking deleted": (delete(tables.tracking), "proj_tracking has no row named 'ledger_projections': the projections' position was deleted"),
        "tracking renamed": (update(tables.tracking).values(name="other"), "(it holds 'other' instead: renamed?)"),
    }


@pytest.mark.parametrize("kind", list(_tamperings()))
def test_verify_names_a_changed_or_deleted_row_of_every_table(ledger, kind):
    _closed_story(ledger)
    statement, expected = _tamperings()[kind]
    _tamper(ledger, statement)
    found = findings(ledger)  # never a crash
    assert any(expected in line for line in found), found
