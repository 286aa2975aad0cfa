"""Drawings more than one command prints: balance tables, trial balances, a rule's computation, a trace, a posting run's summary.

Each takes the plain records a task returns and draws them with the tables
of ``ledger/output.py``, which never cut a figure.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ledger.money import format_yuan_grouped
from ledger.output import dict_rows, table as whole_table
from ledger.projections import queries
from ledger.cli.common import err, out
from ledger.tasks.posting import PostSummary

BALANCE_COLUMNS = ("科目 account", "名称 name", "tier", "借方 debit", "贷方 credit", "余额 balance")
TRIAL_BALANCE_COLUMNS = ("科目 account", "名称 name", "tier", "借方发生额 debit turnover", "贷方发生额 credit turnover",
                         "借方余额 debit balance", "贷方余额 credit balance")
TRACE_CSV_COLUMNS = ("date", "voucher", "book", "document_id", "document_type", "event", "version", "recorded_at",
                     "account", "tier", "debit", "credit", "balance")


def sided(balance_fen: int) -> str:
    """A balance as the balance command shows it: ``Dr 1,200.00`` or ``Cr 4,000.00``."""
    return f"{'Dr' if balance_fen >= 0 else 'Cr'} {format_yuan_grouped(abs(balance_fen))}"


def balance_table(title: str, rows: list[queries.BalanceRow]) -> Table:
    """A book's balances: debit and credit turnover, the balance with its side."""
    table = whole_table(title, BALANCE_COLUMNS, right=BALANCE_COLUMNS[2:], prose=("名称 name",))
    for row in rows:
        table.add_row(row.account, row.name, str(row.tier or ""), format_yuan_grouped(row.debit_fen),
                      format_yuan_grouped(row.credit_fen), sided(row.balance_fen))
    return table


def trial_balance_table(tb: queries.TrialBalance) -> Table:
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


def print_trial_balance(tb: queries.TrialBalance, target: Console | None = None) -> None:
    """A trial balance and its verdict: balanced, or the two pairs of totals that disagree."""
    target = target or out
    target.print(trial_balance_table(tb))
    status = "[green]balanced[/green]" if tb.balanced else "[red]NOT BALANCED[/red]"
    target.print(f"{status}: debit and credit turnover agree, and so do debit and credit balances" if tb.balanced
                 else f"{status}: turnover {format_yuan_grouped(tb.debit_turnover_fen)} / {format_yuan_grouped(tb.credit_turnover_fen)}, "
                      f"balances {format_yuan_grouped(tb.debit_total_fen)} / {format_yuan_grouped(tb.credit_total_fen)}")


def postings_table(title: str | None, postings: list[dict[str, Any]]) -> Table:
    """Posting lines already in yuan text (``{"account", "tier", "debit", "credit"}``)."""
    table = whole_table(title, ("account", "tier", "debit", "credit"), right=("tier", "debit", "credit"))
    for p in postings:
        table.add_row(p["account"], str(p["tier"] or ""), p["debit"], p["credit"])
    return table


def draw_computation(target: Console, computation: dict[str, Any]) -> None:
    """A rule's computation: rule and policy, facts, each step with its source, the result (yuan text throughout)."""
    policy = computation["policy"]
    target.print(f"Computed by rule [bold]{computation['rule']}[/bold] under policy {', '.join(policy['files'])} "
                 f"(version {policy['version']}, in force for {policy['region']} on {policy['on']})")
    target.print("Facts: " + ", ".join(f"{k} = {v}" for k, v in computation["facts"].items()))
    table = whole_table("Steps", ("step", "how", "value", "source"), right=("value",), prose=("step", "how", "source"))
    for step in computation["steps"]:
        table.add_row(escape(step["label"]), escape(step["formula"]), escape(step["value"]), escape(step["source"]))
    target.print(table)
    target.print("Result: " + ", ".join(f"{k} = {v}" for k, v in computation["amounts"].items()))


def report_post(summary: PostSummary) -> None:
    """A posting run's rejections (stderr, by line) and its counts (stdout)."""
    if summary.rejected:
        table = whole_table("Rejected documents", ("line", "document", "reason"), right=("line",), prose=("reason",))
        for line in sorted(summary.rejected, key=lambda r: r.line):
            table.add_row(str(line.line), escape(line.document_id), escape(line.error.describe()))  # type: ignore[union-attr]
        err.print(table)
    if summary.dry_run:
        out.print(
            f"dry run, nothing written: {summary.posted} documents would post ({summary.postings} postings), "
            f"{summary.duplicates} are already posted, {len(summary.rejected)} would be rejected"
        )
        return
    out.print(
        f"posted {summary.posted} documents ({summary.postings} postings), "
        f"{summary.duplicates} duplicates skipped, {len(summary.rejected)} rejected"
    )


def trace_csv(traced: dict[str, Any]) -> list[list[object]]:
    """A trace's lines as CSV, then an ``opening`` and a ``total`` row (debit, credit, closing balance; debit positive)."""
    rows = dict_rows(traced["rows"], TRACE_CSV_COLUMNS)
    blank = [""] * (len(TRACE_CSV_COLUMNS) - 4)
    rows.append(["opening", *blank, "", "", traced["opening"]])
    rows.append(["total", *blank, traced["debit"], traced["credit"], traced["closing"]])
    return rows


def draw_trace(target: Console, result: Any, names: dict[str, str], title: str, window: str, show_opening: bool) -> None:
    """A trace (``ledger.trace.Trace``): its lines with a running balance, the total, and whether the projections agree."""
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
        table.add_row(*summary_row("期初 opening", sided(result.opening_fen)))
    for r in result.rows:
        table.add_row(
            r.effective_date, f"{r.period}#{r.voucher}", *([names.get(r.book_id, r.book_id)] if len(names) > 1 else []),
            escape(r.document_id) + (f" ({r.document_type})" if r.document_type else ""), f"{r.kind} v{r.version}",
            r.account + (f":{r.tier}" if r.tier else ""),
            format_yuan_grouped(r.debit_fen) if r.debit_fen else "", format_yuan_grouped(r.credit_fen) if r.credit_fen else "",
            sided(r.running_balance_fen),
        )
    table.add_section()
    table.add_row(*summary_row("合计 total", format_yuan_grouped(result.debit_fen), format_yuan_grouped(result.credit_fen), sided(result.closing_fen)))
    target.print(table)
    if not result.complete:
        target.print(f"showing the first {len(result.rows)} of {result.line_count} lines; the totals cover all of them")
    stored = "" if result.stored_balance_fen is None else f"; proj_balances {format_yuan_grouped(result.stored_balance_fen)}"
    target.print(
        f"projections report: debits {format_yuan_grouped(result.projected_debit_fen)}, credits "
        f"{format_yuan_grouped(result.projected_credit_fen)}, balance {format_yuan_grouped(result.projected_balance_fen)}{stored}"
    )
    if result.agrees:
        target.print(f"[green]the {result.line_count} lines agree with the projections[/green]")
    for difference in result.differences():
        target.print(f"[red]{escape(difference)}[/red]", highlight=False)
