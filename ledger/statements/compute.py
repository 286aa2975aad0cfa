"""Computing an official statement from the posting lines, and refusing one whose invariants fail.

A statement is computed from ``proj_lines`` at one fixed position of the
event log (the projector's, read first): every query is bounded by that
notification id, so the figures, the books' chain heads and the position an
issue records all describe the same state, whatever is posted meanwhile.
The sums are done in SQL, grouped by book, event kind, account and tier;
nothing is replayed.

Every time a statement is computed its invariants are checked (see
``_check``); a failure raises ``StatementInvariantError`` naming the
statement, the invariant, the column and both figures, and no statement is
returned.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from uuid import UUID

from sqlalchemy import Connection, func, select

from ledger.accounts import CARE_ADVANCED, CARE_CLEARING, CHART, SCHEMES, AccountClass, fund_balance_account
from ledger.projections import queries, tables
from ledger.projections.projector import PROJECTION_NAME
from ledger.regions import is_region_code, municipality_of
from ledger.statements.errors import InvariantFailure, StatementInvariantError, StatementRequestError
from ledger.statements.forms import (
    ACCOUNT,
    BALANCE_SHEET,
    FORMS,
    INCOME_STATEMENT,
    INCOME_STATEMENT_FORM,
    OPENING_FUND,
    OTHER_FUND,
    Form,
    LineSpec,
    form_of,
)
from ledger.statements.model import (
    MONTH,
    OPENING,
    BookRef,
    Column,
    EliminatedDocument,
    Period,
    Reopening,
    Scope,
    Statement,
    StatementLine,
    columns_of,
)

MAXIMUM_SUM_ROWS = 100_000
MAXIMUM_ELIMINATION_ROWS = 100_000
MAXIMUM_PERIOD_ROWS = 10_000
MAXIMUM_BOOKS = 1_000

# Event kinds (class names) that are not the period's income and expense.
OPENING_KINDS = frozenset({"BalancesCarriedForward", "OpeningBalancesEntered"})
CLOSING_KIND = "YearClosed"
MERGED_OUT_KIND = "FundsMerged"
NOT_FLOW_KINDS = frozenset({*OPENING_KINDS, CLOSING_KIND, MERGED_OUT_KIND})

# Remittances and grants between books: both sides are income and expense of one
# consolidated fund, so a consolidation removes them. A reversal of one mirrors
# it in the same two books and is removed with it.
ELIMINABLE_KINDS = ("AdjustmentRemitted", "AdjustmentGranted", "GapCovered", "DocumentReversed")
ELIMINABLE_ACCOUNTS = ("4401", "4402", "5301", "5302")

# Cross-district care between districts of the scope: what one district advanced and the
# platform's clearing are claims of the consolidated fund on itself, so a consolidated
# balance sheet removes them when they net to zero (docs/policy/cross-district.md).
CLEARING_ACCOUNTS = (CARE_ADVANCED, CARE_CLEARING)

Balances = dict[tuple[str, int], int]


# ---------------------------------------------------------------- reading the projections


@dataclass(frozen=True)
class _Bounds:
    """What every line query is limited to: the effective dates, the recorded time and the log position."""

    through: date
    since: date | None
    known_on: str | None
    position: int


def _line_conditions(bounds: _Bounds) -> list:  # type: ignore[type-arg]
    t = tables.lines
    conditions = [t.c.notification_id <= bounds.position, t.c.effective_date <= bounds.through.isoformat()]
    if bounds.since is not None:
        conditions.append(t.c.effective_date >= bounds.since.isoformat())
    if bounds.known_on is not None:
        conditions.append(t.c.recorded_at <= bounds.known_on)
    return conditions


def projector_position(connection: Connection) -> int:
    value = connection.execute(
        select(tables.tracking.c.notification_id).where(tables.tracking.c.name == PROJECTION_NAME)
    ).scalar()
    return int(value or 0)


def _sum_rows(connection: Connection, book_ids: Sequence[str], bounds: _Bounds) -> list[tuple[str, str, str, int, int]]:
    """(book, kind, account, tier, amount in fen, debit positive) summed over the lines within the bounds."""
    if not book_ids:
        return []
    t = tables.lines
    keys = [t.c.book_id, t.c.kind, t.c.account, t.c.tier]
    query = (
        select(*keys, func.sum(t.c.amount_fen))
        .where(t.c.book_id.in_(list(book_ids)), *_line_conditions(bounds))
        .group_by(*keys)
        .order_by(*keys)
        .limit(MAXIMUM_SUM_ROWS + 1)
    )
    rows = [(r[0], r[1], r[2], int(r[3]), int(r[4])) for r in connection.execute(query)]
    if len(rows) > MAXIMUM_SUM_ROWS:
        raise StatementRequestError(f"the scope has more than {MAXIMUM_SUM_ROWS} account lines; state a smaller scope")
    return rows


def _elimination_rows(connection: Connection, book_ids: Sequence[str], bounds: _Bounds) -> list[tuple[str, str, str, int]]:
    """(document, book, account, fen) of the remittance and grant lines in the scope's books.

    Only the scope's books are read (through the (book, date) index): a
    document whose other side lies outside the scope shows here in one book
    only, and ``_eliminate`` keeps it.
    """
    if not book_ids:
        return []
    t = tables.lines
    keys = [t.c.document_id, t.c.book_id, t.c.account]
    query = (
        select(*keys, func.sum(t.c.amount_fen))
        .where(
            t.c.book_id.in_(list(book_ids)),
            t.c.kind.in_(ELIMINABLE_KINDS),
            t.c.account.in_(ELIMINABLE_ACCOUNTS),
            *_line_conditions(bounds),
        )
        .group_by(*keys)
        .order_by(*keys)
        .limit(MAXIMUM_ELIMINATION_ROWS + 1)
    )
    rows = [(r[0], r[1], r[2], int(r[3])) for r in connection.execute(query)]
    if len(rows) > MAXIMUM_ELIMINATION_ROWS:
        raise StatementRequestError(f"the scope has more than {MAXIMUM_ELIMINATION_ROWS} remittance lines; state a smaller scope")
    return rows


def _period_rows(connection: Connection, book_ids: Sequence[str], known_on: str | None, position: int) -> list:  # type: ignore[type-arg]
    """The closes and reopenings of the books, oldest first, as known at the statement's position."""
    if not book_ids:
        return []
    p = tables.periods
    query = (
        select(p)
        .where(p.c.book_id.in_(list(book_ids)), p.c.notification_id <= position)
        .order_by(p.c.notification_id)
        .limit(MAXIMUM_PERIOD_ROWS)
    )
    if known_on is not None:
        query = query.where(p.c.recorded_at <= known_on)
    return list(connection.execute(query))


