"""``ledger statement``: the official statements 资产负债表 (会社保01表) and 收支表 (会社保02表): show, trace, issue, issued, compare."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.markup import escape

from ledger.agency_time import local_time
from ledger.cli.common import (
    DbOption, FormatOption, JsonOption, answering, default_actor, err, fail, open_ledger, open_reader, out, say_position, report_format, write_report,
)
from ledger.cli.render import draw_trace, trace_csv
from ledger.money import format_yuan_grouped
from ledger.output import console as file_console, dict_rows, table as whole_table
from ledger.statements.compare import MAXIMUM_PUBLISHED_BYTES
from ledger.statements.issuing import IssueResult
from ledger.statements.render import FORMATS as OUTPUT_FORMATS, rich_view, to_csv, to_json, write_xlsx
from ledger.tasks.reading import read_at_position
from ledger.tasks import statements as task

statement_app = typer.Typer(
    help="Official statements: 资产负债表 (会社保01表) and 收支表 (会社保02表): show, issue, list issues, compare a published one.",
    no_args_is_help=True,
)

StatementFormOption = Annotated[str, typer.Option("--form", help="01 资产负债表 (balance sheet) or 02 收支表 (income and expense).")]
StatementRegionOption = Annotated[str, typer.Option("--region", help="A district's code (its book); with --consolidated a municipality's, e.g. 500000.")]
StatementSchemeOption = Annotated[str, typer.Option("--scheme", help="resident, assistance, worker or adjustment.")]
StatementYearOption = Annotated[int, typer.Option("--year", help="Fiscal year.")]
StatementMonthOption = Annotated[
    Optional[int], typer.Option("--month", min=1, max=12, help="A monthly statement (本月数, 本年累计数); without it the annual one (本年数, 上年数).")
]
StatementConsolidatedOption = Annotated[
    bool, typer.Option("--consolidated", help="Every book of the fund in the municipality, remittances and grants between them eliminated.")
]
StatementAdjustmentOption = Annotated[bool, typer.Option("--with-adjustment", help="With --consolidated: add the municipality's 市级调剂金 books.")]
StatementAsOfOption = Annotated[Optional[str], typer.Option("--as-of", help="Take the figures at this effective date (YYYY-MM-DD) inside the period.")]
StatementKnownOnOption = Annotated[
    Optional[str], typer.Option("--known-on", help="Only what was recorded by this time (ISO 8601, UTC; a date alone means its end): the statement as it stood then.")
]
StatementOutOption = Annotated[Optional[Path], typer.Option("--out", "-o", help="Write to this file instead of the screen (required for xlsx).")]


def emit(text: str, target: Path | None, byte_order_mark: bool = False) -> None:
    """Text to stdout as it is (no Rich wrapping), or to a file; a CSV file gets a BOM so spreadsheets read its Chinese."""
    if target is None:
        sys.stdout.write(text)
        return
    target.write_text(text, encoding="utf-8-sig" if byte_order_mark else "utf-8")
    err.print(f"wrote {target}")


@statement_app.command("show")
def statement_show(
    form: StatementFormOption,
    region: StatementRegionOption,
    scheme: StatementSchemeOption,
    year: StatementYearOption,
    month: StatementMonthOption = None,
    consolidated: StatementConsolidatedOption = False,
    with_adjustment: StatementAdjustmentOption = False,
    as_of: StatementAsOfOption = None,
    known_on: StatementKnownOnOption = None,
    output_format: Annotated[str, typer.Option("--format", help="table, json, csv or xlsx.")] = "table",
    output: StatementOutOption = None,
    db: DbOption = None,
) -> None:
    """Compute a statement, check its invariants, and print or write it. A statement whose invariants fail is not given: exit 1."""
    if output_format not in OUTPUT_FORMATS:
        raise fail(f"--format must be one of {', '.join(OUTPUT_FORMATS)}")
    if output_format == "xlsx" and output is None:
        raise fail("--format xlsx writes a file: give --out FILE.xlsx")
    with answering():
        request = task.StatementRequest(form, region, scheme, year, month, consolidated, with_adjustment, as_of, known_on)
        with open_reader(db) as ledger:
            statement, position = read_at_position(ledger, lambda: task.show(ledger, request))
            say_position(ledger, position)
    if output_format == "xlsx":
        write_xlsx(statement, str(output))
        err.print(f"wrote {output}")
    elif output_format == "json":
        emit(json.dumps(to_json(statement), ensure_ascii=False, indent=2) + "\n", output)
    elif output_format == "csv":
        emit(to_csv(statement), output, byte_order_mark=True)
    elif output is not None:
        with output.open("w", encoding="utf-8") as target:
            file_console(target, no_color=True).print(rich_view(statement))
        err.print(f"wrote {output}")
    else:
        out.print(rich_view(statement))


@statement_app.command("trace")
def statement_trace(
    form: StatementFormOption,
    region: StatementRegionOption,
    scheme: StatementSchemeOption,
    year: StatementYearOption,
    line: Annotated[int, typer.Option("--line", help="The 行次 of the figure to trace (an account line).")],
    column: Annotated[
        Optional[str],
        typer.Option(help="month, year_to_date or this_year on a 收支表, closing on a 资产负债表; default the year's figure."),
    ] = None,
    month: StatementMonthOption = None,
    consolidated: StatementConsolidatedOption = False,
    with_adjustment: StatementAdjustmentOption = False,
    as_of: StatementAsOfOption = None,
    known_on: StatementKnownOnOption = None,
    limit: Annotated[int, typer.Option(min=1, help="List at most this many lines; the totals cover all of them.")] = 1000,
    db: DbOption = None,
    as_json: JsonOption = False,
    report_format_name: FormatOption = None,
) -> None:
    """Trace a statement figure to its posting lines, documents and events, and bridge their total to the figure. Exit 1 if it does not land."""
    chosen = report_format(report_format_name, as_json=as_json)
    with answering():
        request = task.StatementRequest(form, region, scheme, year, month, consolidated, with_adjustment, as_of, known_on)
        with open_reader(db) as ledger:
            result, position = read_at_position(ledger, lambda: task.trace_figure(ledger, request, line, column, limit))
            say_position(ledger, position)
    traced = result.traced

    def draw(console: Console) -> None:
        draw_trace(console, traced.trace, result.names, result.title, result.statement.period.label, traced.column.code != "closing")
        for step, fen in result.bridge:
            console.print(f"  {step}: {format_yuan_grouped(fen)}")
        counted_fen = sum(fen for _, fen in result.bridge)
        shown_as = "a credit, shown positive" if traced.line.spec.sign < 0 else "a debit"
        console.print(
            f"  = {format_yuan_grouped(counted_fen)} debit positive, {format_yuan_grouped(traced.explained_fen)} as the line "
            f"shows it ({shown_as}); the statement shows {format_yuan_grouped(traced.figure_fen)}"
        )
        console.print("[green]the lines give the figure[/green]" if traced.agrees else "[red]the lines do NOT give the figure[/red]")

    payload = task.figure_trace_json(result) if chosen == "json" else None
    write_report(None, chosen, payload, trace_csv(task.figure_lines_json(result)) if chosen == "csv" else None, draw)
    if not traced.agrees:
        raise typer.Exit(1)


@statement_app.command("issue")
def statement_issue(
    form: StatementFormOption,
    region: StatementRegionOption,
    scheme: StatementSchemeOption,
    year: StatementYearOption,
    month: StatementMonthOption = None,
    consolidated: StatementConsolidatedOption = False,
    with_adjustment: StatementAdjustmentOption = False,
    issued_by: Annotated[Optional[str], typer.Option("--by", help="Who issues it; default the login name.")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Issue a statement: record it with its figures, position and source hash, and show what changed since its last issue."""
    with answering():
        request = task.StatementRequest(form, region, scheme, year, month, consolidated, with_adjustment)
        with open_ledger(db) as ledger:
            result = task.issue(ledger, request, issued_by or default_actor())
    if as_json:
        out.print_json(json.dumps(task.issue_json(result), ensure_ascii=False))
        return
    print_issue(result)


