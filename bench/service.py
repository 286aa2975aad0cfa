"""The service under load: N concurrent HTTP clients against ``ledger serve`` in a child process.

For each backend, once:

1. **the sequential post** (the reference and the baseline): on a fresh
   store, the opening journals, then the load's documents one at a time
   through ``Ledger.post`` in this process, in file order, timed; then
   balance reads through the same task the endpoint calls
   (``tasks.balances.balance``), timed. Its books (``bench.chaos.books``'s
   fingerprint: every book, balance row, 财政专户 row and registry entry) are
   what every loaded store must equal.

Then for each number of clients N (``--clients``, default 1, 8, 32) and each
server (``--servers``: processes × ledgers per process; on PostgreSQL by
default 1 × 1, the one-request-at-a-time service as it was, and 1 × 4, the
default now; SQLite is measured as 1 × 1, its default):

2. a fresh store with the same opening journals, one accountant over the
   municipality and a session per client; ``ledger serve`` started as a child
   process on a free port;
3. **disjoint**: the first half of the documents, dealt out by book (region
   and scheme), so no two clients write one book; each client posts its own
   (``POST /api/documents``) and reads a random book's balances after every
   ``READ_EVERY`` posts;
4. **overlapping**: the second half, each document sent by ``OVERLAP`` clients
   (every client sends its share in its own order), so the same ids arrive
   more than once (one ``posted``, the others ``duplicate``) and several
   clients write the same books at once; reads mixed in as above;
5. **reads only**: every client reads ``READS_PER_CLIENT`` random books' balances;
6. every document refused under load (one that arrived before a document it
   needs, sent by another client; the books changing under it too often; a
   database failure) is sent again, in file order, once the phases are over,
   as a settlement system re-sends its refusals; then the checks: each document posted exactly once if the
   sequential post posted it (never if it refused it), the books equal the
   sequential post's, and ``verify`` agrees.

Documents per second count distinct documents over the phase's wall time;
read latencies are measured by the client around the whole HTTP request.
The clients are threads in this process, on the same two cores as the
server, so they take some of the CPU the server could use.
"""

from __future__ import annotations

import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2

from bench.chaos.books import Books, differences, fingerprint, verify_problems
from bench.processes import ledger_command
from bench.report import Report, Row
from bench.stores import Backend
from ledger.access import grants, tokens, users
from ledger.access.proposals import DEFAULT_PROPOSAL_TYPES
from ledger.application import POSTED, SERIAL_TYPES
from ledger.demo import generate_documents
from ledger.documents import read_document
from ledger.store import Ledger
from ledger.tasks import balances

CLIENTS = (1, 8, 32)
# Servers measured on PostgreSQL, (processes, ledgers per process): one request at a time as before, and the default now.
SERVERS = ((1, 1), (1, 4))
DOCUMENTS = 200  # posted under load per run: half disjoint, half overlapping (about a minute a backend here)
OVERLAP = 3  # clients sending each document of the overlapping half
READ_EVERY = 4  # a balance read after every this many posts
READS_PER_CLIENT = 25  # in the reads-only phase
BASELINE_READS = 200
MUNICIPALITY = "500000"  # 重庆市, whose districts the generator writes
ACCOUNTANT = "load-accountant"
PASSWORD = "load-bench-password"
START_SECONDS = 60
STOP_SECONDS = 20
REQUEST_SECONDS = 120


@dataclass(frozen=True)
class Workload:
    """What every run posts: ``opening`` (the journals, posted before the service starts) and ``load`` (the documents sent).

    ``books`` (region, scheme, year) and ``expected`` (each load document's id: whether it was posted) are filled by
    the sequential post.
    """

    opening: list[dict[str, Any]]
    load: list[dict[str, Any]]
    books: list[tuple[str, str, int]]
    expected: dict[str, bool] = field(default_factory=dict)


@dataclass
class Tally:
    """What the clients of one phase saw: statuses per document, read latencies, what to send again."""

    posted: Counter = field(default_factory=Counter)
    duplicates: int = 0
    refusals: Counter = field(default_factory=Counter)
    retry: list[dict[str, Any]] = field(default_factory=list)
    read_ms: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def workload(size: int, seed: int, count: int) -> Workload:
    """The generator's province at ``size``: its opening journals, and its first ``count`` other documents in file order.

    Documents that read what earlier ones wrote (closes, reversals) and those
    that need 审核 are left out: each client sends what a settlement system
    would send straight to ``POST /api/documents``. In file order every one of
    them posts (a claim comes after the contributions and transfers that fund
    it); sent out of order, a claim may be refused as overdrawn and is sent
    again (``send_again``).
    """
    documents = list(generate_documents(size=size, seed=seed))
    excluded = SERIAL_TYPES | set(DEFAULT_PROPOSAL_TYPES)
    opening = [d for d in documents if d["type"] == "journal"]
    eligible = [d for d in documents if d["type"] not in excluded]
    load = eligible[:count]
    return Workload(opening, load, [])


