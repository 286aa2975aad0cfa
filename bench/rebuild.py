"""``python -m bench.rebuild --db URL [--rounds N] [--base PATH]``: rebuild ÷ raw read of the log, in wall and CPU seconds.

On a store already posted (``ledger demo --size 80 --db URL``, or the
bench's own), each round runs one fresh process per version of the ledger:
the raw read of the log as ``make bench`` reads it (``baselines.read_log``,
the fastest of three), then one ``Projector.rebuild``, timing the wall
clock and the CPU seconds of the process and of the database's server
backends (``bench.cpu.cpu_seconds``; PostgreSQL on this machine). With
``--base PATH`` (a base commit unpacked by ``git archive BASE ledger |
tar -x -C PATH``) the base and the working tree run in turn, A B then B A,
so a shared machine's load falls on both alike, and the rebuild times are
compared pair by pair. A rebuild replaces the projections only; the events
are not touched, so every run rebuilds the same log. Prints medians, the
load average and each run's ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

RAW_READS = 3


def one_run(url: str) -> dict[str, Any]:
    """The raw read (fastest of ``RAW_READS``) and one rebuild in this process."""
    from bench import baselines
    from bench.cpu import cpu_seconds
    from bench.stores import PostgresBackend, SqliteBackend
    from ledger.store import Ledger

    postgres = make_url(url).get_backend_name() == "postgresql"
    backend: Any = PostgresBackend(url) if postgres else SqliteBackend(Path("."))
    with Ledger(url) as ledger:
        connection = backend.connect(url)
        try:
            table = getattr(ledger.app.recorder, "events_table_name", "ledger_events")
            rows, read_seconds = min((baselines.read_log(connection, backend.name, table) for _ in range(RAW_READS)), key=lambda r: r[1])
        finally:
            connection.close()
        ledger.projector.position()  # a pooled connection first, so its server backend is counted before and after
        before = cpu_seconds(ledger)
        started = time.perf_counter()
        events = ledger.projector.rebuild()
        seconds = time.perf_counter() - started
        after = cpu_seconds(ledger)
    return {
        "events": events, "rebuild_seconds": seconds, "rebuild_cpu_seconds": after[0] - before[0],
        "rebuild_server_cpu_seconds": after[1] - before[1], "raw_rows": rows, "raw_seconds": read_seconds,
        "ratio": read_seconds / seconds, "load": os.getloadavg()[0], "ledger": str(Path(sys.modules["ledger"].__file__ or "").parent),
    }


def run_in_child(url: str, code: str | None) -> dict[str, Any]:
    """``one_run`` in a fresh interpreter, its ``ledger`` package imported from ``code`` (else from this tree)."""
    here = str(Path(__file__).resolve().parent.parent)
    # The version's ledger is imported first, from its folder; bench (this module) then from this tree.
    child = (
        f"import sys; sys.path[:0] = [{code or here!r}]; import ledger; sys.path.insert(0, {here!r}); "
        "from bench.rebuild import main; sys.exit(main(sys.argv[1:]))"
    )
    done = subprocess.run([sys.executable, "-c", child, "--db", url, "--one"], cwd=here, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def summary(name: str, runs: list[dict[str, Any]]) -> str:
    def median(key: str) -> float:
        return statistics.median(run[key] for run in runs)

    events, rows = runs[0]["events"], runs[0]["raw_rows"]
    return (
        f"{name}: rebuild {median('rebuild_seconds'):.3f} s ({events / median('rebuild_seconds'):,.0f} events/s; CPU "
        f"{median('rebuild_cpu_seconds'):.3f} s here + {median('rebuild_server_cpu_seconds'):.3f} s server), raw read "
        f"{median('raw_seconds'):.3f} s ({rows / median('raw_seconds'):,.0f} rows/s); rebuild ÷ raw read: median "
        f"{median('ratio'):.3f}, runs {[round(run['ratio'], 3) for run in runs]}; load {[round(run['load'], 1) for run in runs]}; "
        f"ledger from {runs[0]['ledger']}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.rebuild", description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, help="the posted store's URL")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--base", help="a folder holding a base version's ledger/ package, run in turn with this one")
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    arguments = parser.parse_args(argv)
    if arguments.one:
        print(json.dumps(one_run(arguments.db)))
        return 0
    url = make_url(arguments.db)
    if url.get_backend_name() == "sqlite" and url.database and not Path(url.database).is_absolute():
        arguments.db = url.set(database=str(Path(url.database).resolve())).render_as_string(hide_password=False)
    versions = {"this tree": None} if arguments.base is None else {"base": arguments.base, "this tree": None}
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in versions}
    for round_number in range(arguments.rounds):
        order = list(versions.items()) if round_number % 2 == 0 else list(reversed(versions.items()))
        for name, code in order:
            runs[name].append(run_in_child(arguments.db, code))
    for name, done in runs.items():
        print(summary(name, done))
    if arguments.base is not None:
        pairs = [tree["rebuild_seconds"] / base["rebuild_seconds"] for tree, base in zip(runs["this tree"], runs["base"])]
        print(f"this tree ÷ base, rebuild seconds pair by pair: {[round(pair, 2) for pair in pairs]}, median {statistics.median(pairs):.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
