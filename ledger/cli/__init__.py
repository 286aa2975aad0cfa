"""The ``ledger`` command line."""

from __future__ import annotations

import getpass
import json
import os
import sys
from collections import deque
from collections.abc import Iterator
from dataclasses import fields
from datetime import date
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from ledger.accounts import CHART, SCHEMES
from ledger.aggregates.book import BookKey, book_id
from ledger.application import DUPLICATE, POSTED, REJECTED
from ledger.documents import Document
from ledger.dates import DateFormatError, parse_date
from ledger.errors import LedgerError
from ledger.agency_time import local_time
from ledger.money import format_yuan, format_yuan_grouped
from ledger.output import console, csv_text, dict_rows, table as whole_table, width_for
from ledger.projections import queries
from ledger.reader import FORMATS, check_encoding, guess_format, open_input, read_records
from ledger.regions import municipality_of, region_name
from ledger.statements import FORMS as STATEMENT_FORMS, Period, Scope
from ledger.store import URL_VARIABLE, Ledger

app = typer.Typer(
    help="An event-sourced fund ledger for China's public medical-insurance funds.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
# Consoles that never cut a figure (ledger/output.py); their width is set again for each command.
out = console()
err = console(stderr=True)


@app.callback()
def _widths() -> None:
    """Take the width from COLUMNS, the terminal, or none (a file or a pipe) as the command starts."""
    out.width = width_for(sys.stdout)  # type: ignore[assignment]
    err.width = width_for(sys.stderr)  # type: ignore[assignment]


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


def open_ledger(url: str | None) -> Ledger:
    try:
        return Ledger(url)
    except Exception as error:  # a wrong URL or a server that does not answer
        err.print(f"[red]cannot open the store {url or 'sqlite:///ledger.db'}: {error}[/red]")
        raise typer.Exit(2) from None


def current(ledger: Ledger) -> Ledger:
    """Bring the projections up to date (incremental: only events not yet applied)."""
    ledger.projector.catch_up()
    return ledger


# ---------------------------------------------------------------- post


@app.command()
def post(
    file: Annotated[str, typer.Argument(help="JSON Lines or CSV file of business documents; - for stdin.")],
    db: DbOption = None,
    file_format: Annotated[Optional[str], typer.Option("--format", help=f"One of {', '.join(FORMATS)}; by default from the file name.")] = None,
    actor: Annotated[Optional[str], typer.Option(help="Who posts, for documents that do not say.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    encoding: Annotated[Optional[str], typer.Option(help="The file's encoding (utf-8, gbk, gb18030, utf-16); by default detected, see docs/documents.md §2.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line and document (line, id, status, error, field, rule, message), then a summary object.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Check and compute every document, show each computation, write nothing.")] = False,
) -> None:
    """Post business documents. Good ones are posted, every bad line is listed; re-posting never double-posts."""
    chosen_format = file_format or ("jsonl" if file == "-" else guess_format(file))
    if chosen_format not in FORMATS:
        err.print(f"[red]--format must be one of {', '.join(FORMATS)}[/red]")
        raise typer.Exit(2)
    try:
        check_encoding(encoding)
    except ValueError as error:
        err.print(f"[red]--encoding: {escape(str(error))}[/red]")
        raise typer.Exit(2) from None
    try:
        stream = open_input(file)
    except OSError as error:
        err.print(f"[red]cannot read {file}: {error.strerror}[/red]")
        raise typer.Exit(2) from None
    total_bytes = os.path.getsize(file) if file != "-" else None
    counts = {POSTED: 0, DUPLICATE: 0, REJECTED: 0}
    postings = 0
    rejected: list[tuple[int, str, LedgerError]] = []
    lines: deque[int] = deque()
    show_progress = not quiet and not as_json and err.is_terminal
    with open_ledger(db) as ledger, stream, _progress(show_progress) as progress:
        task = progress.add_task("checking" if dry_run else "posting", total=total_bytes)

        def refused(line: int, document_id: str, error: LedgerError) -> None:
            if as_json:
                _post_json_line(line, document_id, REJECTED, 0, error)
            else:
                rejected.append((line, document_id, error))

        def documents() -> Iterator[Document]:
            for record in read_records(stream, chosen_format, actor or _default_actor(), encoding):
                progress.advance(task, record.size_bytes)
                if record.error is not None:
                    counts[REJECTED] += 1
                    refused(record.line, record.error.document_id or "", record.error)
                    continue
                lines.append(record.line)
                yield record.document  # type: ignore[misc]

        if dry_run:
            outcomes = _dry_run(ledger, documents(), lines)
        else:
            outcomes = ((lines.popleft(), outcome, None) for outcome in ledger.post(documents()))
        for line, outcome, would in outcomes:
            counts[outcome.status] += 1
            postings += outcome.postings
            if outcome.error is not None:
                refused(line, outcome.document_id, outcome.error)
            elif as_json:
                status = "would post" if dry_run and outcome.status == POSTED else outcome.status
                _post_json_line(line, outcome.document_id, status, outcome.postings, None, **({"entries": would} if would else {}))
            elif would:
                _draw_would_post(line, outcome.document_id, would)
    if as_json:
        summary = {"posted": counts[POSTED], "postings": postings, "duplicates": counts[DUPLICATE], "rejected": counts[REJECTED], "dry_run": dry_run}
        sys.stdout.write(json.dumps({"summary": summary}, ensure_ascii=False) + "\n")
    else:
        _report_post(counts, postings, sorted(rejected, key=lambda r: r[0]), dry_run)
    if counts[REJECTED]:
        raise typer.Exit(1)


def _post_json_line(line: int, document_id: str, status: str, postings: int, error: LedgerError | None, **more: object) -> None:
    """One document's outcome as one JSON line: what an integrator reads back (docs/documents.md)."""
    shown: dict[str, object] = {
        "line": line,
        "id": document_id,
        "status": status,
        "postings": postings,
        "error": type(error).__name__ if error else None,
        "field": error.field if error else None,
        "rule": error.rule if error else None,
        "message": error.message if error else None,
        **more,
    }
    sys.stdout.write(json.dumps(shown, ensure_ascii=False) + "\n")


# A dry run holds every document and its computation in memory at once.
MAXIMUM_DRY_RUN_DOCUMENTS = 100_000


def _dry_run(ledger: Ledger, documents: Iterator[Document], lines: deque[int]) -> Iterator[tuple[int, object, list[dict[str, object]] | None]]:
    """Check and compute the documents in one batch that is never saved: each outcome with what it would post."""
    from itertools import islice

    taken = list(islice(documents, MAXIMUM_DRY_RUN_DOCUMENTS + 1))
    if len(taken) > MAXIMUM_DRY_RUN_DOCUMENTS:
        err.print(f"[red]a dry run checks at most {MAXIMUM_DRY_RUN_DOCUMENTS:,} documents at once; split the file[/red]")
        raise typer.Exit(2)
    for outcome, events in ledger.app.dry_run(taken):
        yield lines.popleft(), outcome, [_would_post(key, event) for key, event in events]


def _would_post(key: BookKey, event: object) -> dict[str, object]:
    """An event a dry run would record: book, kind, date, postings and the computation, money as yuan text."""
    from ledger.postings import postings_from_rows

    computation = getattr(event, "computation", None)
    shown = _explained_in_yuan({"entries": [], "computation": computation})["computation"] if computation else None
    return {
        "book": str(key),
        "event": type(event).__qualname__.split(".")[-1],
        "effective_date": str(getattr(event, "effective_date", "")),
        "postings": [
            {"account": p.account, "tier": p.tier, "debit": format_yuan(max(p.amount_fen, 0)), "credit": format_yuan(max(-p.amount_fen, 0))}
            for p in postings_from_rows(getattr(event, "postings", []) or [])
        ],
        "computation": shown,
    }


def _draw_would_post(line: int, document_id: str, would: list[dict[str, object]]) -> None:
    """A dry run's document on screen: each entry's postings, then the computation's steps."""
    out.print(f"[bold]line {line}: {escape(document_id)}[/bold] would post", highlight=False)
    for entry in would:
        table = whole_table(f"{entry['event']} in {entry['book']}, effective {entry['effective_date']}",
                            ("account", "tier", "debit", "credit"), right=("tier", "debit", "credit"))
        for p in entry["postings"]:  # type: ignore[attr-defined]
            table.add_row(p["account"], str(p["tier"] or ""), p["debit"], p["credit"])
        out.print(table)
    computation = next((entry["computation"] for entry in would if entry["computation"]), None)
    if computation:
        _draw_computation(out, computation)  # type: ignore[arg-type]


def _default_actor() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no user name on this machine: still post, say so
        return "unknown"


def _progress(enabled: bool) -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
        console=err,
        disable=not enabled,
        transient=True,
    )


def _report_post(counts: dict[str, int], postings: int, rejected: list[tuple[int, str, LedgerError]], dry_run: bool = False) -> None:
    if rejected:
        table = whole_table("Rejected documents", ("line", "document", "reason"), right=("line",), prose=("reason",))
        for line, document_id, error in rejected:
            table.add_row(str(line), escape(document_id), escape(error.describe()))
        err.print(table)
    if dry_run:
        out.print(
            f"dry run, nothing written: {counts[POSTED]} documents would post ({postings} postings), "
            f"{counts[DUPLICATE]} are already posted, {counts[REJECTED]} would be rejected"
        )
        return
    out.print(
        f"posted {counts[POSTED]} documents ({postings} postings), "
        f"{counts[DUPLICATE]} duplicates skipped, {counts[REJECTED]} rejected"
    )


# ---------------------------------------------------------------- reading


def _row_json(row: queries.BalanceRow) -> dict[str, object]:
    return {
        "account": row.account,
        "name": row.name,
        "tier": row.tier,
        "debit": format_yuan(row.debit_fen),
        "credit": format_yuan(row.credit_fen),
        "balance": format_yuan(row.balance_fen),
        "side": "Dr" if row.balance_fen >= 0 else "Cr",
    }


BALANCE_COLUMNS = ("科目 account", "名称 name", "tier", "借方 debit", "贷方 credit", "余额 balance")
BALANCE_CSV_COLUMNS = ("account", "name", "tier", "debit", "credit", "balance", "side")


def _balance_table(title: str, rows: list[queries.BalanceRow]) -> Table:
    table = whole_table(title, BALANCE_COLUMNS, right=BALANCE_COLUMNS[2:], prose=("名称 name",))
    for row in rows:
        side = "Dr" if row.balance_fen >= 0 else "Cr"
        table.add_row(
            row.account,
            row.name,
            str(row.tier or ""),
            format_yuan_grouped(row.debit_fen),
            format_yuan_grouped(row.credit_fen),
            f"{side} {format_yuan_grouped(abs(row.balance_fen))}",
        )
    return table


def _check_scheme(scheme: str) -> None:
    if scheme not in SCHEMES:
        err.print(f"[red]scheme must be one of {', '.join(SCHEMES)}[/red]")
        raise typer.Exit(2)


@app.command()
def balance(
    region: Annotated[str, typer.Argument(help="Six-digit region code, e.g. 500101.")],
    scheme: Annotated[str, typer.Argument(help="resident, assistance, worker or adjustment.")],
    year: Annotated[int, typer.Argument(help="Fiscal year.")],
    account: Annotated[Optional[str], typer.Option(help="One account (with its sub-accounts), e.g. 1003 or 4101.")] = None,
    as_of: AsOfOption = None,
    known_on: KnownOnOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
    report_format: FormatOption = None,
) -> None:
    """Balances of one book: every account, or one; now, or as of a past date and as known on a past time."""
    chosen = _report_format(report_format, as_json=as_json)
    _check_scheme(scheme)
    if account and not any(code == account or code.startswith(account + ".") for code in CHART):
        err.print(f"[red]{account} is not an account of the chart[/red]")
        raise typer.Exit(2)
    key = BookKey(region, scheme, year)
    with open_ledger(db) as ledger:
        known = any(b.book_id == book_id(key).hex for b in queries.list_books(current(ledger).engine, region, scheme, year))
        if not known:
            err.print(f"[red]there is no book {key}[/red]")
            raise typer.Exit(1)
        if as_of or known_on:
            rows = _dated_rows(ledger, [book_id(key).hex], as_of, known_on, account)
        else:
            rows = queries.book_balances(ledger.engine, book_id(key).hex, account)
    dated = {"as_of": as_of, "known_on": _known_on_shown(known_on)} if as_of or known_on else {}
    payload = {"book": str(key), **dated, "rows": [_row_json(r) for r in rows]}
    title = f"{region_name(region)} {key}{_dated_title(as_of, known_on)}"
    _write_report(None, chosen, payload, dict_rows(payload["rows"], BALANCE_CSV_COLUMNS), lambda console: console.print(_balance_table(title, rows)))


def _dated_title(as_of: str | None, known_on: str | None) -> str:
    return (f" as of {as_of}" if as_of else "") + (f" as known on {_known_on_shown(known_on)}" if known_on else "")


def _known_on_shown(known_on: str | None) -> str | None:
    """The --known-on bound as the agency reads it: ``2024-03-31 23:59:59+08:00`` (None stays None)."""
    if known_on is None:
        return None
    return local_time(_known_on_bound(known_on))


def _known_on_bound(known_on: str) -> str:
    """The --known-on bound as the projections' UTC text; bad text is a usage error (exit 2)."""
    from ledger.agency_time import TimeZoneError

    try:
        return queries.recorded_cutoff(known_on)
    except TimeZoneError as error:
        err.print(f"[red]{escape(str(error))}[/red]")
        raise typer.Exit(2) from None
    except ValueError as error:
        err.print(
            f"[red]--known-on takes YYYY-MM-DD (the end of that day) or YYYY-MM-DDTHH:MM[:SS][+HH:MM], "
            f"in the agency's time zone unless an offset is given: {escape(str(error))}[/red]"
        )
        raise typer.Exit(2) from None


def _first_recorded(ledger: Ledger, book_ids: list[str]) -> str | None:
    """When the first of these books was opened (its first event), as UTC text; None for no books."""
    from uuid import UUID

    from ledger.projections.projector import recorded_text

    times = []
    for hex_id in book_ids[:MAXIMUM_BOOKS_CHECKED]:
        first = list(ledger.app.events.get(UUID(hex_id), lte=1))
        if first:
            times.append(recorded_text(first[0].timestamp))
    return min(times) if times else None


# A municipality has a few dozen books; the check reads one event of each.
MAXIMUM_BOOKS_CHECKED = 10_000


def _check_known_on(ledger: Ledger, book_ids: list[str], known_on: str | None) -> None:
    """Refuse a --known-on before the first thing recorded in these books: the books did not exist yet (exit 1)."""
    if known_on is None:
        return
    bound = _known_on_bound(known_on)
    first = _first_recorded(ledger, book_ids)
    if first is not None and bound < first:
        err.print(
            f"[red]nothing had been recorded by {_known_on_shown(known_on)}: the first record in these books "
            f"is at {local_time(first)}[/red]"
        )
        raise typer.Exit(1)


def _dated_rows(
    ledger: Ledger, book_ids: list[str], as_of: str | None, known_on: str | None, account: str | None = None
) -> list[queries.BalanceRow]:
    """Balances from the dated projection (``proj_lines``): as of the end of a date, as known on a recorded time."""
    try:
        through = parse_date(as_of) if as_of else date.max
    except DateFormatError as error:
        err.print(f"[red]--as-of: {escape(str(error))}[/red]")
        raise typer.Exit(2) from None
    _check_known_on(ledger, book_ids, known_on)
    rows = queries.balances_as_of(ledger.engine, book_ids, through, known_on)
    if account:
        rows = [r for r in rows if r.account == account or r.account.startswith(account + ".")]
    return rows


@app.command("trial-balance")
def trial_balance(
    region: Annotated[str, typer.Argument(help="A district (its books) or a municipality such as 500000 (all its books).")],
    year: Annotated[int, typer.Argument(help="Fiscal year.")],
    scheme: Annotated[Optional[str], typer.Option(help="Only this scheme's books.")] = None,
    as_of: AsOfOption = None,
    known_on: KnownOnOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
    report_format: FormatOption = None,
) -> None:
    """Trial balance (试算平衡表) of a district's books or of a whole municipality, now or as of a date. Exits 1 if unbalanced."""
    chosen = _report_format(report_format, as_json=as_json)
    if scheme:
        _check_scheme(scheme)
    with open_ledger(db) as ledger:
        current(ledger)
        balances = _trial_balances(ledger, region, year, scheme, as_of, known_on)
    if not balances:
        err.print(f"[red]no books for {region} in {year}[/red]")
        raise typer.Exit(1)
    _write_report(None, chosen, [_trial_balance_json(tb) for tb in balances], _trial_balance_csv(balances),
                  lambda console: [_print_trial_balance(tb, console) for tb in balances])
    if not all(tb.balanced for tb in balances):
        raise typer.Exit(1)


def _trial_balances(
    ledger: Ledger, region: str, year: int, scheme: str | None, as_of: str | None = None, known_on: str | None = None
) -> list[queries.TrialBalance]:
    dated = bool(as_of or known_on)
    suffix = _dated_title(as_of, known_on)
    if municipality_of(region) == region:
        if dated:
            ids = [b.book_id for b in queries.list_books(ledger.engine, region, scheme, year)]
            rows = _dated_rows(ledger, ids, as_of, known_on) if ids else []
        else:
            rows = queries.municipality_balances(ledger.engine, region, scheme, year)
        title = f"{region_name(region)} {region} {scheme or 'all schemes'} {year} (municipality){suffix}"
        return [queries.TrialBalance(title, rows)] if rows else []
    result = []
    for book in queries.list_books(ledger.engine, region, scheme, year):
        if book.region == region:
            if dated:
                rows = _dated_rows(ledger, [book.book_id], as_of, known_on)
            else:
                rows = queries.book_balances(ledger.engine, book.book_id)
            title = f"{region_name(region)} {BookKey(book.region, book.scheme, book.year)}{suffix}"
            result.append(queries.TrialBalance(title, rows))
    return result


TRIAL_BALANCE_COLUMNS = ("科目 account", "名称 name", "tier", "借方发生额 debit turnover", "贷方发生额 credit turnover",
                         "借方余额 debit balance", "贷方余额 credit balance")


def _trial_balance_table(tb: queries.TrialBalance) -> Table:
    """试算平衡表: turnover and balance each in a debit and a credit column; the 合计 row adds up each column."""
    table = whole_table(f"试算平衡表 {tb.title}", TRIAL_BALANCE_COLUMNS, right=TRIAL_BALANCE_COLUMNS[2:], prose=("名称 name",))
    for row in tb.rows:
        table.add_row(
            row.account, row.name, str(row.tier or ""),
            format_yuan_grouped(row.debit_fen), format_yuan_grouped(row.credit_fen),
            format_yuan_grouped(row.balance_fen) if row.balance_fen > 0 else "",
            format_yuan_grouped(-row.balance_fen) if row.balance_fen < 0 else "",
        )
    table.add_section()
    table.add_row(
        "", "合计 total", "",
        format_yuan_grouped(tb.debit_turnover_fen), format_yuan_grouped(tb.credit_turnover_fen),
        format_yuan_grouped(tb.debit_total_fen), format_yuan_grouped(tb.credit_total_fen),
    )
    return table


def _print_trial_balance(tb: queries.TrialBalance, target: Console | None = None) -> None:
    target = target or out
    target.print(_trial_balance_table(tb))
    status = "[green]balanced[/green]" if tb.balanced else "[red]NOT BALANCED[/red]"
    target.print(f"{status}: debit and credit turnover agree, and so do debit and credit balances" if tb.balanced
                 else f"{status}: turnover {format_yuan_grouped(tb.debit_turnover_fen)} / {format_yuan_grouped(tb.credit_turnover_fen)}, "
                      f"balances {format_yuan_grouped(tb.debit_total_fen)} / {format_yuan_grouped(tb.credit_total_fen)}")


def _trial_balance_json(tb: queries.TrialBalance) -> dict[str, object]:
    return {
        "title": tb.title,
        "rows": [_row_json(r) for r in tb.rows],
        "debit_turnover_total": format_yuan(tb.debit_turnover_fen),
        "credit_turnover_total": format_yuan(tb.credit_turnover_fen),
        "debit_total": format_yuan(tb.debit_total_fen),
        "credit_total": format_yuan(tb.credit_total_fen),
        "balanced": tb.balanced,
    }


def _trial_balance_csv(balances: list[queries.TrialBalance]) -> list[list[object]]:
    rows: list[list[object]] = [["trial_balance", "account", "name", "tier", "debit_turnover", "credit_turnover", "debit_balance", "credit_balance"]]
    for tb in balances:
        for r in tb.rows:
            rows.append([tb.title, r.account, r.name, r.tier, format_yuan(r.debit_fen), format_yuan(r.credit_fen),
                         format_yuan(max(r.balance_fen, 0)), format_yuan(max(-r.balance_fen, 0))])
        rows.append([tb.title, "", "合计 total", "", format_yuan(tb.debit_turnover_fen), format_yuan(tb.credit_turnover_fen),
                     format_yuan(tb.debit_total_fen), format_yuan(tb.credit_total_fen)])
    return rows


@app.command()
def books(
    region: Annotated[Optional[str], typer.Option(help="A district, or a municipality for all its books.")] = None,
    year: Annotated[Optional[int], typer.Option(help="Fiscal year.")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
    report_format: FormatOption = None,
) -> None:
    """List the books."""
    chosen = _report_format(report_format, as_json=as_json)
    with open_ledger(db) as ledger:
        rows = queries.list_books(current(ledger).engine, region, None, year)
    records = [r.__dict__ for r in rows]

    def draw(console: Console) -> None:
        table = whole_table("Books", ("region", "name", "scheme", "year", "status", "events"), right=("year", "events"), prose=("name",))
        for row in rows:
            table.add_row(row.region, region_name(row.region), row.scheme, str(row.year), "closed" if row.closed else "open", str(row.events))
        console.print(table)

    _write_report(None, chosen, records, dict_rows(records, [f.name for f in fields(queries.BookRow)]), draw)


@app.command()
def fiscal(
    region: Annotated[Optional[str], typer.Argument(help="A district, or a municipality for all its districts.")] = None,
    year: Annotated[Optional[int], typer.Option(help="Fiscal year.")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
    report_format: FormatOption = None,
) -> None:
    """The social-security fiscal special account (财政专户) per region and fund, as the finance bureau sees it."""
    chosen = _report_format(report_format, as_json=as_json)
    with open_ledger(db) as ledger:
        rows = queries.fiscal_accounts(current(ledger).engine, region, year)
    payload = [
        {
            "region": r.region,
            "scheme": r.scheme,
            "year": r.year,
            "opening": format_yuan(r.opening_fen),
            "receipts": format_yuan(r.receipts_fen),
            "payments": format_yuan(r.payments_fen),
            "closing": format_yuan(r.closing_fen),
        }
        for r in rows
    ]
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

    _write_report(None, chosen, payload, dict_rows(payload, ("region", "scheme", "year", "opening", "receipts", "payments", "closing")), draw)


# ---------------------------------------------------------------- maintenance


@app.command()
def rebuild(
    force: Annotated[
        bool, typer.Option("--force", help="Rebuild even over a broken hash chain (an auditor who knows why).")
    ] = False,
    db: DbOption = None,
) -> None:
    """Prove every book's hash chain, then drop the projections and replay them from the events.

    Over a broken chain the projections are left as they are and the exit is 1, unless --force.
    """
    from ledger.verify import chain_breaks

    with open_ledger(db) as ledger:
        breaks = chain_breaks(ledger.app)
        for finding in breaks:
            (err if force else out).print(f"[red]{escape(finding.book)}: {escape(finding.message)}[/red]")
        if breaks and not force:
            out.print(
                f"[red]refused: {len(breaks)} book(s) with a broken hash chain; the projections were left as they were "
                "(`ledger rebuild --force` builds them anyway)[/red]"
            )
            raise typer.Exit(1)
        applied = ledger.projector.rebuild()
        books = queries.list_books(ledger.engine)
    book_events = sum(book.events for book in books)
    out.print(
        f"rebuilt the projections of {len(books)} books ({book_events} book events; {applied} events in the log, "
        f"{applied - book_events} of them policy-engine state)"
    )


@app.command()
def verify(
    seal: Annotated[
        Optional[list[Path]], typer.Option("--seal", help="A seal file kept outside the database; the books must still match it. Repeatable.")
    ] = None,
    public_key: Annotated[
        Optional[Path], typer.Option("--public-key", help="The agency's seal.pub: every seal file must be signed by this key.")
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
    report_format: FormatOption = None,
) -> None:
    """Replay every book, prove its hash chain and voucher numbers, and compare with the projections and seals.

    Exit 0 only when everything agrees. ``--format csv`` lists the findings, one a row.
    """
    from ledger.seals import SealError, read_signed
    from ledger.verify import verify as run_verify

    try:
        seal_files = [read_signed(path, public_key) for path in seal or []]
    except SealError as error:
        err.print(f"[red]{escape(str(error))}[/red]")
        raise typer.Exit(1) from None
    chosen = _report_format(report_format, as_json=as_json)
    with open_ledger(db) as ledger:
        report = run_verify(ledger, seal_files)
    findings = [dict(f.__dict__) for f in report.findings]
    if chosen == "json":
        payload = {
            "agrees": report.agrees,
            "books": report.books,
            "events": report.events,
            "log_events": report.log_events,
            "seals": report.seals,
            "snapshots": report.snapshots,
            "findings": findings,
        }
        _write_report(None, chosen, payload, None, None)
    elif chosen == "csv":
        _write_report(None, chosen, None, dict_rows(findings, ("book", "message")), None)
    else:
        for finding in report.findings:
            out.print(f"[red]{escape(finding.book)}: {escape(finding.message)}[/red]")
        verdict = "[green]agree[/green]" if report.agrees else "[red]DISAGREE[/red]"
        out.print(
            f"replayed {report.books} books ({report.events} book events; {report.log_events} events in the log, "
            f"{report.log_events - report.events} of them policy-engine state), proved their hash chains, vouchers "
            f"and every rule of the books, checked {report.seals} seals: events, seals and projections {verdict}"
        )
    if not report.agrees:
        raise typer.Exit(1)


# ---------------------------------------------------------------- periods

period_app = typer.Typer(help="Month and year close (结账) and reopening (反结账) of a book.", no_args_is_help=True)
app.add_typer(period_app, name="period")

RegionArgument = Annotated[str, typer.Argument(help="Six-digit region code, e.g. 500101.")]
SchemeArgument = Annotated[str, typer.Argument(help="resident, assistance, worker or adjustment.")]
YearArgument = Annotated[int, typer.Argument(help="Fiscal year.")]


def _post_period_document(db: str | None, raw: dict[str, object], actor: str | None) -> None:
    """Post one close or reopen document built from the command line; print what happened."""
    from ledger.documents import read_document

    with open_ledger(db) as ledger:
        # A fresh id per request: a month reopened and closed again is closed by a second document.
        done = queries.period_actions(current(ledger).engine, book_id(BookKey(str(raw["region"]), str(raw["scheme"]), int(raw["year"]))).hex)
        raw = {**raw, "id": f"{raw['id']}-{len(done) + 1}"}
        try:
            document = read_document(raw, actor or _default_actor())
        except LedgerError as error:
            err.print(f"[red]{escape(str(error))}[/red]")
            raise typer.Exit(1) from None
        outcome = ledger.post_one(document)
    if outcome.error is not None:
        err.print(f"[red]{escape(str(outcome.error))}[/red]")
        raise typer.Exit(1)
    out.print(f"{outcome.status}: {document.id}")


@period_app.command("close")
def period_close(
    region: RegionArgument,
    scheme: SchemeArgument,
    year: YearArgument,
    month: Annotated[int, typer.Argument(min=1, max=12, help="The month to close; months close in order.")],
    seal: Annotated[bool, typer.Option("--seal", help="Also issue a seal of the book as it stands after the close.")] = False,
    actor: Annotated[Optional[str], typer.Option(help="Who closes; default the login name.")] = None,
    db: DbOption = None,
) -> None:
    """Close a month of a book: documents dated in it are refused from now on. (The year closes with a year_close document.)"""
    _check_scheme(scheme)
    raw = {"id": f"MC-{region}-{scheme}-{year}{month:02d}", "type": "month_close", "region": region, "scheme": scheme,
           "year": year, "month": month, "seal": seal}
    _post_period_document(db, raw, actor)


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
    _check_scheme(scheme)
    period = f"{year}{month:02d}" if month else str(year)
    raw: dict[str, object] = {"id": f"RO-{region}-{scheme}-{period}", "type": "period_reopen", "region": region,
                              "scheme": scheme, "year": year, "reason": reason}
    if month:
        raw["month"] = month
    _post_period_document(db, raw, actor)


@period_app.command("history")
def period_history(
    region: RegionArgument,
    scheme: SchemeArgument,
    year: YearArgument,
    db: DbOption = None,
    as_json: JsonOption = False,
    report_format: FormatOption = None,
) -> None:
    """Every close and reopening of a book: when (in the agency's time zone), by whom, why."""
    chosen = _report_format(report_format, as_json=as_json)
    with open_ledger(db) as ledger:
        rows = queries.period_actions(current(ledger).engine, book_id(BookKey(region, scheme, year)).hex)
    records = [{**r.__dict__, "recorded_at": local_time(r.recorded_at)} for r in rows]

    def draw(console: Console) -> None:
        table = whole_table(f"结账记录 {region}/{scheme}/{year}", ("action", "period", "actor", "reason", "document", "recorded at"),
                            prose=("actor", "reason"))
        for row, record in zip(rows, records):
            table.add_row(row.action, row.period, escape(row.actor), escape(row.reason), escape(row.document_id), record["recorded_at"])
        console.print(table)

    _write_report(None, chosen, records, dict_rows(records, [f.name for f in fields(queries.PeriodAction)]), draw)


# ---------------------------------------------------------------- seals

seal_app = typer.Typer(help="Seals: a book's chain head, counts and totals at a close, signed for the auditor.", no_args_is_help=True)
app.add_typer(seal_app, name="seal")


@seal_app.command("keygen")
def seal_keygen(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for seal.key (private: keep it with the agency) and seal.pub.")],
) -> None:
    """Make the agency's Ed25519 signing key pair. The auditor keeps a copy of seal.pub."""
    from ledger.seals import generate_key

    if (out_dir / "seal.key").exists():
        err.print(f"[red]{out_dir / 'seal.key'} exists; a key is never overwritten[/red]")
        raise typer.Exit(1)
    private_path, public_path = generate_key(out_dir)
    out.print(f"wrote {private_path} (private) and {public_path} (public)")


@seal_app.command("list")
def seal_list(
    book: Annotated[Optional[str], typer.Option(help="One book, written REGION/SCHEME/YEAR.")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
    report_format: FormatOption = None,
) -> None:
    """The seals issued by year closes and sealed month closes."""
    from ledger.seals import stored

    chosen = _report_format(report_format, as_json=as_json)
    with open_ledger(db) as ledger:
        found = stored(ledger.engine, book)
    payloads = [s.payload for s in found]

    def draw(console: Console) -> None:
        columns = ("book", "period", "version", "chain head", "lines", "debit turnover", "document")
        table = whole_table("Seals 封账", columns, right=("version", "lines", "debit turnover"))
        for seal in found:
            p = seal.payload
            table.add_row(
                seal.book, seal.period, str(seal.version), p["chain_head"], str(p["lines"]),
                format_yuan_grouped(p["debit_total_fen"]), escape(seal.document_id),
            )
        console.print(table)

    _write_report(None, chosen, payloads, dict_rows(payloads), draw)


@seal_app.command("export")
def seal_export(
    book: Annotated[str, typer.Option(help="The sealed book, written REGION/SCHEME/YEAR, e.g. 500101/resident/2025.")],
    key: Annotated[Path, typer.Option("--key", help="The agency's private key (seal.key) to sign with.")],
    out_file: Annotated[Path, typer.Option("--out", help="The seal file to write.")],
    period: Annotated[Optional[str], typer.Option(help="YYYY for the year close, YYYY-MM for a month close; default the latest seal.")] = None,
    db: DbOption = None,
) -> None:
    """Sign a stored seal into a small file for the auditor to keep outside the database."""
    from ledger.seals import SealError, sign, stored

    with open_ledger(db) as ledger:
        found = stored(ledger.engine, book, period)
    if not found:
        err.print(f"[red]no seal of {book}{' for ' + period if period else ''}; seals are issued by year closes and month closes with seal true[/red]")
        raise typer.Exit(1)
    try:
        content = sign(found[-1].payload, key)
    except SealError as error:
        err.print(f"[red]{escape(str(error))}[/red]")
        raise typer.Exit(1) from None
    out_file.write_text(json.dumps(content, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    seal = found[-1]
    out.print(f"sealed {seal.book} {seal.period} at version {seal.version}, chain head {seal.payload['chain_head'][:16]}…: wrote {out_file}")


# ---------------------------------------------------------------- policy

policy_app = typer.Typer(help="The policy in force, and the checks it sets.", no_args_is_help=True)
app.add_typer(policy_app, name="policy")


@policy_app.command("show")
def policy_show(
    region: Annotated[str, typer.Argument(help="Six-digit region code.")],
    on: Annotated[str, typer.Argument(help="Date, YYYY-MM-DD.")],
    as_json: JsonOption = False,
    report_format: FormatOption = None,
) -> None:
    """Print the policy in force for a region on a date: every figure with its source document and clause."""
    from ledger.policy import load_policy

    chosen = _report_format(report_format, as_json=as_json)
    try:
        policy = load_policy(region, parse_date(on))
    except (LedgerError, ValueError) as error:
        err.print(f"[red]{escape(str(error))}[/red]")
        raise typer.Exit(1) from None
    parameters = [
        {"name": p.name, "value": p.shown(), "unit": p.unit, "minimum": p.minimum, "source": p.source, "file": p.file_id, "note": p.note}
        for p in sorted(policy.parameters.values(), key=lambda p: p.name)
    ]
    payload = {**policy.reference(), "parameters": parameters}

    def draw(console: Console) -> None:
        title = f"Policy in force for {region_name(region)} {region} on {on} (version {policy.version}; {', '.join(policy.files)})"
        table = whole_table(title, ("parameter", "value", "不低于", "source", "file"), prose=("source",))
        for p in sorted(policy.parameters.values(), key=lambda p: p.name):
            table.add_row(escape(p.name), escape(p.shown()), "≥" if p.minimum else "", escape(p.source + (f" — {p.note}" if p.note else "")), p.file_id)
        console.print(table)

    _write_report(None, chosen, payload, dict_rows(parameters, ("name", "value", "unit", "minimum", "source", "file", "note")), draw)


@policy_app.command("check")
def policy_check(
    region: Annotated[str, typer.Argument(help="A district, or a municipality for all its books.")],
    year: Annotated[int, typer.Argument(help="Fiscal year.")],
    db: DbOption = None,
    as_json: JsonOption = False,
    report_format: FormatOption = None,
) -> None:
    """The policy's surplus checks on each fund: findings are reported, exit 1 when there are any."""
    from ledger.policy.checks import surplus_findings

    chosen = _report_format(report_format, as_json=as_json)
    with open_ledger(db) as ledger:
        findings = surplus_findings(current(ledger).engine, region, year)
    records = [{"book": f.book, "message": f.message} for f in findings]
    payload = {"region": region, "year": year, "findings": records}

    def draw(console: Console) -> None:
        for finding in findings:
            console.print(f"[yellow]{escape(finding.book)}: {escape(finding.message)}[/yellow]", highlight=False)
        console.print(f"{len(findings)} findings for {region_name(region)} {region} in {year}")

    _write_report(None, chosen, payload, dict_rows(records, ("book", "message")), draw)
    if findings:
        raise typer.Exit(1)


@app.command()
def explain(
    document_id: Annotated[str, typer.Argument(help="The business document id.")],
    db: DbOption = None,
    as_json: JsonOption = False,
    report_format: FormatOption = None,
) -> None:
    """Show how a posted document's amounts were computed: facts, rule, policy figures with their clauses, rounding.

    In JSON and CSV every amount is yuan text (``"1234.56"``), the computation's too (docs/design.md).
    """
    from ledger.store import explain as explain_document

    chosen = _report_format(report_format, as_json=as_json)
    with open_ledger(db) as ledger:
        try:
            shown = _explained_in_yuan(explain_document(ledger, document_id))
        except LedgerError as error:
            err.print(f"[red]{escape(str(error))}[/red]")
            raise typer.Exit(1) from None
    _write_report(None, chosen, shown, _explain_csv(shown), lambda console: _draw_explained(console, shown))


def _explained_in_yuan(shown: dict) -> dict:  # type: ignore[type-arg]
    """The explanation with every recorded time in the agency's zone and every amount yuan text."""
    entries = [{**entry, "recorded_at": local_time(entry["recorded_at"])} for entry in shown["entries"]]
    computation = shown["computation"]
    if computation:
        # The event keeps the results and the cap usage as int fen; steps and facts are already yuan text.
        computation = {
            **computation,
            "amounts": {name: format_yuan(int(fen)) for name, fen in computation["amounts"].items()},
            "usage": {name: format_yuan(int(fen)) for name, fen in computation.get("usage", {}).items()},
        }
    return {**shown, "entries": entries, "computation": computation}


def _explain_csv(shown: dict) -> list[list[object]]:  # type: ignore[type-arg]
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


def _draw_explained(console: Console, shown: dict) -> None:  # type: ignore[type-arg]
    out = console
    out.print(f"[bold]{shown['document_id']}[/bold] ({shown['type']})" + (f", reversed by {shown['reversed_by']}" if shown["reversed_by"] else ""))
    for entry in shown["entries"]:
        title = f"{entry['event']} in {entry['book']}, effective {entry['effective_date']}, recorded {entry['recorded_at']} by {escape(entry['actor'])}"
        table = whole_table(title, ("account", "tier", "debit", "credit"), right=("tier", "debit", "credit"))
        for p in entry["postings"]:
            table.add_row(p["account"], str(p["tier"] or ""), p["debit"], p["credit"])
        out.print(table)
    computation = shown["computation"]
    if not computation:
        out.print("No rule computed these amounts: the document carried them.")
        return
    _draw_computation(out, computation)


def _draw_computation(out: Console, computation: dict) -> None:  # type: ignore[type-arg]
    """A rule's computation: rule and policy, facts, each step with its source, the result (yuan text throughout)."""
    out.print(f"Computed by rule [bold]{computation['rule']}[/bold] under policy {', '.join(computation['policy']['files'])} (version {computation['policy']['version']}, in force for {computation['policy']['region']} on {computation['policy']['on']})")
    out.print("Facts: " + ", ".join(f"{k} = {v}" for k, v in computation["facts"].items()))
    table = whole_table("Steps", ("step", "how", "value", "source"), right=("value",), prose=("step", "how", "source"))
    for step in computation["steps"]:
        table.add_row(escape(step["label"]), escape(step["formula"]), escape(step["value"]), escape(step["source"]))
    out.print(table)
    out.print("Result: " + ", ".join(f"{k} = {v}" for k, v in computation["amounts"].items()))


# ---------------------------------------------------------------- demo


@app.command()
def generate(
    size: Annotated[int, typer.Option(min=1, help="Scale: documents grow linearly with it.")] = 5,
    year: Annotated[int, typer.Option(help="The demo's fiscal year.")] = 2013,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same file.")] = 7,
    output: Annotated[str, typer.Option("--out", "-o", help="File to write; - for stdout.")] = "-",
) -> None:
    """Write a demo municipality's year of business documents as JSON Lines."""
    from ledger.demo import generate_documents

    target = sys.stdout if output == "-" else open(output, "w", encoding="utf-8")
    count = 0
    try:
        for raw in generate_documents(size=size, year=year, seed=seed):
            target.write(json.dumps(raw, ensure_ascii=False) + "\n")
            count += 1
    finally:
        if target is not sys.stdout:
            target.close()
    err.print(f"wrote {count} documents")


@app.command()
def demo(
    size: Annotated[int, typer.Option(min=1, help="Scale of the demo municipality.")] = 5,
    year: Annotated[int, typer.Option(help="The demo's fiscal year.")] = 2013,
    db: DbOption = None,
) -> None:
    """Generate a demo municipality, post its year, close it, and print the balances and the trial balance."""
    from ledger.demo import DEMO_MUNICIPALITY, generate_documents
    from ledger.documents import read_document
    from ledger.verify import verify as run_verify

    with open_ledger(db) as ledger:
        out.print(f"[bold]Posting a demo year {year} for {region_name(DEMO_MUNICIPALITY)} into {ledger.url}[/bold]")
        counts = {POSTED: 0, DUPLICATE: 0, REJECTED: 0}
        postings = 0
        raws = list(generate_documents(size=size, year=year, close_months=True))
        with _progress(err.is_terminal) as progress:
            task = progress.add_task("posting", total=len(raws))

            def documents() -> Iterator[Document]:
                for raw in raws:
                    progress.advance(task)
                    yield read_document(raw, "demo")

            rejected = []
            for number, outcome in enumerate(ledger.post(documents()), start=1):
                counts[outcome.status] += 1
                postings += outcome.postings
                if outcome.error is not None:
                    rejected.append((number, outcome.document_id, outcome.error))
        _report_post(counts, postings, rejected)
        _print_demo_summary(ledger, year)
        report = run_verify(ledger)
    verdict = "[green]agree[/green]" if report.agrees else "[red]DISAGREE[/red]"
    out.print(
        f"ledger verify: replayed {report.books} books ({report.events} book events), proved their hash chains "
        f"and vouchers, checked {report.seals} seals; events, seals and projections {verdict}"
    )
    if rejected or not report.agrees:
        raise typer.Exit(1)


def _print_demo_summary(ledger: Ledger, year: int) -> None:
    from ledger.demo import DEMO_MUNICIPALITY

    engine = ledger.engine
    columns = ("region", "name", "scheme", "1003 财政专户", "1004 支出户", "3001 tier 1", "3001 tier 2 / fund")
    table = whole_table(f"Fund books {year}, closed and carried into {year + 1}", columns, right=columns[3:], prose=("name",))
    for book in queries.list_books(engine, DEMO_MUNICIPALITY, None, year + 1):
        rows = {(r.account, r.tier): r.balance_fen for r in queries.book_balances(engine, book.book_id)}
        tier_1 = -rows.get(("3001", 1), 0)
        rest = -rows.get(("3001", 2), 0) - rows.get(("3001", 0), 0)
        table.add_row(
            book.region, region_name(book.region), book.scheme,
            format_yuan_grouped(rows.get(("1003", 0), 0)), format_yuan_grouped(rows.get(("1004", 0), 0)),
            format_yuan_grouped(tier_1) if book.scheme == "resident" else "",
            format_yuan_grouped(rest),
        )
    out.print(table)
    for tb in _trial_balances(ledger, DEMO_MUNICIPALITY, year, None):
        _print_trial_balance(tb)


# ---------------------------------------------------------------- reconciliation, trace, vouchers

def _report_format(chosen: str | None, allowed: tuple[str, ...] = REPORT_FORMATS, as_json: bool = False) -> str:
    """The output format from --format and the older --json flag (which means --format json)."""
    if as_json:
        if chosen not in (None, "json"):
            err.print(f"[red]--json and --format {escape(chosen)} disagree: give one[/red]")
            raise typer.Exit(2)
        return "json"
    chosen = chosen or "table"
    if chosen not in allowed:
        err.print(f"[red]--format must be one of {', '.join(allowed)}[/red]")
        raise typer.Exit(2)
    return chosen


def _window(year: int, since: str | None, through: str | None) -> tuple[date, date]:
    """The window of dates within the fiscal year: the whole year unless --from/--through narrow it."""
    try:
        first = parse_date(since) if since else date(year, 1, 1)
        last = parse_date(through) if through else date(year, 12, 31)
    except DateFormatError as error:
        err.print(f"[red]--from / --through: {escape(str(error))}[/red]")
        raise typer.Exit(2) from None
    if first.year != year or last.year != year or first > last:
        err.print(f"[red]--from {first} and --through {last} must fall in fiscal year {year}, in that order[/red]")
        raise typer.Exit(2)
    return first, last


def _one_book(ledger: Ledger, region: str, scheme: str, year: int) -> queries.BookRow:
    key = BookKey(region, scheme, year)
    for row in queries.list_books(ledger.engine, region, scheme, year):
        if row.book_id == book_id(key).hex:
            return row
    err.print(f"[red]there is no book {key}[/red]")
    raise typer.Exit(1)


def _write_report(output: str | None, report_format: str, json_payload: object, csv_rows: list[list[object]] | None, draw) -> None:  # type: ignore[no-untyped-def]
    """Print a report, or write it to ``output``: JSON, CSV, or the tables drawn by ``draw(console)``.

    Money is yuan text in JSON and CSV; the tables never cut a figure (ledger/output.py).
    """
    try:
        target = open(output, "w", encoding="utf-8", newline="") if output else None
    except OSError as error:
        err.print(f"[red]cannot write {output}: {error.strerror}[/red]")
        raise typer.Exit(2) from None
    try:
        if report_format == "json":
            (target or sys.stdout).write(json.dumps(json_payload, ensure_ascii=False, indent=2) + "\n")
        elif report_format == "csv":
            (target or sys.stdout).write(csv_text(csv_rows or []))
        else:
            draw(console(target, no_color=True) if target else out)
    finally:
        if target:
            target.close()


@app.command()
def reconcile(
    statement: Annotated[str, typer.Argument(help="The bank or fiscal-account statement, CSV (layout in docs/reconciliation.md).")],
    region: Annotated[str, typer.Option(help="Six-digit region code of the book.")],
    scheme: Annotated[str, typer.Option(help="resident, assistance, worker or adjustment.")],
    year: Annotated[int, typer.Option(help="Fiscal year of the book.")],
    account: Annotated[str, typer.Option(help="The bank account: 1001, 1002, 1003 (财政专户), 1004 or 1005.")],
    since: Annotated[Optional[str], typer.Option("--from", help="First date, YYYY-MM-DD; default 1 January.")] = None,
    through: Annotated[Optional[str], typer.Option(help="Last date, YYYY-MM-DD; default 31 December.")] = None,
    date_tolerance: Annotated[int, typer.Option(min=0, max=31, help="Days a statement date may differ from the book's in an amount match.")] = 3,
    statement_balance: Annotated[Optional[str], typer.Option(help="The statement's closing balance in yuan, when its rows give no 余额.")] = None,
    report_format: FormatOption = None,
    output: Annotated[Optional[str], typer.Option("--out", help="Write the report to this file instead of the screen.")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Reconcile a statement with a bank account of a book (对账) and draw up the 余额调节表. Exit 0 only when they agree."""
    from ledger.accounts import BANK_ACCOUNTS
    from ledger.money import MoneyFormatError, parse_yuan
    from ledger.reconcile import read_statement, reconcile as run_reconcile, to_csv_rows, to_json

    _check_scheme(scheme)
    chosen = _report_format(report_format, as_json=as_json)
    if account not in BANK_ACCOUNTS:
        err.print(f"[red]--account must be a bank account: {', '.join(sorted(BANK_ACCOUNTS))}[/red]")
        raise typer.Exit(2)
    first, last = _window(year, since, through)
    try:
        balance_fen = None if statement_balance is None else parse_yuan(statement_balance)
    except MoneyFormatError as error:
        err.print(f"[red]--statement-balance: {escape(str(error))}[/red]")
        raise typer.Exit(2) from None
    parsed, errors = read_statement(statement)
    if errors:
        for error in errors:
            err.print(f"[red]{escape(error.describe())}[/red]", highlight=False)
        err.print(f"{len(errors)} problem(s) in {parsed.name}; nothing was reconciled")
        raise typer.Exit(1)
    with open_ledger(db) as ledger:
        book = _one_book(current(ledger), region, scheme, year)
        try:
            result = run_reconcile(
                ledger.engine, book, account, parsed,
                since=first, through=last, tolerance_days=date_tolerance, statement_balance_fen=balance_fen,
            )
        except LedgerError as error:
            err.print(f"[red]{escape(error.describe())}[/red]", highlight=False)
            raise typer.Exit(1) from None
    _write_report(output, chosen, to_json(result), to_csv_rows(result), lambda console: _draw_reconciliation(console, result, parsed.name))
    if output:
        out.print(f"wrote the reconciliation to {output}: {result.verdict()}")
    if not result.agrees:
        raise typer.Exit(1)


def _draw_reconciliation(console: Console, result, statement_name: str) -> None:  # type: ignore[no-untyped-def]
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


@app.command()
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
    report_format: FormatOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Trace a figure to the lines, documents and events behind it; exit 1 if their total differs from the projections."""
    from ledger.trace import trace_lines

    chosen = _report_format(report_format, as_json=as_json)
    if document is not None:
        _trace_document(document, chosen, db)
        return
    if not (region and scheme and year and account):
        err.print("[red]give --region, --scheme, --year and --account (or --document ID)[/red]")
        raise typer.Exit(2)
    _check_scheme(scheme)
    if not any(code == account or code.startswith(account + ".") for code in CHART):
        err.print(f"[red]{account} is not an account of the chart[/red]")
        raise typer.Exit(2)
    if known_on is not None:
        _known_on_bound(known_on)
    first, last = _window(year, since, through) if (since or through) else (None, None)
    with open_ledger(db) as ledger:
        found = queries.list_books(current(ledger).engine, region, scheme, year)
        if not found:
            err.print(f"[red]there is no {scheme} book of {region} for {year}[/red]")
            raise typer.Exit(1)
        names = {b.book_id: f"{b.region}/{b.scheme}/{b.year}" for b in found}
        _check_known_on(ledger, list(names), known_on)
        result = trace_lines(
            ledger.engine, list(names), [account], tier=tier,
            since=first if since else None, through=last if through else None, known_on=known_on, limit=limit,
        )
    from ledger.trace import trace_to_json

    title = f"{region_name(region)} {region} {scheme} {year}, account {account}" + (f" tier {tier}" if tier else "")
    window = f"{since or 'the first date'} – {through or 'the last date'}" + (f", as recorded by {_known_on_shown(known_on)}" if known_on else "")
    traced = _trace_json_local(trace_to_json(result, names))
    _write_report(None, chosen, {"title": title, "window": window, **traced}, _trace_csv(traced),
                  lambda console: _draw_trace(console, result, names, title, window, since is not None))
    if not result.agrees:
        raise typer.Exit(1)


def _trace_json_local(traced: dict) -> dict:  # type: ignore[type-arg]
    """A trace's JSON with each line's recorded time in the agency's zone."""
    return {**traced, "rows": [{**row, "recorded_at": local_time(row["recorded_at"])} for row in traced["rows"]]}


TRACE_CSV_COLUMNS = ("date", "voucher", "book", "document_id", "document_type", "event", "version", "recorded_at",
                     "account", "tier", "debit", "credit", "balance")


def _trace_csv(traced: dict) -> list[list[object]]:  # type: ignore[type-arg]
    """A trace's lines as CSV, then an ``opening`` and a ``total`` row (debit, credit, closing balance; debit positive)."""
    rows = dict_rows(traced["rows"], TRACE_CSV_COLUMNS)
    blank = [""] * (len(TRACE_CSV_COLUMNS) - 4)
    rows.append(["opening", *blank, "", "", traced["opening"]])
    rows.append(["total", *blank, traced["debit"], traced["credit"], traced["closing"]])
    return rows


def _draw_trace(console: Console, result, names: dict[str, str], title: str, window: str, show_opening: bool) -> None:  # type: ignore[no-untyped-def]
    # The recorded time is in --format json; the screen keeps what an accountant reads first.
    columns = ["date", "voucher", *(["book"] if len(names) > 1 else []), "document (type)", "event",
               "account", "借方 debit", "贷方 credit", "余额 balance"]
    table = whole_table(f"Trace: {title}, {window}", columns, right=[c for c in columns if c[0] in "借贷余"])
    labelled = columns.index("document (type)")

    def summary_row(label: str, *figures: str) -> list[str]:
        cells = [""] * (len(columns) - len(figures)) + list(figures)
        cells[labelled] = label
        return cells

    if show_opening:
        table.add_row(*summary_row("期初 opening", _sided(result.opening_fen)))
    for r in result.rows:
        table.add_row(
            r.effective_date, f"{r.period}#{r.voucher}", *([names.get(r.book_id, r.book_id)] if len(names) > 1 else []),
            escape(r.document_id) + (f" ({r.document_type})" if r.document_type else ""), f"{r.kind} v{r.version}",
            r.account + (f":{r.tier}" if r.tier else ""),
            format_yuan_grouped(r.debit_fen) if r.debit_fen else "", format_yuan_grouped(r.credit_fen) if r.credit_fen else "",
            _sided(r.running_balance_fen),
        )
    table.add_section()
    table.add_row(*summary_row("合计 total", format_yuan_grouped(result.debit_fen), format_yuan_grouped(result.credit_fen), _sided(result.closing_fen)))
    console.print(table)
    if not result.complete:
        console.print(f"showing the first {len(result.rows)} of {result.line_count} lines; the totals cover all of them")
    stored = "" if result.stored_balance_fen is None else f"; proj_balances {format_yuan_grouped(result.stored_balance_fen)}"
    console.print(
        f"projections report: debits {format_yuan_grouped(result.projected_debit_fen)}, credits "
        f"{format_yuan_grouped(result.projected_credit_fen)}, balance {format_yuan_grouped(result.projected_balance_fen)}{stored}"
    )
    if result.agrees:
        console.print(f"[green]the {result.line_count} lines agree with the projections[/green]")
    for difference in result.differences():
        console.print(f"[red]{escape(difference)}[/red]", highlight=False)


def _sided(balance_fen: int) -> str:
    """A balance as the balance command shows it: ``Dr 1,200.00`` or ``Cr 4,000.00``."""
    return f"{'Dr' if balance_fen >= 0 else 'Cr'} {format_yuan_grouped(abs(balance_fen))}"


def _trace_document(document_id: str, chosen: str, db: str | None) -> None:
    from ledger.trace import document_to_json, trace_document

    with open_ledger(db) as ledger:
        try:
            traced = trace_document(ledger, document_id)
        except LedgerError as error:
            err.print(f"[red]{escape(error.describe())}[/red]", highlight=False)
            raise typer.Exit(1) from None
    shown = document_to_json(traced)
    shown["events"] = [{**e, "recorded_at": local_time(e["recorded_at"])} for e in shown["events"]]  # type: ignore[attr-defined]
    if chosen == "json":
        _write_report(None, chosen, shown, None, None)
    elif chosen == "csv":
        rows: list[list[object]] = [["book", "version", "event", "voucher", "effective_date", "recorded_at", "actor", "reverses",
                                     "account", "tier", "debit", "credit", "link", "link_holds"]]
        for e in shown["events"]:  # type: ignore[attr-defined]
            for p in e["postings"]:
                rows.append([e["book"], e["version"], e["event"], e["voucher"], e["effective_date"], e["recorded_at"], e["actor"],
                             e["reverses"], p["account"], p["tier"], p["debit"], p["credit"], e["link"], e["link_holds"]])
        _write_report(None, chosen, None, rows, None)
    else:
        reversed_note = f", reversed by {traced.reversed_by}" if traced.reversed_by else ""
        out.print(f"[bold]{escape(traced.document_id)}[/bold] ({traced.document_type}){reversed_note}, content hash {traced.content_hash}")
        for e in traced.events:
            voucher = f"voucher {e.voucher}" if e.voucher else "no voucher (no postings)"
            reverses = f", reverses {e.reverses}" if e.reverses else ""
            out.print(f"[bold]{e.kind}[/bold] in {e.book} version {e.version}, {voucher}, effective {e.effective_date}, "
                      f"recorded {local_time(e.recorded_at)} by {escape(e.actor)}{escape(reverses)}", highlight=False)
            table = whole_table(None, ("account", "tier", "debit", "credit"), right=("tier", "debit", "credit"))
            for account_code, tier_number, amount_fen in e.postings:
                table.add_row(account_code, str(tier_number or ""), format_yuan(max(amount_fen, 0)), format_yuan(max(-amount_fen, 0)))
            out.print(table)
            holds = "[green]holds[/green]" if e.link_holds else "[red]DOES NOT HOLD[/red]"
            out.print(f"  chain: previous {e.previous_link}\n         this     {e.link}  ({holds})", highlight=False)
    if not all(e.link_holds for e in traced.events):
        raise typer.Exit(1)


@app.command()
def vouchers(
    region: Annotated[str, typer.Option(help="Six-digit region code of the book.")],
    scheme: Annotated[str, typer.Option(help="resident, assistance, worker or adjustment.")],
    year: Annotated[int, typer.Option(help="Fiscal year of the book.")],
    month: Annotated[Optional[int], typer.Option(min=1, max=12, help="One month; default every month.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1_000_000, help="List at most this many vouchers; the proof covers them all.")] = 10_000,
    report_format: FormatOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """The voucher register (记账凭证) of a book and the proof that each month's numbers run 1–N with none missing."""
    from ledger.vouchers import register_to_json, voucher_register

    _check_scheme(scheme)
    chosen = _report_format(report_format, as_json=as_json)
    period = f"{year}-{month:02d}" if month else None
    with open_ledger(db) as ledger:
        book = _one_book(current(ledger), region, scheme, year)
        register = voucher_register(ledger.engine, book.book_id, period, limit)
    name = f"{book.region}/{book.scheme}/{book.year}"
    shown = register_to_json(register, name)
    shown["vouchers"] = [{**v, "recorded_at": local_time(v["recorded_at"])} for v in shown["vouchers"]]  # type: ignore[attr-defined]
    columns = ("voucher", "period", "number", "date", "recorded_at", "document_id", "document_type", "event", "version", "lines",
               "debit", "credit", "balanced")
    _write_report(None, chosen, shown, dict_rows(shown["vouchers"], columns), lambda console: _draw_register(console, register, name))  # type: ignore[arg-type]
    if not register.holds:
        raise typer.Exit(1)


def _draw_register(console: Console, register, name: str) -> None:  # type: ignore[no-untyped-def]
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


# ---------------------------------------------------------------- official statements (资产负债表, 收支表)

statement_app = typer.Typer(
    help="Official statements: 资产负债表 (会社保01表) and 收支表 (会社保02表): show, issue, list issues, compare a published one.",
    no_args_is_help=True,
)
app.add_typer(statement_app, name="statement")

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


def _statement_form(form: str) -> None:
    if form not in STATEMENT_FORMS:
        err.print("[red]--form must be 01 (资产负债表) or 02 (收支表)[/red]")
        raise typer.Exit(2)


def _statement_subject(
    region: str, scheme: str, year: int, month: int | None, consolidated: bool, with_adjustment: bool, as_of: str | None = None
) -> tuple[Scope, Period]:
    from datetime import date

    _check_scheme(scheme)
    try:
        as_of_date = parse_date(as_of) if as_of else None
    except DateFormatError as error:
        err.print(f"[red]--as-of: {escape(str(error))}[/red]")
        raise typer.Exit(2) from None
    return Scope(region, scheme, consolidated, with_adjustment), Period(year, month, as_of_date)


def _statement_refused(error: LedgerError) -> typer.Exit:
    """Print a refusal in red (escaped: its rule is in brackets) and give the exit to raise."""
    err.print(f"[red]{escape(str(error))}[/red]", soft_wrap=True)
    return typer.Exit(1)


def _statement_emit(text: str, target: Path | None, byte_order_mark: bool = False) -> None:
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
    from ledger.statements import compute
    from ledger.statements.render import FORMATS as OUTPUT_FORMATS, rich_view, to_csv, to_json, write_xlsx

    if output_format not in OUTPUT_FORMATS:
        err.print(f"[red]--format must be one of {', '.join(OUTPUT_FORMATS)}[/red]")
        raise typer.Exit(2)
    if output_format == "xlsx" and output is None:
        err.print("[red]--format xlsx writes a file: give --out FILE.xlsx[/red]")
        raise typer.Exit(2)
    _statement_form(form)
    scope, period = _statement_subject(region, scheme, year, month, consolidated, with_adjustment, as_of)
    try:
        with open_ledger(db) as ledger:
            statement = compute(current(ledger), form, scope, period, known_on=known_on)
            _check_known_on(ledger, [b.book_id for b in statement.books if b.year == year], known_on)
    except LedgerError as error:
        raise _statement_refused(error) from None
    if output_format == "xlsx":
        write_xlsx(statement, str(output))
        err.print(f"wrote {output}")
    elif output_format == "json":
        _statement_emit(json.dumps(to_json(statement), ensure_ascii=False, indent=2) + "\n", output)
    elif output_format == "csv":
        _statement_emit(to_csv(statement), output, byte_order_mark=True)
    elif output is not None:
        with output.open("w", encoding="utf-8") as target:
            console(target, no_color=True).print(rich_view(statement))
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
    report_format: FormatOption = None,
) -> None:
    """Trace a statement figure to its posting lines, documents and events, and bridge their total to the figure. Exit 1 if it does not land."""
    from ledger.statements import compute
    from ledger.statements.tracing import LEFT_OUT_OF_FLOWS, trace_statement_line
    from ledger.trace import trace_to_json

    chosen = _report_format(report_format, as_json=as_json)
    _statement_form(form)
    scope, period = _statement_subject(region, scheme, year, month, consolidated, with_adjustment, as_of)
    try:
        with open_ledger(db) as ledger:
            statement = compute(current(ledger), form, scope, period, known_on=known_on)
            _check_known_on(ledger, [b.book_id for b in statement.books if b.year == year], known_on)
            traced = trace_statement_line(ledger, statement, line, column, limit)
    except LedgerError as error:
        raise _statement_refused(error) from None
    spec = traced.line.spec
    names = {b.book_id: f"{b.region}/{b.scheme}/{b.year}" for b in statement.books if b.year == year}
    title = f"{statement.form.number} 行次 {spec.row} {spec.name} ({', '.join(spec.accounts)}), {traced.column.name}"
    # Every step in debit-positive terms; the last flips to the line's own sign.
    bridge = [("the lines' net (debit positive)", traced.net_fen)]
    bridge += [(f"taking out {LEFT_OUT_OF_FLOWS[kind]}", -fen) for kind, fen in traced.left_out.items()]
    if traced.eliminated_fen:
        bridge.append(("taking out the remittances and grants eliminated between the scope's books", -spec.sign * traced.eliminated_fen))
    lines_json = _trace_json_local(trace_to_json(traced.trace, names))
    if chosen == "json":
        payload = {
            "statement": title,
            "figure": format_yuan(traced.figure_fen),
            "explained": format_yuan(traced.explained_fen),
            "agrees": traced.agrees,
            "bridge": [{"step": step, "amount": format_yuan(fen)} for step, fen in bridge],
            **lines_json,
        }
        _write_report(None, chosen, payload, None, None)
    elif chosen == "csv":
        _write_report(None, chosen, None, _trace_csv(lines_json), None)
    else:
        window = f"{statement.period.label}"
        _draw_trace(out, traced.trace, names, title, window, traced.column.code != "closing")
        for step, fen in bridge:
            out.print(f"  {step}: {format_yuan_grouped(fen)}")
        counted_fen = sum(fen for _, fen in bridge)
        shown_as = "a credit, shown positive" if spec.sign < 0 else "a debit"
        out.print(
            f"  = {format_yuan_grouped(counted_fen)} debit positive, {format_yuan_grouped(traced.explained_fen)} as the line "
            f"shows it ({shown_as}); the statement shows {format_yuan_grouped(traced.figure_fen)}"
        )
        verdict = "[green]the lines give the figure[/green]" if traced.agrees else "[red]the lines do NOT give the figure[/red]"
        out.print(verdict)
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
    from ledger.statements.issuing import issue

    _statement_form(form)
    scope, period = _statement_subject(region, scheme, year, month, consolidated, with_adjustment)
    try:
        with open_ledger(db) as ledger:
            result = issue(current(ledger), form, scope, period, issued_by or _default_actor())
    except LedgerError as error:
        raise _statement_refused(error) from None
    if as_json:
        out.print_json(json.dumps(_issue_json(result), ensure_ascii=False))
        return
    _print_issue(result)


def _issued_json(issued) -> dict[str, object]:  # type: ignore[no-untyped-def]
    return {
        "id": issued.id,
        "form": issued.form,
        "scope": issued.scope,
        "period": issued.period,
        "issued_at": local_time(issued.issued_at),
        "issued_by": issued.issued_by,
        "position": issued.position,
        "source_hash": issued.source_hash,
        "figures_digest": issued.figures_digest,
    }


def _issue_json(result) -> dict[str, object]:  # type: ignore[no-untyped-def]
    return {
        "issued": _issued_json(result.issued),
        "previous": _issued_json(result.previous) if result.previous else None,
        "changes": [
            {
                "row": c.row, "code": c.code, "name": c.name, "column": c.column,
                "old": None if c.old_fen is None else format_yuan(c.old_fen),
                "new": None if c.new_fen is None else format_yuan(c.new_fen),
                "difference": format_yuan(c.difference_fen),
            }
            for c in result.changes
        ],
        "documents_since": [{**d.__dict__, "recorded_at": local_time(d.recorded_at)} for d in result.documents],
        "documents_truncated": result.documents_truncated,
    }


def _print_issue(result) -> None:  # type: ignore[no-untyped-def]
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
    report_format: FormatOption = None,
) -> None:
    """List the issued statements, oldest first (issue times in the agency's time zone)."""
    from ledger.statements.issuing import issued as issued_statements

    chosen = _report_format(report_format, as_json=as_json)
    with open_ledger(db) as ledger:
        rows = issued_statements(ledger.engine, form, scope, period)
    records = [_issued_json(r) for r in rows]

    def draw(console: Console) -> None:
        columns = ("#", "form", "scope", "period", "issued at", "by", "position", "source hash", "figures digest")
        table = whole_table("Issued statements", columns, right=("#", "position"), prose=("by",))
        for r, record in zip(rows, records):
            table.add_row(str(r.id), r.form, escape(r.scope), r.period, str(record["issued_at"]), escape(r.issued_by), str(r.position),
                          r.source_hash, r.figures_digest)
        console.print(table)

    _write_report(None, chosen, records, dict_rows(records), draw)


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
    report_format: FormatOption = None,
) -> None:
    """Compare a published statement with the books, line by line, and check its own arithmetic. Exit 1 when anything differs."""
    from ledger.statements import compute
    from ledger.statements.compare import MAXIMUM_PUBLISHED_BYTES, UNIT_NAMES, compare, not_published, read_published

    chosen = _report_format(report_format, as_json=as_json)
    _statement_form(form)
    scope, subject_period = _statement_subject(region, scheme, year, month, consolidated, with_adjustment, as_of)
    try:
        with file.open("rb") as stream:
            published = stream.read(MAXIMUM_PUBLISHED_BYTES + 1)
    except OSError as error:
        err.print(f"[red]cannot read {escape(str(file))}: {escape(error.strerror or str(error))}[/red]")
        raise typer.Exit(2) from None
    try:
        with open_ledger(db) as ledger:
            statement = compute(current(ledger), form, scope, subject_period, known_on=known_on)
            _check_known_on(ledger, [b.book_id for b in statement.books if b.year == year], known_on)
            read = read_published(published, statement, unit)
            findings = compare(statement, read)
    except LedgerError as error:
        raise _statement_refused(error) from None
    left_out = [{"row": spec.row, "name": spec.name} for spec in not_published(statement, read)]
    records = [
        {**f.__dict__,
         "published": None if f.published_fen is None else format_yuan(f.published_fen),
         "books": None if f.books_fen is None else format_yuan(f.books_fen)}
        for f in findings
    ]
    payload = {"statement": statement.name, "unit": UNIT_NAMES[read.unit], "agrees": not findings, "findings": records, "not_published": left_out}

    def draw(console: Console) -> None:
        for finding in findings:
            console.print(f"[red]{finding.kind}: {escape(finding.message)}[/red]", highlight=False)
        if left_out:
            console.print("not published (not compared): " + ", ".join(f"行次 {line['row']} {line['name']}" for line in left_out), highlight=False)
        verdict = "[green]agrees with the books[/green]" if not findings else f"[red]{len(findings)} findings[/red]"
        console.print(f"{verdict}: {escape(file.name)} ({UNIT_NAMES[read.unit]}) against {statement.name}", highlight=False)

    columns = ("kind", "row", "name", "column", "published", "books", "message")
    _write_report(None, chosen, payload, dict_rows(records, columns), draw)
    if findings:
        raise typer.Exit(1)


def main() -> None:
    app()

