"""The ``ledger`` command line."""

from __future__ import annotations

import getpass
import json
import os
import sys
from collections import deque
from collections.abc import Iterator
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
from ledger.errors import LedgerError
from ledger.money import format_yuan, format_yuan_grouped
from ledger.projections import queries
from ledger.reader import FORMATS, guess_format, open_text, read_records
from ledger.regions import municipality_of, region_name
from ledger.statements import FORMS as STATEMENT_FORMS, Period, Scope
from ledger.store import URL_VARIABLE, Ledger

app = typer.Typer(
    help="An event-sourced fund ledger for China's public medical-insurance funds.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
# Piped output gets a width that fits a trial balance instead of Rich's 80 columns.
out = Console(width=None if sys.stdout.isatty() else 132)
err = Console(stderr=True, width=None if sys.stderr.isatty() else 132)

DbOption = Annotated[
    Optional[str],
    typer.Option("--db", envvar=URL_VARIABLE, help="Store URL (sqlite:///file.db or postgresql+psycopg2://...); default ./ledger.db."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
AsOfOption = Annotated[
    Optional[str],
    typer.Option("--as-of", help="Balances at the end of this effective date (YYYY-MM-DD), from the dated projection; no replay."),
]
KnownOnOption = Annotated[
    Optional[str],
    typer.Option(
        "--known-on",
        help="Only what had been recorded by this time (YYYY-MM-DD or ISO timestamp, UTC unless it has an offset): "
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
) -> None:
    """Post business documents. Good ones are posted, every bad line is listed; re-posting never double-posts."""
    chosen_format = file_format or ("jsonl" if file == "-" else guess_format(file))
    if chosen_format not in FORMATS:
        err.print(f"[red]--format must be one of {', '.join(FORMATS)}[/red]")
        raise typer.Exit(2)
    try:
        stream = open_text(file)
    except OSError as error:
        err.print(f"[red]cannot read {file}: {error.strerror}[/red]")
        raise typer.Exit(2) from None
    total_bytes = os.path.getsize(file) if file != "-" else None
    counts = {POSTED: 0, DUPLICATE: 0, REJECTED: 0}
    postings = 0
    rejected: list[tuple[int, str, LedgerError]] = []
    lines: deque[int] = deque()
    show_progress = not quiet and err.is_terminal
    with open_ledger(db) as ledger, stream, _progress(show_progress) as progress:
        task = progress.add_task("posting", total=total_bytes)

        def documents() -> Iterator[Document]:
            for record in read_records(stream, chosen_format, actor or _default_actor()):
                progress.advance(task, record.size_bytes)
                if record.error is not None:
                    rejected.append((record.line, record.error.document_id or "", record.error))
                    counts[REJECTED] += 1
                    continue
                lines.append(record.line)
                yield record.document  # type: ignore[misc]

        for outcome in ledger.post(documents()):
            line = lines.popleft()
            counts[outcome.status] += 1
            postings += outcome.postings
            if outcome.error is not None:
                rejected.append((line, outcome.document_id, outcome.error))
    _report_post(counts, postings, sorted(rejected, key=lambda r: r[0]))
    if counts[REJECTED]:
        raise typer.Exit(1)


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


def _report_post(counts: dict[str, int], postings: int, rejected: list[tuple[int, str, LedgerError]]) -> None:
    if rejected:
        table = Table(title="Rejected documents", show_lines=False)
        table.add_column("line", justify="right")
        table.add_column("document")
        table.add_column("reason")
        for line, document_id, error in rejected:
            table.add_row(str(line), escape(document_id), escape(error.describe()))
        err.print(table)
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


def _balance_table(title: str, rows: list[queries.BalanceRow]) -> Table:
    table = Table(title=title)
    table.add_column("科目 account")
    table.add_column("名称 name")
    table.add_column("tier", justify="right")
    table.add_column("借方 debit", justify="right")
    table.add_column("贷方 credit", justify="right")
    table.add_column("余额 balance", justify="right")
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
) -> None:
    """Balances of one book: every account, or one; now, or as of a past date and as known on a past time."""
    _check_scheme(scheme)
    if account and not any(code == account or code.startswith(account + ".") for code in CHART):
        err.print(f"[red]{account} is not an account of the chart[/red]")
        raise typer.Exit(2)
    key = BookKey(region, scheme, year)
    with open_ledger(db) as ledger:
        if as_of or known_on:
            rows = _dated_rows(current(ledger), [book_id(key).hex], as_of, known_on, account)
        else:
            rows = queries.book_balances(current(ledger).engine, book_id(key).hex, account)
        known = any(b.book_id == book_id(key).hex for b in queries.list_books(ledger.engine, region, scheme, year))
    if not known:
        err.print(f"[red]there is no book {key}[/red]")
        raise typer.Exit(1)
    if as_json:
        dated = {"as_of": as_of, "known_on": known_on} if as_of or known_on else {}
        out.print_json(json.dumps({"book": str(key), **dated, "rows": [_row_json(r) for r in rows]}, ensure_ascii=False))
        return
    out.print(_balance_table(f"{region_name(region)} {key}{_dated_title(as_of, known_on)}", rows))


def _dated_title(as_of: str | None, known_on: str | None) -> str:
    return (f" as of {as_of}" if as_of else "") + (f" as known on {known_on}" if known_on else "")


def _dated_rows(
    ledger: Ledger, book_ids: list[str], as_of: str | None, known_on: str | None, account: str | None = None
) -> list[queries.BalanceRow]:
    """Balances from the dated projection (``proj_lines``): as of the end of a date, as known on a recorded time."""
    try:
        through = date.fromisoformat(as_of) if as_of else date.max
        if known_on:
            queries.recorded_cutoff(known_on)
    except ValueError as error:
        err.print(f"[red]--as-of takes YYYY-MM-DD and --known-on YYYY-MM-DD or an ISO timestamp: {error}[/red]")
        raise typer.Exit(2) from None
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
) -> None:
    """Trial balance (试算平衡表) of a district's books or of a whole municipality, now or as of a date. Exits 1 if unbalanced."""
    if scheme:
        _check_scheme(scheme)
    with open_ledger(db) as ledger:
        current(ledger)
        balances = _trial_balances(ledger, region, year, scheme, as_of, known_on)
    if not balances:
        err.print(f"[red]no books for {region} in {year}[/red]")
        raise typer.Exit(1)
    if as_json:
        payload = [
            {
                "title": tb.title,
                "rows": [_row_json(r) for r in tb.rows],
                "debit_total": format_yuan(tb.debit_total_fen),
                "credit_total": format_yuan(tb.credit_total_fen),
                "balanced": tb.balanced,
            }
            for tb in balances
        ]
        out.print_json(json.dumps(payload, ensure_ascii=False))
    else:
        for tb in balances:
            _print_trial_balance(tb)
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


def _print_trial_balance(tb: queries.TrialBalance) -> None:
    table = _balance_table(f"试算平衡表 {tb.title}", tb.rows)
    table.add_section()
    status = "[green]balanced[/green]" if tb.balanced else "[red]NOT BALANCED[/red]"
    table.add_row(
        "", "合计 total", "", format_yuan_grouped(tb.debit_total_fen), format_yuan_grouped(tb.credit_total_fen), status
    )
    out.print(table)


@app.command()
def books(
    region: Annotated[Optional[str], typer.Option(help="A district, or a municipality for all its books.")] = None,
    year: Annotated[Optional[int], typer.Option(help="Fiscal year.")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """List the books."""
    with open_ledger(db) as ledger:
        rows = queries.list_books(current(ledger).engine, region, None, year)
    if as_json:
        out.print_json(json.dumps([r.__dict__ for r in rows], ensure_ascii=False))
        return
    table = Table(title="Books")
    for column in ("region", "name", "scheme", "year", "status", "events"):
        table.add_column(column)
    for row in rows:
        table.add_row(row.region, region_name(row.region), row.scheme, str(row.year), "closed" if row.closed else "open", str(row.events))
    out.print(table)


@app.command()
def fiscal(
    region: Annotated[Optional[str], typer.Argument(help="A district, or a municipality for all its districts.")] = None,
    year: Annotated[Optional[int], typer.Option(help="Fiscal year.")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """The social-security fiscal special account (财政专户) per region and fund, as the finance bureau sees it."""
    with open_ledger(db) as ledger:
        rows = queries.fiscal_accounts(current(ledger).engine, region, year)
    if as_json:
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
        out.print_json(json.dumps(payload, ensure_ascii=False))
        return
    table = Table(title="财政专户 social-security fiscal special account")
    for column in ("region", "name", "fund", "year", "上年结转 opening", "收入 receipts", "支出 payments", "余额 closing"):
        table.add_column(column, justify="right" if column[0] in "上收支余" else "left")
    for r in rows:
        table.add_row(
            r.region, region_name(r.region), r.scheme, str(r.year),
            format_yuan_grouped(r.opening_fen), format_yuan_grouped(r.receipts_fen),
            format_yuan_grouped(r.payments_fen), format_yuan_grouped(r.closing_fen),
        )
    out.print(table)


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
) -> None:
    """Replay every book, prove its hash chain and voucher numbers, and compare with the projections and seals.

    Exit 0 only when everything agrees.
    """
    from ledger.seals import SealError, read_signed
    from ledger.verify import verify as run_verify

    try:
        seal_files = [read_signed(path, public_key) for path in seal or []]
    except SealError as error:
        err.print(f"[red]{escape(str(error))}[/red]")
        raise typer.Exit(1) from None
    with open_ledger(db) as ledger:
        report = run_verify(ledger, seal_files)
    if as_json:
        payload = {
            "agrees": report.agrees,
            "books": report.books,
            "events": report.events,
            "log_events": report.log_events,
            "seals": report.seals,
            "snapshots": report.snapshots,
            "findings": [f.__dict__ for f in report.findings],
        }
        out.print_json(json.dumps(payload, ensure_ascii=False))
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
) -> None:
    """Every close and reopening of a book: when, by whom, why."""
    with open_ledger(db) as ledger:
        rows = queries.period_actions(current(ledger).engine, book_id(BookKey(region, scheme, year)).hex)
    if as_json:
        out.print_json(json.dumps([r.__dict__ for r in rows], ensure_ascii=False))
        return
    table = Table(title=f"结账记录 {region}/{scheme}/{year}")
    for column in ("action", "period", "actor", "reason", "document", "recorded at"):
        table.add_column(column)
    for row in rows:
        table.add_row(row.action, row.period, row.actor, row.reason, row.document_id, row.recorded_at[:19])
    out.print(table)


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
) -> None:
    """The seals issued by year closes and sealed month closes."""
    from ledger.seals import stored

    with open_ledger(db) as ledger:
        found = stored(ledger.engine, book)
    if as_json:
        out.print_json(json.dumps([s.payload for s in found], ensure_ascii=False))
        return
    table = Table(title="Seals 封账")
    for column in ("book", "period", "version", "chain head", "lines", "debits", "document"):
        table.add_column(column, no_wrap=True, justify="right" if column in ("version", "lines", "debits") else "left")
    for seal in found:
        p = seal.payload
        table.add_row(
            seal.book, seal.period, str(seal.version), p["chain_head"][:12] + "…", str(p["lines"]),
            format_yuan_grouped(p["debit_total_fen"]), seal.document_id,
        )
    out.print(table)


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
) -> None:
    """Print the policy in force for a region on a date: every figure with its source."""
    from ledger.policy import load_policy

    try:
        policy = load_policy(region, date.fromisoformat(on))
    except (LedgerError, ValueError) as error:
        err.print(f"[red]{escape(str(error))}[/red]")
        raise typer.Exit(1) from None
    if as_json:
        payload = {
            **policy.reference(),
            "parameters": [
                {"name": p.name, "value": p.shown(), "unit": p.unit, "minimum": p.minimum, "source": p.source, "file": p.file_id, "note": p.note}
                for p in sorted(policy.parameters.values(), key=lambda p: p.name)
            ],
        }
        out.print_json(json.dumps(payload, ensure_ascii=False))
        return
    table = Table(title=f"Policy in force for {region_name(region)} {region} on {on} (version {policy.version}; {', '.join(policy.files)})")
    for column in ("parameter", "value", "不低于", "source", "file"):
        table.add_column(column, overflow="fold")
    for p in sorted(policy.parameters.values(), key=lambda p: p.name):
        table.add_row(escape(p.name), escape(p.shown()), "≥" if p.minimum else "", escape(p.source + (f" — {p.note}" if p.note else "")), p.file_id)
    out.print(table)


@policy_app.command("check")
def policy_check(
    region: Annotated[str, typer.Argument(help="A district, or a municipality for all its books.")],
    year: Annotated[int, typer.Argument(help="Fiscal year.")],
    db: DbOption = None,
) -> None:
    """The policy's surplus checks on each fund: findings are reported, exit 1 when there are any."""
    from ledger.policy.checks import surplus_findings

    with open_ledger(db) as ledger:
        findings = surplus_findings(current(ledger).engine, region, year)
    for finding in findings:
        out.print(f"[yellow]{finding.book}: {finding.message}[/yellow]")
    out.print(f"{len(findings)} findings for {region_name(region)} {region} in {year}")
    if findings:
        raise typer.Exit(1)


@app.command()
def explain(
    document_id: Annotated[str, typer.Argument(help="The business document id.")],
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show how a posted document's amounts were computed: facts, rule, policy figures with their clauses, rounding."""
    from ledger.store import explain as explain_document

    with open_ledger(db) as ledger:
        try:
            shown = explain_document(ledger, document_id)
        except LedgerError as error:
            err.print(f"[red]{escape(str(error))}[/red]")
            raise typer.Exit(1) from None
    if as_json:
        out.print_json(json.dumps(shown, ensure_ascii=False))
        return
    out.print(f"[bold]{shown['document_id']}[/bold] ({shown['type']})" + (f", reversed by {shown['reversed_by']}" if shown["reversed_by"] else ""))
    for entry in shown["entries"]:
        table = Table(title=f"{entry['event']} in {entry['book']}, effective {entry['effective_date']}, recorded {entry['recorded_at']} by {entry['actor']}")
        for column in ("account", "tier", "debit", "credit"):
            table.add_column(column, justify="right" if column in ("debit", "credit") else "left")
        for p in entry["postings"]:
            table.add_row(p["account"], str(p["tier"] or ""), p["debit"], p["credit"])
        out.print(table)
    computation = shown["computation"]
    if not computation:
        out.print("No rule computed these amounts: the document carried them.")
        return
    out.print(f"Computed by rule [bold]{computation['rule']}[/bold] under policy {', '.join(computation['policy']['files'])} (version {computation['policy']['version']}, in force for {computation['policy']['region']} on {computation['policy']['on']})")
    out.print("Facts: " + ", ".join(f"{k} = {v}" for k, v in computation["facts"].items()))
    table = Table(title="Steps")
    for column in ("step", "how", "value", "source"):
        table.add_column(column, overflow="fold")
    for step in computation["steps"]:
        table.add_row(step["label"], step["formula"], step["value"], step["source"])
    out.print(table)
    out.print("Result: " + ", ".join(f"{k} = {format_yuan(v)}" for k, v in computation["amounts"].items()))


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
    table = Table(title=f"Fund books {year}, closed and carried into {year + 1}")
    for column in ("region", "name", "scheme", "1003 财政专户", "1004 支出户", "3001 tier 1", "3001 tier 2 / fund"):
        table.add_column(column, justify="right" if column[0].isdigit() else "left")
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

ReportFormatOption = Annotated[str, typer.Option("--format", help="table, json or csv (csv: reconcile only).")]


def _report_format(chosen: str, allowed: tuple[str, ...]) -> str:
    if chosen not in allowed:
        err.print(f"[red]--format must be one of {', '.join(allowed)}[/red]")
        raise typer.Exit(2)
    return chosen


def _window(year: int, since: str | None, through: str | None) -> tuple[date, date]:
    """The window of dates within the fiscal year: the whole year unless --from/--through narrow it."""
    try:
        first = date.fromisoformat(since) if since else date(year, 1, 1)
        last = date.fromisoformat(through) if through else date(year, 12, 31)
    except ValueError as error:
        err.print(f"[red]--from and --through take dates as YYYY-MM-DD: {error}[/red]")
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


def _write_report(output: str | None, report_format: str, json_payload: object, csv_rows: list[list[str]] | None, draw) -> None:  # type: ignore[no-untyped-def]
    """Print a report, or write it to ``output``: JSON, CSV, or the tables drawn by ``draw(console)``."""
    import csv as csv_module

    try:
        target = open(output, "w", encoding="utf-8", newline="") if output else None
    except OSError as error:
        err.print(f"[red]cannot write {output}: {error.strerror}[/red]")
        raise typer.Exit(2) from None
    try:
        if report_format == "json":
            text = json.dumps(json_payload, ensure_ascii=False, indent=2)
            if target:
                target.write(text + "\n")
            else:
                out.print_json(text)
        elif report_format == "csv" and csv_rows is not None:
            csv_module.writer(target or sys.stdout).writerows(csv_rows)
        else:
            draw(Console(file=target, width=160, no_color=True) if target else out)
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
    report_format: ReportFormatOption = "table",
    output: Annotated[Optional[str], typer.Option("--out", help="Write the report to this file instead of the screen.")] = None,
    db: DbOption = None,
) -> None:
    """Reconcile a statement with a bank account of a book (对账) and draw up the 余额调节表. Exit 0 only when they agree."""
    from ledger.accounts import BANK_ACCOUNTS
    from ledger.money import MoneyFormatError, parse_yuan
    from ledger.reconcile import read_statement, reconcile as run_reconcile, to_csv_rows, to_json

    _check_scheme(scheme)
    chosen = _report_format(report_format, ("table", "json", "csv"))
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
    matched = Table(title=f"已达账项 matched ({len(result.matched)})")
    for column in ("row", "date", "reference", "摘要", "收入 in", "支出 out", "book date", "voucher", "document", "by", "days"):
        matched.add_column(column, justify="right" if column in ("row", "收入 in", "支出 out", "days") else "left", no_wrap="date" in column)
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
        table = Table(title=f"{title} ({len(rows)})")
        for column in ("row", "date", "reference", "摘要", "amount"):
            table.add_column(column, justify="right" if column in ("row", "amount") else "left")
        for r in rows:
            table.add_row(str(r.row), r.date.isoformat(), escape(r.reference), escape(r.description), format_yuan_grouped(abs(r.amount_fen)))
        console.print(table)
    book_sections = (
        ("企业已收银行未收 in the books only, money in", result.book_receipts),
        ("企业已付银行未付 in the books only, money out", result.book_payments),
        ("冲销 a document and its reversal, cancelling in the books", [line for pair in result.reversed_in_books for line in pair]),
    )
    for title, lines in book_sections:
        table = Table(title=f"{title} ({len(lines)})")
        for column in ("date", "voucher", "document", "type", "event", "amount"):
            table.add_column(column, justify="right" if column == "amount" else "left")
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
    table = Table(title=f"余额调节表 as of {result.through} (statement balance: {result.statement_balance_source})")
    for column in ("对账单 statement", "金额", "账面 books", "金额 "):
        table.add_column(column, justify="right" if column.startswith("金额") else "left")
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
    report_format: ReportFormatOption = "table",
    db: DbOption = None,
) -> None:
    """Trace a figure to the lines, documents and events behind it; exit 1 if their total differs from the projections."""
    from ledger.trace import trace_lines

    chosen = _report_format(report_format, ("table", "json"))
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
        try:
            queries.recorded_cutoff(known_on)
        except ValueError as error:
            err.print(f"[red]--known-on: {error}[/red]")
            raise typer.Exit(2) from None
    first, last = _window(year, since, through) if (since or through) else (None, None)
    with open_ledger(db) as ledger:
        found = queries.list_books(current(ledger).engine, region, scheme, year)
        if not found:
            err.print(f"[red]there is no {scheme} book of {region} for {year}[/red]")
            raise typer.Exit(1)
        names = {b.book_id: f"{b.region}/{b.scheme}/{b.year}" for b in found}
        result = trace_lines(
            ledger.engine, list(names), [account], tier=tier,
            since=first if since else None, through=last if through else None, known_on=known_on, limit=limit,
        )
    from ledger.trace import trace_to_json

    title = f"{region_name(region)} {region} {scheme} {year}, account {account}" + (f" tier {tier}" if tier else "")
    window = f"{since or 'the first date'} – {through or 'the last date'}" + (f", as recorded by {known_on}" if known_on else "")
    _write_report(None, chosen, {"title": title, "window": window, **trace_to_json(result, names)}, None,
                  lambda console: _draw_trace(console, result, names, title, window, since is not None))
    if not result.agrees:
        raise typer.Exit(1)


def _draw_trace(console: Console, result, names: dict[str, str], title: str, window: str, show_opening: bool) -> None:  # type: ignore[no-untyped-def]
    table = Table(title=f"Trace: {title}, {window}")
    # The recorded time is in --format json; the screen keeps what an accountant reads first.
    columns = ["date", "voucher", *(["book"] if len(names) > 1 else []), "document (type)", "event",
               "account", "借方 debit", "贷方 credit", "余额 balance"]
    for column in columns:
        table.add_column(
            column,
            justify="right" if column[0] in "借贷余" else "left",
            no_wrap=column not in ("document (type)", "event"),
            min_width=16 if column == "document (type)" else None,
            overflow="fold",
        )
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
    if chosen == "json":
        out.print_json(json.dumps(document_to_json(traced), ensure_ascii=False))
    else:
        reversed_note = f", reversed by {traced.reversed_by}" if traced.reversed_by else ""
        out.print(f"[bold]{escape(traced.document_id)}[/bold] ({traced.document_type}){reversed_note}, content hash {traced.content_hash}")
        for e in traced.events:
            voucher = f"voucher {e.voucher}" if e.voucher else "no voucher (no postings)"
            reverses = f", reverses {e.reverses}" if e.reverses else ""
            out.print(f"[bold]{e.kind}[/bold] in {e.book} version {e.version}, {voucher}, effective {e.effective_date}, "
                      f"recorded {e.recorded_at} by {escape(e.actor)}{escape(reverses)}", highlight=False)
            table = Table()
            for column in ("account", "tier", "debit", "credit"):
                table.add_column(column, justify="right" if column in ("debit", "credit") else "left")
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
    report_format: ReportFormatOption = "table",
    db: DbOption = None,
) -> None:
    """The voucher register (记账凭证) of a book and the proof that each month's numbers run 1–N with none missing."""
    from ledger.vouchers import register_to_json, voucher_register

    _check_scheme(scheme)
    chosen = _report_format(report_format, ("table", "json"))
    period = f"{year}-{month:02d}" if month else None
    with open_ledger(db) as ledger:
        book = _one_book(current(ledger), region, scheme, year)
        register = voucher_register(ledger.engine, book.book_id, period, limit)
    name = f"{book.region}/{book.scheme}/{book.year}"
    _write_report(None, chosen, register_to_json(register, name), None, lambda console: _draw_register(console, register, name))
    if not register.holds:
        raise typer.Exit(1)


