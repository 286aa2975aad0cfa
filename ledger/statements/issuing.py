"""Issuing statements: a record of each statement given out, and what changed since the last one.

An issue is stored in ``ledger_statements``, a table of its own (its own
``MetaData``, created on first use). It is a record of what the agency gave
out, not a projection: ``rebuild`` drops only the projections and leaves it.
Each row holds the statement's canonical JSON, its SHA-256, the event-log
position the figures were computed at, and a source hash over the books'
chain heads at that position, so an auditor can later prove which events a
published figure came from.

Issuing the same form, scope and period again compares the new figures with
the last issue's, line by line, and names the documents recorded since that
issue's position that touch the statement's books.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import BigInteger, Column, Connection, Engine, Index, Integer, MetaData, String, Table, Text, func, select

from ledger.chain import canonical
from ledger.projections import tables
from ledger.statements.compute import compute
from ledger.statements.errors import IssueError
from ledger.statements.model import Period, Scope, Statement
from ledger.statements.render import to_json

MAXIMUM_ISSUES_LISTED = 1_000
MAXIMUM_DOCUMENTS_LISTED = 1_000

metadata = MetaData()

issued_statements = Table(
    "ledger_statements",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("form", String(2), nullable=False),
    Column("scope", String(80), nullable=False),
    Column("period", String(7), nullable=False),
    Column("issued_at", String(32), nullable=False),
    Column("issued_by", String(200), nullable=False),
    # The last notification id the figures include (the projector's position when computed).
    Column("position", BigInteger, nullable=False),
    # SHA-256 over the sorted books with their chain heads at that position, and the position.
    Column("source_hash", String(64), nullable=False),
    Column("figures", Text, nullable=False),
    Column("figures_digest", String(64), nullable=False),
    Index("ix_ledger_statements_subject", "form", "scope", "period", "id"),
)


def create_table(engine: Engine) -> None:
    metadata.create_all(engine)


@dataclass(frozen=True)
class Issued:
    """One issued statement as recorded.

    Attributes:
      id: the issue number, increasing.
      form, scope, period: what was issued (``01``, ``500101/resident``, ``2013-06``).
      issued_at: when (UTC text), issued_by: who.
      position: the last notification id its figures include.
      source_hash: SHA-256 of the books' chain heads at that position.
      figures: the statement's canonical JSON.
      figures_digest: SHA-256 of the canonical JSON text of ``figures``.
    """

    id: int
    form: str
    scope: str
    period: str
    issued_at: str
    issued_by: str
    position: int
    source_hash: str
    figures: dict[str, Any]
    figures_digest: str


@dataclass(frozen=True)
class LineChange:
    """A figure that differs from the last issue's."""

    row: int
    code: str
    name: str
    column: str
    old_fen: int | None
    new_fen: int | None

    @property
    def difference_fen(self) -> int:
        return (self.new_fen or 0) - (self.old_fen or 0)


@dataclass(frozen=True)
class DocumentSince:
    """A document recorded after the last issue's position that touches the statement's books."""

    document_id: str
    kinds: tuple[str, ...]
    books: tuple[str, ...]
    effective_date: str
    recorded_at: str


@dataclass(frozen=True)
class IssueResult:
    """An issue, the one before it (if any), what changed and what was recorded in between."""

    issued: Issued
    statement: Statement
    previous: Issued | None
    changes: tuple[LineChange, ...]
    documents: tuple[DocumentSince, ...]
    documents_truncated: bool = False


def digest(figures: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical(figures).encode("utf-8")).hexdigest()


def issue(ledger, form: str, scope: Scope, period: Period, issued_by: str, now: datetime | None = None) -> IssueResult:  # type: ignore[no-untyped-def]
    """Compute the statement as the books stand, record it, and compare it with the last issue of the same subject.

    An issue is of a whole period as everything recorded so far shows it, so
    it takes neither an as-of date nor a known-on time.
    """
    if period.as_of is not None:
        raise IssueError("an issue covers the whole period; leave out the as-of date", field="as_of")
    if not issued_by.strip():
        raise IssueError("say who issues the statement", field="issued_by")
    create_table(ledger.engine)
    statement = compute(ledger, form, scope, period)
    figures = to_json(statement)
    issued_at = (now or datetime.now(timezone.utc)).astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")
    row = {
        "form": form,
        "scope": scope.key,
        "period": period.key,
        "issued_at": issued_at,
        "issued_by": issued_by.strip()[:200],
        "position": statement.position,
        "source_hash": statement.source_hash(),
        "figures": canonical(figures),
        "figures_digest": digest(figures),
    }
    with ledger.engine.begin() as connection:
        previous = _last(connection, form, scope.key, period.key)
        identifier = connection.execute(issued_statements.insert().values(**row)).inserted_primary_key[0]
    issued = Issued(id=int(identifier), **{**row, "figures": figures})  # type: ignore[arg-type]
    if previous is None:
        return IssueResult(issued, statement, None, (), ())
    documents, truncated = documents_since(ledger.engine, [b.book_id for b in statement.books], previous.position, statement.position)
    return IssueResult(issued, statement, previous, changes(previous.figures, figures), documents, truncated)


