"""The voucher register (记账凭证登记簿) of a book, and the proof that its numbers run without a gap.

Every event with postings carries a 记账凭证号, numbered from 1 within its
book and the month of its effective date. The register lists one voucher per
event, read from the posting lines (``proj_lines``), in number order, and
proves each month's numbers: consecutive from 1, none missing, none used
twice, every voucher balanced.

The register is only as good as the projection it reads: a line deleted
from ``proj_lines`` shows here as a gap or an unbalanced voucher, but a
change to the events themselves is for ``ledger verify``, which recomputes
every voucher number and chain link from the stored events.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from sqlalchemy import Engine, case, func, select, tuple_

from ledger.errors import LedgerError
from ledger.money import format_yuan
from ledger.projections import tables
from ledger.registry import documents as registry_documents

Fen = int

PAGE_SIZE_VOUCHERS = 5_000
DEFAULT_REGISTER_LIMIT = 10_000
MAXIMUM_REGISTER_LIMIT = 1_000_000
# Each kind of finding is listed up to this many times; the count is always exact.
MAXIMUM_LISTED_FINDINGS = 1_000


@dataclass(frozen=True)
class Voucher:
    """One 记账凭证: one event with postings.

    Attributes:
      period: ``YYYY-MM``; number: the voucher number within the period.
      effective_date, recorded_at: the business date and the recorded time (UTC).
      document_id, document_type: the business document ("" when the registry does not know its type).
      kind: the event's class name; version: its version in the book.
      lines: how many posting lines it has in the projection.
      debit_fen, credit_fen: the totals of its lines.
    """

    period: str
    number: int
    effective_date: str
    recorded_at: str
    document_id: str
    document_type: str
    kind: str
    version: int
    lines: int
    debit_fen: Fen
    credit_fen: Fen

    @property
    def balanced(self) -> bool:
        return self.debit_fen == self.credit_fen


@dataclass
class NumberingProof:
    """What the numbers of one period show.

    Attributes:
      period: ``YYYY-MM``.
      count: how many vouchers (events) the period holds.
      last: the highest number seen.
      missing: the numbers absent between 1 and ``last``, as inclusive ranges.
      duplicates: numbers carried by more than one voucher.
      unbalanced: numbers whose debits and credits differ.
    """

    period: str
    count: int = 0
    last: int = 0
    missing: list[tuple[int, int]] = field(default_factory=list)
    duplicates: list[int] = field(default_factory=list)
    unbalanced: list[int] = field(default_factory=list)

    def add(self, number: int) -> None:
        """Fold in the next number; numbers come in ascending order, and a repeat is a duplicate."""
        if number < self.last:
            raise ValueError(f"voucher numbers must come in ascending order: #{number} after #{self.last}")
        self.count += 1
        if number == self.last:
            if (not self.duplicates or self.duplicates[-1] != number) and len(self.duplicates) < MAXIMUM_LISTED_FINDINGS:
                self.duplicates.append(number)
            return
        if number > self.last + 1 and len(self.missing) < MAXIMUM_LISTED_FINDINGS:
            self.missing.append((self.last + 1, number - 1))
        self.last = number

    @property
    def holds(self) -> bool:
        return not (self.missing or self.duplicates or self.unbalanced)

    def describe(self) -> str:
        """``vouchers 1–N, consecutive, none missing``, or the exact gaps, duplicates and unbalanced vouchers."""
        if self.count == 0:
            return f"{self.period}: no vouchers"
        if self.holds:
            span = "voucher 1" if self.last == 1 else f"vouchers 1–{self.last}"
            return f"{self.period}: {span}, consecutive, none missing"
        found = []
        if self.missing:
            found.append("missing " + ", ".join(f"#{a}" if a == b else f"#{a}–#{b}" for a, b in self.missing))
        if self.duplicates:
            found.append("used twice " + ", ".join(f"#{n}" for n in self.duplicates))
        if self.unbalanced:
            found.append("unbalanced " + ", ".join(f"#{n}" for n in self.unbalanced))
        vouchers = "1 voucher" if self.count == 1 else f"{self.count} vouchers"
        return f"{self.period}: {vouchers} numbered up to #{self.last}: " + "; ".join(found)


def check_numbers(period: str, numbers: Iterable[int]) -> NumberingProof:
    """Prove a period's voucher numbers, given in ascending order (a number may repeat): 1, 2, ... with no gap.

    Pure and streaming: it holds only the findings, however many numbers.
    """
    proof = NumberingProof(period)
    for number in numbers:
        proof.add(number)
    return proof


@dataclass
class Register:
    """A book's vouchers in one period or all of them, and the proof of each period's numbers.

    Attributes:
      vouchers: in period and number order, at most the limit.
      voucher_count: how many vouchers the periods hold.
      proofs: one per period, in period order.
    """

    vouchers: list[Voucher]
    voucher_count: int
    proofs: list[NumberingProof]

    @property
    def holds(self) -> bool:
        return all(proof.holds for proof in self.proofs)

    @property
    def complete(self) -> bool:
        return len(self.vouchers) == self.voucher_count


def voucher_register(engine: Engine, book_hex: str, period: str | None = None, limit: int = DEFAULT_REGISTER_LIMIT) -> Register:
    """The register of one book: every voucher of ``period`` (``YYYY-MM``), or of every period, with the proofs.

    The proofs cover every voucher; the list stops at ``limit``. Vouchers
    are read a page at a time, so memory stays flat for a month of a
    million claims.
    """
    if not 1 <= limit <= MAXIMUM_REGISTER_LIMIT:
        raise LedgerError(f"the limit must be 1 to {MAXIMUM_REGISTER_LIMIT} vouchers", field="limit")
    listed: list[Voucher] = []
    proofs: list[NumberingProof] = []
    count = 0
    for voucher in _vouchers(engine, book_hex, period):
        count += 1
        if len(listed) < limit:
            listed.append(voucher)
        if not proofs or proofs[-1].period != voucher.period:
            proofs.append(NumberingProof(voucher.period))
        proofs[-1].add(voucher.number)
        if not voucher.balanced and len(proofs[-1].unbalanced) < MAXIMUM_LISTED_FINDINGS:
            proofs[-1].unbalanced.append(voucher.number)
    if period is not None and not proofs:
        proofs.append(NumberingProof(period))
    return Register(listed, count, proofs)


def _vouchers(engine: Engine, book_hex: str, period: str | None) -> Iterator[Voucher]:
    """Every voucher of the book (or of one period) in (period, number, event) order, a page at a time."""
    t, d = tables.lines, registry_documents
    debit = func.sum(case((t.c.amount_fen > 0, t.c.amount_fen), else_=0))
    credit = func.sum(case((t.c.amount_fen < 0, -t.c.amount_fen), else_=0))
    keys = (t.c.period, t.c.voucher, t.c.notification_id)
    base = (
        select(
            t.c.period, t.c.voucher, t.c.notification_id, t.c.effective_date, t.c.recorded_at, t.c.document_id,
            d.c.document_type, t.c.kind, t.c.version, func.count(), debit, credit,
        )
        .select_from(t.outerjoin(d, d.c.document_id == t.c.document_id))
        .where(t.c.book_id == book_hex)
        .group_by(*keys, t.c.effective_date, t.c.recorded_at, t.c.document_id, d.c.document_type, t.c.kind, t.c.version)
        .order_by(*keys)
        .limit(PAGE_SIZE_VOUCHERS)
    )
    if period is not None:
        # The month's dates as well, so the (book, date) index finds the lines.
        base = base.where(t.c.period == period, t.c.effective_date.between(f"{period}-01", f"{period}-31"))
    after: tuple[str, int, int] | None = None
    while True:
        query = base if after is None else base.where(tuple_(*keys) > tuple_(*after))
        with engine.connect() as connection:
            page = connection.execute(query).all()
        for r in page:
            yield Voucher(
                r.period, int(r.voucher), r.effective_date, r.recorded_at, r.document_id, r.document_type or "",
                r.kind, int(r.version), int(r[9]), int(r[10]), int(r[11]),
            )
        if len(page) < PAGE_SIZE_VOUCHERS:
            return
        last = page[-1]
        after = (last.period, int(last.voucher), int(last.notification_id))


def register_to_json(register: Register, book: str) -> dict[str, object]:
    return {
        "book": book,
        "vouchers": [
            {
                "voucher": f"{v.period}#{v.number}",
                "period": v.period,
                "number": v.number,
                "date": v.effective_date,
                "recorded_at": v.recorded_at,
                "document_id": v.document_id,
                "document_type": v.document_type,
                "event": v.kind,
                "version": v.version,
                "lines": v.lines,
                "debit": format_yuan(v.debit_fen),
                "credit": format_yuan(v.credit_fen),
                "balanced": v.balanced,
            }
            for v in register.vouchers
        ],
        "voucher_count": register.voucher_count,
        "proofs": [
            {
                "period": p.period,
                "count": p.count,
                "last": p.last,
                "missing": [list(pair) for pair in p.missing],
                "duplicates": p.duplicates,
                "unbalanced": p.unbalanced,
                "holds": p.holds,
                "proof": p.describe(),
            }
            for p in register.proofs
        ],
        "holds": register.holds,
    }
