"""Folds the notification log into the projection tables, exactly once.

Catch-up pulls pages of notifications after the tracked position, folds each
page into per-row deltas in memory and writes the deltas and the new position
in one transaction. The position is advanced with a compare-and-set, so two
projectors racing on one store never apply a page twice. This works the same
on SQLite and PostgreSQL: no subscription is needed.
"""

from __future__ import annotations

from collections import defaultdict
from itertools import takewhile
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, TypedDict
from uuid import UUID

import msgspec
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import Notification, Recording
from eventsourcing.utils import get_topic
from sqlalchemy import Connection, Engine, inspect, literal_column, select, update

from ledger import bulk, log_order
from ledger.accounts import FISCAL_ACCOUNT
from ledger.aggregates.book import Book
from ledger.application import LedgerApp
from ledger.errors import LogOrderError
from ledger.persistence import create_schema
from ledger.projections import tables
from ledger.regions import municipality_of

PAGE_SIZE_NOTIFICATIONS = 5000
# A rebuild reads the log in pages of this many notifications (the raw-read baseline fetches 10,000 at a time).
REBUILD_PAGE_NOTIFICATIONS = 10_000
PROJECTION_NAME = "ledger_projections"
BOOK_TOPIC_PREFIX = get_topic(Book) + "."


@dataclass
class _Deltas:
    """What one page of events changes, keyed by projection row."""

    opened: list[dict[str, object]] = field(default_factory=list)
    events: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    # Each book's closed flag after the page, where the page closed or reopened its year.
    closed: dict[str, bool] = field(default_factory=dict)
    balances: dict[tuple[str, str, int], list[int]] = field(default_factory=dict)
    fiscal: dict[tuple[str, str, int], list[int]] = field(default_factory=dict)
    # One tuple per posting line, in ``LINE_COLUMNS`` order.
    lines: list[tuple[Any, ...]] = field(default_factory=list)
    # (book, effective month, recorded month, account, tier) -> [debit, credit, closed]: proj_months.
    months: dict[tuple[str, str, str, str, int], list[int]] = field(default_factory=dict)
    periods: list[dict[str, object]] = field(default_factory=list)

    def add_posting(self, book_hex: str, account: str, tier: int, amount_fen: int, closing: bool) -> None:
        row = self.balances.setdefault((book_hex, account, tier), [0, 0, 0])
        if amount_fen > 0:
            row[0] += amount_fen
        else:
            row[1] -= amount_fen
        if closing:
            row[2] += amount_fen

    def add_month(self, key: tuple[str, str, str, str, int], amount_fen: int, closing: bool) -> None:
        """Add a line to its (book, effective month, recorded month, account, tier) row, as ``add_posting`` adds it to the balance."""
        row = self.months.setdefault(key, [0, 0, 0])
        if amount_fen > 0:
            row[0] += amount_fen
        else:
            row[1] -= amount_fen
        if closing:
            row[2] += amount_fen

    def add_fiscal(self, key: tuple[str, str, int], amount_fen: int, brought_forward: bool) -> None:
        row = self.fiscal.setdefault(key, [0, 0, 0])  # opening, receipts, payments
        if brought_forward:
            row[0] += amount_fen
        elif amount_fen > 0:
            row[1] += amount_fen
        else:
            row[2] -= amount_fen


