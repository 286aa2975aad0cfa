"""Comparing a published statement with the books, and checking its own arithmetic.

A published statement is a CSV of line items, one row per line (the layout
``ledger statement show --format csv`` writes; docs/statements.md):

- a line column: ``行次`` (or ``row``), or ``代码`` (or ``code``), or both;
  行次 wins when both are given;
- optionally ``项目`` (or ``item``/``name``): the line's name, for people;
- one column per figure column of the form and period, headed by its Chinese
  name or its English code: 年初余额/opening and 期末余额/closing (01);
  本月数/month and 本年累计数/year_to_date (monthly 02); 本年数/this_year and
  上年数/last_year (annual 02).

Amounts are yuan (``1234.56``, thousands separators allowed); a blank cell
is zero, as printed forms leave zeros blank, and a line the file leaves out
is zero too. Every difference and every arithmetic failure is collected, so
one run names them all.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ledger.money import MoneyFormatError, format_yuan_grouped, parse_yuan
from ledger.statements.errors import PublishedStatementError
from ledger.statements.forms import Form, LineSpec
from ledger.statements.model import Column, Statement

MAXIMUM_PUBLISHED_ROWS = 1_000
MAXIMUM_PUBLISHED_BYTES = 1_000_000
ROW_HEADERS = ("行次", "row")
CODE_HEADERS = ("代码", "code")
NAME_HEADERS = ("项目", "item", "name")

DIFFERS = "differs"
ARITHMETIC = "arithmetic"
UNKNOWN_LINE = "unknown line"
DUPLICATE_LINE = "duplicate line"
UNREADABLE = "unreadable amount"


@dataclass(frozen=True)
class PublishedLine:
    """One line item of a published statement.

    Attributes:
      file_line: the line of the file it was read from.
      spec: the form's line it names.
      values: the figures in fen by column code; a blank cell is zero.
    """

    file_line: int
    spec: LineSpec
    values: Mapping[str, int]


@dataclass(frozen=True)
class Finding:
    """One thing a published statement gets wrong, named by line, column and amount.

    Attributes:
      kind: ``differs`` (from the books), ``arithmetic`` (against its own
        parts), ``unknown line``, ``duplicate line`` or ``unreadable amount``.
      row, name: the line (行次 and 项目), when known.
      column: the column's Chinese name, when it is about one.
      published_fen: the published figure; books_fen: the books' figure
        (for ``arithmetic``, the sum of the published parts).
      message: the finding in words.
    """

    kind: str
    row: int | None
    name: str
    column: str
    published_fen: int | None
    books_fen: int | None
    message: str


@dataclass(frozen=True)
class Published:
    """A published statement read from its file: the columns it gives and its lines by code."""

    columns: tuple[Column, ...]
    lines: Mapping[str, PublishedLine]
    findings: tuple[Finding, ...]


def _header_role(header: str, columns: Sequence[Column]) -> str | None:
    text = header.strip().lower()
    if text in ROW_HEADERS:
        return "row"
    if text in CODE_HEADERS:
        return "code"
    if text in NAME_HEADERS:
        return "name"
    for column in columns:
        if text in (column.name, column.code):
            return column.code
    return None


def _roles(header: Sequence[str], columns: Sequence[Column]) -> dict[int, str]:
    roles = {}
    for index, text in enumerate(header):
        role = _header_role(text, columns)
        if role is None and text.strip():
            accepted = ", ".join([*ROW_HEADERS, *CODE_HEADERS, *NAME_HEADERS, *(f"{c.name}/{c.code}" for c in columns)])
            raise PublishedStatementError(f"column {text!r} is not one this statement has; headers: {accepted}", field="header")
        if role is not None:
            roles[index] = role
    if "row" not in roles.values() and "code" not in roles.values():
        raise PublishedStatementError("the file needs a 行次 (row) or 代码 (code) column to name its lines", field="header")
    if not any(role in {c.code for c in columns} for role in roles.values()):
        names = ", ".join(f"{c.name}/{c.code}" for c in columns)
        raise PublishedStatementError(f"the file has none of this statement's columns ({names})", field="header")
    return roles


def _decode(data: bytes) -> str:
    """UTF-8 (with or without a BOM), else GB 18030, which spreadsheets in China save CSV in."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise PublishedStatementError("the file is neither UTF-8 nor GB 18030 text; save it as CSV")


