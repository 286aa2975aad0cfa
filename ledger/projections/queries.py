"""Reading the projections: balances, trial balances, the fiscal special account.

Every read is one bounded query on the projection tables; none replays events.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Engine, and_, any_, bindparam, case, func, literal, select, union_all
from sqlalchemy.dialects import postgresql

from ledger.accounts import CHART
from ledger.agency_time import recorded_cutoff_text
from ledger.projections import tables

MAXIMUM_ROWS = 100_000


@dataclass(frozen=True)
class BalanceRow:
    """One account line of a book or of a municipality.

    Attributes:
      account: the leaf account code.
      tier: 1 or 2 on a resident book's tiered accounts, else 0.
      debit_fen, credit_fen: everything posted to each side.
      balance_fen: debit minus credit.
      closed_fen: what the year-end close posted (balance_fen − closed_fen is the balance before it).
    """

    account: str
    tier: int
    debit_fen: int
    credit_fen: int
    balance_fen: int
    closed_fen: int = 0

    @property
    def before_close_fen(self) -> int:
        return self.balance_fen - self.closed_fen

    @property
    def name(self) -> str:
        account = CHART.get(self.account)
        return account.name if account else "?"


@dataclass(frozen=True)
class TrialBalance:
    """A trial balance (试算平衡表): each account's turnover and balance, and the four column totals.

    Each total adds up its own column: ``debit_turnover_fen`` the 借方发生额
    column, ``credit_turnover_fen`` the 贷方发生额 column, ``debit_total_fen``
    the debit balances (借方余额) and ``credit_total_fen`` the credit balances
    (贷方余额), all in fen. The books balance when both pairs agree (every
    entry is balanced, so the turnovers agree; and so then do the balances).
    """

    title: str
    rows: list[BalanceRow]

    @property
    def debit_turnover_fen(self) -> int:
        return sum(row.debit_fen for row in self.rows)

    @property
    def credit_turnover_fen(self) -> int:
        return sum(row.credit_fen for row in self.rows)

    @property
    def debit_total_fen(self) -> int:
        """The debit balances added up (借方余额合计)."""
        return sum(row.balance_fen for row in self.rows if row.balance_fen > 0)

    @property
    def credit_total_fen(self) -> int:
        """The credit balances added up, positive (贷方余额合计)."""
        return -sum(row.balance_fen for row in self.rows if row.balance_fen < 0)

    @property
    def balanced(self) -> bool:
        return self.debit_total_fen == self.credit_total_fen and self.debit_turnover_fen == self.credit_turnover_fen


@dataclass(frozen=True)
class BookRow:
    book_id: str
    region: str
    scheme: str
    year: int
    municipality: str
    closed: bool
    events: int


def list_books(engine: Engine, region: str | None = None, scheme: str | None = None, year: int | None = None) -> list[BookRow]:
    b = tables.books
    query = select(b).order_by(b.c.region, b.c.scheme, b.c.year).limit(MAXIMUM_ROWS)
    if region:
        query = query.where((b.c.region == region) | (b.c.municipality == region))
    if scheme:
        query = query.where(b.c.scheme == scheme)
    if year:
        query = query.where(b.c.year == year)
    with engine.connect() as connection:
        return [BookRow(**row._mapping) for row in connection.execute(query)]


def book_balances(engine: Engine, book_id: str, account: str | None = None) -> list[BalanceRow]:
    t = tables.balances
    query = (
        select(t.c.account, t.c.tier, t.c.debit_fen, t.c.credit_fen, t.c.balance_fen, t.c.closed_fen)
        .where(t.c.book_id == book_id)
        .order_by(t.c.account, t.c.tier)
        .limit(MAXIMUM_ROWS)
    )
    if account:
        query = query.where((t.c.account == account) | t.c.account.like(account + ".%"))
    with engine.connect() as connection:
        return [BalanceRow(*row) for row in connection.execute(query)]


def municipality_balances(engine: Engine, municipality: str, scheme: str | None, year: int) -> list[BalanceRow]:
    """Every book of the municipality's districts and its own books, summed by account and tier."""
    t, b = tables.balances, tables.books
    query = (
        select(
            t.c.account,
            t.c.tier,
            func.sum(t.c.debit_fen),
            func.sum(t.c.credit_fen),
            func.sum(t.c.balance_fen),
            func.sum(t.c.closed_fen),
        )
        .join(b, b.c.book_id == t.c.book_id)
        .where(b.c.municipality == municipality, b.c.year == year)
        .group_by(t.c.account, t.c.tier)
        .order_by(t.c.account, t.c.tier)
        .limit(MAXIMUM_ROWS)
    )
    if scheme:
        query = query.where(b.c.scheme == scheme)
    with engine.connect() as connection:
        return [BalanceRow(r[0], r[1], int(r[2]), int(r[3]), int(r[4]), int(r[5])) for r in connection.execute(query)]


