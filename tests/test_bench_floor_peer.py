"""The bench's floor writes exactly the rows the ledger wrote; its peer is found, or skipped, from ``PGLEDGER``.

The floor's ratio means something only if it wrote the same rows as the
ledger: every table, every row, every value. Checked on both backends on a
small posted store (the demo at size 1).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from bench import floor, peer
from bench.run import post_in_process
from bench.stores import PostgresBackend, SqliteBackend
from ledger.demo import generate_documents


def _posted(ledger, tmp_path: Path) -> int:
    file = tmp_path / "province.jsonl"
    file.write_text("".join(json.dumps(raw, ensure_ascii=False) + "\n" for raw in generate_documents(size=1, seed=7)),
                    encoding="utf-8")
    return post_in_process(ledger, file).documents


def _rows(connection, table: str) -> Counter:
    cursor = connection.cursor()
    cursor.execute(f'SELECT * FROM "{table}"')
    rows = Counter(tuple(bytes(value) if isinstance(value, memoryview) else value for value in row) for row in cursor.fetchall())
    cursor.close()
    connection.commit()
    return rows


def test_the_floor_writes_every_row_of_every_table_the_ledger_wrote(ledger, store_url, tmp_path):
    documents = _posted(ledger, tmp_path)
    backend = PostgresBackend(store_url) if store_url.startswith("postgresql") else SqliteBackend(tmp_path)
    connection = backend.connect(store_url)
    try:
        tables = floor.read_ledger_rows(connection, backend.name)
        names = {table.name for table in tables}
        # The tables the issue names: events, registry rows, posting lines, balances.
        assert {"ledger_events", "ledger_documents", "proj_lines", "proj_balances", "proj_books"} <= names
        assert all(name.startswith(("ledger_", "proj_")) for name in names)
        counts = {table.name: len(table.rows) for table in tables}
        assert counts["ledger_documents"] == documents
        assert counts["ledger_events"] > 0 and counts["proj_lines"] > 0
        batches = floor.batches_for(documents)
        assert batches == -(-documents // 1000)
        if backend.name == "postgres":
            try:
                floor.postgres_floor(connection, tables, batches)
                for table in tables:
                    assert _rows(connection, floor.FLOOR_PREFIX + table.name) == _rows(connection, table.name), table.name
            finally:
                floor.drop_postgres_copies(connection, tables)
        else:
            target_url = backend.fresh_store("floor")
            target = backend.connect(target_url)
            try:
                floor.sqlite_floor(connection, target, tables, batches)
                for table in tables:
                    assert _rows(target, table.name) == _rows(connection, table.name), table.name
            finally:
                target.close()
    finally:
        connection.close()


def test_batches_are_the_ledgers_batches_of_a_thousand_documents():
    assert floor.batches_for(1) == 1
    assert floor.batches_for(1000) == 1
    assert floor.batches_for(1001) == 2
    assert floor.batches_for(19_426) == 20


def test_the_peer_is_skipped_without_pgledger(monkeypatch):
    monkeypatch.delenv(peer.PGLEDGER_VARIABLE, raising=False)
    assert peer.checkout_from_environment() is None
    monkeypatch.setenv(peer.PGLEDGER_VARIABLE, "  ")
    assert peer.checkout_from_environment() is None


def test_a_folder_without_pgledgers_sql_is_refused_by_name(monkeypatch, tmp_path):
    (tmp_path / "pgledger.sql").write_text("-- not the rest\n", encoding="utf-8")
    monkeypatch.setenv(peer.PGLEDGER_VARIABLE, str(tmp_path))
    with pytest.raises(peer.PeerUnavailable) as refused:
        peer.checkout_from_environment()
    assert str(refused.value) == (
        f"PGLEDGER={tmp_path} is not a pgledger checkout: "
        "vendor/scoville-pgsql-ulid/ulid-to-uuid.sql, vendor/scoville-pgsql-ulid/uuid-to-ulid.sql missing"
    )


def test_a_checkout_with_its_sql_files_is_used(monkeypatch, tmp_path):
    for name in peer.PGLEDGER_SQL_FILES:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("SELECT 1;\n", encoding="utf-8")
    monkeypatch.setenv(peer.PGLEDGER_VARIABLE, str(tmp_path))
    assert peer.checkout_from_environment() == tmp_path
