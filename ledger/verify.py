"""The auditor's check: replay every book from its events, prove its hash chain and compare.

Each book is replayed from its first event, ignoring snapshots and caches, a
page of events at a time, so memory stays flat however long the book. On the
way every event's chain link and voucher number is recomputed, so a stored
event that was changed, deleted or moved is named, and every document is
looked up in the registry, which must name the event and its content hash;
the other way round, every event a registry row lists must be in the store
and be of that row's document (a row without its events would refuse the
document as already posted). What the store remembers
elsewhere — the document registry, the stored seals, the projections'
position — shows when events were cut from the end; a seal file the auditor
kept outside the database proves the books against figures nobody here can
change. Every difference is collected and reported; the ledger agrees only
when there is none.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic
from eventsourcing.persistence import StoredEvent
from sqlalchemy import MetaData, distinct, func, inspect, select

from ledger.accounts import FISCAL_ACCOUNT
from ledger import registry, seals
from ledger.aggregates.book import Book
from ledger.chain import GENESIS
from ledger.money import format_yuan
from ledger.postings import balance_key, check_reversal_date, postings_from_rows
from ledger.projections import queries, tables
from ledger.projections.audit import compare_projections
from ledger.projections.projector import PROJECTION_NAME
from ledger.persistence import after_event
from ledger.stored import StoredRead, read_events
from ledger.verify_state import verify_state

PAGE_SIZE_EVENTS = 5000


@dataclass(frozen=True)
class Finding:
    """One disagreement: where it is and what differs."""

    book: str
    message: str


@dataclass
class Report:
    """What verify replayed and every disagreement it found.

    Attributes:
      books: books replayed (each has an ``Opened`` event).
      events: book events replayed, the same count ``ledger rebuild`` gives
        as "book events"; the log also holds the policy engine's state
        (persons' annual use, households' tiers, district remittances).
      log_events: every event in the log, books' and the engine's.
      state_events: the policy engine's state events proven against the
        books (``ledger.verify_state``).
      seals: seals checked (stored and given as files).
      snapshots: stored snapshots compared with the replay.
      position: the highest notification id in the log when the replay was
        done: what the verification covered (the verification log records it).
      findings: every disagreement, naming book, version, document and date.
    """

    books: int = 0
    events: int = 0
    log_events: int = 0
    state_events: int = 0
    seals: int = 0
    snapshots: int = 0
    position: int = 0
    findings: list[Finding] = field(default_factory=list)

    @property
    def agrees(self) -> bool:
        return not self.findings


def book_ids(app) -> Iterator[UUID]:  # type: ignore[no-untyped-def]
    """Every book that has an Opened event in the store, read from the events, not the projections."""
    record_cls = app.recorder.events_record_cls
    topic = get_topic(Book.Opened)
    with app.recorder.transaction(commit=False) as session:
        ids = [row[0] for row in session.execute(select(distinct(record_cls.originator_id)).where(record_cls.topic == topic))]
    return iter(sorted(ids, key=lambda u: u.hex))


@dataclass
class Replayed:
    """A book rebuilt from its stored events, and what its hash chain and vouchers showed on the way."""

    book: Book | None
    name: str
    # The first broken link (or voucher), worded for the auditor; empty when the chain holds.
    broken: list[str] = field(default_factory=list)
    # What a seal states, taken at each version asked for.
    figures_at: dict[int, dict[str, Any]] = field(default_factory=dict)
    # Where the document registry disagrees with the events.
    registry: list[str] = field(default_factory=list)
    # Events whose document's registry row lists them (this book and version): each backs one registry entry.
    registry_confirmed: int = 0
    # Every rule of the book a stored event breaks, judged on the book as it stood before it.
    rules: list[str] = field(default_factory=list)
    # The version, period and document of every event that issued a seal.
    seals_issued: list[tuple[int, str, str]] = field(default_factory=list)
    # When each seal-issuing event was recorded: the seal's sealed_at.
    sealed_at: dict[int, str] = field(default_factory=dict)
    # The book's state at each version asked for, to compare stored snapshots with.
    states_at: dict[int, dict[str, Any]] = field(default_factory=dict)


def sealed_figures(book: Book) -> dict[str, Any]:
    """The figures of a book that a seal states (see ``ledger.seals.payload``)."""
    return {
        "chain_head": book.chain_head,
        "lines": book.lines,
        "debit_total_fen": book.debit_total_fen,
        "balances": {key: fen for key, fen in sorted(book.balances.items())},
        "vouchers": dict(sorted(book.vouchers.items())),
    }


def replay(  # type: ignore[no-untyped-def]
    app,
    identifier: UUID,
    up_to: int | None = None,
    capture_at: Collection[int] = (),
    check_registry: bool = False,
    states_at: Collection[int] = (),
) -> Replayed:
    """Replay a book from its first event (no snapshot), proving its hash chain and voucher numbers as it goes.

    Each event's link is recomputed from the previous link and the event as
    stored, before any upcaster ran (``ledger.stored``); the first event whose version is not the next one, whose link
    does not match, or whose voucher number is not the next in its month is
    named, and the rest of the chain is not judged (one break makes every
    later link unprovable from this store alone). With ``check_registry``
    each page's documents are looked up in the registry, which must name
    the event and its content hash.

    Every event is also judged by the book's own ``check`` on the book as
    it stood before the event (the rules posting enforces: balanced, chart
    and tiers, account flow, bank accounts by date, closed periods, the
    turnover limit), and every reversal against the date of what it
    reverses; each breach is named in ``rules``.
    """
    replayed = Replayed(None, identifier.hex)
    version, previous = 0, GENESIS
    vouchers: dict[str, int] = {}
    document_dates: dict[str, str] = {}
    while True:
        limit = PAGE_SIZE_EVENTS if up_to is None else min(PAGE_SIZE_EVENTS, up_to - version)
        if limit <= 0:
            break
        try:
            reads = read_events(app, identifier, gt=version, limit=limit)
        except Exception as error:  # a stored row that no longer decodes is itself evidence
            replayed.broken.append(f"the event after version {version} cannot be read: {type(error).__name__}: {error}")
            break
        events = [read.event for read in reads]
        if check_registry:
            problems, confirmed = _registry_disagreements(app, identifier, events)
            replayed.registry += problems
            replayed.registry_confirmed += confirmed
        for read in reads:
            event = read.event
            if replayed.book is None and event.originator_version == 1:
                replayed.name = f"{event.region}/{event.scheme}/{event.year}"
            if not replayed.broken:
                replayed.broken += _check_link(read, version, previous, vouchers)
            if event.originator_version != version + 1:
                # A gap: the book cannot be replayed past it.
                return replayed
            if replayed.book is not None and isinstance(event, Book.Posted):
                replayed.rules += _broken_rules(replayed.book, event, document_dates)
                issued = _seal_issued(replayed.book, event)
                if issued:
                    replayed.seals_issued += issued
                    replayed.sealed_at[event.originator_version] = event.timestamp.isoformat()
            replayed.book = event.mutate(replayed.book)
            version, previous = event.originator_version, event.chain
            if version in capture_at:
                replayed.figures_at[version] = sealed_figures(replayed.book)
            if version in states_at:
                replayed.states_at[version] = _comparable_state(vars(replayed.book))
        if len(events) < limit:
            break
    return replayed


def next_event_findings(
    book: Book | None, read: StoredRead, version: int, previous: str, vouchers: dict[str, int], document_dates: dict[str, str]
) -> list[str]:
    """What ``replay`` finds wrong with a book's next event: its version, link and voucher, then every rule it breaks.

    ``read`` is the event as replayed and as stored (``ledger.stored``: the
    link is proven over the stored form); ``book`` is the book folded up to
    ``version`` (None before its first event), ``previous`` its chain head; ``vouchers`` and ``document_dates``
    are the running state ``replay`` keeps, updated here. An importer that
    folds the books itself (``ledger.archive``) calls this for every event,
    so the archive is proven by the same checks as the store.
    """
    broken = _check_link(read, version, previous, vouchers)
    if broken or book is None or not isinstance(read.event, Book.Posted):
        return broken
    return _broken_rules(book, read.event, document_dates)


def _broken_rules(book: Book, event: Any, document_dates: dict[str, str]) -> list[str]:
    """Every rule of ``Book.check`` (and the reversal date) the event breaks, on the book before it."""
    effective = date.fromisoformat(event.effective_date)
    extra = {"period": event.period} if isinstance(event, Book.PERIOD_EVENTS) else None
    errors = book.check(type(event), effective, postings_from_rows(event.postings), extra)
    if isinstance(event, Book.DocumentReversed) and event.reverses in document_dates:
        original = date.fromisoformat(document_dates[event.reverses])
        errors += check_reversal_date(event.reverses, original, effective)
    document_dates.setdefault(event.document_id, event.effective_date)
    where = f"{_describe(event)}, dated {event.effective_date}"
    return [f"{where} breaks a rule the book enforces: {error.message} [{error.rule}]" for error in errors]


def _seal_issued(book: Book, event: Any) -> list[tuple[int, str, str]]:
    """A year close always issues a seal, a month close when it asked for one (see ``application._issues_seal``)."""
    version = event.originator_version
    if isinstance(event, Book.YearClosed):
        return [(version, str(book.year), event.document_id)]
    if isinstance(event, Book.MonthClosed) and event.seal:
        return [(version, event.period, event.document_id)]
    return []


# The parts of a book's state a snapshot holds and posting would read.
SNAPSHOT_FIELDS = (
    "region", "scheme", "year", "balances", "bank_days", "closed", "merged", "closed_through",
    "vouchers", "chain_head", "lines", "debit_total_fen", "carried_out", "opened_with",
)


def _comparable_state(state: Mapping[str, Any]) -> dict[str, Any]:
    return {name: state[name] for name in SNAPSHOT_FIELDS if name in state}


def _registry_disagreements(app, identifier: UUID, events: Sequence[Any]) -> tuple[list[str], int]:  # type: ignore[no-untyped-def]
    """Every event of the page whose document the registry does not name with this event and this content hash.

    Returns the problems and how many events their document's registry row
    lists (this book and version, whatever else the row says):
    ``verify`` compares that count, book by book, with the entries the
    registry lists, to find rows that name events the store does not hold.
    """
    posted = [event for event in events if isinstance(event, Book.Posted)]
    found = app.registered([event.document_id for event in posted])
    problems: list[str] = []
    confirmed = 0
    for event in posted:
        entry = found.get(event.document_id)
        where = _describe(event)
        listed = entry is not None and [identifier.hex, event.originator_version] in [[str(b), int(v)] for b, v in entry.entries]
        confirmed += listed
        if entry is None:
            problems.append(f"the document registry has no row for {where}: a re-sent document would post twice")
        elif entry.content_hash != event.content_hash:
            problems.append(
                f"the document registry gives {event.document_id} content hash {entry.content_hash[:16]}…, "
                f"the event at {where} says {event.content_hash[:16]}…"
            )
        elif not listed:
            problems.append(f"the document registry does not list {where} among the events of {event.document_id}")
        else:
            problems += _registry_type_and_reversal(app, event, entry, where)
    return problems, confirmed


# The document types whose posting writes each kind of book event (``documents.plan`` and ``LedgerApp._apply``).
DOCUMENT_TYPES_OF_EVENT: dict[str, frozenset[str]] = {
    "ContributionReceived": frozenset({"contribution"}),
    "SubsidyAllocated": frozenset({"subsidy"}),
    "TransferMade": frozenset({"transfer"}),
    "ClaimPaid": frozenset({"claim"}),
    "AssistanceDisbursed": frozenset({"assistance"}),
    "PremiumSponsored": frozenset({"sponsorship"}),
    "AdjustmentRemitted": frozenset({"remittance"}),
    "AdjustmentGranted": frozenset({"grant"}),
    "GapCovered": frozenset({"gap_cover", "worker_settlement"}),
    "InterestEarned": frozenset({"interest"}),
    "RefundPaid": frozenset({"refund"}),
    "RecoveryReceived": frozenset({"recovery"}),
    "JournalPosted": frozenset({"journal"}),
    "OpeningBalancesEntered": frozenset({"opening_balances"}),
    "CrossDistrictCareAdvanced": frozenset({"cross_district_care"}),
    "CrossDistrictSettled": frozenset({"cross_district_settlement"}),
    "DocumentReversed": frozenset({"reversal"}),
    "YearClosed": frozenset({"year_close"}),
    "BalancesCarriedForward": frozenset({"year_close"}),
    "HeldLapsed": frozenset({"year_close"}),
    "FundsMerged": frozenset({"merger"}),
    "MergedFundsReceived": frozenset({"merger"}),
    "MonthClosed": frozenset({"month_close"}),
    "PeriodReopened": frozenset({"period_reopen"}),
}


def _registry_type_and_reversal(app, event: Any, entry: registry.Registered, where: str) -> list[str]:  # type: ignore[no-untyped-def]
    """The registry's document type must be one that writes this kind of event; its ``reversed_by`` must name a reversal of it.

    Posting reads both (a reversal refuses to reverse a close or an opening,
    and a document is reversed once), so neither may go unproven. A
    reversal's own event names the document it reverses, which the registry
    must mark as reversed by it.
    """
    problems = []
    kind = type(event).__name__
    allowed = DOCUMENT_TYPES_OF_EVENT.get(kind)
    if allowed is not None and entry.document_type not in allowed:
        problems.append(
            f"the document registry gives {event.document_id} type {entry.document_type!r}, but {where} is written only by "
            f"{' or '.join(sorted(allowed))}"
        )
    if isinstance(event, Book.DocumentReversed):
        original = app.registered([event.reverses]).get(event.reverses)
        if original is not None and original.reversed_by != event.document_id:
            problems.append(
                f"{where} reverses {event.reverses}, but the document registry says {event.reverses} is reversed by "
                f"{original.reversed_by!r}"
            )
    if entry.reversed_by is not None and not _reverses(app, entry.reversed_by, event.document_id):
        problems.append(
            f"the document registry says {event.document_id} is reversed by {entry.reversed_by!r}, "
            f"but no event of {entry.reversed_by!r} reverses it (at {where})"
        )
    return problems


def _reverses(app, reversal_id: str, document_id: str) -> bool:  # type: ignore[no-untyped-def]
    """Whether the events of ``reversal_id``, as the registry lists them, reverse ``document_id``: one event read per reversal."""
    reversal = app.registered([reversal_id]).get(reversal_id)
    if reversal is None or not reversal.entries:
        return False
    book_hex, version = reversal.entries[0]
    try:
        events = list(app.events.get(UUID(str(book_hex)), gt=int(version) - 1, lte=int(version)))
    except Exception:  # an entry that names no readable event proves nothing
        return False
    return any(isinstance(e, Book.DocumentReversed) and e.reverses == document_id and e.document_id == reversal_id for e in events)


def _check_link(read: StoredRead, version: int, previous: str, vouchers: dict[str, int]) -> list[str]:
    event = read.event
    where = _describe(event)
    if event.originator_version != version + 1:
        missing = f"version {version + 1}" if event.originator_version == version + 2 else f"versions {version + 1}–{event.originator_version - 1}"
        return [f"chain broken after version {version}: {missing} missing, the next stored event is {where} (events were deleted)"]
    if read.link(previous) != event.chain:
        return [
            f"chain broken at {where}: the event as stored does not match its link "
            "(it was changed after it was recorded, or moved from another place)"
        ]
    if isinstance(event, Book.Posted) and event.postings:
        period = event.effective_date[:7]
        expected = vouchers.get(period, 0) + 1
        if event.voucher != expected:
            return [f"voucher {period} #{event.voucher} at {where}: expected #{expected}, vouchers are not consecutive"]
        vouchers[period] = expected
    return []


def _describe(event) -> str:  # type: ignore[no-untyped-def]
    kind = type(event).__name__
    document = getattr(event, "document_id", None)
    return f"version {event.originator_version} ({kind}" + (f", document {document})" if document else ")")


def _registry_rows(ledger) -> Iterator[tuple[str, list[tuple[str, int]]]]:  # type: ignore[no-untyped-def]
    """Every registry row's document id and its entries ``(book hex, version)``, a page at a time in document order."""
    table = registry.documents
    last = ""
    while True:
        with ledger.engine.connect() as connection:
            rows = connection.execute(
                select(table.c.document_id, table.c.entries)
                .where(table.c.document_id > last)
                .order_by(table.c.document_id)
                .limit(PAGE_SIZE_EVENTS)
            ).all()
        for document_id, entries in rows:
            yield document_id, [(str(book_hex), int(version)) for book_hex, version in json.loads(entries)]
        if len(rows) < PAGE_SIZE_EVENTS:
            return
        last = rows[-1][0]


