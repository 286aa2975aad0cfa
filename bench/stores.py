"""The two backends the bench measures: a SQLite file and a PostgreSQL database.

A store is named by its SQLAlchemy URL, the same URL the ledger opens. The
bench also talks to each store with the bare driver (``sqlite3``,
``psycopg2``) for its baselines, so each backend knows how to turn the URL
into a driver connection.

On PostgreSQL every measurement starts from a database without the ledger's
tables: the bench drops every table whose name starts with one of
``TABLE_PREFIXES`` (the ledger's ``ledger_events``, ``ledger_snapshots``,
``proj_*``, and the ``bench_*`` tables of the baselines), so a table the
ledger adds later is dropped too. Never point it at real books.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy.engine import make_url

POSTGRES_VARIABLE = "LEDGER_BENCH_POSTGRES"
DEFAULT_POSTGRES_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/bench"
TABLE_PREFIXES = ("ledger_", "proj_", "bench_")
POSTGRES_CONNECT_TIMEOUT_SECONDS = 5


class Backend(Protocol):
    name: str

    def fresh_store(self, label: str) -> str:
        """The URL of a store holding none of the ledger's or the bench's tables."""

    def remove_store(self, url: str) -> None: ...

    def connect(self, url: str) -> Any:
        """A bare DB-API connection (``sqlite3`` or ``psycopg2``) to the store."""

    def version(self) -> str: ...


class SqliteBackend:
    """Each store is a new file in the bench's temporary folder."""

    name = "sqlite"

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def fresh_store(self, label: str) -> str:
        path = self.folder / f"{label}.db"
        _remove_sqlite_files(path)
        return f"sqlite:///{path}"

    def connect(self, url: str) -> sqlite3.Connection:
        database = make_url(url).database
        if not database:
            raise ValueError(f"{url} names no SQLite file")
        return sqlite3.connect(database)

    def remove_store(self, url: str) -> None:
        _remove_sqlite_files(Path(make_url(url).database or ""))

    def version(self) -> str:
        return f"SQLite {sqlite3.sqlite_version}"


class PostgresBackend:
    """One database; a fresh store is that database with the ledger's and the bench's tables dropped."""

    name = "postgres"

    def __init__(self, url: str) -> None:
        self.url = url
        self.dsn = _driver_dsn(url)

    def ensure_database(self) -> None:
        """Create the bench database if it is missing (CREATE DATABASE cannot run in a transaction)."""
        import psycopg2

        target = make_url(self.url)
        try:
            psycopg2.connect(self.dsn, connect_timeout=POSTGRES_CONNECT_TIMEOUT_SECONDS).close()
            return
        except psycopg2.OperationalError as error:
            if f'database "{target.database}" does not exist' not in str(error):
                raise
        server = psycopg2.connect(_driver_dsn(self.url, database="postgres"), connect_timeout=POSTGRES_CONNECT_TIMEOUT_SECONDS)
        try:
            server.autocommit = True
            with server.cursor() as cursor:
                cursor.execute(f'CREATE DATABASE "{target.database}"')
        finally:
            server.close()

    def fresh_store(self, label: str) -> str:
        self.drop_tables()
        return self.url

    def remove_store(self, url: str) -> None:
        self.drop_tables()

    def drop_tables(self, prefixes: tuple[str, ...] = TABLE_PREFIXES) -> None:
        connection = self.connect(self.url)
        try:
            with connection, connection.cursor() as cursor:
                cursor.execute(
                    "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
                    " AND (" + " OR ".join(["tablename LIKE %s"] * len(prefixes)) + ")",
                    [prefix.replace("_", r"\_") + "%" for prefix in prefixes],
                )
                names = [row[0] for row in cursor.fetchall()]
                if names:
                    cursor.execute("DROP TABLE IF EXISTS " + ", ".join(f'"{name}"' for name in names) + " CASCADE")
        finally:
            connection.close()

    def connect(self, url: str) -> Any:
        import psycopg2

        return psycopg2.connect(_driver_dsn(url), connect_timeout=POSTGRES_CONNECT_TIMEOUT_SECONDS)

    def version(self) -> str:
        connection = self.connect(self.url)
        try:
            with connection.cursor() as cursor:
                cursor.execute("SHOW server_version")
                (version,) = cursor.fetchone()
        finally:
            connection.close()
        return f"PostgreSQL {version.split()[0]}"


def postgres_url() -> str:
    return os.environ.get(POSTGRES_VARIABLE) or DEFAULT_POSTGRES_URL


def _remove_sqlite_files(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def _driver_dsn(url: str, database: str | None = None) -> str:
    """The libpq form of a SQLAlchemy URL (``postgresql+psycopg2://`` → ``postgresql://``)."""
    parsed = make_url(url).set(drivername="postgresql")
    if database is not None:
        parsed = parsed.set(database=database)
    return parsed.render_as_string(hide_password=False)
