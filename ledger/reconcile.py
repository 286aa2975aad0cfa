"""Reconciliation (对账): a bank or fiscal-account statement against the books, and the 余额调节表.

A statement is a CSV file with one row per movement on one of the fund's
bank accounts (1001–1005): a bank statement (银行对账单) for the income and
payment accounts, the finance bureau's statement of the social-security
fiscal special account (财政专户对账单) for 1003. Its rows are matched with
the book's posting lines on that account, first by reference (a reference
equal to the line's document id), then by exact amount and a date within a
tolerance, one to one. What is left is named: 银行已收企业未收 and
银行已付企业未付 (on the statement only), 企业已收银行未收 and
企业已付银行未付 (in the books only). The 余额调节表 adds and takes these
from each side's closing balance; the two adjusted balances agree when every
difference is a timing difference.

Reconciliation is read-only: it reads the projections and the document
registry and stores nothing.
"""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlalchemy import Engine, select

from ledger.accounts import BANK_ACCOUNTS, CHART
from ledger.errors import LedgerError
from ledger.dates import NotACalendarDayError, calendar_day
from ledger.money import MoneyFormatError, format_yuan, parse_yuan, shown
from ledger.projections import queries, tables
from ledger.registry import documents as registry_documents

Fen = int

MAXIMUM_STATEMENT_BYTES = 64 << 20
MAXIMUM_STATEMENT_ROWS = 100_000
MAXIMUM_BOOK_LINES = 100_000
# Equal amounts within the tolerance are paired greedily by closest date; the
# candidate pairs are bounded so that a pathological file cannot exhaust memory.
MAXIMUM_CANDIDATE_PAIRS = 2_000_000
DEFAULT_DATE_TOLERANCE_DAYS = 3
MAXIMUM_DATE_TOLERANCE_DAYS = 31

# Lines that are not movements of money: the opening balance carried from last
# year, and the year-end close (which never touches a bank account anyway).
NOT_MOVEMENTS = ("BalancesCarriedForward", "OpeningBalancesEntered", "YearClosed")

BY_REFERENCE = "reference"
BY_AMOUNT_AND_DATE = "amount and date"

# Statement columns and the headers that name them, Chinese and English.
# ``in`` and ``out`` are money into and out of the account: a bank writes
# deposits under 贷方 (credit) and withdrawals under 借方 (debit), the bank's
# own side, which is the opposite of the fund's books for an asset account.
COLUMN_HEADERS: dict[str, tuple[str, ...]] = {
    "date": ("date", "日期", "交易日期", "记账日期"),
    "amount": ("amount", "金额", "发生额", "交易金额"),
    "in": ("in", "credit", "deposit", "收入", "贷方", "贷方发生额", "收入金额"),
    "out": ("out", "debit", "withdrawal", "支出", "借方", "借方发生额", "支出金额"),
    "description": ("description", "摘要", "memo", "用途"),
    "reference": ("reference", "ref", "凭证号", "参考号", "业务参考号"),
    "balance": ("balance", "余额", "账户余额"),
}
_HEADER_ROLE = {header.lower(): role for role, headers in COLUMN_HEADERS.items() for header in headers}

_DATE = re.compile(r"^([0-9]{4})[-/.]([0-9]{1,2})[-/.]([0-9]{1,2})$")
_COMPACT_DATE = re.compile(r"^([0-9]{4})([0-9]{2})([0-9]{2})$")


class StatementFormatError(LedgerError):
    """A statement file, or one of its rows, cannot be read as a statement.

    Attributes:
      file: the statement's file name.
      row: the row number in the file (the header is row 1), or None for the whole file.
      column: the column's header as the file writes it, or None.
    """

    rule = "statement layout (docs/reconciliation.md)"

    def __init__(self, message: str, *, file: str, row: int | None = None, column: str | None = None):
        self.file = file
        self.row = row
        self.column = column
        super().__init__(message, field=column)

    def describe(self) -> str:
        where = self.file
        if self.row is not None:
            where += f" row {self.row}"
        if self.column is not None:
            where += f", column '{self.column}'"
        return f"{where}: {self.message} [{self.rule}]"