class Projector:
    def __init__(self, app: LedgerApp, engine: Engine) -> None:
        self.app = app
        self.engine = engine
        self._book_keys: dict[str, tuple[str, str, int]] = {}
        self._rebuilding = False
        mapper = app.mapper
        self._plain_json = mapper.cipher is None and mapper.compressor is None

    def create_tables(self) -> None:
        """Create the projection tables (safe with many processes at once, see ``persistence.create_schema``).

        Tables of an older layout are dropped and the log folded into the
        new ones at once (``catch_up``), so that no read finds them empty.
        """
        self._replay = False
        create_schema(self.engine, self._create_tables)
        if self._replay:
            self.catch_up()

    def _create_tables(self) -> None:
        if not self._schema_is_current():
            # Projections are folds over the events: an older layout is dropped and replayed.
            self.drop_tables()
            self._replay = True
        tables.metadata.create_all(self.engine)
        with self.engine.begin() as connection:
            exists = connection.execute(
                select(tables.tracking.c.name).where(tables.tracking.c.name == PROJECTION_NAME)
            ).first()
            if exists is None:
                connection.execute(tables.tracking.insert().values(name=PROJECTION_NAME, notification_id=0))

    def _schema_is_current(self) -> bool:
        """False when a table's columns differ, or when a projection table is missing behind a position > 0.

        A table added since the store was last projected (``proj_months``
        on a store made before it) would be created empty while the other
        tables stand at the tracked position, and nothing would ever fill it.
        """
        inspector = inspect(self.engine)
        missing = False
        for table in (*tables.PROJECTION_TABLES, tables.tracking):
            if inspector.has_table(table.name):
                existing = {column["name"] for column in inspector.get_columns(table.name)}
                if existing != {column.name for column in table.columns}:
                    return False
            elif table is not tables.tracking:
                missing = True
        return not missing or not inspector.has_table(tables.tracking.name) or self.position() == 0

    def drop_tables(self) -> None:
        tables.metadata.drop_all(self.engine)
        self._book_keys.clear()

    def position(self) -> int:
        with self.engine.connect() as connection:
            value = connection.execute(
                select(tables.tracking.c.notification_id).where(tables.tracking.c.name == PROJECTION_NAME)
            ).scalar()
        return int(value or 0)

    def log_head(self) -> int:
        return int(self.app.recorder.max_notification_id() or 0)

    def settled_head(self) -> int:
        """The id up to which the log is settled: every id committed or abandoned (``log_order.settled_head``; PostgreSQL)."""
        with self.engine.begin() as connection:
            return log_order.settled_head(connection, self.app.recorder.id_sequence(connection))  # type: ignore[attr-defined]

    def catch_up(self, stop: Callable[[], bool] | None = None) -> int:
        """Apply every notification after the tracked position; return how many events were applied.

        ``stop`` is asked before each page: a follower asked to shut down
        ends after the page it is writing, never inside one.
        """
        applied = 0
        while stop is None or not stop():
            position = self.position()
            notifications = self._notifications_after(position)
            if not notifications:
                return applied
            try:
                self._apply_page(position, [(n.id, self._decode(n)) for n in notifications])
            except _PositionMoved:
                continue
            applied += len(notifications)
        return applied

    def apply_recordings(self, recordings: list[Recording]) -> int:
        """Fold events just saved straight from memory, when nothing else came between; else catch up.

        The compare-and-set on the tracked position still guards the write,
        so a page is never applied twice. On PostgreSQL, when another
        writer's batch with lower ids is still in flight, this waits for it
        to end (``log_order.wait_for_reservations_below``) so that the
        catch-up reaches this batch's events.
        """
        if not recordings:
            return 0
        first_id = recordings[0].notification.id
        ids = [r.notification.id for r in recordings]
        if self.position() != first_id - 1 or ids != list(range(first_id, first_id + len(ids))):
            # Batches that reserved ids before this one and are still in flight: catch up once they end.
            log_order.wait_for_reservations_below(self.engine, first_id)
            return self.catch_up()
        try:
            folded = [(r.notification.id, _from_memory(r.domain_event)) for r in recordings]
            self._apply_page(first_id - 1, folded)
        except _PositionMoved:
            return self.catch_up()
        return len(recordings)

    def apply_in_transaction(self, connection: Connection, recordings: list[Recording]) -> bool:
        """Fold events being saved into the projections on the saving transaction's connection.

        Called by the application after the batch's events and registry
        rows are written and before its commit, so events, registry and
        projections commit together (or not at all). It applies only when
        the tracked position is just before the batch (the compare-and-set
        moves it to the batch's last id and holds its row until the commit);
        otherwise, when projections lag (another writer's events are not
        folded yet, or a follower projects), it writes nothing and returns
        False, and the caller catches up after the commit.
        """
        if not recordings:
            return True
        first_id = recordings[0].notification.id
        last_id = recordings[-1].notification.id
        if last_id - first_id + 1 != len(recordings):
            return False
        moved = connection.execute(
            update(tables.tracking)
            .where(tables.tracking.c.name == PROJECTION_NAME)
            .where(tables.tracking.c.notification_id == first_id - 1)
            .values(notification_id=last_id)
        )
        if moved.rowcount != 1:
            return False
        deltas = _Deltas()
        for recording in recordings:
            folded = _from_memory(recording.domain_event)
            if folded is not None:
                self._fold(deltas, recording.notification.id, *folded)
        self._write(connection, deltas)
        return True

    def _notifications_after(self, position: int) -> list[Notification]:
        """One page of the notification log, read with a plain indexed query.

        On PostgreSQL it reads only up to the settled head
        (``log_order.settled_head``): several writers commit out of id order,
        and a page must not pass a batch still in flight. A full page is
        extended to the end of the transaction
        that wrote its last event (the rows' ``xmin``), so a page never ends
        inside a saved batch and a reader of the projections never sees part
        of a document (a batch is at most ``BATCH_SIZE_DOCUMENTS``). SQLite
        keeps no such mark; there a batch of more than a page of events may
        show in two steps.
        """
        table = self.app.recorder.events_record_cls.__table__  # type: ignore[attr-defined]
        columns = [table.c.id, table.c.originator_id, table.c.originator_version, table.c.topic, table.c.state]
        postgres = self.engine.dialect.name == "postgresql"
        page: list[Any] = []
        if postgres:
            columns.append(literal_column("xmin::text"))
            head = self.settled_head()
            if head <= position:
                return []
        with self.engine.connect() as connection:
            while True:
                query = select(*columns).where(table.c.id > position).order_by(table.c.id).limit(PAGE_SIZE_NOTIFICATIONS)
                if postgres:
                    query = query.where(table.c.id <= head)
                rows = list(connection.execute(query))
                if page:
                    # Keep only the rest of the last transaction: the rows after it wait for the next page.
                    rows = list(takewhile(lambda r: r[5] == page[-1][5], rows))
                page += rows
                if not postgres or len(rows) < PAGE_SIZE_NOTIFICATIONS:
                    break
                position = rows[-1][0]
        return [Notification(id=r[0], originator_id=r[1], originator_version=r[2], topic=r[3], state=bytes(r[4])) for r in page]

    def _decode(self, notification: Notification) -> _Folded | None:
        """A book event as (book, kind, attributes); other aggregates' events are skipped.

        When the store keeps events as plain JSON (no cipher, no compressor)
        the attributes are read straight from it (``stored_attributes``):
        the fold needs only the postings and a book's identity, not the
        library's full domain event.
        """
        if not notification.topic.startswith(BOOK_TOPIC_PREFIX):
            return None
        kind = notification.topic[len(BOOK_TOPIC_PREFIX):]
        if self._plain_json:
            return notification.originator_id.hex, kind, stored_attributes(notification.state, notification.originator_version)
        event = self.app.mapper.to_domain_event(notification)
        return event.originator_id.hex, kind, _with_posting_rows(vars(event))

    def rebuild(self) -> int:
        """Drop the projections and fold the whole log again, in one transaction; return the events read.

        The tables are dropped and created again inside the transaction
        (both backends keep DDL transactional), so a crash or an error
        anywhere leaves the previous projections and position as they were,
        and readers wait for the new ones instead of seeing empty tables.
        The log is streamed with the bare driver (a server-side cursor on
        PostgreSQL, ``bulk.stream_rows``), a page of
        ``REBUILD_PAGE_NOTIFICATIONS`` at a time: each page's lines and
        periods are written with ``COPY`` (``executemany`` on SQLite), while
        books, balances, fiscal accounts and months (per book and account) are
        summed in memory and written once at the end. The lines' secondary
        indexes (and on PostgreSQL their primary key) are dropped for the
        load and built once after it (``_LineKeys``). On PostgreSQL it first
        waits for the writers in flight and keeps new ones waiting until it
        commits (``log_order.exclude_writers``), so the log it folds has no
        batch still to come below its end.
        """
        self.create_tables()
        self._rebuilding = True
        try:
            return self._rebuild()
        finally:
            self._rebuilding = False

    def _rebuild(self) -> int:
        totals = _Deltas()
        count = last_id = 0
        with self.engine.begin() as connection:
            # No writer in flight while the log is read: its events would come after the position set at the end.
            log_order.exclude_writers(connection)
            # Taking the tracking row first makes a projector catching up meanwhile wait, then find the position
            # moved and back off; on SQLite this first write also opens the transaction the DDL then runs in
            # (Python's sqlite3 begins one before a data statement, never before DDL).
            connection.execute(
                update(tables.tracking).where(tables.tracking.c.name == PROJECTION_NAME).values(notification_id=0)
            )
            tables.metadata.drop_all(connection)
            self._book_keys.clear()
            tables.metadata.create_all(connection)
            built_after = _LineKeys(connection)
            for page in self._log_pages():
                deltas = _Deltas(events=totals.events, closed=totals.closed, balances=totals.balances, fiscal=totals.fiscal, months=totals.months)
                self._fold_stored(deltas, page)
                totals.opened.extend(deltas.opened)
                _write_dated(connection, deltas)
                count += len(page)
                last_id = page[-1][0]
            self._write(connection, totals)
            built_after.build()
            connection.execute(tables.tracking.insert().values(name=PROJECTION_NAME, notification_id=last_id))
        return count

    def _fold_stored(self, deltas: _Deltas, page: list[tuple[int, str, int, str, Any]]) -> None:
        """Fold a page of stored rows (``_log_pages``); other aggregates' events are skipped."""
        prefix = len(BOOK_TOPIC_PREFIX)
        fold = self._fold
        attributes = self._stored_book_attributes
        for notification_id, book_hex, version, topic, state in page:
            if topic.startswith(BOOK_TOPIC_PREFIX):
                fold(deltas, notification_id, book_hex, topic[prefix:], attributes(book_hex, version, topic, state))

    def _log_pages(self) -> Iterable[list[tuple[int, str, int, str, Any]]]:
        """The whole log in id order, in pages of (id, book hex, version, topic, stored state), on a connection of its own.

        One streamed query with the bare driver (``bulk.stream_rows``). The
        originator comes as the 32-digit hex the fold keys books by. On
        PostgreSQL a plain-JSON state is read as text (``convert_from``),
        which the server sends and the driver takes at about half the cost
        of ``bytea``'s hex form; other states come as bytes.
        """
        table = self.app.recorder.events_record_cls.__table__  # type: ignore[attr-defined]
        name = table.fullname
        with self.engine.connect() as connection:
            if bulk.is_postgresql(connection):
                as_text = self._plain_json and connection.exec_driver_sql("SHOW server_encoding").scalar() == "UTF8"
                state = "convert_from(state, 'UTF8')" if as_text else "state"
                statement = f"SELECT id, replace(originator_id::text, '-', ''), originator_version, topic, {state} FROM {name} ORDER BY id"
                yield from bulk.stream_rows(connection, statement, REBUILD_PAGE_NOTIFICATIONS)
                return
            statement = f"SELECT id, lower(hex(originator_id)), originator_version, topic, state FROM {name} ORDER BY id"
            yield from bulk.stream_rows(connection, statement, REBUILD_PAGE_NOTIFICATIONS)

    def _stored_book_attributes(self, book_hex: str, version: int, topic: str, state: Any) -> Mapping[str, Any]:
        """A book event's attributes from its stored row, as ``_decode`` gives them."""
        if self._plain_json:
            return stored_attributes(state, version)
        notification = Notification(id=0, originator_id=UUID(book_hex), originator_version=version, topic=topic, state=bytes(state))
        return _with_posting_rows(vars(self.app.mapper.to_domain_event(notification)))

    def _apply_page(self, position: int, events: list[tuple[int, _Folded | None]]) -> None:
        """Fold (notification id, book event) pairs and write them with the new position, in one transaction."""
        deltas = _Deltas()
        for notification_id, folded in events:
            if folded is not None:
                self._fold(deltas, notification_id, *folded)
        # Move the tracked position first: its row lock makes a second projector wait here,
        # then find the position moved and back off before writing anything.
        with self.engine.begin() as connection:
            moved = connection.execute(
                update(tables.tracking)
                .where(tables.tracking.c.name == PROJECTION_NAME)
                .where(tables.tracking.c.notification_id == position)
                .values(notification_id=events[-1][0])
            )
            if moved.rowcount != 1:
                # Another projector applied this page first; roll back and read again.
                raise _PositionMoved()
            self._write(connection, deltas)

    def _fold(self, deltas: _Deltas, notification_id: int, book_hex: str, kind: str, data: Mapping[str, Any]) -> None:
        """Fold one book event, given as its class name and its attributes (from memory or from the store)."""
        if kind == "Opened":
            deltas.opened.append(
                {
                    "book_id": book_hex,
                    "region": data["region"],
                    "scheme": data["scheme"],
                    "year": data["year"],
                    "municipality": data["municipality"],
                    "closed": False,
                    "events": 0,
                }
            )
            self._book_keys[book_hex] = (data["region"], data["scheme"], data["year"])
            deltas.events[book_hex] += 1
            return
        deltas.events[book_hex] += 1
        if kind in CLOSING_KINDS:
            deltas.closed[book_hex] = True
        elif kind == "PeriodReopened" and len(str(data.get("period", ""))) == 4:
            deltas.closed[book_hex] = False
        brought_forward = kind in OPENING_KINDS
        closing = kind == "YearClosed"
        effective_date = data["effective_date"]
        recorded_at = recorded_text(data["timestamp"])
        period = effective_date[:7]
        version = data["originator_version"]
        document_id = data["document_id"]
        voucher = data["voucher"]
        lines = deltas.lines
        for number, (account, tier, amount_fen) in enumerate(data["postings"]):
            deltas.add_posting(book_hex, account, tier, amount_fen, closing)
            deltas.add_month((book_hex, period, recorded_at[:7], account, tier), amount_fen, closing)
            if account == FISCAL_ACCOUNT:
                deltas.add_fiscal(self._book_key(book_hex), amount_fen, brought_forward)
            # LINE_COLUMNS order.
            lines.append(
                (notification_id, number, book_hex, version, kind, document_id, period, voucher, effective_date, recorded_at, account, tier, amount_fen)
            )
        if kind in PERIOD_KINDS:
            deltas.periods.append(
                {
                    "notification_id": notification_id,
                    "book_id": book_hex,
                    "action": "reopen" if kind == "PeriodReopened" else "close",
                    "period": data.get("period") or effective_date[:4],
                    "document_id": data["document_id"],
                    "actor": data["actor"],
                    "reason": data.get("reason", ""),
                    "effective_date": effective_date,
                    "recorded_at": recorded_at,
                }
            )

    def _book_key(self, book_hex: str) -> tuple[str, str, int]:
        key = self._book_keys.get(book_hex)
        if key is None:
            if self._rebuilding:
                # The rebuild's own transaction holds proj_books; a second connection would wait on it for ever.
                raise LogOrderError(
                    f"book {book_hex} posts before its Opened event in the event log, so its fiscal account cannot be rebuilt; "
                    "the log was changed outside the ledger: run `ledger verify` to see what, and restore the store from a backup"
                )
            with self.engine.connect() as connection:
                row = connection.execute(
                    select(tables.books.c.region, tables.books.c.scheme, tables.books.c.year).where(
                        tables.books.c.book_id == book_hex
                    )
                ).one()
            key = self._book_keys[book_hex] = (row.region, row.scheme, row.year)
        return key

    def _write(self, connection: Connection, deltas: _Deltas) -> None:
        """Write a page's deltas: a few multi-row statements and ``COPY`` (``bulk``), whatever the page's size."""
        bulk.insert_rows(connection, tables.books.name, BOOK_COLUMNS, [tuple(row[name] for name in BOOK_COLUMNS) for row in deltas.opened])
        # The books the page touched: events added, and the closed flag where the page closed or reopened a year.
        bulk.update_books(
            connection,
            tables.books.name,
            [(book_hex, count, int(deltas.closed.get(book_hex, -1))) for book_hex, count in deltas.events.items()],
        )
        bulk.upsert_adding(
            connection,
            tables.balances.name,
            ("book_id", "account", "tier", "debit_fen", "credit_fen", "balance_fen", "closed_fen"),
            ("book_id", "account", "tier"),
            ("debit_fen", "credit_fen", "balance_fen", "closed_fen"),
            [(b, a, t, d, c, d - c, z) for (b, a, t), (d, c, z) in deltas.balances.items()],
        )
        bulk.upsert_adding(
            connection,
            tables.fiscal_accounts.name,
            ("region", "scheme", "year", "municipality", "opening_fen", "receipts_fen", "payments_fen", "closing_fen"),
            ("region", "scheme", "year"),
            ("opening_fen", "receipts_fen", "payments_fen", "closing_fen"),
            [(r, s, y, municipality_of(r), o, i, p, o + i - p) for (r, s, y), (o, i, p) in deltas.fiscal.items()],
        )
        bulk.upsert_adding(
            connection,
            tables.months.name,
            MONTH_COLUMNS,
            MONTH_COLUMNS[:5],
            MONTH_COLUMNS[5:],
            [(*key, d, c, z) for key, (d, c, z) in deltas.months.items()],
        )
        _write_dated(connection, deltas)


