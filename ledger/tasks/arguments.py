"""What every task checks of its arguments before it opens the store.

A request is checked whole before anything is read or written (TigerBeetle's
"validate everything first, then commit"): a scheme outside the chart, an
account the chart lacks, a date the calendar lacks, a window outside the
fiscal year. Each check raises ``ArgumentError``; the command line answers it
with exit 2, an HTTP face with a client error.

Arguments are named in messages as the command line and ``docs/`` spell them
(``--as-of``, ``--from``): one name per argument across every face.
"""

from __future__ import annotations

from datetime import date

from ledger.accounts import CHART, SCHEMES
from ledger.agency_time import TimeZoneError, local_time
from ledger.dates import DateFormatError, parse_date
from ledger.errors import LedgerError
from ledger.projections import queries


class ArgumentError(LedgerError):
    """An argument of a request is outside what it may be; nothing was read or written.

    The message names the argument and is shown whole (no document, no field: the request is at fault).
    """

    rule = "request arguments"

    def describe(self) -> str:
        return self.message


class NotFoundError(LedgerError):
    """What a request names is not in the store: a book, a seal, anything recorded by a time."""

    rule = "must exist"

    def describe(self) -> str:
        return self.message


def check_scheme(scheme: str) -> None:
    """Refuse a scheme outside ``ledger.accounts.SCHEMES`` (the four funds the chart covers)."""
    if scheme not in SCHEMES:
        raise ArgumentError(f"scheme must be one of {', '.join(SCHEMES)}")


def check_account(account: str) -> None:
    """Refuse an account code that is neither an account of the chart nor the prefix of one (``4001`` covers ``4001.01``)."""
    if not any(code == account or code.startswith(account + ".") for code in CHART):
        raise ArgumentError(f"{account} is not an account of the chart")


def day(text: str | None, argument: str) -> date | None:
    """The day ``text`` writes as ``YYYY-MM-DD`` (None stays None); ``argument`` names it in the refusal."""
    if text is None:
        return None
    try:
        return parse_date(text)
    except DateFormatError as error:
        raise ArgumentError(f"{argument}: {error}") from None


def window(year: int, since: str | None, through: str | None) -> tuple[date, date]:
    """The dates within fiscal ``year`` that ``--from``/``--through`` leave (the whole year when both are None)."""
    try:
        first = parse_date(since) if since else date(year, 1, 1)
        last = parse_date(through) if through else date(year, 12, 31)
    except DateFormatError as error:
        raise ArgumentError(f"--from / --through: {error}") from None
    if first.year != year or last.year != year or first > last:
        raise ArgumentError(f"--from {first} and --through {last} must fall in fiscal year {year}, in that order")
    return first, last


def known_on_bound(known_on: str) -> str:
    """The ``--known-on`` bound as the projections' UTC text (``queries.recorded_cutoff``)."""
    try:
        return queries.recorded_cutoff(known_on)
    except TimeZoneError as error:
        raise ArgumentError(str(error)) from None
    except ValueError as error:
        raise ArgumentError(
            f"--known-on takes YYYY-MM-DD (the end of that day) or YYYY-MM-DDTHH:MM[:SS][+HH:MM], "
            f"in the agency's time zone unless an offset is given: {error}"
        ) from None


def known_on_shown(known_on: str | None) -> str | None:
    """The ``--known-on`` bound as the agency reads it: ``2024-03-31 23:59:59+08:00`` (None stays None)."""
    if known_on is None:
        return None
    return local_time(known_on_bound(known_on))


def dated_title(as_of: str | None, known_on: str | None) -> str:
    """`` as of 2013-06-30 as known on …`` for a report's title; empty for a report of now."""
    return (f" as of {as_of}" if as_of else "") + (f" as known on {known_on_shown(known_on)}" if known_on else "")
