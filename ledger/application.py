"""The ledger application: posts business documents as events on books.

Posting one document is: read it, look up its id in the document registry,
plan its postings, let every book it touches check them, and only then
trigger the events and save the books and the document's registry entry in
one transaction. Documents are posted in batches for speed; a document is
never split across transactions, and one refused document never stops the
others.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any
from datetime import date
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application, ProcessingEvent
from eventsourcing.domain import Aggregate
from sqlalchemy import select
from eventsourcing.persistence import IntegrityError, Recording, StoredEvent

from ledger.aggregates.book import Book, BookKey, book_id
from ledger.aggregates.state import (
    DistrictFund,
    Household,
    InsuredYear,
    district_fund_id,
    household_id,
    insured_year_id,
)
from ledger import registry, seals
from ledger.documents import Document, Entry, plan
from ledger.errors import (
    BookNotFoundError,
    DuplicateConflictError,
    LedgerError,
    PeriodClosedError,
    ReversalError,
)
from ledger.accounts import CHART, FISCAL_ACCOUNT, FUND_BALANCE, AccountClass
from ledger.money import format_yuan
from ledger.policy.engine import evaluate
from ledger.postings import Posting, check_reversal_date, postings_from_rows, split_key

BATCH_SIZE_DOCUMENTS = 1000
SAVE_RETRIES = 3

POSTED, DUPLICATE, REJECTED = "posted", "duplicate", "rejected"

# Documents that read what earlier documents wrote, so everything before them is saved first.
SERIAL_TYPES = frozenset({"reversal", "year_close", "merger", "month_close", "period_reopen"})


@dataclass
class Outcome:
    """What happened to one document.

    Attributes:
      document_id: the business document id.
      status: ``posted``, ``duplicate`` (same id, same content: nothing done) or ``rejected``.
      postings: how many posting lines it wrote.
      error: the refusal, when rejected.
    """

    document_id: str
    status: str
    postings: int = 0
    error: LedgerError | None = None


@dataclass
class _Batch:
    """Working state of one batch: books loaded or opened, and what to save."""

    books: dict[BookKey, Book] = field(default_factory=dict)
    touched: set[BookKey] = field(default_factory=set)
    registry_rows: list[dict[str, object]] = field(default_factory=list)
    reversals: list[tuple[str, str]] = field(default_factory=list)
    seal_rows: list[dict[str, object]] = field(default_factory=list)
    registered: dict[str, registry.Registered] = field(default_factory=dict)
    states: dict[UUID, Aggregate] = field(default_factory=dict)
    known_missing: set[UUID] = field(default_factory=set)
    hashes: dict[str, str] = field(default_factory=dict)
    outcomes: list[Outcome] = field(default_factory=list)

    def aggregates(self) -> list[object]:
        changed_states = [state for state in self.states.values() if state._pending_events and state.version > 1]
        return [self.books[key] for key in sorted(self.touched)] + changed_states


class _BatchState:
    """The policy engine's view of person, household and district state, shared across a batch."""

    def __init__(self, app: "LedgerApp", batch: _Batch) -> None:
        self.app = app
        self.batch = batch

    def _get(self, identifier: UUID, opener: Callable[[], Aggregate]) -> Any:
        state = self.batch.states.get(identifier)
        if state is None:
            try:
                if identifier in self.batch.known_missing:
                    raise AggregateNotFoundError(identifier)
                state = self.app.repository.get(identifier)
            except AggregateNotFoundError:
                state = opener()
            self.batch.states[identifier] = state
        return state

    def insured_year(self, region: str, person: str, year: int) -> InsuredYear:
        return self._get(insured_year_id(region, person, year), lambda: InsuredYear.open(region, person, year))

    def household(self, region: str, household: str) -> Household:
        return self._get(household_id(region, household), lambda: Household.open(region, household))

    def district_fund(self, region: str, scheme: str) -> DistrictFund:
        return self._get(district_fund_id(region, scheme), lambda: DistrictFund.open(region, scheme))