@dataclass(frozen=True)
class FiscalAccountRow:
    region: str
    scheme: str
    year: int
    municipality: str
    opening_fen: int
    receipts_fen: int
    payments_fen: int
    closing_fen: int


def fiscal_accounts(engine: Engine, region: str | None = None, year: int | None = None) -> list[FiscalAccountRow]:
    f = tables.fiscal_accounts
    query = select(f).order_by(f.c.region, f.c.scheme, f.c.year).limit(MAXIMUM_ROWS)
    if region:
        query = query.where((f.c.region == region) | (f.c.municipality == region))
    if year:
        query = query.where(f.c.year == year)
    with engine.connect() as connection:
        return [FiscalAccountRow(**row._mapping) for row in connection.execute(query)]


def table_rows(engine: Engine) -> dict[str, list[tuple[object, ...]]]:
    """Every projection row, sorted: what a rebuild must reproduce exactly."""
    result = {}
    with engine.connect() as connection:
        for table in tables.PROJECTION_TABLES:
            keys = list(table.primary_key.columns)
            result[table.name] = [tuple(row) for row in connection.execute(select(table).order_by(*keys))]
    return result


# ---------------------------------------------------------------- dated reads (proj_lines)


def recorded_cutoff(value: datetime | str) -> str:
    """A recorded-time bound as the fixed-width UTC text ``proj_lines.recorded_at`` holds.

    A date alone means the end of that day, and a time without an offset a
    time, in the agency's zone (``ledger.agency_time``: Asia/Shanghai unless
    ``LEDGER_TIMEZONE`` says otherwise). Raises ``ValueError`` for other text.
    """
    return recorded_cutoff_text(value)


def _iso(value: date | str) -> str:
    return value if isinstance(value, str) else value.isoformat()


@dataclass(frozen=True)
class LineSum:
    """Postings summed over a set of lines: one book (or all of them), one account, one tier."""

    book_id: str | None
    account: str
    tier: int
    debit_fen: int
    credit_fen: int

    @property
    def balance_fen(self) -> int:
        return self.debit_fen - self.credit_fen


def line_sums(
    engine: Engine,
    book_ids: Sequence[str],
    *,
    through: date | str | None = None,
    since: date | str | None = None,
    known_on: datetime | str | None = None,
    exclude_kinds: Collection[str] = (),
    only_kinds: Collection[str] | None = None,
    by_book: bool = False,
) -> list[LineSum]:
    """Debits and credits per account and tier (and per book when ``by_book``) over the books' posting lines.

    ``since``/``through`` bound the effective date (inclusive), ``known_on``
    the recorded time (inclusive): what the books said then, before any
    later back-dated correction. Kinds are event class names, for example
    ``YearClosed`` (the close) and ``BalancesCarriedForward`` (the opening).
    One aggregate query, no replay.
    """
    t = tables.lines
    debit = func.sum(case((t.c.amount_fen > 0, t.c.amount_fen), else_=0))
    credit = func.sum(case((t.c.amount_fen < 0, -t.c.amount_fen), else_=0))
    keys = [t.c.book_id, t.c.account, t.c.tier] if by_book else [t.c.account, t.c.tier]
    query = select(*keys, debit, credit).group_by(*keys).order_by(*keys)
    conditions = [t.c.book_id.in_(list(book_ids))]
    if through is not None:
        conditions.append(t.c.effective_date <= _iso(through))
    if since is not None:
        conditions.append(t.c.effective_date >= _iso(since))
    if known_on is not None:
        conditions.append(t.c.recorded_at <= recorded_cutoff(known_on))
    if exclude_kinds:
        conditions.append(t.c.kind.not_in(list(exclude_kinds)))
    if only_kinds is not None:
        conditions.append(t.c.kind.in_(list(only_kinds)))
    if not book_ids:
        return []
    with engine.connect() as connection:
        rows = connection.execute(query.where(*conditions)).all()
    if by_book:
        return [LineSum(r[0], r[1], int(r[2]), int(r[3]), int(r[4])) for r in rows]
    return [LineSum(None, r[0], int(r[1]), int(r[2]), int(r[3])) for r in rows]


