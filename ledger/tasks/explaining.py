"""How a posted document's amounts were computed: its entries, the rule, the facts, every step with its source."""

from __future__ import annotations

from typing import Any

from ledger.agency_time import local_time
from ledger.money import format_yuan
from ledger.store import Ledger, explain as explain_document


def explain(ledger: Ledger, document_id: str) -> dict[str, Any]:
    """Everything the store knows of one posted document, shown as ``computation_in_yuan`` says.

    Returns ``{"document_id", "type", "content_hash", "reversed_by", "entries", "computation"}``: each entry its
    book, event, effective date, recorded time (agency's zone), actor and postings (debit and credit as yuan text);
    the computation None when the document carried its amounts. Raises ``LedgerError`` for a document never posted.
    """
    return explained_in_yuan(explain_document(ledger, document_id))


def explained_in_yuan(shown: dict[str, Any]) -> dict[str, Any]:
    """An explanation with every recorded time in the agency's zone and every amount yuan text."""
    entries = [{**entry, "recorded_at": local_time(entry["recorded_at"])} for entry in shown["entries"]]
    return {**shown, "entries": entries, "computation": computation_in_yuan(shown["computation"])}


def computation_in_yuan(computation: dict[str, Any] | None) -> dict[str, Any] | None:
    """A rule's recorded computation with its results and cap usage as yuan text (the event keeps them as int fen;
    steps and facts are already yuan text). None stays None."""
    if not computation:
        return computation
    return {
        **computation,
        "amounts": {name: format_yuan(int(fen)) for name, fen in computation["amounts"].items()},
        "usage": {name: format_yuan(int(fen)) for name, fen in computation.get("usage", {}).items()},
    }
