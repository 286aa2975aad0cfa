"""Several writers on PostgreSQL: a batch's ids reserved without a table lock, and the head of the log that has settled.

A notification id is taken when a batch is written but becomes visible only
when its transaction commits, so two writers can commit out of id order:
writer A reserves ids 1–100, writer B reserves 101–200 and commits first.
A reader that pages the log by position would see 101–200, move its
position to 200 and never see 1–100 (the gap every PostgreSQL event store
meets with a sequence). The ``eventsourcing`` recorder closes it with an
exclusive lock on the events table held to the commit, which makes every
writer wait for every other. Here instead:

- **Writers** hold ``LOG_KEY`` in shared mode for their transaction (any
  number at once), and take ``ID_KEY`` only while they reserve their
  batch's ids (one ``setval(nextval() + n - 1)`` on the id sequence) and
  announce the reservation by taking an advisory lock of its own on
  ``RESERVATION_BASE + first id``, held to their commit or rollback.
  ``ID_KEY`` is released straight after: everything else of the batch
  (the events' ``COPY``, the registry rows, the projections) runs beside
  the other writers.
- **Readers** that move a position through the log (catch-up, the
  follower, the audit's shadow projector) read only up to the **settled
  head** (``settled_head``): under ``ID_KEY``, the last id the sequence
  gave, or, when a reservation is still announced, the id before the
  lowest one. Every id up to it is committed or abandoned for good, so a
  position never passes an event still to come.
- **A rebuild** takes ``LOG_KEY`` alone (``exclude_writers``): it waits
  for the writers in flight and holds new ones until it commits, so it
  folds a log with no transaction in flight.

Deadlock-free by order: a writer waits on ``ID_KEY`` only for another's
reservation (a few statements), and after its commit it waits only for
reservations below its own (``wait_for_reservations_below``), whose
writers never wait on it. Locks end with the transaction, or the connection
if a process dies; ``ID_KEY``, the one session-level lock, is released in
the statement that announces the reservation, and a failure in between
closes the connection, which releases it.

SQLite needs none of this: its one write lock serialises writers and their
commits, so ids commit in order there.
"""

from __future__ import annotations

from sqlalchemy import Connection, Engine, text

# Fixed 64-bit advisory lock keys, the same in every process (the schema lock is …0001, the follower's …0002).
LOG_KEY = 0x6C65_6467_6572_0003
ID_KEY = 0x6C65_6467_6572_0004
# A reservation's lock key: these 16 bits, then its first id in the low 48 bits (ids up to 2.8 × 10^14).
RESERVATION_NAMESPACE = 0x6C66
RESERVATION_BASE = RESERVATION_NAMESPACE << 48

# The keys of the reservations announced by other sessions of this database, in pg_locks' two halves of a bigint key.
_ANNOUNCED = f"""
    SELECT (classid::bigint << 32) | objid::bigint AS key FROM pg_locks
    WHERE locktype = 'advisory' AND objsubid = 1 AND granted AND mode = 'ExclusiveLock'
      AND classid::bigint >> 16 = {RESERVATION_NAMESPACE}
      AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
      AND pid <> pg_backend_pid()
"""


def reserve_ids(connection: Connection, sequence: str, count: int) -> int:
    """Reserve ``count`` consecutive ids from the events' id ``sequence`` for the transaction on ``connection``; return the first.

    PostgreSQL only. Takes ``LOG_KEY`` shared and the reservation's own
    lock for the rest of the transaction; ``ID_KEY`` only for the
    reservation itself. On any error before ``ID_KEY`` is released the
    connection is closed (invalidated), which releases it, and the error
    propagates.
    """
    connection.execute(text("SELECT pg_advisory_xact_lock_shared(:log)"), {"log": LOG_KEY})
    connection.execute(text("SELECT pg_advisory_lock(:ids)"), {"ids": ID_KEY})
    try:
        last_id = connection.execute(
            text("SELECT setval(CAST(:sequence AS regclass), nextval(CAST(:sequence AS regclass)) + :count - 1)"),
            {"sequence": sequence, "count": count},
        ).scalar_one()
        first_id = int(last_id) - count + 1
        connection.execute(
            text("SELECT pg_advisory_xact_lock(:reservation), pg_advisory_unlock(:ids)"),
            {"reservation": RESERVATION_BASE + first_id, "ids": ID_KEY},
        )
    except BaseException:
        connection.invalidate()
        raise
    return first_id


def settled_head(connection: Connection, sequence: str) -> int:
    """The highest notification id up to which every id is committed or abandoned (0 for an empty log).

    PostgreSQL only; ``sequence`` is the events' id sequence. ``connection``
    must be in a transaction of its own, which ``ID_KEY`` is held to the end
    of, so no reservation is half made while it reads: the lowest announced
    reservation's first id less one, or without one the last id the
    sequence gave.
    """
    connection.execute(text("SELECT pg_advisory_xact_lock(:ids)"), {"ids": ID_KEY})
    last_id, lowest = connection.execute(
        text(f"SELECT coalesce(pg_sequence_last_value(CAST(:sequence AS regclass)), 0), (SELECT min(key) FROM ({_ANNOUNCED}) AS a)"),
        {"sequence": sequence},
    ).one()
    if lowest is None:
        return int(last_id)
    return min(int(last_id), int(lowest) - RESERVATION_BASE - 1)


def wait_for_reservations_below(engine: Engine, first_id: int) -> None:
    """Return once every batch that reserved ids before ``first_id`` has committed or rolled back (a no-op on SQLite).

    Called after a commit, holding no lock: it waits on each such
    reservation's lock in shared mode, which is granted when its
    transaction ends.
    """
    if engine.dialect.name != "postgresql":
        return
    with engine.begin() as connection:
        keys = connection.execute(
            text(f"SELECT key FROM ({_ANNOUNCED}) AS a WHERE key < :below ORDER BY key"),
            {"below": RESERVATION_BASE + first_id},
        ).scalars().all()
        for key in keys:
            connection.execute(text("SELECT pg_advisory_xact_lock_shared(:key)"), {"key": int(key)})


def exclude_writers(connection: Connection) -> None:
    """Wait for every writer in flight and keep new ones out until this transaction ends (PostgreSQL; a no-op on SQLite)."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:log)"), {"log": LOG_KEY})
