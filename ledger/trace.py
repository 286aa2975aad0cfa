"""Tracing a figure to the documents and events behind it.

``trace_lines`` lists the posting lines behind an account's balance or
turnover in a window — each with its date, 记账凭证号, document, event and
recorded time — with a running balance, and checks that their total is the
figure the projections report. Statements call it for each of their lines;
``ledger trace`` prints it. ``trace_document`` goes the other way: from one
document to its events, their vouchers and their links in each book's hash
chain. Both only read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID

from sqlalchemy import Engine, case, func, or_, select

from ledger.errors import LedgerError
from ledger.money import format_yuan
from ledger.postings import postings_from_rows
from ledger.projections import queries, tables
from ledger.registry import documents as registry_documents
from ledger.stored import read_events

Fen = int

DEFAULT_TRACE_LIMIT = 1_000
MAXIMUM_TRACE_LIMIT = 100_000
# Effective dates are ISO text; this bound is later than any of them.
END_OF_TIME = "9999-12-31"


@dataclass(frozen=True)
class TraceRow:
    """One posting line behind a figure.

    Attributes:
      effective_date: the business date, ISO text.
      period, voucher: the 记账凭证号 (voucher ``voucher`` of month ``period``).
      document_id, document_type: the business document ("" when the registry does not know its type).
      kind: the event's class name (ContributionReceived, DocumentReversed, ...).
      book_id: the book's id (hex); version: the event's version in it.
      recorded_at: when the event was recorded, UTC.
      account, tier: where the line posted.
      amount_fen: debit positive.
      running_balance_fen: the opening balance plus every line up to and including this one.
    """

    effective_date: str
    period: str
    voucher: int
    document_id: str
    document_type: str
    kind: str
    book_id: str
    version: int
    recorded_at: str
    account: str
    tier: int
    amount_fen: Fen
    running_balance_fen: Fen

    @property
    def debit_fen(self) -> Fen:
        return max(self.amount_fen, 0)

    @property
    def credit_fen(self) -> Fen:
        return max(-self.amount_fen, 0)


@dataclass(frozen=True)
class Trace:
    """The lines behind a figure, their totals, and the figures the projections report for the same window.

    Attributes:
      rows: the lines in date order (then in the order they were recorded), at most the limit.
      line_count: how many lines the window holds; more than ``len(rows)`` when the limit cut the list.
      opening_fen: the balance before ``since`` (0 without ``since``).
      debit_fen, credit_fen: the lines' totals: summed over ``rows`` when none was cut, else by one aggregate query.
      projected_debit_fen, projected_credit_fen: the turnover the projections report (``queries.line_sums``).
      projected_balance_fen: the balance the projections report at the end of the window (``queries.balances_as_of``).
      stored_balance_fen: the balance kept in ``proj_balances`` (a separate fold of the events), when the
        window runs to the end of the books and ``known_on`` is not set; else None.
    """

    rows: list[TraceRow]
    line_count: int
    opening_fen: Fen
    debit_fen: Fen
    credit_fen: Fen
    projected_debit_fen: Fen
    projected_credit_fen: Fen
    projected_balance_fen: Fen
    stored_balance_fen: Fen | None

    @property
    def closing_fen(self) -> Fen:
        return self.opening_fen + self.debit_fen - self.credit_fen

    @property
    def complete(self) -> bool:
        return len(self.rows) == self.line_count

    def differences(self) -> list[str]:
        """Every way the lines disagree with the projections, in words; empty when they agree."""
        found = []
        for name, traced_fen, reported_fen in (
            ("debits", self.debit_fen, self.projected_debit_fen),
            ("credits", self.credit_fen, self.projected_credit_fen),
            ("closing balance", self.closing_fen, self.projected_balance_fen),
        ):
            if traced_fen != reported_fen:
                found.append(_differs(name, traced_fen, reported_fen, "the dated projection"))
        if self.stored_balance_fen is not None and self.closing_fen != self.stored_balance_fen:
            found.append(_differs("closing balance", self.closing_fen, self.stored_balance_fen, "proj_balances"))
        return found

    @property
    def agrees(self) -> bool:
        return not self.differences()


def _differs(name: str, traced_fen: Fen, reported_fen: Fen, source: str) -> str:
    difference_fen = traced_fen - reported_fen
    more = "too much" if difference_fen > 0 else "too little"
    return (
        f"{name}: the lines give {format_yuan(traced_fen)}, {source} {format_yuan(reported_fen)}; "
        f"{more} by {format_yuan(abs(difference_fen))}"
    )


def _iso(value: date | str | None) -> str | None:
    return value if value is None or isinstance(value, str) else value.isoformat()


def _covers(account: str, prefixes: Sequence[str]) -> bool:
    return any(account == prefix or account.startswith(prefix + ".") for prefix in prefixes)


def trace_lines(
    engine: Engine,
    book_ids: Sequence[str],
    accounts: Sequence[str],
    *,
    tier: int | None = None,
    since: date | str | None = None,
    through: date | str | None = None,
    known_on: datetime | str | None = None,
    limit: int = DEFAULT_TRACE_LIMIT,
) -> Trace:
    """The posting lines behind the balance (or turnover) of some accounts in some books, and the check of their total.

    ``accounts`` are prefixes: ``"4001"`` covers 4001.01, 4001.02 and 4001.03;
    a statement line that adds several accounts passes them all. ``tier``
    keeps one tier. ``since``/``through`` bound the effective date
    (inclusive); ``known_on`` the recorded time (inclusive), to see a figure
    as the books stood before a later back-dated document. Lines come in
    effective-date order, then in the order they were recorded, at most
    ``limit`` of them (up to ``MAXIMUM_TRACE_LIMIT``); the totals and the
    check always cover every line of the window.
    """
    if not 1 <= limit <= MAXIMUM_TRACE_LIMIT:
        raise LedgerError(f"the limit must be 1 to {MAXIMUM_TRACE_LIMIT} lines", field="limit")
    if not book_ids or not accounts:
        return Trace([], 0, 0, 0, 0, 0, 0, 0, None)
    t = tables.lines
    conditions = _conditions(book_ids, accounts, tier, since, through, known_on)
    opening_fen = 0
    if since is not None:
        before = _conditions(book_ids, accounts, tier, None, None, known_on) + [t.c.effective_date < _iso(since)]
        _count, debit_before_fen, credit_before_fen = _aggregate(engine, before)
        opening_fen = debit_before_fen - credit_before_fen
    rows = _rows(engine, conditions, opening_fen, limit + 1)
    line_count, debit_fen, credit_fen = _aggregate(engine, conditions)
    rows = rows[:limit]
    if len(rows) == line_count:
        # The list is whole: total it from the rows themselves, independently of the aggregate.
        debit_fen = sum(row.debit_fen for row in rows)
        credit_fen = sum(row.credit_fen for row in rows)
    projected_debit_fen, projected_credit_fen, projected_balance_fen = _projected(
        engine, book_ids, accounts, tier, since, through, known_on
    )
    stored_balance_fen = None
    if through is None and known_on is None:
        stored_balance_fen = sum(
            row.balance_fen
            for book in book_ids
            for row in queries.book_balances(engine, book)
            if _covers(row.account, accounts) and (tier is None or row.tier == tier)
        )
    return Trace(
        rows, line_count, opening_fen, debit_fen, credit_fen,
        projected_debit_fen, projected_credit_fen, projected_balance_fen, stored_balance_fen,
    )


def _conditions(book_ids, accounts, tier, since, through, known_on) -> list:  # type: ignore[no-untyped-def]
    t = tables.lines
    conditions = [
        t.c.book_id.in_(list(book_ids)),
        or_(*[(t.c.account == a) | t.c.account.like(a + ".%") for a in accounts]),
    ]
    if tier is not None:
        conditions.append(t.c.tier == tier)
    if since is not None:
        conditions.append(t.c.effective_date >= _iso(since))
    if through is not None:
        conditions.append(t.c.effective_date <= _iso(through))
    if known_on is not None:
        conditions.append(t.c.recorded_at <= queries.recorded_cutoff(known_on))
    return conditions


def _aggregate(engine: Engine, conditions: list) -> tuple[int, Fen, Fen]:  # type: ignore[type-arg]
    t = tables.lines
    query = select(
        func.count(),
        func.coalesce(func.sum(case((t.c.amount_fen > 0, t.c.amount_fen), else_=0)), 0),
        func.coalesce(func.sum(case((t.c.amount_fen < 0, -t.c.amount_fen), else_=0)), 0),
    ).where(*conditions)
    with engine.connect() as connection:
        count, debit, credit = connection.execute(query).one()
    return int(count), int(debit), int(credit)


def _rows(engine: Engine, conditions: list, opening_fen: Fen, limit: int) -> list[TraceRow]:  # type: ignore[type-arg]
    t, d = tables.lines, registry_documents
    query = (
        select(
            t.c.effective_date, t.c.period, t.c.voucher, t.c.document_id, d.c.document_type, t.c.kind,
            t.c.book_id, t.c.version, t.c.recorded_at, t.c.account, t.c.tier, t.c.amount_fen,
        )
        .select_from(t.outerjoin(d, d.c.document_id == t.c.document_id))
        .where(*conditions)
        .order_by(t.c.effective_date, t.c.notification_id, t.c.line)
        .limit(limit)
    )
    rows: list[TraceRow] = []
    running_fen = opening_fen
    with engine.connect() as connection:
        for r in connection.execute(query):
            running_fen += int(r.amount_fen)
            rows.append(
                TraceRow(
                    r.effective_date, r.period, int(r.voucher), r.document_id, r.document_type or "", r.kind,
                    r.book_id, int(r.version), r.recorded_at, r.account, int(r.tier), int(r.amount_fen), running_fen,
                )
            )
    return rows


def _projected(engine, book_ids, accounts, tier, since, through, known_on) -> tuple[Fen, Fen, Fen]:  # type: ignore[no-untyped-def]
    """Turnover in the window and balance at its end, as the projections' own queries report them."""

    def wanted(account: str, row_tier: int) -> bool:
        return _covers(account, accounts) and (tier is None or row_tier == tier)

    turnover = [
        s for s in queries.line_sums(engine, book_ids, since=since, through=through, known_on=known_on) if wanted(s.account, s.tier)
    ]
    balance = [
        row for row in queries.balances_as_of(engine, book_ids, through or END_OF_TIME, known_on) if wanted(row.account, row.tier)
    ]
    return (
        sum(s.debit_fen for s in turnover),
        sum(s.credit_fen for s in turnover),
        sum(row.balance_fen for row in balance),
    )


