"""The floor: the bare driver writing exactly the rows the ledger wrote, a transaction per batch (issue 13).

After the ledger has posted the province file, every row of every table it
wrote (``ledger_*`` and ``proj_*``: events, snapshots, the document
registry, posting lines, balances, books, fiscal accounts, periods,
tracking, and any table added later under those prefixes) is read back from
its own store. The floor then writes those rows into empty copies of the
same tables (same columns, types, keys and indexes), split into as many
transactions as the ledger had batches (``ceil(documents /
BATCH_SIZE_DOCUMENTS)``), each transaction taking the next share of every
table's rows: ``COPY … FROM STDIN`` on PostgreSQL (the text built from the
Python values inside the timing, as a writer must), ``executemany`` on
SQLite (WAL mode). The time is the whole write, commits included.

It writes each row once, where the ledger upserts a balance row on every
batch that moves it: that is the floor's point, what the same rows cost with
nothing else to do. The rows are read back, not described here, so the
floor follows whatever the ledger writes.
"""

from __future__ import annotations

import io
import math
import sqlite3
import time
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

from bench.baselines import copy_text
from ledger.application import BATCH_SIZE_DOCUMENTS

TABLE_PREFIXES = ("ledger_", "proj_")
FLOOR_PREFIX = "bench_floor_"


@dataclass(frozen=True)
class TableRows:
    name: str
    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]]


@dataclass(frozen=True)
class FloorFigures:
    tables: dict[str, int]  # rows per table
    batches: int
    seconds: float

    @property
    def rows(self) -> int:
        return sum(self.tables.values())


def batches_for(documents: int) -> int:
    """How many transactions the ledger used for ``documents`` documents (one per batch of ``BATCH_SIZE_DOCUMENTS``)."""
    return max(1, math.ceil(documents / BATCH_SIZE_DOCUMENTS))


def read_ledger_rows(connection: Any, backend: str) -> list[TableRows]:
    """Every row of every table of the ledger's store (``TABLE_PREFIXES``), in storage order, as the driver returns them."""
    if backend == "postgres":
        names = _postgres_tables(connection)
    else:
        names = [name for (name,) in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name") if name.startswith(TABLE_PREFIXES)]
    result = []
    for name in names:
        cursor = connection.cursor()
        cursor.execute(f'SELECT * FROM "{name}"')
        columns = tuple(description[0] for description in cursor.description)
        rows = [tuple(bytes(value) if isinstance(value, memoryview) else value for value in row) for row in cursor.fetchall()]
        cursor.close()
        result.append(TableRows(name, columns, rows))
    connection.commit()
    return result


def _postgres_tables(connection: Any) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename")
        return [name for (name,) in cursor.fetchall() if name.startswith(TABLE_PREFIXES)]


def _shares(rows: list[tuple[Any, ...]], batches: int) -> list[list[tuple[Any, ...]]]:
    size = max(1, math.ceil(len(rows) / batches))
    return [rows[index * size:(index + 1) * size] for index in range(batches)]


# ------------------------------------------------------------ PostgreSQL


def postgres_floor(connection: Any, tables: list[TableRows], batches: int) -> float:
    """Seconds to ``COPY`` every table's rows into empty copies of the tables, ``batches`` transactions."""
    _create_postgres_copies(connection, tables)
    shares = {table.name: _shares(table.rows, batches) for table in tables}
    started = time.perf_counter()
    with connection.cursor() as cursor:
        for batch in range(batches):
            for table in tables:
                rows = shares[table.name][batch]
                if not rows:
                    continue
                buffer = io.StringIO()
                write = buffer.write
                for row in rows:
                    write("\t".join(_copy_value(value) for value in row))
                    write("\n")
                buffer.seek(0)
                columns = ", ".join(f'"{column}"' for column in table.columns)
                cursor.copy_expert(f'COPY "{FLOOR_PREFIX}{table.name}" ({columns}) FROM STDIN', buffer)
            connection.commit()
    seconds = time.perf_counter() - started
    _check_counts(connection, tables)
    return seconds


def _copy_value(value: Any) -> str:
    """One value in COPY's text format."""
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, (bytes, bytearray)):
        return "\\\\x" + value.hex()
    if isinstance(value, str):
        return copy_text(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (int, float, UUID)):
        return str(value)
    return copy_text(str(value))


def _create_postgres_copies(connection: Any, tables: list[TableRows]) -> None:
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f'DROP TABLE IF EXISTS "{FLOOR_PREFIX}{table.name}"')
            cursor.execute(f'CREATE TABLE "{FLOOR_PREFIX}{table.name}" (LIKE "{table.name}" INCLUDING DEFAULTS INCLUDING INDEXES)')
    connection.commit()


def drop_postgres_copies(connection: Any, tables: list[TableRows]) -> None:
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f'DROP TABLE IF EXISTS "{FLOOR_PREFIX}{table.name}"')
    connection.commit()


# ------------------------------------------------------------ SQLite


def sqlite_floor(source: sqlite3.Connection, target: sqlite3.Connection, tables: list[TableRows], batches: int) -> float:
    """Seconds to ``executemany`` every table's rows into a fresh file with the same schema, ``batches`` transactions."""
    target.execute("PRAGMA journal_mode=WAL")
    names = {table.name for table in tables}
    for name, statement in source.execute(
        "SELECT tbl_name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY type DESC, name"
    ):
        if name in names:
            target.execute(statement)
    target.commit()
    shares = {table.name: _shares(table.rows, batches) for table in tables}
    statements = {
        table.name: f'INSERT INTO "{table.name}" ({", ".join(table.columns)}) VALUES ({", ".join("?" * len(table.columns))})'
        for table in tables
    }
    started = time.perf_counter()
    for batch in range(batches):
        for table in tables:
            rows = shares[table.name][batch]
            if rows:
                target.executemany(statements[table.name], rows)
        target.commit()
    seconds = time.perf_counter() - started
    _check_counts(target, tables, prefix="")
    return seconds


def _check_counts(connection: Any, tables: list[TableRows], prefix: str = FLOOR_PREFIX) -> None:
    cursor = connection.cursor()
    for table in tables:
        cursor.execute(f'SELECT count(*) FROM "{prefix}{table.name}"')
        (count,) = cursor.fetchone()
        if count != len(table.rows):
            raise RuntimeError(f"the floor wrote {count} rows to {table.name}, the ledger {len(table.rows)}")
    cursor.close()
    connection.commit()