class ReconciliationError(LedgerError):
    """A reconciliation that cannot be made: no such book, no statement balance, too many rows."""

    rule = "reconciliation"


@dataclass(frozen=True)
class StatementRow:
    """One movement on the statement.

    Attributes:
      row: the row number in the file (the header is row 1).
      date: the value date.
      amount_fen: money into the account positive, out of it negative.
      reference: the 凭证号 or 参考号, "" when none; a ledger document id matches it.
      description: the 摘要.
      balance_fen: the 余额 after this row, or None when the statement gives none.
    """

    row: int
    date: date
    amount_fen: Fen
    reference: str = ""
    description: str = ""
    balance_fen: Fen | None = None


@dataclass(frozen=True)
class Statement:
    """A statement read from a file, rows in date order.

    Attributes:
      name: the file name, for messages.
      rows: every row of the file.
      ignored_columns: headers the ledger does not read (对方户名, 对方账号, ...).
    """

    name: str
    rows: list[StatementRow]
    ignored_columns: list[str] = field(default_factory=list)

    def closing_balance(self, through: date) -> tuple[Fen, str] | None:
        """The balance at the end of ``through`` from the 余额 column, and where it came from.

        The last 余额 on or before ``through``, plus any movement after it on
        or before ``through`` whose row gives no 余额. None when no row on or
        before ``through`` gives one.
        """
        balance_fen: Fen | None = None
        source_row = 0
        moved_after = False
        for row in self.rows:
            if row.date > through:
                break
            if row.balance_fen is not None:
                balance_fen, source_row, moved_after = row.balance_fen, row.row, False
            elif balance_fen is not None:
                balance_fen += row.amount_fen
                moved_after = True
        if balance_fen is None:
            return None
        return balance_fen, f"余额 of row {source_row}" + (" plus the movements after it" if moved_after else "")


@dataclass(frozen=True)
class BookLine:
    """One posting line on the reconciled account.

    Attributes:
      notification_id, line: the line's key in ``proj_lines``.
      effective_date: the business date.
      document_id, document_type: the document that posted it ("" when the registry does not know it).
      kind: the event's class name.
      period, voucher: its 记账凭证号.
      version: the event's version in its book.
      amount_fen: debit (money into the account) positive.
    """

    notification_id: int
    line: int
    effective_date: date
    document_id: str
    document_type: str
    kind: str
    period: str
    voucher: int
    version: int
    amount_fen: Fen


@dataclass(frozen=True)
class Match:
    """A statement row and the book line it was matched with, and how."""

    statement: StatementRow
    book: BookLine
    by: str

    @property
    def days_apart(self) -> int:
        """The statement's date less the book's: positive when the bank recorded it later."""
        return (self.statement.date - self.book.effective_date).days


