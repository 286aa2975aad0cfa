"""Upgrades never lose books: the fixture store of each release opens, migrates and verifies in every later one.

``tests/fixtures/store-v1.sqlite`` and ``store-v1.postgres.sql`` were written
by the release that introduced store formats (format 0001), with
``tests/fixtures/make_fixture.py``: docs/documents.md's examples (every
document type, the closes of 2012, a sealed month close of 2013 and its
reopening), 万州's month closes and 2013 year close, five issued statements
and the service's users, grants, token, login attempts and proposals.
``store-v2.*`` were written by the release of format 0002 (the verification
log) with the same story and one row of the log: a verification of the
whole store. docs/operations.md (Upgrading) says how to add one per release
that changes the format. Every test here runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import json
import shlex
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

from ledger import formats, registry, verification_log
from ledger.aggregates import state
from ledger.aggregates.book import Book, BookKey, book_id
from ledger.cli import app
from ledger.documents import read_document
from ledger.projections.queries import list_books
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
FORMAT_OF_V2 = "0002"
# This release's format: the fixture of this release is the last one.
THIS_RELEASE = FORMAT_OF_V2


def load_fixture(store_url: str, tmp_path: Path, release: str = "v1") -> str:
    """A release's fixture store on the test's backend: a copy of the SQLite file, or the SQL loaded into the emptied database."""
    if store_url.startswith("sqlite"):
        copy = tmp_path / f"store-{release}.sqlite"
        shutil.copyfile(FIXTURES / f"store-{release}.sqlite", copy)
        return f"sqlite:///{copy}"
    engine = sqlalchemy.create_engine(store_url)
    try:
        raw = engine.raw_connection()
        try:
            with raw.cursor() as cursor:
                cursor.execute((FIXTURES / f"store-{release}.postgres.sql").read_text(encoding="utf-8"))
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


@pytest.fixture
def fixture_v2_url(store_url, tmp_path) -> str:
    return load_fixture(store_url, tmp_path, "v2")


@pytest.fixture(params=["v1", "v2"])
def release_url(request, store_url, tmp_path) -> str:
    """Each release's fixture store, brought to this release's format by ``ledger migrate`` (v2 needs nothing)."""
    url = load_fixture(store_url, tmp_path, request.param)
    formats.migrate(url)
    return url


# ---------------------------------------------------------------- the fixture store of v1


def test_the_v1_store_opens_migrates_and_verifies(fixture_url):
    refused = run("books", "--db", fixture_url)
    assert refused.exit_code == 1 and "is at format 0001 (written by an earlier release)" in said(refused), refused.output
    migrated = run("migrate", "--db", fixture_url)
    assert migrated.exit_code == 0, migrated.output
    assert f"done {FORMAT_OF_V2}" in said(migrated) and f"done {FORMAT_OF_V1}" not in said(migrated)
    assert "nothing to do" in said(run("migrate", "--db", fixture_url))
    with Ledger(fixture_url) as ledger:
        report = verify(ledger)
        assert report.agrees, report.findings
        # The 2012 year closes of 万州 resident and assistance and of the adjustment fund, the sealed month closes
        # 2013-01 (adjustment) and 2013-02 (万州 resident) and 万州's 2013 year close: six seals.
        assert report.seals == 6
        # Every persisted event type of v1 is in the store, so each one is read and proven here.
        kinds = {type(read).__name__ for read in ledger.app.events.get(book_id(BookKey("500101", "resident", 2013)))}
        assert {"Opened", "BalancesCarriedForward", "MonthClosed", "YearClosed", "HeldLapsed"} <= kinds


def test_the_statements_of_each_release_are_the_ones_issued_and_the_hand_checked_lines_hold(release_url):
    """Each statement issued by v1 (and by v2, the same story), computed again by this release, gives the same canonical figures.

    And one checked by hand from docs/documents.md: 云阳县 500235 resident 2013
    (no 2012 close, so nothing carried in). YY-2013-SB-0101 Dr 1003 110,000.00,
    of which 7,200.00 held (Cr 2001.01) and 102,800.00 income; YY-2013-RM-0101
    remits 480.00 (Cr 1003); YY-2013-GR-0101 grants 6,000.00 and
    YY-2013-GC-0101 brings 8,550.00 (Dr 1003). So 1003 = 110,000.00 − 480.00 +
    6,000.00 + 8,550.00 = 124,070.00; fund 3001 tier 1 = 102,800.00 +
    6,000.00 + 8,550.00 − 480.00 = 116,870.00; 7,200.00 + 116,870.00 = 124,070.00.
    """
    with Ledger(release_url) as ledger:
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


def test_the_people_and_proposals_of_each_release_are_read_by_this_release(release_url):
    from ledger.access import grants, proposals, users

    with Ledger(release_url) as ledger:
        assert [u.username for u in users.list_users(ledger.engine)] == ["accountant", "admin", "checker", "finance"]
        assert users.authenticate(ledger.engine, "checker", "fixture-password-2013", "127.0.0.1") is not None
        assert [(g.role.value, g.scope) for g in grants.list_grants(ledger.engine, "finance")] == [("finance_officer", "500000")]
        listed = {p.document_id: p.status for p in proposals.list_proposals(ledger.engine, scope="500101")}
        assert listed == {"WZ-2013-CT-0201": "posted", "WZ-2013-CT-0202": "rejected", "WZ-2013-CT-0203": "pending"}


def test_migrating_the_v1_store_adds_an_empty_verification_log_that_verify_then_writes(fixture_url):
    dry = run("migrate", "--db", fixture_url, "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert f"the store is at format {FORMAT_OF_V1}; this release reads format {FORMAT_OF_V2}" in said(dry)
    assert f"1 step(s), each in a transaction of its own: {FORMAT_OF_V2} Verification log" in said(dry)
    assert "dry run: nothing was changed" in said(dry)
    assert "ledger_verifications" not in table_names(fixture_url)
    assert run("migrate", "--db", fixture_url).exit_code == 0
    assert "ledger_verifications" in table_names(fixture_url)
    empty = run("verify", "--db", fixture_url, "--history")
    assert empty.exit_code == 0 and "no verification recorded in this store yet" in said(empty), empty.output
    verified = run("verify", "--db", fixture_url)
    assert verified.exit_code == 0, verified.output
    (row,) = json.loads(run("verify", "--db", fixture_url, "--history", "--json").stdout)
    assert (row["verification_id"], row["channel"], row["scope"], row["agrees"], row["findings"]) == (1, "cli", "all", True, 0)
    # v1's story: 16 books (docs/documents.md's and 万州's 2014 opened by its year close), as the projections list them.
    with Ledger(fixture_url) as ledger:
        assert row["chain_heads"] == len(list_books(ledger.engine)) == 16


def test_the_v2_store_opens_as_it_is_verifies_and_its_verification_log_is_read(fixture_v2_url):
    assert "nothing to do" in said(run("migrate", "--db", fixture_v2_url))
    with Ledger(fixture_v2_url) as ledger:
        report = verify(ledger)
        assert report.agrees, report.findings
        assert report.seals == 6
        (row,) = verification_log.history(ledger.engine)
    # make_fixture.py's row: finance verified the whole store on the command line a day after MOMENT (2014-01-20 09:30 UTC).
    assert (row.verification_id, row.verified_at, row.verified_by, row.channel, row.scope) == (
        1, "2014-01-21T09:30:00.000000+00:00", "finance", "cli", "all")
    assert (row.agrees, row.findings, row.store_findings, row.first_finding) == (True, 0, 0, None)
    # It covered the whole log as make_fixture.py left it: the highest notification id, nothing posted since.
    assert row.position == max_notification_id(fixture_v2_url)
    assert row.chain_heads == 16
    from ledger.service import create_app
    from fastapi.testclient import TestClient

    with TestClient(create_app(fixture_v2_url)) as client:
        shown = client.get("/api/health").json()["verification"]
    assert (shown["verified_at"], shown["verified_by"], shown["agrees"], shown["last_agreed_at"], shown["last_failed_at"]) == (
        "2014-01-21T09:30:00.000000+00:00", "finance", True, "2014-01-21T09:30:00.000000+00:00", None)


def max_notification_id(url: str) -> int:
    engine = sqlalchemy.create_engine(url)
    try:
        with engine.connect() as connection:
            return int(connection.execute(text("SELECT max(id) FROM ledger_events")).scalar_one())
    finally:
        engine.dispose()


# ---------------------------------------------------------------- the command a refusal suggests


def with_password(url: str) -> str:
    """The test database's URL with a password in it (the test server trusts local connections and ignores it)."""
    return sqlalchemy.engine.make_url(url).set(password="s3cret:pw@x").render_as_string(hide_password=False)