class LedgerApp(Application[UUID]):
    """The application: books are always loaded by replaying their own events.

    No snapshots are kept: a snapshot is a copy of a book's state that
    nothing in the store can prove without replaying the events it
    summarises, and posting checks every rule against the state it loads
    (docs/design.md, "Snapshots"). Within a process the library's aggregate
    cache, fast-forwarded from the store, serves repeated loads.
    """

    name = "ledger"
    env = {"AGGREGATE_CACHE_MAXSIZE": "5000"}

    # Called inside the saving transaction, before its commit, with its connection and the batch's recordings;
    # the store folds them into the projections there and says whether it did (False: they lag, catch up later).
    project_in_transaction: Callable[[Any, list[Recording]], bool] | None = None
    # Called after every saved batch with its recordings and whether its own transaction projected them;
    # the store notes the log position and brings the projections up to date if they were not.
    after_save: Callable[[list[Recording], bool], object] | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Books loaded by the current posting run, at the version last saved.
        self._working_books: dict[BookKey, Book] = {}

    def save(
        self,
        *aggregates: Any,
        documents: Sequence[dict[str, object]] = (),
        reversals: Sequence[tuple[str, str]] = (),
        seal_rows: Sequence[dict[str, object]] = (),
        **kwargs: Any,
    ) -> list[Recording]:
        """Save the pending events of these aggregates and the documents' registry rows in one transaction.

        The library's ``save`` checks every object against runtime protocols
        (about 30 µs each); the ledger saves only its own aggregates, so it
        collects their events directly and then records and notifies
        exactly as the library does. The registry rows, and the projections
        when ``project_in_transaction`` is set and they are current, join the
        recorder's transaction, so they commit together with the events.
        """
        recordings, _ = self._save_batch(aggregates, documents, reversals, seal_rows)
        return recordings

    def _save_batch(
        self,
        aggregates: Sequence[Any],
        documents: Sequence[dict[str, object]],
        reversals: Sequence[tuple[str, str]],
        seal_rows: Sequence[dict[str, object]],
    ) -> tuple[list[Recording], bool]:
        """``save``, returning also whether the projections were brought up to date in the same transaction."""
        processing_event: ProcessingEvent = ProcessingEvent()
        for aggregate in aggregates:
            processing_event.events.extend(aggregate.collect_events())
            processing_event.aggregates[aggregate.id] = aggregate
        projected = False
        with self.recorder.transaction(commit=True) as session:  # type: ignore[attr-defined]
            recordings = self._record(processing_event)
            registry.write(session, documents, reversals)
            if seal_rows:
                session.execute(seals.seals.insert(), list(seal_rows))
            if self.project_in_transaction is not None:
                projected = self.project_in_transaction(session.connection(), recordings)
        self._notify(recordings)
        return recordings, projected

    def _save_and_project(self, batch: "_Batch") -> None:
        """Save a prepared batch; bring the projections up to date after the commit if its transaction did not.

        A save that fails for any reason drops the run's working books: the
        batch's events were applied to them and are not in the store, and a
        later document linked to them would break its book's chain.
        """
        try:
            recordings, projected = self._save_batch(batch.aggregates(), batch.registry_rows, batch.reversals, batch.seal_rows)
        except BaseException:
            self._working_books = {}
            raise
        if self.after_save is not None:
            self.after_save(recordings, projected)

    # ------------------------------------------------------------ posting

    def post(self, document: Document) -> Outcome:
        return next(iter(self.post_many([document])))

    def post_many(self, documents: Iterable[Document], batch_size: int = BATCH_SIZE_DOCUMENTS) -> Iterator[Outcome]:
        """Post documents in order, yielding one outcome per document once its batch is saved.

        The books a run has loaded stay in memory from one batch to the next,
        at the version just saved; if another writer saves to one of them
        meanwhile, the save fails on the version conflict and they are reloaded.
        """
        self._working_books = {}
        pending: list[Document] = []
        for document in documents:
            if document.type in SERIAL_TYPES:
                # These read what earlier documents wrote, so everything before them is saved first.
                yield from self._post_batch(pending)
                pending = []
                yield from self._post_batch([document])
                continue
            pending.append(document)
            if len(pending) >= batch_size:
                yield from self._post_batch(pending)
                pending = []
        yield from self._post_batch(pending)

    def _post_batch(self, documents: Sequence[Document]) -> list[Outcome]:
        if not documents:
            return []
        batch = self._prepare(documents)
        try:
            self._save_and_project(batch)
        except IntegrityError:
            self._working_books = {}
            # Another writer saved to one of these books or documents meanwhile.
            if len(documents) == 1:
                return [self._retry(documents[0])]
            return [outcome for document in documents for outcome in self._post_batch([document])]
        self._working_books = batch.books
        return batch.outcomes

    def _retry(self, document: Document) -> Outcome:
        for _ in range(SAVE_RETRIES):
            self._working_books = {}
            batch = self._prepare([document])
            try:
                self._save_and_project(batch)
            except IntegrityError:
                continue
            return batch.outcomes[0]
        error = LedgerError("the books kept changing under this document; post it again", document_id=document.id)
        return Outcome(document.id, REJECTED, error=error)

    def dry_run(self, documents: Sequence[Document]) -> list[tuple[Outcome, list[tuple[BookKey, Any]]]]:
        """Validate and compute documents as posting would, in one batch, and save nothing.

        Returns, per document in order, its outcome and the events it would
        record, each with its book's key (``Book.Posted`` and the like, with
        ``postings`` and ``computation``). The books and person states are loaded as copies
        (the repository deep-copies what it caches) into a working set of
        their own that is dropped afterwards, so nothing computed here is
        saved, cached or seen by a later ``post_many``. Documents that read
        what earlier documents wrote (a reversal, a close) see only what is
        saved, not the earlier documents of the same dry run.
        """
        kept = self._working_books
        self._working_books = {}
        try:
            batch = self._prepare(documents)
        finally:
            self._working_books = kept
        pending: dict[str, list[Any]] = {}
        for key, book in batch.books.items():
            for event in book.pending_events:
                pending.setdefault(getattr(event, "document_id", ""), []).append((key, event))
        return [(outcome, pending.get(outcome.document_id, []) if outcome.status == POSTED else []) for outcome in batch.outcomes]

    def _prepare(self, documents: Sequence[Document]) -> _Batch:
        batch = _Batch(books=self._working_books)
        batch.registered = self.registered([d.id for d in documents])
        self._prefetch_states(batch, documents)
        registered = {document_id: entry.content_hash for document_id, entry in batch.registered.items()}
        for document in documents:
            content_hash = document.content_hash()
            known_hash = batch.hashes.get(document.id) or registered.get(document.id)
            if known_hash is not None:
                batch.outcomes.append(self._duplicate(document, content_hash, known_hash))
                continue
            try:
                postings = self._apply(batch, document, content_hash)
            except LedgerError as error:
                batch.outcomes.append(Outcome(document.id, REJECTED, error=error.for_document(document.id)))
                continue
            batch.hashes[document.id] = content_hash
            batch.outcomes.append(Outcome(document.id, POSTED, postings=postings))
        return batch

    @staticmethod
    def _duplicate(document: Document, content_hash: str, known_hash: str) -> Outcome:
        if content_hash == known_hash:
            return Outcome(document.id, DUPLICATE)
        error = DuplicateConflictError(
            "was posted before with different content; a posted document is never edited, "
            "post a reversal and a new document instead",
            document_id=document.id,
            field="id",
        )
        return Outcome(document.id, REJECTED, error=error)

    def _apply(self, batch: _Batch, document: Document, content_hash: str) -> int:
        """Check every entry against its book, then record them all; return the number of postings."""
        evaluation = evaluate(document, _BatchState(self, batch))
        document = evaluation.document
        computation = evaluation.computation.to_dict() if evaluation.computation else None
        original: registry.Registered | None = None
        if document.type == "reversal":
            original, entries = self._plan_reversal(batch, document)
        elif document.type == "year_close":
            entries = self._plan_year_close(batch, document)
        elif document.type in ("month_close", "period_reopen"):
            entries = self._plan_period(batch, document)
        elif document.type == "merger":
            entries, merger_computation = self._plan_merger(document)
            computation = merger_computation.to_dict()
        else:
            entries = plan(document)
        books = [self._book(batch, entry.book) for entry in entries]
        for book, entry in zip(books, entries):
            errors = book.check(entry.event_class, entry.effective_date or document.date, entry.postings, entry.extra)
            if errors:
                raise errors[0].for_document(document.id)
        references: list[list[object]] = []
        for book, entry in zip(books, entries):
            # An entry with no postings is still recorded where it means something (a year closed
            # with no income, a gap met wholly from surplus), so its computation is kept in an event.
            if entry.postings or Book.may_be_empty(entry.event_class):
                book.record(
                    entry.event_class,
                    document_id=document.id,
                    effective_date=entry.effective_date or document.date,
                    actor=document.actor,
                    postings=entry.postings,
                    computation=computation,
                    content_hash=content_hash,
                    **dict(entry.extra or {}),
                )
                references.append([book.id.hex, book.version])
                if _issues_seal(entry):
                    sealed_at = book.pending_events[-1].timestamp.isoformat()
                    period = str((entry.extra or {}).get("period", book.year))
                    batch.seal_rows.append(seals.row(seals.payload(book, period, document.id, sealed_at)))
            batch.touched.add(entry.book)
        evaluation.commit()
        batch.registry_rows.append(registry.row(document.id, content_hash, document.type, references))
        if original is not None:
            batch.reversals.append((original.document_id, document.id))
        return sum(len(entry.postings) for entry in entries)

    def _book(self, batch: _Batch, key: BookKey) -> Book:
        book = batch.books.get(key)
        if book is None:
            try:
                book = self.repository.get(book_id(key))
            except AggregateNotFoundError:
                book = Book.open(key)
            batch.books[key] = book
        return book

    def _prefetch_states(self, batch: _Batch, documents: Sequence[Document]) -> None:
        """Load the person, household and district state a batch needs with one query, not one per document.

        A monthly claims file names hundreds of thousands of persons; loading
        each one's year with its own query would cost a round trip apiece.
        """
        wanted = {identifier for document in documents for identifier in _state_ids(document)}
        if not wanted:
            return
        table = self.recorder.events_record_cls.__table__  # type: ignore[attr-defined]
        found: dict[UUID, Any] = {}
        with self.recorder.transaction(commit=False) as session:  # type: ignore[attr-defined]
            ids = sorted(wanted, key=lambda u: u.hex)
            for start in range(0, len(ids), registry.LOOKUP_PAGE):
                query = (
                    select(table.c.originator_id, table.c.originator_version, table.c.topic, table.c.state)
                    .where(table.c.originator_id.in_(ids[start : start + registry.LOOKUP_PAGE]))
                    .order_by(table.c.originator_id, table.c.originator_version)
                )
                for r in session.execute(query):
                    event = self.mapper.to_domain_event(StoredEvent(r[0], r[1], r[2], bytes(r[3])))
                    found[r[0]] = event.mutate(found.get(r[0]))
        batch.states.update(found)
        batch.known_missing = wanted - set(found)

    def _book_by_id(self, batch: _Batch, identifier: UUID) -> Book:
        for book in batch.books.values():
            if book.id == identifier:
                return book
        book = self.repository.get(identifier)
        batch.books[book.key] = book
        return book

    def _plan_reversal(self, batch: _Batch, document: Document) -> tuple[registry.Registered, list[Entry]]:
        reverses = document["reverses"]
        original = self.registered([reverses]).get(reverses)
        if original is None:
            raise ReversalError(f"there is no posted document {reverses} to reverse", field="reverses")
        if original.reversed_by is not None:
            raise ReversalError(f"{reverses} was already reversed by {original.reversed_by}", field="reverses")
        if original.document_type == "opening_balances":
            raise ReversalError(
                f"{reverses} holds a book's opening balances, which cannot be reversed (a reversed opening would leave "
                "the book no way to be opened again); correct a balance with a journal",
                field="reverses",
            )
        if original.document_type in ("reversal", "year_close", "month_close", "period_reopen"):
            raise ReversalError(
                f"{reverses} is a {original.document_type.replace('_', ' ')}, which cannot be reversed", field="reverses"
            )
        entries = []
        for book_hex, version in original.entries:
            (event,) = self.events.get(UUID(book_hex), gt=int(version) - 1, lte=int(version))
            book = self._book_by_id(batch, UUID(book_hex))
            if book.closed:
                raise PeriodClosedError(
                    f"{reverses} was posted in the {book.key} book, which is closed; correct it in "
                    f"{book.year + 1} with a refund or recovery of an earlier year (original_year {book.year})",
                    field="reverses",
                )
            errors = check_reversal_date(reverses, date.fromisoformat(event.effective_date), document.date)
            if errors:
                raise errors[0]
            mirrored = tuple(p.mirrored() for p in postings_from_rows(event.postings))
            entries.append(Entry(book.key, Book.DocumentReversed, mirrored, extra={"reverses": reverses}))
        return original, entries

    def _existing_book(self, batch: _Batch, document: Document, doing: str) -> Book:
        key = BookKey(document["region"], document["scheme"], document["year"])
        try:
            book = batch.books.get(key) or self.repository.get(book_id(key))
        except AggregateNotFoundError:
            raise BookNotFoundError(f"there is no {key} book to {doing}", field="year") from None
        if book.version == Book.INITIAL_VERSION and book._pending_events:
            # Opened in memory by a refused document, never saved.
            raise BookNotFoundError(f"there is no {key} book to {doing}", field="year")
        batch.books[key] = book
        return book

    def _plan_period(self, batch: _Batch, document: Document) -> list[Entry]:
        """Close a month, or reopen a month or the year; the book checks the order and the state."""
        if document.type == "month_close":
            book = self._existing_book(batch, document, "close")
            period = f"{document['year']}-{document['month']:02d}"
            return [Entry(book.key, Book.MonthClosed, (), extra={"period": period, "seal": bool(document.get("seal", False))})]
        book = self._existing_book(batch, document, "reopen")
        month = document.get("month")
        period = f"{document['year']}-{month:02d}" if month else str(document["year"])
        return [Entry(book.key, Book.PeriodReopened, (), extra={"period": period, "reason": document["reason"]})]

    def _plan_year_close(self, batch: _Batch, document: Document) -> list[Entry]:
        """Close income and expense into 3001 and carry every balance into next year's book."""
        book = self._existing_book(batch, document, "close")
        key = book.key
        # Money still held for hardship residents lapses into the fund first (docs/policy/resident.md, reading 3).
        lapse = book.lapse_postings()
        closing = book.closing_postings(lapse)
        carried = book.carried_balances((*lapse, *closing))
        next_key = BookKey(key.region, key.scheme, key.year + 1)
        return [
            *([Entry(key, Book.HeldLapsed, lapse)] if lapse else []),
            Entry(key, Book.YearClosed, closing),
            Entry(next_key, Book.BalancesCarriedForward, carried, date(key.year + 1, 1, 1), {"from_year": key.year}),
        ]

    def _plan_merger(self, document: Document) -> tuple[list[Entry], Any]:
        """Move every balance of the 城镇居民 and 新农合 books into the resident book, at their audited figures.

        Each old book gives up every balance (income and expense too, so they
        need no separate close) and closes; the resident book receives the
        assets and liabilities, with the merged fund balance on the
        document's tier, and finance's cover of any deficit (郴政办发〔2016〕37号 四(二)).
        """
        from ledger.policy import load_policy
        from ledger.policy.facts import Facts
        from ledger.policy.rules.chenzhou import merge_funds

        year = document.date.year
        old: dict[str, Book] = {}
        for fund, scheme in (("urban", "urban_resident"), ("ncms", "ncms")):
            try:
                old[fund] = self.repository.get(book_id(BookKey(document["region"], scheme, year)))
            except AggregateNotFoundError:
                raise BookNotFoundError(f"there is no {scheme} book of {document['region']} for {year} to merge", field="region") from None
        facts = {**document["facts"], **{f"{fund}_balance": format_yuan(_fund_balance_fen(book)) for fund, book in old.items()}}
        computation = merge_funds(Facts(facts, document.id), load_policy(document["region"], document.date))
        tier = document.get("tier", 0)
        received: dict[tuple[str, int], int] = {}
        entries = []
        for book in old.values():
            moved = tuple(Posting(*split_key(key), -balance_fen) for key, balance_fen in sorted(book.balances.items()))
            entries.append(Entry(book.key, Book.FundsMerged, moved, extra={"merged_into": "resident"}))
            for key, balance_fen in book.balances.items():
                account, _ = split_key(key)
                if not CHART[account].is_income_or_expense and CHART[account].account_class is not AccountClass.NET_ASSETS:
                    received[(account, 0)] = received.get((account, 0), 0) + balance_fen
        gap_fen = computation.amounts["finance_covers_gap"]
        if gap_fen:
            received[(FISCAL_ACCOUNT, 0)] = received.get((FISCAL_ACCOUNT, 0), 0) + gap_fen
            received[("4101.04", tier)] = -gap_fen
        moved_in_fen = sum(amount for (account, _), amount in received.items() if account != "4101.04")
        received[(FUND_BALANCE, tier)] = -(moved_in_fen - gap_fen)
        postings = tuple(Posting(account, t, amount) for (account, t), amount in sorted(received.items()) if amount)
        entries.append(Entry(BookKey(document["region"], "resident", year), Book.MergedFundsReceived, postings))
        return entries, computation

    # ------------------------------------------------------------ reading

    def registered(self, document_ids: Sequence[str]) -> dict[str, registry.Registered]:
        """The registry entries of the documents among these that are already posted: indexed lookups, no replay."""
        if not document_ids:
            return {}
        with self.recorder.transaction(commit=False) as session:  # type: ignore[attr-defined]
            return registry.lookup(session, document_ids)

    def book(self, key: BookKey) -> Book:
        """Replay one book from its events: the auditor's independent figure."""
        return self.repository.get(book_id(key))


def _issues_seal(entry: Entry) -> bool:
    """A year close always issues a seal; a month close when it asks for one."""
    if issubclass(entry.event_class, Book.YearClosed):
        return True
    return issubclass(entry.event_class, Book.MonthClosed) and bool((entry.extra or {}).get("seal"))


def _state_ids(document: Document) -> list[UUID]:
    """The ids of the engine state a document's rule will read (see ledger.policy.engine)."""
    facts = document.get("facts") or {}
    region, year = document.get("region"), document.date.year
    if document.type in ("claim", "assistance") and facts.get("person"):
        return [insured_year_id(region, str(facts["person"]), year)]
    if document.type == "contribution" and facts.get("household"):
        return [household_id(region, str(facts["household"]))]
    if document.type in ("remittance", "grant", "gap_cover"):
        return [district_fund_id(region, document.get("scheme", "resident"))]
    return []


def _fund_balance_fen(book: Book) -> int:
    """A book's fund balance: net assets plus the year's income less expense, as a credit figure."""
    total_fen = 0
    for key, balance_fen in book.balances.items():
        account = CHART[split_key(key)[0]]
        if account.is_income_or_expense or account.account_class is AccountClass.NET_ASSETS:
            total_fen -= balance_fen
    return total_fen