def _write_dated(connection: Connection, deltas: _Deltas) -> None:
    """The page's rows keyed by notification id: posting lines and period closes, inserted (``COPY`` on PostgreSQL)."""
    bulk.insert_rows(connection, tables.lines.name, LINE_COLUMNS, deltas.lines)
    bulk.insert_rows(connection, tables.periods.name, PERIOD_COLUMNS, [tuple(row[name] for name in PERIOD_COLUMNS) for row in deltas.periods])


class _PositionMoved(Exception):
    pass


class _LineKeys:
    """Drops ``proj_lines``' indexes while a rebuild loads it, and builds them once after, from sorted rows.

    On PostgreSQL the primary key goes too (SQLite cannot drop one): one
    sorted build after the load costs less than an insert into the key per
    line, and adding it checks the (notification id, line) pairs are
    unique as the key would have checked each insert.
    """

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.primary_key: str | None = None
        if bulk.is_postgresql(connection):
            self.primary_key = inspect(connection).get_pk_constraint(tables.lines.name)["name"]
            connection.exec_driver_sql(f"ALTER TABLE {tables.lines.name} DROP CONSTRAINT {self.primary_key}")
        for index in tables.lines.indexes:
            index.drop(connection)

    def build(self) -> None:
        if self.primary_key is not None:
            columns = ", ".join(column.name for column in tables.lines.primary_key.columns)
            self.connection.exec_driver_sql(f"ALTER TABLE {tables.lines.name} ADD CONSTRAINT {self.primary_key} PRIMARY KEY ({columns})")
        for index in tables.lines.indexes:
            index.create(self.connection)


