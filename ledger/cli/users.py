"""``ledger user add|list|disable|grant|revoke`` and ``ledger serve``: the people of the service, and the service itself.

Passwords are read with a hidden prompt (asked twice) or, for scripts, from
the first line of standard input with ``--password-stdin``; never from an
argument, never echoed or printed. ``--by`` names the administrator making
the change (kept with it, ledger/access).
"""

from __future__ import annotations

import sys
from typing import Annotated, Optional

import typer
from rich.markup import escape

from ledger.access import grants, users
from ledger.cli.common import DbOption, answering, default_actor, fail, open_ledger, out, read_options, store_unreachable
from ledger.errors import LedgerError
from ledger.output import table as whole_table

# uvicorn's levels; and a bound on processes, each of which holds a pool of connections to the database.
LOG_LEVELS = ("critical", "error", "warning", "info", "debug")
MAXIMUM_WORKERS = 32

user_app = typer.Typer(help="Users of the service and their roles over regions (docs/service.md).", no_args_is_help=True)
ByOption = Annotated[Optional[str], typer.Option("--by", help="Who makes the change (default: the login name).")]


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = typer.prompt("password", hide_input=True)
    if typer.prompt("again", hide_input=True) != first:
        raise fail("the two passwords differ; nothing was changed")
    return first


@user_app.command("add")
def add(
    username: Annotated[str, typer.Argument(help="Login name: lower-case letters, digits, . _ -; at most 64.")],
    display_name: Annotated[str, typer.Option("--name", help="The name shown on vouchers, e.g. 张会计.")],
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read the password from stdin's first line.")] = False,
    by: ByOption = None,
    db: DbOption = None,
) -> None:
    """Add a user (enabled, no roles yet: grant them)."""
    password = _password(password_stdin)
    with answering(), open_ledger(db) as ledger:
        users.add_user(ledger.engine, username, display_name, password, by=by or default_actor())
    out.print(f"added {escape(username)}")


@user_app.command("list")
def list_users(db: DbOption = None) -> None:
    """List users with their live grants (never a password or a hash)."""
    with answering(), open_ledger(db) as ledger:
        rows = [(u, grants.list_grants(ledger.engine, u.username)) for u in users.list_users(ledger.engine)]
    table = whole_table("Users", ("username", "name", "status", "grants"), prose=("name", "grants"))
    for user, held in rows:
        table.add_row(user.username, user.display_name, "disabled" if user.disabled else "enabled",
                      ", ".join(f"{g.role.value}@{g.scope}" for g in held))
    out.print(table)


@user_app.command("disable")
def disable(username: Annotated[str, typer.Argument()], by: ByOption = None, db: DbOption = None) -> None:
    """Disable a user: no login, and their sessions and tokens stop working."""
    with answering(), open_ledger(db) as ledger:
        users.disable_user(ledger.engine, username, by=by or default_actor())
    out.print(f"disabled {escape(username)}")


@user_app.command("grant")
def grant(
    username: Annotated[str, typer.Argument()],
    role: Annotated[str, typer.Argument(help="accountant, checker, auditor, finance_officer or administrator.")],
    scope: Annotated[str, typer.Argument(help="Six-digit region code: a district, a municipality or a province.")],
    by: ByOption = None,
    db: DbOption = None,
) -> None:
    """Grant a role over a scope."""
    with answering(), open_ledger(db) as ledger:
        grants.grant(ledger.engine, username, role, scope, by=by or default_actor())
    out.print(f"granted {escape(role)} over {escape(scope)} to {escape(username)}")


@user_app.command("revoke")
def revoke(
    username: Annotated[str, typer.Argument()],
    role: Annotated[str, typer.Argument()],
    scope: Annotated[str, typer.Argument()],
    by: ByOption = None,
    db: DbOption = None,
) -> None:
    """Revoke a live grant (its row is kept, with who revoked it and when)."""
    with answering(), open_ledger(db) as ledger:
        grants.revoke(ledger.engine, username, role, scope, by=by or default_actor())
    out.print(f"revoked {escape(role)} over {escape(scope)} from {escape(username)}")


def serve(
    db: DbOption = None,
    host: Annotated[str, typer.Option(help="Address to listen on; keep 127.0.0.1 behind a reverse proxy.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, max=MAXIMUM_WORKERS, help="Processes serving the store, each one request at a "
                                         "time against the books; above 1 only on PostgreSQL (docs/service.md).")] = 1,
    forwarded_allow_ips: Annotated[str, typer.Option(
        "--forwarded-allow-ips", help="Comma-separated addresses of the reverse proxies whose X-Forwarded-For and "
        "X-Forwarded-Proto are believed (the login limits count the client address they give); '*' believes anyone.")] = "127.0.0.1",
    ledgers: Annotated[Optional[int], typer.Option(min=1, max=16, help="Requests each process works on the books at once, each "
                                                   "with a ledger of its own (default 4 on PostgreSQL, 1 on SQLite).")] = None,
    log_level: Annotated[str, typer.Option(help="uvicorn's log level: critical, error, warning, info (each request), debug.")] = "info",
    follower: Annotated[
        Optional[bool],
        typer.Option("--follower/--no-follower", help="Post without projecting: a `ledger project --follow` process keeps the projections "
                     "(default LEDGER_FOLLOWER, else no). Reads go to --read-db if given (docs/operations.md)."),
    ] = None,
) -> None:
    """Serve the HTTP API (docs/service.md) on the store: FastAPI on uvicorn, in one process or ``--workers`` processes."""
    from ledger.service import create_app, serving
    from ledger.store import resolve_url

    url = resolve_url(db)
    if workers > 1 and not url.startswith("postgresql"):
        raise fail(f"--workers {workers} needs a PostgreSQL store: SQLite takes one writer at a time, so serve it with one process "
                   "(docs/service.md)")
    if log_level not in LOG_LEVELS:
        raise fail(f"--log-level {escape(log_level)}: choose one of {', '.join(LOG_LEVELS)}")
    with answering():
        try:
            app = create_app(url, ledgers, follower, read_options.read_db)  # opens the store (creating its tables once, before any worker starts) or says why not
        except LedgerError:
            raise
        except Exception as error:  # a wrong URL or a server that does not answer
            raise store_unreachable(url, error) from None
    serving.run(app, url, host, port, workers, forwarded_allow_ips, log_level)