def print_issue(result: IssueResult) -> None:
    """The issue, then what changed since the last issue: figures, and the documents recorded since that touch its books."""
    issued = result.issued
    out.print(
        f"issued #{issued.id}: {result.statement.form.number} {result.statement.form.title} {escape(issued.scope)} {issued.period} "
        f"by {escape(issued.issued_by)} at {local_time(issued.issued_at)}; position {issued.position}, source hash {issued.source_hash}, "
        f"figures digest {issued.figures_digest}",
        highlight=False,
        soft_wrap=True,
    )
    if result.previous is None:
        out.print("first issue of this statement")
        return
    previous = result.previous
    out.print(f"last issued as #{previous.id} at {local_time(previous.issued_at)} (position {previous.position})", highlight=False)
    if not result.changes:
        out.print("[green]no figure changed since then[/green]")
    else:
        table = whole_table(f"changed since #{previous.id}", ("行次", "项目", "column", "old", "new", "difference"),
                            right=("行次", "old", "new", "difference"), prose=("项目",))
        for c in result.changes:
            table.add_row(
                str(c.row), c.name, c.column,
                "" if c.old_fen is None else format_yuan_grouped(c.old_fen),
                "" if c.new_fen is None else format_yuan_grouped(c.new_fen),
                format_yuan_grouped(c.difference_fen),
            )
        out.print(table)
    if result.documents:
        table = whole_table(f"documents recorded since #{previous.id} that touch its books",
                            ("document", "kind", "books", "effective", "recorded"), prose=("kind", "books"))
        for d in result.documents:
            table.add_row(escape(d.document_id), ", ".join(d.kinds), ", ".join(d.books), d.effective_date, local_time(d.recorded_at))
        out.print(table)
        if result.documents_truncated:
            out.print("(the list stops at its limit; more documents were recorded)")


