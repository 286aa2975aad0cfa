"""The store's format: which revision of its tables it holds, and moving it to this release's.

A store records its format in ``ledger_format`` (Alembic's version table
under our name): the number of the last revision of ``ledger/migrations``
applied to it, ``0001`` being the baseline and ``0002`` adding the
verification log (``ledger_verifications``). Only the tables that are not
rebuilt from events are migrated this way; the events themselves are never
rewritten (a changed event shape is read through its class's upcasters,
``class_version``), and the ``proj_*`` tables are rebuilt from the events.

Opening a store (``ledger.persistence``) calls ``prepare``: an empty
database gets this release's tables and format; a store at this release's
format opens; any other is refused with ``StoreFormatError``, which names
the command to run. ``ledger migrate`` (``plan`` and ``migrate``) lists the
steps and applies each revision in a transaction of its own; run again it
finds nothing to do. docs/operations.md, Upgrading, is the user's guide.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from typing import TYPE_CHECKING

from sqlalchemy import Column, Connection, Engine, MetaData, PrimaryKeyConstraint, String, Table, event, inspect, select
from sqlalchemy.engine import make_url

from ledger.errors import LedgerError

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

FORMAT_TABLE = "ledger_format"
SCRIPT_LOCATION = "ledger:migrations"

# This release's format: the last revision in ledger/migrations/versions (a test holds them equal). Opening a
# store compares with it and never loads Alembic, which only ``ledger migrate`` needs.
CURRENT_FORMAT = "0002"

# The format a store written before formats were recorded is said to have.
UNRECORDED = "0"

# Tables whose presence shows a store that was written by some release of the ledger.
STORE_TABLES = ("ledger_events", "ledger_documents", "proj_tracking")

_format_metadata = MetaData()
# The same shape as Alembic's own version table (``DefaultImpl.version_table_impl``), so Alembic reads and writes it.
format_table = Table(
    FORMAT_TABLE,
    _format_metadata,
    Column("version_num", String(32), nullable=False),
    PrimaryKeyConstraint("version_num", name=f"{FORMAT_TABLE}_pkc"),
)


class StoreFormatError(LedgerError):
    """A store whose tables are of another format than this release's: migrate it first, or use a newer release."""

    rule = "store format"


@dataclass(frozen=True)
class Step:
    """One step of a migration: a revision (``0001``…), or ``rebuild`` for the projections.

    Attributes:
      name: the revision number, or ``rebuild``.
      description: what the step does, one line.
    """

    name: str
    description: str


@dataclass(frozen=True)
class Plan:
    """Where a store stands and what ``ledger migrate`` would do to it.

    Attributes:
      url: the store, with any password hidden.
      current: the format recorded (``0`` for a store from before formats were recorded), None for an empty database.
      target: this release's format.
      steps: what migrating does, in order; empty when there is nothing to do.
    """

    url: str
    current: str | None
    target: str
    steps: list[Step] = field(default_factory=list)


def alembic_config(script_location: str = SCRIPT_LOCATION) -> "Config":
    """Alembic's configuration for the revisions at ``script_location`` (``package:folder``)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", script_location)
    return config


def _scripts(script_location: str) -> "ScriptDirectory":
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config(script_location))


def target_format(script_location: str = SCRIPT_LOCATION) -> str:
    """The last revision at ``script_location``: for this release's revisions, ``CURRENT_FORMAT``."""
    head = _scripts(script_location).get_current_head()
    if head is None:
        raise RuntimeError(f"no revision in {script_location}")
    return head


def recorded_format(connection: Connection) -> str | None:
    """The format the store records; ``0`` for a store written before formats were, None for an empty database.

    A new store records its format before it makes any other table
    (``prepare``), so ``ledger_format`` empty beside the ledger's tables
    means its row was deleted: ``StoreFormatError``, as for more than one row.
    ``ledger_format`` empty and alone is a store another process is making
    this moment: None.
    """
    names = set(inspect(connection).get_table_names())
    written = bool(names.intersection(STORE_TABLES))
    if FORMAT_TABLE in names:
        versions = [row[0] for row in connection.execute(select(format_table.c.version_num).limit(2))]
        if len(versions) > 1:
            raise StoreFormatError(f"{FORMAT_TABLE} records more than one format; the store's format is unknown")
        if not versions and written:
            raise StoreFormatError(f"{FORMAT_TABLE} records no format, but the store holds the ledger's tables: its row was deleted")
        return versions[0] if versions else None
    return UNRECORDED if written else None


def shown_url(url: str) -> str:
    """A URL fit to print: the password, if any, hidden."""
    return make_url(url).render_as_string(hide_password=True)


# The environment variable the ledger reads the store's URL from (``--db``'s default; ``ledger.store`` reads it).
URL_VARIABLE = "LEDGER_DB"


def db_argument(url: str) -> str:
    """``--db …`` for a command to suggest: one that can be pasted back into a shell and reaches the same store.

    A URL without a password is given as it is (quoted for the shell when
    it needs to be). One with a password is never printed with it hidden,
    which would not connect: when it is the URL in ``LEDGER_DB`` the
    suggestion is ``--db "$LEDGER_DB"``, so the password is not printed;
    otherwise it is the URL as the user gave it (their own argument, which
    their shell already holds).
    """
    parts = make_url(url)
    if parts.password is None:
        return f"--db {shlex.quote(url)}"
    if os.environ.get(URL_VARIABLE) == url:
        return f'--db "${URL_VARIABLE}"'
    return f"--db {shlex.quote(url)}"