# (book id hex, event class name, event attributes)
_Folded = tuple[str, str, Mapping[str, Any]]
CLOSING_KINDS = frozenset({"YearClosed", "FundsMerged"})
# The lines that open a book: balances carried from last year's close, or an earlier system's audited balances.
OPENING_KINDS = frozenset({"BalancesCarriedForward", "OpeningBalancesEntered"})
PERIOD_KINDS = frozenset({"YearClosed", "MonthClosed", "PeriodReopened"})


def recorded_text(timestamp: Any) -> str:
    """An event's recorded time as fixed-width UTC text, from memory (datetime) or from stored JSON.

    Stored JSON holds the library's ``{"_type_": "datetime_iso", "_data_":
    datetime.isoformat()}``. The ledger records times in UTC, so with
    microseconds that text is already ``YYYY-MM-DDTHH:MM:SS.ffffff+00:00``
    and is returned as it is; any other form (no microseconds, another
    offset) is parsed and written in that form.
    """
    if not isinstance(timestamp, datetime):
        text = timestamp["_data_"]
        if len(text) == 32 and text[10] == "T" and text[19] == "." and text.endswith("+00:00"):
            return text
        timestamp = datetime.fromisoformat(text)
    return timestamp.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")


class _StoredTime(TypedDict):
    _data_: str


