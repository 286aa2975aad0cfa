"""Yes/no values as documents and facts write them: JSON booleans, or true/yes/1 and false/no/0 in any case."""

from __future__ import annotations

from typing import Any

WORDS = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}


def parse_flag(value: Any) -> bool | None:
    """The flag a value states, or None when it states none (the caller names the document and field)."""
    if isinstance(value, bool):
        return value
    return WORDS.get(str(value).strip().lower())