@dataclass
class _RegistryIndex:
    """What verify reads of the registry once.

    Attributes:
      heads: each book's last version the registry lists, and the document that wrote it.
      entries: how many registry entries name each book the store holds.
      orphans: the rows none of whose entries names a book the store holds, with their entries.
    """

    heads: dict[str, tuple[int, str]] = field(default_factory=dict)
    entries: dict[str, int] = field(default_factory=dict)
    orphans: list[tuple[str, list[tuple[str, int]]]] = field(default_factory=list)


def _registry_index(ledger, present: Collection[str]) -> _RegistryIndex:  # type: ignore[no-untyped-def]
    """Read the registry once for ``verify``: heads, entry counts of the books in ``present`` (hex ids), and orphan rows.

    An entry naming a book the store does not hold is no finding when its
    row also names a book it does: an archive of part of a store keeps a
    document that wrote books on both sides of its scope (docs/archive.md).
    A row naming none of the store's books names no event of it at all.
    """
    index = _RegistryIndex()
    for document_id, entries in _registry_rows(ledger):
        held = False
        for book_hex, version in entries:
            if version > index.heads.get(book_hex, (0, ""))[0]:
                index.heads[book_hex] = (version, document_id)
            if book_hex in present:
                held = True
                index.entries[book_hex] = index.entries.get(book_hex, 0) + 1
        if entries and not held:
            index.orphans.append((document_id, entries))
    return index


