"""The ledger's persistence: the ``eventsourcing-sqlalchemy`` recorder, without the ORM on the write path.

The library's recorder adds one ORM object per event to a session and
flushes it: about half the time of a save goes to that unit of work
(docs/performance.md). This recorder writes the same rows to the same
table with the bare driver (``COPY`` on PostgreSQL, ``executemany`` on
SQLite) after reserving the batch's ids once, so that several writers
post at once on PostgreSQL (``ledger.log_order``). Reading events and
notifying are the library's, untouched; the projector pages the log only up
to its settled head (``log_order.settled_head``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from eventsourcing.persistence import StoredEvent
from eventsourcing_sqlalchemy.factory import SQLAlchemyFactory
from eventsourcing_sqlalchemy.recorders import SQLAlchemyApplicationRecorder
from sqlalchemy import Connection, Engine, and_, or_, text
from sqlalchemy.exc import IntegrityError as SQLAlchemyIntegrityError
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from ledger import bulk, formats, log_order, registry, seals  # noqa: F401  (seals registers its table with the registry's)
from ledger.access import tables as access_tables  # noqa: F401  (users, grants, proposals: with the registry's)
from ledger import verification_log  # noqa: F401  (the verification log: with the registry's tables)


# Any fixed 64-bit number, the same in every process: the key of the lock taken while creating the schema.
SCHEMA_LOCK_KEY = 0x6C65_6467_6572_0001


SCHEMA_ATTEMPTS = 5

EVENT_COLUMNS = ("id", "originator_id", "originator_version", "topic", "state")


def create_schema(engine: Engine, create: Callable[[], None]) -> None:
    """Run ``create`` (tables made if missing) safely with any number of processes starting at once.

    ``CREATE TABLE`` after a check that the table is missing is not atomic:
    two processes starting at once on an empty database both see it missing
    and the second fails (``UniqueViolation`` on PostgreSQL's catalogue,
    "table already exists" on SQLite). On PostgreSQL ``create`` runs under a
    transaction-scoped advisory lock, so the second waits and then finds
    the tables made; the lock ends with the transaction, or the connection
    if the process dies. SQLite has no such lock across connections, so
    there ``create`` is tried again after such a failure, when the check
    finds what the other process made.
    """
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SCHEMA_LOCK_KEY})
            create()
        return
    for attempt in range(1, SCHEMA_ATTEMPTS + 1):
        try:
            create()
            return
        except (OperationalError, SQLAlchemyIntegrityError):
            if attempt == SCHEMA_ATTEMPTS:
                raise


class LedgerApplicationRecorder(SQLAlchemyApplicationRecorder):
    """The library's recorder, writing a batch's events with the bare driver, several writers at once on PostgreSQL.

    Notification ids come from one reservation for the whole batch. On
    PostgreSQL that is ``log_order.reserve_ids`` (one ``setval(nextval() +
    n - 1)`` on the id sequence, announced to readers until the commit)
    instead of the library's exclusive table lock, so writers do not wait
    for one another; readers that page the log read up to
    ``log_order.settled_head``. On SQLite the database's own write lock,
    taken by the first row's insert, whose id the others follow, keeps ids
    in commit order. The rows then go in with explicit ids (``COPY`` on
    PostgreSQL, ``executemany`` on SQLite).
    """

    def _insert_stored_events(self, session: Session, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int]:
        if not stored_events:
            return []
        connection = session.connection()
        table = self.events_record_cls.__table__
        bind_uuid = table.c.originator_id.type.process_bind_param
        dialect = connection.dialect
        rows = [
            (bind_uuid(event.originator_id, dialect), event.originator_version, event.topic, event.state)
            for event in stored_events
        ]
        if dialect.name == "postgresql":
            first_id = log_order.reserve_ids(connection, self.id_sequence(connection), len(rows))
            bulk.insert_rows(connection, table.fullname, EVENT_COLUMNS, [(first_id + n, *row) for n, row in enumerate(rows)])
        else:
            first_id = self._insert_first(connection, table.fullname, rows[0])
            bulk.insert_rows(connection, table.fullname, EVENT_COLUMNS, [(first_id + n, *row) for n, row in enumerate(rows) if n])
        self._notify_channel(session)
        return list(range(first_id, first_id + len(rows)))

    def id_sequence(self, connection: Connection) -> str:
        """The name of the events table's id sequence (PostgreSQL), looked up once."""
        if self._id_sequence is None:
            self._id_sequence = connection.execute(
                text("SELECT pg_get_serial_sequence(:table, 'id')"), {"table": self.events_record_cls.__table__.fullname}
            ).scalar_one()
        return self._id_sequence

    @staticmethod
    def _insert_first(connection: Connection, table_name: str, row: tuple[object, ...]) -> int:
        """Insert one row (SQLite), which takes the database's write lock, and return its id."""
        statement = f"INSERT INTO {table_name} ({', '.join(EVENT_COLUMNS[1:])}) VALUES (?, ?, ?, ?)"
        with bulk.driver_cursor(connection, statement) as cursor:
            cursor.execute(statement, row)
            return int(cursor.lastrowid)

    _id_sequence: str | None = None

    def create_table(self) -> None:
        """The events table and the registry's tables, created safely by any number of processes at once.

        A store of another format than this release's is refused before
        anything is made (``ledger.formats.prepare``, ``StoreFormatError``).
        """
        engine = self.datastore.engine

        def create() -> None:
            from ledger.statements.issuing import metadata as issued_metadata  # late: issuing reads the projections

            super(LedgerApplicationRecorder, self).create_table()
            registry.metadata.create_all(engine)
            issued_metadata.create_all(engine)

        url = engine.url.render_as_string(hide_password=False)
        create_schema(engine, lambda: formats.prepare(engine, url, create))


class LedgerFactory(SQLAlchemyFactory):
    application_recorder_class = LedgerApplicationRecorder


PERSISTENCE_TOPIC = "ledger.persistence:LedgerFactory"


def after_event(table: Any, last: tuple[Any, int]) -> Any:
    """Rows of an event table (or its snapshots) after ``(originator_id, version)``, for paging in that order.

    Written as column comparisons, not a row-value ``tuple_(…) > tuple_(…)``:
    the right-hand tuple's values carry no column type, so SQLite bound the
    UUID as text with hyphens, which sorts below the stored hex form, and a
    page after 5,000 events came back as the same page for ever.
    """
    originator_id, version = last
    return or_(
        table.c.originator_id > originator_id,
        and_(table.c.originator_id == originator_id, table.c.originator_version > version),
    )
