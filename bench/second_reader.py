"""``python -m bench.second_reader --size N --backend sqlite|postgres``: does a second process for reading pay?

Issue 13 asks for "a second process for reading and validating a large
file if the measurement says it pays on two cores". This is the prototype
and its measurement. ``read_records_in_second_process`` gives exactly the
records ``ledger.reader.read_records`` gives for a JSON Lines file, in
order, the refused lines with their line numbers and errors as today
(checked at the start of every run, on the demo file and on a file of bad
lines): a second process (forked) opens the file, reads, decodes, parses
and validates it (``read_records`` itself: ``json_input.loads`` and
``read_document``, about a fifth of posting) and sends the records back
pickled over a pipe, ``CHUNK_RECORDS`` at a time; the pipe's buffer bounds
how far it reads ahead, so memory stays flat in the file's size. The
posting process unpickles them (about a quarter of what reading them
costs) and posts. A first version that sent decoded lines to a
``ProcessPoolExecutor`` cost the posting process more than reading itself
(its feeder threads compete for the GIL) and is not kept.

The measurement posts the demo file at ``--size`` in-process on a fresh
store, reading in the posting process and then in a second process,
``--rounds`` times alternately, and prints for each the wall seconds and
the CPU seconds of the posting process, of the reader process and of the
database server (PostgreSQL), with the load average.
PostgreSQL is reached at ``LEDGER_BENCH_POSTGRES``.
"""

from __future__ import annotations

import argparse
import io
import json
import multiprocessing
import os
import pickle
import resource
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench.cpu import cpu_seconds
from bench.stores import PostgresBackend, SqliteBackend, postgres_url
from ledger.demo import generate_documents
from ledger.reader import Record, read_records
from ledger.store import Ledger

CHUNK_RECORDS = 500


def _reader_main(path: str, default_actor: str, connection: Any) -> None:
    """In the reader process: read and validate the file, sending the records a pickled chunk at a time, then b""."""
    with open(path, "rb") as stream:
        chunk: list[Record] = []
        for record in read_records(stream, "jsonl", default_actor):
            chunk.append(record)
            if len(chunk) >= CHUNK_RECORDS:
                connection.send_bytes(pickle.dumps(chunk, protocol=pickle.HIGHEST_PROTOCOL))
                chunk = []
        if chunk:
            connection.send_bytes(pickle.dumps(chunk, protocol=pickle.HIGHEST_PROTOCOL))
    connection.send_bytes(b"")
    connection.close()


def read_records_in_second_process(path: str, default_actor: str) -> Iterator[Record]:
    """The records of a JSON Lines file, as ``read_records(open(path, "rb"), "jsonl", default_actor)`` gives them.

    A second process (forked) reads and validates the file and sends the
    records back over a pipe, a chunk of ``CHUNK_RECORDS`` at a time; the
    pipe's buffer bounds how far it reads ahead. The process is ended when
    the caller stops early.
    """
    context = multiprocessing.get_context("fork")
    receiving, sending = context.Pipe(duplex=False)
    process = context.Process(target=_reader_main, args=(path, default_actor, sending), daemon=True)
    process.start()
    sending.close()
    try:
        while data := receiving.recv_bytes():
            yield from pickle.loads(data)
    finally:
        if process.is_alive():
            process.kill()
        process.join()
        receiving.close()


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _post(ledger: Ledger, file: Path, second: bool) -> tuple[int, float, float, float, float]:
    """Post the file: (postings, wall s, posting process CPU s, server CPU s, reader process CPU s)."""
    before = cpu_seconds(ledger)
    children = _children_cpu()
    started = time.perf_counter()
    with file.open("rb") as stream:
        records = read_records_in_second_process(str(file), "bench") if second else read_records(stream, "jsonl", "bench")
        outcomes = list(ledger.post(record.document for record in records if record.document is not None))
    seconds = time.perf_counter() - started
    after = cpu_seconds(ledger)
    return sum(o.postings for o in outcomes), seconds, after[0] - before[0], after[1] - before[1], _children_cpu() - children


def same_records(stream_bytes: bytes, folder: Path) -> bool:
    """Whether both ways give the same records: line numbers, sizes, documents and errors (class, message, field, id)."""
    def key(record: Record) -> Any:
        error = record.error
        return (record.line, record.size_bytes, record.document,
                None if error is None else (type(error), str(error), error.document_id, error.field, error.message))
    path = folder / "same.jsonl"
    path.write_bytes(stream_bytes)
    here = [key(r) for r in read_records(io.BytesIO(stream_bytes), "jsonl", "bench")]
    there = [key(r) for r in read_records_in_second_process(str(path), "bench")]
    return here == there


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.second_reader", description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=20)
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="postgres")
    parser.add_argument("--rounds", type=int, default=2)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ledger-reader-") as folder:
        file = Path(folder) / "province.jsonl"
        file.write_text("".join(json.dumps(raw, ensure_ascii=False) + "\n" for raw in generate_documents(size=arguments.size)),
                        encoding="utf-8")
        bad = (b'{"id": "A-1", "type": "claim"}\nnot json\n\n{"id": "A-2", "type": "claim", "date": "2024-01-01", "region": "500101", '
               b'"scheme": "resident", "amount": "-1"}\n\xff\xfe\n' + file.read_bytes()[:20000])
        print(f"same records as read_records (demo file and a file of bad lines): {same_records(file.read_bytes(), Path(folder)) and same_records(bad, Path(folder))}")
        backend: Any = PostgresBackend(postgres_url()) if arguments.backend == "postgres" else SqliteBackend(Path(folder))
        if arguments.backend == "postgres":
            backend.ensure_database()
        for round_number in range(1, arguments.rounds + 1):
            for label, second in (("read in the posting process", False), ("read in a second process", True)):
                with Ledger(backend.fresh_store(f"r{round_number}")) as ledger:
                    postings, seconds, mine, server, reader = _post(ledger, file, second)
                load = os.getloadavg()[0]
                print(f"{arguments.backend} round {round_number}, {label}: {postings:,} postings in {seconds:.2f} s "
                      f"({postings / seconds:,.0f} postings/s); CPU s: posting {mine:.2f}, reader {reader:.2f}, server {server:.2f}, "
                      f"all {mine + reader + server:.2f}; load average {load:.2f}")


if __name__ == "__main__":
    main()
