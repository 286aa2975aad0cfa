"""Reading business documents from JSON Lines or CSV, one record at a time.

The reader streams: it holds one line in memory, whatever the file's size.
Each record comes back with its line number, either as a validated
``Document`` or as the error that refused it, so a file with some bad lines
still posts the good ones and names every bad one. Nothing in a file, however
malformed, raises: every limit below is a refused line (docs/documents.md §2).

**Encodings.** A file is read in the encoding given (``--encoding``), else
the one its byte-order mark names (UTF-8, UTF-16 LE or BE), else its lines
with a byte above 0x7F vote: UTF-8 when at least half of them are valid
UTF-8, otherwise GB18030 (of which GBK, what Chinese Excel saves CSV in, is
a part). ASCII lines read alike in both and do not vote. The whole file
votes, not its first such line, so one damaged line near the top cannot turn
a UTF-8 file into GB18030 and every later Chinese memo into other
characters. The guess is safe because text in GBK is almost never valid
UTF-8 (a Chinese character in GBK is two bytes that break UTF-8's rules),
and because it is never silent: a line that is not valid text in the chosen
encoding is a refused line that names the encoding and says how to name
another. Reading the file twice costs little beside posting it; standard
input is first spooled to a temporary file (in memory up to 16 MiB).
"""

from __future__ import annotations

import codecs
import csv
import io
import shutil
import sys
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import IO

from ledger import json_input
from ledger.documents import ENVELOPE, SPECS, Document, read_document
from ledger.errors import DocumentFormatError, LedgerError
from ledger.money import shown

MAXIMUM_LINE_BYTES = 1 << 20
MAXIMUM_CSV_COLUMNS = 256
FORMATS = ("jsonl", "csv")
DETECTED_ENCODINGS = ("utf-8", "gb18030")
_UNREADABLE = "\udcff"  # a lone surrogate: no valid decoded text contains one.
_CHUNK_BYTES = 1 << 16
_SPOOL_IN_MEMORY_BYTES = 16 << 20

codecs.register_error("ledger.unreadable", lambda error: (_UNREADABLE, error.end))
# Cells may be as long as a line; the ledger's own limits then name the field.
csv.field_size_limit(max(csv.field_size_limit(), MAXIMUM_LINE_BYTES))
# Field names as a CSV header may spell them: any case, spaces and a stray byte-order mark around.
_FIELD_NAMES = frozenset(ENVELOPE).union(*(set(required) | set(optional) for required, optional in SPECS.values()))


@dataclass(frozen=True)
class Record:
    """One line of an input file.

    Attributes:
      line: the 1-based line number (for CSV, the row's first line in the file).
      size_bytes: how many bytes of the file it took, for progress bars.
      document: the validated document, or None when refused.
      error: the refusal, or None.
    """

    line: int
    size_bytes: int
    document: Document | None = None
    error: LedgerError | None = None


@dataclass(frozen=True)
class Line:
    """One physical line of a file, decoded, or the reason it could not be.

    Attributes:
      number: the 1-based line number.
      text: the line with its line ending, or None when unreadable.
      size_bytes: its size in the file.
      problem: why it is unreadable (completes "line N ..."), or None.
    """

    number: int
    text: str | None
    size_bytes: int
    problem: str | None = None


def guess_format(name: str) -> str:
    return "csv" if name.lower().endswith(".csv") else "jsonl"


def check_encoding(name: str | None) -> str | None:
    """The codec's canonical name, or None for "detect"; raise ``ValueError`` for a name Python does not know."""
    if name is None:
        return None
    try:
        return codecs.lookup(name).name
    except LookupError:
        raise ValueError(f"unknown encoding {name!r}; use for example utf-8, gbk, gb18030 or utf-16") from None


def read_records(
    stream: IO[str] | IO[bytes], file_format: str = "jsonl", default_actor: str = "unknown", encoding: str | None = None
) -> Iterator[Record]:
    """The records of a file: from bytes (decoded as the module says) or from text already decoded.

    Raises ``ValueError`` only for an unknown ``file_format`` or ``encoding``,
    before anything is read.
    """
    if file_format not in FORMATS:
        raise ValueError(f"unknown format {file_format!r}; use one of {', '.join(FORMATS)}")
    lines = read_lines(stream, check_encoding(encoding))
    if file_format == "csv":
        return _read_csv(lines, default_actor)
    return _read_jsonl(lines, default_actor)


# ---------------------------------------------------------------- lines


