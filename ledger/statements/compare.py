"""Comparing a published statement with the books, and checking its own arithmetic.

A published statement is read as agencies publish it (docs/statements.md):

- as CSV (UTF-8 or GB 18030) or as XLSX (the first sheet, or the one named
  after the form, e.g. 会社保02表; the ledger's own ``statement show --format
  xlsx`` output included);
- in 元 or in 万元: ``--unit yuan|wan``, or the file's own ``单位：元`` /
  ``单位：万元`` line above the table. 1 万元 = 10,000 元, so a 万元 figure has
  at most six decimals and converts to fen exactly; a finer figure is refused;
- the table starts at the first row holding a ``行次`` (or ``row``) or
  ``代码`` (or ``code``) header; rows above it are the title block. Other
  headers: ``项目``/``item``/``name`` (or 资产, 负债和基金 on a two-sided
  balance sheet) for the line's name, and one column per figure column
  (年初余额/opening, 期末余额/closing; 本月数/month, 本年累计数/year_to_date;
  本年数/this_year, 上年数/last_year). A header that repeats (the balance
  sheet's two sides printed side by side) starts a second block of columns;
- rows without a 行次 or 代码 and without figures (section headings, notes)
  are skipped; an ``抵销`` (eliminations) section ends the lines.

Amounts are one amount grammar: ASCII digits, an optional leading ``-``,
thousands separators only in groups of three, at most two decimals in 元 (six
in 万元), no exponents. An XLSX number cell is read to Excel's own 15
significant digits. A blank cell in a published line is zero, as printed
forms leave zeros blank. A line the publication leaves out is *not
published*: it is not compared with the books, and in the arithmetic check it
is worked out from its own published parts if the form computes it (三、本期基金结余
from 一 and 二), taken as zero if the books show zero there too (a nil line
left off), and otherwise the totals that need it are not checked. Every
difference and every arithmetic failure is collected, so one run names them all.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ledger.money import MoneyFormatError, format_yuan_grouped, parse_yuan
from ledger.statements.errors import PublishedStatementError
from ledger.statements.forms import Form, LineSpec
from ledger.statements.model import Column, Statement

MAXIMUM_PUBLISHED_ROWS = 1_000
MAXIMUM_PUBLISHED_COLUMNS = 64
MAXIMUM_PUBLISHED_BYTES = 1_000_000
ROW_HEADERS = ("行次", "row")
CODE_HEADERS = ("代码", "code")
NAME_HEADERS = ("项目", "item", "name", "资产", "负债和基金", "负债及基金")
ELIMINATIONS_HEADING = "抵销"

YUAN, WAN = "yuan", "wan"
UNITS = {YUAN: YUAN, "元": YUAN, WAN: WAN, "万元": WAN}
UNIT_NAMES = {YUAN: "元", WAN: "万元"}
# Decimals a figure may have in each unit: 0.01 元 and 0.000001 万元 are both one fen.
UNIT_DECIMALS = {YUAN: 2, WAN: 6}
# The title block's unit line: 单位：元, 单位:万元, 金额单位：万元.
UNIT_LINE = re.compile(r"单位\s*[：:]\s*(万元|元)")
# One amount grammar: ASCII digits only, thousands groups of three or none, a decimal point and decimals.
ZIP_MAGIC = b"PK\x03\x04"
EXCEL_SIGNIFICANT_DIGITS = 15

DIFFERS = "differs"
ARITHMETIC = "arithmetic"
UNKNOWN_LINE = "unknown line"
DUPLICATE_LINE = "duplicate line"
UNREADABLE = "unreadable amount"


@dataclass(frozen=True)
class PublishedLine:
    """One line item of a published statement.

    Attributes:
      file_line: the line of the file (or row of the sheet) it was read from.
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
    """A published statement read from its file.

    Attributes:
      columns: the figure columns it gives.
      lines: its lines by line code.
      findings: lines it could not place and amounts it could not read.
      unit: ``yuan`` or ``wan``, the unit its figures were read in.
    """

    columns: tuple[Column, ...]
    lines: Mapping[str, PublishedLine]
    findings: tuple[Finding, ...]
    unit: str = YUAN


