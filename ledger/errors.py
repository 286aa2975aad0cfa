"""One specific exception per broken rule, under one ``LedgerError``.

Every message names the document, the field and the rule, in words a fund
accountant uses, because the accountant is the one who has to act on it.
"""

from __future__ import annotations


class LedgerError(Exception):
    """Base of every refusal the ledger makes."""

    rule = "ledger rule"

    def __init__(self, message: str, *, document_id: str | None = None, field: str | None = None):
        self.document_id = document_id
        self.field = field
        self.message = message
        super().__init__(self.describe())

    def __reduce__(self) -> tuple:
        """Pickle as it stands: message, document, field and the text already made (another process's refusal reads the same)."""
        return (_restore, (type(self), self.args), self.__dict__)

    def for_document(self, document_id: str) -> "LedgerError":
        """Name the document, when the check that raised did not know it."""
        if self.document_id is None:
            self.document_id = document_id
            self.args = (self.describe(),)
        return self

    def describe(self) -> str:
        parts = []
        if self.document_id:
            parts.append(f"document {self.document_id}")
        if self.field:
            parts.append(f"field '{self.field}'")
        where = ", ".join(parts)
        prefix = f"{where}: " if where else ""
        return f"{prefix}{self.message} [{self.rule}]"


def _restore(kind: type, args: tuple) -> LedgerError:
    """A pickled refusal, made without calling ``__init__`` again (which would describe the description)."""
    error = kind.__new__(kind)
    error.args = args
    return error


class DocumentFormatError(LedgerError):
    """A document is missing a field, has an unknown type or an unreadable value."""

    rule = "document format"


class NonPositiveAmountError(LedgerError):
    """Every amount in a business document must be greater than zero."""

    rule = "amounts must be positive"


class FenPrecisionError(LedgerError):
    """Money is kept in whole fen; an amount had a fraction of a fen."""

    rule = "amounts in whole fen"


class UnbalancedEntryError(LedgerError):
    """Debits and credits of a book's postings did not agree."""

    rule = "debits equal credits"


class UnknownAccountError(LedgerError):
    """A posting named an account outside the chart of accounts for the scheme."""

    rule = "chart of accounts (财会〔2017〕28号)"


class TierError(LedgerError):
    """A resident book's income, expense or fund balance posting had no tier, or a tier where none belongs."""

    rule = "tiers accounted separately (不同筹资水平要分别列账核算)"


class AccountOverdrawnError(LedgerError):
    """A bank account (1001–1005) would go below zero."""

    rule = "bank accounts never below zero"


class BookLimitError(LedgerError):
    """A book's debit turnover would pass its documented limit (``postings.MAXIMUM_BOOK_TURNOVER_FEN``)."""

    rule = "book totals within their limit"


class AccountFlowError(LedgerError):
    """Money moved through the fund's bank accounts against 收支两条线."""

    rule = "account flow (财社〔2017〕144号 第39–42条)"


class SelfEntryError(LedgerError):
    """One entry debits and credits the same account and tier: it moves nothing but turnover."""

    rule = "no entry to and from the same account"


class PeriodClosedError(LedgerError):
    """A posting was dated in a year whose book is closed."""

    rule = "closed period"


class DateOutsideBookError(LedgerError):
    """A posting's effective date falls outside its book's fiscal year."""

    rule = "effective date within the book's fiscal year"


class AdministrativeCostError(LedgerError):
    """The fund pays no administrative costs (不得从基金中提取工作经费)."""

    rule = "no administrative costs from the fund (渝府发〔2007〕113号 §九)"


class DuplicateConflictError(LedgerError):
    """A document id was posted before with different content."""

    rule = "one document id, one content"


class ReversalError(LedgerError):
    """A reversal pointed at a missing document, or at one already reversed."""

    rule = "a document can be reversed once"


class ReversalDateError(ReversalError):
    """A reversal was dated before the document it reverses."""

    rule = "a reversal is dated on or after what it reverses"


class LogOrderError(LedgerError):
    """The event log holds a book's posting before the event that opened the book: the log was changed outside the ledger.

    Raised by a rebuild, which cannot key the book's fiscal account
    (财政专户) without its opening; ``ledger verify`` names what was changed.
    """

    rule = "a book is opened before it posts"


class BookNotFoundError(LedgerError):
    """A document needed a book that does not exist yet (for example, a year close of an empty year)."""

    rule = "book must exist"


class HeldOverdrawnError(LedgerError):
    """A held or clearing account would cross to its other side: more drawn than held, more settled than advanced."""

    rule = "held and clearing accounts never cross sides (渝府发〔2007〕113号 三(八); 渝办发〔2011〕293号)"


class OpeningBalancesError(LedgerError):
    """Opening balances given where a book already has postings, or with lines that are not balances."""

    rule = "opening balances open an empty book, once (会计基础工作规范: 期初余额 from the last audited balances)"


def database_reason(error: BaseException) -> str:
    """The first line of what the database driver said, for a message to a user.

    SQLAlchemy wraps a driver's error (``DBAPIError.orig``) and appends a
    "Background on this error" link meant for programmers; ``eventsourcing``
    wraps it once more. This is the driver's own first line, or the
    exception's type when it said nothing.
    """
    reason = str(getattr(error, "orig", None) or error).strip().splitlines()
    return reason[0] if reason else type(error).__name__
