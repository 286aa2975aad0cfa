"""Export, import, copy, backup and restore: a store moved or kept gives the same books, and a tampered archive is refused.

The demo municipality (``ledger.demo``, size 1: six districts, their
resident and assistance books, the municipal adjustment fund, month closes
with seals and the year close) is the store moved. What must come out equal
is what the agency publishes: statements 01 and 02 of every book and of the
consolidated municipality, figure for figure (and, where notification ids
are kept, with the same position and source hash).
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy
from sqlalchemy import select
from typer.testing import CliRunner

from conftest import POSTGRES_URL, _empty_postgres, require_backend
from ledger import registry
from ledger.access import tables as access_tables
from ledger.access.grants import grant
from ledger.access.users import add_user
from ledger.archive import EVENTS, MANIFEST, ArchiveError, event_record, stored_rows
from ledger.chain import link_of
from ledger.cli import app
from ledger.projections import queries
from ledger.statements.issuing import issued as issued_statements
from ledger.statements.render import to_json
from ledger.store import Ledger
from ledger.tasks import archiving
from ledger.tasks.demo import run as run_demo
from ledger.tasks.statements import StatementRequest, issue, show
from ledger.verify import verify

runner = CliRunner()
DEMO_YEAR = 2013
MUNICIPALITY = "500000"


# ---------------------------------------------------------------- helpers


def statements(ledger: Ledger, region: str | None = None, keep_position: bool = True) -> dict[str, Any]:
    """Statements 01 and 02 of every book of the demo year in the store (of ``region`` when given), and consolidated."""
    found: dict[str, Any] = {}
    requests = [
        StatementRequest(form, book.region, book.scheme, DEMO_YEAR)
        for book in queries.list_books(ledger.engine, region, None, DEMO_YEAR)
        if book.scheme != "adjustment"
        for form in ("01", "02")
    ]
    if region is None:
        schemes = sorted({book.scheme for book in queries.list_books(ledger.engine, MUNICIPALITY, None, DEMO_YEAR)} - {"adjustment"})
        requests += [StatementRequest(form, MUNICIPALITY, scheme, DEMO_YEAR, consolidated=True) for scheme in schemes for form in ("01", "02")]
    for request in requests:
        figures = to_json(show(ledger, request))
        if not keep_position:
            # Part of a store has its own notification ids: its position and source hash are its own.
            figures.pop("position"), figures.pop("source_hash")
        found[f"{request.form} {request.scope.key}"] = figures
    return found


def second_postgres_url(suffix: str) -> str:
    """A second database on the test server (created if missing, emptied), named after the test database."""
    url = sqlalchemy.engine.make_url(POSTGRES_URL)
    name = f"{url.database}_{suffix}"
    admin = sqlalchemy.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            exists = connection.execute(sqlalchemy.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first()
            if exists is None:
                connection.execute(sqlalchemy.text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    target = url.set(database=name).render_as_string(hide_password=False)
    engine = sqlalchemy.create_engine(target)
    try:
        with engine.begin() as connection:
            for table in sqlalchemy.inspect(connection).get_table_names():
                connection.execute(sqlalchemy.text(f'DROP TABLE IF EXISTS "{table}" CASCADE'))
    finally:
        engine.dispose()
    return target


def drop_postgres_database(target: str) -> None:
    url = sqlalchemy.engine.make_url(target)
    admin = sqlalchemy.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(sqlalchemy.text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
    finally:
        admin.dispose()


@pytest.fixture
def target_url(store_url, tmp_path) -> str:
    """A second empty store on the same backend as ``store_url``."""
    if store_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / 'target.db'}"
    return second_postgres_url("target")


@pytest.fixture(scope="module")
def demo_archive(tmp_path_factory) -> Path:
    """The demo municipality on SQLite, exported whole once for the tamper tests (each copies it first)."""
    folder = tmp_path_factory.mktemp("demo")
    with Ledger(f"sqlite:///{folder / 'demo.db'}") as ledger:
        run_demo(ledger, size=1)
        archiving.export_archive(ledger, folder / "archive", archiving.scope_of(None, None, None))
    return folder / "archive"


def copy_archive(demo_archive: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "archive"
    shutil.copytree(demo_archive, folder)
    return folder


def read_lines(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)


def rewrite(folder: Path, name: str, lines: list[bytes], manifest_books: dict[str, Any] | None = None) -> None:
    """Write ``lines`` into ``name`` and make the manifest agree with it: what a forger who knows the format does."""
    content = b"".join(lines)
    (folder / name).write_bytes(content)
    manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    manifest["files"][name] = {"lines": len(lines), "sha256": hashlib.sha256(content).hexdigest()}
    if manifest_books is not None:
        manifest["books"] = manifest_books
    (folder / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")


def assert_empty(url: str) -> None:
    with Ledger(url) as ledger:
        assert not any(stored_rows(ledger).values()), stored_rows(ledger)
        assert queries.list_books(ledger.engine) == []


def import_refused(folder: Path, url: str, *said: str) -> str:
    """Import through the command line: exit 1, a message saying each of ``said``, no traceback, nothing kept."""
    result = runner.invoke(app, ["import", "--db", url, str(folder)])
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    for words in said:
        assert words in result.output, result.output
    assert "Traceback" not in result.output
    assert_empty(url)
    return result.output


def book_lines(lines: list[bytes], book_hex: str) -> list[int]:
    return [index for index, line in enumerate(lines) if json.loads(line)["originator_id"] == book_hex]


# ---------------------------------------------------------------- round trips


def test_export_then_import_gives_the_same_statements_and_a_verifying_chain(store_url, target_url, tmp_path):
    with Ledger(store_url) as source:
        run_demo(source, size=1)
        source_rows = stored_rows(source)
        expected = statements(source)
        issued = issue(source, StatementRequest("01", "500101", "resident", DEMO_YEAR), "auditor")
        manifest = archiving.export_archive(source, tmp_path / "archive", archiving.scope_of(None, None, None))
    files = manifest["files"]
    # The manifest counts what the store holds, counted here by SQL: every event, document and seal.
    assert files["events.jsonl"]["lines"] == source_rows["ledger_events"]
    assert files["documents.jsonl"]["lines"] == source_rows["ledger_documents"]
    assert files["seals.jsonl"]["lines"] == source_rows["ledger_seals"] > 0
    assert files["statements.jsonl"]["lines"] == 1
    assert manifest["notification_ids"] == "kept" and manifest["store_format"] == 1
    # Six districts with a resident and an assistance book, and the adjustment fund, each in 2013 and carried into 2014.
    assert len(manifest["books"]) == 26

    result = runner.invoke(app, ["import", "--db", target_url, str(tmp_path / "archive")])
    assert result.exit_code == 0, result.output
    assert "verifies: agree" in result.output
    with Ledger(target_url) as target:
        report = verify(target)
        assert report.agrees, report.findings
        assert report.books == 26 and report.log_events == source_rows["ledger_events"]
        # Notification ids were kept, so even the position and source hash of every statement are the same.
        assert statements(target) == expected
        (copied,) = issued_statements(target.engine)
        assert copied.figures_digest == issued.issued.figures_digest and copied.position == issued.issued.position


@pytest.mark.parametrize("scope", [("500101", None, None), (None, "500103/resident/2013", None), (MUNICIPALITY, None, DEMO_YEAR)])
def test_an_export_of_part_of_a_store_imports_and_verifies_alone(scope, tmp_path):
    region, book, year = scope
    with Ledger(f"sqlite:///{tmp_path / 'source.db'}") as source:
        run_demo(source, size=1)
        wanted = {(b.region, b.scheme, b.year) for b in queries.list_books(source.engine)}
        chosen = archiving.scope_of(region, book, year)
        wanted = {key for key in wanted if chosen.includes_book(*key)}
        published = statements(source, keep_position=False)
        manifest = archiving.export_archive(source, tmp_path / "part", chosen)
    assert manifest["notification_ids"] == "renumbered"
    assert {tuple(head["book"].split("/")) for head in manifest["books"].values()} == {(r, s, str(y)) for r, s, y in wanted}
    with Ledger(f"sqlite:///{tmp_path / 'part.db'}") as target:
        loaded = archiving.import_archive(target, tmp_path / "part")
        assert loaded.books == len(wanted)
        report = verify(target)
        assert report.agrees, report.findings
        assert {(b.region, b.scheme, b.year) for b in queries.list_books(target.engine)} == wanted
        got = statements(target, keep_position=False)
    if region != MUNICIPALITY:
        # The consolidated statement of part of a municipality is of that part, not the municipality's.
        got = {name: figures for name, figures in got.items() if not name.endswith("/consolidated")}
    else:
        assert {"01 500000/resident/consolidated", "02 500000/assistance/consolidated"} <= set(got)
    # Every book of the part that publishes statements has both, and every statement equals the whole store's.
    assert {f"{form} {r}/{s}" for r, s, y in wanted if y == DEMO_YEAR and s != "adjustment" for form in ("01", "02")} <= set(got)
    assert got == {name: figures for name, figures in published.items() if name in got}


def test_a_part_whose_policy_state_spans_books_left_out_is_refused_and_leaves_no_folder(tmp_path):
    """A household's tier is one aggregate across years: the 2012 book alone cannot carry its 2014 choice.

    Household H-7 of 500101 chooses tier 1 with C-1 (2012) and tier 2 with
    C-3 (2014) (the story of tests/test_verify_state.py); its state events
    name both documents, which wrote the 2012 and the 2014 resident books.
    """
    from test_verify_state import HOUSEHOLD, _story

    with Ledger(f"sqlite:///{tmp_path / 'source.db'}") as source:
        _story(source)
        url = source.url
    result = runner.invoke(app, ["export", "--db", url, "--out", str(tmp_path / "part"), "--book", "500101/resident/2012"])
    assert result.exit_code == 1, result.output
    assert HOUSEHOLD.hex in result.output and "C-3" in result.output and "would not verify alone" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "part").exists()
    # The whole district holds both years: it exports and verifies alone.
    result = runner.invoke(app, ["export", "--db", url, "--out", str(tmp_path / "district"), "--region", "500101"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["import", "--db", f"sqlite:///{tmp_path / 'district.db'}", str(tmp_path / "district")])
    assert result.exit_code == 0, result.output