class _StoredBookEvent(TypedDict, total=False):
    """The fields of a stored book event that ``Projector._fold`` reads; others are skipped unread.

    A field the fold starts to read must be added here (the tests compare
    the fold from the store with the fold from memory).
    """

    timestamp: _StoredTime
    region: str
    scheme: str
    year: int
    municipality: str
    document_id: str
    effective_date: str
    actor: str
    postings: list[tuple[str, int, int]]
    voucher: int
    period: str
    reason: str


_STORED_BOOK_EVENT = msgspec.json.Decoder(_StoredBookEvent)


def stored_attributes(state: bytes | str | memoryview, originator_version: int) -> dict[str, Any]:
    """A book event's attributes from its stored plain JSON, with its version: a dict of what the fold reads.

    Decoded with msgspec against ``_StoredBookEvent``, which checks the
    types and skips the fields the fold never reads (the computation, the
    hashes), about four times faster than ``json.loads`` of the whole state.
    A state that does not fit (a field of another type) is decoded whole by
    ``json.loads`` as before, its postings taken as (str, int, int) as
    ``postings_from_rows`` takes them; JSON that does not parse raises
    ``json.JSONDecodeError``.
    """
    try:
        data: dict[str, Any] = _STORED_BOOK_EVENT.decode(state)
    except msgspec.MsgspecError:
        data = _with_posting_rows(json.loads(bytes(state) if isinstance(state, memoryview) else state))
    data["originator_version"] = originator_version
    return data


