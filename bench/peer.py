"""pgledger, a public PostgreSQL ledger, timed beside the ledger in the same run (issue 13).

pgledger (github.com/pgr0ss/pgledger) keeps accounts, transfers and entries
in three tables and posts through SQL functions: ``pgledger_create_transfer``
locks both accounts, updates their balances, inserts the transfer and its two
entries, and the caller commits, one transaction per transfer. Nothing of it
is copied here: ``PGLEDGER`` names a checkout of it, and the bench loads that
checkout's own SQL files (``PGLEDGER_SQL_FILES``, in the order its
``justfile`` loads them) into a schema of its own in the bench database.

Then, with ``search_path`` set to that schema on every connection:

1. it creates as many accounts as the ledger's posted store has balance
   rows (book, account, tier), through ``pgledger_create_account``;
2. prefills ``PREFILL_TRANSFERS_PER_ACCOUNT`` transfers per account between
   random accounts (through ``pgledger_create_transfers``, a thousand a
   call, so that the prefill is quick) and runs ``ANALYZE``, so that its
   planner sees tables of a realistic size, as the ledger's does after posting;
3. times transfers between random distinct accounts, one call and one
   commit each, on 1 and then on 4 connections (one thread each; psycopg2
   releases the interpreter lock while it waits for the server), for
   ``seconds`` each.

The schema is dropped before and after. A pgledger transfer writes two
entries (one debit, one credit); a ledger posting is one line. The ratio the
issue asks for is ledger postings/s ÷ pgledger transfers/s, as printed.
"""

from __future__ import annotations

import os
import random
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PGLEDGER_VARIABLE = "PGLEDGER"
SCHEMA = "bench_pgledger"
# As pgledger's justfile (`dbload`) loads them, in one transaction.
PGLEDGER_SQL_FILES = (
    "vendor/scoville-pgsql-ulid/ulid-to-uuid.sql",
    "vendor/scoville-pgsql-ulid/uuid-to-ulid.sql",
    "pgledger.sql",
)
PREFILL_TRANSFERS_PER_ACCOUNT = 20
PREFILL_TRANSFERS_PER_CALL = 1000
CONNECTIONS = (1, 4)
DEFAULT_SECONDS = 10.0
CURRENCY = "CNY"
# Amounts in yuan with fen, as pgledger takes NUMERIC.
AMOUNT_RANGE_FEN = (1, 1_000_000)


class PeerUnavailable(Exception):
    """``PGLEDGER`` is set but names no usable pgledger checkout."""


@dataclass(frozen=True)
class PeerRun:
    """Transfers committed on some connections over some seconds."""

    connections: int
    transfers: int
    seconds: float

    @property
    def transfers_per_second(self) -> float:
        return self.transfers / self.seconds


@dataclass(frozen=True)
class PeerFigures:
    checkout: str
    commit: str
    accounts: int
    prefilled_transfers: int
    runs: tuple[PeerRun, ...]


def checkout_from_environment() -> Path | None:
    """The pgledger checkout named by ``PGLEDGER``, or None when it is unset (the peer is then skipped).

    Raises ``PeerUnavailable`` when the variable names a folder without pgledger's SQL files.
    """
    value = os.environ.get(PGLEDGER_VARIABLE, "").strip()
    if not value:
        return None
    path = Path(value).expanduser()
    missing = [name for name in PGLEDGER_SQL_FILES if not (path / name).is_file()]
    if missing:
        raise PeerUnavailable(f"{PGLEDGER_VARIABLE}={value} is not a pgledger checkout: {', '.join(missing)} missing")
    return path


def measure(checkout: Path, dsn: str, accounts: int, seconds: float = DEFAULT_SECONDS, seed: int = 7) -> PeerFigures:
    """Install pgledger from ``checkout`` into the database at ``dsn`` (libpq form), prefill it and time transfers.

    ``accounts`` is how many accounts to create (at least 2). Returns the
    transfers/s on each of ``CONNECTIONS``. Drops the schema ``SCHEMA`` before
    and after; touches nothing else in the database.
    """
    import psycopg2

    accounts = max(accounts, 2)
    admin = psycopg2.connect(dsn)
    try:
        _drop_schema(admin)
        _install(admin, checkout)
        connection = _connect(dsn)
        try:
            account_ids = _create_accounts(connection, accounts)
            rng = random.Random(seed)
            prefilled = _prefill(connection, account_ids, accounts * PREFILL_TRANSFERS_PER_ACCOUNT, rng)
        finally:
            connection.close()
        runs = tuple(_time_transfers(dsn, account_ids, count, seconds, seed + count) for count in CONNECTIONS)
        return PeerFigures(str(checkout), _checkout_commit(checkout), accounts, prefilled, runs)
    finally:
        try:
            _drop_schema(admin)
        finally:
            admin.close()


