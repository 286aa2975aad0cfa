"""``python -m bench.stored_reads --size N``: what proving links over the stored form costs against the library's read.

``verify``, ``rebuild`` and ``trace`` read a book's events with
``ledger.stored.read_events``, which gives each domain event with its stored
form (docs/operations.md, Upgrading). The baseline, measured in the same
run on the same SQLite store, is the library's ``app.events.get`` of the
same events. Both are timed reading every book of a demo province whole,
alternately, ``REPEATS`` times; the best of each is compared. The second
measurement forces the second decoding every upcast event takes
(``stored_fields``), the price a store pays for events of an older shape.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from ledger import stored
from ledger.demo import generate_documents
from ledger.documents import read_document
from ledger.store import Ledger
from ledger.verify import book_ids

REPEATS = 5


def best_seconds(measure: Callable[[], int], repeats: int) -> tuple[float, int]:
    """The fastest of ``repeats`` runs, and the events the run read."""
    times, count = [], 0
    for _ in range(repeats):
        started = time.perf_counter()
        count = measure()
        times.append(time.perf_counter() - started)
    return min(times), count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.stored_reads", description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=10, help="demo generator size")
    arguments = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder, Ledger(f"sqlite:///{Path(folder) / 'bench.db'}") as ledger:
        documents = [read_document(raw, "bench") for raw in generate_documents(arguments.size)]
        list(ledger.post(documents))
        books = list(book_ids(ledger.app))

        def library() -> int:
            return sum(len(list(ledger.app.events.get(book))) for book in books)

        def stored_form() -> int:
            return sum(len(stored.read_events(ledger.app, book)) for book in books)

        def decoded_twice() -> int:
            as_stored = stored._as_stored
            stored._as_stored = lambda *args: False  # type: ignore[assignment]
            try:
                return stored_form()
            finally:
                stored._as_stored = as_stored  # type: ignore[assignment]

        figures = {}
        for _ in range(2):  # alternate, so a slower moment of the machine falls on both
            for name, measure in (("library", library), ("stored form", stored_form), ("decoded twice", decoded_twice)):
                seconds, events = best_seconds(measure, REPEATS)
                figures[name] = min(figures.get(name, seconds), seconds)
        base = figures["library"]
        print(f"{events:,} book events, {len(books)} books, best of {2 * REPEATS} reads each (SQLite)")
        for name, seconds in figures.items():
            print(f"{name:14} {events / seconds:12,.0f} events/s   {seconds / base:5.2f} × the library's read")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
