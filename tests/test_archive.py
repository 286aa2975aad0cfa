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
from uuid import UUID

import pytest
import sqlalchemy
from eventsourcing.persistence import StoredEvent
from sqlalchemy import select
from typer.testing import CliRunner

from conftest import POSTGRES_URL, _empty_postgres, require_backend
from ledger import formats, verification_log
from ledger.access import tables as access_tables
from ledger.access.grants import grant
from ledger.access.users import add_user
from ledger.archive import EVENTS, MANIFEST, event_record, stored_rows
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


def stored_events(ledger: Ledger) -> list[tuple[int, str, int, str, bytes]]:
    table = ledger.app.recorder.events_record_cls.__table__
    with ledger.engine.connect() as connection:
        rows = connection.execute(select(table.c.id, table.c.originator_id, table.c.originator_version, table.c.topic, table.c.state)
                                  .order_by(table.c.id)).all()
    return [(int(i), o.hex, int(v), t, bytes(state)) for i, o, v, t, state in rows]


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
    _empty_postgres(target)
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
        source_events = stored_events(source)
        expected = statements(source)
        issued = issue(source, StatementRequest("01", "500101", "resident", DEMO_YEAR), "auditor")
        manifest = archiving.export_archive(source, tmp_path / "archive", archiving.scope_of(None, None, None))
    files = manifest["files"]
    # The manifest counts what the store holds, counted here by SQL: every event, document and seal.
    assert files["events.jsonl"]["lines"] == source_rows["ledger_events"]
    assert files["documents.jsonl"]["lines"] == source_rows["ledger_documents"]
    assert files["seals.jsonl"]["lines"] == source_rows["ledger_seals"] > 0
    assert files["statements.jsonl"]["lines"] == 1
    assert manifest["notification_ids"] == "kept" and manifest["store_format"] == formats.CURRENT_FORMAT == "0002"
    # Six districts with a resident and an assistance book, and the adjustment fund, each in 2013 and carried into 2014.
    assert len(manifest["books"]) == 26

    result = runner.invoke(app, ["import", "--db", target_url, str(tmp_path / "archive")])
    assert result.exit_code == 0, result.output
    assert "verifies: agree" in result.output
    with Ledger(target_url) as target:
        report = verify(target)
        assert report.agrees, report.findings
        assert report.books == 26 and report.log_events == source_rows["ledger_events"]
        # Every event went in as it was stored, byte for byte, under its notification id.
        assert stored_events(target) == source_events
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


# ---------------------------------------------------------------- a tampered archive


def _sqlite_target(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'target.db'}"


def _manifest(folder: Path) -> dict[str, Any]:
    return json.loads((folder / MANIFEST).read_text(encoding="utf-8"))


def _posted_line(lines: list[bytes]) -> int:
    """The first claim paid: an event with two posting lines and a voucher, well inside its book."""
    for index, line in enumerate(lines):
        if json.loads(line)["topic"].endswith("Book.ClaimPaid"):
            return index
    raise AssertionError("the demo has no claim")


def test_a_whole_store_archive_carries_the_verification_log_and_part_of_one_does_not(store_url, target_url, tmp_path):
    with Ledger(store_url) as source:
        run_demo(source, size=1)
        verification_log.record(source.engine, verified_by="审计员", channel="cli", scope="all", findings=[], store_findings=0,
                                position=source.projector.log_head(), chain_heads=26, events=1)
        whole = archiving.export_archive(source, tmp_path / "whole", archiving.scope_of(None, None, None))
        part = archiving.export_archive(source, tmp_path / "part", archiving.scope_of("500101", None, None))
        logged = [row.to_json() for row in verification_log.history(source.engine)]
    assert whole["files"]["verifications.jsonl"]["lines"] == 1
    # Part of a store: its rows speak of the whole store's log positions, so they stay out, as issued statements do.
    assert part["files"]["verifications.jsonl"]["lines"] == 0
    assert runner.invoke(app, ["import", "--db", target_url, str(tmp_path / "whole")]).exit_code == 0
    with Ledger(target_url) as target:
        assert [row.to_json() for row in verification_log.history(target.engine)] == logged
        # The next verification of the imported store follows the carried row.
        assert runner.invoke(app, ["verify", "--db", target_url]).exit_code == 0
        assert [row.verification_id for row in verification_log.history(target.engine)] == [2, 1]


