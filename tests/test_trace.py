"""Tracing figures to their documents and events, and the voucher register (记账凭证).

Expected figures are worked out by hand from the standard entries of
DOMAIN.md §2 (a subsidy is Dr 1003 / Cr 4101.0x, a contribution Dr 1002 /
Cr 4001.01, funding the payment account Dr 1004 / Cr 1003, a claim Dr 5001.0x
/ Cr 1004), never read back from the code. Voucher numbers run from 1 in each
book and month of the effective date, in the order the documents are posted.
"""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone

from sqlalchemy import text
from typer.testing import CliRunner

from ledger.aggregates.book import BookKey, book_id
from ledger.cli import app
from ledger.documents import read_document
from ledger.trace import trace_document, trace_lines
from ledger.vouchers import check_numbers, voucher_register

runner = CliRunner()

WANZHOU = "500101"
RESIDENT = {"region": WANZHOU, "scheme": "resident"}
BOOK = book_id(BookKey(WANZHOU, "resident", 2013)).hex
WHERE = ["--region", WANZHOU, "--scheme", "resident", "--year", "2013"]

# Posted first. Vouchers: 2013-01 #1 S-1, #2 S-2, #3 S-3, #4 C-1, #5 C-2; 2013-02 #1 T-2; 2013-03 #1 CL-1.
FIRST = [
    {"id": "S-1", "type": "subsidy", "date": "2013-01-20", **RESIDENT, "tier": 1, "level": "central", "amount": "2000.00"},
    {"id": "S-2", "type": "subsidy", "date": "2013-01-20", **RESIDENT, "tier": 1, "level": "provincial", "amount": "1500.00"},
    {"id": "S-3", "type": "subsidy", "date": "2013-01-20", **RESIDENT, "tier": 1, "level": "county", "amount": "500.00"},
    {"id": "C-1", "type": "contribution", "date": "2013-01-05", **RESIDENT, "tier": 1, "amount": "1000.00"},
    {"id": "C-2", "type": "contribution", "date": "2013-01-06", **RESIDENT, "tier": 2, "amount": "1200.00"},
    {"id": "T-2", "type": "transfer", "date": "2013-02-01", **RESIDENT, "from": "fiscal", "to": "payment", "amount": "3000.00"},
    {"id": "CL-1", "type": "claim", "date": "2013-03-10", **RESIDENT, "tier": 1, "category": "inpatient", "amount": "1200.00"},
]
# Posted later, back-dated into February and January: 2013-02 #2 CL-B, 2013-01 #6 C-3.
BACK_DATED = [
    {"id": "CL-B", "type": "claim", "date": "2013-02-15", **RESIDENT, "tier": 1, "category": "outpatient", "amount": "500.00"},
    {"id": "C-3", "type": "contribution", "date": "2013-01-10", **RESIDENT, "tier": 1, "amount": "300.00"},
]


def post(ledger, *documents):
    outcomes = list(ledger.post([read_document(d) for d in documents]))
    assert [o.status for o in outcomes] == ["posted"] * len(documents), [str(o.error) for o in outcomes]


def post_with_cutoff(ledger) -> str:
    """Post FIRST, note the time, then post BACK_DATED; return the time between them."""
    post(ledger, *FIRST)
    time.sleep(0.01)
    cutoff = datetime.now(timezone.utc).isoformat()
    time.sleep(0.01)
    post(ledger, *BACK_DATED)
    return cutoff


def invoke(*args: str):
    return runner.invoke(app, list(args))


def test_the_lines_of_an_account_prefix_total_the_balance_the_projections_report(ledger):
    post(ledger, *FIRST)
    trace = trace_lines(ledger.engine, [BOOK], ["4001"])
    # C-1 Cr 4001.01 tier 1 1000.00, C-2 Cr 4001.01 tier 2 1200.00: credits 2200.00, balance −2200.00.
    assert [(r.document_id, r.account, r.tier, r.amount_fen, r.running_balance_fen) for r in trace.rows] == [
        ("C-1", "4001.01", 1, -100000, -100000),
        ("C-2", "4001.01", 2, -120000, -220000),
    ]
    assert (trace.debit_fen, trace.credit_fen, trace.closing_fen) == (0, 220000, -220000)
    assert (trace.projected_credit_fen, trace.projected_balance_fen, trace.stored_balance_fen) == (220000, -220000, -220000)
    assert trace.agrees
    # 4101 covers 4101.01, .02 and .04: 2000.00 + 1500.00 + 500.00 = 4000.00 credit, all tier 1.
    subsidies = trace_lines(ledger.engine, [BOOK], ["4101"], tier=1)
    assert [(r.document_id, r.document_type, r.kind, f"{r.period}#{r.voucher}") for r in subsidies.rows] == [
        ("S-1", "subsidy", "SubsidyAllocated", "2013-01#1"),
        ("S-2", "subsidy", "SubsidyAllocated", "2013-01#2"),
        ("S-3", "subsidy", "SubsidyAllocated", "2013-01#3"),
    ]
    assert subsidies.closing_fen == subsidies.stored_balance_fen == -400000 and subsidies.agrees
    # Tier 2 of 4001 alone: C-2's 1200.00.
    assert trace_lines(ledger.engine, [BOOK], ["4001"], tier=2).closing_fen == -120000