def _orphan_findings(orphans: Sequence[tuple[str, list[tuple[str, int]]]]) -> list[Finding]:
    """A finding for each registry row that names no book of the store, by its document id."""
    findings = []
    for document_id, entries in orphans:
        listed = ", ".join(f"book {book_hex} version {version}" for book_hex, version in entries)
        findings.append(
            Finding(
                "document registry",
                f"the document registry has a row for {document_id} that lists {listed}, but the store holds no event of "
                f"those books: a registry row with no event of its document, so {document_id} would be refused as already posted",
            )
        )
    return findings


def registry_rows_without_events(ledger, books: Mapping[str, str]) -> list[Finding]:  # type: ignore[no-untyped-def]
    """Every registry entry of these books that names no event of its document: the row's document id, book and version.

    ``books`` maps each book's id (hex) to its name (``REGION/SCHEME/YEAR``).
    Such a row makes posting its document refused as a duplicate though no
    event of it is in the books. ``verify`` calls this only for the books
    whose registry entries outnumber the events that back them; each such
    book's events are read again, a page at a time, and the registry once.
    """
    wanted: dict[str, list[tuple[int, str]]] = {book_hex: [] for book_hex in books}
    for document_id, entries in _registry_rows(ledger):
        for book_hex, version in entries:
            if book_hex in books:
                wanted.setdefault(book_hex, []).append((version, document_id))
    findings: list[Finding] = []
    for book_hex, listed in sorted(wanted.items()):
        documents_at = _document_ids(ledger.app, book_hex)
        if documents_at is None:  # an event that cannot be read: the chain's finding already names it
            continue
        seen: set[tuple[int, str]] = set()
        for version, document_id in sorted(listed):
            held = documents_at.get(version)
            if (version, document_id) in seen:
                problem = "lists that event twice"
            elif held == document_id:
                seen.add((version, document_id))
                continue
            elif version not in documents_at:
                problem = "the book has no event at that version"
            elif held is None:
                problem = "the event there posts no document"
            else:
                problem = f"the event there is of document {held}"
            findings.append(
                Finding(
                    books[book_hex],
                    f"the document registry has a row for {document_id} that lists version {version} of this book, but "
                    f"{problem}: a registry row with no event of its document, so {document_id} would be refused as "
                    "already posted",
                )
            )
    return findings


