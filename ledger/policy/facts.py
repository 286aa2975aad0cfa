"""Reading the facts a rule needs, with errors that name the fact and the rule.

Each rule declares the facts it reads (``@reads(...)``). A fact the rule
does not read is refused before the rule runs, naming it and the nearest
fact the rule knows: a misspelt ``out_of_distrct`` must not post a payout
computed as if the fact were absent. Declaring beats recording what a rule
happened to read, because a rule may rightly skip an optional fact in one
branch (``approved`` on a level-1 stay) that it reads in another.
"""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from ledger.dates import DateFormatError, parse_date
from ledger.errors import DocumentFormatError, LedgerError, NonPositiveAmountError
from ledger.flags import parse_flag
from ledger.money import MoneyFormatError, parse_yuan, shown

MAXIMUM_COUNT_DIGITS = 9  # persons in one document: under a billion.

Rule = TypeVar("Rule", bound=Callable[..., Any])


class UnknownFactError(DocumentFormatError):
    """A document's facts name a fact its rule does not read (a misspelling, or a fact of another rule)."""

    rule = "only the facts the rule reads"


class UndeclaredFactError(LedgerError):
    """A rule read a fact it does not declare: a defect of the ledger, never of the document."""

    rule = "a rule reads only the facts it declares"


class Facts:
    """The ``facts`` of a business document, read one typed field at a time.

    Attributes:
      values: the facts by name (text, whole numbers, true/false), with any the caller added.
      document_id: the document they came with, for messages.
      read_by_caller: facts the caller reads itself (the engine's ``person``), allowed beside the rule's.
      read: the names read so far, so that ``reads`` can check a rule against its declaration.
    """

    def __init__(self, values: Mapping[str, Any], document_id: str | None = None, *, read_by_caller: Iterable[str] = ()) -> None:
        self.values = dict(values)
        self.document_id = document_id
        self.read_by_caller = frozenset(read_by_caller)
        self.read: set[str] = set()

    def error(self, name: str, message: str) -> DocumentFormatError:
        """A refusal naming `facts.<name>`, for rules that find a fact wrong for a reason of their own."""
        return DocumentFormatError(message, document_id=self.document_id, field=f"facts.{name}")

    def refuse_unknown(self, known: frozenset[str], rule: str) -> None:
        """Refuse the first fact (alphabetically) that neither ``rule`` nor the caller reads."""
        allowed = known | self.read_by_caller
        unknown = sorted(name for name in self.values if name not in allowed)
        if not unknown:
            return
        name = unknown[0]
        close = difflib.get_close_matches(name, sorted(allowed), n=1, cutoff=0.6)
        hint = f"did you mean '{close[0]}'? " if close else ""
        raise UnknownFactError(
            f"is not a fact that {rule} reads; {hint}its facts are {', '.join(sorted(allowed))}",
            document_id=self.document_id,
            field=f"facts.{name}",
        )

    def has(self, name: str) -> bool:
        self.read.add(name)
        return self.values.get(name) not in (None, "")

    def raw(self, name: str) -> Any:
        if not self.has(name):
            raise self.error(name, "is required by this rule")
        return self.values[name]

    def money(self, name: str, *, allow_zero: bool = True) -> int:
        """A yuan amount in fen (the grammar of ``parse_yuan``); zero allowed unless said otherwise, negatives never."""
        amount_fen = self.signed_money(name)
        if amount_fen < 0 or (amount_fen == 0 and not allow_zero):
            raise NonPositiveAmountError(f"{shown(self.raw(name))} must be positive", document_id=self.document_id, field=f"facts.{name}")
        return amount_fen

    def signed_money(self, name: str) -> int:
        """A yuan amount in fen that may be negative (a fund in deficit)."""
        try:
            return parse_yuan(self.raw(name))
        except MoneyFormatError as error:
            raise self.error(name, str(error)) from None

    def money_or(self, name: str, default_fen: int) -> int:
        return self.money(name) if self.has(name) else default_fen

    def count(self, name: str) -> int:
        text = str(self.raw(name)).strip()
        if not re.fullmatch(rf"[0-9]{{1,{MAXIMUM_COUNT_DIGITS}}}", text):
            raise self.error(name, f"{shown(text)} is not a whole number of at most {MAXIMUM_COUNT_DIGITS} digits")
        return int(text)

    def choice(self, name: str, options: Any) -> str:
        text = str(self.raw(name)).strip()
        if text not in options:
            raise self.error(name, f"{shown(text)} is not one of {', '.join(sorted(options))}")
        return text

    def flag(self, name: str, default: bool = False) -> bool:
        if not self.has(name):
            return default
        value = self.values[name]
        flag = parse_flag(value)
        if flag is None:
            raise self.error(name, f"{shown(value)} is not true or false")
        return flag

    def text(self, name: str) -> str:
        return str(self.raw(name)).strip()

    def date(self, name: str):  # type: ignore[no-untyped-def]
        """A ``YYYY-MM-DD`` date, read as documents read theirs (``ledger/dates.py``)."""
        try:
            return parse_date(self.raw(name))
        except DateFormatError as error:
            raise self.error(name, str(error)) from None


def reads(*names: str) -> Callable[[Rule], Rule]:
    """Declare the facts a rule reads (its first argument is the ``Facts``).

    Before the rule runs, any other fact is refused (``UnknownFactError``).
    After it ran, a fact it read without declaring it is a defect of the
    ledger (``UndeclaredFactError``): every rule's tests run through this
    check, so a declaration cannot fall behind the code.
    """
    known = frozenset(names)

    def declare(rule: Rule) -> Rule:
        name = f"{rule.__module__.rsplit('.', 1)[-1]}.{rule.__name__}"

        @functools.wraps(rule)
        def checked(facts: Facts, *args: Any, **kwargs: Any) -> Any:
            facts.refuse_unknown(known, name)
            facts.read = set()
            result = rule(facts, *args, **kwargs)
            undeclared = sorted(facts.read - known - facts.read_by_caller)
            if undeclared:
                raise UndeclaredFactError(
                    f"{name} read facts.{undeclared[0]} without declaring it; report this defect of the ledger",
                    document_id=facts.document_id,
                )
            return result

        checked.facts = known  # type: ignore[attr-defined]
        return checked  # type: ignore[return-value]

    return declare
