"""``ledger migrate``: bring a store written by an earlier release to this release's format (docs/operations.md, Upgrading)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from ledger import formats
from ledger.cli.common import DbOption, answering, err, fail, out, store_unreachable
from ledger.store import resolve_url


def migrate(
    db: DbOption = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="List the steps and change nothing.")] = False,
) -> None:
    """Migrate the store's tables to this release's format: list the steps, then apply each in a transaction of its own.

    Events are never rewritten and projections are rebuilt from them when a
    step changes their tables. Run twice, the second run has nothing to do.
    """
    url = resolve_url(db)
    with answering():
        try:
            plan = formats.plan(url)
        except formats.StoreFormatError:
            raise
        except Exception as error:  # a wrong URL or a server that does not answer
            raise store_unreachable(url, error) from None
    out.print(escape(f"{plan.url}: {formats.describe_state(plan.current, plan.target)}"), highlight=False)
    if not plan.steps:
        out.print("nothing to do", highlight=False)
        return
    out.print(f"{len(plan.steps)} step(s), each in a transaction of its own:", highlight=False)
    for step in plan.steps:
        out.print(escape(f"  {step.name}  {step.description}"), highlight=False)
    if dry_run:
        out.print("dry run: nothing was changed", highlight=False)
        return
    with answering():
        formats.migrate(url, after_step=lambda step: out.print(escape(f"done {step.name}"), highlight=False))
    out.print(escape(f"the store is at format {plan.target}, this release's"), highlight=False)
    err.print(escape(f"run `ledger verify {formats.db_argument(url)}` to prove the books after the upgrade"), highlight=False)