def _scope_books(engine, scope: Scope, year: int) -> list[queries.BookRow]:  # type: ignore[no-untyped-def]
    if not scope.consolidated:
        return [b for b in queries.list_books(engine, scope.region, scope.scheme, year) if b.region == scope.region]
    books = queries.list_books(engine, scope.region, scope.scheme, year)
    if scope.with_adjustment and scope.scheme != "adjustment":
        books += queries.list_books(engine, scope.region, "adjustment", year)
    return books


def _book_refs(ledger, books: Sequence[queries.BookRow], position: int) -> list[BookRef]:  # type: ignore[no-untyped-def]
    """The books with their version and chain head at the position; a book opened after it is left out."""
    if len(books) > MAXIMUM_BOOKS:
        raise StatementRequestError(f"the scope has more than {MAXIMUM_BOOKS} books; state a smaller scope")
    if not books:
        return []
    events = ledger.app.recorder.events_record_cls.__table__
    by_uuid = {UUID(b.book_id): b for b in books}
    query = (
        select(events.c.originator_id, func.max(events.c.originator_version))
        .where(events.c.originator_id.in_(list(by_uuid)), events.c.id <= position)
        .group_by(events.c.originator_id)
    )
    with ledger.engine.connect() as connection:
        versions = {UUID(str(r[0])): int(r[1]) for r in connection.execute(query)}
    refs = []
    for identifier, version in sorted(versions.items(), key=lambda item: item[0].hex):
        (event,) = ledger.app.events.get(identifier, gt=version - 1, lte=version)
        book = by_uuid[identifier]
        refs.append(BookRef(book.book_id, book.region, book.scheme, book.year, version, event.chain))
    return refs


