"""What "the books equal a clean run" means: a fingerprint of a store, compared field by field.

The fingerprint holds what an accountant and an auditor read, and nothing
that legitimately differs between two runs of the same file (recorded
times, notification ids, the order two writers happened to commit in):

- every book (region/scheme/year): its event count and whether it is closed;
- every balance row: debits, credits, balance and what the year-end close
  posted, in fen, per account and tier — the trial balance is their sum;
- every 财政专户 row: opening, receipts, payments, closing, in fen;
- the document registry: every document's content hash, type and reversal;
- the stored seals, by book and period;
- the number of rows in the event log and in the posting lines.

The projections are compared, not a replay, because ``verify`` (run after
every trial) proves the projections equal the replay of the events.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy

from ledger.store import Ledger
from ledger.verify import Report, verify

DIFFERENCES_SHOWN = 4


@dataclass
class Books:
    """A store's books as the fingerprint sees them (see the module docstring)."""

    books: dict[str, tuple[int, bool]] = field(default_factory=dict)
    balances: dict[tuple[str, str, int], tuple[int, int, int, int]] = field(default_factory=dict)
    fiscal: dict[str, tuple[int, int, int, int]] = field(default_factory=dict)
    registry: dict[str, tuple[str, str, str | None]] = field(default_factory=dict)
    seals: Counter = field(default_factory=Counter)
    event_rows: int = 0
    line_rows: int = 0


def fingerprint(url: str) -> Books:
    """Read a store's fingerprint as every reading command sees it; a store never created has empty books.

    Reading commands first bring the projections up to date (``cli.current``),
    so this does too: a kill between an event's commit and its projection
    update leaves the projections behind until the next read or post, by design.
    """
    if registry_count(url):
        with Ledger(url) as ledger:
            ledger.projector.catch_up()
    engine = sqlalchemy.create_engine(url)
    try:
        with engine.connect() as connection:
            tables = set(sqlalchemy.inspect(connection).get_table_names())
            return _read(connection, tables)
    finally:
        engine.dispose()


def _read(connection: Any, tables: set[str]) -> Books:
    books = Books()

    def rows(table: str, query: str) -> list[Any]:
        return list(connection.execute(sqlalchemy.text(query))) if table in tables else []

    names = {r.book_id: f"{r.region}/{r.scheme}/{r.year}" for r in rows("proj_books", "SELECT * FROM proj_books")}
    for r in rows("proj_books", "SELECT * FROM proj_books"):
        books.books[names[r.book_id]] = (int(r.events), bool(r.closed))
    for r in rows("proj_balances", "SELECT * FROM proj_balances"):
        key = (names.get(r.book_id, r.book_id), r.account, int(r.tier))
        books.balances[key] = (int(r.debit_fen), int(r.credit_fen), int(r.balance_fen), int(r.closed_fen))
    for r in rows("proj_fiscal_accounts", "SELECT * FROM proj_fiscal_accounts"):
        books.fiscal[f"{r.region}/{r.scheme}/{r.year}"] = (int(r.opening_fen), int(r.receipts_fen), int(r.payments_fen), int(r.closing_fen))
    for r in rows("ledger_documents", "SELECT document_id, content_hash, document_type, reversed_by FROM ledger_documents"):
        books.registry[r.document_id] = (r.content_hash, r.document_type, r.reversed_by)
    books.seals = Counter((r.book, r.period) for r in rows("ledger_seals", "SELECT book, period FROM ledger_seals"))
    books.event_rows = sum(r[0] for r in rows("ledger_events", "SELECT count(*) FROM ledger_events"))
    books.line_rows = sum(r[0] for r in rows("proj_lines", "SELECT count(*) FROM proj_lines"))
    return books


def registry_count(url: str) -> int:
    """How many documents the store's registry holds (0 before its tables exist)."""
    engine = sqlalchemy.create_engine(url)
    try:
        with engine.connect() as connection:
            if not sqlalchemy.inspect(connection).has_table("ledger_documents"):
                return 0
            return int(connection.execute(sqlalchemy.text("SELECT count(*) FROM ledger_documents")).scalar() or 0)
    finally:
        engine.dispose()


def differences(expected: Books, found: Books) -> list[str]:
    """What differs between the clean run's books and a trial's, a few examples of each kind, in words."""
    problems: list[str] = []
    for label, want, have in (
        ("books (events, closed)", expected.books, found.books),
        ("balances (debit, credit, balance, closed fen)", expected.balances, found.balances),
        ("财政专户 rows", expected.fiscal, found.fiscal),
        ("registry documents", expected.registry, found.registry),
        ("seals", dict(expected.seals), dict(found.seals)),
    ):
        problems += _mapping_differences(label, want, have)
    for label, want_count, have_count in (
        ("event log rows", expected.event_rows, found.event_rows),
        ("posting lines", expected.line_rows, found.line_rows),
    ):
        if want_count != have_count:
            problems.append(f"{label}: the clean run has {want_count}, this one {have_count}")
    return problems


def _mapping_differences(label: str, want: dict, have: dict) -> list[str]:
    missing = sorted(set(want) - set(have), key=str)
    extra = sorted(set(have) - set(want), key=str)
    changed = sorted((key for key in set(want) & set(have) if want[key] != have[key]), key=str)
    problems = []
    if missing:
        problems.append(f"{label}: {len(missing)} missing, e.g. {', '.join(map(str, missing[:DIFFERENCES_SHOWN]))}")
    if extra:
        problems.append(f"{label}: {len(extra)} not in the clean run, e.g. {', '.join(map(str, extra[:DIFFERENCES_SHOWN]))}")
    if changed:
        shown = "; ".join(f"{key}: {want[key]} → {have[key]}" for key in changed[:DIFFERENCES_SHOWN])
        problems.append(f"{label}: {len(changed)} differ, e.g. {shown}")
    return problems


def verified(url: str) -> Report:
    """``ledger verify`` on the store, in this process (the same function the command calls)."""
    with Ledger(url) as ledger:
        return verify(ledger)


def verify_problems(url: str) -> list[str]:
    """Nothing when ``verify`` agrees; otherwise what it found, or how it failed."""
    try:
        report = verified(url)
    except Exception as error:  # a crash of verify is itself a finding of the campaign
        return [f"verify raised {type(error).__name__}: {str(error)[:300]}"]
    return [f"verify: {finding.book}: {finding.message}" for finding in report.findings[:DIFFERENCES_SHOWN]] + (
        [f"verify: … {len(report.findings) - DIFFERENCES_SHOWN} more findings"] if len(report.findings) > DIFFERENCES_SHOWN else []
    )
