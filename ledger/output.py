"""What the command line prints: consoles that never cut a figure, tables, CSV.

An accountant reads amounts and document ids whole, on a screen, in a file
or through a pipe. So:

- every table column holding an amount, a code, an id or a date is
  ``no_wrap``; prose columns (reasons, descriptions, sources) wrap at spaces
  and fold a word that is longer than the column: no column ever ellipsizes;
- the width is ``COLUMNS`` when it is set, the terminal's when printing to
  one, and unbounded (each table at its natural width) in a file or a pipe;
- a table that cannot fit the width without cutting a figure is printed
  wider than the width (a terminal then wraps the long lines) rather than cut.

Reports also come as JSON and CSV (``--format``): the same figures as yuan
text (``"1234.56"``), never floats.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable, Mapping, Sequence
from typing import IO, Any

from rich.console import Console, Group
from rich.measure import Measurement
from rich.table import Table

# Width for a file or a pipe when COLUMNS is not set: wide enough that every table prints at its natural width.
NATURAL_WIDTH = 10_000
# Measuring a renderable's least width is done as if the page were this wide.
MEASURE_WIDTH = 1_000_000


def width_for(stream: IO[str] | None) -> int | None:
    """The print width for a stream: ``COLUMNS`` when set, None (the terminal's) on a terminal, else unbounded."""
    columns = os.environ.get("COLUMNS", "").strip()
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    try:
        is_terminal = stream is not None and stream.isatty()
    except (ValueError, AttributeError):  # a closed or odd stream
        is_terminal = False
    return None if is_terminal else NATURAL_WIDTH


def least_width(target: Console, renderable: Any) -> int:
    """The narrowest width at which ``renderable`` prints without cutting a figure.

    For a table: every one-line (``no_wrap``) column at its widest cell, every
    prose column at its longest word, plus borders and padding. A group is as
    wide as its widest part. (Rich's own minimum lets it cut one-line columns.)
    """
    options = target.options.update_width(MEASURE_WIDTH)
    if isinstance(renderable, Group):
        return max((least_width(target, part) for part in renderable.renderables), default=0)
    if isinstance(renderable, Table):
        widths = []
        for column in renderable.columns:
            measured = renderable._measure_column(target, options, column)  # rich 15: per-column measure, header included
            widths.append(measured.maximum if column.no_wrap else measured.minimum)
        return sum(widths) + renderable._extra_width
    if isinstance(renderable, str):
        return 0
    return Measurement.get(target, options, renderable).minimum


class WholeConsole(Console):
    """A Rich console that widens itself for one print rather than cut a table's figures."""

    def print(self, *objects: Any, **kwargs: Any) -> None:  # type: ignore[override]
        if objects and all(isinstance(o, str) for o in objects):
            # A line of text is never broken inside an id or an amount: the terminal wraps it, a file keeps it whole.
            kwargs.setdefault("soft_wrap", True)
        needed = max((least_width(self, o) for o in objects), default=0)
        if needed <= self.width:
            super().print(*objects, **kwargs)
            return
        kept = self._width
        self.width = needed
        try:
            super().print(*objects, **kwargs)
        finally:
            self._width = kept


def console(file: IO[str] | None = None, *, stderr: bool = False, no_color: bool | None = None) -> WholeConsole:
    """A console for stdout, stderr or a file, at the width ``width_for`` gives."""
    import sys

    stream = file if file is not None else (sys.stderr if stderr else sys.stdout)
    return WholeConsole(file=file, stderr=stderr, width=width_for(stream), no_color=no_color)


def table(title: str | None, columns: Sequence[str], *, right: Iterable[str] = (), prose: Iterable[str] = (), **kwargs: Any) -> Table:
    """A table whose columns never ellipsize.

    ``right`` names the right-aligned columns (amounts, counts); ``prose`` the
    columns that may wrap (reasons, descriptions, sources). Every other
    column (amounts, ids, codes, dates) is kept on one line.
    """
    right, prose = set(right), set(prose)
    shown = Table(title=title, **kwargs)
    for name in columns:
        shown.add_column(name, justify="right" if name in right else "left", no_wrap=name not in prose, overflow="fold")
    return shown


def csv_text(rows: Iterable[Sequence[object]]) -> str:
    """Rows as CSV text (``\\n`` line ends); None is an empty cell, everything else its ``str``."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for row in rows:
        writer.writerow([_cell(cell) for cell in row])
    return buffer.getvalue()


def _cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def dict_rows(records: Sequence[Mapping[str, object]], columns: Sequence[str] | None = None) -> list[list[object]]:
    """Flat records as CSV rows: a header, then one row per record (nested values as JSON)."""
    import json

    if columns is None:
        columns = list(records[0]) if records else []
    rows: list[list[object]] = [list(columns)]
    for record in records:
        rows.append([
            json.dumps(value, ensure_ascii=False) if isinstance(value, (dict, list)) else value
            for value in (record.get(column) for column in columns)
        ])
    return rows