# ---------------------------------------------------------------- folding the sums


@dataclass
class _Span:
    """The lines of a set of books from the start of their year (or a month) to a date, folded.

    Attributes:
      closing: balances with income and expense folded into the fund balance
        they close into, so the balance sheet holds before the close too.
      opening: the same, of the opening balances carried into the books.
      flows: income and expense by account (debit positive), without the
        close, the opening and a merged fund's move-out.
      other_fund_fen: fund movements that are neither (a journal straight to
        3001, a merger), credit positive.
      by_book: income and expense per book, every kind, for the after-close check.
      unknown: accounts outside the chart.
    """

    closing: Balances = field(default_factory=lambda: defaultdict(int))
    opening: Balances = field(default_factory=lambda: defaultdict(int))
    flows: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    other_fund_fen: int = 0
    by_book: dict[str, Balances] = field(default_factory=lambda: defaultdict(lambda: defaultdict(int)))
    unknown: set[str] = field(default_factory=set)


def _fold(rows: Sequence[tuple[str, str, str, int, int]], schemes: Mapping[str, str]) -> _Span:
    span = _Span()
    for book_hex, kind, account, tier, amount_fen in rows:
        leaf = CHART.get(account)
        if leaf is None:
            span.unknown.add(account)
            continue
        held = (fund_balance_account(schemes[book_hex]), tier) if leaf.is_income_or_expense else (account, tier)
        span.closing[held] += amount_fen
        if kind in OPENING_KINDS:
            span.opening[held] += amount_fen
        if leaf.is_income_or_expense:
            span.by_book[book_hex][(account, tier)] += amount_fen
            if kind not in NOT_FLOW_KINDS:
                span.flows[account] += amount_fen
            elif kind == MERGED_OUT_KIND:
                span.other_fund_fen -= amount_fen
        elif leaf.account_class is AccountClass.NET_ASSETS and kind not in (*OPENING_KINDS, CLOSING_KIND):
            span.other_fund_fen -= amount_fen
    return span


def _fund_fen(balances: Balances) -> int:
    """The fund (net assets, income and expense folded in) as a credit figure."""
    return -sum(fen for (account, _), fen in balances.items() if CHART[account].account_class is AccountClass.NET_ASSETS)


@dataclass
class _Eliminated:
    by_account: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    documents: list[EliminatedDocument] = field(default_factory=list)


def _eliminate(rows: Sequence[tuple[str, str, str, int]], scope_ids: set[str], keys: Mapping[str, str], column: str) -> _Eliminated:
    """Pick the documents to remove: posted to two books or more, all in the scope, their lines netting to zero.

    A document whose other side is outside the scope (a district's remittance
    when the adjustment book is not included) stays: for this scope it is
    real income or expense. The lines must net to zero so that removing them
    takes as much from income as from expense and leaves 本期基金结余 alone;
    a document seen only in part (known on a time between its two events)
    is not removed.
    """
    by_document: dict[str, list[tuple[str, str, int]]] = defaultdict(list)
    for document_id, book_hex, account, amount_fen in rows:
        by_document[document_id].append((book_hex, account, amount_fen))
    result = _Eliminated()
    for document_id, lines in sorted(by_document.items()):
        books = {book_hex for book_hex, _, _ in lines}
        if len(books) < 2 or not books <= scope_ids or sum(fen for _, _, fen in lines):
            continue
        for _, account, amount_fen in lines:
            result.by_account[account] += amount_fen
        moved_fen = sum(fen for _, _, fen in lines if fen > 0)
        result.documents.append(EliminatedDocument(column, document_id, tuple(sorted(keys[b] for b in books)), moved_fen))
    return result


# ---------------------------------------------------------------- lines