@statement_app.command("issued")
def statement_issued(
    form: Annotated[Optional[str], typer.Option("--form", help="Only this form (01 or 02).")] = None,
    scope: Annotated[Optional[str], typer.Option("--scope", help="Only this scope, as issued: 500101/resident, 500000/resident/consolidated+adjustment.")] = None,
    period: Annotated[Optional[str], typer.Option("--period", help="Only this period: 2013 or 2013-06.")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
    report_format_name: FormatOption = None,
) -> None:
    """List the issued statements, oldest first (issue times in the agency's time zone)."""
    chosen = report_format(report_format_name, as_json=as_json)
    with open_ledger(db) as ledger:
        rows = task.issued(ledger, form, scope, period)
    records = [task.issued_json(r) for r in rows]

    def draw(console: Console) -> None:
        columns = ("#", "form", "scope", "period", "issued at", "by", "position", "source hash", "figures digest")
        table = whole_table("Issued statements", columns, right=("#", "position"), prose=("by",))
        for r, record in zip(rows, records):
            table.add_row(str(r.id), r.form, escape(r.scope), r.period, str(record["issued_at"]), escape(r.issued_by), str(r.position),
                          r.source_hash, r.figures_digest)
        console.print(table)

    write_report(None, chosen, records, dict_rows(records), draw)


@statement_app.command("compare")
def statement_compare(
    file: Annotated[Path, typer.Argument(help="The published statement: CSV or XLSX of line items, in 元 or 万元 (docs/statements.md).")],
    form: StatementFormOption,
    region: StatementRegionOption,
    scheme: StatementSchemeOption,
    year: StatementYearOption,
    month: StatementMonthOption = None,
    consolidated: StatementConsolidatedOption = False,
    with_adjustment: StatementAdjustmentOption = False,
    as_of: StatementAsOfOption = None,
    known_on: StatementKnownOnOption = None,
    unit: Annotated[
        Optional[str], typer.Option("--unit", help="The unit the publication's figures are in: yuan (元) or wan (万元); default the file's 单位 line, else yuan.")
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
    report_format_name: FormatOption = None,
) -> None:
    """Compare a published statement with the books, line by line, and check its own arithmetic. Exit 1 when anything differs."""
    chosen = report_format(report_format_name, as_json=as_json)
    with answering():
        request = task.StatementRequest(form, region, scheme, year, month, consolidated, with_adjustment, as_of, known_on)
    try:
        with file.open("rb") as stream:
            published = stream.read(MAXIMUM_PUBLISHED_BYTES + 1)
    except OSError as error:
        raise fail(f"cannot read {escape(str(file))}: {escape(error.strerror or str(error))}") from None
    with answering(), open_ledger(db) as ledger:
        result = task.compare_published(ledger, request, published, unit)
    payload = task.comparison_json(result)

    def draw(console: Console) -> None:
        for finding in result.findings:
            console.print(f"[red]{finding.kind}: {escape(finding.message)}[/red]", highlight=False)
        if result.not_published:
            console.print("not published (not compared): " + ", ".join(f"行次 {spec.row} {spec.name}" for spec in result.not_published),
                          highlight=False)
        verdict = "[green]agrees with the books[/green]" if result.agrees else f"[red]{len(result.findings)} findings[/red]"
        console.print(f"{verdict}: {escape(file.name)} ({payload['unit']}) against {result.statement.name}", highlight=False)

    columns = ("kind", "row", "name", "column", "published", "books", "message")
    write_report(None, chosen, payload, dict_rows(payload["findings"], columns), draw)  # type: ignore[arg-type]
    if not result.agrees:
        raise typer.Exit(1)
