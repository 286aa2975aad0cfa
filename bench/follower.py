"""``python -m bench.follower --size N``: posting with the projections inline against posting for a follower.

For each backend, on fresh stores and the same documents (the demo
generator at ``--size``):

1. the baseline: ``Ledger(url).post`` with the projections folded after
   every saved batch (the default);
2. ``Ledger(url, project=False).post`` (``post --no-project``): events only;
3. the follower's work on that store: ``Follower.catch_up`` from position 0;

and prints each rate with its ratio to the baseline measured in the same
run: how much faster posting returns when a follower projects, and what the
follower's catch-up costs. docs/operations.md records a run.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from bench.stores import PostgresBackend, SqliteBackend, postgres_url
from ledger.demo import generate_documents
from ledger.documents import read_document
from ledger.projections.follower import Follower
from ledger.projections.queries import table_rows
from ledger.store import Ledger

REPEATS = 2
WARM_UP_DOCUMENTS = 300


def _post(url: str, documents: list, project: bool) -> tuple[float, int]:
    """Seconds to post every document, and the events written."""
    with Ledger(url, project=project) as ledger:
        began = time.perf_counter()
        for outcome in ledger.post(documents):
            if outcome.status != "posted":
                raise RuntimeError(f"{outcome.document_id} was {outcome.status}: {outcome.error}")
        return time.perf_counter() - began, ledger.events_written


def _timeless(rows: dict[str, list]) -> dict[str, list]:
    """The projection tables that hold no recorded time (the two stores' events were recorded at different times)."""
    return {name: rows[name] for name in ("proj_books", "proj_balances", "proj_fiscal_accounts")}


def measure(backend, documents: list) -> list[tuple[str, float, float]]:
    """(what, seconds, ratio to the inline baseline) for one backend; best of ``REPEATS`` each, taken in turn."""
    warm = backend.fresh_store("follower_warm")
    _post(warm, documents[:WARM_UP_DOCUMENTS], project=True)  # module imports, policy files, caches: not the baseline's cost
    backend.remove_store(warm)
    runs = [_measure_once(backend, documents) for _ in range(REPEATS)]
    inline_seconds, posting_seconds, following_seconds = (min(run[i] for run in runs) for i in range(3))
    return [
        ("post, projections inline (baseline)", inline_seconds, 1.0),
        ("post --no-project", posting_seconds, inline_seconds / posting_seconds),
        ("follower catch-up of the same events", following_seconds, inline_seconds / following_seconds),
        ("post --no-project + catch-up", posting_seconds + following_seconds, inline_seconds / (posting_seconds + following_seconds)),
    ]


def _measure_once(backend, documents: list) -> tuple[float, float, float]:
    """Seconds to post inline; to post without projecting; to catch up after that."""
    inline_url = backend.fresh_store("follower_inline")
    inline_seconds, events = _post(inline_url, documents, project=True)
    with Ledger(inline_url) as ledger:
        expected = _timeless(table_rows(ledger.engine))
    backend.remove_store(inline_url)

    url = backend.fresh_store("follower_split")
    posting_seconds, _ = _post(url, documents, project=False)
    with Ledger(url, project=False) as ledger:
        began = time.perf_counter()
        Follower(ledger).catch_up()
        following_seconds = time.perf_counter() - began
        if _timeless(table_rows(ledger.engine)) != expected:
            raise RuntimeError("the follower's projections differ from the inline ones")
    backend.remove_store(url)
    print(f"{backend.name}: {len(documents)} documents, {events} events")
    return inline_seconds, posting_seconds, following_seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=10)
    parser.add_argument("--backends", default="sqlite,postgres")
    arguments = parser.parse_args()
    documents = [read_document(d, "bench") for d in generate_documents(size=arguments.size, year=2013)]
    with tempfile.TemporaryDirectory(prefix="ledger-bench-follower-") as folder:
        backends = {"sqlite": SqliteBackend(Path(folder)), "postgres": PostgresBackend(postgres_url())}
        for name in arguments.backends.split(","):
            rows = measure(backends[name], documents)
            for what, seconds, ratio in rows:
                print(f"  {what:<40} {seconds:8.2f} s  {len(documents) / seconds:9,.0f} documents/s  ×{ratio:.2f} of the baseline's speed")


if __name__ == "__main__":
    main()
