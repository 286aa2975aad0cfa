"""Money is integer fen inside and decimal yuan strings at the edges.

A float anywhere near money is a bug, so parsing refuses floats outright and
every amount must be a whole number of fen.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

Fen = int

FEN_PER_YUAN = 100
MAXIMUM_AMOUNT_FEN = 10**15  # ten trillion yuan: far above any fund, far below int64.


class MoneyFormatError(ValueError):
    """The text is not an amount of yuan in whole fen."""


def parse_yuan(value: object) -> Fen:
    """Return the number of fen in a yuan amount such as ``"1234.56"``.

    Accepts a ``str``, an ``int`` or a ``Decimal`` (JSON numbers are parsed as
    ``Decimal`` by the document reader). Refuses floats, fractions of a fen
    and anything that is not a finite number.
    """
    if isinstance(value, bool) or isinstance(value, float):
        raise MoneyFormatError(f"{value!r} is not an exact amount; write yuan as text, e.g. \"50.00\"")
    if isinstance(value, int):
        amount = Decimal(value)
    elif isinstance(value, Decimal):
        amount = value
    elif isinstance(value, str):
        text = value.strip().replace(",", "")
        try:
            amount = Decimal(text)
        except InvalidOperation:
            raise MoneyFormatError(f"{value!r} is not an amount of yuan") from None
    else:
        raise MoneyFormatError(f"{value!r} is not an amount of yuan")
    if not amount.is_finite():
        raise MoneyFormatError(f"{value!r} is not an amount of yuan")
    fen = amount * FEN_PER_YUAN
    if fen != fen.to_integral_value():
        raise MoneyFormatError(f"{value!r} is not a whole number of fen")
    if abs(fen) > MAXIMUM_AMOUNT_FEN:
        raise MoneyFormatError(f"{value!r} is larger than any fund could hold")
    return int(fen)


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
    """Round an exact fen amount to a whole fen, half up (四舍五入), as DOMAIN.md requires."""
    return int(amount_fen.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def percent_of(amount_fen: Fen, percent: Decimal) -> Fen:
    """``percent`` % of an amount, rounded half up to the fen."""
    return round_half_up_fen(Decimal(amount_fen) * percent / 100)
