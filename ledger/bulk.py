"""Bulk writes with the bare driver, inside the caller's SQLAlchemy transaction.

Posting writes a batch's rows (events, registry rows, posting lines, balance
deltas) in one transaction. Sent through SQLAlchemy, each row's parameters are
built, typed and escaped in Python and many statements go one row a round
trip; these helpers hand the rows to the driver at once instead: ``COPY …
FROM STDIN`` on PostgreSQL (psycopg2), ``executemany`` on SQLite's ``sqlite3``,
and one multi-row statement per page for upserts. They run on the caller's
connection, so they commit or roll back with everything else it wrote.

A driver error is raised as SQLAlchemy's wrapper of it (``IntegrityError``,
``OperationalError`` …), as if SQLAlchemy had sent the statement, so the
``eventsourcing`` transaction and the command line translate it as they do
every other database error.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from itertools import chain
from typing import Any, TypeVar

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError

# Rows a multi-row statement carries: well under PostgreSQL's 65,535 and SQLite's 32,766 parameters.
ROWS_PER_STATEMENT = 1000

Row = Sequence[object]
T = TypeVar("T")


def is_postgresql(connection: Connection) -> bool:
    return connection.dialect.name == "postgresql"


@contextmanager
def driver_cursor(connection: Connection, statement: str, name: str | None = None) -> Iterator[Any]:
    """A DBAPI cursor on the connection's own DBAPI connection; driver errors leave as SQLAlchemy's.

    ``statement`` only names what is being done, for the error's message;
    ``name`` asks PostgreSQL for a server-side cursor of that name.
    """
    cursor = connection.connection.cursor(name=name) if name else connection.connection.cursor()
    try:
        yield cursor
    except connection.dialect.loaded_dbapi.Error as error:
        raise DBAPIError.instance(statement, None, error, connection.dialect.loaded_dbapi.Error, dialect=connection.dialect) from error
    finally:
        cursor.close()


def insert_rows(connection: Connection, table: str, columns: Sequence[str], rows: Sequence[Row]) -> None:
    """Insert tuples in column order: ``COPY`` on PostgreSQL, ``executemany`` on SQLite.

    Values must already be what the driver stores: ``str``, ``int``,
    ``bool``, ``bytes`` (``bytea`` on PostgreSQL), ``None``; UUIDs as the
    column type binds them. A key conflict raises ``sqlalchemy.exc.IntegrityError``.
    """
    if not rows:
        return
    names = ", ".join(columns)
    if is_postgresql(connection):
        statement = f"COPY {table} ({names}) FROM STDIN"
        text = copy_text(rows, len(columns))
        with driver_cursor(connection, statement) as cursor:
            cursor.copy_expert(statement, io.StringIO(text))
        return
    statement = f"INSERT INTO {table} ({names}) VALUES ({', '.join('?' for _ in columns)})"
    with driver_cursor(connection, statement) as cursor:
        cursor.executemany(statement, rows)


def copy_text(rows: Sequence[Row], width: int) -> str:
    """Rows of ``width`` values in ``COPY``'s text format, a line each, as ``copy_field`` writes each value.

    When every value is a plain ``str`` or ``int`` and no text needs an
    escape, the lines are formatted at once with ``%`` and checked after
    (no backslash or carriage return anywhere, and exactly one tab between
    values and one line break a row, so no value held one); otherwise (a
    ``None``, a ``bool``, bytes, a row that is not a tuple of ``width``)
    each value goes through ``copy_field``. The text is the same either way.
    """
    if set(map(type, rows)) == {tuple} and set(map(len, rows)) == {width} and set(map(type, chain.from_iterable(rows))) <= {str, int}:
        template = "\t".join(("%s",) * width) + "\n"
        text = "".join([template % row for row in rows])
        if (
            "\\" not in text
            and "\r" not in text
            and text.count("\n") == len(rows)
            and text.count("\t") == len(rows) * (width - 1)
        ):
            return text
    return "".join("\t".join(map(copy_field, row)) + "\n" for row in rows)


def copy_field(value: object) -> str:
    """One value in ``COPY``'s text format: ``\\N`` for NULL, ``bytea`` as hex, backslash and breaks escaped."""
    kind = type(value)
    if kind is str:
        text = value  # type: ignore[assignment]
    elif kind is int:
        return str(value)
    elif value is None:
        return "\\N"
    elif value is True or value is False:
        return "t" if value else "f"
    elif isinstance(value, (bytes, bytearray, memoryview)):
        return "\\\\x" + bytes(value).hex()
    else:
        text = str(value)
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        text = text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return text


def stream_rows(connection: Connection, statement: str, page_rows: int) -> Iterator[list[tuple[Any, ...]]]:
    """The rows of one query, in pages of at most ``page_rows``, read with the bare driver's cursor.

    On PostgreSQL a server-side (named) cursor fetches a page a round trip,
    so memory holds one page whatever the table's size; SQLite's cursor
    steps through the table as it is fetched. Values come as the driver
    gives them (psycopg2 or sqlite3), without SQLAlchemy's result types.
    """
    postgresql = is_postgresql(connection)
    with driver_cursor(connection, statement, "ledger_stream_rows" if postgresql else None) as cursor:
        if postgresql:
            cursor.itersize = page_rows
        cursor.execute(statement)
        while rows := cursor.fetchmany(page_rows):
            yield rows


def upsert_adding(
    connection: Connection, table: str, columns: Sequence[str], keys: Sequence[str], summed: Sequence[str], rows: Sequence[Row]
) -> None:
    """Insert tuples, or add their ``summed`` figures to the rows already under the same ``keys``.

    One multi-row ``INSERT … ON CONFLICT … DO UPDATE`` per page of
    ``ROWS_PER_STATEMENT`` rows (both backends), instead of a round trip a
    row. The rows must not repeat a key within a call (PostgreSQL refuses to
    update one row twice in a statement): callers pass deltas already summed by key.
    """
    updates = ", ".join(f"{name} = {table}.{name} + excluded.{name}" for name in summed)
    tail = f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {updates}"
    _multi_row(connection, f"INSERT INTO {table} ({', '.join(columns)}) VALUES", tail, len(columns), rows)


def update_books(connection: Connection, table: str, rows: Sequence[tuple[str, int, int]]) -> None:
    """Add events to books and set or keep their closed flag: (book id, events added, closing 1/0/-1).

    One ``UPDATE … FROM (VALUES …)`` per page (SQLite 3.33 and later know it too).
    """
    head = (
        f"UPDATE {table} SET events = {table}.events + v.column2, "
        f"closed = CASE WHEN v.column3 = 1 THEN true WHEN v.column3 = 0 THEN false ELSE {table}.closed END "
        "FROM (VALUES"
    )
    _multi_row(connection, head, f") AS v WHERE {table}.book_id = v.column1", 3, rows)


def _multi_row(connection: Connection, head: str, tail: str, width: int, rows: Sequence[Row]) -> None:
    """``head (…), (…), … tail`` a page of rows at a time, with the driver's placeholders."""
    if not rows:
        return
    placeholder = "%s" if is_postgresql(connection) else "?"
    one = "(" + ", ".join(placeholder for _ in range(width)) + ")"
    with driver_cursor(connection, head) as cursor:
        for page in pages(rows, ROWS_PER_STATEMENT):
            statement = f"{head} {', '.join(one for _ in page)} {tail}"
            cursor.execute(statement, [value for row in page for value in row])


def pages(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    """Consecutive slices of at most ``size`` items."""
    for start in range(0, len(items), size):
        yield items[start : start + size]
