"""Every single-row tampering of every ledger table: ``verify`` must name it.

A store is posted once (the demo at ``tamper_size``, plus enough interest
documents on one book to pass a snapshot), proved, and its rows kept. Then,
for each table of the ledger (``ledger_*``: events, snapshots, registry,
seals; ``proj_*``: the projections and their position), one row at a time
is changed — one column, a digit turned or a flag flipped, as a hand with
SQL would — or deleted, ``verify`` is run, and the table is put back.

``verify`` must disagree and name what was touched: the book of the row
(region/scheme/year) or its document, wherever the row belongs to one. A
projection is rebuildable, so for its rows it is enough that ``verify``
names the book whose projection disagrees with the replay; the position
of the projections (``proj_tracking``) belongs to no book, so any finding
will do. A crash of ``verify`` is a failure: the auditor gets no answer.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy

from bench.chaos.books import verified, verify_problems
from bench.chaos.campaign import Campaign, Result
from bench.chaos.children import post
from bench.stores import Backend
from ledger.formats import FORMAT_TABLE, StoreFormatError

SNAPSHOT_DOCUMENTS = 1000  # application.SNAPSHOT_INTERVAL_EVENTS: one book passes a snapshot
COLLISION_STEP = 100_003
TABLE_PREFIXES = ("ledger_", "proj_")
# Who may do what (ledger/access/: users, grants, tokens, proposals, login attempts) is not part of the books
# and not yet proven by verify; the service issue (11) is to put it under proof. Left out, and said so.
ACCESS_TABLES = ("ledger_users", "ledger_grants", "ledger_tokens", "ledger_proposals", "ledger_login_attempts")
# The verification log (ledger/verification_log.py) records who ran verify and when; it is an operational record, not
# evidence: verify proves the books from the events and never reads it. Left out, and said so.
LOG_TABLES = ("ledger_verifications",)
MARKER = "CHAOS-TAMPERED"
# The campaign's documents issue no statement, so the table of statements issued is there and empty.
MAY_BE_EMPTY = ("ledger_statements",)


@dataclass
class Table:
    """One table's columns, primary key and rows as the driver returned them."""

    name: str
    columns: list[str]
    key: list[str]
    rows: list[tuple]


def tampering(campaign: Campaign, backend: Backend, documents: list[dict[str, Any]]) -> None:
    result = campaign.scenario("single-row tampering", backend.name)
    url = backend.fresh_store("chaos")
    file = campaign.write_documents("tamper.jsonl", _with_snapshot(documents))
    run = post(file, url)
    problems = verify_problems(url)
    if run.traceback or run.posted is None or problems:
        result.record([f"the store to tamper with did not post cleanly: {run.tail()} {problems}"], "setup")
        return
    saved = _saved(backend, url)
    result.note(f"not tampered: {', '.join(ACCESS_TABLES)} (access records, not the books; verify does not prove them yet)")
    result.note(f"not tampered: {', '.join(LOG_TABLES)} (the verification log: who verified when, not evidence; verify never reads it)")
    names = _book_names(saved)
    refused = 0
    for table in saved.values():
        if not table.rows:
            if table.name in MAY_BE_EMPTY:
                result.note(f"not tampered: {table.name} (empty: the campaign issues no statement)")
            else:
                result.record([f"{table.name} has no rows to tamper with"], table.name)
            continue
        for description, statement, parameters, row in _tamperings(table, campaign.rng, campaign.sizes):
            description = description.replace(table.name, f"{table.name}{_aggregate(table, row)}", 1)
            problems = campaign.timed(
                result, lambda: _trial(backend, url, saved, table, statement, parameters, _expected(table, row, names))
            )
            if problems is None:
                refused += 1
                continue
            result.record(problems, description)
    if refused:
        result.note(f"{refused} changes were refused by the database itself (a key or type constraint) and not counted")


