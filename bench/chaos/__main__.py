"""``python -m bench.chaos``: the fault campaign; a table of trials and failures, exit 1 on any failure.

PostgreSQL is reached at ``LEDGER_CHAOS_POSTGRES`` (default: the local
server's database ``chaos``). The campaign drops every ``ledger_*`` and
``proj_*`` table there before each trial: never point it at real books.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from bench.chaos import faults, malformed, tampering
from bench.chaos.campaign import Campaign, Result, Sizes, open_backends
from ledger.demo import generate_documents

POSTGRES_VARIABLE = "LEDGER_CHAOS_POSTGRES"
DEFAULT_POSTGRES_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/chaos"
SCENARIOS = ("kill", "writers", "connections", "malformed", "tamper")
POSTGRES_ONLY = frozenset({"writers", "connections"})


def run(sizes: Sizes, backends: list[str], scenarios: list[str], postgres_url: str, seed: int = 7) -> list[Result]:
    """Run the scenarios asked for on each backend; every backend starts with one clean import of the file."""
    with tempfile.TemporaryDirectory(prefix="ledger-chaos-") as folder_name:
        folder = Path(folder_name)
        campaign = Campaign(folder, sizes, open_backends(backends, folder, postgres_url), random.Random(seed))
        documents = list(generate_documents(size=sizes.size, seed=seed))
        file = campaign.write_documents(f"import-size-{sizes.size}.jsonl", documents)
        small = list(generate_documents(size=sizes.tamper_size, seed=seed))
        for name, backend in campaign.backends.items():
            clean_seconds = faults.clean(campaign, backend, file, len(documents))
            if "kill" in scenarios:
                faults.killed_imports(campaign, backend, file, len(documents), clean_seconds)
            if "writers" in scenarios and name == "postgres":
                faults.concurrent_writers(campaign, backend, file, documents)
            if "connections" in scenarios and name == "postgres":
                faults.killed_connections(campaign, backend, file, len(documents), clean_seconds)
            if "malformed" in scenarios:
                malformed.run_malformed(campaign, name, file, documents)
                malformed.run_kinds(campaign, name, documents)
            if "tamper" in scenarios:
                tampering.tampering(campaign, backend, small)
        return campaign.results


def table(results: list[Result]) -> Table:
    shown = Table(title="Fault campaign")
    for column in ("scenario", "backend", "trials", "failures", "seconds"):
        shown.add_column(column, justify="right" if column in ("trials", "failures", "seconds") else "left")
    for result in results:
        failures = f"[red]{result.failures}[/red]" if result.failures else "0"
        shown.add_row(result.scenario, result.backend, str(result.trials), failures, f"{result.seconds:.0f}")
    return shown


PROBLEMS_SHOWN = 5


def print_report(results: list[Result], console: Console, every_problem: bool = False) -> None:
    """The table, then each scenario's failed trials (the first few, or all) and its notes."""
    console.print(table(results))
    for result in results:
        shown = result.problems if every_problem else result.problems[:PROBLEMS_SHOWN]
        for problem in shown:
            console.print(f"[red]FAIL[/red] {result.scenario} ({result.backend}) {escape(problem)}", highlight=False)
        if len(shown) < len(result.problems):
            console.print(f"… {len(result.problems) - len(shown)} more failed trials of {result.scenario} ({result.backend}); --every-failure shows them")
        for note in result.notes:
            console.print(f"note: {result.scenario} ({result.backend}): {escape(note)}", highlight=False)


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    defaults = Sizes()
    parser = argparse.ArgumentParser(prog="python -m bench.chaos", description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=defaults.size, help="demo generator size of the import")
    parser.add_argument("--sqlite-kills", type=int, default=defaults.kills["sqlite"], help="SIGKILL trials on SQLite")
    parser.add_argument("--postgres-kills", type=int, default=defaults.kills["postgres"], help="SIGKILL trials on PostgreSQL")
    parser.add_argument("--writer-trials", type=int, default=defaults.writer_trials, help="trials of each concurrent-writer scenario")
    parser.add_argument("--writers", type=int, default=defaults.writers, help="concurrent ledger post processes")
    parser.add_argument("--connection-kills", type=int, default=defaults.connection_kills, help="trials killing the store's connections")
    parser.add_argument("--malformed", type=int, default=defaults.malformed, help="malformed documents in all")
    parser.add_argument("--tamper-size", type=int, default=defaults.tamper_size, help="demo size of the tampered store")
    parser.add_argument("--tamper-rows", type=int, default=defaults.tamper_rows, help="rows deleted per table and changed per column")
    parser.add_argument("--backends", default="sqlite,postgres", help="comma-separated: sqlite, postgres")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS), help=f"comma-separated: {', '.join(SCENARIOS)}")
    parser.add_argument("--every-failure", action="store_true", help="print every failed trial, not the first few of each scenario")
    parser.add_argument("--seed", type=int, default=7, help="generator, kill moments and tampered rows")
    arguments = parser.parse_args(argv)
    arguments.backends = [b.strip() for b in arguments.backends.split(",") if b.strip()]
    arguments.scenarios = [s.strip() for s in arguments.scenarios.split(",") if s.strip()]
    unknown = set(arguments.scenarios) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenarios {', '.join(sorted(unknown))}")
    return arguments


def main(argv: list[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    sizes = Sizes(
        size=arguments.size,
        kills={"sqlite": arguments.sqlite_kills, "postgres": arguments.postgres_kills},
        writer_trials=arguments.writer_trials,
        writers=arguments.writers,
        connection_kills=arguments.connection_kills,
        malformed=arguments.malformed,
        tamper_size=arguments.tamper_size,
        tamper_rows=arguments.tamper_rows,
    )
    started = time.perf_counter()
    url = os.environ.get(POSTGRES_VARIABLE) or DEFAULT_POSTGRES_URL
    results = run(sizes, arguments.backends, arguments.scenarios, url, arguments.seed)
    console = Console(width=max(Console().width, 160))
    print_report(results, console, arguments.every_failure)
    trials, failures = sum(r.trials for r in results), sum(r.failures for r in results)
    console.print(f"{trials} trials, {failures} failures, {time.perf_counter() - started:.0f} s")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
