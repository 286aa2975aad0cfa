"""The voucher register (记账凭证) of a book and the proof that each month's numbers run 1–N with none missing."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ledger.agency_time import local_time
from ledger.store import Ledger
from ledger.tasks.arguments import check_scheme
from ledger.tasks.reading import current, one_book
from ledger.vouchers import DEFAULT_REGISTER_LIMIT, Register, register_to_json, voucher_register


@dataclass(frozen=True)
class VoucherQuery:
    """One book's register: every month or one (``month`` 1–12), at most ``limit`` vouchers listed (the proof covers all)."""

    region: str
    scheme: str
    year: int
    month: int | None = None
    limit: int = DEFAULT_REGISTER_LIMIT

    def __post_init__(self) -> None:
        check_scheme(self.scheme)


@dataclass(frozen=True)
class BookRegister:
    """A register (amounts in fen) with its book written ``REGION/SCHEME/YEAR``."""

    book: str
    register: Register


def register(ledger: Ledger, query: VoucherQuery) -> BookRegister:
    """The register ``query`` asks for, read from the projection; ``NotFoundError`` when the book does not exist."""
    book = one_book(current(ledger), query.region, query.scheme, query.year)
    period = f"{query.year}-{query.month:02d}" if query.month else None
    return BookRegister(f"{book.region}/{book.scheme}/{book.year}", voucher_register(ledger.engine, book.book_id, period, query.limit))


def register_json(result: BookRegister) -> dict[str, Any]:
    """The register with yuan text and recorded times in the agency's zone (``ledger.vouchers.register_to_json``)."""
    shown = register_to_json(result.register, result.book)
    shown["vouchers"] = [{**v, "recorded_at": local_time(v["recorded_at"])} for v in shown["vouchers"]]  # type: ignore[attr-defined]
    return shown