def _evaluate(lines: Sequence[LineSpec], account_value: Callable[[LineSpec], int | None], special: Mapping[str, int | None]) -> dict[str, int | None]:
    """Every line's figure in one column: account lines first, then each total once its parts are known (no recursion)."""
    values: dict[str, int | None] = {}
    for line in lines:
        if line.source == ACCOUNT:
            values[line.code] = account_value(line)
        elif line.source in (OPENING_FUND, OTHER_FUND):
            values[line.code] = special[line.source]
    totals = [line for line in lines if line.code not in values]
    total_codes = {line.code for line in totals}
    # A pass computes every total whose parts are known; the form nests totals at most len(totals) deep.
    for _ in range(len(totals)):
        for line in totals:
            ready = all(code in values or code not in total_codes for code in (*line.plus, *line.minus))
            if line.code not in values and ready:
                values[line.code] = _combine(line, values)
    if total_codes - set(values):
        raise ValueError(f"the form's totals refer to each other: {sorted(total_codes - set(values))}")
    return values


def _combine(line: LineSpec, values: Mapping[str, int | None]) -> int | None:
    """Plus lines less minus lines; a line the form does not show counts as zero, a blank makes the total blank."""
    plus = [values.get(code, 0) for code in line.plus]
    minus = [values.get(code, 0) for code in line.minus]
    if None in plus or None in minus:
        return None
    return sum(plus) - sum(minus)  # type: ignore[arg-type]


def _balance_value(balances: Balances) -> Callable[[LineSpec], int | None]:
    def value(line: LineSpec) -> int:
        total = sum(fen for (account, tier), fen in balances.items() if line.takes(account) and line.tier in (None, tier))
        return line.sign * total

    return value


def _flow_value(flows: Mapping[str, int]) -> Callable[[LineSpec], int | None]:
    def value(line: LineSpec) -> int:
        return line.sign * sum(fen for account, fen in flows.items() if line.takes(account))

    return value


# ---------------------------------------------------------------- the statement


@dataclass
class _Work:
    """What one computation has read: its spans per column and what it checks against."""

    spans: dict[str, _Span] = field(default_factory=dict)
    eliminated: dict[str, _Eliminated] = field(default_factory=dict)
    closed_books: dict[str, set[str]] = field(default_factory=dict)  # column -> books closed as known
    keys: dict[str, str] = field(default_factory=dict)  # book id -> region/scheme/year
    consolidated: bool = False


def compute(
    ledger,  # type: ignore[no-untyped-def]
    form: str,
    scope: Scope,
    period: Period,
    *,
    known_on: datetime | str | None = None,
    position: int | None = None,
) -> Statement:
    """The statement of a form for a scope and period, as known on a recorded time, or refused.

    ``ledger`` is a ``ledger.store.Ledger`` whose projections are current
    (the CLI catches up first). ``position`` defaults to the projector's.
    """
    if form not in FORMS:
        raise StatementRequestError(f"{form!r} is not a form: use 01 (资产负债表) or 02 (收支表)", field="form")
    _check_request(scope, period)
    cutoff = _cutoff(known_on)
    engine = ledger.engine
    with engine.connect() as connection:
        at = projector_position(connection) if position is None else position
    books = _book_refs(ledger, _scope_books(engine, scope, period.year), at)
    if not books:
        raise StatementRequestError(f"there is no {scope.scheme} book of {scope.region} for {period.year} in scope {scope.key}")
    # The previous year's books give 上年数, and their close gives this year's 年初余额: a reopening
    # of them shows in this statement too.
    previous = _book_refs(ledger, _scope_books(engine, scope, period.year - 1), at)
    work = _read(engine, form, scope, period, cutoff, at, books, previous)
    target = form_of(form)
    schemes = {b.scheme for b in books}
    shown = target.shown(schemes)
    columns = columns_of(form, period)
    values = {column.code: _column_values(target, shown, column, work) for column in columns}
    statement_name = f"{target.number} {target.title} {scope.key} {period.key}"
    checks = _check(statement_name, target, shown, columns, values, work)
    lines = tuple(StatementLine(line, tuple(values[c.code][line.code] for c in columns)) for line in shown)
    reopenings = _reopenings(engine, [*books, *previous], cutoff, at)
    eliminations, documents = _elimination_lines(work, columns) if form == INCOME_STATEMENT and scope.consolidated else ((), ())
    notes = _notes(form, scope, period, cutoff, schemes)
    if form == BALANCE_SHEET and scope.consolidated:
        eliminations = _clearing_lines(work, columns)
        if eliminations:
            notes += (
                "汇总范围内异地就医垫付（暂付款）与平台清算款（暂收款）相互抵销，抵销额见抵销表。"
                "(Cross-district care advances and the platform's clearing between books of the scope are eliminated; see the eliminations.)",
            )
    return Statement(
        form=target,
        scope=scope,
        period=period,
        known_on=cutoff,
        position=at,
        columns=columns,
        lines=lines,
        books=tuple([*books, *previous]),
        reopenings=reopenings,
        eliminations=eliminations,
        eliminated_documents=documents,
        notes=notes,
        checks=checks,
    )


