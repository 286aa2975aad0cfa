"""A book's events read with the form they were stored in, so their chain links can be proven.

The application's ``events.get`` gives domain events after every upcaster
of this release has run; the chain was computed over what the writer
stored, which an upcaster may have added to. ``read_events`` gives both:
the domain event to replay, and the stored state as decoded, before any
upcast, to recompute the link from (``ledger.chain.stored_link``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Mapper, StoredEvent

from ledger.chain import stored_link


@dataclass(frozen=True)
class StoredRead:
    """One stored event, as replayed and as stored.

    Attributes:
      event: the domain event, upcast to this release's ``class_version``.
      topic: the stored topic (module and class path).
      fields: the stored state as decoded before any upcast, with the
        row's ``originator_id`` and ``originator_version``.
    """

    event: Any
    topic: str
    fields: dict[str, Any]

    def link(self, previous: str) -> str:
        """This event's chain link after ``previous``, recomputed from the stored form."""
        return stored_link(previous, self.topic, self.fields)


def stored_fields(mapper: Mapper[Any], stored: StoredEvent) -> dict[str, Any]:
    """The stored state decoded exactly as the mapper decodes it, but not upcast.

    Raises whatever the cipher, compressor or transcoder raise on a row that
    no longer decodes; the callers report that as a broken chain.
    """
    state = stored.state
    if mapper.cipher:
        state = mapper.cipher.decrypt(state)
    if mapper.compressor:
        state = mapper.compressor.decompress(state)
    fields: dict[str, Any] = mapper.transcoder.decode(state)
    identifier = stored.originator_id
    fields["originator_id"] = identifier if isinstance(identifier, UUID) else UUID(str(identifier))
    fields["originator_version"] = stored.originator_version
    return fields


def read_events(app: Any, identifier: UUID, gt: int | None = None, lte: int | None = None, limit: int | None = None) -> list[StoredRead]:
    """The events of one aggregate in version order, each with its stored form; at most ``limit``."""
    rows = app.recorder.select_events(identifier, gt=gt, lte=lte, limit=limit)
    return [StoredRead(app.mapper.to_domain_event(row), row.topic, stored_fields(app.mapper, row)) for row in rows]