@dataclass(frozen=True)
class Reconciliation:
    """A statement reconciled with one account of one book over a window of dates.

    Attributes:
      book: the book, ``region/scheme/year``.
      account: the bank account's code.
      since, through: the window (inclusive).
      tolerance_days: how far apart the dates of an amount match may be.
      matched: the pairs, by reference first, then by amount and date.
      statement_receipts: 银行已收企业未收, on the statement only.
      statement_payments: 银行已付企业未付, on the statement only.
      book_receipts: 企业已收银行未收, in the books only.
      book_payments: 企业已付银行未付, in the books only.
      reversed_in_books: a document and its reversal, both in the window, which cancel in the books (冲销).
      notes: a reference naming a document whose line does not fit the row, and the like.
      rows_outside_window: statement rows dated outside the window, not reconciled.
      statement_balance_fen, statement_balance_source: the statement's closing balance and where it came from.
      book_balance_fen: the account's balance in the books at the end of ``through``.
    """

    book: str
    account: str
    since: date
    through: date
    tolerance_days: int
    matched: list[Match]
    statement_receipts: list[StatementRow]
    statement_payments: list[StatementRow]
    book_receipts: list[BookLine]
    book_payments: list[BookLine]
    reversed_in_books: list[tuple[BookLine, BookLine]]
    notes: list[str]
    rows_outside_window: int
    statement_balance_fen: Fen
    statement_balance_source: str
    book_balance_fen: Fen

    @property
    def adjusted_statement_fen(self) -> Fen:
        """Statement balance + 企业已收银行未收 − 企业已付银行未付 (payments are negative lines)."""
        return (
            self.statement_balance_fen
            + sum(line.amount_fen for line in self.book_receipts)
            + sum(line.amount_fen for line in self.book_payments)
        )

    @property
    def adjusted_book_fen(self) -> Fen:
        """Book balance + 银行已收企业未收 − 银行已付企业未付 (payments are negative rows)."""
        return (
            self.book_balance_fen
            + sum(row.amount_fen for row in self.statement_receipts)
            + sum(row.amount_fen for row in self.statement_payments)
        )

    @property
    def difference_fen(self) -> Fen:
        """Adjusted statement balance less adjusted book balance: zero when they agree."""
        return self.adjusted_statement_fen - self.adjusted_book_fen

    @property
    def agrees(self) -> bool:
        return self.difference_fen == 0

    def verdict(self) -> str:
        """The 余额调节表's conclusion in words, with the difference named when there is one."""
        if self.agrees:
            return f"adjusted balances agree at {format_yuan(self.adjusted_book_fen)}"
        more = "more" if self.difference_fen > 0 else "less"
        return (
            f"adjusted balances do not agree: the adjusted statement balance {format_yuan(self.adjusted_statement_fen)} "
            f"is {more} than the adjusted book balance {format_yuan(self.adjusted_book_fen)} "
            f"by {format_yuan(abs(self.difference_fen))}"
        )


# ---------------------------------------------------------------- reading the statement


def read_statement(path: str | Path) -> tuple[Statement, list[StatementFormatError]]:
    """Read a statement file: UTF-8 (with or without a byte-order mark), or GB18030 as Chinese banks export.

    Returns the statement and every error found; the statement is usable only
    when the list is empty.
    """
    name = Path(path).name
    try:
        size_bytes = Path(path).stat().st_size
        if size_bytes > MAXIMUM_STATEMENT_BYTES:
            return Statement(name, []), [
                StatementFormatError(f"the file has {size_bytes} bytes, more than {MAXIMUM_STATEMENT_BYTES}; split it", file=name)
            ]
        raw = Path(path).read_bytes()
    except OSError as error:
        return Statement(name, []), [StatementFormatError(f"cannot be read: {error.strerror}", file=name)]
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = raw.decode("gb18030")
        except UnicodeDecodeError:
            return Statement(name, []), [StatementFormatError("is neither UTF-8 nor GB18030 text", file=name)]
    return parse_statement(text, name)