def _check_request(scope: Scope, period: Period) -> None:
    if not is_region_code(scope.region):
        raise StatementRequestError(f"{scope.region!r} is not a six-digit region code (e.g. 500101)", field="region")
    if scope.scheme not in SCHEMES:
        raise StatementRequestError(f"{scope.scheme!r} is not a fund: use one of {', '.join(SCHEMES)}", field="scheme")
    if scope.with_adjustment and not scope.consolidated:
        raise StatementRequestError("the adjustment books join only a consolidated statement: add --consolidated", field="with_adjustment")
    if scope.consolidated and municipality_of(scope.region) != scope.region:
        raise StatementRequestError(
            f"{scope.region} is not a municipality; a consolidated statement is of a municipality such as {municipality_of(scope.region)}",
            field="region",
        )
    period.check()


def _cutoff(known_on: datetime | str | None) -> str | None:
    if known_on is None:
        return None
    try:
        return queries.recorded_cutoff(known_on)
    except ValueError:
        raise StatementRequestError(f"{known_on!r} is not a recorded time (YYYY-MM-DD, or YYYY-MM-DDTHH:MM:SS in the agency's time zone unless it gives an offset)", field="known_on") from None


def _read(engine, form: str, scope: Scope, period: Period, cutoff: str | None, at: int, books: Sequence[BookRef], previous: Sequence[BookRef]) -> _Work:  # type: ignore[no-untyped-def]
    """Run the queries each column needs, in one connection."""
    work = _Work(keys={b.book_id: b.key for b in [*books, *previous]}, consolidated=scope.consolidated)
    schemes = {b.book_id: b.scheme for b in [*books, *previous]}
    ids = [b.book_id for b in books]
    spans: dict[str, tuple[list[str], _Bounds]] = {"year": (ids, _Bounds(period.end, None, cutoff, at))}
    if form == INCOME_STATEMENT and period.month:
        spans["month"] = (ids, _Bounds(period.end, period.start, cutoff, at))
    if form == INCOME_STATEMENT and not period.month:
        spans["previous"] = ([b.book_id for b in previous], _Bounds(period.previous_year_end(), None, cutoff, at))
    with engine.connect() as connection:
        for name, (span_ids, bounds) in spans.items():
            work.spans[name] = _fold(_sum_rows(connection, span_ids, bounds), schemes)
            if form == INCOME_STATEMENT and scope.consolidated:
                rows = _elimination_rows(connection, span_ids, bounds)
                work.eliminated[name] = _eliminate(rows, set(span_ids), work.keys, name)
            # A month's span holds only that month's flows and its share of the close,
            # so the after-close check (income and expense zero) is for spans from 1 January.
            work.closed_books[name] = _closed_books(connection, span_ids, bounds) if bounds.since is None else set()
    return work


def _closed_books(connection: Connection, book_ids: Sequence[str], bounds: _Bounds) -> set[str]:
    """The books whose year close is known and not reopened since, when the span reaches 31 December."""
    closed: set[str] = set()
    for row in _period_rows(connection, book_ids, bounds.known_on, bounds.position):
        if len(row.period) != 4 or bounds.through < date(int(row.period), 12, 31):
            continue
        if row.action == "close":
            closed.add(row.book_id)
        else:
            closed.discard(row.book_id)
    return closed


SPAN_OF_COLUMN = {"opening": "year", "closing": "year", "month": "month", "year_to_date": "year", "this_year": "year", "last_year": "previous"}


