"""``python -m bench.archive --sizes 5,20``: export, import and copy against same-run baselines, and their memory.

For each backend and each size (the demo generator's documents, posted once
per size into a fresh store):

1. the baseline: the raw driver reading the whole notification log
   (``bench.baselines.read_log``), and ``ledger verify`` in a child process;
2. the export of the whole store in a child process: events per second
   against the raw read, and its peak resident memory;
3. the import of that archive into a fresh store in a child: its time
   against verify's (an import proves every event and then runs the whole
   verify), and its peak memory;
4. on the last size, the copy from the SQLite store to PostgreSQL.

Times are taken inside each child, around the task alone (no interpreter start, no imports).

Peak memory at the largest size over the smallest says whether memory is
flat in the store's size (1.0 is flat; the events grow by the sizes' ratio).
Every child's peak is its own (``bench.processes.run_child``).
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import time
from dataclasses import replace
import tempfile
from pathlib import Path

from bench import baselines
from bench.processes import ChildRun, run_child
from bench.report import Report, Row
from bench.stores import Backend, PostgresBackend, SqliteBackend, postgres_url
from ledger.demo import generate_documents
from ledger.documents import read_document
from ledger.store import Ledger

EVENTS_TABLE = "ledger_events"
TASK_LINE = re.compile(r"^bench-task-seconds ([0-9.]+)$", re.MULTILINE)


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.archive", description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="5,20", help="demo generator sizes, comma-separated, smallest first")
    parser.add_argument("--backends", default="sqlite,postgres", help="comma-separated: sqlite, postgres")
    return parser.parse_args(argv)


def post_demo(url: str, size: int) -> int:
    """Post the demo generator's documents at ``size``; the number of events in the log."""
    with Ledger(url) as ledger:
        outcomes = list(ledger.post(read_document(raw, "bench") for raw in generate_documents(size=size)))
        rejected = [o for o in outcomes if o.status == "rejected"]
        if rejected:
            raise RuntimeError(f"the demo was refused: {rejected[0].error}")
        return ledger.projector.log_head()


def child(arguments: list[str], what: str) -> ChildRun:
    """Run one task (``export``, ``import``, ``copy``, ``verify`` or ``nothing``) in a child process: time and peak memory.

    The child calls the task functions the command line calls, without the
    command line itself: every ``ledger`` command imports
    ``ledger.access.users``, which hashes a dummy password with argon2 at
    import (about 64 MB and half a second), a floor that would hide what the
    task itself holds.
    """
    run = run_child([sys.executable, "-m", "bench.archive", "--child", *arguments])
    timed = TASK_LINE.search(run.output)
    if run.exit_code != 0 or timed is None:
        raise RuntimeError(f"{what} failed (exit {run.exit_code}):\n{run.output[-2000:]}")
    return replace(run, seconds=float(timed.group(1)))


def run_task(arguments: list[str]) -> None:
    """What a child runs: one task on the stores and folder named, timed from inside (no start, no imports)."""
    task, started = arguments[0], time.perf_counter()
    try:
        _run(task, arguments[1:])
    finally:
        print(f"bench-task-seconds {time.perf_counter() - started:.6f}")


def _run(task: str, arguments: list[str]) -> None:
    from ledger.tasks import archiving
    from ledger.verify import verify

    if task == "nothing":
        return
    if task == "copy":
        with Ledger(arguments[0]) as source, Ledger(arguments[1]) as target:
            archiving.copy_store(source, target)
        return
    with Ledger(arguments[0]) as ledger:
        if task == "export":
            archiving.export_archive(ledger, Path(arguments[1]), archiving.scope_of(None, None, None))
        elif task == "import":
            archiving.import_archive(ledger, Path(arguments[1]))
        elif task == "verify":
            if not verify(ledger).agrees:
                raise SystemExit("the store does not verify")


def measure(backend: Backend, sizes: list[int], folder: Path, report: Report) -> dict[int, dict[str, ChildRun]]:
    runs: dict[int, dict[str, ChildRun]] = {}
    imports_only = child(["nothing"], "imports")
    report.compare(backend.name, "peak memory of the imports alone", imports_only.peak_rss_mb, "MB", "", 0, "")
    for size in sizes:
        source = backend.fresh_store(f"source-{size}")
        events = post_demo(source, size)
        connection = backend.connect(source)
        try:
            read_rows, read_seconds = baselines.read_log(connection, backend.name, EVENTS_TABLE)
        finally:
            connection.close()
        verify = child(["verify", source], "verify")
        archive = folder / f"archive-{backend.name}-{size}"
        shutil.rmtree(archive, ignore_errors=True)
        export = child(["export", source, str(archive)], "export")
        if backend.name == "sqlite":
            target = backend.fresh_store(f"target-{size}")
        else:
            backend.remove_store(source)
            target = backend.fresh_store(f"target-{size}")
        imported = child(["import", target, str(archive)], "import")
        backend.remove_store(target)
        runs[size] = {"verify": verify, "export": export, "import": imported}
        name, at = backend.name, f"size {size}, {events:,} events"
        report.compare(name, f"export ({at})", events / export.seconds, "events/s",
                       "raw read of the log", read_rows / read_seconds, "events/s")
        report.compare(name, f"import ({at})", imported.seconds, "s", "verify", verify.seconds, "s")
        report.compare(name, f"peak memory of export ({at})", export.peak_rss_mb, "MB", "verify", verify.peak_rss_mb, "MB")
        report.compare(name, f"peak memory of import ({at})", imported.peak_rss_mb, "MB", "verify", verify.peak_rss_mb, "MB")
    small, large = runs[sizes[0]], runs[sizes[-1]]
    for kind in ("export", "import", "verify"):
        report.compare(backend.name, f"peak memory of {kind}, size {sizes[-1]}", large[kind].peak_rss_mb, "MB",
                       f"size {sizes[0]}", small[kind].peak_rss_mb, "MB", "1 is flat")
    return runs


def measure_copy(sqlite: SqliteBackend, postgres: PostgresBackend, size: int, report: Report) -> None:
    source = sqlite.fresh_store(f"copy-{size}")
    events = post_demo(source, size)
    target = postgres.fresh_store("copy-target")
    copied = child(["copy", source, target], "copy")
    postgres.remove_store(target)
    exported = child(["export", source, str(Path(source.removeprefix("sqlite:///")).with_suffix(".archive"))], "export")
    report.compare("sqlite→postgres", f"copy (size {size}, {events:,} events)", events / copied.seconds, "events/s",
                   "export alone", events / exported.seconds, "events/s")
    report.add(Row("sqlite→postgres", f"peak memory of copy (size {size})", copied.peak_rss_mb, "MB"))


def main(argv: list[str] | None = None) -> None:
    if (argv if argv is not None else sys.argv[1:])[:1] == ["--child"]:
        run_task((argv if argv is not None else sys.argv[1:])[1:])
        return
    arguments = parse_arguments(argv)
    sizes = sorted(int(size) for size in arguments.sizes.split(","))
    chosen = arguments.backends.split(",")
    report = Report()
    with tempfile.TemporaryDirectory(prefix="bench-archive-") as temporary:
        folder = Path(temporary)
        sqlite = SqliteBackend(folder)
        postgres = PostgresBackend(postgres_url()) if "postgres" in chosen else None
        if "sqlite" in chosen:
            measure(sqlite, sizes, folder, report)
        if postgres is not None:
            postgres.ensure_database()
            measure(postgres, sizes, folder, report)
            measure_copy(sqlite, postgres, sizes[-1], report)
    print(report.text())


if __name__ == "__main__":
    main()
