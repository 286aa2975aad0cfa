"""The refusals of the statements package, under the ledger's one ``LedgerError``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ledger.errors import LedgerError
from ledger.money import format_yuan


class StatementRequestError(LedgerError):
    """A statement was asked for a scope or period the books cannot give: no such book, a date outside the period."""

    rule = "statement request"


@dataclass(frozen=True)
class InvariantFailure:
    """One broken invariant of one statement, with both figures.

    Attributes:
      statement: the form and scope, e.g. ``会社保01表 资产负债表 500101/resident 2013``.
      invariant: the rule in words, e.g. ``资产合计 = 负债和基金合计``.
      column: the column it failed in (期末余额, 本年累计数, ...), or the book for a per-book check.
      left_name, left_fen: the figure on the rule's left.
      right_name, right_fen: the figure it should equal.
      message: said instead of the two figures, where they are not the point.
    """

    statement: str
    invariant: str
    column: str
    left_name: str
    left_fen: int
    right_name: str
    right_fen: int
    message: str = ""

    def describe(self) -> str:
        if self.message:
            return f"{self.statement}: {self.invariant} fails in {self.column}: {self.message}"
        difference_fen = self.left_fen - self.right_fen
        return (
            f"{self.statement}: {self.invariant} fails in {self.column}: {self.left_name} {format_yuan(self.left_fen)} "
            f"≠ {self.right_name} {format_yuan(self.right_fen)} (difference {format_yuan(difference_fen)})"
        )


class StatementInvariantError(LedgerError):
    """A statement's own arithmetic or the books' rules did not hold, so the statement is not given.

    Every failure is collected and named, so one run shows them all.
    """

    rule = "statement invariant"

    def __init__(self, failures: Sequence[InvariantFailure]):
        self.failures = tuple(failures)
        super().__init__("; ".join(failure.describe() for failure in self.failures))


class PublishedStatementError(LedgerError):
    """A published statement file that cannot be read in the documented layout (docs/statements.md)."""

    rule = "published statement layout"


class IssueError(LedgerError):
    """A statement could not be issued or an issue could not be found."""

    rule = "statement issue"