def _document_ids(app, book_hex: str) -> dict[int, str | None] | None:  # type: ignore[no-untyped-def]
    """Each stored event's version in the book and the document it posts (None for ``Opened``); None if one cannot be read."""
    found: dict[int, str | None] = {}
    try:
        identifier, version = UUID(book_hex), 0
    except ValueError:  # not a book id at all: no event of it can be held
        return found
    while True:
        try:
            reads = read_events(app, identifier, gt=version, limit=PAGE_SIZE_EVENTS)
        except Exception:  # a stored row that no longer decodes: replay names it
            return None
        for read in reads:
            found[read.event.originator_version] = getattr(read.event, "document_id", None)
            version = read.event.originator_version
        if len(reads) < PAGE_SIZE_EVENTS:
            return found


def verify(ledger, seal_files: Sequence[Mapping[str, Any]] = ()) -> Report:  # type: ignore[no-untyped-def]
    """Replay and prove every book; compare with the projections, the registry, the stored seals, snapshots and any seal files given."""
    report = Report(position=ledger.projector.log_head())
    report.findings += _catch_up(ledger)
    identifiers = list(book_ids(ledger.app))
    context = _Context(
        projected_books={row.book_id: row for row in queries.list_books(ledger.engine)},
        fiscal={(r.region, r.scheme, r.year): r for r in queries.fiscal_accounts(ledger.engine)},
        registry=_registry_index(ledger, {identifier.hex for identifier in identifiers}),
        snapshots=stored_snapshots(ledger),
    )
    for stored_seal in seals.stored(ledger.engine):
        report.findings += _seal_row_findings(stored_seal)
        context.sealed.setdefault(stored_seal.payload["book_id"], []).append(("stored seal", stored_seal.payload))
    for seal in seal_files:
        context.sealed.setdefault(str(seal["book_id"]), []).append(("seal file", seal))
    seen: set[str] = set()
    for identifier in identifiers:
        seen.add(identifier.hex)
        _verify_book(ledger, identifier, context, report)
    for book_seals in context.sealed.values():
        for source, seal in book_seals:
            report.seals += 1
            report.findings.append(Finding(f"{seal['book']} ({source} of {seal['period']})", "the sealed book has no events in the store"))
    for book_hex, book_snapshots in sorted(context.snapshots.items()):
        for version, _ in book_snapshots:
            report.snapshots += 1
            report.findings.append(Finding(f"book {book_hex}", f"a stored snapshot at version {version} belongs to no book in the store"))
    for book_hex in sorted(set(context.projected_books) - seen):
        row = context.projected_books[book_hex]
        report.findings.append(Finding(f"{row.region}/{row.scheme}/{row.year}", "is in the projections but has no events"))
    # Registry rows that list events the store does not hold (or holds for another document), named by document id.
    if context.unconfirmed:
        report.findings += registry_rows_without_events(ledger, context.unconfirmed)
    report.findings += _orphan_findings(context.registry.orphans)
    report.findings += [Finding(d.book, d.message) for d in compare_projections(ledger)]
    report.state_events, state_findings = verify_state(ledger)
    report.findings += [Finding(aggregate, message) for aggregate, message in state_findings]
    report.log_events = count_log_events(ledger)
    log_head = ledger.projector.log_head()
    position = ledger.projector.position()
    if position > log_head:
        report.findings.append(
            Finding("event log", f"ends at notification {log_head} but the projections read up to {position}: events were removed from the end")
        )
    return report


