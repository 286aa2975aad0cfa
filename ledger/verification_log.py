"""The verification log: one row per completed ``ledger verify``, kept in the store itself.

Every verification (the command line's ``ledger verify``, the API's
``GET /api/verify``, the web page 账簿校验) replays every book of the store;
when it is done it writes one row here, in a short transaction of its own,
saying when (UTC), who, through what (``cli``, ``api``, ``web``), over which
scope the findings were shown (``all``, a region code, or a book
``REGION/SCHEME/YEAR``), the result in that scope and in the whole store, and
what it covered: the log position (the highest notification id it read) and
the number of chain heads (books) it proved. Because the row is in the store,
every service worker, a restarted service and the command line agree on the
age and verdict of the last verification (``/api/health``, ``/metrics``).

The table is not a projection: it is not rebuilt from events, and a
rebuild leaves it alone. It came with store format 0002
(``ledger/migrations/versions/0002_verification_log.py``). It is an
operational record, not evidence: verify proves the books from the events and
never reads this table.
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import BigInteger, Boolean, Column, Engine, Index, Integer, String, Table, Text, desc, select

from ledger.registry import metadata

TIME_LENGTH = 32
# Longest first finding kept (characters); the full list is what ``ledger verify`` prints.
FINDING_LENGTH = 500
# Where a verification was run from.
CHANNELS = ("cli", "api", "web")
ALL = "all"

verifications = Table(
    "ledger_verifications",
    metadata,
    Column("verification_id", Integer, primary_key=True, autoincrement=True),
    # UTC ISO text of fixed width (``ledger.access.tables.timestamp``): when the verification finished.
    Column("verified_at", String(TIME_LENGTH), nullable=False),
    # The service's user, or the operating-system user who ran the command.
    Column("verified_by", String(200), nullable=False),
    Column("channel", String(8), nullable=False),
    # ``all``, a six-digit region code, or ``REGION/SCHEME/YEAR``: the scope whose findings were shown.
    Column("scope", String(40), nullable=False),
    Column("agrees", Boolean, nullable=False),
    # Findings within the scope, and in the whole store (every verification replays every book).
    Column("findings", Integer, nullable=False),
    Column("store_findings", Integer, nullable=False),
    # ``BOOK: message`` of the scope's first finding, cut to FINDING_LENGTH; null when it agrees.
    Column("first_finding", Text, nullable=True),
    # The book (or ``event log``, ``projections``…) the first finding names: what an API answer filters on.
    Column("first_finding_book", String(80), nullable=True),
    # The highest notification id in the log when the replay was done, and the books (chain heads) proven.
    Column("position", BigInteger, nullable=False),
    Column("chain_heads", Integer, nullable=False),
    Column("events", BigInteger, nullable=False),
    Index("ledger_verifications_by_time", "verified_at"),
)


@dataclass(frozen=True)
class Verification:
    """One row of the log.

    Attributes:
      verification_id: the row's number, in the order they were written.
      verified_at: UTC ISO text (``2026-11-30T05:15:00.000000+00:00``).
      verified_by: user name (service) or operating-system user (command line).
      channel: ``cli``, ``api`` or ``web``.
      scope: ``all``, a region code or ``REGION/SCHEME/YEAR``.
      agrees: no finding within the scope.
      findings: findings within the scope; store_findings: in the whole store.
      first_finding: ``BOOK: message`` of the first finding in the scope, or None.
      first_finding_book: the book that finding names, or None.
      position: highest notification id of the log the replay covered.
      chain_heads: books (hash chains) proven.
      events: book events replayed.
    """

    verification_id: int
    verified_at: str
    verified_by: str
    channel: str
    scope: str
    agrees: bool
    findings: int
    store_findings: int
    first_finding: str | None
    first_finding_book: str | None
    position: int
    chain_heads: int
    events: int

    @property
    def store_agrees(self) -> bool:
        """Whether the whole store agreed at this verification."""
        return self.store_findings == 0

    def age_seconds(self, now: datetime | None = None) -> float:
        """Seconds from ``verified_at`` to ``now`` (default: the clock), never below 0."""
        moment = now or datetime.now(UTC)
        return max((moment - datetime.fromisoformat(self.verified_at)).total_seconds(), 0.0)

    def to_json(self) -> dict[str, object]:
        return dict(self.__dict__)


def os_user() -> str:
    """Who runs the command line: the operating-system user (``getpass.getuser``), ``unknown`` when none can be told."""
    try:
        return getpass.getuser()
    except Exception:  # no login name, no USER variable: a container's bare uid
        return f"uid {os.getuid()}" if hasattr(os, "getuid") else "unknown"


def record(
    engine: Engine,
    *,
    verified_by: str,
    channel: str,
    scope: str,
    findings: Sequence[tuple[str, str]],
    store_findings: int,
    position: int,
    chain_heads: int,
    events: int,
    now: datetime | None = None,
) -> int:
    """Write one verification, in a transaction of its own, and return its ``verification_id``.

    ``findings`` are the (book, message) pairs within ``scope``;
    ``store_findings`` counts those of the whole store. Raises ValueError
    for an unknown ``channel``; a database error is the caller's to report
    (a verification that cannot be logged still has its result).
    """
    if channel not in CHANNELS:
        raise ValueError(f"channel must be one of {', '.join(CHANNELS)}, not {channel!r}")
    from ledger.access.tables import timestamp

    first = findings[0] if findings else None
    row = {
        "verified_at": timestamp(now),
        "verified_by": verified_by[:200],
        "channel": channel,
        "scope": scope[:40],
        "agrees": not findings,
        "findings": len(findings),
        "store_findings": store_findings,
        "first_finding": f"{first[0]}: {first[1]}"[:FINDING_LENGTH] if first else None,
        "first_finding_book": first[0][:80] if first else None,
        "position": position,
        "chain_heads": chain_heads,
        "events": events,
    }
    with engine.begin() as connection:
        return int(connection.execute(verifications.insert().values(**row)).inserted_primary_key[0])


def _verification(row: object) -> Verification:
    values = dict(row._mapping)  # type: ignore[attr-defined]
    values["agrees"] = bool(values["agrees"])
    for name in ("findings", "store_findings", "position", "chain_heads", "events", "verification_id"):
        values[name] = int(values[name])
    return Verification(**values)


def history(engine: Engine, limit: int = 50, scopes: Sequence[str] | None = None, before: int | None = None) -> list[Verification]:
    """The latest ``limit`` verifications, newest first; only those of ``scopes`` when given, only older than ``before`` (an id)."""
    query = select(verifications)
    if scopes is not None:
        query = query.where(verifications.c.scope.in_(list(scopes)))
    if before is not None:
        query = query.where(verifications.c.verification_id < before)
    with engine.connect() as connection:
        rows = connection.execute(query.order_by(desc(verifications.c.verification_id)).limit(limit)).all()
    return [_verification(row) for row in rows]


@dataclass(frozen=True)
class Latest:
    """What monitoring shows: the last verification, the last one over which the whole store agreed, the last that did not."""

    last: Verification | None
    last_agreed: Verification | None
    last_failed: Verification | None


def latest(engine: Engine) -> Latest:
    """The last verification of the store, and the last agreeing and failing ones (store-wide verdicts): three indexed reads."""
    table = verifications
    newest = select(table).order_by(desc(table.c.verification_id)).limit(1)
    with engine.connect() as connection:
        last = connection.execute(newest).first()
        agreed = connection.execute(newest.where(table.c.store_findings == 0)).first()
        failed = connection.execute(newest.where(table.c.store_findings > 0)).first()
    return Latest(*(None if row is None else _verification(row) for row in (last, agreed, failed)))