def _from_row(row: Any) -> Issued:
    return Issued(
        id=int(row.id),
        form=row.form,
        scope=row.scope,
        period=row.period,
        issued_at=row.issued_at,
        issued_by=row.issued_by,
        position=int(row.position),
        source_hash=row.source_hash,
        figures=json.loads(row.figures),
        figures_digest=row.figures_digest,
    )


def _last(connection: Connection, form: str, scope: str, period: str) -> Issued | None:
    s = issued_statements
    row = connection.execute(
        select(s).where(s.c.form == form, s.c.scope == scope, s.c.period == period).order_by(s.c.id.desc()).limit(1)
    ).first()
    return _from_row(row) if row is not None else None


def issued(engine: Engine, form: str | None = None, scope: str | None = None, period: str | None = None) -> list[Issued]:
    """The issues recorded, oldest first (at most ``MAXIMUM_ISSUES_LISTED``, the newest ones)."""
    create_table(engine)
    s = issued_statements
    query = select(s).order_by(s.c.id.desc()).limit(MAXIMUM_ISSUES_LISTED)
    if form:
        query = query.where(s.c.form == form)
    if scope:
        query = query.where(s.c.scope == scope)
    if period:
        query = query.where(s.c.period == period)
    with engine.connect() as connection:
        return [_from_row(row) for row in reversed(connection.execute(query).all())]


def changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> tuple[LineChange, ...]:
    """Every line and column whose figure differs between two statements' JSON, in the new one's order."""
    columns = {c["code"]: c["name"] for c in [*old["columns"], *new["columns"]]}
    old_lines = {line["code"]: line for line in old["lines"]}
    new_lines = {line["code"]: line for line in new["lines"]}
    codes = [*new_lines, *(code for code in old_lines if code not in new_lines)]
    result = []
    for code in codes:
        line = new_lines.get(code) or old_lines[code]
        for column, name in columns.items():
            before = _fen(old_lines.get(code), column)
            after = _fen(new_lines.get(code), column)
            if before != after:
                result.append(LineChange(line["row"], code, line["name"], name, before, after))
    return tuple(result)


def _fen(line: Mapping[str, Any] | None, column: str) -> int | None:
    if line is None:
        return None
    value = line["values"].get(column)
    return None if value is None else int(value["fen"])


def documents_since(engine: Engine, book_ids: Sequence[str], after: int, through: int) -> tuple[tuple[DocumentSince, ...], bool]:
    """Documents whose events came after one position and up to another, in these books; and whether the list was cut."""
    t, p = tables.lines, tables.periods
    lines = (
        select(t.c.document_id, t.c.kind, t.c.book_id, func.min(t.c.effective_date), func.min(t.c.recorded_at))
        .where(t.c.book_id.in_(list(book_ids)), t.c.notification_id > after, t.c.notification_id <= through)
        .group_by(t.c.document_id, t.c.kind, t.c.book_id)
        .limit(MAXIMUM_DOCUMENTS_LISTED + 1)
    )
    periods = (
        select(p.c.document_id, p.c.action, p.c.book_id, p.c.effective_date, p.c.recorded_at)
        .where(p.c.book_id.in_(list(book_ids)), p.c.notification_id > after, p.c.notification_id <= through)
        .limit(MAXIMUM_DOCUMENTS_LISTED + 1)
    )
    with engine.connect() as connection:
        found = connection.execute(lines).all() + [
            (r[0], "period " + r[1], r[2], r[3], r[4]) for r in connection.execute(periods)
        ]
        books = select(tables.books).where(tables.books.c.book_id.in_(list(book_ids)))
        keys = {r.book_id: f"{r.region}/{r.scheme}/{r.year}" for r in connection.execute(books)}
    truncated = len(found) > MAXIMUM_DOCUMENTS_LISTED
    by_document: dict[str, list[tuple[str, str, str, str]]] = {}
    for document_id, kind, book_hex, effective_date, recorded_at in found[:MAXIMUM_DOCUMENTS_LISTED]:
        by_document.setdefault(document_id, []).append((kind, keys.get(book_hex, book_hex), effective_date, recorded_at))
    documents = [
        DocumentSince(
            document_id,
            tuple(sorted({kind for kind, _, _, _ in rows})),
            tuple(sorted({book for _, book, _, _ in rows})),
            min(date for _, _, date, _ in rows),
            min(recorded for _, _, _, recorded in rows),
        )
        for document_id, rows in by_document.items()
    ]
    return tuple(sorted(documents, key=lambda d: (d.recorded_at, d.document_id))), truncated
