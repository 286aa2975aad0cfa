"""``ledger generate`` writes a demo year of documents; ``ledger demo`` posts one into a store, closes it and shows the result."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer

from ledger.cli.common import DbOption, answering, err, open_ledger, out, progress_bar
from ledger.cli.render import print_trial_balance, report_post
from ledger.demo import DEMO_MUNICIPALITY
from ledger.money import format_yuan_grouped
from ledger.output import table as whole_table
from ledger.regions import region_name
from ledger.service.demo_users import DEMO_PASSWORD, DEMO_USERS, add_demo_users
from ledger.tasks import demo as task


def generate(
    size: Annotated[int, typer.Option(min=1, help="Scale: documents grow linearly with it.")] = 5,
    year: Annotated[int, typer.Option(help="The demo's fiscal year.")] = 2013,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same file.")] = 7,
    output: Annotated[str, typer.Option("--out", "-o", help="File to write; - for stdout.")] = "-",
) -> None:
    """Write a demo municipality's year of business documents as JSON Lines."""
    target = sys.stdout if output == "-" else open(output, "w", encoding="utf-8")
    count = 0
    try:
        for raw in task.generate(size=size, year=year, seed=seed):
            target.write(json.dumps(raw, ensure_ascii=False) + "\n")
            count += 1
    finally:
        if target is not sys.stdout:
            target.close()
    err.print(f"wrote {count} documents")


def demo(
    size: Annotated[int, typer.Option(min=1, help="Scale of the demo municipality.")] = 5,
    year: Annotated[int, typer.Option(help="The demo's fiscal year.")] = 2013,
    db: DbOption = None,
) -> None:
    """Generate a demo municipality, post its year, close it, and print the balances and the trial balance."""
    with answering(), open_ledger(db) as ledger:
        out.print(f"[bold]Posting a demo year {year} for {region_name(DEMO_MUNICIPALITY)} into {ledger.url}[/bold]")
        with progress_bar(err.is_terminal) as progress:
            bar = progress.add_task("posting")
            result = task.run(ledger, size, year, advance=lambda: progress.advance(bar),
                              started=lambda total: progress.update(bar, total=total))
            add_demo_users(ledger.engine)
    report_post(result.summary)
    print_positions(result.positions, year)
    for tb in result.trial_balances:
        print_trial_balance(tb)
    out.print(f"demo users for `ledger serve` (password {DEMO_PASSWORD}, this demo store only): "
              + ", ".join(f"{name} ({role})" for name, _, role in DEMO_USERS), soft_wrap=True)
    report = result.report
    verdict = "[green]agree[/green]" if report.agrees else "[red]DISAGREE[/red]"
    out.print(
        f"ledger verify: replayed {report.books} books ({report.events} book events), proved their hash chains "
        f"and vouchers, checked {report.seals} seals; events, seals and projections {verdict}"
    )
    if result.summary.rejected or not report.agrees:
        raise typer.Exit(1)


def print_positions(positions: list[task.FundPosition], year: int) -> None:
    """Each book carried into ``year + 1``: 财政专户, 支出户 and the fund balance (by tier on resident books)."""
    columns = ("region", "name", "scheme", "1003 财政专户", "1004 支出户", "3001 tier 1", "3001 tier 2 / fund")
    table = whole_table(f"Fund books {year}, closed and carried into {year + 1}", columns, right=columns[3:], prose=("name",))
    for p in positions:
        table.add_row(
            p.region, region_name(p.region), p.scheme, format_yuan_grouped(p.fiscal_fen), format_yuan_grouped(p.payment_fen),
            format_yuan_grouped(p.tier_1_fen) if p.tier_1_fen is not None else "", format_yuan_grouped(p.rest_fen),
        )
    out.print(table)