def parse_statement(text: str, name: str) -> tuple[Statement, list[StatementFormatError]]:
    """Parse a statement's CSV text; every bad row and column is reported, not only the first."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""))
    try:
        header = next(reader)
    except StopIteration:
        return Statement(name, []), [StatementFormatError("is empty: a header row is needed", file=name, row=1)]
    columns, ignored, errors = _read_header(header, name)
    if errors:
        return Statement(name, []), errors
    rows: list[StatementRow] = []
    row_number = reader.line_num
    for cells in reader:
        first_line, row_number = row_number + 1, reader.line_num
        if not any(cell.strip() for cell in cells):
            continue
        if len(rows) >= MAXIMUM_STATEMENT_ROWS:
            errors.append(
                StatementFormatError(f"more than {MAXIMUM_STATEMENT_ROWS} rows; split the statement", file=name, row=first_line)
            )
            break
        row, row_errors = _read_row(cells, first_line, header, columns, name)
        errors += row_errors
        if row is not None:
            rows.append(row)
    # After a refused row the balances that follow it cannot be checked: its movement is unknown.
    errors += _check_order_and_balances(rows, columns, header, name, check_balances=not errors)
    return Statement(name, rows, ignored), errors


def _read_header(header: list[str], name: str) -> tuple[dict[str, int], list[str], list[StatementFormatError]]:
    columns: dict[str, int] = {}
    ignored: list[str] = []
    errors: list[StatementFormatError] = []
    for index, cell in enumerate(header):
        text = cell.strip().lstrip("\ufeff")
        role = _HEADER_ROLE.get(text.lower())
        if role is None:
            if text:
                ignored.append(text)
            continue
        if role in columns:
            errors.append(
                StatementFormatError(
                    f"names the same column as '{header[columns[role]].strip()}' ({role}); keep one of them",
                    file=name, row=1, column=text,
                )
            )
            continue
        columns[role] = index
    if "date" not in columns:
        errors.append(StatementFormatError("has no date column (日期 or date)", file=name, row=1))
    has_sides = "in" in columns or "out" in columns
    if "amount" in columns and has_sides:
        errors.append(
            StatementFormatError(
                "has both a signed amount column and in/out columns; give one layout or the other", file=name, row=1
            )
        )
    elif "amount" not in columns and not has_sides:
        errors.append(
            StatementFormatError(
                "has no amount column: give 金额/amount (signed), or 收入/支出 (贷方/借方, credit/debit)", file=name, row=1
            )
        )
    return columns, ignored, errors


def _read_row(
    cells: list[str], row_number: int, header: list[str], columns: dict[str, int], name: str
) -> tuple[StatementRow | None, list[StatementFormatError]]:
    errors: list[StatementFormatError] = []

    def cell(role: str) -> str:
        index = columns.get(role)
        return cells[index].strip() if index is not None and index < len(cells) else ""

    def fail(role: str, message: str) -> None:
        errors.append(StatementFormatError(message, file=name, row=row_number, column=header[columns[role]].strip()))

    if len(cells) > len(header):
        errors.append(StatementFormatError(f"has {len(cells)} cells, the header {len(header)}", file=name, row=row_number))
    value_date = None
    try:
        value_date = _parse_date(cell("date"))
    except NotACalendarDayError as error:
        fail("date", str(error))
    else:
        if value_date is None:
            fail("date", f"{shown(cell('date'))} is not a date; write YYYY-MM-DD")
    amount_fen = _row_amount(cell, fail, columns)
    balance_fen = None
    if cell("balance"):
        try:
            balance_fen = parse_yuan(cell("balance"))
        except MoneyFormatError as error:
            fail("balance", str(error))
    if errors or value_date is None or amount_fen is None:
        return None, errors
    return StatementRow(row_number, value_date, amount_fen, cell("reference"), cell("description"), balance_fen), []


def _row_amount(cell, fail, columns: dict[str, int]) -> Fen | None:  # type: ignore[no-untyped-def]
    """The row's movement, into the account positive, from the signed column or the in/out pair."""
    parsed: dict[str, Fen] = {}
    for role in ("amount", "in", "out"):
        text = cell(role)
        if not text:
            continue
        try:
            parsed[role] = parse_yuan(text)
        except MoneyFormatError as error:
            fail(role, str(error))
            return None
    if "amount" in columns:
        if not parsed.get("amount"):
            fail("amount", "the amount is empty or zero; a statement row is a movement of money")
            return None
        return parsed["amount"]
    for role in ("in", "out"):
        if parsed.get(role, 0) < 0:
            fail(role, f"{cell(role)!r} is negative; write money in under 收入 and money out under 支出, both positive")
            return None
    money_in, money_out = parsed.get("in", 0), parsed.get("out", 0)
    if money_in and money_out:
        fail("in", "the row has money both in and out; a row is one movement")
        return None
    if not money_in and not money_out:
        fail("in" if "in" in columns else "out", "the row has no amount in either 收入 or 支出")
        return None
    return money_in or -money_out


def _parse_date(text: str) -> date | None:
    """``YYYY-MM-DD``, ``YYYY/MM/DD``, ``YYYY.MM.DD`` or ``YYYYMMDD``, with any time of day after it ignored.

    None for text in none of these forms; ``NotACalendarDayError`` for one
    that names no day (``2013-02-30``), as documents are read (ledger/dates.py).
    """
    date_text = text.split(" ")[0].split("T")[0]
    found = _DATE.match(date_text) or _COMPACT_DATE.match(date_text)
    if found is None:
        return None
    return calendar_day(int(found[1]), int(found[2]), int(found[3]), text)


