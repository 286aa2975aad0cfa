"""Posting business documents: a file's records or a list of documents, for real or as a dry run.

The face reads its input (a file, stdin, an upload) into ``ledger.reader``
records and names the actor; this room posts them and says, per line, what
happened. Nothing here prints: every outcome is a ``PostedLine``, and
``PostSummary`` counts them.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from ledger.aggregates.book import BookKey
from ledger.application import DUPLICATE, POSTED, REJECTED
from ledger.documents import Document
from ledger.errors import LedgerError
from ledger.money import format_yuan
from ledger.postings import postings_from_rows
from ledger.reader import Record
from ledger.store import Ledger
from ledger.tasks.arguments import ArgumentError
from ledger.tasks.explaining import computation_in_yuan

# A dry run holds every document and its computation in memory at once.
MAXIMUM_DRY_RUN_DOCUMENTS = 100_000
WOULD_POST = "would post"


@dataclass(frozen=True)
class PostedLine:
    """What happened to one line of the input.

    Attributes:
      line: the input's 1-based line number (a list of documents: its position).
      document_id: the document's id ("" when the line was not readable enough to have one).
      status: ``posted``, ``duplicate`` or ``rejected`` (``application.POSTED`` …).
      postings: how many posting lines it wrote (or would write).
      error: the refusal, when rejected.
      would_post: in a dry run, the entries it would record (``would_post`` below); else None.
    """

    line: int
    document_id: str
    status: str
    postings: int = 0
    error: LedgerError | None = None
    would_post: list[dict[str, Any]] | None = None


@dataclass
class PostSummary:
    """Counts over a run: documents posted, their posting lines, duplicates skipped, lines rejected; and the rejections."""

    dry_run: bool = False
    posted: int = 0
    postings: int = 0
    duplicates: int = 0
    rejected: list[PostedLine] = field(default_factory=list)

    def add(self, line: PostedLine) -> PostedLine:
        """Count one line and give it back."""
        self.postings += line.postings
        if line.status == POSTED:
            self.posted += 1
        elif line.status == DUPLICATE:
            self.duplicates += 1
        else:
            self.rejected.append(line)
        return line

    def to_json(self) -> dict[str, object]:
        return {"posted": self.posted, "postings": self.postings, "duplicates": self.duplicates,
                "rejected": len(self.rejected), "dry_run": self.dry_run}


def post_records(ledger: Ledger, records: Iterable[Record], summary: PostSummary) -> Iterator[PostedLine]:
    """Post (or, with ``summary.dry_run``, check and compute without saving) the documents of ``records``.

    Yields a ``PostedLine`` for every record, each counted in ``summary``. A refused record is given as soon as
    every outcome read before it has been: the order a reader of a JSON Lines answer sees. Raises
    ``ArgumentError`` when a dry run has more than ``MAXIMUM_DRY_RUN_DOCUMENTS``.
    """
    refused: deque[PostedLine] = deque()
    lines: deque[int] = deque()

    def documents() -> Iterator[Document]:
        for record in records:
            if record.error is not None:
                refused.append(PostedLine(record.line, record.error.document_id or "", REJECTED, 0, record.error))
                continue
            lines.append(record.line)
            yield record.document  # type: ignore[misc]

    outcomes = _dry_run(ledger, documents()) if summary.dry_run else ((outcome, None) for outcome in ledger.post(documents()))
    for outcome, would in outcomes:
        while refused:
            yield summary.add(refused.popleft())
        yield summary.add(PostedLine(lines.popleft(), outcome.document_id, outcome.status, outcome.postings, outcome.error, would))
    while refused:
        yield summary.add(refused.popleft())


def post_documents(ledger: Ledger, documents: Iterable[Document], summary: PostSummary) -> Iterator[PostedLine]:
    """Post documents already read; each line numbered by its position (from 1)."""
    for number, outcome in enumerate(ledger.post(documents), start=1):
        yield summary.add(PostedLine(number, outcome.document_id, outcome.status, outcome.postings, outcome.error))


def _dry_run(ledger: Ledger, documents: Iterator[Document]) -> Iterator[tuple[Any, list[dict[str, Any]]]]:
    """Check and compute the documents in one batch that is never saved: each outcome with what it would post."""
    taken = list(islice(documents, MAXIMUM_DRY_RUN_DOCUMENTS + 1))
    if len(taken) > MAXIMUM_DRY_RUN_DOCUMENTS:
        raise ArgumentError(f"a dry run checks at most {MAXIMUM_DRY_RUN_DOCUMENTS:,} documents at once; split the file")
    for outcome, events in ledger.app.dry_run(taken):
        yield outcome, [would_post(key, event) for key, event in events]


def would_post(key: BookKey, event: object) -> dict[str, Any]:
    """An event a dry run would record: book, kind, date, postings and the computation, money as yuan text."""
    return {
        "book": str(key),
        "event": type(event).__qualname__.split(".")[-1],
        "effective_date": str(getattr(event, "effective_date", "")),
        "postings": [
            {"account": p.account, "tier": p.tier, "debit": format_yuan(max(p.amount_fen, 0)), "credit": format_yuan(max(-p.amount_fen, 0))}
            for p in postings_from_rows(getattr(event, "postings", []) or [])
        ],
        "computation": computation_in_yuan(getattr(event, "computation", None)) or None,
    }


def line_json(line: PostedLine, dry_run: bool = False) -> dict[str, object]:
    """One line's outcome as an integrator reads it back (docs/documents.md): line, id, status, postings, error,
    field, rule, message; a dry run's ``would post`` lines add their ``entries``."""
    error = line.error
    status = WOULD_POST if dry_run and line.status == POSTED else line.status
    shown: dict[str, object] = {
        "line": line.line,
        "id": line.document_id,
        "status": status,
        "postings": line.postings if error is None else 0,
        "error": type(error).__name__ if error else None,
        "field": error.field if error else None,
        "rule": error.rule if error else None,
        "message": error.message if error else None,
    }
    if line.would_post and error is None:
        shown["entries"] = line.would_post
    return shown