def balances_as_of(
    engine: Engine,
    book_ids: Sequence[str],
    through: date | str,
    known_on: datetime | str | None = None,
) -> list[BalanceRow]:
    """Each account's turnover and balance as of the end of an effective date (as known on a recorded time).

    ``through`` is an effective date (``date`` or ``YYYY-MM-DD``) and
    ``known_on`` a recorded time (see ``recorded_cutoff``; raises
    ``ValueError`` for other text). Returns one ``BalanceRow`` per account
    and tier that has a line in the books up to then, in fen, sorted by
    account and tier; ``closed_fen`` is what a year close dated on or before
    ``through`` posted. The answer is the sum of those lines of
    ``proj_lines``, read from ``proj_months`` and at most a month of lines
    (docs/performance.md, "As-of reads"), with M the month of ``through``
    and K the UTC month of ``known_on``:

    1. the monthly rows of months before M (recorded in a month before K);
    2. the lines of month M dated up to ``through`` (recorded by ``known_on``);
    3. only with ``known_on``: the lines dated before M and recorded in K up
       to ``known_on``, read only in the months whose monthly rows say K
       recorded some.

    The terms are one statement, one round trip to the database, built once
    per shape (``_as_of_statement``) and reused with new parameters:
    building it afresh each time cost more than the database's part of the
    read. On PostgreSQL each pooled connection prepares it once
    (``_execute_prepared``), so a read is neither parsed nor planned again.
    """
    if not book_ids:
        return []
    through_text = _iso(through)
    month = through_text[:7]
    parameters: dict[str, Any] = {"book_ids": list(book_ids), "month": month, "first": month + "-01", "through": through_text}
    if known_on is not None:
        cutoff = recorded_cutoff(known_on)
        parameters.update(cutoff=cutoff, recorded_month=cutoff[:7])
    totals: dict[tuple[str, int], list[int]] = {}
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            rows = _execute_prepared(connection, known_on is not None, parameters)
        else:
            rows = connection.execute(_as_of_statement(known_on is not None, books_as_array=False), parameters).all()
        _add_sums(totals, rows)
    return [
        BalanceRow(account, tier, debit, credit, debit - credit, closed)
        for (account, tier), (debit, credit, closed) in sorted(totals.items())
    ]


# Per pooled PostgreSQL connection (its ``info``, dropped with the connection): the as-of statements it has prepared.
_PREPARED_KEY = "ledger_as_of_prepared"


def _execute_prepared(connection: Connection, known_on: bool, parameters: dict[str, Any]) -> list[Any]:
    """Run ``_as_of_statement`` on PostgreSQL as a prepared statement, preparing it on this connection first if need be.

    A prepared statement belongs to the server session, not to a
    transaction (the pool's rollback keeps it), and the server plans it
    again by itself when a table it reads is dropped and made anew
    (``rebuild``). The book ids are one array parameter (``= ANY``), so one
    statement serves any number of books. Returns the (account, tier,
    debit, credit, closed) rows.

    The session is set to plan prepared statements once for any values
    (``plan_cache_mode``): this statement's plan is ranges of two indexes
    whatever the values, and PostgreSQL otherwise kept planning it afresh
    for each read's values, 0.35 ms of a 2.6 ms read (docs/performance.md,
    "Wave 5"). Only prepared statements heed the setting, and these are
    the only ones the ledger makes. A ``SET`` is undone by a rollback, so
    the preparing transaction is committed.
    """
    name, prepare, order, constants = _prepared_as_of(known_on)
    prepared = connection.connection.info.setdefault(_PREPARED_KEY, set())
    if name not in prepared:
        connection.exec_driver_sql("SET plan_cache_mode = force_generic_plan")
        connection.exec_driver_sql(prepare)
        connection.commit()
        prepared.add(name)
    values = tuple(parameters[key] if key in parameters else constants[key] for key in order)
    return connection.exec_driver_sql(f"EXECUTE {name}({', '.join(['%s'] * len(order))})", values).all()


@lru_cache(maxsize=2)
def _prepared_as_of(known_on: bool) -> tuple[str, str, tuple[str, ...], dict[str, Any]]:
    """The name and ``PREPARE`` text of ``_as_of_statement`` on PostgreSQL, its parameters in ``$N`` order, and the values of its constants."""
    compiled = _as_of_statement(known_on, books_as_array=True).compile(dialect=postgresql.dialect(paramstyle="numeric_dollar"))
    name = "ledger_as_of_known_on" if known_on else "ledger_as_of"
    return name, f"PREPARE {name} AS {compiled}", tuple(compiled.positiontup or ()), dict(compiled.params)


@lru_cache(maxsize=4)
def _as_of_statement(known_on: bool, books_as_array: bool):  # type: ignore[no-untyped-def]
    """The terms of ``balances_as_of`` as one ``UNION ALL``: the monthly rows before the month, the month's lines, and with ``known_on`` the earlier lines recorded in its month.

    Parameters: ``book_ids`` (a list: an array with ``books_as_array``, for
    PostgreSQL's ``= ANY``, else one bound value a book), ``month``
    (``YYYY-MM``), ``first`` and ``through`` (the month's first day and the
    date), and with ``known_on`` also ``cutoff`` (recorded-time text) and
    ``recorded_month``.
    """
    m = tables.months
    months = (
        select(m.c.account, m.c.tier, func.sum(m.c.debit_fen), func.sum(m.c.credit_fen), func.sum(m.c.closed_fen))
        .where(_in_books(m.c.book_id, books_as_array), m.c.month < bindparam("month"))
        .group_by(m.c.account, m.c.tier)
    )
    month_lines = _line_sums(bindparam("first"), bindparam("through"), known_on, books_as_array)
    if not known_on:
        return union_all(months, month_lines)
    months = months.where(m.c.recorded_month < bindparam("recorded_month"))
    return union_all(months, month_lines, _recorded_late_statement(books_as_array))


