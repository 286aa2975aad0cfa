"""The document registry proved against the events both ways, on both backends.

An event whose document has no registry row would let the document post
twice; a registry row whose events are not in the store (or are another
document's) makes its document refused as already posted though nothing of
it is in the books. ``verify`` names each, by document id.

The story is tests/test_audit.py's: 万州区 (500101) resident 2025, events
version 1 Opened, 2 CT-1, 3 SW-1, 4 SB-1, 5 TR-1, 6 CL-1; the registry holds
one row per document, each listing its one event: CT-1 [book, 2] … CL-1 [book, 6].
"""

from __future__ import annotations

import json

from sqlalchemy import delete, insert, update

from ledger import registry
from ledger.aggregates.book import book_id
from ledger.documents import read_document
from tests.test_audit import BOOK, STORY, delete_event, findings, post

HEX = book_id(BOOK).hex
# What every finding of a registry row without its events ends with.
REFUSED = "a registry row with no event of its document, so {document} would be refused as already posted"


def registry_row(document_id: str, entries: list[list[object]], content_hash: str = "0" * 64, document_type: str = "contribution") -> dict:
    return {"document_id": document_id, "content_hash": content_hash, "document_type": document_type,
            "entries": json.dumps(entries), "reversed_by": None}


def tamper(ledger, statement) -> None:
    with ledger.engine.begin() as connection:
        connection.execute(statement)


def test_the_untouched_story_verifies(ledger):
    post(ledger, *STORY)
    assert findings(ledger) == []


def test_an_event_whose_registry_row_was_deleted_is_named_by_its_document(ledger):
    post(ledger, *STORY)
    tamper(ledger, delete(registry.documents).where(registry.documents.c.document_id == "TR-1"))
    assert findings(ledger) == [
        f"{BOOK}: the document registry has no row for version 5 (TransferMade, document TR-1): a re-sent document would post twice"
    ]
    # The harm it names: TR-1 sent again posts a second time.
    (outcome,) = ledger.post([read_document(STORY[3])])
    assert outcome.status == "posted"


def test_a_registry_row_naming_another_document_s_event_is_named_by_its_document(ledger):
    post(ledger, *STORY)
    # A row for CT-9, never posted, that lists CT-1's event (version 2).
    tamper(ledger, insert(registry.documents).values(**registry_row("CT-9", [[HEX, 2]])))
    assert findings(ledger) == [
        f"{BOOK}: the document registry has a row for CT-9 that lists version 2 of this book, but the event there is of "
        f"document CT-1: {REFUSED.format(document='CT-9')}"
    ]
    # The harm it names: CT-9 is refused as posted before with other content, though no event of it exists.
    (outcome,) = ledger.post([read_document({**STORY[0], "id": "CT-9"})])
    assert outcome.status != "posted"


def test_a_registry_row_listing_an_event_the_book_does_not_have_is_named(ledger):
    post(ledger, *STORY)
    table = registry.documents
    # TR-1's row made to list version 9 instead of 5: the book has six events.
    tamper(ledger, update(table).where(table.c.document_id == "TR-1").values(entries=json.dumps([[HEX, 9]])))
    assert sorted(findings(ledger)) == sorted([
        f"{BOOK}: the document registry does not list version 5 (TransferMade, document TR-1) among the events of TR-1",
        f"{BOOK}: the log ends at version 6 but document TR-1 wrote version 9: events were removed from the end",
        f"{BOOK}: the document registry has a row for TR-1 that lists version 9 of this book, but the book has no event at "
        f"that version: {REFUSED.format(document='TR-1')}",
    ])


def test_a_registry_row_of_a_book_the_store_does_not_hold_is_named(ledger):
    post(ledger, *STORY)
    other = "0" * 31 + "1"
    tamper(ledger, insert(registry.documents).values(**registry_row("CT-8", [[other, 2]])))
    assert findings(ledger) == [
        f"document registry: the document registry has a row for CT-8 that lists book {other} version 2, but the store "
        f"holds no event of those books: {REFUSED.format(document='CT-8')}"
    ]


def test_a_row_that_also_names_a_book_the_store_does_not_hold_is_no_finding_when_its_events_here_are_there(ledger):
    """An archive of part of a store keeps a document that wrote a book outside its scope (docs/archive.md)."""
    post(ledger, *STORY)
    table = registry.documents
    other = "0" * 31 + "1"
    tamper(ledger, update(table).where(table.c.document_id == "TR-1").values(entries=json.dumps([[HEX, 5], [other, 3]])))
    assert findings(ledger) == []


def test_a_registry_row_listing_its_event_twice_is_named(ledger):
    post(ledger, *STORY)
    table = registry.documents
    tamper(ledger, update(table).where(table.c.document_id == "SB-1").values(entries=json.dumps([[HEX, 4], [HEX, 4]])))
    assert findings(ledger) == [
        f"{BOOK}: the document registry has a row for SB-1 that lists version 4 of this book, but lists that event twice: "
        f"{REFUSED.format(document='SB-1')}"
    ]


def test_the_last_event_deleted_leaves_its_registry_row_without_an_event(ledger):
    post(ledger, *STORY)
    delete_event(ledger, 6)
    found = findings(ledger)
    assert f"{BOOK}: the log ends at version 5 but document CL-1 wrote version 6: events were removed from the end" in found
    assert (
        f"{BOOK}: the document registry has a row for CL-1 that lists version 6 of this book, but the book has no event at "
        f"that version: {REFUSED.format(document='CL-1')}"
    ) in found