# ---------------------------------------------------------------- one document


@dataclass(frozen=True)
class TracedEvent:
    """One event a document wrote, as stored.

    Attributes:
      book: ``region/scheme/year``; book_id: its id (hex); version: the event's version in it.
      kind: the event's class name.
      effective_date, recorded_at, actor: when it counts, when it was recorded (UTC), who posted it.
      voucher: ``YYYY-MM#n``, or "" for an event with no postings.
      previous_link, link: the chain link before this event and this event's own.
      link_holds: whether the link recomputed from the previous one and the event as stored is the stored link.
      postings: ``(account, tier, amount_fen)``, debit positive.
      reverses: the document a reversal undoes, else "".
    """

    book: str
    book_id: str
    version: int
    kind: str
    effective_date: str
    recorded_at: str
    actor: str
    voucher: str
    previous_link: str
    link: str
    link_holds: bool
    postings: list[tuple[str, int, Fen]]
    reverses: str


@dataclass(frozen=True)
class TracedDocument:
    document_id: str
    document_type: str
    content_hash: str
    reversed_by: str | None
    events: list[TracedEvent]


def trace_document(ledger, document_id: str) -> TracedDocument:  # type: ignore[no-untyped-def]
    """A document's events in every book it wrote to, with their vouchers and hash-chain links. No replay.

    Each event is read with the one before it, and its link is recomputed
    from the previous link and the event as stored, so a stored event changed
    after it was recorded shows ``link_holds`` False (``ledger verify`` proves
    the whole chain).
    """
    record = ledger.app.registered([document_id]).get(document_id)
    if record is None:
        raise LedgerError("no such document has been posted", document_id=document_id)
    events = []
    for book_hex, version in record.entries:
        identifier, version = UUID(str(book_hex)), int(version)
        stored = read_events(ledger.app, identifier, gt=max(version - 2, 0), lte=version)
        read, previous = stored[-1], (stored[0].event if len(stored) == 2 else None)
        event = read.event
        opened = previous if previous is not None and previous.originator_version == 1 else None
        book = _book_name(ledger, identifier, opened)
        previous_link = previous.chain if previous is not None else ""
        postings = [(p.account, p.tier, p.amount_fen) for p in postings_from_rows(event.postings)]
        events.append(
            TracedEvent(
                book=book,
                book_id=identifier.hex,
                version=event.originator_version,
                kind=type(event).__name__,
                effective_date=event.effective_date,
                recorded_at=event.timestamp.isoformat(),
                actor=event.actor,
                voucher=f"{event.effective_date[:7]}#{event.voucher}" if event.voucher else "",
                previous_link=previous_link,
                link=event.chain,
                link_holds=previous is not None and read.link(previous_link) == event.chain,
                postings=postings,
                reverses=getattr(event, "reverses", ""),
            )
        )
    return TracedDocument(record.document_id, record.document_type, record.content_hash, record.reversed_by, events)


