"""A real PostgreSQL primary and hot standby on this machine, made for a test and removed after.

The local server (PostgreSQL 15 here) has ``wal_level = replica`` and
``max_wal_senders = 10``, but its ``pg_hba.conf`` has no ``replication``
line (``all`` does not match replication connections), and changing that is
not the test's to do (a reload of a server others use). So this makes its
own primary too: ``initdb`` into a
temporary folder with the replication settings, started on a free port;
then the standby with ``pg_basebackup -R`` (streaming, ``standby.signal``
written) on another free port. Run as root (as CI does), the clusters are
made and run as the ``postgres`` user through ``runuser``. Both are stopped
(``immediate``) and their folders removed when the context ends.

Also a script: ``python tests/replica.py`` makes the pair, prints the two
URLs and waits for Ctrl-C, for trying ``--read-db`` by hand.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

STARTUP_LIMIT_SECONDS = 60
CLUSTER_SETTINGS = """
listen_addresses = '127.0.0.1'
port = {port}
unix_socket_directories = '{sockets}'
wal_level = replica
max_wal_senders = 4
hot_standby = on
fsync = off
synchronous_commit = off
full_page_writes = off
shared_buffers = 32MB
max_connections = 40
"""


def postgres_bin() -> str | None:
    """The folder of the newest installed PostgreSQL's server programs (initdb, pg_ctl, pg_basebackup), or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]) if p.split("/")[4].isdigit() else 0)
    if found:
        return os.path.dirname(found[-1])
    on_path = shutil.which("initdb")
    return os.path.dirname(on_path) if on_path else None


@dataclass(frozen=True)
class ReplicaPair:
    """The two clusters' URLs (database ``ledger``, user ``postgres``, trust on 127.0.0.1) and how to reach them."""

    primary_url: str
    standby_url: str
    primary_port: int
    standby_port: int


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _as_owner(command: list[str]) -> list[str]:
    """Run as ``postgres`` when we are root (the server refuses to run as root), else as ourselves."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return command


def _run(command: list[str]) -> None:
    done = subprocess.run(_as_owner(command), capture_output=True, text=True, timeout=STARTUP_LIMIT_SECONDS * 2)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({done.returncode}): {done.stdout[-2000:]} {done.stderr[-2000:]}")


@contextmanager
def replica_pair() -> Iterator[ReplicaPair]:
    """A primary and its streaming hot standby, up and answering; stopped and removed afterwards."""
    binaries = postgres_bin()
    if binaries is None:
        raise RuntimeError("no PostgreSQL server programs (initdb) on this machine")
    base = tempfile.mkdtemp(prefix="ledger-replica-")
    os.chmod(base, 0o755)
    if os.geteuid() == 0:
        owner = pwd.getpwnam("postgres")
        os.chown(base, owner.pw_uid, owner.pw_gid)
    primary, standby = os.path.join(base, "primary"), os.path.join(base, "standby")
    primary_port, standby_port = _free_port(), _free_port()
    started: list[str] = []
    try:
        _run([f"{binaries}/initdb", "-D", primary, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C"])
        _append(primary, "postgresql.conf", CLUSTER_SETTINGS.format(port=primary_port, sockets=base))
        _append(primary, "pg_hba.conf", "host replication all 127.0.0.1/32 trust\n")
        _start(binaries, primary, started)
        _run([f"{binaries}/psql", "-h", "127.0.0.1", "-p", str(primary_port), "-U", "postgres", "-c", "CREATE DATABASE ledger"])
        _run([f"{binaries}/pg_basebackup", "-h", "127.0.0.1", "-p", str(primary_port), "-U", "postgres", "-D", standby,
              "-R", "-X", "stream", "--no-sync", "--checkpoint=fast"])
        _append(standby, "postgresql.conf", f"port = {standby_port}\n")
        _start(binaries, standby, started)
        yield ReplicaPair(
            f"postgresql+psycopg2://postgres@127.0.0.1:{primary_port}/ledger",
            f"postgresql+psycopg2://postgres@127.0.0.1:{standby_port}/ledger",
            primary_port, standby_port,
        )
    finally:
        for folder in reversed(started):
            subprocess.run(_as_owner([f"{binaries}/pg_ctl", "-D", folder, "stop", "-m", "immediate", "-w"]), capture_output=True, timeout=60)
        shutil.rmtree(base, ignore_errors=True)


def _append(folder: str, name: str, text: str) -> None:
    path = os.path.join(folder, name)
    with open(path, "a", encoding="utf-8") as target:
        target.write(text)


def _start(binaries: str, folder: str, started: list[str]) -> None:
    _run([f"{binaries}/pg_ctl", "-D", folder, "-l", os.path.join(folder, "server.log"), "-w", "-t", str(STARTUP_LIMIT_SECONDS), "start"])
    started.append(folder)


def wait_for_replay(pair: ReplicaPair, limit_seconds: float = 30.0) -> float:
    """Wait until the standby has replayed everything the primary had written when called; the seconds it took."""
    import sqlalchemy

    began = time.monotonic()
    primary = sqlalchemy.create_engine(pair.primary_url)
    standby = sqlalchemy.create_engine(pair.standby_url)
    try:
        with primary.connect() as connection:
            target = connection.execute(sqlalchemy.text("SELECT pg_current_wal_lsn()")).scalar()
        while True:
            with standby.connect() as connection:
                behind = connection.execute(
                    sqlalchemy.text("SELECT pg_wal_lsn_diff(CAST(:target AS pg_lsn), pg_last_wal_replay_lsn())"), {"target": target}
                ).scalar()
            if behind is not None and behind <= 0:
                return time.monotonic() - began
            if time.monotonic() - began > limit_seconds:
                raise RuntimeError(f"the standby is still {behind} bytes of WAL behind after {limit_seconds} s")
            time.sleep(0.05)
    finally:
        primary.dispose()
        standby.dispose()


if __name__ == "__main__":
    with replica_pair() as pair:
        print(f"primary {pair.primary_url}\nstandby {pair.standby_url}\nCtrl-C stops and removes both", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