def _column_values(target: Form, shown: Sequence[LineSpec], column: Column, work: _Work) -> dict[str, int | None]:
    span = work.spans[SPAN_OF_COLUMN[column.code]]
    if target.code == BALANCE_SHEET:
        balances = span.opening if column.code == OPENING.code else span.closing
        if work.consolidated:
            balances = _without_clearing(balances)
        return _evaluate(shown, _balance_value(balances), {})
    flows = dict(span.flows)
    eliminated = work.eliminated.get(SPAN_OF_COLUMN[column.code])
    for account, fen in (eliminated.by_account.items() if eliminated else ()):
        flows[account] = flows.get(account, 0) - fen
    if column.code == MONTH.code:
        special: dict[str, int | None] = {OPENING_FUND: None, OTHER_FUND: None}
    else:
        special = {OPENING_FUND: _fund_fen(span.opening), OTHER_FUND: span.other_fund_fen}
    return _evaluate(shown, _flow_value(flows), special)


def _clearing_fen(balances: Balances) -> dict[str, int]:
    """The scope's balances of the cross-district clearing accounts, debit positive."""
    return {account: sum(fen for (code, _), fen in balances.items() if code == account) for account in CLEARING_ACCOUNTS}


def _without_clearing(balances: Balances) -> Balances:
    """The balances less the cross-district clearing, when the clearing nets to zero across the scope.

    Every cross-district document posts as much to 1101.01 as to 2001.02 across
    the districts and the platform, so in a scope holding all three the two net
    to zero and both are removed; a scope that holds only part of a document
    (a district without the platform) keeps them, for them it is a real claim.
    """
    clearing = _clearing_fen(balances)
    if sum(clearing.values()) or not any(clearing.values()):
        return balances
    return {key: fen for key, fen in balances.items() if key[0] not in CLEARING_ACCOUNTS}


def _clearing_lines(work: _Work, columns: Sequence[Column]) -> tuple[StatementLine, ...]:
    """For a consolidated 01: the clearing removed from 暂付款 and 暂收款, per column (empty when none was)."""
    lines = []
    for code, spec_code in ((CARE_ADVANCED, "1101"), (CARE_CLEARING, "2001")):
        spec = form_of(BALANCE_SHEET).line(spec_code)
        values = []
        for column in columns:
            span = work.spans[SPAN_OF_COLUMN[column.code]]
            balances = span.opening if column.code == OPENING.code else span.closing
            removed = _without_clearing(balances) is not balances
            values.append(spec.sign * _clearing_fen(balances)[code] if removed else 0)
        lines.append(StatementLine(spec, tuple(values)))
    return tuple(lines) if any(any(line.values) for line in lines) else ()


def _reopenings(engine, books: Sequence[BookRef], cutoff: str | None, at: int) -> tuple[Reopening, ...]:  # type: ignore[no-untyped-def]
    keys = {b.book_id: b.key for b in books}
    with engine.connect() as connection:
        rows = _period_rows(connection, list(keys), cutoff, at)
    return tuple(
        Reopening(keys[r.book_id], r.period, r.actor, r.recorded_at, r.reason, r.document_id)
        for r in rows
        if r.action == "reopen"
    )


def _elimination_lines(work: _Work, columns: Sequence[Column]) -> tuple[tuple[StatementLine, ...], tuple[EliminatedDocument, ...]]:
    """The eliminated amounts per line and column, and the documents removed, named by column."""
    lines = []
    for code in ELIMINABLE_ACCOUNTS:
        spec = INCOME_STATEMENT_FORM.line(code)
        values = []
        for column in columns:
            eliminated = work.eliminated.get(SPAN_OF_COLUMN[column.code])
            values.append(spec.sign * eliminated.by_account.get(code, 0) if eliminated else 0)
        lines.append(StatementLine(spec, tuple(values)))
    documents = []
    for column in columns:
        eliminated = work.eliminated.get(SPAN_OF_COLUMN[column.code])
        for document in eliminated.documents if eliminated else ():
            documents.append(EliminatedDocument(column.code, document.document_id, document.books, document.amount_fen))
    return tuple(lines), tuple(documents)


