"""Reading business documents from JSON Lines or CSV, one record at a time.

The reader streams: it holds one line in memory, whatever the file's size.
Each record comes back with its line number, either as a validated
``Document`` or as the error that refused it, so a file with some bad lines
still posts the good ones and names every bad one.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import IO

from ledger.documents import Document, read_document
from ledger.errors import DocumentFormatError, LedgerError

MAXIMUM_LINE_BYTES = 1 << 20
FORMATS = ("jsonl", "csv")


@dataclass(frozen=True)
class Record:
    """One line of an input file.

    Attributes:
      line: the 1-based line number (for CSV, the row's line in the file).
      size_bytes: how many bytes of the file it took, for progress bars.
      document: the validated document, or None when refused.
      error: the refusal, or None.
    """

    line: int
    size_bytes: int
    document: Document | None = None
    error: LedgerError | None = None


def guess_format(name: str) -> str:
    return "csv" if name.lower().endswith(".csv") else "jsonl"


def read_records(stream: IO[str], file_format: str = "jsonl", default_actor: str = "unknown") -> Iterator[Record]:
    if file_format == "csv":
        return _read_csv(stream, default_actor)
    if file_format == "jsonl":
        return _read_jsonl(stream, default_actor)
    raise ValueError(f"unknown format {file_format!r}; use one of {', '.join(FORMATS)}")


def _read_jsonl(stream: IO[str], default_actor: str) -> Iterator[Record]:
    for number, line in enumerate(stream, start=1):
        size = len(line.encode("utf-8"))
        if not line.strip():
            continue
        if size > MAXIMUM_LINE_BYTES:
            yield Record(number, size, error=DocumentFormatError(f"line {number} is longer than 1 MiB"))
            continue
        try:
            raw = json.loads(line, parse_float=Decimal)
        except json.JSONDecodeError as error:
            yield Record(number, size, error=DocumentFormatError(f"line {number} is not JSON: {error.msg}"))
            continue
        if not isinstance(raw, dict):
            yield Record(number, size, error=DocumentFormatError(f"line {number} is not a JSON object"))
            continue
        yield _validated(number, size, raw, default_actor)


def _read_csv(stream: IO[str], default_actor: str) -> Iterator[Record]:
    reader = csv.DictReader(stream)
    for row in reader:
        size = _approximate_row_bytes(row)
        number = reader.line_num
        if None in row:
            yield Record(number, size, error=DocumentFormatError(f"line {number} has more cells than the header"))
            continue
        raw = {key.strip(): value for key, value in row.items() if key and value not in (None, "")}
        yield _validated(number, size, raw, default_actor)


def _approximate_row_bytes(row: dict[str | None, object]) -> int:
    return sum(len(str(value).encode("utf-8")) + 1 for value in row.values())


def _validated(number: int, size: int, raw: dict, default_actor: str) -> Record:
    try:
        return Record(number, size, document=read_document(raw, default_actor))
    except LedgerError as error:
        return Record(number, size, error=error)


def open_text(path: str) -> IO[str]:
    if path == "-":
        return io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8-sig", newline="")
    return open(path, encoding="utf-8-sig", newline="")