def _catch_up(ledger) -> list[Finding]:  # type: ignore[no-untyped-def]
    """Bring the projections up to the log, unless their position row is missing or the catch-up fails: then name it.

    Without its position row the projector would fold the log again from
    the start over the rows already there; verify never writes over
    evidence, so it names the missing row and compares what is stored.
    """
    with ledger.engine.connect() as connection:
        names = [row[0] for row in connection.execute(select(tables.tracking.c.name))]
    if PROJECTION_NAME not in names:
        others = f" (it holds {', '.join(repr(n) for n in sorted(names))} instead: renamed?)" if names else ""
        return [Finding("projections", f"proj_tracking has no row named {PROJECTION_NAME!r}{others}: the projections' position was deleted or renamed")]
    try:
        ledger.projector.catch_up()
    except Exception as error:  # a projection table that refuses the fold is itself evidence
        return [Finding("projections", f"the projections cannot be brought up to the log: {type(error).__name__}: {str(error).splitlines()[0][:200]}")]
    return []


@dataclass
class _Context:
    """What verify reads once and looks books up in."""

    projected_books: dict[str, Any]
    fiscal: dict[tuple[str, str, int], Any]
    registry: _RegistryIndex
    snapshots: dict[str, list[tuple[int, dict[str, Any]]]]
    sealed: dict[str, list[tuple[str, Mapping[str, Any]]]] = field(default_factory=dict)
    # Books whose registry entries outnumber the events that confirm them, by id (hex), with their names.
    unconfirmed: dict[str, str] = field(default_factory=dict)