def _with_posting_rows(data: Mapping[str, Any]) -> dict[str, Any]:
    """The attributes with their postings as (account, tier, amount) tuples, typed as ``postings_from_rows`` types them."""
    postings = data.get("postings")
    if postings is None:
        return dict(data)
    return {**data, "postings": [(str(row[0]), int(row[1]), int(row[2])) for row in postings]}


def _from_memory(event: DomainEventProtocol) -> _Folded | None:
    if not isinstance(event, (Book.Opened, Book.Posted)):
        return None
    return event.originator_id.hex, type(event).__name__, {**vars(event), "originator_version": event.originator_version}


LINE_COLUMNS = tuple(column.name for column in tables.lines.columns)
# The order in which ``_fold`` builds a line's tuple; a table that changes it must change the fold too.
if LINE_COLUMNS != (
    "notification_id", "line", "book_id", "version", "kind", "document_id", "period", "voucher", "effective_date", "recorded_at",
    "account", "tier", "amount_fen",
):
    raise RuntimeError(f"proj_lines columns {LINE_COLUMNS} are not the order Projector._fold builds lines in")
PERIOD_COLUMNS = tuple(column.name for column in tables.periods.columns)
BOOK_COLUMNS = tuple(column.name for column in tables.books.columns)
# The key (book, month, recorded month, account, tier), then the sums (debit, credit, closed).
MONTH_COLUMNS = tuple(column.name for column in tables.months.columns)
