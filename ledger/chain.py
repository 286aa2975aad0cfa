"""The hash chain over a book's events.

Each event's ``chain`` is SHA-256 over the previous event's chain and the
event's own content: its class, its book and version, its recorded time and
every attribute it carries, written as canonical JSON (sorted keys, no
spaces, UTF-8). The first event (the book's opening) links to ``GENESIS``.
The link is proven over the event as STORED, before any upcaster of a
later release has added to it (``stored_link``): an old event read by a
program whose event class has a newer ``class_version`` still verifies,
and an event written at ``class_version`` 2 or later has that version in
its stored state and in its link.
Changing a stored event, removing one or moving one to another version
breaks the chain at that event; removing the last events is caught by a
seal kept outside the database, by the document registry and by the
projections, which all remember more than is left.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

GENESIS = "0" * 64


def _plain(value: Any) -> Any:
    if isinstance(value, UUID):
        return value.hex
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"cannot put {type(value).__name__} in a chain link")


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_plain)


def chain_hash(previous: str, kind: str, fields: Mapping[str, Any]) -> str:
    """The link after ``previous`` for an event of class ``kind`` with these attributes (``chain`` itself left out)."""
    content = {key: value for key, value in fields.items() if key != "chain"}
    text = previous + "\n" + kind + "\n" + canonical(content)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def kind_of_topic(topic: str) -> str:
    """The event class's name in a stored topic: ``ledger.aggregates.book:Book.ClaimPaid`` gives ``ClaimPaid``."""
    return topic.rsplit(":", 1)[-1].rsplit(".", 1)[-1]


def stored_link(previous: str, topic: str, stored_fields: Mapping[str, Any]) -> str:
    """Recompute a link from the previous link and an event as stored (``ledger.stored.read_events``).

    ``stored_fields`` is the stored state as decoded, before any upcast,
    with ``originator_id`` and ``originator_version`` from the row, and
    ``class_version`` when the event was written at 2 or later.
    """
    return chain_hash(previous, kind_of_topic(topic), stored_fields)


def fields_to_link(event_class: type, fields: Mapping[str, Any]) -> dict[str, Any]:
    """What the writer links for a new event: its fields, and its ``class_version`` when the store will record one.

    The mapper stores ``class_version`` only when it is above 1
    (``eventsourcing.persistence.Mapper.to_stored_event``), so a version-1
    event links exactly what it did before class versions were declared.
    """
    class_version = getattr(event_class, "class_version", 1)
    return {**fields, "class_version": class_version} if class_version > 1 else dict(fields)


def link_of(event: Any, previous: str) -> str:
    """A link recomputed from an event's attributes as read back, upcasters included.

    It equals the stored link only for an event nothing was upcast on
    (every event of format 0001); proofs use ``StoredRead.link``
    (``ledger.stored.read_events``), which holds for upcast events too.
    """
    return chain_hash(previous, type(event).__name__, fields_to_link(type(event), vars(event)))
