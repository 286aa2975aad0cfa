"""What the service tells an operator: ``GET /api/health`` (JSON) and ``GET /metrics`` (Prometheus text).

Both say how far the projections a read sees lag the log (the events
posted): with a follower, how far it is behind; with a read replica, how
far the replica's projections are behind the primary's log. Both say the
age and verdict of the last verification of the store, read from the
store's verification log (``ledger.verification_log``), so every worker of
the service, a restarted one and ``ledger verify`` on the command line
agree. The metrics add posting counters (documents by outcome, events
written). docs/operations.md says what to do when the lag grows or verify fails.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, generate_latest
from prometheus_client.core import GaugeMetricFamily
from pydantic import BaseModel, Field

from ledger import verification_log
from ledger.store import Ledger

# A lag above this many events makes the health answer "lagging" (HTTP 200 still: the service answers, reads are older).
LAGGING_EVENTS = 10_000


@dataclass
class Positions:
    """Where the log and the projections a read sees stand: ``position`` (projections), ``log_head`` (primary's log)."""

    position: int
    log_head: int

    @property
    def lag(self) -> int:
        return max(self.log_head - self.position, 0)


class LastVerification(BaseModel):
    """The last verification recorded in the store's verification log, with the last that agreed and the last that did not."""

    verified_at: str = Field(description="When it finished, UTC ISO 8601")
    age_seconds: float = Field(description="Seconds since then")
    verified_by: str = Field(description="The service's user, or the operating-system user of ledger verify")
    channel: str = Field(description="cli, api or web")
    agrees: bool = Field(description="Whether the whole store agreed (every verification replays every book)")
    findings: int = Field(description="Findings in the whole store")
    position: int = Field(description="Highest notification id of the log it covered")
    chain_heads: int = Field(description="Books (hash chains) it proved")
    last_agreed_at: str | None = Field(description="When a verification last found the whole store agreeing, UTC; null if never")
    last_failed_at: str | None = Field(description="When a verification last had findings, UTC; null if never")


class Health(BaseModel):
    """``GET /api/health``: where the projections the reads see stand against the log."""

    status: str = Field(description="ok, or lagging when lag is over LAGGING_EVENTS")
    position: int = Field(description="Log position (notification id) the projections read by this service reflect")
    log_head: int = Field(description="Notification id of the last event in the primary's log")
    lag: int = Field(description="Events in the log not yet in those projections")
    projection: str = Field(description="inline (posting projects) or follower (a ledger project --follow process does)")
    reads_from: str = Field(description="primary, or replica (LEDGER_READ_DB)")
    verification: LastVerification | None = Field(
        None,
        description="The store's last verification (any worker, the command line), from its verification log; "
        "absent until the store's first",
    )


def last_verification(engine: Any, now: datetime | None = None) -> dict[str, Any] | None:
    """``LastVerification`` as a dict, from the store's verification log; None when nothing was verified yet."""
    latest = verification_log.latest(engine)
    last = latest.last
    if last is None:
        return None
    return {
        "verified_at": last.verified_at,
        "age_seconds": round(last.age_seconds(now), 3),
        "verified_by": last.verified_by,
        "channel": last.channel,
        "agrees": last.store_agrees,
        "findings": last.store_findings,
        "position": last.position,
        "chain_heads": last.chain_heads,
        "last_agreed_at": latest.last_agreed.verified_at if latest.last_agreed else None,
        "last_failed_at": latest.last_failed.verified_at if latest.last_failed else None,
    }


class _VerifyCollector:
    """The verify gauges, read from the store's verification log at each scrape; left out until something was verified.

    ``ledger_verify_age_seconds`` and ``ledger_verify_agrees`` (1 or 0) of the
    last verification, ``ledger_verify_findings`` its count, and
    ``ledger_verify_agreed_age_seconds``, the age of the last one that found the
    whole store agreeing (left out if none ever did): alert on it.
    """

    def __init__(self, primary: Ledger) -> None:
        self.primary = primary

    def collect(self) -> Iterator[GaugeMetricFamily]:
        now = datetime.now(UTC)
        latest = verification_log.latest(self.primary.engine)
        if latest.last is None:
            return
        yield GaugeMetricFamily("ledger_verify_age_seconds",
                                "Seconds since the store's last verification (its verification log: any worker or ledger verify).",
                                value=latest.last.age_seconds(now))
        yield GaugeMetricFamily("ledger_verify_agrees", "1 if the store's last verification found it agreeing, else 0.",
                                value=1 if latest.last.store_agrees else 0)
        yield GaugeMetricFamily("ledger_verify_findings", "Findings of the store's last verification.", value=latest.last.store_findings)
        if latest.last_agreed is not None:
            yield GaugeMetricFamily("ledger_verify_agreed_age_seconds",
                                    "Seconds since a verification last found the whole store agreeing.",
                                    value=latest.last_agreed.age_seconds(now))


class Monitor:
    """The service's metrics, in a registry of its own (one per app, so several apps in one process never clash)."""

    def __init__(self, primary: Ledger, reader: Ledger, projection: str) -> None:
        self.primary = primary
        self.reader = reader
        self.projection = projection
        self.registry = CollectorRegistry()
        self.documents = Counter("ledger_documents", "Documents received for posting, by outcome.", ["outcome"], registry=self.registry)
        self.events = Counter("ledger_events_written", "Events this service wrote to the log.", registry=self.registry)
        self._lock = threading.Lock()  # requests run in several threads: the metrics' refresh
        Gauge("ledger_log_head", "Notification id of the last event in the primary's log.", registry=self.registry).set_function(
            lambda: self.positions().log_head)
        Gauge("ledger_projection_position", "Log position the projections read by this service reflect.",
              registry=self.registry).set_function(lambda: self.positions().position)
        Gauge("ledger_projection_lag_events", "Events in the log not yet in the projections read by this service.",
              registry=self.registry).set_function(lambda: self.positions().lag)
        self.registry.register(_VerifyCollector(primary))

    def positions(self) -> Positions:
        """The projections' position as the reads see them, and the primary's log head."""
        return Positions(self.reader.projector.position(), self.primary.projector.log_head())

    def counted(self, outcomes: list[str], events: int) -> None:
        """Count a posting request's documents by outcome, and the ``events`` it wrote."""
        for outcome in outcomes:
            self.documents.labels(outcome).inc()
        self.events.inc(events)


    def router(self) -> APIRouter:
        """``/api/health`` and ``/metrics``; neither needs a token (they show counts and positions, no figures)."""
        router = APIRouter(tags=["monitoring"])

        @router.get("/api/health", response_model=Health, response_model_exclude_unset=True)
        def health() -> dict:
            """Positions and lag: ``status`` is ``ok``, or ``lagging`` past ``LAGGING_EVENTS``; the store's last verification."""
            shown = self.positions()  # two queries on the stores' engines, which any thread may make
            answer: dict[str, Any] = {
                "status": "lagging" if shown.lag > LAGGING_EVENTS else "ok",
                "position": shown.position,
                "log_head": shown.log_head,
                "lag": shown.lag,
                "projection": self.projection,
                "reads_from": "replica" if self.reader is not self.primary else "primary",
            }
            verification = last_verification(self.primary.engine)
            if verification is not None:  # left out, not null, until the store's first verification
                answer["verification"] = verification
            return answer

        @router.get("/metrics", include_in_schema=False)
        def metrics() -> Response:
            with self._lock:
                text = generate_latest(self.registry)
            return Response(text, media_type=CONTENT_TYPE_LATEST)

        return router
