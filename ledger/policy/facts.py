"""Reading the facts a rule needs, with errors that name the fact and the rule."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ledger.errors import DocumentFormatError, NonPositiveAmountError
from ledger.flags import parse_flag
from ledger.money import MoneyFormatError, parse_yuan


class Facts:
    """The ``facts`` of a business document, read one typed field at a time."""

    def __init__(self, values: Mapping[str, Any], document_id: str | None = None) -> None:
        self.values = dict(values)
        self.document_id = document_id

    def error(self, name: str, message: str) -> DocumentFormatError:
        """A refusal naming `facts.<name>`, for rules that find a fact wrong for a reason of their own."""
        return DocumentFormatError(message, document_id=self.document_id, field=f"facts.{name}")

    def has(self, name: str) -> bool:
        return self.values.get(name) not in (None, "")

    def raw(self, name: str) -> Any:
        if not self.has(name):
            raise self.error(name, "is required by this rule")
        return self.values[name]

    def money(self, name: str, *, allow_zero: bool = True) -> int:
        """A yuan amount in fen; zero allowed unless said otherwise, negatives never."""
        try:
            amount_fen = parse_yuan(self.raw(name))
        except MoneyFormatError as error:
            raise self.error(name, str(error)) from None
        if amount_fen < 0 or (amount_fen == 0 and not allow_zero):
            raise NonPositiveAmountError(f"{self.raw(name)!r} must be positive", document_id=self.document_id, field=f"facts.{name}")
        return amount_fen

    def money_or(self, name: str, default_fen: int) -> int:
        return self.money(name) if self.has(name) else default_fen

    def count(self, name: str) -> int:
        text = str(self.raw(name)).strip()
        if not text.isdigit():
            raise self.error(name, f"{text!r} is not a whole number")
        return int(text)

    def choice(self, name: str, options: Any) -> str:
        text = str(self.raw(name)).strip()
        if text not in options:
            raise self.error(name, f"{text!r} is not one of {', '.join(sorted(options))}")
        return text

    def flag(self, name: str, default: bool = False) -> bool:
        if not self.has(name):
            return default
        value = self.values[name]
        flag = parse_flag(value)
        if flag is None:
            raise self.error(name, f"{value!r} is not true or false")
        return flag

    def text(self, name: str) -> str:
        return str(self.raw(name)).strip()