def test_an_archive_written_at_format_0001_is_imported(demo_archive, target_url, tmp_path):
    """Format 0002 added the verification log and changed no other record: an archive of 0001 (four files) still imports."""
    folder = copy_archive(demo_archive, tmp_path)
    (folder / "verifications.jsonl").unlink()
    manifest = _manifest(folder)
    del manifest["files"]["verifications.jsonl"]
    # Said to be of 0002 without the log's file: refused, an archive of 0002 holds it even empty.
    (folder / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    import_refused(folder, target_url,
                   "must list exactly the files events.jsonl, documents.jsonl, seals.jsonl, statements.jsonl, verifications.jsonl")
    manifest["store_format"] = "0001"
    (folder / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    result = runner.invoke(app, ["import", "--db", target_url, str(folder)])
    assert result.exit_code == 0, result.output
    assert "verifies: agree" in result.output


def test_a_changed_byte_is_refused_naming_the_file(demo_archive, tmp_path):
    folder = copy_archive(demo_archive, tmp_path)
    lines = read_lines(folder / EVENTS)
    index = _posted_line(lines)
    lines[index] = lines[index].replace(b'"actor":"demo"', b'"actor":"dema"', 1)
    (folder / EVENTS).write_bytes(b"".join(lines))
    import_refused(folder, _sqlite_target(tmp_path), "events.jsonl has SHA-256", "the file was changed")


def test_a_changed_event_with_a_manifest_made_to_match_is_refused_at_its_line(demo_archive, tmp_path):
    """A forger who rewrites the manifest too: the event's chain link no longer holds."""
    folder = copy_archive(demo_archive, tmp_path)
    lines = read_lines(folder / EVENTS)
    index = _posted_line(lines)
    record = json.loads(lines[index])
    record["state"] = record["state"].replace('"actor":"demo"', '"actor":"someone else"')
    record["actor"] = "someone else"
    lines[index] = (json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")
    rewrite(folder, EVENTS, lines)
    import_refused(folder, _sqlite_target(tmp_path), f"events.jsonl line {index + 1}", "chain broken at version")


def test_a_readable_field_that_disagrees_with_the_stored_state_is_refused(demo_archive, tmp_path):
    folder = copy_archive(demo_archive, tmp_path)
    lines = read_lines(folder / EVENTS)
    index = _posted_line(lines)
    lines[index] = lines[index].replace(b'"actor":"demo","chain"', b'"actor":"nobody","chain"', 1)
    assert b'"actor":"nobody"' in lines[index]
    rewrite(folder, EVENTS, lines)
    import_refused(folder, _sqlite_target(tmp_path), f"events.jsonl line {index + 1}", "the line was edited")


def test_a_removed_line_is_refused(demo_archive, tmp_path):
    folder = copy_archive(demo_archive, tmp_path)
    lines = read_lines(folder / EVENTS)
    index = _posted_line(lines)
    book_hex = json.loads(lines[index])["originator_id"]
    following = [i for i in book_lines(lines, book_hex) if i > index][0]
    del lines[index]
    rewrite(folder, EVENTS, lines)
    # The book's next event, one line up now, finds its predecessor missing.
    import_refused(folder, _sqlite_target(tmp_path), f"events.jsonl line {following}", "missing")


def test_a_removed_last_event_is_refused_by_the_manifest_heads(demo_archive, tmp_path):
    folder = copy_archive(demo_archive, tmp_path)
    lines = read_lines(folder / EVENTS)
    last_of_a_book = book_lines(lines, json.loads(lines[_posted_line(lines)])["originator_id"])[-1]
    del lines[last_of_a_book]
    rewrite(folder, EVENTS, lines)
    import_refused(folder, _sqlite_target(tmp_path), "the manifest says version", "events were removed or added")


def test_reordered_lines_are_refused(demo_archive, tmp_path):
    folder = copy_archive(demo_archive, tmp_path)
    lines = read_lines(folder / EVENTS)
    first, second = book_lines(lines, json.loads(lines[_posted_line(lines)])["originator_id"])[3:5]
    lines[first], lines[second] = lines[second], lines[first]
    (folder / EVENTS).write_bytes(b"".join(lines))
    # The lines and their count are the same; the SHA-256 is not.
    import_refused(folder, _sqlite_target(tmp_path), "events.jsonl has SHA-256")
    rewrite(folder, EVENTS, lines)
    import_refused(folder, _sqlite_target(tmp_path), f"events.jsonl line {first + 1}", "missing")


@pytest.mark.parametrize(
    "change, said",
    [
        (lambda m: m["files"]["seals.jsonl"].update(lines=m["files"]["seals.jsonl"]["lines"] + 1), "seals.jsonl has"),
        (lambda m: m.update(format="ledger-archive/0"), "is not a ledger-archive/1 manifest"),
        (lambda m: m.update(store_format="0099"), "format '0099'"),
        (lambda m: m.update(store_format=1), "format 1;"),
        (lambda m: m["files"].pop("documents.jsonl"), "must list exactly the files"),
        (lambda m: m["books"].popitem(), "the manifest says version None"),
    ],
    ids=["count", "format", "store-format-newer", "store-format-older", "file-left-out", "book-left-out"],
)
def test_a_wrong_manifest_is_refused(demo_archive, tmp_path, change, said):
    folder = copy_archive(demo_archive, tmp_path)
    manifest = _manifest(folder)
    change(manifest)
    (folder / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    import_refused(folder, _sqlite_target(tmp_path), said)


def test_a_missing_manifest_or_file_is_refused(demo_archive, tmp_path):
    folder = copy_archive(demo_archive, tmp_path)
    (folder / "seals.jsonl").unlink()
    import_refused(folder, _sqlite_target(tmp_path), "cannot read", "seals.jsonl")
    (folder / MANIFEST).unlink()
    import_refused(folder, _sqlite_target(tmp_path), "manifest.json")


def test_an_event_that_breaks_a_rule_of_the_book_is_refused_though_its_chain_was_recomputed(demo_archive, tmp_path):
    """The forger changes a claim's credit so the entry no longer balances, and recomputes every later link of its book.

    The chain and the manifest hold; the book's own rule (debits equal credits) does not.
    """
    folder = copy_archive(demo_archive, tmp_path)
    lines = read_lines(folder / EVENTS)
    index = _posted_line(lines)
    book_hex = json.loads(lines[index])["originator_id"]
    manifest = _manifest(folder)
    with Ledger(_sqlite_target(tmp_path)) as scratch:
        mapper = scratch.app.mapper
        previous = None
        for i in book_lines(lines, book_hex):
            record = json.loads(lines[i])
            data = json.loads(record["state"])
            if i == index:
                # One fen more on the debit line: 1 fen unbalanced.
                data["postings"][0][2] += 1
            if i >= index:
                event = mapper.to_domain_event(StoredEvent(UUID(book_hex), record["originator_version"], record["topic"],
                                                           json.dumps(data).encode("utf-8")))
                data["chain"] = link_of(event, previous)
                record = event_record(record["notification_id"], UUID(book_hex), record["originator_version"], record["topic"],
                                      json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
                lines[i] = (json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")
            previous = data["chain"]
        manifest["books"][book_hex]["chain_head"] = previous
    (tmp_path / "target.db").unlink()
    rewrite(folder, EVENTS, lines, manifest["books"])
    import_refused(folder, _sqlite_target(tmp_path), f"events.jsonl line {index + 1}", "breaks a rule the book enforces", "debits equal credits")


def test_a_forged_registry_is_found_by_verify_after_the_load_and_nothing_is_kept(demo_archive, tmp_path, store_url):
    """The events prove themselves on the way; a registry row is proven by the verify after the load, which then empties the store."""
    folder = copy_archive(demo_archive, tmp_path)
    lines = read_lines(folder / "documents.jsonl")
    record = json.loads(lines[0])
    record["content_hash"] = "0" * 64
    lines[0] = (json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")
    rewrite(folder, "documents.jsonl", lines)
    output = import_refused(folder, store_url, "does not verify", record["document_id"], "nothing was kept")
    assert "content hash" in output
    # The store really is empty and usable: the genuine archive imports into it now.
    with Ledger(store_url) as ledger:
        archiving.import_archive(ledger, copy_archive(demo_archive, tmp_path / "again"))
        assert verify(ledger).agrees


def test_import_into_a_store_that_holds_anything_is_refused_and_changes_nothing(demo_archive, tmp_path, store_url):
    with Ledger(store_url) as ledger:
        add_user(ledger.engine, "clerk", "A clerk", "a long enough password", by="admin")
        before = stored_rows(ledger)
    output = runner.invoke(app, ["import", "--db", store_url, str(demo_archive)]).output
    assert "not empty (1 in ledger_users)" in output and "Traceback" not in output
    with Ledger(store_url) as ledger:
        assert stored_rows(ledger) == before


def test_an_archive_is_written_only_into_a_new_folder(tmp_path, demo_archive):
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "notes.txt").write_text("kept", encoding="utf-8")
    result = runner.invoke(app, ["export", "--db", f"sqlite:///{demo_archive.parent / 'demo.db'}", "--out", str(tmp_path / "full")])
    assert result.exit_code == 1 and "not an empty folder" in result.output
    assert (tmp_path / "full" / "notes.txt").read_text(encoding="utf-8") == "kept"


@pytest.mark.parametrize("arguments, said", [
    (["--region", "5001"], "six-digit"),
    (["--book", "500101/resident"], "REGION/SCHEME/YEAR"),
    (["--book", "500101/pension/2013"], "REGION/SCHEME/YEAR"),
    (["--region", "500101", "--book", "500101/resident/2013"], "not both"),
    (["--book", "500101/resident/2013", "--year", "2014"], "disagree"),
])
def test_a_scope_it_cannot_take_is_exit_2(tmp_path, arguments, said):
    result = runner.invoke(app, ["export", "--db", f"sqlite:///{tmp_path / 'x.db'}", "--out", str(tmp_path / "out"), *arguments])
    assert result.exit_code == 2 and said in result.output, result.output
    assert not (tmp_path / "out").exists()


# ---------------------------------------------------------------- copy, backup and restore


def test_copy_moves_the_demo_from_sqlite_to_postgresql_with_its_users_and_the_same_statements(tmp_path):
    require_backend("postgres")
    _empty_postgres()
    source_url = f"sqlite:///{tmp_path / 'office.db'}"
    with Ledger(source_url) as source:
        run_demo(source, size=1)
        add_user(source.engine, "clerk", "A clerk", "a long enough password", by="admin")
        grant(source.engine, "clerk", "accountant", "500101", by="admin")
        issue(source, StatementRequest("02", MUNICIPALITY, "resident", DEMO_YEAR, consolidated=True), "auditor")
        expected = statements(source)
        source_rows = stored_rows(source)
    result = runner.invoke(app, ["copy", "--from", source_url, "--to", POSTGRES_URL])
    assert result.exit_code == 0, result.output
    assert "1 users, 1 grants" in result.output
    with Ledger(POSTGRES_URL) as target:
        assert stored_rows(target) == source_rows
        assert verify(target).agrees
        assert statements(target) == expected
        with target.engine.connect() as connection:
            assert connection.execute(select(access_tables.grants.c.role, access_tables.grants.c.scope)).all() == [("accountant", "500101")]
        # The sequences moved past the copied ids: the next grant and issue take new numbers.
        grant(target.engine, "clerk", "checker", "500101", by="admin")
        issue(target, StatementRequest("01", "500101", "resident", DEMO_YEAR), "auditor")
        assert [i.id for i in issued_statements(target.engine)] == [1, 2]
    # Copying again is refused: the target is no longer empty.
    again = runner.invoke(app, ["copy", "--from", source_url, "--to", POSTGRES_URL])
    assert again.exit_code == 1 and "not empty" in again.output


def test_a_copy_onto_itself_is_refused(tmp_path):
    url = f"sqlite:///{tmp_path / 'office.db'}"
    Ledger(url).close()
    result = runner.invoke(app, ["copy", "--from", url, "--to", url])
    assert result.exit_code == 2 and "the same store" in result.output


def test_sqlite_backup_and_restore_verify_and_give_the_same_statements(tmp_path):
    source_url = f"sqlite:///{tmp_path / 'office.db'}"
    with Ledger(source_url) as source:
        run_demo(source, size=1)
        expected = statements(source)
    result = runner.invoke(app, ["backup", "--db", source_url, "--out", str(tmp_path / "office.backup")])
    assert result.exit_code == 0, result.output
    assert "sqlite backup API" in result.output and "agree" in result.output
    again = runner.invoke(app, ["backup", "--db", source_url, "--out", str(tmp_path / "office.backup")])
    assert again.exit_code == 2 and "exists" in again.output
    restored_url = f"sqlite:///{tmp_path / 'restored.db'}"
    result = runner.invoke(app, ["restore", "--db", restored_url, str(tmp_path / "office.backup")])
    assert result.exit_code == 0, result.output
    with Ledger(restored_url) as restored:
        assert statements(restored) == expected
    over = runner.invoke(app, ["restore", "--db", restored_url, str(tmp_path / "office.backup")])
    assert over.exit_code == 2 and "never over a store" in over.output


def test_a_postgresql_dump_restored_into_a_new_database_verifies(tmp_path):
    require_backend("postgres")
    if shutil.which("pg_dump") is None or shutil.which("pg_restore") is None:
        pytest.skip("PostgreSQL's client tools are not installed")
    _empty_postgres()
    with Ledger(POSTGRES_URL) as source:
        run_demo(source, size=1)
        expected = statements(source)
    dump = tmp_path / "ledger.dump"
    result = runner.invoke(app, ["backup", "--db", POSTGRES_URL, "--out", str(dump)])
    assert result.exit_code == 0, result.output
    assert dump.read_bytes()[:5] == b"PGDMP"  # pg_dump's custom format
    restored_url = second_postgres_url("restored")
    try:
        result = runner.invoke(app, ["restore", "--db", restored_url, str(dump)])
        assert result.exit_code == 0, result.output
        assert "agree" in result.output
        with Ledger(restored_url) as restored:
            assert statements(restored) == expected
        # Restoring over the restored store is refused: its tables are there.
        over = runner.invoke(app, ["restore", "--db", restored_url, str(dump)])
        assert over.exit_code == 2 and "restored into an empty database" in over.output
    finally:
        drop_postgres_database(restored_url)


def test_the_chain_recipe_of_docs_archive_proves_every_link_without_the_ledger(demo_archive, tmp_path, monkeypatch):
    """The Python in docs/archive.md, run as printed on the demo's archive: no ledger code, only hashlib and json."""
    page = (Path(__file__).parent.parent / "docs" / "archive.md").read_text(encoding="utf-8")
    recipe = page.split("```python\n", 1)[1].split("```", 1)[0]
    monkeypatch.chdir(demo_archive)
    namespace: dict[str, Any] = {}
    exec(recipe, namespace)
    manifest = _manifest(demo_archive)
    assert namespace["heads"] == {book_hex: book["chain_head"] for book_hex, book in manifest["books"].items()}
    # And it is a real check: one changed figure makes it fail.
    folder = copy_archive(demo_archive, tmp_path)
    lines = read_lines(folder / EVENTS)
    index = _posted_line(lines)
    record = json.loads(lines[index])
    record["state"] = record["state"].replace('"voucher":', '"voucher":1', 1)
    lines[index] = (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")
    (folder / EVENTS).write_bytes(b"".join(lines))
    monkeypatch.chdir(folder)
    with pytest.raises(AssertionError):
        exec(recipe, {})


def test_a_store_that_is_not_there_or_a_scope_with_no_book_writes_nothing(tmp_path, demo_archive):
    missing = f"sqlite:///{tmp_path / 'missing.db'}"
    result = runner.invoke(app, ["export", "--db", missing, "--out", str(tmp_path / "out")])
    assert result.exit_code == 2 and "there is no SQLite store" in result.output
    result = runner.invoke(app, ["copy", "--from", missing, "--to", f"sqlite:///{tmp_path / 'to.db'}"])
    assert result.exit_code == 2 and "there is no SQLite store" in result.output
    assert not (tmp_path / "missing.db").exists() and not (tmp_path / "to.db").exists()
    demo = f"sqlite:///{demo_archive.parent / 'demo.db'}"
    result = runner.invoke(app, ["export", "--db", demo, "--out", str(tmp_path / "out"), "--region", "110101"])
    assert result.exit_code == 1 and "no book of the store is in the scope (region 110101)" in result.output
    assert not (tmp_path / "out").exists()
    result = runner.invoke(app, ["backup", "--db", demo, "--out", str(tmp_path / "no" / "such" / "folder.db")])
    assert result.exit_code == 1 and "cannot write" in result.output and "Traceback" not in result.output
