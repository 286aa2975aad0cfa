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
import itertools
import json
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import orjson

GENESIS = "0" * 64
# Types of a link's top-level attributes (an event's id and timestamp) written here as ``_plain`` writes them;
# a subclass of one is left to ``json``, which calls ``_plain`` for it too.
_PLAIN_AT_TOP = frozenset({UUID, datetime, date, Decimal})


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
    """``value`` as canonical JSON: sorted keys, no spaces, text as itself (not ``\\u`` escapes).

    Defined as ``json.dumps(value, sort_keys=True, separators=(",", ":"),
    ensure_ascii=False, default=_plain)``, and written faster where it can
    be (``fast_canonical``). Raises ``TypeError`` for a value JSON cannot hold.
    """
    fast = fast_canonical(value)
    if fast is not None:
        return fast.decode("utf-8")
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_plain)


def canonical_bytes(value: Any) -> bytes:
    """``canonical(value)`` in UTF-8; raises ``UnicodeEncodeError`` for a lone surrogate, ``TypeError`` as ``canonical``."""
    fast = fast_canonical(value)
    if fast is not None:
        return fast
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_plain).encode("utf-8")


def fast_canonical(value: Any) -> bytes | None:
    """``canonical(value)`` in UTF-8 written by ``orjson``, or None where only ``json`` writes it.

    For values made only of ``dict`` (text keys), ``list``, ``tuple``, text,
    ``int``, ``bool`` and ``None`` — every event and document the ledger
    writes — ``orjson`` with sorted keys writes exactly the bytes of the
    definition, about ten times faster (tests/test_posting_lean.py holds
    the two side by side). Anything else — a float, whose digits the two
    write differently; a UUID or a date inside a value, which ``orjson``
    would write in its own way; an integer beyond 64 bits; text with a lone
    surrogate, which ``orjson`` refuses — is left to ``json``.
    """
    try:
        if writes_alike(value):
            return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    except (orjson.JSONEncodeError, RecursionError):
        pass
    return None


def writes_alike(value: Any) -> bool:
    """True when ``value`` holds only the JSON types ``orjson`` and ``json`` write the same way.

    A walk over a stack, not recursion. The types of a container's items are
    gathered in C (``set(map(type, …))``), those of a list of lists (an
    event's postings) all at once; only items that are containers, or no
    plain leaf, are looked at one by one.
    """
    pending = [value]
    while pending:
        value = pending.pop()
        kind = type(value)
        if kind is dict:
            if not _TEXT.issuperset(map(type, value)) and not all(isinstance(key, str) for key in value):
                return False
            items: Any = value.values()
        elif kind is list or kind is tuple:
            items = value
        elif kind in _LEAVES or isinstance(value, str):
            continue
        else:
            return False
        kinds = set(map(type, items))
        if kinds <= _LEAVES:
            continue
        if kinds == _LIST and _LEAVES.issuperset(map(type, itertools.chain.from_iterable(items))):
            continue
        pending.extend(item for item in items if type(item) not in _LEAVES)
    return True


_LIST = {list}
_TEXT = frozenset({str})
_LEAVES = frozenset({str, int, bool, type(None)})


def chain_hash(previous: str, kind: str, fields: Mapping[str, Any]) -> str:
    """The link after ``previous`` for an event of class ``kind`` with these attributes (``chain`` itself left out).

    SHA-256, as 64 hex digits, of ``previous + "\\n" + kind + "\\n" +
    canonical(fields without chain)`` in UTF-8. Raises ``TypeError`` for an
    attribute JSON cannot hold.
    """
    # UUIDs, times and decimals at the top (the event's id and timestamp) are written as ``_plain`` writes them.
    content = {
        key: _plain(value) if type(value) in _PLAIN_AT_TOP else value for key, value in fields.items() if key != "chain"
    }
    head = (previous + "\n" + kind + "\n").encode("utf-8")
    return hashlib.sha256(head + canonical_bytes(content)).hexdigest()


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


def fields_to_link(event_class: type, fields: Mapping[str, Any]) -> Mapping[str, Any]:
    """What the writer links for a new event: its fields, and its ``class_version`` when the store will record one.

    The mapper stores ``class_version`` only when it is above 1
    (``eventsourcing.persistence.Mapper.to_stored_event``), so a version-1
    event links exactly what it did before class versions were declared.
    A version-1 event's mapping is returned as it is, not copied: callers only read it.
    """
    class_version = getattr(event_class, "class_version", 1)
    return {**fields, "class_version": class_version} if class_version > 1 else fields


def link_of(event: Any, previous: str) -> str:
    """A link recomputed from an event's attributes as read back, upcasters included.

    It equals the stored link only for an event nothing was upcast on
    (every event of format 0001); proofs use ``StoredRead.link``
    (``ledger.stored.read_events``), which holds for upcast events too.
    """
    return chain_hash(previous, type(event).__name__, fields_to_link(type(event), vars(event)))