def amount_fen(text: str, unit: str = YUAN) -> int:
    """Fen in a published figure written in 元 (``"1,234.56"``) or 万元 (``"0.123456"`` = 1,234.56 元).

    The grammar is the ledger's one amount grammar, ``parse_yuan`` (ASCII digits only here, an optional
    ``-``, thousands separators in groups of three, no exponent), with at most
    two decimals in 元 and six in 万元 (1 万元 = 10,000 元, so six decimals of
    万元 are one fen). The conversion is exact, in text; the result is checked
    by ``ledger.money.parse_yuan``. Raises ``MoneyFormatError`` naming the rule.
    """
    if not text.isascii():
        # A published statement comes from software, never typed by an input method: its figures are ASCII.
        raise MoneyFormatError(f"{text!r} has characters other than ASCII; a published figure is written in ASCII digits")
    if unit == YUAN:
        return parse_yuan(text)
    # 万元: the whole part is read by the one grammar (grouping, digits, no exponent); the decimals, up to
    # six (one fen), are moved four places into it, in text, and the result read by the grammar again.
    written = text.strip()
    whole, _, decimals = written.partition(".")
    if not re.fullmatch(r"[0-9]*", decimals):
        parse_yuan(written)  # names what is wrong: an exponent, a second point, other digits
        raise MoneyFormatError(f"{written!r} is not an amount of 万元: write digits with at most one point and six decimals")
    if len(decimals) > UNIT_DECIMALS[WAN]:
        raise MoneyFormatError(f"{written!r} 万元 is finer than a fen: at most {UNIT_DECIMALS[WAN]} decimals in 万元")
    whole_fen = parse_yuan(whole)
    sign = -1 if whole.lstrip().startswith("-") else 1
    shifted = decimals.ljust(UNIT_DECIMALS[WAN], "0")
    # 1 万元 = 1,000,000 fen: the whole part (read as yuan, 100 fen each) times 10,000, plus six decimals in fen.
    fen = abs(whole_fen) * 10_000 + int(shifted)
    return sign * parse_yuan(f"{fen // 100}.{fen % 100:02d}")


def unit_of(value: str) -> str:
    """``yuan`` or ``wan`` from ``yuan``, ``元``, ``wan`` or ``万元``; raises ``PublishedStatementError`` otherwise."""
    unit = UNITS.get(value.strip().lower())
    if unit is None:
        raise PublishedStatementError(f"--unit {value!r} is not a unit: use yuan (元) or wan (万元)", field="unit")
    return unit


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


def _blocks(header: Sequence[str], columns: Sequence[Column]) -> list[dict[int, str]]:
    """The header's blocks of columns, each a map from column index to role; a repeated role starts a new block.

    Refuses (``PublishedStatementError``) a header it cannot read: an unknown
    column, a block that names no line, or no figure column at all.
    """
    blocks: list[dict[int, str]] = [{}]
    for index, text in enumerate(header):
        role = _header_role(text, columns)
        if role is None and text.strip():
            accepted = ", ".join([*ROW_HEADERS, *CODE_HEADERS, *NAME_HEADERS, *(f"{c.name}/{c.code}" for c in columns)])
            raise PublishedStatementError(f"column {text!r} is not one this statement has; headers: {accepted}", field="header")
        if role is None:
            continue
        if role in blocks[-1].values():
            blocks.append({})
        blocks[-1][index] = role
    for block in blocks:
        if "row" not in block.values() and "code" not in block.values():
            raise PublishedStatementError("the file needs a 行次 (row) or 代码 (code) column to name its lines", field="header")
    if not any(role in {c.code for c in columns} for block in blocks for role in block.values()):
        names = ", ".join(f"{c.name}/{c.code}" for c in columns)
        raise PublishedStatementError(f"the file has none of this statement's columns ({names})", field="header")
    return blocks


def _decode(data: bytes) -> str:
    """UTF-8 (with or without a BOM), else GB 18030, which spreadsheets in China save CSV in."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise PublishedStatementError("the file is neither UTF-8 nor GB 18030 text; save it as CSV or XLSX")


def _xlsx_text(value: Any) -> str:
    """A spreadsheet cell as text: a number to Excel's 15 significant digits, never in exponent form."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        exact = Decimal(format(value, f".{EXCEL_SIGNIFICANT_DIGITS}g")).normalize()
        return format(exact, "f")
    return str(value).strip()


def _xlsx_rows(data: bytes, form: Form) -> list[list[str]]:
    """The cells of an XLSX workbook's sheet as text: the sheet named after the form (会社保02表), else the first."""
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds for a file that is not a workbook
        raise PublishedStatementError(f"the file is not a readable XLSX workbook ({type(error).__name__})") from None
    try:
        sheet = workbook[form.number] if form.number in workbook.sheetnames else workbook.worksheets[0]
        rows = []
        for row in sheet.iter_rows(max_row=MAXIMUM_PUBLISHED_ROWS + 1, max_col=MAXIMUM_PUBLISHED_COLUMNS, values_only=True):
            rows.append([_xlsx_text(value) for value in row])
    finally:
        workbook.close()
    return rows


