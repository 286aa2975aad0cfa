"""``ledger period``: close a month (结账), reopen a period (反结账), list a book's closes and reopenings."""

from __future__ import annotations

from dataclasses import fields
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.markup import escape

from ledger.agency_time import local_time
from ledger.cli.common import (
    DbOption, FormatOption, JsonOption, RegionArgument, SchemeArgument, YearArgument, answering, default_actor, open_ledger, out,
    report_format, write_report,
)
from ledger.output import dict_rows, table as whole_table
from ledger.projections import queries
from ledger.tasks import periods

period_app = typer.Typer(help="Month and year close (结账) and reopening (反结账) of a book.", no_args_is_help=True)
ActorOption = Annotated[Optional[str], typer.Option(help="Who closes; default the login name.")]


@period_app.command("close")
def period_close(
    region: RegionArgument,
    scheme: SchemeArgument,
    year: YearArgument,
    month: Annotated[int, typer.Argument(min=1, max=12, help="The month to close; months close in order.")],
    seal: Annotated[bool, typer.Option("--seal", help="Also issue a seal of the book as it stands after the close.")] = False,
    actor: ActorOption = None,
    db: DbOption = None,
) -> None:
    """Close a month of a book: documents dated in it are refused from now on. (The year closes with a year_close document.)"""
    enter(periods.MonthClose, (region, scheme, year, month, seal), actor, db)


@period_app.command("reopen")
def period_reopen(
    region: RegionArgument,
    scheme: SchemeArgument,
    year: YearArgument,
    reason: Annotated[str, typer.Option(help="Why the period is opened again; kept in the book and shown on every later statement.")],
    month: Annotated[Optional[int], typer.Option(min=1, max=12, help="The month to reopen (with every later closed month); leave out to reopen the year.")] = None,
    actor: Annotated[Optional[str], typer.Option(help="Who reopens; default the login name.")] = None,
    db: DbOption = None,
) -> None:
    """Reopen a closed month or year, with the reason and the reopener's identity recorded."""
    enter(periods.Reopening, (region, scheme, year, reason, month), actor, db)


def enter(kind: type, arguments: tuple[object, ...], actor: str | None, db: str | None) -> None:
    """Check the request, post it as ``actor`` (default the login name), say what happened."""
    with answering():
        request = kind(*arguments)
        with open_ledger(db) as ledger:
            outcome = periods.enter(ledger, request, actor or default_actor())
    out.print(f"{outcome.status}: {outcome.document_id}")


@period_app.command("history")
def period_history(
    region: RegionArgument,
    scheme: SchemeArgument,
    year: YearArgument,
    db: DbOption = None,
    as_json: JsonOption = False,
    report_format_name: FormatOption = None,
) -> None:
    """Every close and reopening of a book: when (in the agency's time zone), by whom, why."""
    chosen = report_format(report_format_name, as_json=as_json)
    with open_ledger(db) as ledger:
        rows = periods.history(ledger, region, scheme, year)
    records = [{**r.__dict__, "recorded_at": local_time(r.recorded_at)} for r in rows]

    def draw(console: Console) -> None:
        table = whole_table(f"结账记录 {region}/{scheme}/{year}", ("action", "period", "actor", "reason", "document", "recorded at"),
                            prose=("actor", "reason"))
        for row, record in zip(rows, records):
            table.add_row(row.action, row.period, escape(row.actor), escape(row.reason), escape(row.document_id), record["recorded_at"])
        console.print(table)

    write_report(None, chosen, records, dict_rows(records, [f.name for f in fields(queries.PeriodAction)]), draw)