def test_the_command_a_refusal_suggests_can_be_pasted_back_and_never_shows_the_password_from_the_environment(
    fixture_url, monkeypatch
):
    # A PostgreSQL URL with a password in it; an SQLite URL has none and is suggested as it stands, from anywhere.
    postgres = not fixture_url.startswith("sqlite")
    url = with_password(fixture_url) if postgres else fixture_url
    given = run("books", "--db", url)
    assert given.exit_code == 1, given.output
    # Given on the command line: the URL as the user gave it, as the shell reads it back (not the printed ***).
    suggested = said(given).split("then run: ledger migrate --db ", 1)[1].split()[0]
    assert shlex.split(suggested) == [url]
    monkeypatch.setenv("LEDGER_DB", url)
    from_environment = run("books")
    assert from_environment.exit_code == 1, from_environment.output
    if postgres:
        assert 'then run: ledger migrate --db "$LEDGER_DB"' in said(from_environment)
        assert "s3cret" not in from_environment.output and "***" in from_environment.output
    else:
        suggested = said(from_environment).split("then run: ledger migrate --db ", 1)[1].split()[0]
        assert shlex.split(suggested) == [url]
    # Pasted back (the shell takes the quotes off): it migrates, and the verify it suggests keeps the environment's name.
    migrated = run("migrate", "--db", url)
    assert migrated.exit_code == 0 and f"done {FORMAT_OF_V2}" in said(migrated), migrated.output