def _check_order_and_balances(
    rows: Sequence[StatementRow], columns: dict[str, int], header: list[str], name: str, *, check_balances: bool
) -> list[StatementFormatError]:
    """Rows must run oldest first, and each 余额 must follow from the last one and the movements between."""
    errors: list[StatementFormatError] = []
    last_balance_fen: Fen | None = None
    moved_fen = 0
    for previous, row in zip([None, *rows], rows):
        if previous is not None and row.date < previous.date:
            errors.append(
                StatementFormatError(
                    f"dated {row.date.isoformat()}, before row {previous.row} ({previous.date.isoformat()}); "
                    "sort the statement oldest first",
                    file=name, row=row.row, column=header[columns["date"]].strip(),
                )
            )
        moved_fen += row.amount_fen
        if row.balance_fen is None or not check_balances:
            continue
        if last_balance_fen is not None and last_balance_fen + moved_fen != row.balance_fen:
            expected_fen = last_balance_fen + moved_fen
            errors.append(
                StatementFormatError(
                    f"{format_yuan(row.balance_fen)} does not follow from the balance before it and this row's amount: "
                    f"expected {format_yuan(expected_fen)}, {_too(row.balance_fen - expected_fen)}",
                    file=name, row=row.row, column=header[columns["balance"]].strip(),
                )
            )
        last_balance_fen, moved_fen = row.balance_fen, 0
    return errors


def _too(difference_fen: Fen) -> str:
    return f"too {'much' if difference_fen > 0 else 'little'} by {format_yuan(abs(difference_fen))}"


# ---------------------------------------------------------------- the book's side


def book_lines(engine: Engine, book_hex: str, account: str, since: date, through: date) -> list[BookLine]:
    """The book's movements on one account within the window, oldest first, with each document's type."""
    t, d = tables.lines, registry_documents
    query = (
        select(
            t.c.notification_id, t.c.line, t.c.effective_date, t.c.document_id, d.c.document_type,
            t.c.kind, t.c.period, t.c.voucher, t.c.version, t.c.amount_fen,
        )
        .select_from(t.outerjoin(d, d.c.document_id == t.c.document_id))
        .where(
            t.c.book_id == book_hex,
            t.c.account == account,
            t.c.effective_date >= since.isoformat(),
            t.c.effective_date <= through.isoformat(),
            t.c.kind.not_in(NOT_MOVEMENTS),
        )
        .order_by(t.c.effective_date, t.c.notification_id, t.c.line)
        .limit(MAXIMUM_BOOK_LINES + 1)
    )
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    if len(rows) > MAXIMUM_BOOK_LINES:
        raise ReconciliationError(
            f"the books hold more than {MAXIMUM_BOOK_LINES} lines on {account} between {since} and {through}; "
            "reconcile a shorter window (--from, --through)"
        )
    return [
        BookLine(
            int(r.notification_id), int(r.line), date.fromisoformat(r.effective_date), r.document_id,
            r.document_type or "", r.kind, r.period, int(r.voucher), int(r.version), int(r.amount_fen),
        )
        for r in rows
    ]


def book_balance(engine: Engine, book_hex: str, account: str, through: date) -> Fen:
    """The account's balance in the books at the end of ``through``, opening balance included."""
    return sum(
        row.balance_fen for row in queries.balances_as_of(engine, [book_hex], through) if row.account == account
    )


def reversal_pairs(engine: Engine, lines: Sequence[BookLine]) -> list[tuple[BookLine, BookLine]]:
    """Pairs (original, reversal) among these lines: a reversed document and its reversal, equal and opposite."""
    reversals = {line.document_id for line in lines if line.kind == "DocumentReversed"}
    if not reversals:
        return []
    d = registry_documents
    query = select(d.c.document_id, d.c.reversed_by).where(d.c.reversed_by.in_(sorted(reversals)))
    with engine.connect() as connection:
        reversed_by = {row.document_id: row.reversed_by for row in connection.execute(query)}
    reversal_lines: dict[str, list[BookLine]] = defaultdict(list)
    for line in lines:
        if line.kind == "DocumentReversed":
            reversal_lines[line.document_id].append(line)
    pairs: list[tuple[BookLine, BookLine]] = []
    for original in lines:
        reversal_id = reversed_by.get(original.document_id)
        if reversal_id is None or original.kind == "DocumentReversed":
            continue
        candidates = reversal_lines[reversal_id]
        for index, reversal in enumerate(candidates):
            if reversal.amount_fen == -original.amount_fen:
                pairs.append((original, candidates.pop(index)))
                break
    return pairs


