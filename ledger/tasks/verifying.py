"""Proving the books: ``verify`` replays and proves everything; ``rebuild`` replays the projections from the events."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ledger import verification_log
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
    """The verdict, the counts (books, book events, log events, seals, snapshots), the log position covered and every finding."""
    return {
        "agrees": report.agrees,
        "books": report.books,
        "events": report.events,
        "log_events": report.log_events,
        "seals": report.seals,
        "snapshots": report.snapshots,
        "position": report.position,
        "findings": [dict(f.__dict__) for f in report.findings],
    }


@dataclass(frozen=True)
class Logged:
    """Whether a verification was written to the verification log: its row's id, or why it could not be."""

    verification_id: int | None
    error: str | None = None


def log_verification(
    ledger: Ledger, report: Report, *, verified_by: str, channel: str, scope: str = verification_log.ALL,
    findings: Sequence[Finding] | None = None,
) -> Logged:
    """Record a completed verification in the store's verification log (``ledger.verification_log``), in a transaction of its own.

    ``findings`` are those within ``scope`` (default: all of the report's).
    Never raises for a failed write: the verification's result stands
    whatever happens to its log row, so the failure comes back as ``error``
    for the caller to show beside the result.
    """
    shown = report.findings if findings is None else findings
    try:
        verification_id = verification_log.record(
            ledger.engine,
            verified_by=verified_by,
            channel=channel,
            scope=scope,
            findings=[(f.book, f.message) for f in shown],
            store_findings=len(report.findings),
            position=report.position,
            chain_heads=report.books,
            events=report.events,
        )
    except Exception as error:  # a read-only store, a lost connection, a store of format 0001 opened by hand
        first = str(error).strip().splitlines()[0][:300] if str(error).strip() else ""
        return Logged(None, f"{type(error).__name__}: {first}")
    return Logged(verification_id)


def history(ledger: Ledger, limit: int = 50, scopes: Sequence[str] | None = None) -> list[verification_log.Verification]:
    """The store's verification log, newest first (``verification_log.history``)."""
    return verification_log.history(ledger.engine, limit, scopes)


def verify_region(ledger: Ledger, region: str, *, verified_by: str, channel: str) -> tuple[dict[str, Any], Logged]:
    """Verify the whole store and keep the findings of the books ``region``'s grant covers; log it with scope ``region``.

    Returns the JSON report (``verify_json``, its findings those of the
    region, ``agrees`` True when none is, ``scope`` the region) and how the
    verification log took it. Every book is replayed whatever the region:
    the log row keeps the whole store's finding count beside the region's.
    """
    from ledger.access.roles import covers_book

    report = run_verify(ledger, [])
    shown = [f for f in report.findings if covers_book(region, f.book)]
    logged = log_verification(ledger, report, verified_by=verified_by, channel=channel, scope=region, findings=shown)
    payload = verify_json(report)
    return {**payload, "scope": region, "findings": [dict(f.__dict__) for f in shown], "agrees": not shown}, logged


# The most rows of the verification log one look at a region's history reads.
HISTORY_SCANNED_ROWS = 20_000


def region_history(ledger: Ledger, region: str, limit: int = 50) -> list[dict[str, Any]]:
    """The verification log as a user with a grant over ``region`` may see it, newest first, at most ``limit`` rows.

    Rows of the region and of the regions it covers, and the whole-store
    rows (``all``, from the command line); a row's first finding is shown
    only when it names a book ``region`` covers (else None: it is another
    district's), its counts always. At most ``HISTORY_SCANNED_ROWS`` of the
    latest rows are read to find them.
    """
    from ledger.access.roles import covers, covers_book

    def visible(row: verification_log.Verification) -> bool:
        scope_region = row.scope.split("/")[0]
        return row.scope == verification_log.ALL or (scope_region.isdigit() and covers(region, scope_region))

    shown: list[dict[str, Any]] = []
    last_id: int | None = None
    # Rows of other districts are skipped a page at a time, never more than HISTORY_SCANNED_ROWS in all.
    for _ in range(max(HISTORY_SCANNED_ROWS // (limit * 4), 1)):
        if len(shown) >= limit:
            break
        page = verification_log.history(ledger.engine, limit * 4, before=last_id)
        for row in page:
            if visible(row):
                record = row.to_json()
                if row.first_finding_book is not None and not covers_book(region, row.first_finding_book):
                    record["first_finding"] = record["first_finding_book"] = None
                shown.append(record)
        if len(page) < limit * 4:
            break
        last_id = page[-1].verification_id
    return shown[:limit]


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
