"""Reconciliation (对账): a bank or fiscal-account statement against a bank account of a book, and the 余额调节表."""

from __future__ import annotations

from dataclasses import dataclass

from ledger.accounts import BANK_ACCOUNTS
from ledger.money import MoneyFormatError, parse_yuan
from ledger.reconcile import DEFAULT_DATE_TOLERANCE_DAYS, Reconciliation, Statement, reconcile as run_reconcile
from ledger.store import Ledger
from ledger.tasks.arguments import ArgumentError, check_scheme, window
from ledger.tasks.reading import current, one_book


@dataclass(frozen=True)
class ReconcileRequest:
    """Which account of which book, over which dates (``since``/``through``, ``YYYY-MM-DD`` in ``year``), how many days a
    statement date may differ in an amount match, and the statement's closing balance in yuan when its rows give no 余额.
    Checked on creation (``ArgumentError``)."""

    region: str
    scheme: str
    year: int
    account: str
    since: str | None = None
    through: str | None = None
    tolerance_days: int = DEFAULT_DATE_TOLERANCE_DAYS
    statement_balance: str | None = None

    def __post_init__(self) -> None:
        check_scheme(self.scheme)
        if self.account not in BANK_ACCOUNTS:
            raise ArgumentError(f"--account must be a bank account: {', '.join(sorted(BANK_ACCOUNTS))}")
        window(self.year, self.since, self.through)
        self.statement_balance_fen  # noqa: B018 - checks the text

    @property
    def statement_balance_fen(self) -> int | None:
        try:
            return None if self.statement_balance is None else parse_yuan(self.statement_balance)
        except MoneyFormatError as error:
            raise ArgumentError(f"--statement-balance: {error}") from None


def reconcile(ledger: Ledger, request: ReconcileRequest, statement: Statement) -> Reconciliation:
    """Match ``statement`` (already read: ``ledger.reconcile.read_statement`` or ``parse_statement``) with the book.

    Reads only. ``NotFoundError`` when the book does not exist; ``ReconciliationError`` when it cannot be reconciled.
    The result's ``agrees`` says whether the adjusted balances agree.
    """
    first, last = window(request.year, request.since, request.through)
    book = one_book(current(ledger), request.region, request.scheme, request.year)
    return run_reconcile(
        ledger.engine, book, request.account, statement,
        since=first, through=last, tolerance_days=request.tolerance_days, statement_balance_fen=request.statement_balance_fen,
    )
