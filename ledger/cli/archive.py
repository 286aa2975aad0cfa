"""Moving and keeping a store: ``export``, ``import``, ``copy``, ``backup`` and ``restore`` (docs/archive.md, docs/operations.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.markup import escape

from ledger.archive import Loaded
from ledger.cli.common import DbOption, answering, fail, open_ledger, out
from ledger.tasks import archiving
from ledger.verify import Report


def export(
    out_folder: Annotated[Path, typer.Option("--out", help="A new (or empty) folder to write the archive into.")],
    region: Annotated[Optional[str], typer.Option(help="Only a municipality (its books and every district's) or a district.")] = None,
    book: Annotated[Optional[str], typer.Option(help="Only one book: REGION/SCHEME/YEAR, e.g. 500101/resident/2013.")] = None,
    year: Annotated[Optional[int], typer.Option(help="Only the books of this fiscal year.")] = None,
    db: DbOption = None,
) -> None:
    """Write every event of the store (or of a scope) as stored, with the document registry, seals and issued
    statements, as JSON Lines and a manifest an auditor can check alone (docs/archive.md)."""
    with answering():
        scope = archiving.scope_of(region, book, year)
        archiving.existing_store(db)
    with answering(), open_ledger(db) as ledger:
        manifest = archiving.export_archive(ledger, out_folder, scope)
    files = manifest["files"]
    out.print(
        f"wrote {escape(str(out_folder))}: {files['events.jsonl']['lines']} events of {len(manifest['books'])} books, "
        f"{files['documents.jsonl']['lines']} documents, {files['seals.jsonl']['lines']} seals, "
        f"{files['statements.jsonl']['lines']} issued statements; manifest.json holds each file's SHA-256",
        soft_wrap=True,
    )


def import_(
    folder: Annotated[Path, typer.Argument(help="The archive folder (with manifest.json).")],
    db: DbOption = None,
) -> None:
    """Load an archive into an empty store: every file checked against the manifest, every chain link and rule of the
    books proven, the projections rebuilt and the whole store verified. Anything wrong: nothing is kept, exit 1."""
    with answering(), open_ledger(db) as ledger:
        loaded = archiving.import_archive(ledger, folder)
    _say_loaded("imported", loaded)


def copy(
    source: Annotated[str, typer.Option("--from", help="The store to copy (its URL).")],
    target: Annotated[str, typer.Option("--to", help="An empty store to copy into (its URL).")],
) -> None:
    """Copy a whole store into an empty one (e.g. SQLite to PostgreSQL), proving and verifying it as an import does;
    users, grants and proposals go with it, sessions and tokens do not."""
    with answering():
        archiving.existing_store(source)
    with answering(), open_ledger(source) as from_ledger, open_ledger(target) as to_ledger:
        loaded = archiving.copy_store(from_ledger, to_ledger)
    _say_loaded("copied", loaded)


def _say_loaded(done: str, loaded: Loaded) -> None:
    rows = loaded.rows
    out.print(
        f"{done} {loaded.log_events} events ({loaded.events} book events of {loaded.books} books), "
        f"{rows.get('documents.jsonl', 0)} documents, {rows.get('seals.jsonl', 0)} seals, "
        f"{rows.get('statements.jsonl', 0)} issued statements"
        + (f", {rows.get('users', 0)} users, {rows.get('grants', 0)} grants, {rows.get('proposals', 0)} proposals" if "users" in rows or "grants" in rows else "")
        + "; the projections were rebuilt and the store verifies: [green]agree[/green]",
        soft_wrap=True,
    )


def backup(
    out_file: Annotated[Path, typer.Option("--out", help="A new file to write the backup into.")],
    db: DbOption = None,
) -> None:
    """Back up a whole store while it runs: SQLite by its backup API (the copy is then verified), PostgreSQL by
    pg_dump in its custom format (docs/operations.md, "Backup and restore")."""
    with answering():
        done = archiving.backup(db, out_file)
    out.print(f"wrote {escape(str(done.path))} ({done.size_bytes} bytes) with the {done.method}", soft_wrap=True)
    if done.report is not None:
        _say_verified(done.report, "the backup")


def restore(
    backup_file: Annotated[Path, typer.Argument(help="A backup written by `ledger backup` (or pg_dump --format=custom).")],
    db: DbOption = None,
) -> None:
    """Restore a backup into a new SQLite file or an empty PostgreSQL database, then verify it (exit 1 if it disagrees)."""
    with answering():
        report = archiving.restore(db, backup_file)
    _say_verified(report, "the restored store")


def _say_verified(report: Report, what: str) -> None:
    for finding in report.findings:
        out.print(f"[red]{escape(finding.book)}: {escape(finding.message)}[/red]", soft_wrap=True)
    verdict = "[green]agree[/green]" if report.agrees else "[red]DISAGREE[/red]"
    out.print(f"{what}: {report.books} books, {report.log_events} events; events, seals and projections {verdict}")
    if not report.agrees:
        raise fail(f"{what} does not verify", 1)
