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
    """The events of one aggregate in version order, each with its stored form; at most ``limit``.

    An event whose class is at ``class_version`` 1 and whose stored state
    names no class version was not upcast: its attributes are its stored
    form, and the state is decoded once. Any other is decoded a second time,
    without upcasting (``stored_fields``).
    """
    return [stored_read(app.mapper, row) for row in app.recorder.select_events(identifier, gt=gt, lte=lte, limit=limit)]


def stored_read(mapper: Mapper[Any], row: StoredEvent) -> StoredRead:
    """One stored event (a row of the events table, or a record of an archive) as replayed and as stored."""
    event = mapper.to_domain_event(row)
    fields = dict(vars(event)) if _as_stored(mapper, type(event), row.state) else stored_fields(mapper, row)
    return StoredRead(event, row.topic, fields)


def _as_stored(mapper: Mapper[Any], event_class: type, state: Any) -> bool:
    """Whether the mapper left the decoded state as stored: nothing to upcast, and a state it did not decipher.

    Only ``bytes`` are searched (``in`` on a memoryview compares single bytes and finds nothing); anything else takes
    the second decoding.
    """
    plain = mapper.cipher is None and mapper.compressor is None and isinstance(state, bytes)
    return plain and getattr(event_class, "class_version", 1) == 1 and b'"class_version"' not in state
