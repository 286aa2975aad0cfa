"""One set of tests, two backends: every test taking ``ledger`` runs on SQLite and on PostgreSQL.

PostgreSQL is reached at ``LEDGER_TEST_POSTGRES`` (default: the local server,
trust auth, database ``test``). On a machine without it the PostgreSQL half is
skipped, unless ``LEDGER_REQUIRE_POSTGRES=1`` (set by CI), where a missing
server fails the run instead.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy

from ledger.store import Ledger

POSTGRES_URL = os.environ.get(
    "LEDGER_TEST_POSTGRES", "postgresql+psycopg2://postgres@127.0.0.1:5432/test"
)
REQUIRE_POSTGRES = os.environ.get("LEDGER_REQUIRE_POSTGRES") == "1"


def _empty_postgres(url: str = POSTGRES_URL) -> None:
    """Drop every table in the test database (or the one at ``url``): the ledger's, its projections' and its records'."""
    engine = sqlalchemy.create_engine(url)
    try:
        with engine.begin() as connection:
            for table in sqlalchemy.inspect(connection).get_table_names():
                connection.execute(sqlalchemy.text(f'DROP TABLE IF EXISTS "{table}" CASCADE'))
    finally:
        engine.dispose()


def _postgres_available() -> bool:
    engine = sqlalchemy.create_engine(POSTGRES_URL)
    try:
        with engine.connect():
            return True
    except sqlalchemy.exc.OperationalError:
        return False
    finally:
        engine.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request, tmp_path) -> str:
    """A URL for an empty store on each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ledger.db'}"
    if not _postgres_available():
        if REQUIRE_POSTGRES:
            pytest.fail(f"PostgreSQL is required here but does not answer at {POSTGRES_URL}")
        pytest.skip(f"no PostgreSQL at {POSTGRES_URL}")
    _empty_postgres()
    return POSTGRES_URL


@pytest.fixture
def ledger(store_url):
    with Ledger(store_url) as opened:
        yield opened


# For property tests, which need a fresh store per example (hypothesis and function fixtures do not mix).


def require_backend(backend: str) -> None:
    if backend == "postgres" and not _postgres_available():
        if REQUIRE_POSTGRES:
            pytest.fail(f"PostgreSQL is required here but does not answer at {POSTGRES_URL}")
        pytest.skip(f"no PostgreSQL at {POSTGRES_URL}")


@contextmanager
def empty_store(backend: str) -> Iterator[Ledger]:
    """A ledger on a store nothing was ever written to, closed afterwards."""
    if backend == "postgres":
        _empty_postgres()
        with Ledger(POSTGRES_URL) as ledger:
            yield ledger
        return
    folder = tempfile.mkdtemp(prefix="ledger-properties-")
    try:
        with Ledger(f"sqlite:///{folder}/ledger.db") as ledger:
            yield ledger
    finally:
        shutil.rmtree(folder, ignore_errors=True)
