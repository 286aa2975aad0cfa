"""Opening a ledger on a database URL: the application, its projections and its checks.

SQLite is the embedded default (a file in the current folder); a
``postgresql+psycopg2://`` URL uses PostgreSQL. The backend is chosen by the
environment handed to the ``eventsourcing`` application, never by an ``if``
in domain code.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator

from eventsourcing.persistence import Recording
from sqlalchemy import Engine, event

from ledger.application import LedgerApp, Outcome
from ledger.formats import URL_VARIABLE  # noqa: F401  (LEDGER_DB: formats names it in the commands it suggests)
from ledger.persistence import PERSISTENCE_TOPIC
from ledger.documents import Document
from ledger.projections import Projector

DEFAULT_URL = "sqlite:///ledger.db"


def resolve_url(url: str | None = None) -> str:
    return url or os.environ.get(URL_VARIABLE) or DEFAULT_URL


class Ledger:
    """The ledger on one store: post documents, keep projections current, read and verify.

    ``project`` False posts without touching the projections (``post
    --no-project``, or a service whose projections a follower keeps,
    docs/operations.md): the events commit and a ``ledger project`` process
    folds them; reads then show the projections at the follower's position
    instead of catching up themselves. ``read_only`` opens a store that
    cannot be written, such as a PostgreSQL hot standby (``--read-db``): no
    table is created and reads never catch up, so they show the position the
    primary's projector had reached when the standby last replayed.
    """

    def __init__(self, url: str | None = None, project: bool = True, read_only: bool = False) -> None:
        self.url = resolve_url(url)
        env = {"PERSISTENCE_MODULE": PERSISTENCE_TOPIC, "SQLALCHEMY_URL": self.url}
        if read_only:
            env["CREATE_TABLE"] = "no"
        self.app = LedgerApp(env=env)
        self.engine: Engine = self.app.recorder.datastore.engine  # type: ignore[attr-defined]
        if self.engine.dialect.name == "sqlite":
            _wait_for_sqlite_locks(self.engine)
        self.projector = Projector(self.app, self.engine)
        self.read_only = read_only
        self.project = project
        # Reads bring the projections up to date first only where this process is the one projecting.
        self.catches_up_on_read = project and not read_only
        # The log position of the last event this ledger saved: what a read must reach to include its documents.
        self.written_position = 0
        self.events_written = 0
        if not read_only:
            self.projector.create_tables()
            # A batch's projections are written in its own transaction when they are current (and this process
            # projects), else caught up after it.
            self.app.project_in_transaction = self.projector.apply_in_transaction if project else None
            self.app.after_save = self._saved

    def _saved(self, recordings: list[Recording], projected: bool) -> None:
        """After every saved batch: note how far it wrote; project it unless its transaction did or a follower does."""
        if recordings:
            self.written_position = max(self.written_position, recordings[-1].notification.id)
            self.events_written += len(recordings)
        if self.project and not projected:
            self.projector.apply_recordings(recordings)

    def post(self, documents: Iterable[Document]) -> Iterator[Outcome]:
        """Post documents; projections are brought up to date after every saved batch."""
        return self.app.post_many(documents)

    def post_one(self, document: Document) -> Outcome:
        (outcome,) = list(self.post([document]))
        return outcome

    def close(self) -> None:
        self.app.close()
        self.engine.dispose()

    def __enter__(self) -> "Ledger":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _wait_for_sqlite_locks(engine: Engine) -> None:
    """Let a second process wait for the writer instead of failing at once."""

    @event.listens_for(engine, "connect")
    def _set_busy_timeout(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        dbapi_connection.execute("PRAGMA busy_timeout = 30000")


def explain(ledger: Ledger, document_id: str) -> dict:
    """Everything the store knows of one document: its events, postings and computation. No replay."""
    from uuid import UUID

    from ledger.errors import LedgerError
    from ledger.money import format_yuan
    from ledger.postings import postings_from_rows

    record = ledger.app.registered([document_id]).get(document_id)
    if record is None:
        raise LedgerError("no such document has been posted", document_id=document_id)
    entries = []
    computation = None
    for book_hex, version in record.entries:
        (event,) = ledger.app.events.get(UUID(book_hex), gt=int(version) - 1, lte=int(version))
        book = ledger.app.repository.get(UUID(book_hex), version=1)
        entries.append(
            {
                "book": f"{book.region}/{book.scheme}/{book.year}",
                "event": type(event).__name__,
                "effective_date": event.effective_date,
                "recorded_at": event.timestamp.isoformat(),
                "actor": event.actor,
                "postings": [
                    {"account": p.account, "tier": p.tier, "debit": format_yuan(max(p.amount_fen, 0)), "credit": format_yuan(max(-p.amount_fen, 0))}
                    for p in postings_from_rows(event.postings)
                ],
            }
        )
        computation = computation or event.computation
    return {
        "document_id": record.document_id,
        "type": record.document_type,
        "content_hash": record.content_hash,
        "reversed_by": record.reversed_by,
        "entries": entries,
        "computation": computation,
    }
