"""Login rate limiting, kept in the store so that every service process counts the same attempts.

Two limits, each over a sliding window of ``WINDOW``:

- a username: at most ``FAILURES_PER_USERNAME`` failed logins since its last
  successful one (guessing one account's password);
- a client address: at most ``FAILURES_PER_ADDRESS`` failed logins, whatever
  the usernames and whatever succeeded meanwhile (trying many accounts).

Past either, ``check`` refuses with ``LoginThrottledError`` and the seconds
until the oldest counted failure leaves the window, before any password is
checked. The numbers follow the spirit of NIST SP 800-63B §5.2.2 (rate
limiting: no more than 100 consecutive failures per account) with a tighter
bound because these accounts move public funds. Two processes checking at
the same instant may each let one more attempt through; the bound holds to
within the number of processes.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, delete, func, insert, select

from ledger.access.errors import LoginThrottledError
from ledger.access.tables import login_attempts, timestamp

WINDOW = timedelta(minutes=15)
FAILURES_PER_USERNAME = 5
FAILURES_PER_ADDRESS = 20
# Attempts older than this are deleted as new ones are recorded; they count for nothing any more.
ATTEMPT_RETENTION = timedelta(days=1)
MAXIMUM_ADDRESS_LENGTH = 64


def _address(client_address: str) -> str:
    return (client_address or "unknown")[:MAXIMUM_ADDRESS_LENGTH]


def check(engine: Engine, username: str, client_address: str, *, now: datetime | None = None) -> None:
    """Refuse with ``LoginThrottledError`` if this username or address has used up its failures in the window."""
    moment = now or datetime.now(UTC)
    window_start = timestamp(moment - WINDOW)
    t = login_attempts
    with engine.connect() as connection:
        last_success = connection.execute(
            select(func.max(t.c.attempted_at)).where(t.c.username == username, t.c.succeeded.is_(True))
        ).scalar()
        since = max(window_start, last_success or "")
        by_user = connection.execute(
            select(func.count(), func.min(t.c.attempted_at)).where(
                t.c.username == username, t.c.succeeded.is_(False), t.c.attempted_at > since
            )
        ).one()
        by_address = connection.execute(
            select(func.count(), func.min(t.c.attempted_at)).where(
                t.c.client_address == _address(client_address), t.c.succeeded.is_(False), t.c.attempted_at > window_start
            )
        ).one()
    for (count, oldest), limit, what in (
        (by_user, FAILURES_PER_USERNAME, f"the username {username}"),
        (by_address, FAILURES_PER_ADDRESS, f"the address {_address(client_address)}"),
    ):
        if count >= limit:
            retry_after = datetime.fromisoformat(oldest) + WINDOW - moment
            seconds = max(1, math.ceil(retry_after.total_seconds()))
            raise LoginThrottledError(
                f"{count} failed logins for {what} in the last {int(WINDOW.total_seconds() // 60)} minutes; "
                f"try again in {seconds} seconds",
                retry_after_seconds=seconds,
                field="username",
            )


def record(engine: Engine, username: str, client_address: str, *, succeeded: bool, now: datetime | None = None) -> None:
    """Count one login attempt, and forget attempts older than ``ATTEMPT_RETENTION``."""
    moment = now or datetime.now(UTC)
    with engine.begin() as connection:
        connection.execute(
            insert(login_attempts),
            {
                "username": username[:64],
                "client_address": _address(client_address),
                "attempted_at": timestamp(moment),
                "succeeded": succeeded,
            },
        )
        connection.execute(delete(login_attempts).where(login_attempts.c.attempted_at < timestamp(moment - ATTEMPT_RETENTION)))