def read_lines(stream: IO[str] | IO[bytes], encoding: str | None = None) -> Iterator[Line]:
    """Physical lines, each at most ``MAXIMUM_LINE_BYTES``, decoded one by one."""
    if isinstance(stream, io.TextIOBase):
        return _text_lines(stream, first_number=1, bytes_per_character=1)
    binary: IO[bytes] = stream if hasattr(stream, "peek") else io.BufferedReader(stream)  # type: ignore[arg-type]
    head = binary.peek(4)[:4]  # type: ignore[attr-defined]
    if encoding is None and head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    if encoding is not None and "\n".encode(encoding) != b"\n":
        # UTF-16 and UTF-32: a newline is more than the byte 0x0A, so decode first and split after.
        text = io.TextIOWrapper(binary, encoding=encoding, errors="ledger.unreadable", newline="")  # type: ignore[arg-type]
        return _text_lines(text, first_number=1, bytes_per_character=2)
    if encoding is not None or head.startswith(codecs.BOM_UTF8):
        return _byte_lines(binary, encoding, "as named" if encoding else "as its byte-order mark says")
    if not binary.seekable():
        spool = tempfile.SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY_BYTES)
        shutil.copyfileobj(binary, spool)
        spool.seek(0)
        binary = spool  # type: ignore[assignment]
    decided, why = _vote(binary)
    return _byte_lines(binary, decided, why)


def _vote(binary: IO[bytes]) -> tuple[str | None, str]:
    """The encoding most of the file's non-ASCII lines are valid in, and the reason in words; the stream is rewound."""
    start = binary.tell()
    valid_utf8 = invalid_utf8 = 0
    while raw := binary.readline(MAXIMUM_LINE_BYTES + 1):
        if raw.isascii():
            continue
        try:
            raw.decode("utf-8")
            valid_utf8 += 1
        except UnicodeDecodeError:
            invalid_utf8 += 1
    binary.seek(start)
    voters = valid_utf8 + invalid_utf8
    if not voters:
        return None, "as every line is ASCII"
    if valid_utf8 * 2 >= voters:
        return "utf-8", f"as {valid_utf8:,} of its {voters:,} lines with non-ASCII text are"
    return "gb18030", f"as {invalid_utf8:,} of its {voters:,} lines with non-ASCII text are not UTF-8"


def _text_lines(stream: IO[str], first_number: int, bytes_per_character: int) -> Iterator[Line]:
    limit_characters = MAXIMUM_LINE_BYTES // bytes_per_character
    number = first_number - 1
    while line := stream.readline(limit_characters + 1):
        number += 1
        size = len(line) * bytes_per_character
        if len(line) > limit_characters and not line.endswith(("\n", "\r")):
            while rest := stream.readline(_CHUNK_BYTES):
                size += len(rest) * bytes_per_character
                if rest.endswith(("\n", "\r")):
                    break
            yield Line(number, None, size, f"is longer than {MAXIMUM_LINE_BYTES:,} bytes")
            continue
        if number == 1:
            line = line.removeprefix("\ufeff")
        if _UNREADABLE in line:
            yield Line(number, None, size, f"is not valid text in the file's encoding ({getattr(stream, 'encoding', None) or 'as given'}); name it with --encoding")
            continue
        yield Line(number, line, size)


def _byte_lines(stream: IO[bytes], encoding: str | None, why: str) -> Iterator[Line]:
    decided = encoding
    number = 0
    while raw := stream.readline(MAXIMUM_LINE_BYTES + 1):
        number += 1
        size = len(raw)
        if size > MAXIMUM_LINE_BYTES and not raw.endswith(b"\n"):
            while rest := stream.readline(_CHUNK_BYTES):
                size += len(rest)
                if rest.endswith(b"\n"):
                    break
            yield Line(number, None, size, f"is longer than {MAXIMUM_LINE_BYTES:,} bytes")
            continue
        if number == 1 and raw.startswith(codecs.BOM_UTF8) and decided in (None, "utf-8"):
            raw, decided = raw[len(codecs.BOM_UTF8):], "utf-8"
        try:
            text = raw.decode(decided or "ascii")
        except UnicodeDecodeError as error:
            yield Line(number, None, size, _undecodable(error, decided or "ascii", why))
            continue
        yield Line(number, text.removeprefix("\ufeff") if number == 1 else text, size)


def _undecodable(error: UnicodeDecodeError, encoding: str, why: str) -> str:
    return (
        f"is not valid {encoding.upper()} text (byte 0x{error.object[error.start]:02X} at byte {error.start + 1} of the line); "
        f"the file is read as {encoding.upper()}, {why}; name the file's encoding with --encoding"
    )


# ---------------------------------------------------------------- JSON Lines


