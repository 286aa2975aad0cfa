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

from ledger.agency_time import local_time
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


# The title block is rows 1–3 and the column headings row 4: printed again at the top of every page.
HEADER_ROW = 4
PRINT_TITLE_ROWS = f"1:{HEADER_ROW}"
# Column widths in Excel's character units; a CJK character takes two.
NAME_COLUMN_WIDTH_MINIMUM = 28
ROW_COLUMN_WIDTH = 6
FIGURE_COLUMN_WIDTH = 18


def write_xlsx(statement: Statement, target: BinaryIO | str) -> None:
    """The statement laid out and set up to print like the official form.

    Title, form number, 编制单位 (with the fund's name), period, 单位：元, the
    lines with borders, then notes. Printing: A4, the balance sheet (01)
    landscape and the income statement (02) portrait, scaled to one page
    wide and one page tall, the title and heading rows repeated on every
    page, centred horizontally (the layout of 财会〔2017〕28号's forms).
    """
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
    _xlsx_borders(sheet, HEADER_ROW, row - 1, width)
    last_row = _xlsx_notes(sheet, statement, row + 1, width)
    _xlsx_page_setup(sheet, statement, width, last_row)
    workbook.save(target)


def _xlsx_page_setup(sheet: Any, statement: Statement, width: int, last_row: int) -> None:
    from openpyxl.utils import get_column_letter

    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.orientation = "landscape" if statement.form.code == BALANCE_SHEET else "portrait"
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 1
    sheet.print_title_rows = PRINT_TITLE_ROWS
    sheet.print_area = f"A1:{get_column_letter(width)}{last_row}"
    sheet.print_options.horizontalCentered = True


def _xlsx_borders(sheet: Any, first_row: int, last_row: int, width: int) -> None:
    """Thin borders round every cell of the table, headings included, as the printed form rules them."""
    from openpyxl.styles import Border, Side

    thin = Side(style="thin")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    for row in sheet.iter_rows(min_row=first_row, max_row=last_row, min_col=1, max_col=width):
        for cell in row:
            cell.border = border


def _display_width(text: str) -> int:
    """Columns a text takes in a spreadsheet: two for a CJK (wide) character, one for the rest."""
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


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
    # 编制单位 and the fund's name run over the columns left of the date, wrapped rather than cut.
    date_column = max(width // 2, 2) + (1 if statement.form.code == BALANCE_SHEET else 0)
    sheet.merge_cells(start_row=3, start_column=1, end_row=3, end_column=date_column - 1)
    sheet["A3"] = f"编制单位：{statement.scope.entity}"
    sheet["A3"].alignment = Alignment(wrap_text=True, vertical="center")
    sheet.cell(row=3, column=date_column, value=statement.dated).alignment = Alignment(horizontal="center", vertical="center")
    sheet[f"{last}3"] = "单位：元"
    sheet[f"{last}3"].alignment = Alignment(horizontal="right", vertical="center")
    name_columns = (1, 5) if statement.form.code == BALANCE_SHEET else (1,)
    row_columns = (2, 6) if statement.form.code == BALANCE_SHEET else (2,)
    names = [line.spec.name for line in (*statement.lines, *statement.eliminations)]
    # The widest line name, indented, with a little room: no name is cut.
    name_width = max([NAME_COLUMN_WIDTH_MINIMUM, *(_display_width(name) + 6 for name in names)])
    widths = {}
    for index in range(1, width + 1):
        widths[index] = name_width if index in name_columns else (ROW_COLUMN_WIDTH if index in row_columns else FIGURE_COLUMN_WIDTH)
        sheet.column_dimensions[get_column_letter(index)].width = widths[index]
    entity_width = _display_width(str(sheet["A3"].value))
    room = sum(widths[index] for index in range(1, date_column))
    sheet.row_dimensions[3].height = 15 * max(1, -(-entity_width // max(room, 1)))


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


def _xlsx_notes(sheet: Any, statement: Statement, row: int, width: int) -> int:
    """Notes, reopenings and the position below the table, each across the page and wrapped; returns the last row."""
    from openpyxl.styles import Alignment

    first = row
    for note in statement.notes:
        sheet.cell(row=row, column=1, value=f"注：{note}")
        row += 1
    for reopening in statement.reopenings:
        sheet.cell(
            row=row,
            column=1,
            value=f"重新开启：{reopening.book} {reopening.period}，{reopening.actor}，{local_time(reopening.recorded_at)}，原因：{reopening.reason}",
        )
        row += 1
    sheet.cell(row=row, column=1, value=f"数据位置 position {statement.position}；来源哈希 {statement.source_hash()}")
    for number in range(first, row + 1):
        sheet.merge_cells(start_row=number, start_column=1, end_row=number, end_column=width)
        sheet.cell(row=number, column=1).alignment = Alignment(wrap_text=True, vertical="top")
    return row


# ---------------------------------------------------------------- screen


def rich_view(statement: Statement) -> Group:
    """The statement as Rich tables: the lines, then eliminations, reopenings and notes."""
    heading = Text(f"{statement.form.title}    {statement.form.number}", style="bold")
    subheading = Text(f"编制单位：{statement.scope.entity}    {statement.dated}    单位：元")
    table = Table()
    table.add_column(NAME_HEADER, overflow="fold")
    table.add_column(ROW_HEADER, justify="right", no_wrap=True)
    for column in statement.columns:
        table.add_column(column.name, justify="right", no_wrap=True, overflow="fold")
    for line in statement.lines:
        if line.spec.heading:
            table.add_row(Text(line.spec.heading, style="bold"), "", *("" for _ in statement.columns))
        table.add_row(*_screen_cells(line))
    parts: list[Any] = [heading, subheading, table]
    if statement.eliminations:
        eliminations = Table(title="抵销 eliminations (between books of the scope)")
        eliminations.add_column(NAME_HEADER, overflow="fold")
        eliminations.add_column(ROW_HEADER, justify="right", no_wrap=True)
        for column in statement.columns:
            eliminations.add_column(column.name, justify="right", no_wrap=True, overflow="fold")
        for line in statement.eliminations:
            eliminations.add_row(*_screen_cells(line))
        parts.append(eliminations)
        for document in statement.eliminated_documents:
            parts.append(Text(f"  {document.column}: {document.document_id} ({', '.join(document.books)}) {format_yuan_grouped(document.amount_fen)}"))
    for reopening in statement.reopenings:
        parts.append(
            Text(f"重新开启 reopened: {reopening.book} {reopening.period} by {reopening.actor} at {local_time(reopening.recorded_at)}: {reopening.reason}", style="yellow")
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