def _draw_register(console: Console, register, name: str) -> None:  # type: ignore[no-untyped-def]
    table = Table(title=f"记账凭证 voucher register {region_name(name[:6])} {name}")
    for column in ("voucher", "date", "document", "type", "event", "v", "lines", "借方合计 debit", "贷方合计 credit"):
        table.add_column(column, justify="right" if column[0] in "借贷vl" and column != "voucher" else "left")
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
        as_of_date = date.fromisoformat(as_of) if as_of else None
    except ValueError:
        err.print(f"[red]--as-of takes a date written YYYY-MM-DD, not {escape(repr(as_of))}[/red]")
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
            Console(file=target, width=160).print(rich_view(statement))
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
) -> None:
    """Trace a statement figure to its posting lines, documents and events, and bridge their total to the figure. Exit 1 if it does not land."""
    from ledger.statements import compute
    from ledger.statements.tracing import LEFT_OUT_OF_FLOWS, trace_statement_line
    from ledger.trace import trace_to_json

    _statement_form(form)
    scope, period = _statement_subject(region, scheme, year, month, consolidated, with_adjustment, as_of)
    try:
        with open_ledger(db) as ledger:
            statement = compute(current(ledger), form, scope, period, known_on=known_on)
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
    if as_json:
        payload = {
            "statement": title,
            "figure": format_yuan(traced.figure_fen),
            "explained": format_yuan(traced.explained_fen),
            "agrees": traced.agrees,
            "bridge": [{"step": step, "amount": format_yuan(fen)} for step, fen in bridge],
            **trace_to_json(traced.trace, names),
        }
        out.print_json(json.dumps(payload, ensure_ascii=False))
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
        "issued_at": issued.issued_at,
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
        "documents_since": [d.__dict__ for d in result.documents],
        "documents_truncated": result.documents_truncated,
    }


