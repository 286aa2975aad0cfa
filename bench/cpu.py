"""``python -m bench.cpu --size N --backend postgres|sqlite``: posting and rebuild in CPU seconds, for a busy machine.

On a machine whose cores are shared, wall-clock rates measure the queue
for the CPU more than the ledger. This posts the demo file at ``--size``
in-process (``read_records`` then ``Ledger.post``, as ``ledger post`` does)
on a fresh store, then rebuilds the
projections, and prints each step's wall time and the CPU seconds it
used: this process's own (``getrusage``) and, on PostgreSQL, those of the
server backends of the bench database (``/proc/PID/stat``, so the server
must run on this machine). Rates per CPU second compare two versions of
the ledger run one after the other, e.g. a base commit unpacked into a
folder against the working tree. The base runs from its own folder:
``python -m`` puts the current folder first on the path, before
``PYTHONPATH``, so ``PYTHONPATH=/tmp/base`` alone would time the working tree:

    mkdir /tmp/base && git archive BASE ledger bench | tar -x -C /tmp/base
    (cd /tmp/base && $OLDPWD/.venv/bin/python -m bench.cpu --size 20 --backend postgres)
    .venv/bin/python -m bench.cpu --size 20 --backend postgres

PostgreSQL is reached at ``LEDGER_BENCH_POSTGRES``, whose ``ledger_*``,
``proj_*`` and ``bench_*`` tables are dropped first.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import text

from bench.stores import PostgresBackend, SqliteBackend, postgres_url
from ledger.demo import generate_documents
from ledger.reader import read_records
from ledger.store import Ledger

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(ledger: Ledger) -> tuple[float, float]:
    """(this process's user + system seconds, the database's server backends' user + system seconds)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    server = 0.0
    if ledger.engine.dialect.name == "postgresql":
        with ledger.engine.connect() as connection:
            pids = [row[0] for row in connection.execute(text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()"))]
        for pid in pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue  # a backend that ended meanwhile
            server += (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    return usage.ru_utime + usage.ru_stime, server


def timed(ledger: Ledger, step: Any) -> tuple[Any, float, float, float]:
    """Run ``step()``: its result, wall seconds, this process's CPU seconds, the server's CPU seconds."""
    before = cpu_seconds(ledger)
    started = time.perf_counter()
    result = step()
    seconds = time.perf_counter() - started
    after = cpu_seconds(ledger)
    return result, seconds, after[0] - before[0], after[1] - before[1]


def post_file(ledger: Ledger, file: Path) -> list[Any]:
    """Read and post the file as ``ledger post`` does (``read_records`` then ``Ledger.post``)."""
    with file.open(encoding="utf-8") as stream:
        records = read_records(stream, "jsonl", "bench")
        return list(ledger.post(record.document for record in records if record.document is not None))


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.cpu", description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=20)
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="postgres")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ledger-cpu-") as folder:
        file = Path(folder) / "province.jsonl"
        file.write_text("".join(json.dumps(raw, ensure_ascii=False) + "\n" for raw in generate_documents(size=arguments.size)),
                        encoding="utf-8")
        if arguments.backend == "postgres":
            backend: Any = PostgresBackend(postgres_url())
            backend.ensure_database()
        else:
            backend = SqliteBackend(Path(folder))
        with Ledger(backend.fresh_store("cpu")) as ledger:
            outcomes, seconds, mine, server = timed(ledger, lambda: post_file(ledger, file))
            postings = sum(outcome.postings for outcome in outcomes)
            print(f"{arguments.backend} post: {len(outcomes):,} documents, {postings:,} postings in {seconds:.2f} s; "
                  f"CPU: ledger {mine:.2f} s, server {server:.2f} s: {postings / (mine + server):,.0f} postings per CPU second")
            events, seconds, mine, server = timed(ledger, ledger.projector.rebuild)
            print(f"{arguments.backend} rebuild: {events:,} events in {seconds:.2f} s; "
                  f"CPU: ledger {mine:.2f} s, server {server:.2f} s: {events / (mine + server):,.0f} events per CPU second")


if __name__ == "__main__":
    main()
