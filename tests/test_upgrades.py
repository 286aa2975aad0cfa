"""Upgrades never lose books: the fixture store of each release opens, migrates and verifies in every later one.

``tests/fixtures/store-v1.sqlite`` and ``store-v1.postgres.sql`` were written
by the release that introduced store formats (format 0001), with
``tests/fixtures/make_fixture.py``: docs/documents.md's examples (every
document type, the closes of 2012, a sealed month close of 2013 and its
reopening), 万州's month closes and 2013 year close, five issued statements
and the service's users, grants, token, login attempts and proposals.
docs/operations.md (Upgrading) says how to add one per release that
changes the format. Every test here runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import sqlalchemy
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from eventsourcing.domain import Aggregate
from sqlalchemy import inspect, select, text, update
from typer.testing import CliRunner

from ledger import formats, registry
from ledger.aggregates import state
from ledger.aggregates.book import Book, BookKey, book_id
from ledger.cli import app
from ledger.documents import read_document
from ledger.formats import StoreFormatError
from ledger.statements.issuing import digest, issued, issued_statements
from ledger.statements.issuing import metadata as issued_metadata
from ledger.statements.model import Period, Scope
from ledger.statements.compute import compute
from ledger.statements.render import to_json
from ledger.store import Ledger
from ledger.verify import verify

FIXTURES = Path(__file__).resolve().parent / "fixtures"
FORMAT_OF_V1 = "0001"


def load_fixture(store_url: str, tmp_path: Path) -> str:
    """The v1 fixture store on the test's backend: a copy of the SQLite file, or the SQL loaded into the emptied database."""
    if store_url.startswith("sqlite"):
        copy = tmp_path / "store-v1.sqlite"
        shutil.copyfile(FIXTURES / "store-v1.sqlite", copy)
        return f"sqlite:///{copy}"
    engine = sqlalchemy.create_engine(store_url)
    try:
        raw = engine.raw_connection()
        try:
            with raw.cursor() as cursor:
                cursor.execute((FIXTURES / "store-v1.postgres.sql").read_text(encoding="utf-8"))
            raw.commit()
        finally:
            raw.close()
    finally:
        engine.dispose()
    return store_url


def execute(url: str, *statements: str) -> None:
    engine = sqlalchemy.create_engine(url)
    try:
        with engine.begin() as connection:
            for statement in statements:
                connection.execute(text(statement))
    finally:
        engine.dispose()


def table_names(url: str) -> set[str]:
    engine = sqlalchemy.create_engine(url)
    try:
        with engine.connect() as connection:
            return set(inspect(connection).get_table_names())
    finally:
        engine.dispose()


def as_before_formats(url: str) -> None:
    """Make the store what the release before store formats left: the same tables, no ``ledger_format``."""
    execute(url, f"DROP TABLE {formats.FORMAT_TABLE}")


def run(*arguments: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, list(arguments))


def said(result) -> str:  # type: ignore[no-untyped-def]
    return " ".join(result.output.split())


@pytest.fixture
def fixture_url(store_url, tmp_path) -> str:
    return load_fixture(store_url, tmp_path)


# ---------------------------------------------------------------- the fixture store of v1


def test_the_v1_store_opens_migrates_and_verifies(fixture_url):
    migrated = run("migrate", "--db", fixture_url)
    assert migrated.exit_code == 0, migrated.output
    assert "nothing to do" in said(migrated)
    with Ledger(fixture_url) as ledger:
        report = verify(ledger)
        assert report.agrees, report.findings
        # The 2012 year closes of 万州 resident and assistance and of the adjustment fund, the sealed month closes
        # 2013-01 (adjustment) and 2013-02 (万州 resident) and 万州's 2013 year close: six seals.
        assert report.seals == 6
        # Every persisted event type of v1 is in the store, so each one is read and proven here.
        kinds = {type(read).__name__ for read in ledger.app.events.get(book_id(BookKey("500101", "resident", 2013)))}
        assert {"Opened", "BalancesCarriedForward", "MonthClosed", "YearClosed", "HeldLapsed"} <= kinds