def measure(backend: Backend, size: int, seed: int, report: Report, clients: tuple[int, ...] = CLIENTS,
            servers: tuple[tuple[int, int], ...] = SERVERS, count: int = DOCUMENTS) -> dict[str, Any]:
    """The whole section on one backend; adds its rows to ``report`` and returns its figures (also in ``report.figures``)."""
    work = workload(size, seed, count)
    rng = random.Random(seed)
    figures: dict[str, Any] = report.figures.setdefault(backend.name, {}).setdefault("service", {})
    reference, baseline = sequential(backend, work, rng)
    figures["sequential"] = baseline
    report.add(Row(backend.name, f"service baseline: Ledger.post one document at a time, in process ({len(work.load)} docs)",
                   baseline["documents_per_second"], "docs/s"))
    report.add(Row(backend.name, "service baseline: balance read in process, p50", baseline["read_p50_ms"], "ms"))
    if backend.name != "postgres":
        servers = ((1, 1),)
    runs = figures.setdefault("runs", {})
    for worker_count, ledger_count in servers:
        for client_count in clients:
            progress(f"{backend.name}: {run_name(client_count, worker_count, ledger_count)}")
            run = loaded_run(backend, work, reference, client_count, worker_count, ledger_count, rng)
            runs[run_name(client_count, worker_count, ledger_count)] = run
            report_run(backend.name, run, baseline, runs.get(run_name(client_count, *servers[0])), report)
    return figures


def sequential(backend: Backend, work: Workload, rng: random.Random) -> tuple[Books, dict[str, Any]]:
    """Post the workload in order in this process, one document a save; read balances; the books and the timings."""
    url = backend.fresh_store("service-reference")
    with Ledger(url) as ledger:
        list(ledger.post(read_document(d, "bench") for d in work.opening))
        # Balances are read of the books the opening journals opened: every loaded store has them from its start.
        work.books[:] = [(row.region, row.scheme, row.year) for row in balances.books(ledger, None, None)]
        started = time.perf_counter()
        for raw in work.load:
            outcome = ledger.post_one(read_document(raw, ACCOUNTANT))
            work.expected[raw["id"]] = outcome.status == POSTED
        seconds = time.perf_counter() - started
        read_ms = []
        for _ in range(BASELINE_READS):
            region, scheme, year = rng.choice(work.books)
            began = time.perf_counter()
            balances.balance(ledger, balances.BalanceQuery(region, scheme, year))
            read_ms.append((time.perf_counter() - began) * 1000)
    reference = fingerprint(url)
    backend.remove_store(url)
    posted = sum(work.expected.values())
    return reference, {"documents": len(work.load), "posted": posted, "seconds": seconds,
                       "documents_per_second": len(work.load) / seconds, **latency("read", read_ms)}


def loaded_run(backend: Backend, work: Workload, reference: Books, client_count: int, worker_count: int,
               ledger_count: int, rng: random.Random) -> dict[str, Any]:
    """One run: a fresh store, the server, the three phases, the checks."""
    url = backend.fresh_store("service")
    secrets = prepare_store(url, work, client_count)
    half = len(work.load) // 2
    disjoint, overlapping = work.load[:half], work.load[half:]
    figures: dict[str, Any] = {"clients": client_count, "workers": worker_count, "ledgers": ledger_count}
    with Server(url, worker_count, ledger_count) as server:
        phases = {
            "disjoint": (deal_by_book(disjoint, client_count), len(disjoint)),
            "overlapping": (deal_overlapping(overlapping, client_count, rng), len(overlapping)),
        }
        tallies: dict[str, Tally] = {}
        for name, (shares, distinct) in phases.items():
            tally, seconds = run_clients(server.base_url, secrets, lambda index, client, tally: post_share(
                client, shares[index], work.books, random.Random(index), tally))
            tallies[name] = tally
            figures[name] = {"documents": distinct, "requests": sum(map(len, shares)), "seconds": seconds,
                             "documents_per_second": distinct / seconds, "duplicates": tally.duplicates,
                             "refusals": dict(tally.refusals), **latency("read", tally.read_ms)}
        reads, seconds = run_clients(server.base_url, secrets, lambda index, client, tally: read_share(
            client, work.books, random.Random(1000 + index), tally))
        figures["reads"] = {"reads": len(reads.read_ms), "seconds": seconds, "reads_per_second": len(reads.read_ms) / seconds,
                            **latency("read", reads.read_ms)}
        resent = send_again(server.base_url, secrets[0], tallies, work)
    figures["problems"] = check(url, work, reference, tallies, resent, reads)
    figures["resent"] = len(resent.posted) + resent.duplicates + sum(resent.refusals.values())
    backend.remove_store(url)
    return figures


