"""``ledger policy``: the policy in force for a region on a date, and the checks it sets on the funds."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from ledger.cli.common import DbOption, FormatOption, JsonOption, answering, open_ledger, report_format, write_report
from ledger.output import dict_rows, table as whole_table
from ledger.regions import region_name
from ledger.tasks import policy as task

policy_app = typer.Typer(help="The policy in force, and the checks it sets.", no_args_is_help=True)


@policy_app.command("show")
def policy_show(
    region: Annotated[str, typer.Argument(help="Six-digit region code.")],
    on: Annotated[str, typer.Argument(help="Date, YYYY-MM-DD.")],
    as_json: JsonOption = False,
    report_format_name: FormatOption = None,
) -> None:
    """Print the policy in force for a region on a date: every figure with its source document and clause."""
    chosen = report_format(report_format_name, as_json=as_json)
    with answering():
        policy = task.in_force(region, on)
    payload = task.policy_json(policy)

    def draw(console: Console) -> None:
        title = f"Policy in force for {region_name(region)} {region} on {on} (version {policy.version}; {', '.join(policy.files)})"
        table = whole_table(title, ("parameter", "value", "不低于", "source", "file"), prose=("source",))
        for p in sorted(policy.parameters.values(), key=lambda p: p.name):
            table.add_row(escape(p.name), escape(p.shown()), "≥" if p.minimum else "", escape(p.source + (f" — {p.note}" if p.note else "")), p.file_id)
        console.print(table)
        gaps = whole_table(
            "Gaps: figures the seeds leave open (the agency's own file must supply them)",
            ("gap", "what", "source — note", "file"),
            prose=("what", "source — note"),
        )
        for g in payload["gaps"]:  # type: ignore[union-attr]
            what = g["what"] + (" (set by the district)" if g["set_by"] == "district" else "")
            gaps.add_row(escape(g["name"]), escape(what), escape(g["source"] + (f" — {g['note']}" if g["note"] else "")), g["file"])
        console.print(gaps)

    write_report(None, chosen, payload, dict_rows(payload["parameters"], ("name", "value", "unit", "minimum", "source", "file", "note")), draw)  # type: ignore[arg-type]


@policy_app.command("check")
def policy_check(
    region: Annotated[str, typer.Argument(help="A district, or a municipality for all its books.")],
    year: Annotated[int, typer.Argument(help="Fiscal year.")],
    db: DbOption = None,
    as_json: JsonOption = False,
    report_format_name: FormatOption = None,
) -> None:
    """The policy's surplus checks on each fund: findings are reported, exit 1 when there are any."""
    chosen = report_format(report_format_name, as_json=as_json)
    with open_ledger(db) as ledger:
        findings = task.check(ledger, region, year)
    payload = task.check_json(region, year, findings)

    def draw(console: Console) -> None:
        for finding in findings:
            console.print(f"[yellow]{escape(finding.book)}: {escape(finding.message)}[/yellow]", highlight=False)
        console.print(f"{len(findings)} findings for {region_name(region)} {region} in {year}")

    write_report(None, chosen, payload, dict_rows(payload["findings"], ("book", "message")), draw)  # type: ignore[arg-type]
    if findings:
        raise typer.Exit(1)
