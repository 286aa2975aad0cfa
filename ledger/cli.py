"""The ``ledger`` command line."""

from __future__ import annotations

import getpass
import json
import os
import sys
from collections import deque
from collections.abc import Iterator
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
            table.add_row(str(line), document_id, error.describe())
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
    from datetime import date as _date

    try:
        through = _date.fromisoformat(as_of) if as_of else _date.max
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
def rebuild(db: DbOption = None) -> None:
    """Drop the projections and replay them from the events."""
    with open_ledger(db) as ledger:
        applied = ledger.projector.rebuild()
    out.print(f"rebuilt the projections from {applied} events")


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
        statements = [read_signed(path, public_key) for path in seal or []]
    except SealError as error:
        err.print(f"[red]{escape(str(error))}[/red]")
        raise typer.Exit(1) from None
    with open_ledger(db) as ledger:
        report = run_verify(ledger, statements)
    if as_json:
        payload = {
            "agrees": report.agrees,
            "books": report.books,
            "events": report.events,
            "seals": report.seals,
            "findings": [f.__dict__ for f in report.findings],
        }
        out.print_json(json.dumps(payload, ensure_ascii=False))
    else:
        for finding in report.findings:
            out.print(f"[red]{escape(finding.book)}: {escape(finding.message)}[/red]")
        verdict = "[green]agree[/green]" if report.agrees else "[red]DISAGREE[/red]"
        out.print(
            f"replayed {report.books} books ({report.events} events), proved their hash chains and vouchers, "
            f"checked {report.seals} seals: events, seals and projections {verdict}"
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
        done = queries.period_actions(ledger.engine, book_id(BookKey(str(raw["region"]), str(raw["scheme"]), int(raw["year"]))).hex)
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
    from ledger.chain import canonical
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
    from datetime import date as Date

    from ledger.policy import load_policy

    try:
        policy = load_policy(region, Date.fromisoformat(on))
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
        table.add_row(p.name, p.shown(), "≥" if p.minimum else "", p.source + (f" — {p.note}" if p.note else ""), p.file_id)
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
        f"ledger verify: replayed {report.books} books ({report.events} events), proved their hash chains "
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


def main() -> None:
    app()


if __name__ == "__main__":
    main()
