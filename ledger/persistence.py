"""The ledger's persistence: the ``eventsourcing-sqlalchemy`` recorder, without the ORM on the write path.

The library's recorder adds one ORM object per event to a session and
flushes it: about half the time of a save goes to that unit of work
(../shared/BASELINES.md). This recorder writes the same rows to the same
table with one Core ``INSERT … RETURNING id`` for the whole batch (SQLAlchemy
sends it as multi-row inserts), after the same table lock, so notification
ids stay in commit order and everything else — reading, notifications,
subscriptions, tracking — is the library's, untouched.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import StoredEvent
from eventsourcing_sqlalchemy.factory import SQLAlchemyFactory
from eventsourcing_sqlalchemy.recorders import SQLAlchemyApplicationRecorder
from sqlalchemy import insert
from sqlalchemy.orm import Session

from ledger import registry, seals  # noqa: F401  (seals registers its table with the registry's)


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
        super().create_table()
        registry.metadata.create_all(self.datastore.engine)


class LedgerFactory(SQLAlchemyFactory):
    application_recorder_class = LedgerApplicationRecorder


PERSISTENCE_TOPIC = "ledger.persistence:LedgerFactory"