def refusal(url: str, current: str, target: str, known: bool) -> StoreFormatError:
    """What opening a store of another format says: its format, this release's, and what to do."""
    where = shown_url(url)
    if not known:
        return StoreFormatError(
            f"the store {where} is at format {current}, written by a newer release of the ledger than this one "
            f"(format {target}): use that release or a later one"
        )
    written = "written before store formats were recorded" if current == UNRECORDED else "written by an earlier release"
    return StoreFormatError(
        f"the store {where} is at format {current} ({written}); this release reads format {target}. "
        f"Back it up, then run: ledger migrate {db_argument(url)}"
    )


def prepare(engine: Engine, url: str, create: Callable[[], None]) -> None:
    """Open a store: refuse one of another format; give an empty database this release's format, then its tables.

    ``create`` makes the tables of this release (every one with ``checkfirst``).
    An empty database records its format before any other table is made, so
    a store with the ledger's tables and no ``ledger_format`` was written
    before formats were recorded, and one whose ``ledger_format`` is empty
    lost its row (``recorded_format``). Two processes making the same new
    SQLite store at once: the second's insert of the format meets the
    primary key, and ``persistence.create_schema`` tries again. Raises
    ``StoreFormatError``.
    """
    target = CURRENT_FORMAT
    with engine.connect() as connection:
        current = recorded_format(connection)
    if current is not None and current != target:
        known = current == UNRECORDED or _is_revision(current, SCRIPT_LOCATION)
        raise refusal(url, current, target, known)
    if current is None:
        _format_metadata.create_all(engine)
        with engine.begin() as connection:
            connection.execute(format_table.insert().values(version_num=target))
    create()


def _is_revision(name: str, script_location: str) -> bool:
    return any(revision.revision == name for revision in _scripts(script_location).walk_revisions())


def plan(url: str, script_location: str = SCRIPT_LOCATION) -> Plan:
    """What ``ledger migrate`` would do to the store at ``url``; nothing is written. Raises ``StoreFormatError``."""
    if _missing_sqlite_file(url):  # connecting would make an empty file
        return Plan(shown_url(url), None, target_format(script_location))
    engine = migration_engine(url)
    try:
        with engine.connect() as connection:
            current = recorded_format(connection)
    finally:
        engine.dispose()
    return _plan(url, current, script_location)


def _missing_sqlite_file(url: str) -> bool:
    parts = make_url(url)
    database = parts.database or ""
    return parts.get_backend_name() == "sqlite" and database not in ("", ":memory:") and not Path(database).exists()


def _plan(url: str, current: str | None, script_location: str) -> Plan:
    target = target_format(script_location)
    empty = Plan(shown_url(url), current, target)
    if current is None or current == target:
        return empty
    script = _scripts(script_location)
    if current != UNRECORDED and not _is_revision(current, script_location):
        raise refusal(url, current, target, known=False)
    lower = None if current == UNRECORDED else current
    revisions = list(reversed(list(script.iterate_revisions(target, lower))))
    steps = [Step(revision.revision, _first_line(revision.doc)) for revision in revisions]
    if any(getattr(revision.module, "rebuild_projections", False) for revision in revisions):
        steps.append(Step("rebuild", "rebuild the projections (proj_*) from the events"))
    return Plan(empty.url, current, target, steps)


def _first_line(text: str | None) -> str:
    return (text or "").strip().splitlines()[0] if text and text.strip() else "(no description)"


def migrate(url: str, script_location: str = SCRIPT_LOCATION, after_step: Callable[[Step], None] = lambda step: None) -> Plan:
    """Bring the store at ``url`` to this release's format: each revision in a transaction of its own.

    Returns the plan that was carried out (no steps: nothing to do, the
    store is unchanged). A revision that fails is rolled back whole and
    raises ``StoreFormatError`` naming it; the steps before it stay done, and
    running ``migrate`` again resumes from the failed one. ``after_step`` is
    told of each step when it is done.
    """
    from alembic import command as alembic_command

    if _missing_sqlite_file(url):
        return Plan(shown_url(url), None, target_format(script_location))
    engine = migration_engine(url)
    try:
        with engine.connect() as connection:
            current = recorded_format(connection)
            migration = _plan(url, current, script_location)
            connection.commit()  # end the reading transaction: each revision then runs in a transaction of its own
            config = alembic_config(script_location)
            config.attributes["connection"] = connection
            for step in migration.steps:
                if step.name == "rebuild":
                    continue
                try:
                    alembic_command.upgrade(config, step.name)
                except Exception as error:  # the revision's transaction is rolled back; say which step and why
                    raise StoreFormatError(f"step {step.name} ({step.description}) failed and was undone: {error}") from None
                after_step(step)
    finally:
        engine.dispose()
    if any(step.name == "rebuild" for step in migration.steps):
        _rebuild_projections(url)
        after_step(migration.steps[-1])
    return migration


def _rebuild_projections(url: str) -> None:
    from ledger.store import Ledger

    with Ledger(url) as ledger:
        ledger.projector.rebuild()


def migration_engine(url: str) -> Engine:
    """An engine for migrating: on SQLite, DDL joins the transaction (SQLAlchemy's pysqlite recipe), so a step is all or nothing."""
    from sqlalchemy import create_engine

    engine = create_engine(url)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _no_implicit_transactions(dbapi_connection, _record):  # type: ignore[no-untyped-def]
            dbapi_connection.isolation_level = None
            dbapi_connection.execute("PRAGMA busy_timeout = 30000")

        @event.listens_for(engine, "begin")
        def _begin_immediately(connection):  # type: ignore[no-untyped-def]
            connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def describe_state(current: str | None, target: str) -> str:
    """One line on where a store stands."""
    if current is None:
        return f"no store here yet: the ledger makes it at format {target} when it first opens it"
    if current == target:
        return f"the store is at format {target}, this release's"
    shown = "0 (written before store formats were recorded)" if current == UNRECORDED else current
    return f"the store is at format {shown}; this release reads format {target}"