# ---------------------------------------------------------------- matching


@dataclass
class Matching:
    """What ``match`` found: the pairs, the rows and lines left over, and notes on references that did not fit."""

    matched: list[Match]
    rows: list[StatementRow]
    lines: list[BookLine]
    notes: list[str]


def match(rows: Sequence[StatementRow], lines: Sequence[BookLine], tolerance_days: int) -> Matching:
    """Match statement rows with book lines one to one. Pure and deterministic.

    First by reference: a row whose reference is a document id takes that
    document's line of the same signed amount (the closest date; then the
    earlier line). Then by amount and date: every pair of a left-over row and
    a left-over line with the same signed amount and dates at most
    ``tolerance_days`` apart is a candidate; candidates are taken closest
    date first (ties: the earlier row, then the earlier line) while both are
    free. Money into the account (a positive row) can only match a debit.
    """
    matched: list[Match] = []
    notes: list[str] = []
    used_rows: set[int] = set()
    used_lines: set[int] = set()
    by_document: dict[str, list[int]] = defaultdict(list)
    for j, line in enumerate(lines):
        by_document[line.document_id].append(j)
    for i, row in enumerate(rows):
        if not row.reference or row.reference not in by_document:
            continue
        same_amount = [j for j in by_document[row.reference] if lines[j].amount_fen == row.amount_fen]
        fitting = [j for j in same_amount if j not in used_lines]
        if not fitting:
            if same_amount:
                found = f"whose line of {_signed(row.amount_fen)} is already matched with an earlier row"
            else:
                amounts = ", ".join(_signed(lines[j].amount_fen) for j in by_document[row.reference])
                found = f"whose lines on the account are {amounts}, not {_signed(row.amount_fen)}"
            notes.append(
                f"row {row.row}: reference {row.reference} names a document {found}; "
                "the row was matched by amount and date where it could be"
            )
            continue
        j = min(fitting, key=lambda j: (abs((row.date - lines[j].effective_date).days), j))
        matched.append(Match(row, lines[j], BY_REFERENCE))
        used_rows.add(i)
        used_lines.add(j)
    for i, j in _closest_pairs(rows, lines, used_rows, used_lines, tolerance_days):
        matched.append(Match(rows[i], lines[j], BY_AMOUNT_AND_DATE))
        used_rows.add(i)
        used_lines.add(j)
    matched.sort(key=lambda m: (m.statement.date, m.statement.row))
    return Matching(
        matched,
        [row for i, row in enumerate(rows) if i not in used_rows],
        [line for j, line in enumerate(lines) if j not in used_lines],
        notes,
    )


def _closest_pairs(
    rows: Sequence[StatementRow], lines: Sequence[BookLine], used_rows: set[int], used_lines: set[int], tolerance_days: int
) -> list[tuple[int, int]]:
    free_lines: dict[Fen, list[int]] = defaultdict(list)
    for j, line in enumerate(lines):
        if j not in used_lines:
            free_lines[line.amount_fen].append(j)
    candidates: list[tuple[int, int, int]] = []
    for i, row in enumerate(rows):
        if i in used_rows:
            continue
        for j in free_lines.get(row.amount_fen, ()):
            days = abs((row.date - lines[j].effective_date).days)
            if days <= tolerance_days:
                candidates.append((days, i, j))
        if len(candidates) > MAXIMUM_CANDIDATE_PAIRS:
            raise ReconciliationError(
                f"more than {MAXIMUM_CANDIDATE_PAIRS} equal amounts within {tolerance_days} days of each other; "
                "reconcile a shorter window or a smaller --date-tolerance"
            )
    candidates.sort()
    taken_rows: set[int] = set()
    taken_lines: set[int] = set()
    pairs = []
    for _days, i, j in candidates:
        if i not in taken_rows and j not in taken_lines:
            taken_rows.add(i)
            taken_lines.add(j)
            pairs.append((i, j))
    return pairs


