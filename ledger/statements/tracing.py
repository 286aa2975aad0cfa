"""From a figure on a statement to the posting lines, documents and events behind it.

A statement line sums accounts over a window: the month or the year to the
statement's date for 收支表 (会社保02表), everything to that date for 资产负债表
(会社保01表). The trace lists every posting line of those accounts in the
window (``ledger.trace.trace_lines``), then bridges from the lines' net to
the printed figure: the 收支表 leaves out the year-end close, the opening
balances carried in and a merged fund's move-out, and a consolidated one the
remittances and grants between its books. The bridge must land exactly on
the figure, or the trace says by how much it does not.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ledger.errors import LedgerError
from ledger.projections import queries
from ledger.statements.forms import ACCOUNT, BALANCE_SHEET, LineSpec
from ledger.statements.model import CLOSING, MONTH, THIS_YEAR, YEAR_TO_DATE, Column, Statement, StatementLine
from ledger.trace import DEFAULT_TRACE_LIMIT, Trace, trace_lines

# The kinds of lines the 收支表 does not count as income or expense.
LEFT_OUT_OF_FLOWS = {
    "YearClosed": "the year-end close 年终结转",
    "BalancesCarriedForward": "the opening balances carried in 上年结转",
    "OpeningBalancesEntered": "the opening balances from the earlier system 期初余额",
    "FundsMerged": "a merged fund's balances moved out",
}


class StatementTraceError(LedgerError):
    """A statement line that cannot be traced as asked."""

    rule = "statement trace"


@dataclass(frozen=True)
class LineTrace:
    """A statement figure, the lines behind it, and the bridge from their net to the figure.

    Attributes:
      line: the statement line traced.
      column: the column whose figure is traced.
      figure_fen: the figure as printed (in the line's own sign: income and fund lines credit positive).
      trace: the posting lines of the line's accounts in the column's window.
      left_out: net (debit positive) of the lines in the window the statement does not count, by kind.
      eliminated_fen: what a consolidated statement removed from the line (in the line's sign).
    """

    line: StatementLine
    column: Column
    figure_fen: int
    trace: Trace
    left_out: dict[str, int] = field(default_factory=dict)
    eliminated_fen: int = 0

    @property
    def net_fen(self) -> int:
        """The traced lines' net, debit positive."""
        return self.trace.debit_fen - self.trace.credit_fen

    @property
    def explained_fen(self) -> int:
        """The figure the lines give: their net less what the statement leaves out, in the line's sign, less eliminations."""
        counted_fen = self.net_fen - sum(self.left_out.values())
        return self.line.spec.sign * counted_fen - self.eliminated_fen

    @property
    def agrees(self) -> bool:
        return self.explained_fen == self.figure_fen


def trace_statement_line(ledger, statement: Statement, row: int, column_code: str | None = None, limit: int = DEFAULT_TRACE_LIMIT) -> LineTrace:  # type: ignore[no-untyped-def]
    """Trace the figure of 行次 ``row`` in one column of a computed statement (by default its current-period column)."""
    line = _line(statement, row)
    column = _column(statement, column_code)
    figure = line.values[statement.columns.index(column)]
    if figure is None:
        raise StatementTraceError(f"行次 {row} {line.spec.name} has no figure in {column.name}", field="column")
    book_ids = [book.book_id for book in statement.books if book.year == statement.period.year]
    period = statement.period
    since = None if column is CLOSING else (period.start if column is MONTH else period.start.replace(month=1))
    trace = trace_lines(
        ledger.engine, book_ids, list(line.spec.accounts), tier=line.spec.tier,
        since=since, through=period.end, known_on=statement.known_on, limit=limit,
    )
    left_out: dict[str, int] = {}
    eliminated_fen = 0
    if statement.form.code != BALANCE_SHEET:
        left_out = _kind_totals(ledger, book_ids, since, period.end, statement.known_on, line.spec)
        eliminated_fen = _eliminated(statement, line.spec, column)
    return LineTrace(line, column, figure, trace, left_out, eliminated_fen)


def _line(statement: Statement, row: int) -> StatementLine:
    for line in statement.lines:
        if line.spec.row == row:
            spec = line.spec
            if spec.source != ACCOUNT or not spec.accounts or spec.is_total:
                raise StatementTraceError(
                    f"行次 {row} {spec.name} is a total or a computed line; trace the account lines it adds up", field="line"
                )
            if any(code.startswith("3") for code in spec.accounts):
                raise StatementTraceError(
                    f"行次 {row} {spec.name} is a fund balance, which before the close includes the year's income "
                    "and expense; trace account 3001 with `ledger trace` and the 收支表's lines",
                    field="line",
                )
            return line
    rows = ", ".join(str(line.spec.row) for line in statement.lines)
    raise StatementTraceError(f"the statement has no 行次 {row} (it has {rows})", field="line")


def _column(statement: Statement, code: str | None) -> Column:
    traceable = (CLOSING,) if statement.form.code == BALANCE_SHEET else (MONTH, YEAR_TO_DATE, THIS_YEAR)
    if code is None:
        return next(column for column in (YEAR_TO_DATE, THIS_YEAR, CLOSING) if column in statement.columns)
    for column in statement.columns:
        if column.code == code and column in traceable:
            return column
    names = ", ".join(f"{c.code} ({c.name})" for c in statement.columns if c in traceable)
    raise StatementTraceError(f"{code!r} is not a column this statement can trace; use {names}", field="column")


def _kind_totals(ledger, book_ids, since, through, known_on, spec: LineSpec) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Net (debit positive) of the left-out kinds' lines on the line's accounts, kind by kind."""
    totals: dict[str, int] = {}
    for kind in LEFT_OUT_OF_FLOWS:
        for s in queries.line_sums(ledger.engine, book_ids, since=since, through=through, known_on=known_on, only_kinds=(kind,)):
            if spec.takes(s.account) and (spec.tier is None or s.tier == spec.tier):
                totals[kind] = totals.get(kind, 0) + s.balance_fen
    return {kind: fen for kind, fen in totals.items() if fen}


def _eliminated(statement: Statement, spec: LineSpec, column: Column) -> int:
    index = statement.columns.index(column)
    return sum(
        line.values[index] or 0
        for line in statement.eliminations
        if any(spec.takes(account) for account in line.spec.accounts)
    )