def prepare_store(url: str, work: Workload, client_count: int) -> list[str]:
    """A fresh store with the opening journals and the accountant; one session secret per client."""
    with Ledger(url) as ledger:
        list(ledger.post(read_document(d, "bench") for d in work.opening))
        users.add_user(ledger.engine, ACCOUNTANT, "压测会计", PASSWORD, by="bench")
        grants.grant(ledger.engine, ACCOUNTANT, "accountant", MUNICIPALITY, by="bench")
        return [tokens.create_session(ledger.engine, ACCOUNTANT)[0] for _ in range(client_count)]


def deal_by_book(documents: list[dict[str, Any]], client_count: int) -> list[list[dict[str, Any]]]:
    """The documents by book (region and scheme), the books dealt round the clients; each keeps file order."""
    keys = sorted({(d["region"], d.get("scheme", d["type"])) for d in documents})
    client_of = {key: index % client_count for index, key in enumerate(keys)}
    shares: list[list[dict[str, Any]]] = [[] for _ in range(client_count)]
    for document in documents:
        shares[client_of[(document["region"], document.get("scheme", document["type"]))]].append(document)
    return shares


def deal_overlapping(documents: list[dict[str, Any]], client_count: int, rng: random.Random) -> list[list[dict[str, Any]]]:
    """Each document to ``OVERLAP`` clients (all of them when fewer); each client sends its share in an order of its own."""
    copies = min(OVERLAP, client_count)
    shares: list[list[dict[str, Any]]] = [[] for _ in range(client_count)]
    for position, document in enumerate(documents):
        for copy in range(copies):
            shares[(position + copy) % client_count].append(document)
    for share in shares:
        rng.shuffle(share)
    return shares


def run_clients(base_url: str, secrets: list[str], work: Callable[[int, httpx2.Client, Tally], None]) -> tuple[Tally, float]:
    """Run ``work`` in one thread per client, all started together; the tally and the wall seconds."""
    tally = Tally()
    start = threading.Barrier(len(secrets) + 1)

    def client_thread(index: int) -> None:
        with httpx2.Client(base_url=base_url, headers={"Authorization": f"Bearer {secrets[index]}"}, timeout=REQUEST_SECONDS) as client:
            start.wait()
            try:
                work(index, client, tally)
            except Exception as error:  # a client that dies is a finding of the run, never a traceback
                with tally.lock:
                    tally.failures.append(f"client {index + 1}: {type(error).__name__}: {str(error)[:200]}")

    threads = [threading.Thread(target=client_thread, args=(index,)) for index in range(len(secrets))]
    for thread in threads:
        thread.start()
    start.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    return tally, time.perf_counter() - started


def post_share(client: httpx2.Client, share: list[dict[str, Any]], books: list[tuple[str, str, int]], rng: random.Random,
               tally: Tally) -> None:
    """One client's posting phase: its share in order, a balance read of a random book after every ``READ_EVERY`` posts."""
    for number, document in enumerate(share, start=1):
        post(client, document, tally)
        if number % READ_EVERY == 0:
            read(client, rng.choice(books), tally)


def post(client: httpx2.Client, document: dict[str, Any], tally: Tally) -> None:
    """Send one document and tally its answer: 201 posted, 200 duplicate, a refusal to retry, or one that stands."""
    answer = client.post("/api/documents", json=document)
    body = answer.json()
    with tally.lock:
        if answer.status_code == 201:
            tally.posted[document["id"]] += 1
        elif answer.status_code == 200 and body.get("status") == "duplicate":
            tally.duplicates += 1
        else:
            tally.refusals[f"{answer.status_code} {body.get('type', '').rsplit(':', 1)[-1]}"] += 1
            tally.retry.append(document)