def _signed(amount_fen: Fen) -> str:
    return f"{format_yuan(amount_fen)} in" if amount_fen > 0 else f"{format_yuan(-amount_fen)} out"


# ---------------------------------------------------------------- the whole reconciliation


def reconcile(
    engine: Engine,
    book: queries.BookRow,
    account: str,
    statement: Statement,
    *,
    since: date,
    through: date,
    tolerance_days: int = DEFAULT_DATE_TOLERANCE_DAYS,
    statement_balance_fen: Fen | None = None,
) -> Reconciliation:
    """Reconcile a statement with one bank account of one book over ``since``..``through``. Reads only.

    The statement's closing balance is ``statement_balance_fen`` when given,
    else the 余额 column's at the end of ``through``; a statement with
    neither is refused. The book balance is the projections' balance of the
    account at the end of ``through``.
    """
    if account not in BANK_ACCOUNTS:
        raise ReconciliationError(f"{account} is not a bank account; reconcile one of {', '.join(sorted(BANK_ACCOUNTS))}")
    if not 0 <= tolerance_days <= MAXIMUM_DATE_TOLERANCE_DAYS:
        raise ReconciliationError(f"the date tolerance must be 0 to {MAXIMUM_DATE_TOLERANCE_DAYS} days")
    if statement_balance_fen is not None:
        closing = (statement_balance_fen, "--statement-balance")
    else:
        closing = statement.closing_balance(through)
    if closing is None:
        raise ReconciliationError(
            f"{statement.name} gives no 余额 (balance) on or before {through.isoformat()}; "
            "give the statement's closing balance with --statement-balance"
        )
    in_window = [row for row in statement.rows if since <= row.date <= through]
    lines = book_lines(engine, book.book_id, account, since, through)
    reversed_pairs = reversal_pairs(engine, lines)
    set_aside = {(line.notification_id, line.line) for pair in reversed_pairs for line in pair}
    matching = match(in_window, [line for line in lines if (line.notification_id, line.line) not in set_aside], tolerance_days)
    return Reconciliation(
        book=f"{book.region}/{book.scheme}/{book.year}",
        account=account,
        since=since,
        through=through,
        tolerance_days=tolerance_days,
        matched=matching.matched,
        statement_receipts=[row for row in matching.rows if row.amount_fen > 0],
        statement_payments=[row for row in matching.rows if row.amount_fen < 0],
        book_receipts=[line for line in matching.lines if line.amount_fen > 0],
        book_payments=[line for line in matching.lines if line.amount_fen < 0],
        reversed_in_books=reversed_pairs,
        notes=matching.notes,
        rows_outside_window=len(statement.rows) - len(in_window),
        statement_balance_fen=closing[0],
        statement_balance_source=closing[1],
        book_balance_fen=book_balance(engine, book.book_id, account, through),
    )


# ---------------------------------------------------------------- reporting


def account_title(account: str) -> str:
    chart_account = CHART.get(account)
    return f"{account} {chart_account.name}" if chart_account else account


def adjustment_lines(result: Reconciliation) -> list[tuple[str, Fen, str, Fen]]:
    """The 余额调节表 as its four standard lines: statement side left, book side right (payments as positive amounts)."""
    return [
        ("对账单余额 statement balance", result.statement_balance_fen,
         "企业账面余额 book balance", result.book_balance_fen),
        ("加：企业已收银行未收 receipts in the books only", sum(l.amount_fen for l in result.book_receipts),
         "加：银行已收企业未收 receipts on the statement only", sum(r.amount_fen for r in result.statement_receipts)),
        ("减：企业已付银行未付 payments in the books only", -sum(l.amount_fen for l in result.book_payments),
         "减：银行已付企业未付 payments on the statement only", -sum(r.amount_fen for r in result.statement_payments)),
        ("调节后余额 adjusted statement balance", result.adjusted_statement_fen,
         "调节后余额 adjusted book balance", result.adjusted_book_fen),
    ]


