"""Rebuild: one transaction over many pages, the live projection's rows, and its lean decoding equal to the plain one."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import inspect, select

from ledger import bulk
from ledger.documents import read_document
from ledger.projections import projector, tables
from ledger.projections.projector import recorded_text, stored_attributes


def _contribution(number: int, amount: str, region: str) -> object:
    return read_document(
        {"id": f"C-{number}", "type": "contribution", "date": "2012-01-05", "region": region,
         "scheme": "resident", "tier": 1, "amount": amount}
    )


def _month_close(region: str) -> object:
    return read_document({"id": f"MC-{region}", "type": "month_close", "region": region, "scheme": "resident", "year": 2012, "month": 1})


def _snapshot(ledger) -> dict[str, list[tuple]]:  # type: ignore[no-untyped-def]
    with ledger.engine.connect() as connection:
        return {
            table.name: sorted(tuple(row) for row in connection.execute(select(table)))
            for table in (*tables.PROJECTION_TABLES, tables.tracking)
        }


def _post_two_books(ledger) -> None:  # type: ignore[no-untyped-def]
    # Contributions of 1.00 to 6.00 yuan, alternately to two districts' resident books, then each book's January closed:
    # 2 books opened + 6 postings events + 2 month closes = 10 events, 12 posting lines.
    documents = [_contribution(n, f"{n}.00", region) for n, region in enumerate(["500101", "500103"] * 3, start=1)]
    outcomes = list(ledger.post([*documents, _month_close("500101"), _month_close("500103")]))
    assert [o.status for o in outcomes] == ["posted"] * 8


def test_a_rebuild_in_pages_of_three_gives_the_rows_of_the_live_projection(ledger, monkeypatch):
    _post_two_books(ledger)
    live = _snapshot(ledger)
    monkeypatch.setattr(projector, "REBUILD_PAGE_NOTIFICATIONS", 3)
    assert ledger.projector.rebuild() == ledger.projector.log_head() == 10
    rebuilt = _snapshot(ledger)
    assert rebuilt == live
    # By hand: 1+3+5 = 9.00 yuan to 500101 and 2+4+6 = 12.00 yuan to 500103, each debited to one account and
    # credited to another.
    assert sorted(row[3] for row in rebuilt["proj_balances"] if row[3]) == [900, 1200]
    assert sorted(row[4] for row in rebuilt["proj_balances"] if row[4]) == [900, 1200]
    assert len(rebuilt["proj_lines"]) == 12
    assert [row[2] for row in rebuilt["proj_periods"]] == ["close", "close"]
    assert rebuilt["proj_tracking"] == [(projector.PROJECTION_NAME, 10)]
    indexed = {index["name"] for index in inspect(ledger.engine).get_indexes(tables.lines.name)}
    assert {index.name for index in tables.lines.indexes} <= indexed


def test_a_rebuild_that_fails_part_way_leaves_the_previous_projections_and_position(ledger, monkeypatch):
    _post_two_books(ledger)
    before = _snapshot(ledger)
    monkeypatch.setattr(projector, "REBUILD_PAGE_NOTIFICATIONS", 3)
    written = []

    def fails_on_the_third_page(connection, deltas):  # type: ignore[no-untyped-def]
        written.append(len(deltas.lines))
        if len(written) == 3:
            raise RuntimeError("the disk is full")
        bulk.insert_rows(connection, tables.lines.name, projector.LINE_COLUMNS, deltas.lines)

    monkeypatch.setattr(projector, "_write_dated", fails_on_the_third_page)
    with pytest.raises(RuntimeError, match="the disk is full"):
        ledger.projector.rebuild()
    monkeypatch.undo()
    assert len(written) == 3
    # The tables, their rows, the lines' index and the position are those of before the rebuild.
    assert _snapshot(ledger) == before
    indexed = {index["name"] for index in inspect(ledger.engine).get_indexes(tables.lines.name)}
    assert {index.name for index in tables.lines.indexes} <= indexed
    assert ledger.projector.rebuild() == 10
    assert _snapshot(ledger) == before


STORED = {
    "timestamp": {"_type_": "datetime_iso", "_data_": "2026-11-30T05:02:02.547162+00:00"},
    "document_id": "2013-500101-asubsidy-000494",
    "effective_date": "2013-01-02",
    "actor": "审核员",
    "postings": [["1003", 0, 2**70], ["4101.01", 0, -(2**70)]],
    "computation": {"rule": "claims.inpatient", "rate": 0.6, "steps": [{"value": "60%"}], "big": 2**80},
    "content_hash": "e7e9",
    "voucher": 2**65,
    "chain": "f459",
}


def test_stored_attributes_give_the_fields_the_fold_reads_as_json_loads_gives_them():
    state = json.dumps(STORED, ensure_ascii=False).encode("utf-8")
    plain = json.loads(state)
    for form in (state, state.decode("utf-8"), memoryview(state)):
        decoded = stored_attributes(form, 7)
        assert decoded["originator_version"] == 7
        assert decoded["timestamp"]["_data_"] == plain["timestamp"]["_data_"]
        for name in ("document_id", "effective_date", "actor", "voucher"):
            assert decoded[name] == plain[name]
        # Integers past 64 bits stay exact integers.
        assert [list(row) for row in decoded["postings"]] == [["1003", 0, 1180591620717411303424], ["4101.01", 0, -1180591620717411303424]]
        assert type(decoded["voucher"]) is int


def test_a_stored_state_of_other_types_is_decoded_whole_as_before():
    # An amount stored as text and a voucher as a float do not fit the lean decoder: json.loads takes them, and the
    # postings are typed as postings_from_rows types them.
    state = json.dumps({**STORED, "postings": [["1003", "0", "1250"], ["1004", 0, -1250]], "voucher": 3.0}).encode()
    decoded = stored_attributes(state, 2)
    assert decoded["postings"] == [("1003", 0, 1250), ("1004", 0, -1250)]
    assert decoded["voucher"] == 3.0 and decoded["computation"] == STORED["computation"]
    with pytest.raises(json.JSONDecodeError):
        stored_attributes(b'{"postings": [', 1)


@pytest.mark.parametrize(
    ("recorded", "text"),
    [
        (datetime(2026, 11, 30, 5, 2, 2, 547033, tzinfo=timezone.utc), "2026-11-30T05:02:02.547033+00:00"),
        # isoformat() leaves the microseconds out when they are zero.
        (datetime(2026, 11, 30, 5, 2, 2, tzinfo=timezone.utc), "2026-11-30T05:02:02.000000+00:00"),
        (datetime(2026, 11, 30, 13, 2, 2, 500000, tzinfo=timezone(timedelta(hours=8))), "2026-11-30T05:02:02.500000+00:00"),
    ],
)
def test_the_recorded_time_from_stored_text_is_the_fixed_width_utc_text(recorded, text):
    assert recorded_text({"_type_": "datetime_iso", "_data_": recorded.isoformat()}) == text
    assert recorded_text(recorded) == text


@pytest.mark.parametrize(
    "rows",
    [
        [(1, 0, "a3f0", "ClaimPaid", "2013-01-02", -1250), (2, 1, "住院", "x", "", 2**70)],
        [(1, 0, "tab\there", "k", "d", 5)],
        [(1, 0, "line\nbreak", "k", "d", 5)],
        [(1, 0, "back\\slash", "k", "d", 5), (2, 0, "cr\r", "k", "d", 5)],
        [(1, 0, None, "k", "d", 5)],
        [(1, 0, "a", True, "d", 5)],
        [(1, 0, b"\x00\xff", "k", "d", 5)],
        [[1, 0, "a", "k", "d", 5]],
    ],
)
def test_copy_text_is_the_text_of_copy_field_value_by_value(rows):
    expected = "".join("\t".join(bulk.copy_field(value) for value in row) + "\n" for row in rows)
    assert bulk.copy_text(rows, 6) == expected


def test_a_log_whose_book_posts_before_its_opening_is_refused_by_name_and_the_projections_stay(store_url):
    """An Opened event deleted outside the ledger: rebuild --force says which book and what to do, exit 1, no traceback."""
    from sqlalchemy import text
    from typer.testing import CliRunner

    from ledger.cli import app
    from ledger.store import Ledger

    with Ledger(store_url) as ledger:
        # 5.00 received in the 收入户 (1002), 1.00 of it swept to the 财政专户 (1003): a line the rebuild keys by the book's opening.
        sweep = read_document({"id": "SW-1", "type": "transfer", "date": "2012-01-06", "region": "500101", "scheme": "resident",
                               "from": "1002", "to": "1003", "amount": "1.00"})
        outcomes = list(ledger.post([_contribution(1, "5.00", "500101"), sweep]))
        assert [o.status for o in outcomes] == ["posted", "posted"], [str(o.error) for o in outcomes]
        before = _snapshot(ledger)
        table = ledger.app.recorder.events_record_cls.__table__.name
        with ledger.engine.begin() as connection:
            opened = connection.execute(
                text(f"SELECT originator_id FROM {table} WHERE topic LIKE '%Book.Opened' ORDER BY id LIMIT 1")
            ).scalar_one()
            connection.execute(text(f"DELETE FROM {table} WHERE topic LIKE '%Book.Opened' AND originator_id = :book"), {"book": opened})
    result = CliRunner().invoke(app, ["rebuild", "--force", "--db", store_url])
    assert result.exit_code == 1, result.output
    assert "posts before its Opened event" in result.output and "ledger verify" in result.output
    assert "Traceback" not in result.output and not isinstance(result.exception, LookupError)
    with Ledger(store_url) as ledger:
        assert _snapshot(ledger) == before
