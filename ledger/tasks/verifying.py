"""Proving the books: ``verify`` replays and proves everything; ``rebuild`` replays the projections from the events."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ledger.projections import queries
from ledger.seals import read_signed
from ledger.store import Ledger
from ledger.verify import Finding, Report, chain_breaks, verify as run_verify


def read_seal_files(paths: Sequence[Path], public_key: Path | None) -> list[Any]:
    """The seal files an auditor keeps, each checked against ``public_key`` (seal.pub) when given; ``SealError`` else."""
    return [read_signed(path, public_key) for path in paths]


def verify(ledger: Ledger, seal_files: Sequence[Any] = ()) -> Report:
    """Replay every book, prove its hash chain, voucher numbers and rules, compare with the projections and ``seal_files``.

    The report's ``agrees`` is True only when everything agrees; its ``findings`` say what does not, a book each.
    """
    return run_verify(ledger, list(seal_files))


def verify_json(report: Report) -> dict[str, object]:
    """The verdict, the counts (books, book events, log events, seals, snapshots) and every finding."""
    return {
        "agrees": report.agrees,
        "books": report.books,
        "events": report.events,
        "log_events": report.log_events,
        "seals": report.seals,
        "snapshots": report.snapshots,
        "findings": [dict(f.__dict__) for f in report.findings],
    }


@dataclass(frozen=True)
class Rebuilt:
    """What a rebuild did: the hash-chain breaks it found, whether it rebuilt, and the counts it replayed."""

    breaks: list[Finding]
    rebuilt: bool
    books: int = 0
    book_events: int = 0
    log_events: int = 0


def rebuild(ledger: Ledger, force: bool = False) -> Rebuilt:
    """Prove every book's hash chain, then drop the projections and replay them from the events.

    Over a broken chain nothing is rebuilt (``rebuilt`` False) unless ``force``: an auditor who knows why.
    """
    breaks = chain_breaks(ledger.app)
    if breaks and not force:
        return Rebuilt(breaks, False)
    applied = ledger.projector.rebuild()
    books = queries.list_books(ledger.engine)
    return Rebuilt(breaks, True, len(books), sum(book.events for book in books), applied)