def test_a_trace_across_a_back_dated_document_puts_it_in_date_order_and_known_on_leaves_it_out(ledger):
    cutoff = post_with_cutoff(ledger)
    trace = trace_lines(ledger.engine, [BOOK], ["1004"])
    # T-2 +3000.00 → 3000.00; CL-B (recorded last, dated 15 Feb) −500.00 → 2500.00; CL-1 −1200.00 → 1300.00.
    assert [(r.effective_date, r.document_id, f"{r.period}#{r.voucher}", r.running_balance_fen) for r in trace.rows] == [
        ("2013-02-01", "T-2", "2013-02#1", 300000),
        ("2013-02-15", "CL-B", "2013-02#2", 250000),
        ("2013-03-10", "CL-1", "2013-03#1", 130000),
    ]
    assert trace.rows[1].recorded_at > trace.rows[2].recorded_at  # back-dated: recorded after CL-1
    assert trace.closing_fen == trace.stored_balance_fen == 130000 and trace.agrees

    # As the books stood before the back-dated claim was recorded: 3000.00 − 1200.00 = 1800.00.
    before = trace_lines(ledger.engine, [BOOK], ["1004"], known_on=cutoff)
    assert [r.document_id for r in before.rows] == ["T-2", "CL-1"]
    assert before.closing_fen == before.projected_balance_fen == 180000 and before.agrees
    assert before.stored_balance_fen is None  # proj_balances has no "known on"

    # February alone: brought forward 3000.00 (T-2 is dated 1 Feb, before the 10th), 500.00 out, 2500.00 left.
    february = trace_lines(ledger.engine, [BOOK], ["1004"], since="2013-02-10", through="2013-02-28")
    assert (february.opening_fen, february.debit_fen, february.credit_fen, february.closing_fen) == (300000, 0, 50000, 250000)
    assert february.projected_balance_fen == 250000 and february.agrees


def test_the_trace_command_states_both_totals_and_the_limit_never_cuts_them(ledger, store_url):
    post_with_cutoff(ledger)
    shown = invoke("trace", *WHERE, "--account", "4001", "--tier", "1", "--limit", "1", "--format", "json", "--db", store_url)
    assert shown.exit_code == 0, shown.output
    report = json.loads(shown.stdout)
    # Tier 1 of 4001: C-1 1000.00 (5 Jan) and the back-dated C-3 300.00 (10 Jan): 1300.00 credit.
    assert (report["lines"], report["shown"]) == (2, 1)
    assert [r["document_id"] for r in report["rows"]] == ["C-1"]
    assert (report["credit"], report["closing"], report["projected_balance"], report["stored_balance"]) == (
        "1300.00", "-1300.00", "-1300.00", "-1300.00",
    )
    assert report["agrees"] is True and report["differences"] == []

    table = invoke("trace", *WHERE, "--account", "1004", "--db", store_url)
    assert table.exit_code == 0, table.output
    assert "the 3 lines agree with the projections" in table.output
    assert invoke("trace", *WHERE, "--account", "9999", "--db", store_url).exit_code == 2


def test_a_line_missing_from_the_dated_projection_makes_the_trace_disagree_with_the_stored_balance(ledger, store_url):
    post_with_cutoff(ledger)
    with ledger.engine.begin() as connection:
        connection.execute(text("DELETE FROM proj_lines WHERE document_id = 'CL-B' AND account = '1004'"))
    result = invoke("trace", *WHERE, "--account", "1004", "--db", store_url)
    assert result.exit_code == 1
    # The lines left: T-2 +3000.00, CL-1 −1200.00 = 1800.00; proj_balances still holds 1300.00.
    assert "closing balance: the lines give 1800.00, proj_balances 1300.00; too much by 500.00" in " ".join(result.output.split())


def test_tracing_a_document_shows_its_events_in_each_book_with_vouchers_and_links(ledger, store_url):
    post(
        ledger,
        {"id": "AS-1", "type": "subsidy", "date": "2013-01-05", "region": WANZHOU, "scheme": "assistance",
         "level": "central", "amount": "10000.00"},
        # Tier 2: 60 元 flat for each of 10 recipients, from the assistance book into the resident book.
        {"id": "SP-1", "type": "sponsorship", "date": "2013-01-10", "region": WANZHOU, "tier": 2, "persons": 10, "amount": "600.00"},
    )
    traced = trace_document(ledger, "SP-1")
    assert traced.document_type == "sponsorship"
    # Assistance book: Opened v1, AS-1 v2 (voucher #1), SP-1 v3 (#2). Resident book: Opened v1, SP-1 v2 (#1).
    assert sorted((e.book, e.version, e.kind, e.voucher) for e in traced.events) == [
        ("500101/assistance/2013", 3, "PremiumSponsored", "2013-01#2"),
        ("500101/resident/2013", 2, "PremiumSponsored", "2013-01#1"),
    ]
    assert all(e.link_holds and len(e.link) == 64 and len(e.previous_link) == 64 for e in traced.events)
    postings = {e.book: sorted(e.postings) for e in traced.events}
    assert postings["500101/assistance/2013"] == [("1003", 0, -60000), ("5501", 0, 60000)]
    assert postings["500101/resident/2013"] == [("1003", 0, 60000), ("4001.02", 2, -60000)]

    shown = invoke("trace", "--document", "SP-1", "--format", "json", "--db", store_url)
    assert shown.exit_code == 0, shown.output
    assert {e["voucher"] for e in json.loads(shown.stdout)["events"]} == {"2013-01#1", "2013-01#2"}
    missing = invoke("trace", "--document", "NO-SUCH", "--db", store_url)
    assert missing.exit_code == 1 and "no such document has been posted" in missing.output


