"""The ledger's persistence: the ``eventsourcing-sqlalchemy`` recorder, without the ORM on the write path.

The library's recorder adds one ORM object per event to a session and
flushes it: about half the time of a save goes to that unit of work
(docs/performance.md). This recorder writes the same rows to the same
table with one Core ``INSERT … RETURNING id`` for the whole batch (SQLAlchemy
sends it as multi-row inserts), after the same table lock, so notification
ids stay in commit order and everything else — reading, notifications,
subscriptions, tracking — is the library's, untouched.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from eventsourcing.persistence import StoredEvent
from eventsourcing_sqlalchemy.factory import SQLAlchemyFactory
from eventsourcing_sqlalchemy.recorders import SQLAlchemyApplicationRecorder
from sqlalchemy import Engine, and_, insert, or_, text
from sqlalchemy.exc import IntegrityError as SQLAlchemyIntegrityError
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from ledger import registry, seals  # noqa: F401  (seals registers its table with the registry's)
from ledger.access import tables as access_tables  # noqa: F401  (users, grants, proposals: with the registry's)


# The layout of the store's tables and stored events, as this release writes them. An archive's manifest
# names it (ledger.archive), so an archive made by a later format is refused by an earlier ledger.
STORE_FORMAT_VERSION = 1


# Any fixed 64-bit number, the same in every process: the key of the lock taken while creating the schema.
SCHEMA_LOCK_KEY = 0x6C65_6467_6572_0001


SCHEMA_ATTEMPTS = 5


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
    def _insert_stored_events(self, session: Session, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int]:
        if not stored_events:
            return []
        table = self.events_record_cls.__table__
        rows = [
            {
                "originator_id": event.originator_id,
                "originator_version": event.originator_version,
                "topic": event.topic,
                "state": event.state,
            }
            for event in stored_events
        ]
        self._lock_table(session)
        statement = insert(table).returning(table.c.id, sort_by_parameter_order=True)
        notification_ids = [row[0] for row in session.execute(statement, rows)]
        self._notify_channel(session)
        return notification_ids


    def create_table(self) -> None:
        """The events table and the registry's tables, created safely by any number of processes at once."""
        def create() -> None:
            super(LedgerApplicationRecorder, self).create_table()
            registry.metadata.create_all(self.datastore.engine)

        create_schema(self.datastore.engine, create)


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