def _in_books(column: Any, books_as_array: bool) -> Any:
    """``column`` among the ``book_ids`` parameter: ``= ANY`` of one array, or ``IN`` a list expanded when run."""
    if books_as_array:
        return column == any_(bindparam("book_ids"))
    return column.in_(bindparam("book_ids", expanding=True))


def _recorded_late_statement(books_as_array: bool):  # type: ignore[no-untyped-def]
    """Term 3 of ``balances_as_of``: the lines dated before ``month`` and recorded in ``recorded_month`` up to ``cutoff``.

    The monthly rows name the (book, month) pairs that have such lines; each
    pair is then one range of the (book, effective date) index, joined
    row by row (a nested loop on both backends), so the read never scans
    the months that K recorded nothing in.
    """
    m, t = tables.months, tables.lines
    earlier = (
        select(m.c.book_id, m.c.month)
        .where(
            _in_books(m.c.book_id, books_as_array),
            m.c.month < bindparam("month"),
            m.c.recorded_month == bindparam("recorded_month"),
        )
        .group_by(m.c.book_id, m.c.month)
        .subquery("earlier")
    )
    in_month = and_(
        t.c.book_id == earlier.c.book_id,
        t.c.effective_date >= earlier.c.month + literal("-01"),
        t.c.effective_date <= earlier.c.month + literal("-31"),
    )
    return (
        select(*_line_columns())
        .select_from(earlier.join(t, in_month))
        # Text starting with the month sorts after the month itself: every time recorded in it or later.
        .where(t.c.recorded_at >= bindparam("recorded_month"), t.c.recorded_at <= bindparam("cutoff"))
        .group_by(t.c.account, t.c.tier)
    )


def _line_columns():  # type: ignore[no-untyped-def]
    """Account, tier, debit, credit and the close's share, summed over ``proj_lines``."""
    t = tables.lines
    return (
        t.c.account,
        t.c.tier,
        func.sum(case((t.c.amount_fen > 0, t.c.amount_fen), else_=0)),
        func.sum(case((t.c.amount_fen < 0, -t.c.amount_fen), else_=0)),
        func.sum(case((t.c.kind == "YearClosed", t.c.amount_fen), else_=0)),
    )


def _line_sums(first: Any, last: Any, known_on: bool, books_as_array: bool):  # type: ignore[no-untyped-def]
    """Debit, credit and closed per account and tier over the lines dated from ``first`` to ``last`` (recorded by ``cutoff``).

    One range of the (book, effective date) index, read from the index alone.
    """
    t = tables.lines
    query = (
        select(*_line_columns())
        .where(_in_books(t.c.book_id, books_as_array), t.c.effective_date >= first, t.c.effective_date <= last)
        .group_by(t.c.account, t.c.tier)
    )
    if known_on:
        query = query.where(t.c.recorded_at <= bindparam("cutoff"))
    return query


def _add_sums(totals: dict[tuple[str, int], list[int]], rows: Iterable[Sequence[Any]]) -> None:
    """Add (account, tier, debit, credit, closed) rows into ``totals``, keyed by (account, tier)."""
    for account, tier, debit, credit, closed in rows:
        row = totals.setdefault((account, int(tier)), [0, 0, 0])
        row[0] += int(debit)
        row[1] += int(credit)
        row[2] += int(closed)


@dataclass(frozen=True)
class PeriodAction:
    """One close or reopening of a book's month (``YYYY-MM``) or year (``YYYY``)."""

    action: str
    period: str
    actor: str
    reason: str
    document_id: str
    effective_date: str
    recorded_at: str


def period_actions(engine: Engine, book_id: str, known_on: datetime | str | None = None) -> list[PeriodAction]:
    """A book's closes and reopenings in the order they were recorded (up to ``known_on``)."""
    t = tables.periods
    query = (
        select(t.c.action, t.c.period, t.c.actor, t.c.reason, t.c.document_id, t.c.effective_date, t.c.recorded_at)
        .where(t.c.book_id == book_id)
        .order_by(t.c.notification_id)
        .limit(MAXIMUM_ROWS)
    )
    if known_on is not None:
        query = query.where(t.c.recorded_at <= recorded_cutoff(known_on))
    with engine.connect() as connection:
        return [PeriodAction(*row) for row in connection.execute(query)]
