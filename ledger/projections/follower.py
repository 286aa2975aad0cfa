"""The follower: keeps the projections current from the notification log, in a process of its own.

``ledger post --no-project`` (and a service configured with a follower)
commits events without folding them; ``ledger project --follow`` runs this
loop. It is the projector's own ``catch_up``: each page of events and the
new tracked position are written in one transaction with a compare-and-set
on the position, so a follower killed at any point restarts where the last
committed page left off, and no page is ever applied twice.

Waking: on PostgreSQL the recorder sends ``NOTIFY`` on the events table's
channel inside every posting transaction (delivered when it commits), so
the follower ``LISTEN``s and wakes at once; it also catches up every
``poll_seconds`` in case a wake-up was missed. SQLite has no notifications:
the follower polls.

Several followers at once: on PostgreSQL the one applying holds a
session-level advisory lock (released by the server if its process or
connection dies); the others wait for it, checking every ``poll_seconds``.
On SQLite, or should two ever apply at once, the compare-and-set makes the
second find the position moved and read again, so the result is the same.
"""

from __future__ import annotations

import select
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text

from ledger.store import Ledger

# Any fixed 64-bit number, the same in every process: the key of the lock the applying follower holds.
FOLLOWER_LOCK_KEY = 0x6C65_6467_6572_0002
DEFAULT_POLL_SECONDS = 1.0
# How often a wait looks at the stop flag, so a signal is answered within this time.
STOP_CHECK_SECONDS = 0.2


@dataclass(frozen=True)
class Progress:
    """What one catch-up did: ``applied`` events, the tracked ``position`` after it and the log's ``head``."""

    applied: int
    position: int
    head: int

    @property
    def lag(self) -> int:
        """Events in the log not yet in the projections."""
        return max(self.head - self.position, 0)


class Follower:
    """Keeps ``ledger``'s projections current until ``stop()`` says so.

    ``report`` is called with a ``Progress`` after every catch-up that
    applied something, and ``waiting`` once each time this follower finds
    another one applying (PostgreSQL). Errors of the database propagate.
    """

    def __init__(
        self,
        ledger: Ledger,
        poll_seconds: float = DEFAULT_POLL_SECONDS,
        report: Callable[[Progress], None] = lambda progress: None,
        waiting: Callable[[], None] = lambda: None,
    ) -> None:
        if poll_seconds <= 0:
            raise ValueError("poll_seconds must be above zero")
        self.ledger = ledger
        self.poll_seconds = poll_seconds
        self.report = report
        self.waiting = waiting
        self._listener: Any = None
        self._locked = False

    def catch_up(self, stop: Callable[[], bool] = lambda: False) -> Progress:
        """Apply what the log holds beyond the tracked position, page by page; the progress after it."""
        projector = self.ledger.projector
        applied = projector.catch_up(stop)
        progress = Progress(applied, projector.position(), projector.log_head())
        if applied:
            self.report(progress)
        return progress

    def follow(self, stop: Callable[[], bool]) -> Progress:
        """Catch up, then wait for more and catch up again, until ``stop()``; the progress at the end."""
        postgres = self.ledger.engine.dialect.name == "postgresql"
        if postgres:
            self._listen()
        try:
            while not stop():
                if postgres and not self._hold_lock(stop):
                    break
                self.catch_up(stop)
                self._wait(stop)
        finally:
            self._close_listener()
        projector = self.ledger.projector
        return Progress(0, projector.position(), projector.log_head())

    # ------------------------------------------------------------ PostgreSQL

    def _listen(self) -> None:
        """A connection of its own, outside any transaction: it listens, and holds the lock when this follower applies."""
        self._listener = self.ledger.engine.raw_connection()
        self._listener.driver_connection.autocommit = True
        cursor = self._listener.cursor()
        cursor.execute(f'LISTEN "{self.ledger.app.recorder.channel_name}"')  # type: ignore[attr-defined]
        cursor.close()

    def _hold_lock(self, stop: Callable[[], bool]) -> bool:
        """Take (or keep) the appliers' lock, waiting while another follower has it; False if stopped meanwhile."""
        told = False
        while not self._locked and not stop():
            cursor = self._listener.cursor()
            cursor.execute("SELECT pg_try_advisory_lock(%s)", (FOLLOWER_LOCK_KEY,))
            (self._locked,) = cursor.fetchone()
            cursor.close()
            if self._locked:
                break
            if not told:
                self.waiting()
                told = True
            self._wait(stop)
        return self._locked

    def _wait(self, stop: Callable[[], bool]) -> None:
        """Until a notification arrives, ``poll_seconds`` pass, or ``stop()``."""
        waited = 0.0
        while waited < self.poll_seconds and not stop():
            step = min(STOP_CHECK_SECONDS, self.poll_seconds - waited)
            if self._listener is None:
                _sleep(step)
            else:
                connection = self._listener.driver_connection
                if select.select([connection], [], [], step)[0]:
                    connection.poll()
                    if connection.notifies:
                        connection.notifies.clear()
                        return
            waited += step

    def _close_listener(self) -> None:
        if self._listener is not None:
            try:
                # Closed, not handed back to the pool: the session ends, and its LISTEN and its lock with it.
                self._listener.invalidate()
            finally:
                self._listener = None
                self._locked = False


def _sleep(seconds: float) -> None:
    select.select([], [], [], seconds)
