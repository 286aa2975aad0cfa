"""The hash chain over a book's events.

Each event's ``chain`` is SHA-256 over the previous event's chain and the
event's own content: its class, its book and version, its recorded time and
every attribute it carries, written as canonical JSON (sorted keys, no
spaces, UTF-8). The first event (the book's opening) links to ``GENESIS``.
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


def link_of(event: Any, previous: str) -> str:
    """Recompute a stored event's link from the previous link and its attributes as read back."""
    return chain_hash(previous, type(event).__name__, vars(event))