def _table_rows(data: bytes, form: Form) -> tuple[list[tuple[int, list[str]]], str]:
    """The file's rows as (line or sheet row number, cells), and how to name a place in it."""
    if data.startswith(ZIP_MAGIC):
        rows, where = _xlsx_rows(data, form), "sheet row"
    else:
        rows, where = [row[:MAXIMUM_PUBLISHED_COLUMNS] for row in csv.reader(_decode(data).splitlines())], "file line"
    numbered = [(number, row) for number, row in enumerate(rows, start=1) if any(cell.strip() for cell in row)]
    if not numbered:
        raise PublishedStatementError("the file is empty")
    if len(rows) > MAXIMUM_PUBLISHED_ROWS:
        raise PublishedStatementError(f"the file has more than {MAXIMUM_PUBLISHED_ROWS} lines")
    return numbered, where


def _header_index(rows: Sequence[tuple[int, list[str]]], columns: Sequence[Column]) -> int:
    """Where the table starts: the first row with a 行次 or 代码 header (the rows above are the title block)."""
    for position, (_, row) in enumerate(rows):
        if any(_header_role(cell, columns) in ("row", "code") for cell in row):
            return position
    first = rows[0][1]
    _blocks(first, columns)  # names the unknown column, if that is what is wrong
    raise PublishedStatementError("the file needs a 行次 (row) or 代码 (code) column to name its lines", field="header")


def _stated_unit(title_rows: Iterable[list[str]]) -> str | None:
    for row in title_rows:
        for cell in row:
            found = UNIT_LINE.search(cell)
            if found:
                return UNITS[found.group(1)]
    return None


def read_published(data: bytes, statement: Statement, unit: str | None = None) -> Published:
    """Read a published statement (CSV or XLSX bytes) for the lines and columns of the books' statement.

    ``unit`` is ``yuan`` or ``wan`` (None: the file's 单位 line, else 元); a
    unit given that the file's 单位 line contradicts is refused. Lines it
    cannot place and amounts it cannot read become findings; a header it
    cannot read is refused (``PublishedStatementError``).
    """
    form, columns = statement.form, statement.columns
    if len(data) > MAXIMUM_PUBLISHED_BYTES:
        raise PublishedStatementError(f"the file is larger than {MAXIMUM_PUBLISHED_BYTES} bytes; a statement is a page")
    rows, where = _table_rows(data, form)
    start = _header_index(rows, columns)
    stated = _stated_unit(row for _, row in rows[:start])
    chosen = unit_of(unit) if unit is not None else (stated or YUAN)
    if stated is not None and stated != chosen:
        raise PublishedStatementError(
            f"the file says 单位：{UNIT_NAMES[stated]} but --unit {UNIT_NAMES[chosen]} was given; give the unit the figures are in",
            field="unit",
        )
    blocks = _blocks(rows[start][1], columns)
    given = tuple(c for c in columns if any(c.code in block.values() for block in blocks))
    shown = [line.spec for line in statement.lines]
    lines: dict[str, PublishedLine] = {}
    findings: list[Finding] = []
    for number, row in rows[start + 1:]:
        if any(cell.strip().startswith(ELIMINATIONS_HEADING) for cell in row[:1]):
            break
        for block in blocks:
            cells = {role: (row[index].strip() if index < len(row) else "") for index, role in block.items()}
            _read_line(cells, shown, given, chosen, f"{where} {number}", number, lines, findings, form)
    return Published(given, lines, tuple(findings), chosen)


def _read_line(cells: Mapping[str, str], shown: Sequence[LineSpec], given: Sequence[Column], unit: str, place: str,
               number: int, lines: dict[str, PublishedLine], findings: list[Finding], form: Form) -> None:
    """Read one block of one row into ``lines``, or a finding into ``findings``; headings and blank blocks are skipped."""
    label = cells.get("row") or cells.get("code") or ""
    figures = [cells.get(column.code, "") for column in given]
    if not label and not any(figures):
        return  # a section heading (资产：), a note, or the empty half of a two-sided row
    spec = _identify(cells, shown)
    if spec is None:
        findings.append(Finding(UNKNOWN_LINE, None, cells.get("name", ""), "", None, None, f"{place}: {label!r} is no line of {form.number}"))
        return
    if spec.code in lines:
        findings.append(Finding(DUPLICATE_LINE, spec.row, spec.name, "", None, None, f"{place}: 行次 {spec.row} {spec.name} is given twice"))
        return
    values: dict[str, int] = {}
    for column in given:
        try:
            values[column.code] = amount_fen(cells[column.code], unit) if cells[column.code] else 0
        except MoneyFormatError as error:
            findings.append(Finding(UNREADABLE, spec.row, spec.name, column.name, None, None, f"{place}, {column.name}: {error}"))
    lines[spec.code] = PublishedLine(number, spec, values)