def _connect(dsn: str) -> Any:
    import psycopg2

    return psycopg2.connect(dsn, options=f"-c search_path={SCHEMA}")


def _drop_schema(connection: Any) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
    connection.commit()


def _install(connection: Any, checkout: Path) -> None:
    """pgledger's SQL files, as they are, into ``SCHEMA``, in one transaction."""
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE SCHEMA {SCHEMA}")
        cursor.execute(f"SET LOCAL search_path TO {SCHEMA}")
        for name in PGLEDGER_SQL_FILES:
            cursor.execute((checkout / name).read_text(encoding="utf-8"))
    connection.commit()


def _create_accounts(connection: Any, count: int) -> list[str]:
    ids = []
    with connection.cursor() as cursor:
        for number in range(count):
            cursor.execute("SELECT id FROM pgledger_create_account(%s, %s)", (f"bench-{number}", CURRENCY))
            ids.append(cursor.fetchone()[0])
    connection.commit()
    return ids


def _prefill(connection: Any, account_ids: list[str], transfers: int, rng: random.Random) -> int:
    """``transfers`` transfers between random accounts, a call per ``PREFILL_TRANSFERS_PER_CALL``; then ANALYZE."""
    done = 0
    with connection.cursor() as cursor:
        while done < transfers:
            count = min(PREFILL_TRANSFERS_PER_CALL, transfers - done)
            requests = [(*rng.sample(account_ids, 2), _amount(rng)) for _ in range(count)]
            values = ",".join(cursor.mogrify("(%s, %s, %s)::transfer_request", request).decode() for request in requests)
            cursor.execute(f"SELECT count(*) FROM pgledger_create_transfers(ARRAY[{values}])")
            connection.commit()
            done += count
        cursor.execute("SELECT count(*) FROM pgledger_transfers")
        (stored,) = cursor.fetchone()
    connection.commit()
    if stored != transfers:
        raise RuntimeError(f"pgledger holds {stored} transfers after a prefill of {transfers}")
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE pgledger_accounts, pgledger_transfers, pgledger_entries")
    connection.autocommit = False
    return transfers


def _amount(rng: random.Random) -> str:
    fen = rng.randint(*AMOUNT_RANGE_FEN)
    return f"{fen // 100}.{fen % 100:02d}"


def _time_transfers(dsn: str, account_ids: list[str], connections: int, seconds: float, seed: int) -> PeerRun:
    """Transfers committed by ``connections`` threads, one connection each, in ``seconds``."""
    opened = [_connect(dsn) for _ in range(connections)]
    counts = [0] * connections
    errors: list[BaseException] = []
    start = threading.Barrier(connections + 1)
    deadline = [0.0]

    def work(index: int) -> None:
        connection = opened[index]
        rng = random.Random(seed * 1000 + index)
        try:
            with connection.cursor() as cursor:
                start.wait()
                while time.perf_counter() < deadline[0]:
                    source, target = rng.sample(account_ids, 2)
                    cursor.execute("SELECT id FROM pgledger_create_transfer(%s, %s, %s)", (source, target, _amount(rng)))
                    cursor.fetchone()
                    connection.commit()
                    counts[index] += 1
        except BaseException as error:  # noqa: BLE001 - reported by the caller's thread
            errors.append(error)

    threads = [threading.Thread(target=work, args=(index,), daemon=True) for index in range(connections)]
    try:
        for thread in threads:
            thread.start()
        started = time.perf_counter()
        deadline[0] = started + seconds
        start.wait()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
    finally:
        for connection in opened:
            connection.close()
    if errors:
        raise RuntimeError(f"a pgledger transfer failed: {errors[0]}") from errors[0]
    return PeerRun(connections, sum(counts), elapsed)


def _checkout_commit(checkout: Path) -> str:
    import subprocess

    try:
        result = subprocess.run(["git", "-C", str(checkout), "rev-parse", "HEAD"], capture_output=True, text=True, check=True)
        return result.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