def _verify_book(ledger, identifier: UUID, context: _Context, report: Report) -> None:  # type: ignore[no-untyped-def]
    """Replay one book, judge every event by the book's rules and compare it with everything else the store keeps."""
    book_seals = context.sealed.pop(identifier.hex, [])
    book_snapshots = context.snapshots.pop(identifier.hex, [])
    replayed = replay(
        ledger.app,
        identifier,
        capture_at={int(s["version"]) for _, s in book_seals},
        check_registry=True,
        states_at={version for version, _ in book_snapshots},
    )
    book = replayed.book
    name = str(book.key) if book else replayed.name
    report.books += 1
    if replayed.registry_confirmed != context.registry.entries.get(identifier.hex, 0):
        context.unconfirmed[identifier.hex] = name
    report.findings += [Finding(name, message) for message in replayed.broken + replayed.registry + replayed.rules]
    for source, seal in book_seals:
        report.seals += 1
        report.findings += _seal_findings(seal, source, replayed)
    stored_versions = {int(seal["version"]) for source, seal in book_seals if source == "stored seal"}
    issued = {version: (period, document_id) for version, period, document_id in replayed.seals_issued}
    for source, seal in book_seals:
        version = int(seal["version"])
        if version in issued and issued[version] != (str(seal["period"]), str(seal["document_id"])):
            period, document_id = issued[version]
            report.findings.append(
                Finding(
                    name,
                    f"the {source} at version {version} says period {seal['period']} and document {seal['document_id']}, "
                    f"the event there issued a seal of {period} for document {document_id}",
                )
            )
        elif version not in issued and book is not None and version <= book.version:
            report.findings.append(Finding(name, f"the {source} at version {version} was issued by no close: the event there issues no seal"))
    for version, period, document_id in replayed.seals_issued:
        if version not in stored_versions:
            report.findings.append(
                Finding(
                    name,
                    f"version {version} (document {document_id}) issued a seal of {period}, but ledger_seals has no "
                    "row for it: the stored seal was deleted",
                )
            )
    for version, state in book_snapshots:
        report.snapshots += 1
        report.findings += [Finding(name, message) for message in _snapshot_differences(version, state, replayed)]
    if book is None:
        return
    report.events += book.version
    head, document_id = context.registry.heads.get(identifier.hex, (0, ""))
    if head > book.version:
        report.findings.append(
            Finding(name, f"the log ends at version {book.version} but document {document_id} wrote version {head}: events were removed from the end")
        )
    report.findings += _compare_book(ledger, book, context.projected_books.get(identifier.hex), context.fiscal)


def _seal_row_findings(stored_seal: seals.StoredSeal) -> list[Finding]:
    """A ``ledger_seals`` row's own columns must say what its signed payload says."""
    payload = stored_seal.payload
    columns = {
        "book_id": (stored_seal.book_id, payload.get("book_id")),
        "book": (stored_seal.book, payload.get("book")),
        "version": (int(stored_seal.version), payload.get("version")),
        "period": (stored_seal.period, payload.get("period")),
        "document_id": (stored_seal.document_id, payload.get("document_id")),
    }
    name = f"{payload.get('book', stored_seal.book)} (stored seal of {payload.get('period', stored_seal.period)})"
    return [
        Finding(name, f"ledger_seals row says {column} {row_value!r}, its payload says {payload_value!r}: the row was edited")
        for column, (row_value, payload_value) in columns.items()
        if row_value != payload_value
    ]


