"""What every command of the face shares: the options, the consoles, opening the store, refusals as exits, writing a report.

A task (``ledger.tasks``) raises ``ArgumentError`` for a request it cannot
take (exit 2) and any other ``LedgerError`` for a refusal (exit 1);
``answering()`` turns either into its message in red and the exit code.
"""

from __future__ import annotations

import getpass
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated, Any, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

from ledger import formats
from ledger.errors import LedgerError, database_reason
from ledger.formats import StoreFormatError
from ledger.output import console, csv_text
from ledger.store import URL_VARIABLE, Ledger
from ledger.tasks import reading
from ledger.tasks.arguments import ArgumentError

# Consoles that never cut a figure (ledger/output.py); their width is set again as each command starts.
out = console()
err = console(stderr=True)

DbOption = Annotated[
    Optional[str],
    typer.Option("--db", envvar=URL_VARIABLE, help="Store URL (sqlite:///file.db or postgresql+psycopg2://...); default ./ledger.db."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table (the same as --format json).")]
FormatOption = Annotated[Optional[str], typer.Option("--format", help="table (the default), json or csv.")]
REPORT_FORMATS = ("table", "json", "csv")
AsOfOption = Annotated[
    Optional[str],
    typer.Option("--as-of", help="Balances at the end of this effective date (YYYY-MM-DD), from the dated projection; no replay."),
]
KnownOnOption = Annotated[
    Optional[str],
    typer.Option(
        "--known-on",
        help="Only what had been recorded by this time: YYYY-MM-DD (the end of that day) or YYYY-MM-DDTHH:MM, "
        "in the agency's time zone (LEDGER_TIMEZONE, default Asia/Shanghai) unless it gives an offset: "
        "the books as they stood before any later back-dated correction.",
    ),
]
RegionArgument = Annotated[str, typer.Argument(help="Six-digit region code, e.g. 500101.")]
SchemeArgument = Annotated[str, typer.Argument(help="resident, assistance, worker or adjustment.")]
YearArgument = Annotated[int, typer.Argument(help="Fiscal year.")]
RegionOption = Annotated[str, typer.Option(help="Six-digit region code of the book.")]
SchemeOption = Annotated[str, typer.Option(help="resident, assistance, worker or adjustment.")]
YearOption = Annotated[int, typer.Option(help="Fiscal year of the book.")]


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print ``message`` (Rich markup) in red on stderr and give the exit to raise."""
    err.print(f"[red]{message}[/red]", highlight=False)
    return typer.Exit(code)


@contextmanager
def answering() -> Iterator[None]:
    """Turn a task's refusal into its message and an exit: 2 for an ``ArgumentError``, 1 for any other ``LedgerError``."""
    try:
        yield
    except ArgumentError as error:
        raise fail(escape(str(error)), 2) from None
    except LedgerError as error:
        raise fail(escape(str(error)), 1) from None


def open_ledger(url: str | None, project: bool = True) -> Ledger:
    """The ledger on ``url`` (``LEDGER_DB``, else ./ledger.db); a store that cannot be opened is exit 2, one of another format exit 1.

    ``project`` False posts without folding into the projections (``store.Ledger``).
    """
    try:
        return Ledger(url, project=project)
    except StoreFormatError as error:  # another format: the message names the command to run
        raise fail(escape(str(error)), 1) from None
    except Exception as error:  # a wrong URL or a server that does not answer
        raise store_unreachable(url or "sqlite:///ledger.db", error) from None


def store_unreachable(url: str, error: BaseException) -> typer.Exit:
    """Exit 2 with why the store at ``url`` cannot be opened: the URL (password hidden) and the driver's first line."""
    return fail(f"cannot open the store {escape(formats.shown_url(url))}: {escape(database_reason(error))}")


@dataclass
class ReadOptions:
    """The global options of reading commands (``ledger --read-db URL --wait-for ID balance …``).

    Attributes:
      read_db: a store to read from instead of ``--db``, e.g. a PostgreSQL hot standby; None reads ``--db``.
      wait_for: a document id, or a log position (digits), the read must include.
      wait_seconds: how long to wait for it before refusing.
    """

    read_db: str | None = None
    wait_for: str | None = None
    wait_seconds: float = 30.0


read_options = ReadOptions()


@contextmanager
def open_reader(db: str | None) -> Iterator[Ledger]:
    """The ledger a reading command reads: ``--read-db`` (opened read-only) if given, else ``--db``.

    With ``--wait-for`` it first waits until what it reads reflects the
    document (its position is looked up on ``--db``, the primary) or the
    position; a wait that times out is a refusal (exit 1).
    """
    options = read_options
    if options.read_db:
        try:
            reader = Ledger(options.read_db, read_only=True)
        except Exception as error:  # a wrong URL or a server that does not answer
            raise fail(f"cannot open the read store {escape(options.read_db)}: {escape(str(error))}") from None
    else:
        reader = open_ledger(db)
    with reader:
        if options.wait_for:
            wait_for(db, reader, options)
        yield reader


def wait_for(db: str | None, reader: Ledger, options: ReadOptions) -> None:
    """Wait until ``reader`` reflects ``options.wait_for``; a refusal when it does not in time."""
    wanted = options.wait_for or ""
    with answering():
        if wanted.isdigit():
            position, what = int(wanted), f"position {wanted}"
        elif options.read_db:
            with open_ledger(db) as primary:
                position, what = reading.document_position(primary, wanted), f"document {wanted}"
        else:
            position, what = reading.document_position(reader, wanted), f"document {wanted}"
        reading.wait_for_position(reader, position, options.wait_seconds, what)


def say_position(reader: Ledger, position: int) -> None:
    """The footer of a read, on stderr: the log position its figures reflect, and how far the log has gone past it."""
    head = reader.projector.log_head()
    lag = f", {head - position} events behind the log's head {head}" if head > position else ""
    err.print(f"read at log position {position}{lag}", highlight=False)


def default_actor() -> str:
    """Who is at the keyboard: the login name, or ``unknown`` on a machine that has none."""
    try:
        return getpass.getuser()
    except Exception:  # no user name on this machine: still post, say so
        return "unknown"


def progress_bar(enabled: bool) -> Progress:
    """A progress bar on stderr that leaves nothing behind; ``enabled`` False draws nothing."""
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
        console=err,
        disable=not enabled,
        transient=True,
    )


def report_format(chosen: str | None, allowed: tuple[str, ...] = REPORT_FORMATS, as_json: bool = False) -> str:
    """The output format from --format and the older --json flag (which means --format json)."""
    if as_json:
        if chosen not in (None, "json"):
            raise fail(f"--json and --format {escape(chosen)} disagree: give one")
        return "json"
    chosen = chosen or "table"
    if chosen not in allowed:
        raise fail(f"--format must be one of {', '.join(allowed)}")
    return chosen


def write_report(
    output: str | None, chosen: str, json_payload: object, csv_rows: list[list[object]] | None,
    draw: Callable[[Console], Any] | None,
) -> None:
    """Print a report, or write it to ``output``: JSON, CSV, or the tables drawn by ``draw(console)``.

    Money is yuan text in JSON and CSV; the tables never cut a figure (ledger/output.py).
    """
    try:
        target = open(output, "w", encoding="utf-8", newline="") if output else None
    except OSError as error:
        raise fail(f"cannot write {output}: {error.strerror}") from None
    try:
        if chosen == "json":
            (target or sys.stdout).write(json.dumps(json_payload, ensure_ascii=False, indent=2) + "\n")
        elif chosen == "csv":
            (target or sys.stdout).write(csv_text(csv_rows or []))
        elif draw is not None:
            draw(console(target, no_color=True) if target else out)
    finally:
        if target:
            target.close()
