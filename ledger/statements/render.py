"""A statement on screen (Rich), as JSON (the canonical machine form), CSV and XLSX.

Money leaves here as yuan text (``"1234.56"``) in JSON and CSV, and as
``Decimal`` numbers with a two-decimal format in XLSX: never as floats.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import Any, BinaryIO

from rich.console import Group
from rich.table import Table
from rich.text import Text

from ledger.money import format_yuan, format_yuan_grouped
from ledger.statements.forms import BALANCE_SHEET, FUND_NAMES, LEFT, RIGHT
from ledger.statements.model import Statement, StatementLine

STATEMENT_FORMAT = "ledger-statement/1"
FORMATS = ("table", "json", "csv", "xlsx")
ROW_HEADER, CODE_HEADER, NAME_HEADER = "行次", "代码", "项目"


def _money(amount_fen: int | None) -> dict[str, object] | None:
    if amount_fen is None:
        return None
    return {"yuan": format_yuan(amount_fen), "fen": amount_fen}


def _line_json(statement: Statement, line: StatementLine) -> dict[str, Any]:
    spec = line.spec
    shown: dict[str, Any] = {
        "row": spec.row,
        "code": spec.code,
        "name": spec.name,
        "accounts": list(spec.accounts),
        "level": spec.level,
        "total": spec.is_total,
        "values": {column.code: _money(value) for column, value in zip(statement.columns, line.values)},
    }
    if spec.tier is not None:
        shown["tier"] = spec.tier
    if spec.side:
        shown["side"] = spec.side
    return shown


def to_json(statement: Statement) -> dict[str, Any]:
    """The canonical machine form of a statement: what ``issue`` stores and digests."""
    scope, period = statement.scope, statement.period
    eliminations = None
    if statement.scope.consolidated and statement.form.code != BALANCE_SHEET:
        eliminations = {
            "lines": [_line_json(statement, line) for line in statement.eliminations],
            "documents": [
                {"column": d.column, "document_id": d.document_id, "books": list(d.books), "amount": _money(d.amount_fen)}
                for d in statement.eliminated_documents
            ],
        }
    return {
        "format": STATEMENT_FORMAT,
        "form": statement.form.code,
        "form_number": statement.form.number,
        "title": statement.form.title,
        "entity": scope.entity,
        "scope": {
            "key": scope.key,
            "region": scope.region,
            "scheme": scope.scheme,
            "fund": FUND_NAMES.get(scope.scheme, scope.scheme),
            "consolidated": scope.consolidated,
            "with_adjustment": scope.with_adjustment,
        },
        "period": {
            "key": period.key,
            "year": period.year,
            "month": period.month,
            "end": period.end.isoformat(),
            "as_of": period.as_of.isoformat() if period.as_of else None,
            "label": period.label,
        },
        "unit": "元",
        "known_on": statement.known_on,
        "position": statement.position,
        "source_hash": statement.source_hash(),
        "columns": [{"code": c.code, "name": c.name} for c in statement.columns],
        "lines": [_line_json(statement, line) for line in statement.lines],
        "eliminations": eliminations,
        "books": [
            {"book": b.key, "book_id": b.book_id, "version": b.version, "chain_head": b.chain_head} for b in statement.books
        ],
        "reopenings": [r.__dict__ for r in statement.reopenings],
        "notes": list(statement.notes),
        "checks": list(statement.checks),
    }


# ---------------------------------------------------------------- CSV


def csv_rows(statement: Statement) -> Iterator[list[str]]:
    """The line items, one row per line: the layout ``compare`` reads back (docs/statements.md)."""
    yield [ROW_HEADER, CODE_HEADER, NAME_HEADER, *(c.name for c in statement.columns)]
    for line in statement.lines:
        values = ["" if value is None else format_yuan(value) for value in line.values]
        yield [str(line.spec.row), line.spec.code, line.spec.name, *values]


def to_csv(statement: Statement) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerows(csv_rows(statement))
    return buffer.getvalue()


# ---------------------------------------------------------------- XLSX


def _yuan_number(amount_fen: int | None) -> Decimal | None:
    return None if amount_fen is None else Decimal(amount_fen).scaleb(-2)


def write_xlsx(statement: Statement, target: BinaryIO | str) -> None:
    """The statement laid out like the printed form: title, form number, 编制单位, period, 单位：元, lines, notes."""
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = statement.form.number
    width = 8 if statement.form.code == BALANCE_SHEET else 2 + len(statement.columns)
    _xlsx_heading(sheet, statement, width)
    if statement.form.code == BALANCE_SHEET:
        row = _xlsx_balance_sheet(sheet, statement)
    else:
        row = _xlsx_income_statement(sheet, statement)
    _xlsx_notes(sheet, statement, row + 1)
    workbook.save(target)


def _xlsx_heading(sheet: Any, statement: Statement, width: int) -> None:
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    last = get_column_letter(width)
    sheet.merge_cells(f"A1:{last}1")
    sheet["A1"] = statement.form.title
    sheet["A1"].font = Font(bold=True, size=16)
    sheet["A1"].alignment = Alignment(horizontal="center")
    sheet[f"{last}2"] = statement.form.number
    sheet[f"{last}2"].alignment = Alignment(horizontal="right")
    sheet["A3"] = f"编制单位：{statement.scope.entity}"
    sheet[f"{get_column_letter(max(width // 2, 2))}3"] = statement.dated
    sheet[f"{last}3"] = "单位：元"
    sheet[f"{last}3"].alignment = Alignment(horizontal="right")
    name_columns = (1, 5) if statement.form.code == BALANCE_SHEET else (1,)
    row_columns = (2, 6) if statement.form.code == BALANCE_SHEET else (2,)
    for index in range(1, width + 1):
        wide = 28 if index in name_columns else (6 if index in row_columns else 18)
        sheet.column_dimensions[get_column_letter(index)].width = wide


def _xlsx_cells(sheet: Any, row: int, column: int, line: StatementLine | None, heading: str = "") -> None:
    """One line in four cells: name, 行次, then its figures."""
    from openpyxl.styles import Font

    if line is None:
        if heading:
            sheet.cell(row=row, column=column, value=heading).font = Font(bold=True)
        return
    spec = line.spec
    indent = "　" * spec.level
    name = sheet.cell(row=row, column=column, value=indent + spec.name if not spec.is_total else spec.name)
    sheet.cell(row=row, column=column + 1, value=spec.row)
    bold = Font(bold=True) if spec.is_total else None
    if bold:
        name.font = bold
    for offset, value in enumerate(line.values, start=2):
        cell = sheet.cell(row=row, column=column + offset, value=_yuan_number(value))
        cell.number_format = "#,##0.00"
        if bold:
            cell.font = bold


def _header(sheet: Any, row: int, names: Sequence[str]) -> None:
    from openpyxl.styles import Alignment, Font

    for index, name in enumerate(names, start=1):
        cell = sheet.cell(row=row, column=index, value=name)
        cell.font = Font(bold=True)
        cell.alignment = Alignment(horizontal="center")


def _side(statement: Statement, side: str) -> list[tuple[StatementLine | None, str]]:
    """One side of the balance sheet, its section headings as rows of their own, its grand total left for the last row."""
    rows: list[tuple[StatementLine | None, str]] = []
    for line in statement.lines:
        if line.spec.side != side or line.spec.code in ("assets_total", "liabilities_and_fund_total"):
            continue
        if line.spec.heading:
            rows.append((None, line.spec.heading))
        rows.append((line, ""))
    return rows


def _xlsx_balance_sheet(sheet: Any, statement: Statement) -> int:
    """Assets on the left, liabilities and fund on the right, 资产合计 level with 负债和基金合计."""
    columns = [c.name for c in statement.columns]
    _header(sheet, 4, ["资产", ROW_HEADER, *columns, "负债和基金", ROW_HEADER, *columns])
    left, right = _side(statement, LEFT), _side(statement, RIGHT)
    row = 5
    for index in range(max(len(left), len(right))):
        if index < len(left):
            _xlsx_cells(sheet, row, 1, *left[index])
        if index < len(right):
            _xlsx_cells(sheet, row, 5, *right[index])
        row += 1
    totals = {line.spec.code: line for line in statement.lines}
    _xlsx_cells(sheet, row, 1, totals["assets_total"])
    _xlsx_cells(sheet, row, 5, totals["liabilities_and_fund_total"])
    return row + 1


def _xlsx_income_statement(sheet: Any, statement: Statement) -> int:
    _header(sheet, 4, [NAME_HEADER, ROW_HEADER, *(c.name for c in statement.columns)])
    row = 5
    for line in statement.lines:
        _xlsx_cells(sheet, row, 1, line)
        row += 1
    if statement.eliminations:
        row += 1
        sheet.cell(row=row, column=1, value="抵销（汇总范围内各账簿之间的上解、补助）")
        row += 1
        for line in statement.eliminations:
            _xlsx_cells(sheet, row, 1, line)
            row += 1
    return row


def _xlsx_notes(sheet: Any, statement: Statement, row: int) -> None:
    for note in statement.notes:
        sheet.cell(row=row, column=1, value=f"注：{note}")
        row += 1
    for reopening in statement.reopenings:
        sheet.cell(
            row=row,
            column=1,
            value=f"重新开启：{reopening.book} {reopening.period}，{reopening.actor}，{reopening.recorded_at}，原因：{reopening.reason}",
        )
        row += 1
    sheet.cell(row=row, column=1, value=f"数据位置 position {statement.position}；来源哈希 {statement.source_hash()}")


# ---------------------------------------------------------------- screen


def rich_view(statement: Statement) -> Group:
    """The statement as Rich tables: the lines, then eliminations, reopenings and notes."""
    heading = Text(f"{statement.form.title}    {statement.form.number}", style="bold")
    subheading = Text(f"编制单位：{statement.scope.entity}    {statement.dated}    单位：元")
    table = Table()
    table.add_column(NAME_HEADER)
    table.add_column(ROW_HEADER, justify="right")
    for column in statement.columns:
        table.add_column(column.name, justify="right")
    for line in statement.lines:
        if line.spec.heading:
            table.add_row(Text(line.spec.heading, style="bold"), "", *("" for _ in statement.columns))
        table.add_row(*_screen_cells(line))
    parts: list[Any] = [heading, subheading, table]
    if statement.eliminations:
        eliminations = Table(title="抵销 eliminations (between books of the scope)")
        eliminations.add_column(NAME_HEADER)
        eliminations.add_column(ROW_HEADER, justify="right")
        for column in statement.columns:
            eliminations.add_column(column.name, justify="right")
        for line in statement.eliminations:
            eliminations.add_row(*_screen_cells(line))
        parts.append(eliminations)
        for document in statement.eliminated_documents:
            parts.append(Text(f"  {document.column}: {document.document_id} ({', '.join(document.books)}) {format_yuan_grouped(document.amount_fen)}"))
    for reopening in statement.reopenings:
        parts.append(
            Text(f"重新开启 reopened: {reopening.book} {reopening.period} by {reopening.actor} at {reopening.recorded_at}: {reopening.reason}", style="yellow")
        )
    for note in statement.notes:
        parts.append(Text(f"注：{note}", style="dim"))
    parts.append(Text(f"position {statement.position}, source hash {statement.source_hash()[:16]}…", style="dim"))
    return Group(*parts)


def _screen_cells(line: StatementLine) -> list[Any]:
    spec = line.spec
    style = "bold" if spec.is_total else ""
    name = Text(("  " * spec.level) + spec.name, style=style)
    values = [Text("" if v is None else format_yuan_grouped(v), style=style) for v in line.values]
    return [name, str(spec.row), *values]