def _notes(form: str, scope: Scope, period: Period, cutoff: str | None, schemes: set[str]) -> tuple[str, ...]:
    notes = [
        "一般基金结余在年终结转前含本年截至期末的基金收入减基金支出，故资产 = 负债 + 基金始终成立。"
        "(Before the year-end close, 一般基金结余 includes the year's income less expense to date, so assets = liabilities + fund always holds.)"
    ]
    if form == INCOME_STATEMENT:
        notes.append(
            "基金收入、基金支出不含年终结转分录和上年结转的年初余额。"
            "(Income and expense leave out the year-end closing entry and the balances carried in.)"
        )
    if form == INCOME_STATEMENT and scope.consolidated:
        notes.append(
            "汇总范围内各账簿之间的上解、补助已抵销，抵销额见抵销表。"
            "(Remittances and grants between books of the scope are eliminated; see the eliminations.)"
        )
    if form == BALANCE_SHEET and scope.consolidated and "resident" in schemes and "adjustment" in schemes:
        notes.append("其中一档、二档不含不分档的市级调剂金结余。(The tier lines leave out the untiered adjustment fund.)")
    if period.as_of is not None:
        notes.append(f"数据截至业务日期 {period.as_of.isoformat()}。(Figures as of the effective date {period.as_of.isoformat()}.)")
    if cutoff is not None:
        notes.append(f"按 {cutoff} 之前已记录的凭证编制。(As known on {cutoff}: later records, back-dated or not, are left out.)")
    return tuple(notes)


# ---------------------------------------------------------------- invariants


def _check(
    name: str,
    target: Form,
    shown: Sequence[LineSpec],
    columns: Sequence[Column],
    values: Mapping[str, Mapping[str, int | None]],
    work: _Work,
) -> tuple[str, ...]:
    """Every invariant of the statement; raise with all the failures together, or return what held."""
    failures: list[InvariantFailure] = []
    failures += _check_placement(name, target, shown, work)
    failures += _check_arithmetic(name, target, shown, columns, values)
    failures += _check_fund_balance(name, target, columns, values, work)
    failures += _check_eliminations(name, work)
    failures += _check_closed_books(name, work)
    if failures:
        raise StatementInvariantError(failures)
    checks = ["每个科目都在表内 (every account is on a line)", "合计等于各项之和，三 = 一 − 二 (totals equal their parts)"]
    checks += [equality.name for equality in target.equalities]
    checks.append("期末基金 = 年初基金 + 本期基金结余 + 其他基金变动 (the fund moves only by the period's result)")
    if work.eliminated:
        checks.append("抵销的收入 = 抵销的支出 (eliminations take as much from income as from expense)")
    checks.append("年终结转后收入、支出科目余额为零 (nothing left in income or expense after the close)")
    return tuple(checks)


def _check_placement(name: str, target: Form, shown: Sequence[LineSpec], work: _Work) -> list[InvariantFailure]:
    """Every account the books use must be on a line of the form, or its figures would vanish from the totals."""
    failures = []
    for span_name, span in work.spans.items():
        accounts = set(span.unknown)
        if target.code == BALANCE_SHEET:
            accounts |= {a for a, _ in [*span.closing, *span.opening]}
        else:
            accounts |= set(span.flows)
        placed = [line for line in shown if line.level == 1 and line.source == ACCOUNT]
        for account in sorted(accounts):
            if account in span.unknown or not any(line.takes(account) for line in placed):
                message = f"account {account} is on no line of the form (or outside the chart), so its figures would be left out"
                failures.append(InvariantFailure(name, "every account is on a line of the form", span_name, "", 0, "", 0, message))
    return failures


def _check_arithmetic(name: str, target: Form, shown: Sequence[LineSpec], columns: Sequence[Column], values: Mapping[str, Mapping[str, int | None]]) -> list[InvariantFailure]:
    """Each total equals its parts (三 = 一 − 二 among them) and the form's equalities hold, in every column."""
    failures = []
    for column in columns:
        column_values = values[column.code]
        for line in shown:
            if not (line.plus or line.minus) or column_values.get(line.code) is None:
                continue
            expected = _combine(line, column_values)
            if expected is not None and expected != column_values[line.code]:
                rule = f"{line.name} = " + " + ".join(_name(target, c) for c in line.plus) + "".join(f" − {_name(target, c)}" for c in line.minus)
                failures.append(InvariantFailure(name, rule, column.name, line.name, column_values[line.code] or 0, "its parts", expected))
        for equality in target.equalities:
            left, right = column_values.get(equality.left), column_values.get(equality.right)
            if left is not None and right is not None and left != right:
                failures.append(InvariantFailure(name, equality.name, column.name, _name(target, equality.left), left, _name(target, equality.right), right))
    return failures