def read_share(client: httpx2.Client, books: list[tuple[str, str, int]], rng: random.Random, tally: Tally) -> None:
    """One client's reads-only phase: ``READS_PER_CLIENT`` balance reads of random books."""
    for _ in range(READS_PER_CLIENT):
        read(client, rng.choice(books), tally)


def read(client: httpx2.Client, book: tuple[str, str, int], tally: Tally) -> None:
    """``GET`` one book's balances; its latency in ms if the answer is that book's, else a failure of the run."""
    region, scheme, year = book
    began = time.perf_counter()
    answer = client.get(f"/api/books/{region}/{scheme}/{year}/balances")
    elapsed_ms = (time.perf_counter() - began) * 1000
    with tally.lock:
        if answer.status_code == 200 and answer.json().get("book") == f"{region}/{scheme}/{year}":
            tally.read_ms.append(elapsed_ms)
        else:
            tally.failures.append(f"balance read of {region}/{scheme}/{year}: {answer.status_code} {answer.text[:200]}")


def send_again(base_url: str, secret: str, tallies: dict[str, Tally], work: Workload) -> Tally:
    """Send every refused document once more, one client, in file order, as a settlement system re-sends its refusals.

    Under load a document can arrive before one it needs (a claim before the
    transfer that funds it, sent by another client) and be refused; the
    sequential post sent them in order. A document refused again stays
    refused, and the check compares that with the sequential post.
    """
    resent = Tally()
    refused = {document["id"] for tally in tallies.values() for document in tally.retry}
    pending = [document for document in work.load if document["id"] in refused]
    with httpx2.Client(base_url=base_url, headers={"Authorization": f"Bearer {secret}"}, timeout=REQUEST_SECONDS) as client:
        for document in pending:
            post(client, document, resent)
    return resent


def check(url: str, work: Workload, reference: Books, tallies: dict[str, Tally], resent: Tally, reads: Tally) -> list[str]:
    """Everything wrong with a run, in words: nothing when every check holds."""
    problems = [failure for tally in (*tallies.values(), resent, reads) for failure in tally.failures]
    posted: Counter = Counter()
    for tally in (*tallies.values(), resent):
        posted.update(tally.posted)
    for document_id, was_posted in work.expected.items():
        if posted[document_id] != int(was_posted):
            problems.append(f"document {document_id} was answered 201 posted {posted[document_id]} times; the sequential post "
                            f"{'posted' if was_posted else 'refused'} it")
    problems += differences(reference, fingerprint(url))
    problems += verify_problems(url)
    return problems


def latency(label: str, values_ms: list[float]) -> dict[str, float | None]:
    """p50 and p99 (nearest rank) of latencies in ms; None when there are none."""
    if not values_ms:
        return {f"{label}_p50_ms": None, f"{label}_p99_ms": None}
    ordered = sorted(values_ms)
    p99 = ordered[min(len(ordered) - 1, max(0, round(0.99 * len(ordered)) - 1))]
    return {f"{label}_p50_ms": statistics.median(ordered), f"{label}_p99_ms": p99}


def report_run(name: str, run: dict[str, Any], baseline: dict[str, Any], single: dict[str, Any] | None, report: Report) -> None:
    """The run's rows: documents/s against the sequential post (and against one process), read p50/p99, the checks."""
    who = run_name(run["clients"], run["workers"], run["ledgers"])
    for phase in ("disjoint", "overlapping"):
        figures = run[phase]
        what = f"service {phase} posts ({who}; {figures['documents']} docs, {figures['requests']} requests)"
        report.compare(name, what, figures["documents_per_second"], "docs/s", "sequential Ledger.post",
                       baseline["documents_per_second"], "docs/s")
        if single is not None and single is not run:
            first = run_name(single["clients"], single["workers"], single["ledgers"]).split(", ", 1)[1]
            report.compare(name, f"  … ÷ the same on {first}", figures["documents_per_second"], "docs/s", first,
                           single[phase]["documents_per_second"], "docs/s")
        if figures["read_p50_ms"] is not None:
            report.compare(name, f"  read while posting, p50 / p99 {figures['read_p99_ms']:.0f} ms", figures["read_p50_ms"], "ms",
                           "in-process read p50", baseline["read_p50_ms"], "ms")
    reads = run["reads"]
    report.compare(name, f"service reads only ({who}; {reads['reads']} reads, {reads['reads_per_second']:.0f} reads/s), "
                         f"p50 / p99 {reads['read_p99_ms']:.0f} ms", reads["read_p50_ms"], "ms",
                   "in-process read p50", baseline["read_p50_ms"], "ms")
    problems = run["problems"]
    verdict = "books equal the sequential post, each document posted once, verify agrees" if not problems else \
        f"{len(problems)} PROBLEMS: " + "; ".join(problems[:3])
    refused = Counter(run["disjoint"]["refusals"]) + Counter(run["overlapping"]["refusals"])
    shown = ", ".join(f"{count} × {kind}" for kind, count in sorted(refused.items())) or "none"
    report.add(Row(name, f"service checks ({who}; refused under load: {shown}; {run['resent']} sent again)", None, "", target=verdict))
    if problems:
        report.note(f"{name} service run, {who}: " + "; ".join(problems))


