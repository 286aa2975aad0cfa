"""The ``ledger`` command line: one face over the use-case functions of ``ledger.tasks``.

Every command parses its arguments, calls one task and renders what the
task returns (a table, JSON or CSV); refusals come back as ``LedgerError``
and leave as a red message and an exit code (``common.answering``). The
commands live by group: ``posting``, ``books`` (balances), ``audit``
(verify, rebuild, explain, trace, vouchers, reconcile, seals), ``periods``,
``policy``, ``demo``, ``statements`` and ``archive`` (export, import, copy, backup, restore); drawings more than one group
prints are in ``render``. This module only puts them on the one ``app``,
in the order ``ledger --help`` lists them.
"""

from __future__ import annotations

import sys
from typing import Annotated, Optional

import typer
from rich.markup import escape
from eventsourcing.persistence import PersistenceError
from sqlalchemy.exc import DBAPIError

from ledger.cli import archive, audit, books, demo, posting, projecting
from ledger.cli.common import err, out, read_options
from ledger.errors import database_reason
from ledger.cli.migrating import migrate
from ledger.cli.periods import period_app
from ledger.cli.policy import policy_app
from ledger.cli.statements import statement_app
from ledger.cli.users import serve, user_app
from ledger.output import width_for

app = typer.Typer(
    help="An event-sourced fund ledger for China's public medical-insurance funds.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _global_options(
    read_db: Annotated[
        Optional[str],
        typer.Option(
            "--read-db", envvar="LEDGER_READ_DB",
            help="Read balances, trial balances, statements, traces, books and the fiscal account from this store, "
            "e.g. a PostgreSQL hot standby; posting and everything else use --db (docs/operations.md).",
        ),
    ] = None,
    wait_for: Annotated[
        Optional[str],
        typer.Option("--wait-for", help="A document id (looked up on --db) or a log position the read must include: wait for it."),
    ] = None,
    wait_seconds: Annotated[
        float, typer.Option("--wait-seconds", min=0, help="How long --wait-for waits before giving up (exit 1).")
    ] = 30.0,
) -> None:
    """Take the width from COLUMNS, the terminal, or none (a file or a pipe) as the command starts; keep the read options."""
    out.width = width_for(sys.stdout)  # type: ignore[assignment]
    err.width = width_for(sys.stderr)  # type: ignore[assignment]
    read_options.read_db, read_options.wait_for, read_options.wait_seconds = read_db, wait_for, wait_seconds


app.command()(posting.post)
app.command()(projecting.project)
app.command()(books.balance)
app.command("trial-balance")(books.trial_balance)
app.command()(books.books)
app.command()(books.fiscal)
app.command()(audit.rebuild)
app.command()(audit.verify)
app.add_typer(period_app, name="period")
app.add_typer(audit.seal_app, name="seal")
app.add_typer(policy_app, name="policy")
app.command()(audit.explain)
app.command()(demo.generate)
app.command()(demo.demo)
app.command()(audit.reconcile)
app.command()(audit.trace)
app.command()(audit.vouchers)
app.add_typer(statement_app, name="statement")
app.add_typer(user_app, name="user")
app.command()(archive.export)
app.command("import")(archive.import_)
app.command()(archive.copy)
app.command()(archive.backup)
app.command()(archive.restore)
app.command()(serve)
app.command()(migrate)


# The exit status when the database fails under a command (unreachable, or its connection killed).
EXIT_DATABASE_FAILED = 3


def main() -> None:
    """The ``ledger`` entry point.

    A database that cannot be reached, or whose connection dies under a
    command (a restarted server, an administrator's ``pg_terminate_backend``),
    is a message and exit 3, never a traceback. Posting saves in whole
    batches, one transaction each, so what was saved before the failure stays
    posted, the batch in flight was rolled back, and posting the same file
    again posts exactly the rest (docs/reliability.md).
    """
    try:
        app()
    except (DBAPIError, PersistenceError) as error:  # the library wraps the driver's errors in its own
        err.print(
            f"[red]the database failed: {escape(database_reason(error))}. Whatever a command saved "
            "before this stays saved whole and nothing is half-written; when the database answers again, run the "
            "command again (a file posted again posts only what is not yet posted).[/red]",
            soft_wrap=True,
        )
        sys.exit(EXIT_DATABASE_FAILED)
