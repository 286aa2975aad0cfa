"""What a statement is: its scope, period, columns, lines and the books it came from.

Plain frozen records; computing them is ``ledger.statements.compute``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date

from ledger.aggregates.book import BookKey
from ledger.regions import region_name
from ledger.statements.errors import StatementRequestError
from ledger.statements.forms import BALANCE_SHEET, FUND_NAMES, Form, LineSpec


@dataclass(frozen=True)
class Scope:
    """What a statement covers.

    Attributes:
      region: a district's code (one book), or with ``consolidated`` a
        municipality's code.
      scheme: the fund.
      consolidated: every book of the fund whose municipality is ``region``:
        its districts' and its own.
      with_adjustment: consolidated, add the municipality's 市级调剂金 books.
    """

    region: str
    scheme: str
    consolidated: bool = False
    with_adjustment: bool = False

    @property
    def key(self) -> str:
        if not self.consolidated:
            return f"{self.region}/{self.scheme}"
        return f"{self.region}/{self.scheme}/consolidated" + ("+adjustment" if self.with_adjustment else "")

    @property
    def entity(self) -> str:
        """编制单位: the region's name (or code) and the fund."""
        name = region_name(self.region)
        where = f"{name}（{self.region}）" if name != self.region else self.region
        text = f"{where} {FUND_NAMES.get(self.scheme, self.scheme)}"
        if self.consolidated:
            text += "（全市汇总，含市级调剂金）" if self.with_adjustment else "（全市汇总）"
        return text


@dataclass(frozen=True)
class Period:
    """The period of a statement and the date its figures are taken at.

    Attributes:
      year: the fiscal year.
      month: the month of a monthly statement; None for the annual one.
      as_of: the last effective date counted, inside the period; None for
        the period's last day.
    """

    year: int
    month: int | None = None
    as_of: date | None = None

    @property
    def end(self) -> date:
        if self.as_of is not None:
            return self.as_of
        if self.month is None:
            return date(self.year, 12, 31)
        following = date(self.year + (self.month == 12), self.month % 12 + 1, 1)
        return date.fromordinal(following.toordinal() - 1)

    @property
    def start(self) -> date:
        return date(self.year, self.month or 1, 1)

    @property
    def key(self) -> str:
        return f"{self.year}-{self.month:02d}" if self.month else str(self.year)

    @property
    def label(self) -> str:
        text = f"{self.year}年{self.month}月" if self.month else f"{self.year}年度"
        return text + (f"（截至{self.as_of.isoformat()}）" if self.as_of else "")

    def previous_year_end(self) -> date:
        """The same day a year earlier (28 February for 29 February), for 上年数."""
        end = self.end
        return date(end.year - 1, end.month, min(end.day, 28) if end.month == 2 else end.day)

    def check(self) -> None:
        if self.month is not None and not 1 <= self.month <= 12:
            raise StatementRequestError(f"{self.month} is not a month: use 1 to 12", field="month")
        if self.as_of is not None and not self.start <= self.as_of:
            raise StatementRequestError(f"{self.as_of} is before the period {self.label}", field="as_of")
        if self.as_of is not None and self.as_of > Period(self.year, self.month).end:
            raise StatementRequestError(f"{self.as_of} is after the period {self.label}", field="as_of")


@dataclass(frozen=True)
class Column:
    """One column of figures: its code (also the English header of the comparison CSV) and its Chinese name."""

    code: str
    name: str


OPENING = Column("opening", "年初余额")
CLOSING = Column("closing", "期末余额")
MONTH = Column("month", "本月数")
YEAR_TO_DATE = Column("year_to_date", "本年累计数")
THIS_YEAR = Column("this_year", "本年数")
LAST_YEAR = Column("last_year", "上年数")
COLUMNS = (OPENING, CLOSING, MONTH, YEAR_TO_DATE, THIS_YEAR, LAST_YEAR)


def columns_of(form: str, period: Period) -> tuple[Column, ...]:
    if form == BALANCE_SHEET:
        return (OPENING, CLOSING)
    return (MONTH, YEAR_TO_DATE) if period.month else (THIS_YEAR, LAST_YEAR)


@dataclass(frozen=True)
class BookRef:
    """A book a statement was computed from, at the version the statement's position includes."""

    book_id: str
    region: str
    scheme: str
    year: int
    version: int
    chain_head: str

    @property
    def key(self) -> str:
        return str(BookKey(self.region, self.scheme, self.year))


@dataclass(frozen=True)
class Reopening:
    """A closed period opened again: who, when, why. Every later statement of the book lists it."""

    book: str
    period: str
    actor: str
    recorded_at: str
    reason: str
    document_id: str


@dataclass(frozen=True)
class EliminatedDocument:
    """A remittance or grant between two books of a consolidation, removed from its income and expense.

    Attributes:
      column: the column it was removed from.
      document_id: the business document.
      books: the books it posted to, all inside the scope.
      amount_fen: what it moved (removed from income and from expense alike).
    """

    column: str
    document_id: str
    books: tuple[str, ...]
    amount_fen: int


@dataclass(frozen=True)
class StatementLine:
    """One printed line: its layout and its figure in each column (None where the column leaves it blank)."""

    spec: LineSpec
    values: tuple[int | None, ...]


@dataclass(frozen=True)
class Statement:
    """An official statement as computed, every invariant having held.

    Attributes:
      form: the layout (01 or 02).
      scope, period: what it covers.
      known_on: the recorded-time bound, as UTC text, or None for everything known.
      position: the last notification id whose lines it includes.
      columns: its columns, in printed order.
      lines: its lines, in printed order.
      books: the books it was computed from (for 02's 上年数 the previous year's too).
      reopenings: every reopening of those books recorded up to the statement.
      eliminations: for a consolidated 02, the removed amounts per line (4401, 4402, 5301, 5302).
      eliminated_documents: the documents removed, per column.
      notes: notes printed under the statement.
      checks: the invariants that were checked and held.
    """

    form: Form
    scope: Scope
    period: Period
    known_on: str | None
    position: int
    columns: tuple[Column, ...]
    lines: tuple[StatementLine, ...]
    books: tuple[BookRef, ...]
    reopenings: tuple[Reopening, ...]
    eliminations: tuple[StatementLine, ...] = ()
    eliminated_documents: tuple[EliminatedDocument, ...] = ()
    notes: tuple[str, ...] = ()
    checks: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return f"{self.form.number} {self.form.title} {self.scope.key} {self.period.key}"

    @property
    def dated(self) -> str:
        """What the form prints as its date: the balance sheet's day, or the income statement's period."""
        if self.form.code != BALANCE_SHEET:
            return self.period.label
        end = self.period.end
        return f"{end.year}年{end.month}月{end.day}日"

    def value(self, code: str, column: str) -> int | None:
        index = [c.code for c in self.columns].index(column)
        for line in self.lines:
            if line.spec.code == code:
                return line.values[index]
        raise KeyError(code)

    def source_hash(self) -> str:
        """SHA-256 over the sorted books with their chain heads at the statement's position, and the position."""
        text = "".join(f"{b.book_id}:{b.version}:{b.chain_head}\n" for b in sorted(self.books, key=lambda b: b.book_id))
        return hashlib.sha256(f"{text}position:{self.position}".encode("utf-8")).hexdigest()
