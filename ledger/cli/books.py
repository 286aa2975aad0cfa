"""Reading the books: ``balance``, ``trial-balance``, ``books``, ``fiscal``."""

from __future__ import annotations

from dataclasses import fields
from typing import Annotated, Optional

import typer
from rich.console import Console

from ledger.cli.common import (
    AsOfOption, DbOption, FormatOption, JsonOption, KnownOnOption, RegionArgument, SchemeArgument, YearArgument, answering, open_reader, report_format, say_position, write_report,
)
from ledger.cli.render import balance_table, print_trial_balance
from ledger.money import format_yuan, format_yuan_grouped
from ledger.output import dict_rows, table as whole_table
from ledger.projections import queries
from ledger.regions import region_name
from ledger.tasks import balances as task
from ledger.tasks.reading import read_at_position

BALANCE_CSV_COLUMNS = ("account", "name", "tier", "debit", "credit", "balance", "side")


def balance(
    region: RegionArgument,
    scheme: SchemeArgument,
    year: YearArgument,
    account: Annotated[Optional[str], typer.Option(help="One account (with its sub-accounts), e.g. 1003 or 4101.")] = None,
    as_of: AsOfOption = None,
    known_on: KnownOnOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
    report_format_name: FormatOption = None,
) -> None:
    """Balances of one book: every account, or one; now, or as of a past date and as known on a past time."""
    chosen = report_format(report_format_name, as_json=as_json)
    with answering():
        query = task.BalanceQuery(region, scheme, year, account, as_of, known_on)
        with open_reader(db) as ledger:
            result, position = read_at_position(ledger, lambda: task.balance(ledger, query))
            say_position(ledger, position)
    payload = {**task.balance_json(result), "position": position}
    write_report(None, chosen, payload, dict_rows(payload["rows"], BALANCE_CSV_COLUMNS),  # type: ignore[arg-type]
                 lambda console: console.print(balance_table(result.title, result.rows)))


def trial_balance(
    region: Annotated[str, typer.Argument(help="A district (its books) or a municipality such as 500000 (all its books).")],
    year: Annotated[int, typer.Argument(help="Fiscal year.")],
    scheme: Annotated[Optional[str], typer.Option(help="Only this scheme's books.")] = None,
    as_of: AsOfOption = None,
    known_on: KnownOnOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
    report_format_name: FormatOption = None,
) -> None:
    """Trial balance (试算平衡表) of a district's books or of a whole municipality, now or as of a date. Exits 1 if unbalanced."""
    chosen = report_format(report_format_name, as_json=as_json)
    with answering():
        query = task.TrialBalanceQuery(region, year, scheme, as_of, known_on)
        with open_reader(db) as ledger:
            balances, position = read_at_position(ledger, lambda: task.trial_balances(ledger, query))
            say_position(ledger, position)
    write_report(None, chosen, [task.trial_balance_json(tb) for tb in balances], trial_balance_csv(balances),
                 lambda console: [print_trial_balance(tb, console) for tb in balances])
    if not all(tb.balanced for tb in balances):
        raise typer.Exit(1)


def trial_balance_csv(balances: list[queries.TrialBalance]) -> list[list[object]]:
    """Every trial balance's rows, then its 合计 row; debit and credit balances in two columns, yuan text."""
    rows: list[list[object]] = [["trial_balance", "account", "name", "tier", "debit_turnover", "credit_turnover", "debit_balance", "credit_balance"]]
    for tb in balances:
        for r in tb.rows:
            rows.append([tb.title, r.account, r.name, r.tier, format_yuan(r.debit_fen), format_yuan(r.credit_fen),
                         format_yuan(max(r.balance_fen, 0)), format_yuan(max(-r.balance_fen, 0))])
        rows.append([tb.title, "", "合计 total", "", format_yuan(tb.debit_turnover_fen), format_yuan(tb.credit_turnover_fen),
                     format_yuan(tb.debit_total_fen), format_yuan(tb.credit_total_fen)])
    return rows


def books(
    region: Annotated[Optional[str], typer.Option(help="A district, or a municipality for all its books.")] = None,
    year: Annotated[Optional[int], typer.Option(help="Fiscal year.")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
    report_format_name: FormatOption = None,
) -> None:
    """List the books."""
    chosen = report_format(report_format_name, as_json=as_json)
    with answering(), open_reader(db) as ledger:
        rows, position = read_at_position(ledger, lambda: task.books(ledger, region, year))
        say_position(ledger, position)
    records = [r.__dict__ for r in rows]

    def draw(console: Console) -> None:
        table = whole_table("Books", ("region", "name", "scheme", "year", "status", "events"), right=("year", "events"), prose=("name",))
        for row in rows:
            table.add_row(row.region, region_name(row.region), row.scheme, str(row.year), "closed" if row.closed else "open", str(row.events))
        console.print(table)

    write_report(None, chosen, records, dict_rows(records, [f.name for f in fields(queries.BookRow)]), draw)


def fiscal(
    region: Annotated[Optional[str], typer.Argument(help="A district, or a municipality for all its districts.")] = None,
    year: Annotated[Optional[int], typer.Option(help="Fiscal year.")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
    report_format_name: FormatOption = None,
) -> None:
    """The social-security fiscal special account (财政专户) per region and fund, as the finance bureau sees it."""
    chosen = report_format(report_format_name, as_json=as_json)
    with answering(), open_reader(db) as ledger:
        rows, position = read_at_position(ledger, lambda: task.fiscal_accounts(ledger, region, year))
        say_position(ledger, position)
    payload = [task.fiscal_account_json(r) for r in rows]
    columns = ("region", "name", "fund", "year", "上年结转 opening", "收入 receipts", "支出 payments", "余额 closing")

    def draw(console: Console) -> None:
        table = whole_table("财政专户 social-security fiscal special account", columns, right=columns[3:], prose=("name",))
        for r in rows:
            table.add_row(
                r.region, region_name(r.region), r.scheme, str(r.year),
                format_yuan_grouped(r.opening_fen), format_yuan_grouped(r.receipts_fen),
                format_yuan_grouped(r.payments_fen), format_yuan_grouped(r.closing_fen),
            )
        console.print(table)

    write_report(None, chosen, payload, dict_rows(payload, ("region", "scheme", "year", "opening", "receipts", "payments", "closing")), draw)