def read_published(data: bytes, statement: Statement) -> Published:
    """Read a published statement's CSV for the lines and columns of the books' statement.

    Lines it cannot place and amounts it cannot read become findings; a
    header it cannot read is refused (``PublishedStatementError``).
    """
    form, columns = statement.form, statement.columns
    if len(data) > MAXIMUM_PUBLISHED_BYTES:
        raise PublishedStatementError(f"the file is larger than {MAXIMUM_PUBLISHED_BYTES} bytes; a statement is a page")
    rows = [row for row in csv.reader(_decode(data).splitlines()) if any(cell.strip() for cell in row)]
    if not rows:
        raise PublishedStatementError("the file is empty")
    if len(rows) > MAXIMUM_PUBLISHED_ROWS:
        raise PublishedStatementError(f"the file has more than {MAXIMUM_PUBLISHED_ROWS} lines")
    roles = _roles(rows[0], columns)
    given = tuple(c for c in columns if c.code in roles.values())
    shown = [line.spec for line in statement.lines]
    lines: dict[str, PublishedLine] = {}
    findings: list[Finding] = []
    for number, row in enumerate(rows[1:], start=2):
        cells = {role: (row[index].strip() if index < len(row) else "") for index, role in roles.items()}
        spec = _identify(cells, shown)
        if spec is None:
            label = cells.get("row") or cells.get("code") or ""
            findings.append(Finding(UNKNOWN_LINE, None, cells.get("name", ""), "", None, None, f"file line {number}: {label!r} is no line of {form.number}"))
            continue
        if spec.code in lines:
            findings.append(Finding(DUPLICATE_LINE, spec.row, spec.name, "", None, None, f"file line {number}: 行次 {spec.row} {spec.name} is given twice"))
            continue
        values: dict[str, int] = {}
        for column in given:
            try:
                values[column.code] = parse_yuan(cells[column.code]) if cells[column.code] else 0
            except MoneyFormatError as error:
                findings.append(Finding(UNREADABLE, spec.row, spec.name, column.name, None, None, f"file line {number}, {column.name}: {error}"))
        lines[spec.code] = PublishedLine(number, spec, values)
    return Published(given, lines, tuple(findings))


def _identify(cells: Mapping[str, str], shown: Sequence[LineSpec]) -> LineSpec | None:
    row_text, code = cells.get("row", ""), cells.get("code", "")
    if row_text:
        return next((line for line in shown if str(line.row) == row_text), None)
    return next((line for line in shown if line.code == code), None) if code else None


def compare(statement: Statement, published: Published) -> list[Finding]:
    """Every line whose published figure differs from the books, then every published total that is not the sum of its parts."""
    findings = list(published.findings)
    findings += _differences(statement, published)
    # Cells the form leaves blank (a month's 年初/期末基金结余) are not figures, whatever the file has there.
    blank = {
        (line.spec.code, column.code)
        for line in statement.lines
        for column, value in zip(statement.columns, line.values)
        if value is None
    }
    findings += _arithmetic(statement.form, published, blank)
    return findings


def _differences(statement: Statement, published: Published) -> list[Finding]:
    findings = []
    index = {column.code: position for position, column in enumerate(statement.columns)}
    for line in statement.lines:
        given = published.lines.get(line.spec.code)
        for column in published.columns:
            books_fen = line.values[index[column.code]]
            if books_fen is None or (given is not None and column.code not in given.values):
                continue
            published_fen = given.values[column.code] if given is not None else 0
            if published_fen != books_fen:
                findings.append(_finding(DIFFERS, line.spec, column, published_fen, books_fen, "the books"))
    return findings


def _finding(kind: str, spec: LineSpec, column: Column, published_fen: int, expected_fen: int, against: str) -> Finding:
    difference_fen = published_fen - expected_fen
    how = "too much" if difference_fen > 0 else "too little"
    message = (
        f"行次 {spec.row} {spec.name}, {column.name}: published {format_yuan_grouped(published_fen)}, "
        f"{against} {format_yuan_grouped(expected_fen)}: {how} by {format_yuan_grouped(abs(difference_fen))}"
    )
    return Finding(kind, spec.row, spec.name, column.name, published_fen, expected_fen, message)


def _arithmetic(form: Form, published: Published, blank: set[tuple[str, str]]) -> list[Finding]:
    """The published statement against itself: totals against their parts, 三 = 一 − 二, 资产合计 = 负债和基金合计.

    A total is checked when the file gives it and at least one of its parts;
    parts the file leaves out count as zero.
    """
    findings = []
    lines = published.lines
    for spec in form.lines:
        total = lines.get(spec.code)
        parts = [*spec.plus, *spec.minus]
        if total is None or not parts or not any(code in lines for code in parts):
            continue
        for column in published.columns:
            if column.code not in total.values or (spec.code, column.code) in blank:
                continue
            expected = sum(_published(lines, code, column) for code in spec.plus) - sum(_published(lines, code, column) for code in spec.minus)
            if total.values[column.code] != expected:
                findings.append(_finding(ARITHMETIC, spec, column, total.values[column.code], expected, "its parts add up to"))
    for equality in form.equalities:
        left, right = lines.get(equality.left), lines.get(equality.right)
        if left is None or right is None:
            continue
        for column in published.columns:
            if column.code in left.values and column.code in right.values and left.values[column.code] != right.values[column.code]:
                findings.append(_finding(ARITHMETIC, left.spec, column, left.values[column.code], right.values[column.code], f"{right.spec.name} (行次 {right.spec.row}) is"))
    return findings


def _published(lines: Mapping[str, PublishedLine], code: str, column: Column) -> int:
    line = lines.get(code)
    return line.values.get(column.code, 0) if line is not None else 0