def _book_name(ledger, identifier: UUID, opened) -> str:  # type: ignore[no-untyped-def]
    if opened is None:
        (opened,) = ledger.app.events.get(identifier, lte=1)
    return f"{opened.region}/{opened.scheme}/{opened.year}"


def document_to_json(traced: TracedDocument) -> dict[str, object]:
    return {
        "document_id": traced.document_id,
        "type": traced.document_type,
        "content_hash": traced.content_hash,
        "reversed_by": traced.reversed_by,
        "events": [
            {
                "book": e.book,
                "book_id": e.book_id,
                "version": e.version,
                "event": e.kind,
                "effective_date": e.effective_date,
                "recorded_at": e.recorded_at,
                "actor": e.actor,
                "voucher": e.voucher,
                "previous_link": e.previous_link,
                "link": e.link,
                "link_holds": e.link_holds,
                "reverses": e.reverses,
                "postings": [
                    {"account": a, "tier": t, "debit": format_yuan(max(f, 0)), "credit": format_yuan(max(-f, 0))}
                    for a, t, f in e.postings
                ],
            }
            for e in traced.events
        ],
    }


def trace_to_json(trace: Trace, book_names: dict[str, str]) -> dict[str, object]:
    return {
        "lines": trace.line_count,
        "shown": len(trace.rows),
        "rows": [
            {
                "date": r.effective_date,
                "voucher": f"{r.period}#{r.voucher}",
                "book": book_names.get(r.book_id, r.book_id),
                "document_id": r.document_id,
                "document_type": r.document_type,
                "event": r.kind,
                "version": r.version,
                "recorded_at": r.recorded_at,
                "account": r.account,
                "tier": r.tier,
                "debit": format_yuan(r.debit_fen),
                "credit": format_yuan(r.credit_fen),
                "balance": format_yuan(r.running_balance_fen),
            }
            for r in trace.rows
        ],
        "opening": format_yuan(trace.opening_fen),
        "debit": format_yuan(trace.debit_fen),
        "credit": format_yuan(trace.credit_fen),
        "closing": format_yuan(trace.closing_fen),
        "projected_debit": format_yuan(trace.projected_debit_fen),
        "projected_credit": format_yuan(trace.projected_credit_fen),
        "projected_balance": format_yuan(trace.projected_balance_fen),
        "stored_balance": None if trace.stored_balance_fen is None else format_yuan(trace.stored_balance_fen),
        "agrees": trace.agrees,
        "differences": trace.differences(),
    }
