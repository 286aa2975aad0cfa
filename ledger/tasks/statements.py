"""The official statements: show, trace a figure, issue, list the issues, compare a published one.

The statements themselves are computed, checked, traced, issued and
compared by ``ledger.statements``; this room takes a request as the faces
give it, checks it whole, and hands back what the package computed with
the plain shapes (yuan text) both faces print or send.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ledger.agency_time import local_time
from ledger.money import format_yuan
from ledger.statements import FORMS, Period, Scope, Statement, compute
from ledger.statements.compare import UNIT_NAMES, Finding, Published, compare, not_published, read_published
from ledger.statements.issuing import IssueResult, Issued, issue as issue_statement, issued as issued_statements
from ledger.statements.forms import LineSpec
from ledger.statements.tracing import LEFT_OUT_OF_FLOWS, LineTrace, trace_statement_line
from ledger.store import Ledger
from ledger.tasks.arguments import ArgumentError, check_scheme, day
from ledger.tasks.reading import check_known_on, current
from ledger.tasks.tracing import lines_json
from ledger.trace import DEFAULT_TRACE_LIMIT


@dataclass(frozen=True)
class StatementRequest:
    """Which statement: ``form`` 01 (资产负债表) or 02 (收支表) of a district's book, or with ``consolidated`` of a
    municipality's fund (``with_adjustment``: and its 市级调剂金 books); annual, or monthly with ``month``; at an
    ``as_of`` date inside the period and as ``known_on`` a recorded time when given. Checked on creation (``ArgumentError``).
    """

    form: str
    region: str
    scheme: str
    year: int
    month: int | None = None
    consolidated: bool = False
    with_adjustment: bool = False
    as_of: str | None = None
    known_on: str | None = None
    scope: Scope = field(init=False, repr=False)
    period: Period = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.form not in FORMS:
            raise ArgumentError("--form must be 01 (资产负债表) or 02 (收支表)")
        check_scheme(self.scheme)
        object.__setattr__(self, "scope", Scope(self.region, self.scheme, self.consolidated, self.with_adjustment))
        object.__setattr__(self, "period", Period(self.year, self.month, day(self.as_of, "--as-of")))


def show(ledger: Ledger, request: StatementRequest) -> Statement:
    """The statement, its invariants checked (``StatementInvariantError`` otherwise: a failing statement is never given).

    ``NotFoundError`` for a ``known_on`` before its books existed; ``StatementRequestError`` for a subject it cannot have.
    """
    statement = compute(current(ledger), request.form, request.scope, request.period, known_on=request.known_on)
    check_known_on(ledger, [b.book_id for b in statement.books if b.year == request.year], request.known_on)
    return statement


@dataclass(frozen=True)
class FigureTrace:
    """A statement figure traced: the statement, the line's trace (fen), the books by id, and the bridge from the lines'
    net (debit positive) to the figure, one ``(step, amount_fen)`` a step."""

    statement: Statement
    traced: LineTrace
    names: dict[str, str]
    title: str
    bridge: list[tuple[str, int]]


def trace_figure(ledger: Ledger, request: StatementRequest, row: int, column: str | None = None,
                 limit: int = DEFAULT_TRACE_LIMIT) -> FigureTrace:
    """Trace the figure of 行次 ``row`` (in ``column``: month, year_to_date, this_year or closing; default the period's)
    to its posting lines, and bridge their total to the figure. ``traced.agrees`` says whether it lands."""
    statement = show(ledger, request)
    traced = trace_statement_line(ledger, statement, row, column, limit)
    spec = traced.line.spec
    names = {b.book_id: f"{b.region}/{b.scheme}/{b.year}" for b in statement.books if b.year == request.year}
    title = f"{statement.form.number} 行次 {spec.row} {spec.name} ({', '.join(spec.accounts)}), {traced.column.name}"
    # Every step in debit-positive terms; the last flips to the line's own sign.
    bridge = [("the lines' net (debit positive)", traced.net_fen)]
    bridge += [(f"taking out {LEFT_OUT_OF_FLOWS[kind]}", -fen) for kind, fen in traced.left_out.items()]
    if traced.eliminated_fen:
        bridge.append(("taking out the remittances and grants eliminated between the scope's books", -spec.sign * traced.eliminated_fen))
    return FigureTrace(statement, traced, names, title, bridge)


def figure_lines_json(result: FigureTrace) -> dict[str, Any]:
    """The traced figure's lines and totals, yuan text (as ``ledger trace`` gives them)."""
    return lines_json(result.traced.trace, result.names)


def figure_trace_json(result: FigureTrace) -> dict[str, Any]:
    """The figure, what the lines explain, whether they agree, the bridge, and the lines; yuan text."""
    traced = result.traced
    return {
        "statement": result.title,
        "figure": format_yuan(traced.figure_fen),
        "explained": format_yuan(traced.explained_fen),
        "agrees": traced.agrees,
        "bridge": [{"step": step, "amount": format_yuan(fen)} for step, fen in result.bridge],
        **figure_lines_json(result),
    }


def issue(ledger: Ledger, request: StatementRequest, issued_by: str) -> IssueResult:
    """Issue the statement of a whole period (no as-of, no known-on): record it with its figures, position and source
    hash, and compare it with its last issue. ``IssueError`` and the statement's own refusals otherwise."""
    return issue_statement(current(ledger), request.form, request.scope, request.period, issued_by)


def issued(ledger: Ledger, form: str | None = None, scope: str | None = None, period: str | None = None) -> list[Issued]:
    """The issues recorded, oldest first; ``scope`` as issued (``500101/resident``), ``period`` ``2013`` or ``2013-06``."""
    return issued_statements(ledger.engine, form, scope, period)


def issued_json(issued_statement: Issued) -> dict[str, object]:
    """One issue: id, form, scope, period, when (agency's zone) and by whom, position, source hash, figures digest."""
    return {
        "id": issued_statement.id,
        "form": issued_statement.form,
        "scope": issued_statement.scope,
        "period": issued_statement.period,
        "issued_at": local_time(issued_statement.issued_at),
        "issued_by": issued_statement.issued_by,
        "position": issued_statement.position,
        "source_hash": issued_statement.source_hash,
        "figures_digest": issued_statement.figures_digest,
    }


def issue_json(result: IssueResult) -> dict[str, object]:
    """An issue, the one before it, the figures changed since (yuan text) and the documents recorded since."""
    return {
        "issued": issued_json(result.issued),
        "previous": issued_json(result.previous) if result.previous else None,
        "changes": [
            {
                "row": c.row, "code": c.code, "name": c.name, "column": c.column,
                "old": None if c.old_fen is None else format_yuan(c.old_fen),
                "new": None if c.new_fen is None else format_yuan(c.new_fen),
                "difference": format_yuan(c.difference_fen),
            }
            for c in result.changes
        ],
        "documents_since": [{**d.__dict__, "recorded_at": local_time(d.recorded_at)} for d in result.documents],
        "documents_truncated": result.documents_truncated,
    }


@dataclass(frozen=True)
class Comparison:
    """A published statement against the books: the books' statement, what was read, the findings, the lines left out."""

    statement: Statement
    published: Published
    findings: list[Finding]
    not_published: list[LineSpec]

    @property
    def agrees(self) -> bool:
        return not self.findings


def compare_published(ledger: Ledger, request: StatementRequest, published: bytes, unit: str | None = None) -> Comparison:
    """Compare a published statement (CSV or XLSX bytes, in 元 or 万元: ``unit`` yuan or wan, default its 单位 line) with
    the books line by line, and check its own arithmetic. ``PublishedStatementError`` for a file it cannot read."""
    statement = show(ledger, request)
    read = read_published(published, statement, unit)
    return Comparison(statement, read, compare(statement, read), not_published(statement, read))


def comparison_json(result: Comparison) -> dict[str, object]:
    """The verdict, the unit, every finding (yuan text) and the lines the publication leaves out."""
    records = [
        {**f.__dict__,
         "published": None if f.published_fen is None else format_yuan(f.published_fen),
         "books": None if f.books_fen is None else format_yuan(f.books_fen)}
        for f in result.findings
    ]
    left_out = [{"row": spec.row, "name": spec.name} for spec in result.not_published]
    return {"statement": result.statement.name, "unit": UNIT_NAMES[result.published.unit], "agrees": result.agrees,
            "findings": records, "not_published": left_out}
