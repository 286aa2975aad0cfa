"""What the service tells an operator: ``GET /api/health`` (JSON) and ``GET /metrics`` (Prometheus text).

Both say how far the projections a read sees lag the log (the events
posted): with a follower, how far it is behind; with a read replica, how
far the replica's projections are behind the primary's log. The metrics
add posting counters (documents by outcome, events written) and the age
of the last verification run through this service, per region.
docs/operations.md says what to do when the lag grows or verify fails.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from fastapi import APIRouter
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, generate_latest
from pydantic import BaseModel, Field

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


class Health(BaseModel):
    """``GET /api/health``: where the projections the reads see stand against the log."""

    status: str = Field(description="ok, or lagging when lag is over LAGGING_EVENTS")
    position: int = Field(description="Log position (notification id) the projections read by this service reflect")
    log_head: int = Field(description="Notification id of the last event in the primary's log")
    lag: int = Field(description="Events in the log not yet in those projections")
    projection: str = Field(description="inline (posting projects) or follower (a ledger project --follow process does)")
    reads_from: str = Field(description="primary, or replica (LEDGER_READ_DB)")


class Monitor:
    """The service's metrics, in a registry of its own (one per app, so several apps in one process never clash)."""

    def __init__(self, primary: Ledger, reader: Ledger, projection: str) -> None:
        self.primary = primary
        self.reader = reader
        self.projection = projection
        self.registry = CollectorRegistry()
        self.documents = Counter("ledger_documents", "Documents received for posting, by outcome.", ["outcome"], registry=self.registry)
        self.events = Counter("ledger_events_written", "Events this service wrote to the log.", registry=self.registry)
        self._verified_at: dict[str, tuple[float, bool]] = {}
        self._lock = threading.Lock()  # requests run in several threads: the verify times and the metrics' refresh
        Gauge("ledger_log_head", "Notification id of the last event in the primary's log.", registry=self.registry).set_function(
            lambda: self.positions().log_head)
        Gauge("ledger_projection_position", "Log position the projections read by this service reflect.",
              registry=self.registry).set_function(lambda: self.positions().position)
        Gauge("ledger_projection_lag_events", "Events in the log not yet in the projections read by this service.",
              registry=self.registry).set_function(lambda: self.positions().lag)
        self.verify_age = Gauge("ledger_verify_age_seconds", "Seconds since the last verification through this service, by region.",
                                ["region"], registry=self.registry)
        self.verify_ok = Gauge("ledger_verify_agrees", "1 if the last verification through this service agreed, else 0, by region.",
                               ["region"], registry=self.registry)

    def positions(self) -> Positions:
        """The projections' position as the reads see them, and the primary's log head."""
        return Positions(self.reader.projector.position(), self.primary.projector.log_head())

    def counted(self, outcomes: list[str], events: int) -> None:
        """Count a posting request's documents by outcome, and the ``events`` it wrote."""
        for outcome in outcomes:
            self.documents.labels(outcome).inc()
        self.events.inc(events)

    def verified(self, region: str, agrees: bool) -> None:
        """Note a verification of ``region``'s books and its verdict."""
        with self._lock:
            self._verified_at[region] = (time.time(), agrees)

    def _refresh_verify(self) -> None:
        now = time.time()
        for region, (at, agrees) in self._verified_at.items():
            self.verify_age.labels(region).set(now - at)
            self.verify_ok.labels(region).set(1 if agrees else 0)

    def router(self) -> APIRouter:
        """``/api/health`` and ``/metrics``; neither needs a token (they show counts and positions, no figures)."""
        router = APIRouter(tags=["monitoring"])

        @router.get("/api/health", response_model=Health)
        def health() -> dict:
            """Positions and lag: ``status`` is ``ok``, or ``lagging`` past ``LAGGING_EVENTS``."""
            shown = self.positions()  # two queries on the stores' engines, which any thread may make
            return {
                "status": "lagging" if shown.lag > LAGGING_EVENTS else "ok",
                "position": shown.position,
                "log_head": shown.log_head,
                "lag": shown.lag,
                "projection": self.projection,
                "reads_from": "replica" if self.reader is not self.primary else "primary",
            }

        @router.get("/metrics", include_in_schema=False)
        def metrics() -> Response:
            with self._lock:
                self._refresh_verify()
                text = generate_latest(self.registry)
            return Response(text, media_type=CONTENT_TYPE_LATEST)

        return router