def _read_jsonl(lines: Iterable[Line], default_actor: str) -> Iterator[Record]:
    for line in lines:
        if line.text is None:
            yield Record(line.number, line.size_bytes, error=DocumentFormatError(f"line {line.number} {line.problem}"))
            continue
        if not line.text.strip():
            continue
        try:
            raw = json_input.loads(line.text)
        except json_input.JsonInputError as error:
            refusal = DocumentFormatError(f"line {line.number} {error.message}", document_id=error.document_id, field=error.key)
            yield Record(line.number, line.size_bytes, error=refusal)
            continue
        if not isinstance(raw, dict):
            yield Record(line.number, line.size_bytes, error=DocumentFormatError(f"line {line.number} is not a JSON object"))
            continue
        yield _validated(line.number, line.size_bytes, raw, default_actor)


# ---------------------------------------------------------------- CSV


class _CsvLines:
    """Feeds decoded lines to ``csv.reader``, standing a blank line in for an unreadable one and remembering why."""

    def __init__(self, lines: Iterable[Line]) -> None:
        self.lines = iter(lines)
        self.unreadable: dict[int, str] = {}
        self.bytes_read = 0

    def __iter__(self) -> Iterator[str]:
        for line in self.lines:
            self.bytes_read += line.size_bytes
            if line.text is None:
                self.unreadable[line.number] = line.problem or "is unreadable"
                yield "\n"
            else:
                yield line.text


class _Header:
    """A CSV header read as the field names it gives: case, spaces and a byte-order mark do not matter.

    Attributes:
      names: the field name of each column, or "" for a column without one.
      problem: why the header cannot be used (completes "the header ..."), or None.
    """

    def __init__(self, cells: list[str]) -> None:
        self.names = [cell.strip().lstrip("\ufeff").strip().lower() for cell in cells]
        self.problem = self._problem(cells)

    def _problem(self, cells: list[str]) -> str | None:
        if len(cells) > MAXIMUM_CSV_COLUMNS:
            return f"has {len(cells)} columns; a file of documents has at most {MAXIMUM_CSV_COLUMNS}"
        if "id" not in self.names and "type" not in self.names:
            unknown = next((cell.strip() for cell, name in zip(cells, self.names) if name and name not in _FIELD_NAMES), None)
            hint = f" ({shown(unknown)} is no field name)" if unknown else ""
            return f"has neither an id nor a type column{hint}; the first row of a CSV file names the fields"
        seen: dict[str, int] = {}
        for column, name in enumerate(self.names, start=1):
            if name and name in seen:
                return f"names the field '{name}' twice (columns {seen[name]} and {column}); keep one"
            seen[name] = column
        return None


def _read_csv(lines: Iterable[Line], default_actor: str) -> Iterator[Record]:
    source = _CsvLines(lines)
    reader = csv.reader(source)
    header: _Header | None = None
    counted = 0
    while True:
        first = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            yield Record(reader.line_num, source.bytes_read - counted, error=DocumentFormatError(f"line {reader.line_num} is not CSV: {error}"))
            counted = source.bytes_read
            continue
        size, counted = source.bytes_read - counted, source.bytes_read
        unreadable = [(n, source.unreadable.pop(n)) for n in range(first, reader.line_num + 1) if n in source.unreadable]
        if unreadable:
            number, problem = unreadable[0]
            yield Record(number, size, error=DocumentFormatError(f"line {number} {problem}"))
            continue
        if not any(cell.strip() for cell in cells):
            continue  # a blank line, or a row of empty cells as spreadsheets leave them
        if header is None:
            header = _Header(cells)
            if header.problem is not None:
                yield Record(first, size, error=DocumentFormatError(f"line {first}: the header {header.problem}; no row of the file was read"))
                return
            continue
        yield _csv_row(first, size, cells, header, default_actor)


def _csv_row(number: int, size: int, cells: list[str], header: _Header, default_actor: str) -> Record:
    raw: dict[str, str] = {}
    for column, cell in enumerate(cells, start=1):
        if not cell.strip():
            continue
        if column > len(header.names):
            message = f"line {number} has a cell in column {column}, beyond the header's {len(header.names)} columns"
            return Record(number, size, error=DocumentFormatError(message))
        name = header.names[column - 1]
        if not name:
            message = f"line {number} has a cell in column {column}, which the header leaves without a name"
            return Record(number, size, error=DocumentFormatError(message))
        raw[name] = cell
    return _validated(number, size, raw, default_actor)


def _validated(number: int, size: int, raw: dict, default_actor: str) -> Record:
    try:
        return Record(number, size, document=read_document(raw, default_actor))
    except LedgerError as error:
        return Record(number, size, error=error)


def open_input(path: str) -> IO[bytes]:
    """The file's bytes (``-`` for standard input); ``read_records`` decodes them."""
    if path == "-":
        return sys.stdin.buffer
    return open(path, "rb")
