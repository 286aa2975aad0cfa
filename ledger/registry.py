"""The document registry: one row per posted business document, under a unique key.

It is written in the same transaction as the document's book events, so the
primary key on ``document_id`` refuses a second posting of the same document
even when two writers race, and a document is reversed once because the
reversal's conditional update must find ``reversed_by`` empty. The truth stays
in the events — every posting event carries its document id and content
hash — so the registry is an index that holds across millions of documents
without loading any of them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from eventsourcing.persistence import IntegrityError

from ledger import bulk
from sqlalchemy import Column, MetaData, String, Table, Text, select, update
from sqlalchemy.orm import Session

metadata = MetaData()

documents = Table(
    "ledger_documents",
    metadata,
    Column("document_id", String(64), primary_key=True),
    Column("content_hash", String(64), nullable=False),
    Column("document_type", String(32), nullable=False),
    # [[book id hex, book version], ...] of the events the document wrote.
    Column("entries", Text, nullable=False),
    Column("reversed_by", String(64), nullable=True),
)

LOOKUP_PAGE = 1000
COLUMNS = tuple(column.name for column in documents.columns)


@dataclass(frozen=True)
class Registered:
    """A posted document as the registry knows it."""

    document_id: str
    content_hash: str
    document_type: str
    entries: list[list[object]]
    reversed_by: str | None


def row(document_id: str, content_hash: str, document_type: str, entries: list[list[object]]) -> dict[str, object]:
    """A registry row; ``entries`` are ``[book id hex, version]`` pairs, stored as ``json.dumps(entries)`` writes them."""
    return {
        "document_id": document_id,
        "content_hash": content_hash,
        "document_type": document_type,
        "entries": entries_json(entries),
        "reversed_by": None,
    }


def entries_json(entries: list[list[object]]) -> str:
    """``json.dumps(entries)``, byte for byte (``", "`` between items); formatted directly for ``[hex, int]`` pairs."""
    for entry in entries:
        if not (len(entry) == 2 and type(entry[0]) is str and entry[0].isascii() and entry[0].isalnum() and type(entry[1]) is int):
            return json.dumps(entries)
    return "[" + ", ".join(f'["{book}", {version}]' for book, version in entries) + "]"


def write(session: Session, rows: Sequence[dict[str, object]], reversals: Sequence[tuple[str, str]]) -> None:
    """Insert the batch's documents and mark the reversed ones, inside the caller's transaction.

    The rows go in with the bare driver (``COPY`` on PostgreSQL); a document
    id already registered raises SQLAlchemy's ``IntegrityError``, which the
    recorder's transaction turns into the library's, and the whole batch rolls back.
    """
    if rows:
        bulk.insert_rows(session.connection(), documents.name, COLUMNS, [tuple(r[name] for name in COLUMNS) for r in rows])
    for original_id, reversal_id in reversals:
        marked = session.execute(
            update(documents)
            .where(documents.c.document_id == original_id, documents.c.reversed_by.is_(None))
            .values(reversed_by=reversal_id)
        )
        if marked.rowcount != 1:
            # Another writer reversed it first: abandon the whole batch, as a key conflict would.
            raise IntegrityError(f"document {original_id} was reversed meanwhile")


def lookup(session: Session, document_ids: Sequence[str]) -> dict[str, Registered]:
    """The registered documents among these ids, a page of keys at a time."""
    found: dict[str, Registered] = {}
    ids = list(dict.fromkeys(document_ids))
    for start in range(0, len(ids), LOOKUP_PAGE):
        query = select(documents).where(documents.c.document_id.in_(ids[start : start + LOOKUP_PAGE]))
        for r in session.execute(query):
            found[r.document_id] = Registered(
                r.document_id, r.content_hash, r.document_type, json.loads(r.entries), r.reversed_by
            )
    return found