def _snapshot_differences(version: int, state: Mapping[str, Any], replayed: Replayed) -> list[str]:
    """Every part of a stored snapshot that differs from the replay at its version (the ledger no longer reads snapshots)."""
    replayed_state = replayed.states_at.get(version)
    if replayed_state is None:
        return [f"a stored snapshot at version {version} is beyond the book's last replayable event"]
    stored_state = _comparable_state(state)
    differing = [name for name in sorted(stored_state) if stored_state[name] != replayed_state.get(name)]
    if not differing:
        return []
    return [
        f"the stored snapshot at version {version} differs from the replay in {', '.join(differing)}: it was "
        "edited or written by another program (the ledger does not read snapshots; delete the row)"
    ]


def stored_snapshots(ledger) -> dict[str, list[tuple[int, dict[str, Any]]]]:  # type: ignore[no-untyped-def]
    """Every row of ``ledger_snapshots`` (written by earlier versions of the ledger), decoded, by book.

    The ledger keeps no snapshots any more (docs/design.md, "Snapshots"),
    but a store written before may hold some: verify compares each with the
    replay so none can hide a wrong state.
    """
    table_name = f"{ledger.app.name.lower()}_snapshots"
    if not inspect(ledger.engine).has_table(table_name):
        return {}
    # The snapshot table has the event table's columns (without the notification id): read it with their types.
    table = ledger.app.recorder.events_record_cls.__table__.to_metadata(MetaData(), name=table_name)
    found: dict[str, list[tuple[int, dict[str, Any]]]] = {}
    last: tuple[Any, int] | None = None
    with ledger.engine.connect() as connection:
        while True:
            query = select(table.c.originator_id, table.c.originator_version, table.c.topic, table.c.state)
            if last is not None:
                query = query.where(after_event(table, last))
            rows = connection.execute(
                query.order_by(table.c.originator_id, table.c.originator_version).limit(PAGE_SIZE_EVENTS)
            ).all()
            for originator_id, version, topic, state in rows:
                identifier = originator_id if isinstance(originator_id, UUID) else UUID(str(originator_id))
                snapshot = ledger.app.mapper.to_domain_event(StoredEvent(identifier, version, topic, bytes(state)))
                found.setdefault(identifier.hex, []).append((int(version), dict(snapshot.state)))
            if len(rows) < PAGE_SIZE_EVENTS:
                return found
            last = (rows[-1][0], rows[-1][1])


def chain_breaks(app) -> list[Finding]:  # type: ignore[no-untyped-def]
    """The first broken link of every book whose hash chain does not hold; empty when every chain holds.

    Only the links and voucher numbers are recomputed (no fold, no registry
    look-up), a page of events at a time: what ``ledger rebuild`` proves
    before it builds projections from the events.
    """
    findings: list[Finding] = []
    for identifier in book_ids(app):
        name, version, previous = identifier.hex, 0, GENESIS
        vouchers: dict[str, int] = {}
        broken: list[str] = []
        while not broken:
            try:
                reads = read_events(app, identifier, gt=version, limit=PAGE_SIZE_EVENTS)
            except Exception as error:  # a stored row that no longer decodes is itself evidence
                broken.append(f"the event after version {version} cannot be read: {type(error).__name__}: {error}")
                break
            for read in reads:
                event = read.event
                if event.originator_version == 1:
                    name = f"{event.region}/{event.scheme}/{event.year}"
                broken += _check_link(read, version, previous, vouchers)
                if broken:
                    break
                version, previous = event.originator_version, event.chain
            if len(reads) < PAGE_SIZE_EVENTS:
                break
        findings += [Finding(name, message) for message in broken]
    return findings


def count_log_events(ledger) -> int:  # type: ignore[no-untyped-def]
    """Every event in the log: the books' and the policy engine's."""
    table = ledger.app.recorder.events_record_cls.__table__
    with ledger.engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(table)).scalar() or 0)


def check_seal(ledger, seal: Mapping[str, Any], source: str = "seal file") -> list[Finding]:  # type: ignore[no-untyped-def]
    """Replay the sealed book up to the sealed version and name every figure that differs from the seal."""
    version = int(seal["version"])
    replayed = replay(ledger.app, UUID(str(seal["book_id"])), up_to=version, capture_at={version})
    name = f"{seal['book']} ({source} of {seal['period']})"
    return [Finding(name, message) for message in replayed.broken] + _seal_findings(seal, source, replayed)


