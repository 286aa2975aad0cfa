"""Tracing: a figure of a book to the posting lines, documents and events behind it; a document to its events and chain links."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ledger.agency_time import local_time
from ledger.projections import queries
from ledger.regions import region_name
from ledger.store import Ledger
from ledger.tasks.arguments import NotFoundError, check_account, check_scheme, known_on_bound, known_on_shown, window
from ledger.trace import DEFAULT_TRACE_LIMIT, Trace, TracedDocument, document_to_json, trace_document, trace_lines, trace_to_json
from ledger.tasks.reading import check_known_on, current


@dataclass(frozen=True)
class TraceQuery:
    """Which lines: an account (or prefix) of a district's book, or of every book of the scheme in a municipality.

    ``tier`` keeps one tier; ``since``/``through`` (``YYYY-MM-DD``, inside ``year``) bound the effective date, and
    with ``since`` the lines show turnover after an opening balance; ``known_on`` keeps what was recorded by then;
    ``limit`` caps the lines listed (the totals cover them all). Checked on creation (``ArgumentError``).
    """

    region: str
    scheme: str
    year: int
    account: str
    tier: int | None = None
    since: str | None = None
    through: str | None = None
    known_on: str | None = None
    limit: int = DEFAULT_TRACE_LIMIT

    def __post_init__(self) -> None:
        check_scheme(self.scheme)
        check_account(self.account)
        if self.known_on is not None:
            known_on_bound(self.known_on)
        if self.since or self.through:
            window(self.year, self.since, self.through)


@dataclass(frozen=True)
class TracedFigure:
    """A traced figure: what was traced (``title``, ``window``), the books by id (``names``), and the lines (``trace``, fen)."""

    title: str
    window: str
    names: dict[str, str]
    trace: Trace


def trace(ledger: Ledger, query: TraceQuery) -> TracedFigure:
    """The lines behind ``query``'s figure and the check of their total against the projections (``trace.agrees``).

    ``NotFoundError`` when there is no such book, or none yet at ``known_on``.
    """
    region, scheme, year = query.region, query.scheme, query.year
    found = queries.list_books(current(ledger).engine, region, scheme, year)
    if not found:
        raise NotFoundError(f"there is no {scheme} book of {region} for {year}")
    names = {b.book_id: f"{b.region}/{b.scheme}/{b.year}" for b in found}
    check_known_on(ledger, list(names), query.known_on)
    first, last = window(year, query.since, query.through)
    result = trace_lines(
        ledger.engine, list(names), [query.account], tier=query.tier,
        since=first if query.since else None, through=last if query.through else None, known_on=query.known_on, limit=query.limit,
    )
    title = f"{region_name(region)} {region} {scheme} {year}, account {query.account}" + (f" tier {query.tier}" if query.tier else "")
    shown = f"{query.since or 'the first date'} – {query.through or 'the last date'}"
    if query.known_on:
        shown += f", as recorded by {known_on_shown(query.known_on)}"
    return TracedFigure(title, shown, names, result)


def lines_json(result: Trace, names: dict[str, str]) -> dict[str, Any]:
    """A trace's lines and totals as yuan text (``ledger.trace.trace_to_json``), recorded times in the agency's zone."""
    traced = trace_to_json(result, names)
    return {**traced, "rows": [{**row, "recorded_at": local_time(row["recorded_at"])} for row in traced["rows"]]}  # type: ignore[attr-defined]


def trace_json(figure: TracedFigure) -> dict[str, Any]:
    """``{"title", "window", "lines", "shown", "rows", …}``: the traced figure with yuan text."""
    return {"title": figure.title, "window": figure.window, **lines_json(figure.trace, figure.names)}


def document(ledger: Ledger, document_id: str) -> TracedDocument:
    """One document's events, vouchers and chain links (``link_holds`` per event); ``LedgerError`` for one never posted."""
    return trace_document(ledger, document_id)


def document_json(traced: TracedDocument) -> dict[str, Any]:
    """A traced document with yuan text and recorded times in the agency's zone."""
    shown = document_to_json(traced)
    shown["events"] = [{**e, "recorded_at": local_time(e["recorded_at"])} for e in shown["events"]]  # type: ignore[attr-defined]
    return shown