def _name(target: Form, code: str) -> str:
    try:
        return target.line(code).name.removeprefix("其中：")
    except KeyError:
        return code


def _check_fund_balance(name: str, target: Form, columns: Sequence[Column], values: Mapping[str, Mapping[str, int | None]], work: _Work) -> list[InvariantFailure]:
    """The fund at the end equals the fund carried in plus the period's result and other fund movements.

    On the 02 the closing fund it states is checked against the fund of the
    balance sheet at the same date, and that balance sheet must balance; on
    the 01 the fund total is checked against the opening fund plus income
    less expense. Either way the close must have moved income and expense
    into 3001 without changing the fund.
    """
    failures = []
    for column in columns:
        span_name = SPAN_OF_COLUMN[column.code]
        if span_name == "month" or (target.code == BALANCE_SHEET and column.code == OPENING.code):
            continue
        span = work.spans[span_name]
        balance_sheet_fen = _fund_fen(span.closing)
        if target.code == INCOME_STATEMENT:
            failures += _check_balance_sheet_behind(name, column, span)
            stated = values[column.code]["closing_fund"]
            if stated is not None and stated != balance_sheet_fen:
                failures.append(InvariantFailure(name, "期末基金结余 = 资产负债表基金合计", column.name, "六、期末基金结余", stated, "基金合计", balance_sheet_fen))
            continue
        surplus_fen = -sum(span.flows.values())
        expected = _fund_fen(span.opening) + surplus_fen + span.other_fund_fen
        if expected != values[column.code]["fund_total"]:
            failures.append(
                InvariantFailure(
                    name, "基金合计 = 年初基金 + 本期基金结余 + 其他基金变动", column.name, "基金合计", values[column.code]["fund_total"] or 0, "年初基金 + 本期结余 + 其他变动", expected
                )
            )
    return failures


def _check_balance_sheet_behind(name: str, column: Column, span: _Span) -> list[InvariantFailure]:
    """The balance sheet an 02 column ends on must itself balance: assets = liabilities + fund."""
    assets_fen = sum(fen for (account, _), fen in span.closing.items() if CHART[account].account_class is AccountClass.ASSET)
    claims_fen = -sum(fen for (account, _), fen in span.closing.items() if CHART[account].account_class is not AccountClass.ASSET)
    if assets_fen == claims_fen:
        return []
    return [InvariantFailure(name, "资产合计 = 负债和基金合计 (at the column's end)", column.name, "资产合计", assets_fen, "负债和基金合计", claims_fen)]


def _check_eliminations(name: str, work: _Work) -> list[InvariantFailure]:
    failures = []
    for span_name, eliminated in work.eliminated.items():
        income_fen = -sum(fen for account, fen in eliminated.by_account.items() if account.startswith("4"))
        expense_fen = sum(fen for account, fen in eliminated.by_account.items() if account.startswith("5"))
        if income_fen != expense_fen:
            failures.append(InvariantFailure(name, "抵销的收入 = 抵销的支出", span_name, "抵销的收入", income_fen, "抵销的支出", expense_fen))
    return failures


def _check_closed_books(name: str, work: _Work) -> list[InvariantFailure]:
    """After a year close (not reopened since) every income and expense account of the book is zero."""
    failures = []
    for span_name, span in work.spans.items():
        for book_hex in sorted(work.closed_books.get(span_name, ())):
            for (account, tier), fen in sorted(span.by_book.get(book_hex, {}).items()):
                if fen:
                    where = f"{account}" + (f" tier {tier}" if tier else "")
                    failures.append(
                        InvariantFailure(name, "after the year-end close every income and expense account is zero", work.keys[book_hex], f"{where} balance", fen, "zero", 0)
                    )
    return failures
