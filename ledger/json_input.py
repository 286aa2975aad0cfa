"""Reading JSON that comes from outside: a JSON Lines document, a ``facts`` or ``postings`` cell of a CSV file.

Python's ``json`` module reads any JSON, however deep or long its numbers;
the ledger reads JSON with limits (docs/documents.md §2, "Limits"):

- nesting at most ``MAXIMUM_NESTING`` levels (a document is 1, its facts or
  journal lines 2, a journal line 3): deeper text is refused before it is
  parsed, since the parser recurses once per level;
- a JSON number reaches the ledger as the text it was written in
  (``JsonNumber``), so an amount written ``1E5`` is refused by the amount
  grammar as written with an exponent, and ``100.50`` is read exactly. Whole
  numbers of at most ``MAXIMUM_INTEGER_DIGITS`` digits are read as ``int``
  (a tier ``1``, a count ``4200``); longer ones stay text, which no field
  reads as a number;
- ``NaN`` and ``Infinity``, which are not JSON, are refused.
"""

from __future__ import annotations

import json
import re
from typing import Any

MAXIMUM_NESTING = 8
MAXIMUM_INTEGER_DIGITS = 18
_STRUCTURE = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}:]')


class JsonNumber(str):
    """A JSON number as it was written (``"1E5"``, ``"100.50"``): a ``str``, so the field that reads it decides."""


class JsonInputError(ValueError):
    """The text is not JSON the ledger reads.

    Attributes:
      message: what is wrong, in words.
      key: the top-level key under which it went wrong, when known.
      document_id: the ``id`` of the top-level object, when the text gives one.
    """

    def __init__(self, message: str, key: str | None = None, document_id: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.key = key
        self.document_id = document_id


def _integer(text: str) -> int | JsonNumber:
    return int(text) if len(text.lstrip("-")) <= MAXIMUM_INTEGER_DIGITS else JsonNumber(text)


def _constant(text: str) -> Any:
    raise JsonInputError(f"{text} is not a JSON value")


def loads(text: str) -> Any:
    """Parse ``text`` as JSON within the limits above; raise ``JsonInputError`` naming what is wrong."""
    if text.count("[") + text.count("{") > MAXIMUM_NESTING:
        _check_nesting(text)
    try:
        return json.loads(text, parse_float=JsonNumber, parse_int=_integer, parse_constant=_constant)
    except json.JSONDecodeError as error:
        raise JsonInputError(f"is not JSON: {error.msg} at character {error.pos + 1}") from None
    except RecursionError:  # a limit of the parser below MAXIMUM_NESTING: refused all the same
        raise JsonInputError(f"is nested deeper than JSON can be read here (at most {MAXIMUM_NESTING} levels)") from None


def _check_nesting(text: str) -> None:
    """Refuse text nested deeper than ``MAXIMUM_NESTING``, naming the top-level key and the id when it can.

    A scan of the structural characters outside strings, without recursion; it
    reads on after the first breach only to find the top-level ``id``.
    """
    depth = 0
    key: str | None = None
    last_string: str | None = None
    breach_key: str | None = None
    document_id: str | None = None
    expecting_id = False
    for token in _STRUCTURE.finditer(text):
        mark = token.group()
        if mark.startswith('"'):
            last_string = mark
            if expecting_id and depth == 1:
                document_id, expecting_id = _string(mark), False
            continue
        if mark == ":" and depth == 1:
            key = _string(last_string) if last_string else None
            expecting_id = key == "id"
            continue
        if mark in "[{":
            depth += 1
            if depth > MAXIMUM_NESTING and breach_key is None:
                breach_key = key or "(the document)"
        elif mark in "]}":
            depth -= 1
        expecting_id = False
    if breach_key is not None:
        raise JsonInputError(f"is nested more than {MAXIMUM_NESTING} levels deep", key=breach_key, document_id=document_id)


def _string(literal: str | None) -> str | None:
    try:
        value = json.loads(literal) if literal else None
    except json.JSONDecodeError:
        return None
    return value if isinstance(value, str) else None