def _print_issue(result) -> None:  # type: ignore[no-untyped-def]
    issued = result.issued
    out.print(
        f"issued #{issued.id}: {result.statement.form.number} {result.statement.form.title} {escape(issued.scope)} {issued.period} "
        f"by {escape(issued.issued_by)} at {issued.issued_at}; position {issued.position}, source hash {issued.source_hash}, "
        f"figures digest {issued.figures_digest}",
        highlight=False,
        soft_wrap=True,
    )
    if result.previous is None:
        out.print("first issue of this statement")
        return
    previous = result.previous
    out.print(f"last issued as #{previous.id} at {previous.issued_at} (position {previous.position})", highlight=False)
    if not result.changes:
        out.print("[green]no figure changed since then[/green]")
    else:
        table = Table(title=f"changed since #{previous.id}")
        for column in ("行次", "项目", "column", "old", "new", "difference"):
            table.add_column(column, justify="right" if column in ("行次", "old", "new", "difference") else "left")
        for c in result.changes:
            table.add_row(
                str(c.row), c.name, c.column,
                "" if c.old_fen is None else format_yuan_grouped(c.old_fen),
                "" if c.new_fen is None else format_yuan_grouped(c.new_fen),
                format_yuan_grouped(c.difference_fen),
            )
        out.print(table)
    if result.documents:
        table = Table(title=f"documents recorded since #{previous.id} that touch its books")
        for column in ("document", "kind", "books", "effective", "recorded"):
            table.add_column(column)
        for d in result.documents:
            table.add_row(escape(d.document_id), ", ".join(d.kinds), ", ".join(d.books), d.effective_date, d.recorded_at)
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
) -> None:
    """List the issued statements, oldest first."""
    from ledger.statements.issuing import issued as issued_statements

    with open_ledger(db) as ledger:
        rows = issued_statements(ledger.engine, form, scope, period)
    if as_json:
        out.print_json(json.dumps([_issued_json(r) for r in rows], ensure_ascii=False))
        return
    table = Table(title="Issued statements")
    for column in ("#", "form", "scope", "period", "issued at", "by", "position", "source hash", "figures digest"):
        table.add_column(column)
    for r in rows:
        table.add_row(str(r.id), r.form, escape(r.scope), r.period, r.issued_at, escape(r.issued_by), str(r.position), r.source_hash[:16], r.figures_digest[:16])
    out.print(table)