def test_db_argument_by_where_the_url_came_from(monkeypatch):
    monkeypatch.delenv("LEDGER_DB", raising=False)
    plain = "postgresql+psycopg2://ledger@db.example:5432/books"
    secret = "postgresql+psycopg2://ledger:pa ss@db.example:5432/books"
    assert formats.db_argument(plain) == f"--db {plain}"
    assert formats.db_argument("sqlite:////srv/ledger/books.db") == "--db sqlite:////srv/ledger/books.db"
    assert formats.db_argument(secret) == f"--db '{secret}'"
    monkeypatch.setenv("LEDGER_DB", secret)
    assert formats.db_argument(secret) == '--db "$LEDGER_DB"'
    assert formats.db_argument(plain) == f"--db {plain}"


# ---------------------------------------------------------------- a store from before store formats


def test_a_store_from_before_formats_is_refused_with_the_command_to_run(fixture_url):
    as_before_formats(fixture_url)
    shown = formats.shown_url(fixture_url)
    for arguments in (("books",), ("verify",), ("serve",)):
        refused = run(*arguments, "--db", fixture_url)
        assert refused.exit_code == 1, (arguments, refused.output)
        assert f"is at format 0 (written before store formats were recorded); this release reads format {THIS_RELEASE}" in said(refused)
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
    assert f"{FORMAT_OF_V2} Verification log: ledger_verifications, one row per completed verification." in said(dry)
    assert "dry run: nothing was changed" in said(dry)
    assert formats.FORMAT_TABLE not in table_names(fixture_url)

    done = run("migrate", "--db", fixture_url)
    assert done.exit_code == 0, done.output
    assert f"done {FORMAT_OF_V1} done {FORMAT_OF_V2}" in said(done)
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

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None
rebuild_projections = True


def upgrade() -> None:
    op.add_column("ledger_users", sa.Column("telephone", sa.String(20), nullable=True))
    op.execute("DELETE FROM proj_balances")
'''


@pytest.fixture
def next_release(tmp_path, monkeypatch) -> str:
    """This release's revisions and one more, 0003, which changes a table and asks for the projections to be rebuilt."""
    folder = tmp_path / "migrations"
    shutil.copytree(Path(formats.__file__).parent / "migrations", folder, ignore=shutil.ignore_patterns("__pycache__"))
    (folder / "versions" / "0003_telephone.py").write_text(NEXT_RELEASE_REVISION, encoding="utf-8")
    monkeypatch.setattr(formats, "CURRENT_FORMAT", "0003")
    return str(folder)


def test_several_steps_run_in_order_and_the_projections_are_rebuilt(fixture_url, next_release):
    as_before_formats(fixture_url)
    planned = formats.plan(fixture_url, next_release)
    assert [step.name for step in planned.steps] == ["0001", "0002", "0003", "rebuild"]
    assert planned.steps[2].description == "Users get a telephone number (a test's revision: the next release, simulated)."
    done: list[str] = []
    formats.migrate(fixture_url, next_release, after_step=lambda step: done.append(step.name))
    assert done == ["0001", "0002", "0003", "rebuild"]
    assert formats.plan(fixture_url, next_release).steps == []
    with Ledger(fixture_url) as ledger:
        columns = {column["name"] for column in inspect(ledger.engine).get_columns("ledger_users")}
        assert "telephone" in columns
        # 0003 emptied proj_balances; the rebuild step filled it again from the events, and everything agrees.
        report = verify(ledger)
        assert report.agrees, report.findings


def test_a_store_one_format_behind_is_refused_naming_it(fixture_v2_url, next_release):
    with pytest.raises(StoreFormatError, match="is at format 0002 \\(written by an earlier release\\); this release reads format 0003"):
        Ledger(fixture_v2_url)


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


def test_each_release_s_store_reads_and_verifies_after_an_event_shape_change(release_url, claims_at_version_2):
    with Ledger(release_url) as ledger:
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


def test_an_event_written_at_version_2_records_it_and_its_link_covers_it(release_url, claims_at_version_2):
    claim = {"id": "WZ-2013-CL-0901", "type": "claim", "date": "2013-10-09", "region": "500101", "scheme": "resident",
             "tier": 1, "category": "outpatient", "amount": "35.00"}
    with Ledger(release_url) as ledger:
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
    assert formats.CURRENT_FORMAT == formats.target_format() == THIS_RELEASE


def test_a_new_store_records_this_releases_format(ledger):
    with ledger.engine.connect() as connection:
        assert formats.recorded_format(connection) == THIS_RELEASE
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