def progress(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


class Server:
    """``ledger serve`` on a free loopback port, as a child process in a session of its own; stopped on leaving."""

    def __init__(self, url: str, workers: int, ledgers: int) -> None:
        self.url = url
        self.workers = workers
        self.ledgers = ledgers
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log = tempfile.TemporaryFile()
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> "Server":
        command = [*ledger_command(), "serve", "--db", self.url, "--host", "127.0.0.1", "--port", str(self.port),
                   "--workers", str(self.workers), "--ledgers", str(self.ledgers), "--log-level", "warning"]
        self.process = subprocess.Popen(command, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True,
                                        env={**os.environ, "COLUMNS": "200"})
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"ledger serve exited {self.process.returncode}: {self.output()}")
            try:
                if httpx2.get(f"{self.base_url}/openapi.json", timeout=2).status_code == 200:
                    return self
            except httpx2.TransportError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"ledger serve did not answer within {START_SECONDS} s: {self.output()}")

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGINT)  # uvicorn's graceful stop; with workers it stops them too
        try:
            self.process.wait(STOP_SECONDS)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read().decode("utf-8", errors="replace")[-2000:]


def free_port() -> int:
    """A TCP port free on the loopback now (the OS picks it)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def main(argv: list[str] | None = None) -> int:
    """``python -m bench.service``: only this section, printed as ``make bench`` prints it."""
    import argparse

    from bench.run import open_backend

    parser = argparse.ArgumentParser(prog="python -m bench.service", description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=5, help="demo generator size the documents are drawn from")
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--clients", default=",".join(map(str, CLIENTS)), help="numbers of concurrent clients, comma-separated")
    parser.add_argument("--servers", default=servers_text(SERVERS),
                        help="servers measured on PostgreSQL: processes x ledgers per process, comma-separated (1x1,1x4,2x4)")
    parser.add_argument("--documents", type=int, default=DOCUMENTS, help="documents posted under load per run")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", type=Path, help="write every figure to this file")
    arguments = parser.parse_args(argv)
    report = Report()
    with tempfile.TemporaryDirectory(prefix="ledger-service-bench-") as folder:
        for name in (n.strip() for n in arguments.backends.split(",") if n.strip()):
            backend = open_backend(name, Path(folder), report)
            if backend is not None:
                measure(backend, arguments.size, arguments.seed, report, parse_counts(arguments.clients),
                        parse_servers(arguments.servers), arguments.documents)
    print(report.text())
    if arguments.json:
        report.write_json(arguments.json)
    failed = any(run["problems"] for backend in report.figures.values() if isinstance(backend, dict)
                 for run in backend.get("service", {}).get("runs", {}).values())
    return 1 if failed else 0


def parse_counts(text: str) -> tuple[int, ...]:
    """``1,8,32`` → (1, 8, 32); an empty text → ()."""
    return tuple(int(value) for value in text.split(",") if value.strip())


def parse_servers(text: str) -> tuple[tuple[int, int], ...]:
    """``1x1,1x4`` → ((1, 1), (1, 4)): processes × ledgers per process."""
    servers = []
    for item in (value.strip() for value in text.split(",") if value.strip()):
        workers, _, ledgers = item.partition("x")
        servers.append((int(workers), int(ledgers or 1)))
    return tuple(servers)


def servers_text(servers: tuple[tuple[int, int], ...]) -> str:
    """((1, 1), (1, 4)) → ``1x1,1x4``."""
    return ",".join(f"{workers}x{ledgers}" for workers, ledgers in servers)


def run_name(clients: int, workers: int, ledgers: int) -> str:
    """How a run is named in the table and the JSON: ``8 clients, 1 process × 4 ledgers``."""
    return f"{clients} clients, {workers} process{'es' if workers > 1 else ''} × {ledgers} ledger{'s' if ledgers > 1 else ''}"


if __name__ == "__main__":
    sys.exit(main())
