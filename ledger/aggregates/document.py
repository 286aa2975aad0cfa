"""The registry entry of one business document.

Its id is derived from the document id, so the store's unique index on
(aggregate id, version) refuses a second posting of the same document in the
same transaction that writes the book events: idempotency holds across
millions of documents without loading any of them into memory.
"""

from __future__ import annotations

import uuid
from uuid import UUID

from eventsourcing.domain import Aggregate

DOCUMENT_NAMESPACE = UUID("0f3a9d64-1c2b-4e7a-8f55-6b0d7e9a4c12")


def document_record_id(document_id: str) -> UUID:
    return uuid.uuid5(DOCUMENT_NAMESPACE, f"document:{document_id}")


class DocumentRecord(Aggregate):
    """Which books a document posted to, and whether it has been reversed."""

    class Registered(Aggregate.Created):
        """Attributes:
        document_id: the business document id.
        document_type: contribution, claim, reversal, ...
        content_hash: SHA-256 of the document's canonical form.
        entries: ``[book id hex, book version]`` of each book event it wrote.
        """

        document_id: str
        document_type: str
        content_hash: str
        entries: list

    class Reversed(Aggregate.Event):
        reversal_document_id: str

        def apply(self, aggregate: "DocumentRecord") -> None:
            aggregate.reversed_by = self.reversal_document_id

    def __init__(self, document_id: str, document_type: str, content_hash: str, entries: list) -> None:
        self.document_id = document_id
        self.document_type = document_type
        self.content_hash = content_hash
        self.entries = entries
        self.reversed_by: str | None = None

    @classmethod
    def register(cls, document_id: str, document_type: str, content_hash: str, entries: list) -> "DocumentRecord":
        return cls._create(
            cls.Registered,
            id=document_record_id(document_id),
            document_id=document_id,
            document_type=document_type,
            content_hash=content_hash,
            entries=entries,
        )

    def mark_reversed(self, reversal_document_id: str) -> None:
        self.trigger_event(self.Reversed, reversal_document_id=reversal_document_id)