def _identify(cells: Mapping[str, str], shown: Sequence[LineSpec]) -> LineSpec | None:
    row_text, code = cells.get("row", ""), cells.get("code", "")
    if row_text:
        return next((line for line in shown if str(line.row) == row_text), None)
    return next((line for line in shown if line.code == code), None) if code else None


def not_published(statement: Statement, published: Published) -> list[LineSpec]:
    """The statement's lines the publication leaves out, in the form's order."""
    return [line.spec for line in statement.lines if line.spec.code not in published.lines]


def compare(statement: Statement, published: Published) -> list[Finding]:
    """Every published line whose figure differs from the books, then every published total that is not the sum of its parts.

    Lines the publication leaves out are not compared (``not_published``).
    """
    findings = list(published.findings)
    findings += _differences(statement, published)
    # Cells the form leaves blank (a month's 年初/期末基金结余) are not figures, whatever the file has there.
    blank = {
        (line.spec.code, column.code)
        for line in statement.lines
        for column, value in zip(statement.columns, line.values)
        if value is None
    }
    findings += _arithmetic(statement, published, blank)
    return findings


def _differences(statement: Statement, published: Published) -> list[Finding]:
    findings = []
    index = {column.code: position for position, column in enumerate(statement.columns)}
    for line in statement.lines:
        given = published.lines.get(line.spec.code)
        if given is None:
            continue  # not published: nothing to compare
        for column in published.columns:
            books_fen = line.values[index[column.code]]
            if books_fen is None or column.code not in given.values:
                continue
            published_fen = given.values[column.code]
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


def _known_figures(statement: Statement, published: Published, column: Column) -> dict[str, int]:
    """Each line's figure as the publication gives it, for its own arithmetic.

    Published lines as published; a line the form does not show for this
    fund is zero; a left-out line is worked out from its own parts when the
    form computes it and they are known, and is zero when it is a line of
    its own that the books show as zero (a nil line left off). Lines known
    no other way are missing from the result.
    """
    shown = {line.spec.code: line for line in statement.lines}
    index = [c.code for c in statement.columns].index(column.code)
    known: dict[str, int] = {}
    for spec in statement.form.lines:
        if spec.code not in shown:
            known[spec.code] = 0
        elif spec.code in published.lines and column.code in published.lines[spec.code].values:
            known[spec.code] = published.lines[spec.code].values[column.code]
        elif not spec.plus and not spec.minus and shown[spec.code].values[index] in (0, None):
            known[spec.code] = 0
    # Totals of totals: at most one pass per level of the form (three), bounded by the line count.
    for _ in range(len(statement.form.lines)):
        derived = {
            spec.code: sum(known[c] for c in spec.plus) - sum(known[c] for c in spec.minus)
            for spec in statement.form.lines
            if spec.code not in known and (spec.plus or spec.minus) and all(c in known for c in (*spec.plus, *spec.minus))
        }
        if not derived:
            break
        known.update(derived)
    return known


def _arithmetic(statement: Statement, published: Published, blank: set[tuple[str, str]]) -> list[Finding]:
    """The published statement against itself: totals against their parts, 三 = 一 − 二, 资产合计 = 负债和基金合计.

    A published total is checked when each of its parts is known
    (``_known_figures``); a total whose parts are not all known is not checked.
    """
    form = statement.form
    findings = []
    lines = published.lines
    for column in published.columns:
        known = _known_figures(statement, published, column)
        for spec in form.lines:
            total = lines.get(spec.code)
            parts = [*spec.plus, *spec.minus]
            if total is None or not parts or column.code not in total.values or (spec.code, column.code) in blank:
                continue
            if not all(code in known for code in parts):
                continue
            expected = sum(known[code] for code in spec.plus) - sum(known[code] for code in spec.minus)
            if total.values[column.code] != expected:
                findings.append(_finding(ARITHMETIC, spec, column, total.values[column.code], expected, "its parts add up to"))
        for equality in form.equalities:
            left, right = lines.get(equality.left), lines.get(equality.right)
            if left is None or right is None:
                continue
            if column.code in left.values and column.code in right.values and left.values[column.code] != right.values[column.code]:
                findings.append(_finding(ARITHMETIC, left.spec, column, left.values[column.code], right.values[column.code], f"{right.spec.name} (行次 {right.spec.row}) is"))
    return findings
