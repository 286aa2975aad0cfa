"""Moving and keeping a store: export an archive, import one, copy a store to another, back up and restore.

The archive itself — its files, its manifest, proving and loading it — is
``ledger.archive``; this room checks a request, opens the stores and hands
back what was done. A backup is the database's own copy: SQLite's online
backup API, or PostgreSQL's ``pg_dump``/``pg_restore`` in their custom
format (docs/operations.md, "Backup and restore").
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, inspect
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError as UrlError

from ledger.accounts import SCHEMES
from ledger.aggregates.book import BookKey
from ledger.archive import (
    FILES_OF_FORMAT, ArchiveError, ArchiveScope, Exported, Loaded, load, read_archive, read_manifest, records, refuse_unless_empty,
    stored_rows, write_archive,
)
from ledger.regions import is_region_code
from ledger.store import Ledger, resolve_url
from ledger.tasks.arguments import ArgumentError
from ledger.verify import Report, verify

# Pages SQLite's backup copies at a time: between steps a writer may commit, and the copy takes it in.
SQLITE_BACKUP_PAGES = 4096
# How long pg_dump or pg_restore may run before it is given up (a day: a province's store is large).
POSTGRES_TOOL_TIMEOUT_SECONDS = 24 * 3600


def scope_of(region: str | None, book: str | None, year: int | None) -> ArchiveScope:
    """The scope ``--region``, ``--book REGION/SCHEME/YEAR`` and ``--year`` name; ``ArgumentError`` for one they cannot."""
    if region and book:
        raise ArgumentError("give --region or --book, not both")
    if region is not None and not is_region_code(region):
        raise ArgumentError(f"--region {region} is not a six-digit region code")
    key = None
    if book is not None:
        parts = book.split("/")
        if len(parts) != 3 or not is_region_code(parts[0]) or parts[1] not in SCHEMES or not parts[2].isdigit():
            raise ArgumentError(f"--book {book} is not REGION/SCHEME/YEAR (e.g. 500101/resident/2013; schemes {', '.join(SCHEMES)})")
        key = BookKey(parts[0], parts[1], int(parts[2]))
        if year is not None and year != key.year:
            raise ArgumentError(f"--year {year} and --book {book} disagree")
        year = None
    return ArchiveScope(region=region, book=key, year=year)


def existing_store(url: str | None) -> None:
    """Refuse a SQLite URL whose file does not exist (opening it would create an empty store); ``ArgumentError``."""
    parsed = _url(url)
    if parsed.get_backend_name() == "sqlite" and not Path(parsed.database or "").is_file():
        raise ArgumentError(f"there is no SQLite store at {parsed.database}")


def export_archive(ledger: Ledger, folder: Path, scope: ArchiveScope) -> dict[str, Any]:
    """Write the scope of the store into ``folder`` as an archive; return its manifest. ``ArchiveError`` when it cannot."""
    exported = Exported(scope, keeps_notification_ids=scope.whole)
    return write_archive(folder, records(ledger, exported), exported)


def import_archive(ledger: Ledger, folder: Path) -> Loaded:
    """Check the archive in ``folder`` against its manifest, then load it into the (empty) store, proving and verifying it."""
    refuse_unless_empty(ledger)
    manifest = read_manifest(folder)
    names = FILES_OF_FORMAT[manifest["store_format"]]
    return load(ledger, read_archive(folder, names), manifest["notification_ids"] == "kept", manifest["books"])


def copy_store(source: Ledger, target: Ledger) -> Loaded:
    """Copy a whole store into an empty one: its events, registry, seals, issued statements, users, grants and proposals.

    The archive's records flow from one store to the other a page at a
    time, with no folder between; the load proves and verifies them as an
    import does. Sessions and tokens are not copied: people log in again.
    """
    if _same_store(source.url, target.url):
        raise ArgumentError("--from and --to are the same store")
    if not any(stored_rows(source).values()):
        raise ArgumentError(f"the store {source.url} holds nothing to copy")
    refuse_unless_empty(target)
    exported = Exported(ArchiveScope(), keeps_notification_ids=True)
    numbered = ((name, number, record) for number, (name, record) in enumerate(records(source, exported, include_access=True), start=1))
    return load(target, numbered, keep_notification_ids=True)


def _same_store(first: str, second: str) -> bool:
    one, other = make_url(first), make_url(second)
    if one.get_backend_name() == "sqlite" and other.get_backend_name() == "sqlite":
        return os.path.realpath(one.database or "") == os.path.realpath(other.database or "")
    return one.render_as_string(hide_password=False) == other.render_as_string(hide_password=False)


# ---------------------------------------------------------------- backup and restore


@dataclass(frozen=True)
class BackedUp:
    """A backup written: where, how (``sqlite backup API`` or ``pg_dump``), its size in bytes, and the verify of what it holds."""

    path: Path
    method: str
    size_bytes: int
    report: Report | None


def _url(url: str | None) -> URL:
    try:
        return make_url(resolve_url(url))
    except UrlError as error:
        raise ArgumentError(f"--db: {error}") from None


def backup(url: str | None, out: Path) -> BackedUp:
    """Back up a whole store into ``out`` (a new file), online: writers may go on meanwhile.

    SQLite: the sqlite3 backup API, then the copy is verified. PostgreSQL:
    ``pg_dump --format=custom`` (the server's own tool, which must be on the
    PATH; ``ArchiveError`` says what to run otherwise); the dump is checked by
    restoring it (``restore``), not here.
    """
    target = _url(url)
    if out.exists():
        raise ArgumentError(f"{out} exists: a backup is written to a new file, never over one")
    if target.get_backend_name() == "sqlite":
        source_path = Path(target.database or "")
        if not source_path.is_file():
            raise ArgumentError(f"there is no SQLite store at {source_path}")
        _sqlite_copy(source_path, out)
        with Ledger(f"sqlite:///{out}") as copy:
            report = verify(copy)
        return BackedUp(out, "sqlite backup API", out.stat().st_size, report)
    if target.get_backend_name() == "postgresql":
        _run_postgres_tool("pg_dump", ["--format=custom", "--no-owner", f"--file={out}"], target)
        return BackedUp(out, "pg_dump --format=custom", out.stat().st_size, None)
    raise ArgumentError(f"backup knows SQLite and PostgreSQL stores, not {target.get_backend_name()}")


def restore(url: str | None, backup_file: Path) -> Report:
    """Restore a backup into an empty store at ``url`` and verify it; return the verify report.

    SQLite: the file at ``url`` must not exist (or be empty); PostgreSQL:
    the database must hold no table, and the dump is restored with
    ``pg_restore`` in one transaction.
    """
    target = _url(url)
    if not backup_file.is_file():
        raise ArgumentError(f"there is no backup file {backup_file}")
    if target.get_backend_name() == "sqlite":
        target_path = Path(target.database or "")
        if target_path.exists() and target_path.stat().st_size > 0:
            raise ArgumentError(f"{target_path} exists: a backup is restored into a new file, never over a store")
        _sqlite_copy(backup_file, target_path)
    elif target.get_backend_name() == "postgresql":
        _refuse_unless_no_tables(target)
        _run_postgres_tool("pg_restore", ["--no-owner", "--exit-on-error", "--single-transaction", str(backup_file)], target)
    else:
        raise ArgumentError(f"restore knows SQLite and PostgreSQL stores, not {target.get_backend_name()}")
    with Ledger(target.render_as_string(hide_password=False)) as restored:
        return verify(restored)


def _sqlite_copy(source_path: Path, target_path: Path) -> None:
    """Copy one SQLite database into a new file with the backup API, a step of pages at a time."""
    try:
        source = sqlite3.connect(f"file:{source_path}?mode=ro", uri=True)
    except sqlite3.Error as error:
        raise ArchiveError(f"cannot open {source_path}: {error}", field="db") from None
    try:
        try:
            copy = sqlite3.connect(target_path)
        except sqlite3.Error as error:
            raise ArchiveError(f"cannot write {target_path}: {error}", field="out") from None
        try:
            source.backup(copy, pages=SQLITE_BACKUP_PAGES)
        except sqlite3.DatabaseError as error:
            raise ArchiveError(f"{source_path} is not a SQLite store: {error}", field="db") from None
        finally:
            copy.close()
    finally:
        source.close()


def _refuse_unless_no_tables(target: URL) -> None:
    engine = create_engine(target)
    try:
        names = inspect(engine).get_table_names()
    finally:
        engine.dispose()
    if names:
        raise ArgumentError(
            f"the database {target.database} holds {len(names)} table(s): a dump is restored into an empty database "
            f"(createdb a new one)"
        )


def _run_postgres_tool(tool: str, arguments: list[str], target: URL) -> None:
    """Run ``pg_dump`` or ``pg_restore`` on the database of ``target``; the password goes by the environment, not the command line."""
    program = shutil.which(tool)
    if program is None:
        raise ArchiveError(
            f"{tool} is not on the PATH: install PostgreSQL's client tools, or run it yourself as docs/operations.md "
            "(\"Backup and restore\") shows",
            field="db",
        )
    connection = [f"--host={target.host or 'localhost'}", f"--port={target.port or 5432}", f"--dbname={target.database}"]
    if target.username:
        connection.append(f"--username={target.username}")
    environment = dict(os.environ)
    if target.password:
        environment["PGPASSWORD"] = str(target.password)
    try:
        finished = subprocess.run(
            [program, *connection, "--no-password", *arguments], env=environment, capture_output=True, text=True,
            timeout=POSTGRES_TOOL_TIMEOUT_SECONDS, check=False,
        )
    except subprocess.TimeoutExpired:
        raise ArchiveError(f"{tool} ran longer than {POSTGRES_TOOL_TIMEOUT_SECONDS} s and was stopped", field="db") from None
    if finished.returncode != 0:
        reason = (finished.stderr or finished.stdout).strip().splitlines()
        raise ArchiveError(f"{tool} failed (exit {finished.returncode}): {reason[0] if reason else 'no message'}", field="db")
