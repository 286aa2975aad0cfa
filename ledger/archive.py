"""A portable archive of a store: every event as stored, the document registry, the seals, the issued statements, the verification log.

An archive is a folder of JSON Lines files and a ``manifest.json`` (the
format, field by field, is docs/archive.md). ``records`` reads a scope of a
store — everything, a municipality or district, one book, a year — a page
at a time, in one read transaction, as ``(file, record)`` pairs;
``write_archive`` writes them with the manifest (counts, chain heads,
SHA-256 of each file); ``read_archive`` checks the manifest against the
files before yielding a single record; ``load`` puts records into an empty
store in one transaction, proving every event's chain link, voucher and book
rule on the way (``ledger.verify.next_event_findings``, the checks of
``ledger verify``), then rebuilds the projections and runs the whole
``verify``; if anything disagrees, what it wrote is removed and the store is
left empty.

Memory stays flat in the store's size: rows are read and written a page at
a time; what is held is one small record per book (its chain head and
balances), and, for part of a store, the policy-engine aggregates of one
page while their documents are looked up.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version as package_version
from pathlib import Path
from typing import Any, BinaryIO
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from sqlalchemy import Connection, Table, delete, func, inspect, select, text

from ledger import formats, registry, seals, verification_log
from ledger.access import tables as access_tables
from ledger.aggregates.book import Book, BookKey
from ledger.aggregates.state import DistrictFund, Household, InsuredYear
from ledger.chain import GENESIS, canonical
from ledger.errors import LedgerError
from ledger.projections.projector import BOOK_TOPIC_PREFIX
from ledger.persistence import after_event
from ledger.regions import municipality_of
from ledger.statements import issuing
from ledger.store import Ledger
from ledger.stored import StoredRead, stored_read
from ledger.verify import next_event_findings, verify

ARCHIVE_FORMAT = "ledger-archive/1"
MANIFEST = "manifest.json"
EVENTS, DOCUMENTS, SEALS, STATEMENTS = "events.jsonl", "documents.jsonl", "seals.jsonl", "statements.jsonl"
VERIFICATIONS = "verifications.jsonl"
# The files of every archive, in the order they are written and loaded: events before what refers to them.
ARCHIVE_FILES = (EVENTS, DOCUMENTS, SEALS, STATEMENTS, VERIFICATIONS)
# The files an archive of each store format holds: format 0002 added the verification log. Both are imported, since
# 0002 changed no record of the other files.
FILES_OF_FORMAT: dict[str, tuple[str, ...]] = {"0001": ARCHIVE_FILES[:4], "0002": ARCHIVE_FILES}
# What ``ledger copy`` moves beside the archive's files: the records of people, which an auditor's archive leaves out.
USERS, GRANTS, PROPOSALS = "users", "grants", "proposals"
ACCESS_TABLES: dict[str, Table] = {USERS: access_tables.users, GRANTS: access_tables.grants, PROPOSALS: access_tables.proposals}

PAGE_SIZE_ROWS = 1000
# No line of an archive is longer: an event's state is a few kilobytes, a statement's figures some hundreds.
MAXIMUM_LINE_BYTES = 16 * 1024 * 1024
MAXIMUM_MANIFEST_BYTES = 64 * 1024 * 1024
# How many findings of a failed load are named in its message (all of them are in ``ledger verify``).
FINDINGS_NAMED = 5
HASH_CHUNK_BYTES = 1024 * 1024


class ArchiveError(LedgerError):
    """An archive that cannot be written, read or loaded: the message names the file, the line and what is wrong."""

    rule = "archive"


def ledger_version() -> str:
    try:
        return package_version("ledger")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown"


# ---------------------------------------------------------------- scope


@dataclass(frozen=True)
class ArchiveScope:
    """Which part of a store an archive holds.

    Attributes:
      region: a municipality (its own books and every district's under it) or a district; None for every region.
      book: one book (``region``, ``scheme``, ``year``); exclusive with ``region``.
      year: only the books of this fiscal year (and the insured persons' years of it).
    """

    region: str | None = None
    book: BookKey | None = None
    year: int | None = None

    @property
    def whole(self) -> bool:
        return self.region is None and self.book is None and self.year is None

    def to_json(self) -> dict[str, Any]:
        return {"region": self.region, "book": str(self.book) if self.book else None, "year": self.year}

    def _region_in(self, region: str) -> bool:
        if self.book is not None:
            return region == self.book.region
        if self.region is None:
            return True
        if municipality_of(self.region) == self.region:
            return municipality_of(region) == self.region
        return region == self.region

    def includes_book(self, region: str, scheme: str, year: int) -> bool:
        if self.book is not None:
            return BookKey(region, scheme, int(year)) == self.book
        return self._region_in(region) and (self.year is None or int(year) == self.year)

    def includes_state(self, region: str, year: int | None) -> bool:
        """Whether a policy-engine aggregate of ``region`` (and, for an insured person's year, ``year``) is in scope."""
        wanted_year = self.book.year if self.book is not None else self.year
        return self._region_in(region) and (year is None or wanted_year is None or int(year) == wanted_year)


def _in_scope(scope: ArchiveScope, opened: Any) -> bool:
    """Whether the aggregate this ``Opened`` event opens belongs to the scope."""
    if isinstance(opened, Book.Opened):
        return scope.includes_book(opened.region, opened.scheme, opened.year)
    if isinstance(opened, InsuredYear.Opened):
        return scope.includes_state(opened.region, opened.year)
    if isinstance(opened, (Household.Opened, DistrictFund.Opened)):
        return scope.includes_state(opened.region, None)
    return scope.whole


# ---------------------------------------------------------------- reading a store


@dataclass
class BookHead:
    """A book as the archive holds it: its name, last version and chain head."""

    book: str
    version: int = 0
    chain_head: str = GENESIS


@dataclass
class Exported:
    """What ``records`` read, filled in as it goes: the books' heads, and whether notification ids are kept."""

    scope: ArchiveScope
    keeps_notification_ids: bool
    books: dict[str, BookHead] = field(default_factory=dict)


def event_record(notification_id: int, originator_id: UUID, version: int, topic: str, state: bytes) -> dict[str, Any]:
    """An event as the archive holds it: the stored row, and for the reader its recorded time, actor and chain link.

    ``state`` is the stored bytes as UTF-8 text (the ledger stores JSON);
    bytes that are not UTF-8 (a store with a cipher or compressor) are kept
    as ``state_base64`` instead.
    """
    record: dict[str, Any] = {
        "notification_id": int(notification_id),
        "originator_id": originator_id.hex,
        "originator_version": int(version),
        "topic": topic,
    }
    try:
        state_text = state.decode("utf-8")
        data = json.loads(state_text)
    except (UnicodeDecodeError, ValueError):
        record["state_base64"] = base64.b64encode(state).decode("ascii")
        return record
    record["state"] = state_text
    timestamp = data.get("timestamp") if isinstance(data, dict) else None
    record["recorded_at"] = timestamp.get("_data_") if isinstance(timestamp, dict) else timestamp
    record["actor"] = data.get("actor") if isinstance(data, dict) else None
    record["chain"] = data.get("chain") if isinstance(data, dict) else None
    return record


def _read_transaction(ledger: Ledger) -> Connection:
    """One connection reading one snapshot of the store: REPEATABLE READ on PostgreSQL, one read transaction on SQLite."""
    if ledger.engine.dialect.name == "postgresql":
        connection = ledger.engine.connect().execution_options(isolation_level="REPEATABLE READ")
        connection.begin()
        return connection
    connection = ledger.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    connection.exec_driver_sql("BEGIN")
    return connection


def records(ledger: Ledger, exported: Exported, include_access: bool = False) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every record of the scope, file by file in ``ARCHIVE_FILES`` order, as ``(file, record)``; fills ``exported.books``.

    Read in one snapshot a page at a time. With ``include_access`` (``ledger copy`` of a whole store) the users, grants
    and proposals follow. ``ArchiveError`` when part of a store cannot stand alone (``_state_records``) or holds no book.
    """
    connection = _read_transaction(ledger)
    try:
        yield from _event_records(ledger, connection, exported)
        yield from _document_records(connection, exported)
        yield from _seal_records(connection, exported)
        if exported.scope.whole:
            yield from _table_records(connection, STATEMENTS, issuing.issued_statements)
            yield from _table_records(connection, VERIFICATIONS, verification_log.verifications)
            if include_access:
                for name, table in ACCESS_TABLES.items():
                    yield from _table_records(connection, name, table)
    finally:
        if connection.in_transaction():
            connection.rollback()
        elif ledger.engine.dialect.name == "sqlite":
            connection.exec_driver_sql("ROLLBACK")  # the read transaction begun by hand: it wrote nothing
        connection.close()


def _event_records(ledger: Ledger, connection: Connection, exported: Exported) -> Iterator[tuple[str, dict[str, Any]]]:
    """The whole log in notification order; for part of a store, its books' events, then its policy-engine state."""
    table = ledger.app.recorder.events_record_cls.__table__  # type: ignore[attr-defined]
    scope, last = exported.scope, 0
    # The books of the scope, known from their Opened events, which come first in the log.
    in_scope: set[UUID] = set()
    only_books = None if scope.whole else table.c.topic.like(BOOK_TOPIC_PREFIX + "%")
    while True:
        query = select(table.c.id, table.c.originator_id, table.c.originator_version, table.c.topic, table.c.state)
        if only_books is not None:
            query = query.where(only_books)
        rows = connection.execute(query.where(table.c.id > last).order_by(table.c.id).limit(PAGE_SIZE_ROWS)).all()
        for notification_id, originator_id, version, topic, state in rows:
            identifier = _uuid(originator_id)
            if not scope.whole:
                if version == 1 and _in_scope(scope, _decode(ledger, identifier, version, topic, bytes(state))):
                    in_scope.add(identifier)
                if identifier not in in_scope:
                    continue
            record = event_record(notification_id, identifier, version, topic, bytes(state))
            if topic.startswith(BOOK_TOPIC_PREFIX):
                _note_book(ledger, exported, identifier, record, version, topic, bytes(state))
            yield EVENTS, record
        if len(rows) < PAGE_SIZE_ROWS:
            break
        last = rows[-1][0]
    if not scope.whole and not exported.books:
        raise ArchiveError(f"no book of the store is in the scope ({_describe_scope(scope)}): nothing to export", field="scope")
    if not scope.whole:
        yield from _state_records(ledger, connection, exported)


def _uuid(value: Any) -> UUID:
    return value if isinstance(value, UUID) else UUID(str(value))


def _state_records(ledger: Ledger, connection: Connection, exported: Exported) -> Iterator[tuple[str, dict[str, Any]]]:
    """The policy engine's aggregates that belong to part of a store, whole, one aggregate after another.

    A person's, household's or district's state is one aggregate across
    books (a household's tier across years, a person's use across the
    resident and assistance books), and an archive holds whole aggregates.
    One whose every document wrote a book of the scope is in; one none of
    whose documents did is out; one with documents on both sides is refused
    (``ArchiveError``), for the archive would not verify alone.
    """
    table = ledger.app.recorder.events_record_cls.__table__  # type: ignore[attr-defined]
    query = select(table.c.id, table.c.originator_id, table.c.originator_version, table.c.topic, table.c.state).where(
        table.c.topic.not_like(BOOK_TOPIC_PREFIX + "%")
    )
    last: tuple[Any, int] | None = None
    group: list[tuple[dict[str, Any], Any]] = []
    waiting: list[list[tuple[dict[str, Any], Any]]] = []
    while True:
        page = query if last is None else query.where(after_event(table, last))
        rows = connection.execute(page.order_by(table.c.originator_id, table.c.originator_version).limit(PAGE_SIZE_ROWS)).all()
        for notification_id, originator_id, version, topic, state in rows:
            identifier = _uuid(originator_id)
            if group and group[0][0]["originator_id"] != identifier.hex:
                waiting.append(group)
                group = []
            event = _decode(ledger, identifier, version, topic, bytes(state))
            group.append((event_record(notification_id, identifier, version, topic, bytes(state)), event))
        if len(rows) < PAGE_SIZE_ROWS:
            break
        last = (rows[-1][1], rows[-1][2])
        if sum(len(g) for g in waiting) >= PAGE_SIZE_ROWS:
            yield from _state_groups(connection, exported, waiting)
            waiting = []
    yield from _state_groups(connection, exported, waiting + ([group] if group else []))


def _state_groups(connection: Connection, exported: Exported, groups: list[list[tuple[dict[str, Any], Any]]]) -> Iterator[tuple[str, dict[str, Any]]]:
    """The records of the state aggregates (each ``[(record, event), ...]`` from its ``Opened``) that belong to the scope."""
    candidates = [group for group in groups if _in_scope(exported.scope, group[0][1])]
    documents = [event.document_id for group in candidates for _, event in group[1:]]
    found = registry.lookup(connection, documents) if documents else {}  # type: ignore[arg-type]
    for group in candidates:
        inside = {
            event.document_id: found.get(event.document_id) is not None
            and any(str(book_hex) in exported.books for book_hex, _ in found[event.document_id].entries)
            for _, event in group[1:]
        }
        if inside and not all(inside.values()):
            if any(inside.values()):
                outside = sorted(document for document, ok in inside.items() if not ok)[0]
                raise ArchiveError(
                    f"the policy-engine state {group[0][0]['originator_id']} of this scope ({_describe_scope(exported.scope)}) "
                    f"also records document {outside}, which wrote no book of the scope; an archive holds whole "
                    "aggregates, so this one would not verify alone: export the whole region (without --year or --book), "
                    "or the whole store",
                    field="scope",
                )
            continue
        for record, _ in group:
            yield EVENTS, record


def _decode(ledger: Ledger, identifier: UUID, version: int, topic: str, state: bytes) -> Any:
    return ledger.app.mapper.to_domain_event(StoredEvent(identifier, int(version), topic, state))


def _note_book(ledger: Ledger, exported: Exported, identifier: UUID, record: dict[str, Any], version: int, topic: str, state: bytes) -> None:
    head = exported.books.get(identifier.hex)
    if head is None:
        opened = _decode(ledger, identifier, version, topic, state)
        head = exported.books[identifier.hex] = BookHead(str(BookKey(opened.region, opened.scheme, opened.year)))
    head.version = int(version)
    head.chain_head = str(record.get("chain"))


def _describe_scope(scope: ArchiveScope) -> str:
    parts = [f"book {scope.book}" if scope.book else f"region {scope.region}" if scope.region else "every region"]
    if scope.year is not None:
        parts.append(f"year {scope.year}")
    return ", ".join(parts)


def _document_records(connection: Connection, exported: Exported) -> Iterator[tuple[str, dict[str, Any]]]:
    table, last = registry.documents, ""
    while True:
        rows = connection.execute(
            select(table).where(table.c.document_id > last).order_by(table.c.document_id).limit(PAGE_SIZE_ROWS)
        ).all()
        for row in rows:
            entries = json.loads(row.entries)
            if exported.scope.whole or any(str(book_hex) in exported.books for book_hex, _ in entries):
                yield DOCUMENTS, {
                    "document_id": row.document_id,
                    "content_hash": row.content_hash,
                    "document_type": row.document_type,
                    "entries": entries,
                    "reversed_by": row.reversed_by,
                }
        if len(rows) < PAGE_SIZE_ROWS:
            return
        last = rows[-1].document_id


def _seal_records(connection: Connection, exported: Exported) -> Iterator[tuple[str, dict[str, Any]]]:
    table = seals.seals
    last: tuple[str, int] = ("", 0)
    while True:
        after = (table.c.book_id > last[0]) | ((table.c.book_id == last[0]) & (table.c.version > last[1]))
        rows = connection.execute(select(table).where(after).order_by(table.c.book_id, table.c.version).limit(PAGE_SIZE_ROWS)).all()
        for row in rows:
            if exported.scope.whole or row.book_id in exported.books:
                yield SEALS, {
                    "book_id": row.book_id, "version": int(row.version), "period": row.period, "book": row.book,
                    "document_id": row.document_id, "payload": json.loads(row.payload),
                }
        if len(rows) < PAGE_SIZE_ROWS:
            return
        last = (rows[-1].book_id, int(rows[-1].version))


def _table_records(connection: Connection, name: str, table: Table) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every row of a table of records (issued statements, users, grants, proposals), column by column, in key order."""
    if not inspect(connection).has_table(table.name):
        return
    (key,) = table.primary_key.columns
    query = select(table).order_by(key).limit(PAGE_SIZE_ROWS)
    rows = connection.execute(query).all()
    while rows:
        for row in rows:
            yield name, dict(row._mapping)
        if len(rows) < PAGE_SIZE_ROWS:
            return
        rows = connection.execute(query.where(key > getattr(rows[-1], key.name))).all()


# ---------------------------------------------------------------- writing and reading a folder


def _line(record: dict[str, Any]) -> bytes:
    return (json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")


def write_archive(folder: Path, stream: Iterable[tuple[str, dict[str, Any]]], exported: Exported) -> dict[str, Any]:
    """Write the records into ``folder`` (new or empty), then ``manifest.json``; return the manifest.

    The manifest is written last, so a folder without one is an archive
    that was never finished.
    """
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise ArchiveError(f"{folder} exists and is not an empty folder: an archive is written into a new one", field="out")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        files = _write_files(folder, stream)
    except OSError as error:
        _remove_written(folder)
        raise ArchiveError(f"cannot write the archive into {folder}: {error.strerror}", field="out") from None
    except BaseException:
        # A refused scope or a failing store: no half-written archive is left to be mistaken for one.
        _remove_written(folder)
        raise
    manifest = _manifest(exported, files)
    (folder / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return manifest


def _write_files(folder: Path, stream: Iterable[tuple[str, dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    """Write every record to its file; return each file's line count and SHA-256."""
    files: dict[str, dict[str, Any]] = {}
    handles: dict[str, BinaryIO] = {}
    hashes: dict[str, Any] = {}
    try:
        for name in ARCHIVE_FILES:
            handles[name] = open(folder / name, "wb")
            hashes[name], files[name] = hashlib.sha256(), {"lines": 0}
        for name, record in stream:
            line = _line(record)
            handles[name].write(line)
            hashes[name].update(line)
            files[name]["lines"] += 1
    finally:
        for handle in handles.values():
            handle.close()
    for name in ARCHIVE_FILES:
        files[name]["sha256"] = hashes[name].hexdigest()
    return files


def _remove_written(folder: Path) -> None:
    for name in (*ARCHIVE_FILES, MANIFEST):
        (folder / name).unlink(missing_ok=True)
    if folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()


def _manifest(exported: Exported, files: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return {
        "format": ARCHIVE_FORMAT,
        "store_format": formats.CURRENT_FORMAT,
        "ledger_version": ledger_version(),
        "created_at": datetime.now(UTC).isoformat(timespec="microseconds"),
        "scope": exported.scope.to_json(),
        "notification_ids": "kept" if exported.keeps_notification_ids else "renumbered",
        "files": files,
        "books": {
            book_hex: {"book": head.book, "version": head.version, "chain_head": head.chain_head}
            for book_hex, head in sorted(exported.books.items())
        },
    }


def read_manifest(folder: Path) -> dict[str, Any]:
    """The archive's manifest, checked against every file it names (line count and SHA-256) before anything is read."""
    path = folder / MANIFEST
    try:
        if path.stat().st_size > MAXIMUM_MANIFEST_BYTES:
            raise ArchiveError(f"{path} is larger than any manifest ({MAXIMUM_MANIFEST_BYTES} bytes)", field=MANIFEST)
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ArchiveError(f"cannot read {path}: {error.strerror} (an archive folder holds manifest.json)", field=MANIFEST) from None
    except (UnicodeDecodeError, ValueError) as error:
        raise ArchiveError(f"{path} is not JSON: {error}", field=MANIFEST) from None
    if not isinstance(manifest, dict) or manifest.get("format") != ARCHIVE_FORMAT:
        raise ArchiveError(f"{path} is not a {ARCHIVE_FORMAT} manifest", field="format")
    store_format = manifest.get("store_format")
    if not isinstance(store_format, str) or store_format not in FILES_OF_FORMAT:
        importable = " and ".join(FILES_OF_FORMAT)
        raise ArchiveError(
            f"the archive holds a store of format {store_format!r}; this ledger imports formats {importable}: "
            "import it with the release that wrote it, run `ledger migrate`, and export it again (docs/operations.md, Upgrading)",
            field="store_format",
        )
    expected = FILES_OF_FORMAT[store_format]
    files = manifest.get("files")
    if not isinstance(files, dict) or sorted(files) != sorted(expected):
        raise ArchiveError(f"{path} must list exactly the files {', '.join(expected)}", field="files")
    if not isinstance(manifest.get("books"), dict) or manifest.get("notification_ids") not in ("kept", "renumbered"):
        raise ArchiveError(f"{path} lacks its books or says nothing of its notification ids", field=MANIFEST)
    for name in expected:
        _check_file(folder / name, files[name])
    return manifest


def _check_file(path: Path, stated: Any) -> None:
    digest, lines = hashlib.sha256(), 0
    try:
        with open(path, "rb") as handle:
            while chunk := handle.read(HASH_CHUNK_BYTES):
                digest.update(chunk)
                lines += chunk.count(b"\n")
    except OSError as error:
        raise ArchiveError(f"cannot read {path}: {error.strerror}", field=path.name) from None
    if not isinstance(stated, dict):
        raise ArchiveError(f"the manifest says nothing of {path.name}", field=path.name)
    if stated.get("lines") != lines:
        raise ArchiveError(f"{path.name} has {lines} lines, the manifest says {stated.get('lines')!r}: lines were added or removed", field=path.name)
    if stated.get("sha256") != digest.hexdigest():
        raise ArchiveError(
            f"{path.name} has SHA-256 {digest.hexdigest()}, the manifest says {stated.get('sha256')!r}: the file was changed "
            "after it was written (or the manifest was)",
            field=path.name,
        )


def read_archive(folder: Path, names: Sequence[str] = ARCHIVE_FILES) -> Iterator[tuple[str, int, dict[str, Any]]]:
    """Every record of a checked archive as ``(file, line number, record)``; ``ArchiveError`` naming the line that does not parse.

    ``names`` are the archive's files (``FILES_OF_FORMAT`` of its manifest's ``store_format``), read in that order.
    """
    for name in names:
        with open(folder / name, "rb") as handle:
            for number, line in enumerate(iter(lambda: handle.readline(MAXIMUM_LINE_BYTES + 1), b""), start=1):
                if len(line) > MAXIMUM_LINE_BYTES:
                    raise ArchiveError(f"{name} line {number} is longer than {MAXIMUM_LINE_BYTES} bytes", field=name)
                try:
                    record = json.loads(line.decode("utf-8"))
                except (UnicodeDecodeError, ValueError) as error:
                    raise ArchiveError(f"{name} line {number} is not a JSON record: {error}", field=name) from None
                if not isinstance(record, dict):
                    raise ArchiveError(f"{name} line {number} is not a JSON object", field=name)
                yield name, number, record


# ---------------------------------------------------------------- loading into an empty store


def stored_rows(ledger: Ledger) -> dict[str, int]:
    """How many rows each table of records holds (events, registry, seals, issued statements, users, grants, proposals)."""
    events = ledger.app.recorder.events_record_cls.__table__  # type: ignore[attr-defined]
    counted = [events, registry.documents, seals.seals, issuing.issued_statements, verification_log.verifications, *ACCESS_TABLES.values()]
    inspector = inspect(ledger.engine)
    with ledger.engine.connect() as connection:
        return {
            table.name: int(connection.execute(select(func.count()).select_from(table)).scalar() or 0)
            for table in counted
            if inspector.has_table(table.name)
        }


def refuse_unless_empty(ledger: Ledger) -> None:
    held = {name: count for name, count in stored_rows(ledger).items() if count}
    if held:
        listed = ", ".join(f"{count} in {name}" for name, count in sorted(held.items()))
        raise ArchiveError(
            f"the target store is not empty ({listed}): an archive is imported only into an empty store, so nothing "
            "already there is mixed with it; create a new database (or give a new SQLite file)",
            field="db",
        )


@dataclass
class _BookWalk:
    """A book folded as its events are loaded: what ``next_event_findings`` needs for the next one."""

    book: Any = None
    version: int = 0
    previous: str = GENESIS
    vouchers: dict[str, int] = field(default_factory=dict)


@dataclass
class Loaded:
    """What a load wrote: rows per file, books, and the verify report's counts."""

    rows: dict[str, int] = field(default_factory=dict)
    books: int = 0
    events: int = 0
    log_events: int = 0


class _Loader:
    """Writes records into the target inside the caller's transaction, proving each event before it is written."""

    def __init__(self, ledger: Ledger, keep_notification_ids: bool) -> None:
        self.ledger = ledger
        self.keep_notification_ids = keep_notification_ids
        self.events_table = ledger.app.recorder.events_record_cls.__table__  # type: ignore[attr-defined]
        self.tables: dict[str, Table] = {
            EVENTS: self.events_table, DOCUMENTS: registry.documents, SEALS: seals.seals,
            STATEMENTS: issuing.issued_statements, VERIFICATIONS: verification_log.verifications, **ACCESS_TABLES,
        }
        self.books: dict[UUID, _BookWalk] = {}
        self.pending: list[dict[str, Any]] = []
        self.pending_file = EVENTS
        self.loaded = Loaded()

    def take(self, connection: Connection, name: str, where: str, record: dict[str, Any]) -> None:
        if name not in self.tables:
            raise ArchiveError(f"{where}: no archive file is named {name}", field=name)
        if name != self.pending_file:
            self.flush(connection)
            self.pending_file = name
        row = self._event_row(where, record) if name == EVENTS else self._row(name, where, record)
        self.pending.append(row)
        self.loaded.rows[name] = self.loaded.rows.get(name, 0) + 1
        if len(self.pending) >= PAGE_SIZE_ROWS:
            self.flush(connection)

    def flush(self, connection: Connection) -> None:
        if self.pending:
            connection.execute(self.tables[self.pending_file].insert(), self.pending)
            self.pending = []

    def _event_row(self, where: str, record: dict[str, Any]) -> dict[str, Any]:
        try:
            identifier = UUID(hex=str(record["originator_id"]))
            version, topic, notification_id = int(record["originator_version"]), str(record["topic"]), int(record["notification_id"])
            state = record["state"].encode("utf-8") if "state" in record else base64.b64decode(record["state_base64"], validate=True)
        except (KeyError, ValueError, TypeError, AttributeError, binascii.Error) as error:
            raise ArchiveError(f"{where}: not an event record ({type(error).__name__}: {error})", field=EVENTS) from None
        if event_record(notification_id, identifier, version, topic, state) != record:
            raise ArchiveError(f"{where}: its recorded_at, actor or chain is not what its state says: the line was edited", field=EVENTS)
        try:
            read = stored_read(self.ledger.app.mapper, StoredEvent(identifier, int(version), topic, state))
        except Exception as error:  # a state that no longer decodes is itself the finding
            raise ArchiveError(f"{where}: the event cannot be read ({type(error).__name__}: {error})", field=EVENTS) from None
        # The policy engine's state is proven by the verify after the load (its ids, its versions, every figure
        # against the books): proving it here would hold a number per person, which grows with the store.
        if topic.startswith(BOOK_TOPIC_PREFIX):
            self._prove_book_event(where, identifier, read)
        row = {"originator_id": identifier, "originator_version": version, "topic": topic, "state": state}
        if self.keep_notification_ids:
            row["id"] = notification_id
        return row

    def _prove_book_event(self, where: str, identifier: UUID, read: StoredRead) -> None:
        """The chain link, voucher and every rule of the book (``ledger.verify``), on the book folded so far.

        The reversal's date against the reversed document's is left to the
        ``verify`` after the load: it needs every document's date, which a
        load of millions of documents does not hold.
        """
        walk = self.books.setdefault(identifier, _BookWalk())
        event = read.event
        findings = next_event_findings(walk.book, read, walk.version, walk.previous, walk.vouchers, {})
        if findings:
            name = str(walk.book.key) if walk.book is not None else identifier.hex
            raise ArchiveError(f"{where}: book {name}: {findings[0]}", field=EVENTS)
        walk.book = event.mutate(walk.book)
        walk.version, walk.previous = event.originator_version, event.chain

    def _row(self, name: str, where: str, record: dict[str, Any]) -> dict[str, Any]:
        table = self.tables[name]
        columns = {column.name for column in table.columns}
        if set(record) != columns:
            raise ArchiveError(f"{where}: the fields are {sorted(record)}, a {name} record has {sorted(columns)}", field=name)
        row = dict(record)
        if name == DOCUMENTS:
            row["entries"] = json.dumps(record["entries"])
        elif name == SEALS:
            row["payload"] = canonical(record["payload"])
        return row

    def finish(self, connection: Connection, books: dict[str, Any] | None) -> None:
        """Write the last page, compare every book's head with the manifest's, and move PostgreSQL's sequences past the ids written."""
        self.flush(connection)
        if books is not None:
            _check_heads(books, self.books)
        self.loaded.books = len(self.books)
        if self.ledger.engine.dialect.name == "postgresql":
            for table, column in ((self.events_table, "id"), (issuing.issued_statements, "id"), (access_tables.grants, "grant_id"),
                                  (verification_log.verifications, "verification_id")):
                connection.execute(text(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', '{column}'), "
                    f"COALESCE(MAX({column}), 1), MAX({column}) IS NOT NULL) FROM {table.name}"
                ))


def _check_heads(stated: dict[str, Any], walked: dict[UUID, _BookWalk]) -> None:
    heads = {identifier.hex: (walk.version, walk.previous) for identifier, walk in walked.items()}
    for book_hex in sorted(set(stated) | set(heads)):
        want = stated.get(book_hex) or {}
        have = heads.get(book_hex, (0, GENESIS))
        if (want.get("version"), want.get("chain_head")) != have:
            name = want.get("book", book_hex)
            raise ArchiveError(
                f"book {name}: the manifest says version {want.get('version')} with chain head {str(want.get('chain_head'))[:16]}…, "
                f"the events end at version {have[0]} with {have[1][:16]}…: events were removed or added",
                field=MANIFEST,
            )


def load(
    ledger: Ledger, stream: Iterable[tuple[str, int, dict[str, Any]]], keep_notification_ids: bool, books: dict[str, Any] | None = None,
) -> Loaded:
    """Load records into an empty store in one transaction, proving each event first; then rebuild and verify.

    ``stream`` gives ``(file, line number, record)`` in ``ARCHIVE_FILES``
    order; ``books`` the manifest's chain heads (None when copying store to
    store, where the source is read as it is written). A refused record rolls
    the whole load back. The projections are then rebuilt and ``verify``
    replays everything; if it finds anything, every row the load wrote is
    deleted (the store was empty before) and ``ArchiveError`` names the
    first findings.
    """
    refuse_unless_empty(ledger)
    issuing.create_table(ledger.engine)
    loader = _Loader(ledger, keep_notification_ids)
    with ledger.engine.begin() as connection:
        for name, number, record in stream:
            loader.take(connection, name, f"{name} line {number}", record)
        loader.finish(connection, books)
    ledger.projector.rebuild()
    report = verify(ledger)
    if not report.agrees:
        clear(ledger)
        named = "; ".join(f"{f.book}: {f.message}" for f in report.findings[:FINDINGS_NAMED])
        raise ArchiveError(
            f"the loaded store does not verify ({len(report.findings)} finding(s): {named}); nothing was kept, the store is empty again",
            field="archive",
        )
    loaded = loader.loaded
    loaded.books, loaded.events, loaded.log_events = report.books, report.events, report.log_events
    return loaded


def clear(ledger: Ledger) -> None:
    """Delete every row a load writes, in one transaction, and empty the projections: the store as it was before the load."""
    events = ledger.app.recorder.events_record_cls.__table__  # type: ignore[attr-defined]
    inspector = inspect(ledger.engine)
    with ledger.engine.begin() as connection:
        for table in (events, registry.documents, seals.seals, issuing.issued_statements, verification_log.verifications,
                      *ACCESS_TABLES.values()):
            if inspector.has_table(table.name):
                connection.execute(delete(table))
    ledger.projector.rebuild()