def _with_snapshot(documents: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The documents, and before the first year-end close enough interest on one book for it to pass a snapshot."""
    interest = next(d for d in documents if d["type"] == "interest")
    extra = [{**interest, "id": f"CHAOS-SNAPSHOT-{n:05d}", "amount": "1.00", "date": "2013-06-15"} for n in range(SNAPSHOT_DOCUMENTS)]
    close = next(i for i, d in enumerate(documents) if d["type"] == "year_close")
    return documents[:close] + extra + documents[close:]


def _saved(backend: Backend, url: str) -> dict[str, Table]:
    engine = sqlalchemy.create_engine(url)
    try:
        inspector = sqlalchemy.inspect(engine)
        names = sorted(
            t for t in inspector.get_table_names() if t.startswith(TABLE_PREFIXES) and t not in ACCESS_TABLES + LOG_TABLES
        )
        keys = {name: inspector.get_pk_constraint(name)["constrained_columns"] for name in names}
    finally:
        engine.dispose()
    saved = {}
    connection = backend.connect(url)
    try:
        cursor = connection.cursor()
        for name in names:
            cursor.execute(f'SELECT * FROM "{name}"')
            columns = [d[0] for d in cursor.description]
            rows = [tuple(bytes(v) if isinstance(v, memoryview) else v for v in row) for row in cursor.fetchall()]
            saved[name] = Table(name, columns, keys[name] or columns, rows)
    finally:
        connection.close()
    return saved


def _book_names(saved: dict[str, Table]) -> dict[str, str]:
    books = saved["proj_books"]
    at = {c: i for i, c in enumerate(books.columns)}
    return {row[at["book_id"]]: f"{row[at['region']]}/{row[at['scheme']]}/{row[at['year']]}" for row in books.rows}


def _tamperings(table: Table, rng: random.Random, sizes: Any):  # type: ignore[no-untyped-def]
    """(description, statement, parameters, original row) for each deletion and each change of the campaign."""
    where = " AND ".join(f'"{c}" = {{p}}' for c in table.key)
    for row in rng.sample(table.rows, min(sizes.tamper_rows, len(table.rows))):
        key = [row[table.columns.index(c)] for c in table.key]
        yield f"{table.name}: deleted a row", f'DELETE FROM "{table.name}" WHERE {where}', key, row
    columns = table.columns if sizes.tamper_every_column else [rng.choice(table.columns)]
    for column in columns:
        for row in rng.sample(table.rows, min(sizes.tamper_rows, len(table.rows))):
            key = [row[table.columns.index(c)] for c in table.key]
            value = row[table.columns.index(column)]
            changed = _changed(value, rng)
            statement = f'UPDATE "{table.name}" SET "{column}" = {{p}} WHERE {where}'
            yield f"{table.name}: changed {column} of a row", statement, [changed, *key], row


def _changed(value: Any, rng: random.Random) -> Any:
    """The value as a hand with SQL would change it: a digit turned, a flag flipped, a number off by one."""
    if value is None:
        return MARKER
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, bytes):
        digits = [i for i, b in enumerate(value) if 48 <= b <= 57]
        if digits:
            i = rng.choice(digits)
            return value[:i] + bytes([48 + (value[i] - 48 + 1) % 10]) + value[i + 1 :]
        return value[:-1] + bytes([value[-1] ^ 1])
    text = str(value)
    digits = [i for i, c in enumerate(text) if c.isdigit() and c.isascii()]
    if digits:
        i = rng.choice(digits)
        return text[:i] + str((int(text[i]) + 1) % 10) + text[i + 1 :]
    return text[:-1] + ("x" if text[-1:] != "x" else "y")


def _aggregate(table: Table, row: tuple) -> str:
    """For an event or snapshot row, the kind of aggregate it belongs to: " (Book.Posted)", " (Household.…)"."""
    if "topic" not in table.columns:
        return ""
    topic = str(row[table.columns.index("topic")])
    return f" ({topic.rsplit(':', 1)[-1]})"


def _moved_further(value: Any) -> Any:
    """A second change, for when the first collided with another row's key."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value + COLLISION_STEP
    if isinstance(value, bytes):
        return value[:-1] + bytes([value[-1] ^ 0x40])
    return str(value)[:-1] + "~"


def _expected(table: Table, row: tuple, names: dict[str, str]) -> list[str]:
    """Words one of which ``verify`` must print for this row: its book, or its document; empty for no book."""
    value = dict(zip(table.columns, row))
    if table.name in ("ledger_events", "ledger_snapshots"):
        identifier = value["originator_id"]
        hexadecimal = identifier.hex() if isinstance(identifier, bytes) else str(identifier).replace("-", "")
        # A book whose first event is gone can only be named by its id: that still names it.
        return [names[hexadecimal], hexadecimal] if hexadecimal in names else ["(an aggregate that is not a book)"]
    if table.name == "ledger_documents":
        return [value["document_id"], *(names.get(str(book), str(book)) for book, _ in json.loads(value["entries"]))]
    if table.name == "ledger_seals":
        return [value["book"]]
    if "book_id" in value:
        return [names.get(value["book_id"], value["book_id"])]
    if table.name == "proj_fiscal_accounts":
        return [f"{value['region']}/{value['scheme']}/{value['year']}"]
    return []


def _trial(
    backend: Backend, url: str, saved: dict[str, Table], table: Table, statement: str, parameters: list, expected: list[str]
) -> list[str] | None:
    """The problems of one tampering (none when ``verify`` names it); None when the database refused the change."""
    try:
        try:
            applied = _execute(backend, url, statement, parameters)
        except Exception:  # a hand with SQL could not make this change either
            return None
        if not applied:
            return ["the tampering touched no row"]
        try:
            report = verified(url)
        except StoreFormatError as error:
            # The store's recorded format was touched: the ledger refuses to open it and says why, which names it.
            if table.name == FORMAT_TABLE:
                return []
            return [f"verify raised {type(error).__name__}: {str(error).splitlines()[0][:200]}"]
        except Exception as error:  # the auditor gets no answer: a failure of the campaign's kind
            return [f"verify raised {type(error).__name__}: {str(error).splitlines()[0][:200]}"]
        if report.agrees:
            return ["verify agrees"]
        said = " ".join(f"{f.book} {f.message}" for f in report.findings)
        if expected and not any(word in said for word in expected):
            first = report.findings[0]
            return [f"verify disagrees but names none of {expected[:3]}; it says {first.book}: {first.message[:160]}"]
        return []
    finally:
        _restore(backend, url, [table] + [t for t in saved.values() if t.name.startswith("proj_") and t is not table])


def _execute(backend: Backend, url: str, statement: str, parameters: list) -> int:
    """Run one tampering statement; a change that collides with a key is moved further off. Returns rows touched."""
    placeholder = "?" if backend.name == "sqlite" else "%s"
    for attempt in range(2):
        connection = backend.connect(url)
        try:
            cursor = connection.cursor()
            cursor.execute(statement.replace("{p}", placeholder), parameters)
            connection.commit()
            return cursor.rowcount
        except Exception:
            connection.rollback()
            if attempt or not statement.startswith("UPDATE"):
                raise
            parameters = [_moved_further(parameters[0]), *parameters[1:]]
        finally:
            connection.close()
    return 0


def _restore(backend: Backend, url: str, tables: list[Table]) -> None:
    """Put these tables back to their saved rows, in one transaction."""
    connection = backend.connect(url)
    try:
        cursor = connection.cursor()
        for table in tables:
            cursor.execute(f'DELETE FROM "{table.name}"')
            columns = ", ".join(f'"{c}"' for c in table.columns)
            if backend.name == "sqlite":
                marks = ", ".join("?" for _ in table.columns)
                cursor.executemany(f'INSERT INTO "{table.name}" ({columns}) VALUES ({marks})', table.rows)
            elif table.rows:
                from psycopg2.extras import execute_values

                execute_values(cursor, f'INSERT INTO "{table.name}" ({columns}) VALUES %s', table.rows, page_size=1000)
        connection.commit()
    finally:
        connection.close()
