"""The bench's output: one table of figures with their baselines and ratios, and the JSON file.

The table is printed as an aligned Markdown table, so what ``make bench``
prints can be pasted into ``docs/performance.md`` as it is. A target is
printed beside its ratio, never checked: the bench measures, it does not
pass or fail.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

HEADERS = ("backend", "measurement", "figure", "baseline (same run)", "ratio", "target")


@dataclass(frozen=True)
class Row:
    """One printed line.

    Attributes:
      backend: ``sqlite`` or ``postgres``.
      measurement: what was measured, in words.
      value, unit: the figure.
      baseline_label, baseline_value, baseline_unit: what it is compared with, if anything.
      ratio: value ÷ baseline_value (or as the row says).
      target: issue 5's target for the ratio or the figure, as text; printed, not checked.
    """

    backend: str
    measurement: str
    value: float | None
    unit: str
    baseline_label: str = ""
    baseline_value: float | None = None
    baseline_unit: str = ""
    ratio: float | None = None
    target: str = ""


@dataclass
class Report:
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)

    def add(self, row: Row) -> None:
        self.rows.append(row)

    def compare(self, backend: str, measurement: str, value: float, unit: str,
                baseline_label: str, baseline_value: float, baseline_unit: str, target: str = "") -> None:
        ratio = value / baseline_value if baseline_value else None
        self.add(Row(backend, measurement, value, unit, baseline_label, baseline_value, baseline_unit, ratio, target))

    def note(self, text: str) -> None:
        self.notes.append(text)

    def table(self) -> str:
        cells = [HEADERS] + [_cells(row) for row in self.rows]
        widths = [max(len(line[column]) for line in cells) for column in range(len(HEADERS))]
        right = {2, 4}

        def line(values: tuple[str, ...]) -> str:
            padded = [value.rjust(widths[i]) if i in right else value.ljust(widths[i]) for i, value in enumerate(values)]
            return "| " + " | ".join(padded) + " |"

        rule = "|" + "|".join(("-" * (width + 1) + ":" if i in right else "-" * (width + 2)) for i, width in enumerate(widths)) + "|"
        return "\n".join([line(cells[0]), rule, *(line(values) for values in cells[1:])])

    def text(self) -> str:
        notes = "\n".join(f"- {note}" for note in self.notes)
        return self.table() + ("\n\nNotes:\n" + notes if notes else "")

    def write_json(self, path: Path) -> None:
        payload = {"figures": self.figures, "rows": [asdict(row) for row in self.rows], "notes": self.notes}
        path.write_text(json.dumps(payload, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")


def _cells(row: Row) -> tuple[str, ...]:
    baseline = ""
    if row.baseline_label:
        baseline = row.baseline_label + (f" {number(row.baseline_value)} {row.baseline_unit}".rstrip() if row.baseline_value is not None else "")
    figure = "n/a" if row.value is None else f"{number(row.value)} {row.unit}".rstrip()
    ratio = "" if row.ratio is None else f"{row.ratio:.3g}"
    return (row.backend, row.measurement, figure, baseline, ratio, row.target)


def number(value: float | None) -> str:
    """Thousands grouped above 100, three significant figures below."""
    if value is None:
        return "n/a"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}"
