"""``ledger project``: bring the projections up to date from the log, once or for as long as it runs (the follower).

The loop is ``ledger.projections.follower``; this face parses the options,
turns SIGTERM and SIGINT into a clean stop after the page being written,
and says where the projections stand.
"""

from __future__ import annotations

import signal
from collections.abc import Callable
from typing import Annotated

import psycopg2

import typer
from rich.markup import escape

from ledger.cli.common import DbOption, err, fail, open_ledger, out
from ledger.projections.follower import DEFAULT_POLL_SECONDS, Follower, Progress

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def project(
    follow: Annotated[bool, typer.Option("--follow", help="Keep the projections current until SIGTERM or SIGINT (Ctrl-C).")] = False,
    once: Annotated[bool, typer.Option("--once", help="Catch up with the log, then exit.")] = False,
    poll_seconds: Annotated[
        float, typer.Option("--poll-seconds", min=0.05, help="How often to look at the log when nothing wakes the follower (SQLite always polls).")
    ] = DEFAULT_POLL_SECONDS,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Say nothing while following, only where it stopped.")] = False,
    db: DbOption = None,
) -> None:
    """Fold the events not yet in the projections into them: --once, or --follow as a process of its own (docs/operations.md)."""
    if follow == once:
        raise fail("give one of --follow (keep the projections current) or --once (catch up and exit)")
    stopped_by: list[str] = []

    def stop_on(signal_number: int, _frame: object) -> None:
        stopped_by.append(signal.Signals(signal_number).name)

    previous = {number: signal.signal(number, stop_on) for number in STOP_SIGNALS}
    try:
        progress = _run(db, once, poll_seconds, quiet, lambda: bool(stopped_by))
    except psycopg2.Error as error:
        # The follower's own connection (LISTEN and the lock) speaks psycopg2 directly, outside SQLAlchemy.
        raise fail(f"the database failed under the follower: {escape(str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__)}. "
                   "The projections stay at the last page committed; start the follower again when the database answers.", 3) from None
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
    if once:
        out.print(f"applied {progress.applied} events: the projections reflect log position {progress.position} of {progress.head}", highlight=False)
        return
    reason = f"on {stopped_by[0]}" if stopped_by else ""
    out.print(f"stopped {reason}: the projections reflect log position {progress.position} of {progress.head}".replace("  ", " "), highlight=False)


def _run(db: str | None, once: bool, poll_seconds: float, quiet: bool, stop: Callable[[], bool]) -> Progress:
    """Catch up once, or follow until ``stop()``; the progress at the end."""
    with open_ledger(db) as ledger:
        follower = Follower(
            ledger, poll_seconds,
            report=(lambda progress: None) if quiet else say_progress,
            waiting=lambda: err.print("another follower is applying the log; waiting to take over", highlight=False),
        )
        if once:
            return follower.catch_up(stop)
        if not quiet:
            err.print(f"following the log of {escape(ledger.url.split('@')[-1])} from position {ledger.projector.position()}", highlight=False)
        return follower.follow(stop)


def say_progress(progress: Progress) -> None:
    """One line per catch-up that applied something."""
    err.print(f"applied {progress.applied} events: position {progress.position}, {progress.lag} behind the log", highlight=False)