def _row_json(row: StatementRow) -> dict[str, object]:
    return {
        "row": row.row,
        "date": row.date.isoformat(),
        "amount": format_yuan(row.amount_fen),
        "reference": row.reference,
        "description": row.description,
    }


def _line_json(line: BookLine) -> dict[str, object]:
    return {
        "date": line.effective_date.isoformat(),
        "voucher": f"{line.period}#{line.voucher}",
        "document_id": line.document_id,
        "document_type": line.document_type,
        "kind": line.kind,
        "version": line.version,
        "amount": format_yuan(line.amount_fen),
    }


def to_json(result: Reconciliation) -> dict[str, object]:
    """The whole reconciliation as plain JSON values; amounts are yuan text, into the account positive."""
    return {
        "book": result.book,
        "account": result.account,
        "from": result.since.isoformat(),
        "through": result.through.isoformat(),
        "date_tolerance_days": result.tolerance_days,
        "matched": [
            {"by": m.by, "days_apart": m.days_apart, "statement": _row_json(m.statement), "book": _line_json(m.book)}
            for m in result.matched
        ],
        "statement_only_receipts": [_row_json(r) for r in result.statement_receipts],
        "statement_only_payments": [_row_json(r) for r in result.statement_payments],
        "book_only_receipts": [_line_json(l) for l in result.book_receipts],
        "book_only_payments": [_line_json(l) for l in result.book_payments],
        "reversed_in_books": [{"original": _line_json(a), "reversal": _line_json(b)} for a, b in result.reversed_in_books],
        "notes": result.notes,
        "statement_rows_outside_window": result.rows_outside_window,
        "statement_balance": format_yuan(result.statement_balance_fen),
        "statement_balance_source": result.statement_balance_source,
        "book_balance": format_yuan(result.book_balance_fen),
        "adjusted_statement_balance": format_yuan(result.adjusted_statement_fen),
        "adjusted_book_balance": format_yuan(result.adjusted_book_fen),
        "difference": format_yuan(result.difference_fen),
        "agrees": result.agrees,
        "verdict": result.verdict(),
    }


CSV_COLUMNS = (
    "section", "statement_row", "statement_date", "reference", "description",
    "book_date", "voucher", "document_id", "document_type", "kind", "amount", "days_apart", "matched_by",
)


def to_csv_rows(result: Reconciliation) -> list[list[str]]:
    """The reconciliation as CSV rows (header first): one row per item, then the 余额调节表's lines."""
    rows: list[list[str]] = [list(CSV_COLUMNS)]

    def statement_cells(row: StatementRow) -> list[str]:
        return [str(row.row), row.date.isoformat(), row.reference, row.description]

    def book_cells(line: BookLine) -> list[str]:
        return [line.effective_date.isoformat(), f"{line.period}#{line.voucher}", line.document_id, line.document_type, line.kind]

    for m in result.matched:
        amount = format_yuan(m.book.amount_fen)
        rows.append(["matched", *statement_cells(m.statement), *book_cells(m.book), amount, str(m.days_apart), m.by])
    for section, items in (("银行已收企业未收", result.statement_receipts), ("银行已付企业未付", result.statement_payments)):
        rows += [[section, *statement_cells(r), "", "", "", "", "", format_yuan(r.amount_fen), "", ""] for r in items]
    for section, lines in (("企业已收银行未收", result.book_receipts), ("企业已付银行未付", result.book_payments)):
        rows += [[section, "", "", "", "", *book_cells(l), format_yuan(l.amount_fen), "", ""] for l in lines]
    for original, reversal in result.reversed_in_books:
        for line in (original, reversal):
            rows.append(["冲销 reversed in the books", "", "", "", "", *book_cells(line), format_yuan(line.amount_fen), "", ""])
    for left, left_fen, right, right_fen in adjustment_lines(result):
        rows.append(["余额调节表", "", "", "", left, "", "", "", "", "", format_yuan(left_fen), "", ""])
        rows.append(["余额调节表", "", "", "", right, "", "", "", "", "", format_yuan(right_fen), "", ""])
    rows.append(["余额调节表", "", "", "", "difference", "", "", "", "", "", format_yuan(result.difference_fen), "", ""])
    return rows
