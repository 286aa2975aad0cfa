"""What an auditor runs: ``verify``, ``rebuild``, ``explain``, ``trace``, ``vouchers``, ``reconcile`` and the ``seal`` commands."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.console import Console
from rich.markup import escape

from ledger.agency_time import local_time
from ledger.cli.common import (
    DbOption, FormatOption, JsonOption, RegionOption, SchemeOption, YearOption, answering, err, fail, open_ledger, open_reader, out, say_position,
    report_format, write_report,
)
from ledger.cli.render import draw_computation, draw_trace, postings_table, trace_csv
from ledger.money import format_yuan, format_yuan_grouped
from ledger.output import dict_rows, table as whole_table
from ledger.regions import region_name
from ledger import verification_log
from ledger.tasks.reading import read_at_position
from ledger.tasks import explaining, reconciling, sealing, tracing, verifying, vouchers as voucher_task


def rebuild(
    force: Annotated[
        bool, typer.Option("--force", help="Rebuild even over a broken hash chain (an auditor who knows why).")
    ] = False,
    db: DbOption = None,
) -> None:
    """Prove every book's hash chain, then drop the projections and replay them from the events.

    Over a broken chain the projections are left as they are and the exit is 1, unless --force.
    """
    with open_ledger(db) as ledger, answering():
        result = verifying.rebuild(ledger, force)
    for finding in result.breaks:
        (err if force else out).print(f"[red]{escape(finding.book)}: {escape(finding.message)}[/red]")
    if not result.rebuilt:
        out.print(
            f"[red]refused: {len(result.breaks)} book(s) with a broken hash chain; the projections were left as they were "
            "(`ledger rebuild --force` builds them anyway)[/red]"
        )
        raise typer.Exit(1)
    out.print(
        f"rebuilt the projections of {result.books} books ({result.book_events} book events; {result.log_events} events in the log, "
        f"{result.log_events - result.book_events} of them policy-engine state)"
    )


def verify(
    seal: Annotated[
        Optional[list[Path]], typer.Option("--seal", help="A seal file kept outside the database; the books must still match it. Repeatable.")
    ] = None,
    public_key: Annotated[
        Optional[Path], typer.Option("--public-key", help="The agency's seal.pub: every seal file must be signed by this key.")
    ] = None,
    history: Annotated[
        bool, typer.Option("--history", help="Verify nothing: list the verification log (who verified when, the verdict, what it covered).")
    ] = False,
    limit: Annotated[int, typer.Option("--limit", min=1, max=10_000, help="With --history: how many of the latest verifications.")] = 50,
    db: DbOption = None,
    as_json: JsonOption = False,
    report_format_name: FormatOption = None,
) -> None:
    """Replay every book, prove its hash chain and voucher numbers, and compare with the projections and seals.

    Exit 0 only when everything agrees. ``--format csv`` lists the findings, one a row. Each completed
    verification is written to the store's verification log (``--history`` lists it); a log that cannot
    be written is said on stderr and does not change the verdict or the exit.
    """
    chosen = report_format(report_format_name, as_json=as_json)
    if history:
        with open_ledger(db) as ledger:
            rows = verifying.history(ledger, limit)
        _show_history(rows, chosen)
        return
    with answering():
        seal_files = verifying.read_seal_files(seal or [], public_key)
    with open_ledger(db) as ledger:
        report = verifying.verify(ledger, seal_files)
        logged = verifying.log_verification(ledger, report, verified_by=verification_log.os_user(), channel="cli")
    payload = verifying.verify_json(report)

    def draw(console: Console) -> None:
        for finding in report.findings:
            console.print(f"[red]{escape(finding.book)}: {escape(finding.message)}[/red]")
        verdict = "[green]agree[/green]" if report.agrees else "[red]DISAGREE[/red]"
        console.print(
            f"replayed {report.books} books ({report.events} book events; {report.log_events} events in the log, "
            f"{report.log_events - report.events} of them policy-engine state), proved their hash chains, vouchers "
            f"and every rule of the books, checked {report.seals} seals: events, seals and projections {verdict}"
        )

    write_report(None, chosen, payload, dict_rows(payload["findings"], ("book", "message")), draw)  # type: ignore[arg-type]
    if logged.error is not None:
        err.print(
            f"[yellow]the verification above was not written to the verification log: {escape(logged.error)}[/yellow]",
            highlight=False,
        )
    if not report.agrees:
        raise typer.Exit(1)


HISTORY_COLUMNS = (
    "verification_id", "verified_at", "verified_by", "channel", "scope", "agrees", "findings", "store_findings",
    "first_finding", "position", "chain_heads", "events",
)


def _show_history(rows: list[verification_log.Verification], chosen: str) -> None:
    """The verification log as a Rich table (times in the agency's zone), JSON or CSV (UTC ISO times)."""
    payload = [row.to_json() for row in rows]

    def draw(console: Console) -> None:
        if not rows:
            console.print("no verification recorded in this store yet: run `ledger verify`", highlight=False)
            return
        table = whole_table(
            "verification log (newest first)",
            ("#", "verified at", "by", "via", "scope", "result", "log position", "books", "book events"),
            right=("#", "log position", "books", "book events"),
            prose=("result",),
        )
        for row in rows:
            if row.agrees:
                result = "[green]agree[/green]"
            else:
                result = f"[red]{row.findings} finding(s)[/red]: {escape(row.first_finding or '')}"
            if row.store_findings and row.scope != verification_log.ALL:
                result += f" ({row.store_findings} in the whole store)"
            table.add_row(
                str(row.verification_id), escape(local_time(row.verified_at)), escape(row.verified_by), row.channel, escape(row.scope),
                result, f"{row.position:,}", f"{row.chain_heads:,}", f"{row.events:,}",
            )
        console.print(table)

    write_report(None, chosen, payload, dict_rows(payload, HISTORY_COLUMNS), draw)  # type: ignore[arg-type]


# ---------------------------------------------------------------- explain


def explain(
    document_id: Annotated[str, typer.Argument(help="The business document id.")],
    db: DbOption = None,
    as_json: JsonOption = False,
    report_format_name: FormatOption = None,
) -> None:
    """Show how a posted document's amounts were computed: facts, rule, policy figures with their clauses, rounding.

    In JSON and CSV every amount is yuan text (``"1234.56"``), the computation's too (docs/design.md).
    """
    chosen = report_format(report_format_name, as_json=as_json)
    with answering(), open_ledger(db) as ledger:
        shown = explaining.explain(ledger, document_id)
    write_report(None, chosen, shown, explain_csv(shown), lambda console: draw_explained(console, shown))


def explain_csv(shown: dict[str, Any]) -> list[list[object]]:
    """The explanation as one CSV: a ``posting`` row per posting line, a ``step`` row per computation step, a ``result`` row per amount."""
    rows: list[list[object]] = [["section", "book", "event", "effective_date", "recorded_at", "account", "tier", "debit", "credit",
                                 "step", "how", "value", "source"]]
    for entry in shown["entries"]:
        for p in entry["postings"]:
            rows.append(["posting", entry["book"], entry["event"], entry["effective_date"], entry["recorded_at"],
                         p["account"], p["tier"], p["debit"], p["credit"], "", "", "", ""])
    computation = shown["computation"]
    if computation:
        for step in computation["steps"]:
            rows.append(["step", "", "", "", "", "", "", "", "", step["label"], step["formula"], step["value"], step["source"]])
        for name, amount in computation["amounts"].items():
            rows.append(["result", "", "", "", "", "", "", "", "", name, "", amount, computation["rule"]])
    return rows


def draw_explained(console: Console, shown: dict[str, Any]) -> None:
    """The document, each entry's postings, then the computation (or that the document carried its amounts)."""
    console.print(f"[bold]{shown['document_id']}[/bold] ({shown['type']})" + (f", reversed by {shown['reversed_by']}" if shown["reversed_by"] else ""))
    for entry in shown["entries"]:
        title = f"{entry['event']} in {entry['book']}, effective {entry['effective_date']}, recorded {entry['recorded_at']} by {escape(entry['actor'])}"
        console.print(postings_table(title, entry["postings"]))
    if not shown["computation"]:
        console.print("No rule computed these amounts: the document carried them.")
        return
    draw_computation(console, shown["computation"])


# ---------------------------------------------------------------- trace, vouchers


def trace(
    region: Annotated[Optional[str], typer.Option(help="A district (its book), or a municipality (every book of the scheme under it).")] = None,
    scheme: Annotated[Optional[str], typer.Option(help="resident, assistance, worker or adjustment.")] = None,
    year: Annotated[Optional[int], typer.Option(help="Fiscal year.")] = None,
    account: Annotated[Optional[str], typer.Option(help="Account or prefix: 4001 covers 4001.01, 4001.02, 4001.03.")] = None,
    tier: Annotated[Optional[int], typer.Option(help="Only this tier (resident books).")] = None,
    since: Annotated[Optional[str], typer.Option("--from", help="First effective date, YYYY-MM-DD: the lines then show turnover after an opening balance.")] = None,
    through: Annotated[Optional[str], typer.Option(help="Last effective date, YYYY-MM-DD.")] = None,
    known_on: Annotated[Optional[str], typer.Option(help="Only what was recorded by then (YYYY-MM-DD or an ISO time, UTC): the books as they stood.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=100_000, help="Show at most this many lines; totals cover them all.")] = 1_000,
    document: Annotated[Optional[str], typer.Option(help="Trace one document instead: its events, vouchers and chain links.")] = None,
    report_format_name: FormatOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Trace a figure to the lines, documents and events behind it; exit 1 if their total differs from the projections."""
    chosen = report_format(report_format_name, as_json=as_json)
    if document is not None:
        trace_document(document, chosen, db)
        return
    if not (region and scheme and year and account):
        raise fail("give --region, --scheme, --year and --account (or --document ID)")
    with answering():
        query = tracing.TraceQuery(region, scheme, year, account, tier, since, through, known_on, limit)
        with open_reader(db) as ledger:
            figure, position = read_at_position(ledger, lambda: tracing.trace(ledger, query))
            say_position(ledger, position)
    payload = tracing.trace_json(figure)
    write_report(None, chosen, payload, trace_csv(payload),
                 lambda console: draw_trace(console, figure.trace, figure.names, figure.title, figure.window, since is not None))
    if not figure.trace.agrees:
        raise typer.Exit(1)


def trace_document(document_id: str, chosen: str, db: str | None) -> None:
    """``trace --document``: the document's events, each with its postings and chain link; exit 1 if a link does not hold."""
    with answering(), open_reader(db) as ledger:
        traced, position = read_at_position(ledger, lambda: tracing.document(ledger, document_id))
        say_position(ledger, position)
    shown = tracing.document_json(traced)
    rows: list[list[object]] = [["book", "version", "event", "voucher", "effective_date", "recorded_at", "actor", "reverses",
                                 "account", "tier", "debit", "credit", "link", "link_holds"]]
    for e in shown["events"]:
        for p in e["postings"]:
            rows.append([e["book"], e["version"], e["event"], e["voucher"], e["effective_date"], e["recorded_at"], e["actor"],
                         e["reverses"], p["account"], p["tier"], p["debit"], p["credit"], e["link"], e["link_holds"]])

    def draw(console: Console) -> None:
        reversed_note = f", reversed by {traced.reversed_by}" if traced.reversed_by else ""
        console.print(f"[bold]{escape(traced.document_id)}[/bold] ({traced.document_type}){reversed_note}, content hash {traced.content_hash}")
        for e in traced.events:
            voucher = f"voucher {e.voucher}" if e.voucher else "no voucher (no postings)"
            reverses = f", reverses {e.reverses}" if e.reverses else ""
            console.print(f"[bold]{e.kind}[/bold] in {e.book} version {e.version}, {voucher}, effective {e.effective_date}, "
                          f"recorded {local_time(e.recorded_at)} by {escape(e.actor)}{escape(reverses)}", highlight=False)
            table = whole_table(None, ("account", "tier", "debit", "credit"), right=("tier", "debit", "credit"))
            for account_code, tier_number, amount_fen in e.postings:
                table.add_row(account_code, str(tier_number or ""), format_yuan(max(amount_fen, 0)), format_yuan(max(-amount_fen, 0)))
            console.print(table)
            holds = "[green]holds[/green]" if e.link_holds else "[red]DOES NOT HOLD[/red]"
            console.print(f"  chain: previous {e.previous_link}\n         this     {e.link}  ({holds})", highlight=False)

    write_report(None, chosen, shown, rows, draw)
    if not all(e.link_holds for e in traced.events):
        raise typer.Exit(1)


def vouchers(
    region: RegionOption,
    scheme: SchemeOption,
    year: YearOption,
    month: Annotated[Optional[int], typer.Option(min=1, max=12, help="One month; default every month.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1_000_000, help="List at most this many vouchers; the proof covers them all.")] = 10_000,
    report_format_name: FormatOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """The voucher register (记账凭证) of a book and the proof that each month's numbers run 1–N with none missing."""
    with answering():
        query = voucher_task.VoucherQuery(region, scheme, year, month, limit)
        chosen = report_format(report_format_name, as_json=as_json)
        with open_ledger(db) as ledger:
            result = voucher_task.register(ledger, query)
    shown = voucher_task.register_json(result)
    columns = ("voucher", "period", "number", "date", "recorded_at", "document_id", "document_type", "event", "version", "lines",
               "debit", "credit", "balanced")
    write_report(None, chosen, shown, dict_rows(shown["vouchers"], columns), lambda console: draw_register(console, result))
    if not result.register.holds:
        raise typer.Exit(1)


def draw_register(console: Console, result: voucher_task.BookRegister) -> None:
    """The register's vouchers (an unbalanced one's credit in red), then each month's numbering proof."""
    register, name = result.register, result.book
    columns = ("voucher", "date", "document", "type", "event", "v", "lines", "借方合计 debit", "贷方合计 credit")
    table = whole_table(f"记账凭证 voucher register {region_name(name[:6])} {name}", columns, right=columns[5:])
    for v in register.vouchers:
        credit = format_yuan_grouped(v.credit_fen) if v.balanced else f"[red]{format_yuan_grouped(v.credit_fen)}[/red]"
        table.add_row(f"{v.period}#{v.number}", v.effective_date, escape(v.document_id), v.document_type, v.kind,
                      str(v.version), str(v.lines), format_yuan_grouped(v.debit_fen), credit)
    console.print(table)
    if not register.complete:
        console.print(f"listed the first {len(register.vouchers)} of {register.voucher_count} vouchers; the proof covers them all")
    for proof in register.proofs:
        colour = "green" if proof.holds else "red"
        console.print(f"[{colour}]{proof.describe()}[/{colour}]", highlight=False)
    console.print("(read from the projection proj_lines; `ledger verify` proves the voucher numbers from the events themselves)")


# ---------------------------------------------------------------- seals

seal_app = typer.Typer(help="Seals: a book's chain head, counts and totals at a close, signed for the auditor.", no_args_is_help=True)


@seal_app.command("keygen")
def seal_keygen(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for seal.key (private: keep it with the agency) and seal.pub.")],
) -> None:
    """Make the agency's Ed25519 signing key pair. The auditor keeps a copy of seal.pub."""
    with answering():
        private_path, public_path = sealing.make_key(out_dir)
    out.print(f"wrote {private_path} (private) and {public_path} (public)")


@seal_app.command("list")
def seal_list(
    book: Annotated[Optional[str], typer.Option(help="One book, written REGION/SCHEME/YEAR.")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
    report_format_name: FormatOption = None,
) -> None:
    """The seals issued by year closes and sealed month closes."""
    chosen = report_format(report_format_name, as_json=as_json)
    with open_ledger(db) as ledger:
        found = sealing.seals(ledger, book)
    payloads = [s.payload for s in found]

    def draw(console: Console) -> None:
        columns = ("book", "period", "version", "chain head", "lines", "debit turnover", "document")
        table = whole_table("Seals 封账", columns, right=("version", "lines", "debit turnover"))
        for seal in found:
            p = seal.payload
            table.add_row(seal.book, seal.period, str(seal.version), p["chain_head"], str(p["lines"]),
                          format_yuan_grouped(p["debit_total_fen"]), escape(seal.document_id))
        console.print(table)

    write_report(None, chosen, payloads, dict_rows(payloads), draw)


@seal_app.command("export")
def seal_export(
    book: Annotated[str, typer.Option(help="The sealed book, written REGION/SCHEME/YEAR, e.g. 500101/resident/2025.")],
    key: Annotated[Path, typer.Option("--key", help="The agency's private key (seal.key) to sign with.")],
    out_file: Annotated[Path, typer.Option("--out", help="The seal file to write.")],
    period: Annotated[Optional[str], typer.Option(help="YYYY for the year close, YYYY-MM for a month close; default the latest seal.")] = None,
    db: DbOption = None,
) -> None:
    """Sign a stored seal into a small file for the auditor to keep outside the database."""
    with answering(), open_ledger(db) as ledger:
        seal, content = sealing.export(ledger, book, key, period)
    out_file.write_text(json.dumps(content, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    out.print(f"sealed {seal.book} {seal.period} at version {seal.version}, chain head {seal.payload['chain_head'][:16]}…: wrote {out_file}")


# ---------------------------------------------------------------- reconciliation


def reconcile(
    statement: Annotated[str, typer.Argument(help="The bank or fiscal-account statement, CSV (layout in docs/reconciliation.md).")],
    region: RegionOption,
    scheme: SchemeOption,
    year: YearOption,
    account: Annotated[str, typer.Option(help="The bank account: 1001, 1002, 1003 (财政专户), 1004 or 1005.")],
    since: Annotated[Optional[str], typer.Option("--from", help="First date, YYYY-MM-DD; default 1 January.")] = None,
    through: Annotated[Optional[str], typer.Option(help="Last date, YYYY-MM-DD; default 31 December.")] = None,
    date_tolerance: Annotated[int, typer.Option(min=0, max=31, help="Days a statement date may differ from the book's in an amount match.")] = 3,
    statement_balance: Annotated[Optional[str], typer.Option(help="The statement's closing balance in yuan, when its rows give no 余额.")] = None,
    report_format_name: FormatOption = None,
    output: Annotated[Optional[str], typer.Option("--out", help="Write the report to this file instead of the screen.")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Reconcile a statement with a bank account of a book (对账) and draw up the 余额调节表. Exit 0 only when they agree."""
    from ledger.reconcile import read_statement, to_csv_rows, to_json

    with answering():
        request = reconciling.ReconcileRequest(region, scheme, year, account, since, through, date_tolerance, statement_balance)
        chosen = report_format(report_format_name, as_json=as_json)
    parsed, errors = read_statement(statement)
    if errors:
        for error in errors:
            err.print(f"[red]{escape(error.describe())}[/red]", highlight=False)
        err.print(f"{len(errors)} problem(s) in {parsed.name}; nothing was reconciled")
        raise typer.Exit(1)
    with answering(), open_ledger(db) as ledger:
        result = reconciling.reconcile(ledger, request, parsed)
    write_report(output, chosen, to_json(result), to_csv_rows(result), lambda console: draw_reconciliation(console, result, parsed.name))
    if output:
        out.print(f"wrote the reconciliation to {output}: {result.verdict()}")
    if not result.agrees:
        raise typer.Exit(1)


def draw_reconciliation(console: Console, result: Any, statement_name: str) -> None:
    """The matched items, what is on one side only, the notes, then the 余额调节表 and its verdict."""
    from ledger.reconcile import account_title, adjustment_lines

    def in_out(amount_fen: int) -> tuple[str, str]:
        return (format_yuan_grouped(amount_fen), "") if amount_fen > 0 else ("", format_yuan_grouped(-amount_fen))

    console.print(
        f"[bold]对账 {result.book} {account_title(result.account)}[/bold], {result.since} – {result.through}, "
        f"statement {statement_name}, dates within {result.tolerance_days} days"
    )
    matched = whole_table(
        f"已达账项 matched ({len(result.matched)})",
        ("row", "date", "reference", "摘要", "收入 in", "支出 out", "book date", "voucher", "document", "by", "days"),
        right=("row", "收入 in", "支出 out", "days"), prose=("摘要",),
    )
    for m in result.matched:
        line = m.book
        matched.add_row(
            str(m.statement.row), m.statement.date.isoformat(), escape(m.statement.reference), escape(m.statement.description),
            *in_out(m.statement.amount_fen), line.effective_date.isoformat(), f"{line.period}#{line.voucher}",
            escape(line.document_id), "amount/date" if m.by != "reference" else m.by, str(m.days_apart),
        )
    console.print(matched)
    for title, rows in (("银行已收企业未收 on the statement only, money in", result.statement_receipts),
                        ("银行已付企业未付 on the statement only, money out", result.statement_payments)):
        table = whole_table(f"{title} ({len(rows)})", ("row", "date", "reference", "摘要", "amount"), right=("row", "amount"), prose=("摘要",))
        for r in rows:
            table.add_row(str(r.row), r.date.isoformat(), escape(r.reference), escape(r.description), format_yuan_grouped(abs(r.amount_fen)))
        console.print(table)
    book_sections = (
        ("企业已收银行未收 in the books only, money in", result.book_receipts),
        ("企业已付银行未付 in the books only, money out", result.book_payments),
        ("冲销 a document and its reversal, cancelling in the books", [line for pair in result.reversed_in_books for line in pair]),
    )
    for title, lines in book_sections:
        table = whole_table(f"{title} ({len(lines)})", ("date", "voucher", "document", "type", "event", "amount"), right=("amount",))
        for line in lines:
            table.add_row(
                line.effective_date.isoformat(), f"{line.period}#{line.voucher}", escape(line.document_id),
                line.document_type, line.kind, format_yuan_grouped(abs(line.amount_fen)),
            )
        console.print(table)
    for note in result.notes:
        console.print(f"[yellow]note: {escape(note)}[/yellow]", highlight=False)
    if result.rows_outside_window:
        console.print(f"{result.rows_outside_window} statement row(s) fall outside {result.since} – {result.through} and were not reconciled")
    table = whole_table(
        f"余额调节表 as of {result.through} (statement balance: {result.statement_balance_source})",
        ("对账单 statement", "金额", "账面 books", "金额 "), right=("金额", "金额 "), prose=("对账单 statement", "账面 books"),
    )
    for left, left_fen, right, right_fen in adjustment_lines(result):
        table.add_row(left, format_yuan_grouped(left_fen), right, format_yuan_grouped(right_fen))
    console.print(table)
    colour = "green" if result.agrees else "red"
    console.print(f"[{colour}]{result.verdict()}[/{colour}]", highlight=False)