def test_the_voucher_register_runs_consecutively_in_every_month(ledger, store_url):
    post_with_cutoff(ledger)
    register = voucher_register(ledger.engine, BOOK)
    assert [(v.period, v.number, v.document_id, v.debit_fen) for v in register.vouchers] == [
        ("2013-01", 1, "S-1", 200000),
        ("2013-01", 2, "S-2", 150000),
        ("2013-01", 3, "S-3", 50000),
        ("2013-01", 4, "C-1", 100000),
        ("2013-01", 5, "C-2", 120000),
        ("2013-01", 6, "C-3", 30000),  # back-dated to 10 January, numbered when it was posted
        ("2013-02", 1, "T-2", 300000),
        ("2013-02", 2, "CL-B", 50000),
        ("2013-03", 1, "CL-1", 120000),
    ]
    assert [p.describe() for p in register.proofs] == [
        "2013-01: vouchers 1–6, consecutive, none missing",
        "2013-02: vouchers 1–2, consecutive, none missing",
        "2013-03: voucher 1, consecutive, none missing",
    ]
    shown = invoke("vouchers", *WHERE, "--month", "2", "--format", "json", "--db", store_url)
    assert shown.exit_code == 0, shown.output
    report = json.loads(shown.stdout)
    assert [(v["voucher"], v["document_id"], v["debit"]) for v in report["vouchers"]] == [
        ("2013-02#1", "T-2", "3000.00"),
        ("2013-02#2", "CL-B", "500.00"),
    ]
    assert report["holds"] is True


def test_the_register_reads_page_after_page_the_same(ledger, monkeypatch):
    post_with_cutoff(ledger)
    whole = voucher_register(ledger.engine, BOOK)
    monkeypatch.setattr("ledger.vouchers.PAGE_SIZE_VOUCHERS", 2)
    paged = voucher_register(ledger.engine, BOOK, limit=4)
    # Nine vouchers, read two at a time; four listed, all nine proven.
    assert paged.vouchers == whole.vouchers[:4]
    assert (paged.voucher_count, paged.complete) == (9, False)
    assert [p.describe() for p in paged.proofs] == [p.describe() for p in whole.proofs]


def test_the_register_names_a_gap_a_duplicate_and_an_unbalanced_voucher_made_in_the_projection(ledger, store_url):
    post_with_cutoff(ledger)
    with ledger.engine.begin() as connection:
        # S-2 (2013-01 #2) disappears from the projection: both its lines.
        connection.execute(text("DELETE FROM proj_lines WHERE document_id = 'S-2'"))
        # C-3 (2013-01 #6) is renumbered #5, the number C-2 already has.
        connection.execute(text("UPDATE proj_lines SET voucher = 5 WHERE document_id = 'C-3'"))
        # One of CL-1's two lines (2013-03 #1) disappears: the voucher no longer balances.
        connection.execute(text("DELETE FROM proj_lines WHERE document_id = 'CL-1' AND account = '1004'"))
    result = invoke("vouchers", *WHERE, "--db", store_url)
    assert result.exit_code == 1
    output = " ".join(result.output.split())
    # January: #1, #3, #4, #5 (C-2), #5 (C-3): five vouchers up to #5, #2 missing, #5 used twice.
    assert "2013-01: 5 vouchers numbered up to #5: missing #2; used twice #5" in output
    assert "2013-02: vouchers 1–2, consecutive, none missing" in output
    assert "2013-03: 1 voucher numbered up to #1: unbalanced #1" in output
    assert "`ledger verify` proves the voucher numbers from the events themselves" in output


def test_check_numbers_finds_every_gap_and_duplicate():
    assert check_numbers("2013-05", [1, 2, 3]).describe() == "2013-05: vouchers 1–3, consecutive, none missing"
    proof = check_numbers("2013-05", [2, 3, 3, 7])
    assert (proof.count, proof.last, proof.missing, proof.duplicates) == (4, 7, [(1, 1), (4, 6)], [3])
    assert proof.describe() == "2013-05: 4 vouchers numbered up to #7: missing #1, #4–#6; used twice #3"
    assert check_numbers("2013-05", []).describe() == "2013-05: no vouchers"