def _seal_findings(seal: Mapping[str, Any], source: str, replayed: Replayed) -> list[Finding]:
    name = f"{seal['book']} ({source} of {seal['period']})"
    version = int(seal["version"])
    figures = replayed.figures_at.get(version)
    if figures is None:
        have = replayed.book.version if replayed.book is not None else 0
        return [Finding(name, f"the store has {have} events of the book; the seal covers {version}: events were removed")]
    findings = []
    # What the seal says beside the figures: its format, the event count and when the issuing event was recorded.
    expected = {"format": seals.SEAL_FORMAT, "events": version}
    if version in replayed.sealed_at:
        expected["sealed_at"] = replayed.sealed_at[version]
    for key, value in expected.items():
        if seal.get(key) != value:
            findings.append(Finding(name, f"the seal says {key} {seal.get(key)!r}, the events say {value!r}"))
    unknown = sorted(set(seal) - seals.PAYLOAD_KEYS)
    if unknown:
        findings.append(Finding(name, f"the seal holds {', '.join(unknown)}, which no seal states"))
    if figures["chain_head"] != seal["chain_head"]:
        findings.append(Finding(name, f"chain head at version {version} is {figures['chain_head'][:16]}…, the seal says {seal['chain_head'][:16]}…"))
    if figures["lines"] != seal["lines"]:
        findings.append(Finding(name, f"{figures['lines']} posting lines, the seal says {seal['lines']}"))
    if figures["debit_total_fen"] != seal["debit_total_fen"]:
        findings.append(
            Finding(name, f"debit turnover {format_yuan(figures['debit_total_fen'])}, the seal says {format_yuan(seal['debit_total_fen'])}")
        )
    sealed_balances, balances = seal["balances"], figures["balances"]
    for key in sorted(set(sealed_balances) | set(balances)):
        if sealed_balances.get(key, 0) != balances.get(key, 0):
            findings.append(
                Finding(name, f"balance {key} is {format_yuan(balances.get(key, 0))}, the seal says {format_yuan(sealed_balances.get(key, 0))}")
            )
    sealed_vouchers, vouchers = seal["vouchers"], figures["vouchers"]
    for period in sorted(set(sealed_vouchers) | set(vouchers)):
        if sealed_vouchers.get(period, 0) != vouchers.get(period, 0):
            findings.append(
                Finding(name, f"vouchers of {period} end at #{vouchers.get(period, 0)}, the seal says #{sealed_vouchers.get(period, 0)}")
            )
    return findings


def _compare_book(ledger, book: Book, projected, fiscal) -> list[Finding]:  # type: ignore[no-untyped-def]
    name = str(book.key)
    findings: list[Finding] = []
    total_fen = sum(book.balances.values())
    if total_fen:
        findings.append(Finding(name, f"replayed trial balance is off by {format_yuan(total_fen)}"))
    if projected is None:
        return findings + [Finding(name, "has events but no row in the projections")]
    if projected.events != book.version:
        findings.append(Finding(name, f"projection counted {projected.events} events, replay {book.version}"))
    if projected.closed != book.closed:
        findings.append(Finding(name, f"projection says closed={projected.closed}, replay closed={book.closed}"))
    rows = queries.book_balances(ledger.engine, book.id.hex)
    projected_balances = {balance_key(r.account, r.tier): r.balance_fen for r in rows if r.balance_fen}
    for row in rows:
        if row.debit_fen - row.credit_fen != row.balance_fen:
            findings.append(Finding(name, f"projection row {row.account} tier {row.tier}: debits − credits ≠ balance"))
    for key in sorted(set(projected_balances) | set(book.balances)):
        replayed_fen, shown_fen = book.balances.get(key, 0), projected_balances.get(key, 0)
        if replayed_fen != shown_fen:
            findings.append(
                Finding(name, f"{key}: replay {format_yuan(replayed_fen)}, projection {format_yuan(shown_fen)}")
            )
    lines = {
        balance_key(s.account, s.tier): s.balance_fen
        for s in queries.line_sums(ledger.engine, [book.id.hex])
        if s.balance_fen
    }
    for key in sorted(set(lines) | set(book.balances)):
        replayed_fen, shown_fen = book.balances.get(key, 0), lines.get(key, 0)
        if replayed_fen != shown_fen:
            findings.append(
                Finding(name, f"{key}: replay {format_yuan(replayed_fen)}, posting lines (proj_lines) {format_yuan(shown_fen)}")
            )
    account = fiscal.get((book.region, book.scheme, book.year))
    fiscal_fen = book.balance_fen(FISCAL_ACCOUNT)
    shown_fen = account.closing_fen if account else 0
    if fiscal_fen != shown_fen:
        findings.append(
            Finding(name, f"fiscal special account: replay {format_yuan(fiscal_fen)}, projection {format_yuan(shown_fen)}")
        )
    return findings