def test_the_v1_statements_are_the_ones_issued_and_the_hand_checked_lines_hold(fixture_url):
    """Each statement issued by v1, computed again by this release, gives the same canonical figures.

    And one checked by hand from docs/documents.md: 云阳县 500235 resident 2013
    (no 2012 close, so nothing carried in). YY-2013-SB-0101 Dr 1003 110,000.00,
    of which 7,200.00 held (Cr 2001.01) and 102,800.00 income; YY-2013-RM-0101
    remits 480.00 (Cr 1003); YY-2013-GR-0101 grants 6,000.00 and
    YY-2013-GC-0101 brings 8,550.00 (Dr 1003). So 1003 = 110,000.00 − 480.00 +
    6,000.00 + 8,550.00 = 124,070.00; fund 3001 tier 1 = 102,800.00 +
    6,000.00 + 8,550.00 − 480.00 = 116,870.00; 7,200.00 + 116,870.00 = 124,070.00.
    """
    with Ledger(fixture_url) as ledger:
        issues = issued(ledger.engine)
        assert [(i.form, i.scope, i.period) for i in issues] == [
            ("01", "500101/resident", "2012"),
            ("02", "500101/resident", "2012"),
            ("01", "500235/resident", "2013"),
            ("02", "500101/resident", "2013-02"),
            ("01", "500101/resident", "2013"),
        ]
        for issue in issues:
            region, scheme = issue.scope.split("/")
            year, _, month = issue.period.partition("-")
            figures = to_json(compute(ledger, issue.form, Scope(region, scheme), Period(int(year), int(month) if month else None)))
            # The figures are those issued; the position moves with nothing posted since, so only the lines are compared.
            assert figures["lines"] == issue.figures["lines"], f"{issue.form} {issue.scope} {issue.period}"
            assert digest(issue.figures) == issue.figures_digest
        sheet = compute(ledger, "01", Scope("500235", "resident"), Period(2013))
        closing = {line.spec.code: line.values[1] for line in sheet.lines if line.values[1]}
        assert closing == {
            "1003": 12407000, "assets_total": 12407000,
            "2001": 720000, "2001.01": 720000, "liabilities_total": 720000,
            "3001": 11687000, "3001:1": 11687000, "fund_total": 11687000,
            "liabilities_and_fund_total": 12407000,
        }


def test_the_v1_people_and_proposals_are_read_by_this_release(fixture_url):
    from ledger.access import grants, proposals, users

    with Ledger(fixture_url) as ledger:
        assert [u.username for u in users.list_users(ledger.engine)] == ["accountant", "admin", "checker", "finance"]
        assert users.authenticate(ledger.engine, "checker", "fixture-password-2013", "127.0.0.1") is not None
        assert [(g.role.value, g.scope) for g in grants.list_grants(ledger.engine, "finance")] == [("finance_officer", "500000")]
        listed = {p.document_id: p.status for p in proposals.list_proposals(ledger.engine, scope="500101")}
        assert listed == {"WZ-2013-CT-0201": "posted", "WZ-2013-CT-0202": "rejected", "WZ-2013-CT-0203": "pending"}


# ---------------------------------------------------------------- a store from before store formats


def test_a_store_from_before_formats_is_refused_with_the_command_to_run(fixture_url):
    as_before_formats(fixture_url)
    shown = formats.shown_url(fixture_url)
    for arguments in (("books",), ("verify",), ("serve",)):
        refused = run(*arguments, "--db", fixture_url)
        assert refused.exit_code == 1, (arguments, refused.output)
        assert f"is at format 0 (written before store formats were recorded); this release reads format {FORMAT_OF_V1}" in said(refused)
        assert f"run: ledger migrate --db {shown}" in said(refused)
        assert "Traceback" not in refused.output
    from ledger.service import create_app

    with pytest.raises(StoreFormatError, match="ledger migrate --db"):
        create_app(fixture_url)
    assert formats.FORMAT_TABLE not in table_names(fixture_url)


