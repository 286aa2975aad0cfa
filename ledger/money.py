"""Money is integer fen inside and decimal yuan strings at the edges.

A float anywhere near money is a bug, so parsing refuses floats outright and
every amount must be a whole number of fen.

Every amount the ledger reads — a document's amount, a journal line, a money
fact, a CSV cell, a bank statement, a published statement — goes through
``parse_yuan`` and so through one grammar (docs/documents.md §3, "Amounts"):

    amount   = [ "-" ] integer [ "." fraction ]
    integer  = "0" | 1–14 digits not starting with 0
             | 1–3 digits not starting with 0, then 1–4 groups of "," and 3 digits
    fraction = 1 or 2 digits

with ASCII digits only. Full-width digits, point, comma and minus (what a
Chinese input method types in full-width mode: ０-９ ． ， －) are folded to
ASCII first; spaces around the amount are removed. Everything else is
refused with a message saying what is wrong: an exponent (``1.23457E+11``,
Excel's display of a number too wide for its cell), an underscore, a comma
outside a group of three (``1,23``: a decimal comma, or a misplaced one),
other digit systems, more than two decimals, more than 14 digits before the
point. The sign is part of the grammar; a caller for whom money only comes
in one direction refuses a negative with its own rule and message.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal

Fen = int

FEN_PER_YUAN = 100
MAXIMUM_AMOUNT_FEN = 10**15  # ten trillion yuan: far above any fund, far below int64.
MAXIMUM_INTEGER_DIGITS = 14  # ten trillion yuan is 14 digits before the point.
MAXIMUM_AMOUNT_CHARACTERS = 32  # the longest amount of the grammar is 22 characters; longer text is not read at all.

AMOUNT_GRAMMAR = re.compile(
    r"-?(?P<integer>0|[1-9][0-9]{0,13}|[1-9][0-9]{0,2}(?:,[0-9]{3}){1,4})(?:\.(?P<fraction>[0-9]{1,2}))?"
)
# Full-width forms (U+FF10–FF19 digits, U+FF0E point, U+FF0C comma, U+FF0D minus) fold to ASCII.
FULL_WIDTH = str.maketrans({**{chr(0xFF10 + digit): str(digit) for digit in range(10)}, "．": ".", "，": ",", "－": "-"})
_EXPONENT = re.compile(r"[-+]?[0-9.,]*[0-9][eE][-+]?[0-9]+")
_MANY_DECIMALS = re.compile(r"-?[0-9,]+\.(?P<fraction>[0-9]{3,})")


class MoneyFormatError(ValueError):
    """The text is not an amount of yuan in whole fen."""


class FenFractionError(MoneyFormatError):
    """The amount has a fraction of a fen (``"12.345"``)."""


def shown(value: object, limit: int = 40) -> str:
    """``repr(value)``, cut to about ``limit`` characters, for messages that quote what was sent."""
    if isinstance(value, str) and len(value) > limit:
        return repr(value[:limit]) + f"… ({len(value):,} characters)"
    text = repr(value) if not isinstance(value, int) or abs(value) < 10**limit else f"a number of more than {limit} digits"
    return text if len(text) <= limit + 2 else text[:limit] + "…"


def parse_yuan(value: object) -> Fen:
    """Return the number of fen in a yuan amount such as ``"1234.56"``.

    Accepts a ``str`` in the grammar above (JSON numbers reach it as the text
    they were written in, see ``ledger/json_input.py``), an ``int`` (whole
    yuan) or a ``Decimal`` (from code). Refuses floats, booleans, fractions
    of a fen, amounts above ``MAXIMUM_AMOUNT_FEN`` and any text outside the
    grammar, raising ``MoneyFormatError`` (``FenFractionError`` for a
    fraction of a fen) whose message quotes the value and says what is wrong.
    """
    if isinstance(value, (bool, float)):
        raise MoneyFormatError(f"{value!r} is not an exact amount; write yuan as text, e.g. \"50.00\"")
    if isinstance(value, int):
        if abs(value) > MAXIMUM_AMOUNT_FEN // FEN_PER_YUAN:
            raise MoneyFormatError(f"{shown(value)} is larger than any fund could hold")
        return value * FEN_PER_YUAN
    if isinstance(value, Decimal):
        return _decimal_fen(value)
    if isinstance(value, str):
        return _text_fen(value)
    raise MoneyFormatError(f"{shown(value)} is not an amount of yuan")


def _decimal_fen(value: Decimal) -> Fen:
    if not value.is_finite() or abs(value) > Decimal(MAXIMUM_AMOUNT_FEN) / FEN_PER_YUAN:
        raise MoneyFormatError(f"{shown(value)} is not an amount of yuan a fund could hold")
    fen = value * FEN_PER_YUAN
    if fen != fen.to_integral_value():
        raise FenFractionError(f"{shown(value)} is not a whole number of fen")
    return int(fen)


def _text_fen(value: str) -> Fen:
    text = value.strip().translate(FULL_WIDTH)
    if len(text) > MAXIMUM_AMOUNT_CHARACTERS:
        raise MoneyFormatError(
            f"{shown(value)} is too long for an amount: at most {MAXIMUM_INTEGER_DIGITS} digits before the point"
        )
    found = AMOUNT_GRAMMAR.fullmatch(text)
    if found is None:
        raise _refusal(value, text)
    integer = found["integer"].replace(",", "")
    fraction = (found["fraction"] or "").ljust(2, "0")
    fen = int(integer + fraction) * (-1 if text.startswith("-") else 1)
    if abs(fen) > MAXIMUM_AMOUNT_FEN:
        raise MoneyFormatError(f"{shown(value)} is larger than any fund could hold")
    return fen


def _refusal(value: str, text: str) -> MoneyFormatError:
    """Say what is wrong with text outside the grammar, most specific reason first."""
    quoted = shown(value)
    many = _MANY_DECIMALS.fullmatch(text)
    if many is not None and AMOUNT_GRAMMAR.fullmatch(text[: many.start("fraction") + 2]) is not None:
        if many["fraction"][2:].strip("0"):
            return FenFractionError(f"{quoted} is not a whole number of fen: write at most two decimals")
        return MoneyFormatError(f"{quoted} has more than two decimals: write at most two, e.g. \"12.30\"")
    if _EXPONENT.fullmatch(text):
        return MoneyFormatError(
            f"{quoted} is written with an exponent (as a spreadsheet shows a number too wide for its cell); "
            "write every digit, e.g. \"123456789012.34\""
        )
    if "_" in text:
        return MoneyFormatError(f"{quoted} has an underscore; write digits only, e.g. \"1234567.89\"")
    if any(character.isdigit() and not "0" <= character <= "9" for character in text):
        return MoneyFormatError(f"{quoted} has digits other than 0–9; write the amount in ASCII digits")
    if "," in text:
        return MoneyFormatError(
            f"{quoted} has a comma that is not a thousands separator: commas may only separate groups of three "
            "digits before the point (\"1,234,567.89\"), and a comma is never a decimal point"
        )
    digits = sum(character.isdigit() for character in text.split(".")[0])
    if digits > MAXIMUM_INTEGER_DIGITS:
        return MoneyFormatError(f"{quoted} has more than {MAXIMUM_INTEGER_DIGITS} digits before the point: larger than any fund could hold")
    if re.fullmatch(r"-?0[0-9]+(\.[0-9]*)?", text):
        return MoneyFormatError(f"{quoted} starts with a zero; write the amount without leading zeros")
    return MoneyFormatError(f"{quoted} is not an amount of yuan: write digits with at most one point and two decimals, e.g. \"1234.56\"")


def format_yuan(amount_fen: Fen) -> str:
    """Return ``"1234.56"`` for 123456 fen; negative amounts keep their sign."""
    sign = "-" if amount_fen < 0 else ""
    whole, fen = divmod(abs(amount_fen), FEN_PER_YUAN)
    return f"{sign}{whole}.{fen:02d}"


def format_yuan_grouped(amount_fen: Fen) -> str:
    """Return ``"1,234.56"``: for screens, never for files read back."""
    sign = "-" if amount_fen < 0 else ""
    whole, fen = divmod(abs(amount_fen), FEN_PER_YUAN)
    return f"{sign}{whole:,}.{fen:02d}"


def allocate(total_fen: Fen, weights: list[int]) -> list[Fen]:
    """Split ``total_fen`` in proportion to ``weights`` without losing a fen.

    Largest-remainder allocation: each part gets the floor of its exact share,
    and the fen left over go one each to the parts with the largest
    remainders (ties to the earlier part), so the parts always sum to the whole.
    """
    if not weights or any(w < 0 for w in weights) or sum(weights) == 0:
        raise ValueError("weights must be non-negative and not all zero")
    weight_total = sum(weights)
    floors = [total_fen * w // weight_total for w in weights]
    remainders = [total_fen * w % weight_total for w in weights]
    left_over = total_fen - sum(floors)
    by_remainder = sorted(range(len(weights)), key=lambda i: (-remainders[i], i))
    for index in by_remainder[:left_over]:
        floors[index] += 1
    return floors


def round_half_up_fen(amount_fen: Decimal) -> Fen:
    """Round an exact fen amount to a whole fen, half up (四舍五入), as docs/policy.md states for every computed amount."""
    return int(amount_fen.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def percent_of(amount_fen: Fen, percent: Decimal) -> Fen:
    """``percent`` % of an amount, rounded half up to the fen."""
    return round_half_up_fen(Decimal(amount_fen) * percent / 100)