@statement_app.command("compare")
def statement_compare(
    file: Annotated[Path, typer.Argument(help="The published statement: a CSV of line items (docs/statements.md).")],
    form: StatementFormOption,
    region: StatementRegionOption,
    scheme: StatementSchemeOption,
    year: StatementYearOption,
    month: StatementMonthOption = None,
    consolidated: StatementConsolidatedOption = False,
    with_adjustment: StatementAdjustmentOption = False,
    as_of: StatementAsOfOption = None,
    known_on: StatementKnownOnOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Compare a published statement with the books, line by line, and check its own arithmetic. Exit 1 when anything differs."""
    from ledger.statements import compute
    from ledger.statements.compare import MAXIMUM_PUBLISHED_BYTES, compare, read_published

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
            findings = compare(statement, read_published(published, statement))
    except LedgerError as error:
        raise _statement_refused(error) from None
    if as_json:
        out.print_json(json.dumps({"statement": statement.name, "agrees": not findings, "findings": [f.__dict__ for f in findings]}, ensure_ascii=False))
    else:
        for finding in findings:
            out.print(f"[red]{finding.kind}: {escape(finding.message)}[/red]", highlight=False, soft_wrap=True)
        verdict = "[green]agrees with the books[/green]" if not findings else f"[red]{len(findings)} findings[/red]"
        out.print(f"{verdict}: {escape(file.name)} against {statement.name}", highlight=False, soft_wrap=True)
    if findings:
        raise typer.Exit(1)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