def test_migrate_lists_its_steps_does_them_and_then_has_nothing_to_do(fixture_url):
    as_before_formats(fixture_url)
    dry = run("migrate", "--db", fixture_url, "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert f"{FORMAT_OF_V1} Baseline: the tables of the last release before store formats were recorded." in said(dry)
    assert "dry run: nothing was changed" in said(dry)
    assert formats.FORMAT_TABLE not in table_names(fixture_url)

    done = run("migrate", "--db", fixture_url)
    assert done.exit_code == 0, done.output
    assert f"done {FORMAT_OF_V1}" in said(done)
    again = run("migrate", "--db", fixture_url)
    assert again.exit_code == 0 and "nothing to do" in said(again), again.output
    assert formats.plan(fixture_url).steps == []
    with Ledger(fixture_url) as ledger:
        assert verify(ledger).agrees


def test_the_baseline_gives_proposals_made_before_regions_their_own_region(fixture_url):
    """The release a few hours before ``regions`` asked for approval over the proposal's region only: that stays so."""
    as_before_formats(fixture_url)
    execute(fixture_url, "DROP INDEX IF EXISTS ledger_proposals_live_document", "ALTER TABLE ledger_proposals DROP COLUMN regions")
    formats.migrate(fixture_url)
    with Ledger(fixture_url) as ledger, ledger.engine.connect() as connection:
        from ledger.access.tables import proposals as table

        regions = dict(connection.execute(select(table.c.document_id, table.c.regions)).all())
    assert {document: json.loads(value) for document, value in regions.items()} == {
        "WZ-2013-CT-0201": ["500101"], "WZ-2013-CT-0202": ["500101"], "WZ-2013-CT-0203": ["500101"],
    }


def test_a_step_that_fails_is_undone_whole_and_named(fixture_url):
    as_before_formats(fixture_url)
    # A store the baseline cannot take (a column it never had), missing a table the step would make first.
    execute(fixture_url, "DROP TABLE ledger_statements", "ALTER TABLE ledger_tokens DROP COLUMN revoked_by")
    failed = run("migrate", "--db", fixture_url)
    assert failed.exit_code == 1, failed.output
    assert "step 0001" in said(failed) and "table ledger_tokens has no column revoked_by" in said(failed)
    assert "Traceback" not in failed.output
    names = table_names(fixture_url)
    assert "ledger_statements" not in names and formats.FORMAT_TABLE not in names


NEXT_RELEASE_REVISION = '''"""Users get a telephone number (a test's revision: the next release, simulated).

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None
rebuild_projections = True


def upgrade() -> None:
    op.add_column("ledger_users", sa.Column("telephone", sa.String(20), nullable=True))
    op.execute("DELETE FROM proj_balances")
'''


@pytest.fixture
def next_release(tmp_path, monkeypatch) -> str:
    """This release's revisions and one more, 0002, which changes a table and asks for the projections to be rebuilt."""
    folder = tmp_path / "migrations"
    shutil.copytree(Path(formats.__file__).parent / "migrations", folder, ignore=shutil.ignore_patterns("__pycache__"))
    (folder / "versions" / "0002_telephone.py").write_text(NEXT_RELEASE_REVISION, encoding="utf-8")
    monkeypatch.setattr(formats, "CURRENT_FORMAT", "0002")
    return str(folder)


def test_several_steps_run_in_order_and_the_projections_are_rebuilt(fixture_url, next_release):
    as_before_formats(fixture_url)
    planned = formats.plan(fixture_url, next_release)
    assert [step.name for step in planned.steps] == ["0001", "0002", "rebuild"]
    assert planned.steps[1].description == "Users get a telephone number (a test's revision: the next release, simulated)."
    done: list[str] = []
    formats.migrate(fixture_url, next_release, after_step=lambda step: done.append(step.name))
    assert done == ["0001", "0002", "rebuild"]
    assert formats.plan(fixture_url, next_release).steps == []
    with Ledger(fixture_url) as ledger:
        columns = {column["name"] for column in inspect(ledger.engine).get_columns("ledger_users")}
        assert "telephone" in columns
        # 0002 emptied proj_balances; the rebuild step filled it again from the events, and everything agrees.
        report = verify(ledger)
        assert report.agrees, report.findings


def test_a_store_one_format_behind_is_refused_naming_it(fixture_url, next_release):
    with pytest.raises(StoreFormatError, match="is at format 0001 \\(written by an earlier release\\); this release reads format 0002"):
        Ledger(fixture_url)


# ---------------------------------------------------------------- event shapes


def _event_classes() -> list[type]:
    """Every event class of the ledger's aggregates: what the store holds."""
    classes: list[type] = []
    for aggregate in (Book, state.InsuredYear, state.Household, state.DistrictFund):
        classes += [
            value
            for name, value in vars(aggregate).items()
            # ``Event`` and ``Created`` are the library's bases, redefined on each aggregate; nothing stores them.
            if isinstance(value, type) and issubclass(value, Aggregate.Event) and name not in ("Event", "Created")
        ]
    return classes


def test_every_persisted_event_class_declares_its_class_version():
    classes = _event_classes()
    assert len(classes) >= 30
    for cls in classes:
        declared = [base for base in cls.__mro__ if "class_version" in vars(base) and base.__module__.startswith("ledger.")]
        assert declared, f"{cls.__qualname__} declares no class_version"
        assert cls.class_version == 1


@pytest.fixture
def claims_at_version_2(monkeypatch):
    """A deliberate change of shape: ``ClaimPaid`` v2 carries ``channel``, which v1 claims were all paid by (bank)."""

    def upcast_v1_v2(stored: dict) -> None:
        stored["channel"] = "bank"

    monkeypatch.setattr(Book.ClaimPaid, "class_version", 2)
    monkeypatch.setattr(Book.ClaimPaid, "upcast_v1_v2", staticmethod(upcast_v1_v2), raising=False)
    return Book.ClaimPaid


def test_the_v1_store_reads_and_verifies_after_an_event_shape_change(fixture_url, claims_at_version_2):
    with Ledger(fixture_url) as ledger:
        claims = [e for e in ledger.app.events.get(book_id(BookKey("500101", "resident", 2012))) if isinstance(e, Book.ClaimPaid)]
        # WZ-2012-CL-0001, -0002 and -0003 (docs/documents.md), each read through the upcaster.
        assert [c.document_id for c in claims] == ["WZ-2012-CL-0001", "WZ-2012-CL-0002", "WZ-2012-CL-0003"]
        assert {c.channel for c in claims} == {"bank"}
        report = verify(ledger)
        assert report.agrees, report.findings
        before = [issue.figures["lines"] for issue in issued(ledger.engine)]
        ledger.projector.rebuild()
        for issue, lines in zip(issued(ledger.engine), before):
            region, scheme = issue.scope.split("/")
            year, _, month = issue.period.partition("-")
            again = to_json(compute(ledger, issue.form, Scope(region, scheme), Period(int(year), int(month) if month else None)))
            assert again["lines"] == lines


def test_an_event_written_at_version_2_records_it_and_its_link_covers_it(fixture_url, claims_at_version_2):
    claim = {"id": "WZ-2013-CL-0901", "type": "claim", "date": "2013-10-09", "region": "500101", "scheme": "resident",
             "tier": 1, "category": "outpatient", "amount": "35.00"}
    with Ledger(fixture_url) as ledger:
        # 2013 was closed by make_fixture.py; the claim goes to 2014's book, which the close opened.
        claim = {**claim, "id": "WZ-2014-CL-0901", "date": "2014-02-10"}
        (outcome,) = ledger.post([read_document(claim, "test")])
        assert outcome.status == "posted", outcome.error
        table = ledger.app.recorder.events_record_cls.__table__
        where = (table.c.originator_id == book_id(BookKey("500101", "resident", 2014)), table.c.topic.like("%ClaimPaid"))
        with ledger.engine.connect() as connection:
            stored = bytes(connection.execute(select(table.c.state).where(*where)).scalar_one())
        assert json.loads(stored)["class_version"] == 2
        assert verify(ledger).agrees
        # The stored class version is covered by the link: saying the event is of v1 breaks the chain there.
        with ledger.engine.begin() as connection:
            connection.execute(update(table).where(*where).values(state=stored.replace(b'"class_version":2', b'"class_version":1')))
        findings = [f.message for f in verify(ledger).findings]
        assert any("chain broken at version" in message and "WZ-2014-CL-0901" in message for message in findings), findings


# ---------------------------------------------------------------- the baseline is today's schema


def test_the_baseline_revision_makes_the_tables_the_code_defines(store_url):
    """Migrating an empty database through the revisions gives exactly the tables ``create_all`` makes."""
    engine = formats.migration_engine(store_url)
    try:
        with engine.connect() as connection:
            config = formats.alembic_config()
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
        with engine.connect() as connection:
            assert formats.recorded_format(connection) == formats.target_format()
            combined = sqlalchemy.MetaData()
            for source in (registry.metadata, issued_metadata):
                for table in source.tables.values():
                    table.to_metadata(combined)
            context = MigrationContext.configure(connection, opts={"version_table": formats.FORMAT_TABLE})
            differences = compare_metadata(context, combined)
        names = {table for table in table_names(store_url) if table != formats.FORMAT_TABLE}
        assert names == set(combined.tables)
        assert differences == []
    finally:
        engine.dispose()


def test_the_current_format_is_the_last_revision():
    assert formats.CURRENT_FORMAT == formats.target_format() == FORMAT_OF_V1


def test_a_new_store_records_this_releases_format(ledger):
    with ledger.engine.connect() as connection:
        assert formats.recorded_format(connection) == FORMAT_OF_V1
    assert formats.plan(ledger.url).steps == []
    assert issued_statements.name in table_names(ledger.url)


def test_a_store_of_a_newer_format_is_refused(ledger):
    ledger.close()
    execute(ledger.url, f"UPDATE {formats.FORMAT_TABLE} SET version_num = '0999'")
    with pytest.raises(StoreFormatError, match="format 0999, written by a newer release of the ledger"):
        Ledger(ledger.url)
    refused = run("migrate", "--db", ledger.url)
    assert refused.exit_code == 1 and "newer release" in said(refused)


def test_migrate_where_there_is_no_store_makes_nothing(tmp_path):
    missing = tmp_path / "none.db"
    result = run("migrate", "--db", f"sqlite:///{missing}")
    assert result.exit_code == 0, result.output
    assert "no store here yet" in said(result) and "nothing to do" in said(result)
    assert not missing.exists()


def test_a_store_whose_format_row_was_deleted_is_refused(ledger):
    ledger.close()
    execute(ledger.url, f"DELETE FROM {formats.FORMAT_TABLE}")
    with pytest.raises(StoreFormatError, match="ledger_format records no format, but the store holds the ledger's tables"):
        Ledger(ledger.url)
