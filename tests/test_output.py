"""What an accountant reads is whole and true: piped and narrow output, formats, totals, times, dry runs, published statements, print setup, citations.

Every expected figure is worked out by hand in the comments beside it.
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from ledger.agency_time import local_time
from ledger.cli import app
from ledger.documents import read_document
from ledger.money import MoneyFormatError
from ledger.projections.queries import recorded_cutoff
from ledger.statements import Period, Scope, compute
from ledger.statements.compare import ARITHMETIC, DIFFERS, amount_fen, compare, not_published, read_published
from ledger.statements.render import to_csv, write_xlsx

runner = CliRunner()
REPOSITORY = Path(__file__).resolve().parent.parent

LONG_ID = "CONTRIBUTION-2013-WANZHOU-STREET-OFFICE-000000000001"
RESIDENT = {"region": "500101", "scheme": "resident"}
# A district's January 2013 (figures by hand): a contribution of 4,558,402.00 into the income account
# (Dr 1002 / Cr 4001.01 tier 1), subsidies of 20.00, 15.00 and 5.00 into the fiscal account
# (Dr 1003 / Cr 4101.0x tier 1), and 10.00 swept from the income to the fiscal account (Dr 1003 / Cr 1002).
JANUARY = [
    {**RESIDENT, "id": LONG_ID, "type": "contribution", "date": "2013-01-05", "tier": 1, "amount": "4558402.00"},
    {**RESIDENT, "id": "S-1", "type": "subsidy", "date": "2013-01-06", "tier": 1, "level": "central", "amount": "20.00"},
    {**RESIDENT, "id": "S-2", "type": "subsidy", "date": "2013-01-06", "tier": 1, "level": "provincial", "amount": "15.00"},
    {**RESIDENT, "id": "S-3", "type": "subsidy", "date": "2013-01-06", "tier": 1, "level": "county", "amount": "5.00"},
    {**RESIDENT, "id": "T-1", "type": "transfer", "date": "2013-01-31", "from": "income", "to": "fiscal", "amount": "10.00"},
]


def invoke(*args: str, columns: int | None = None, input: str | None = None, **env: str):
    if columns is not None:
        env["COLUMNS"] = str(columns)
    return runner.invoke(app, list(args), input=input, env=env or None)


def post_january(store_url: str, tmp_path: Path) -> None:
    path = tmp_path / "january.jsonl"
    path.write_text("\n".join(json.dumps(d, ensure_ascii=False) for d in JANUARY) + "\n", encoding="utf-8")
    posted = invoke("post", str(path), "--db", store_url)
    assert posted.exit_code == 0, posted.output


# ------------------------------------------------------------------ nothing cut, whatever the width


@pytest.mark.parametrize("columns", [None, 40, 80, 200])
def test_piped_reports_never_cut_an_amount_or_a_document_id(store_url, tmp_path, columns):
    post_january(store_url, tmp_path)
    db = ("--db", store_url)
    reports = {
        "balance": invoke("balance", "500101", "resident", "2013", *db, columns=columns),
        "trial-balance": invoke("trial-balance", "500101", "2013", *db, columns=columns),
        "vouchers": invoke("vouchers", "--region", "500101", "--scheme", "resident", "--year", "2013", *db, columns=columns),
        "trace": invoke("trace", "--region", "500101", "--scheme", "resident", "--year", "2013", "--account", "1002", *db, columns=columns),
        "trace --document": invoke("trace", "--document", LONG_ID, *db, columns=columns),
        "explain": invoke("explain", LONG_ID, *db, columns=columns),
    }
    for name, shown in reports.items():
        assert shown.exit_code == 0, (name, shown.output)
        assert "…" not in shown.output, name
    # 1002 took 4,558,402.00 in and swept 10.00 out: 4,558,392.00 left.
    for name in ("balance", "trial-balance", "vouchers", "trace"):
        assert "4,558,402.00" in reports[name].output, name
    assert "4,558,392.00" in reports["balance"].output
    for name in ("vouchers", "trace", "trace --document", "explain"):
        assert LONG_ID in reports[name].output, name


def test_a_report_written_to_a_file_keeps_its_figures_whole(store_url, tmp_path):
    post_january(store_url, tmp_path)
    statement = tmp_path / "bank.csv"
    # The income account's statement: the contribution in, the sweep out; 4,558,392.00 left.
    statement.write_text("date,description,reference,amount,balance\n"
                         f"2013-01-05,街道代收,{LONG_ID},4558402.00,4558402.00\n"
                         "2013-01-31,划转财政专户,T-1,-10.00,4558392.00\n", encoding="utf-8")
    report = tmp_path / "report.txt"
    done = invoke("reconcile", str(statement), "--region", "500101", "--scheme", "resident", "--year", "2013",
                  "--account", "1002", "--out", str(report), "--db", store_url, columns=30)
    assert done.exit_code == 0, done.output
    text = report.read_text(encoding="utf-8")
    assert "4,558,402.00" in text and "4,558,392.00" in text and LONG_ID in text and "…" not in text
    piped = invoke("reconcile", str(statement), "--region", "500101", "--scheme", "resident", "--year", "2013",
                   "--account", "1002", "--db", store_url, columns=30)
    assert "4,558,402.00" in piped.output and LONG_ID in piped.output and "…" not in piped.output


def test_every_report_command_gives_csv_and_json(store_url, tmp_path):
    post_january(store_url, tmp_path)
    db = ("--db", store_url)
    commands = [
        ("balance", "500101", "resident", "2013"),
        ("trial-balance", "500101", "2013"),
        ("books",),
        ("fiscal", "500101"),
        ("vouchers", "--region", "500101", "--scheme", "resident", "--year", "2013"),
        ("trace", "--region", "500101", "--scheme", "resident", "--year", "2013", "--account", "1003"),
        ("trace", "--document", "T-1"),
        ("explain", LONG_ID),
        ("period", "history", "500101", "resident", "2013"),
        ("seal", "list"),
        ("policy", "check", "500101", "2013"),
        ("statement", "issued"),
        ("statement", "trace", "--form", "01", "--region", "500101", "--scheme", "resident", "--year", "2013", "--line", "3"),
        ("verify",),
    ]
    for command in commands:
        as_csv = invoke(*command, *db, "--format", "csv")
        # The policy check finds the fund's balance above 25% of its fundraising: a finding, exit 1.
        assert as_csv.exit_code == (1 if command[:2] == ("policy", "check") else 0), (command, as_csv.output)
        assert list(csv.reader(io.StringIO(as_csv.stdout))), command
        as_json = invoke(*command, *db, "--format", "json")
        assert as_json.exit_code == as_csv.exit_code, (command, as_json.output)
        json.loads(as_json.stdout)
        assert invoke(*command, *db, "--json").stdout == as_json.stdout, command
    shown = invoke("policy", "show", "500101", "2013-06-30", "--format", "csv")
    assert shown.exit_code == 0 and shown.stdout.startswith("name,value,unit,minimum,source,file,note")
    both = invoke("balance", "500101", "resident", "2013", *db, "--json", "--format", "csv")
    assert both.exit_code == 2


def test_balance_csv_holds_exact_yuan(store_url, tmp_path):
    post_january(store_url, tmp_path)
    shown = invoke("balance", "500101", "resident", "2013", "--db", store_url, "--format", "csv")
    rows = {(r["account"], r["tier"]): r for r in csv.DictReader(io.StringIO(shown.stdout))}
    # 1003: 20.00 + 15.00 + 5.00 + 10.00 = 50.00 debit.
    assert rows[("1003", "0")]["balance"] == "50.00" and rows[("1003", "0")]["side"] == "Dr"
    assert rows[("1002", "0")]["debit"] == "4558402.00" and rows[("1002", "0")]["credit"] == "10.00"


# ------------------------------------------------------------------ the trial balance adds up


def test_the_trial_balance_total_row_adds_up_each_of_its_columns(store_url, tmp_path):
    post_january(store_url, tmp_path)
    shown = invoke("trial-balance", "500101", "2013", "--db", store_url, "--format", "csv")
    assert shown.exit_code == 0, shown.output
    rows = list(csv.DictReader(io.StringIO(shown.stdout)))
    total = rows[-1]
    # Debit turnover: 1002 4,558,402.00 + 1003 50.00 = 4,558,452.00.
    # Credit turnover: 1002 10.00 + 4001.01 4,558,402.00 + 4101.0x 20.00 + 15.00 + 5.00 = 4,558,452.00.
    # Debit balances: 1002 4,558,392.00 + 1003 50.00 = 4,558,442.00; credit balances: 4,558,402.00 + 40.00 = 4,558,442.00.
    assert (total["debit_turnover"], total["credit_turnover"]) == ("4558452.00", "4558452.00")
    assert (total["debit_balance"], total["credit_balance"]) == ("4558442.00", "4558442.00")
    screen = invoke("trial-balance", "500101", "2013", "--db", store_url, columns=60).output
    total_line = next(line for line in screen.splitlines() if "合计" in line)
    assert re.findall(r"[\d,]+\.\d\d", total_line) == ["4,558,452.00", "4,558,452.00", "4,558,442.00", "4,558,442.00"]
    assert "balanced" in screen


# ------------------------------------------------------------------ times in the agency's zone


def test_a_bare_known_on_date_is_the_end_of_that_day_in_the_agency_zone(monkeypatch):
    monkeypatch.delenv("LEDGER_TIMEZONE", raising=False)
    # 2024-03-31 23:59:59.999999 in Beijing (UTC+8) is 15:59:59.999999 UTC.
    assert recorded_cutoff("2024-03-31") == "2024-03-31T15:59:59.999999+00:00"
    assert recorded_cutoff("2024-03-31T08:00") == "2024-03-31T00:00:00.000000+00:00"
    assert recorded_cutoff("2024-03-31T08:00+00:00") == "2024-03-31T08:00:00.000000+00:00"
    assert local_time("2024-03-31T16:30:00.000000+00:00") == "2024-04-01 00:30:00+08:00"
    monkeypatch.setenv("LEDGER_TIMEZONE", "UTC")
    assert recorded_cutoff("2024-03-31") == "2024-03-31T23:59:59.999999+00:00"
    assert local_time("2024-03-31T16:30:00+00:00") == "2024-03-31 16:30:00+00:00"


def test_known_on_before_anything_was_recorded_says_so(store_url, tmp_path):
    post_january(store_url, tmp_path)
    for command in (
        ("balance", "500101", "resident", "2013", "--known-on", "2001-01-01"),
        ("trial-balance", "500101", "2013", "--known-on", "2001-01-01"),
        ("trace", "--region", "500101", "--scheme", "resident", "--year", "2013", "--account", "1002", "--known-on", "2001-01-01"),
        ("statement", "show", "--form", "01", "--region", "500101", "--scheme", "resident", "--year", "2013", "--known-on", "2001-01-01"),
    ):
        shown = invoke(*command, "--db", store_url)
        assert shown.exit_code == 1, (command, shown.output)
        assert "nothing had been recorded by 2001-01-01 23:59:59+08:00" in shown.output, command
    bad = invoke("balance", "500101", "resident", "2013", "--known-on", "yesterday", "--db", store_url)
    assert bad.exit_code == 2 and "--known-on takes YYYY-MM-DD" in bad.output
    wrong_zone = invoke("balance", "500101", "resident", "2013", "--known-on", "2030-01-01", "--db", store_url, LEDGER_TIMEZONE="Mars/Olympus")
    assert wrong_zone.exit_code == 2 and "LEDGER_TIMEZONE" in wrong_zone.output


def test_recorded_times_print_in_the_agency_zone(store_url, tmp_path):
    post_january(store_url, tmp_path)
    traced = json.loads(invoke("trace", "--document", "T-1", "--db", store_url, "--json").stdout)
    assert traced["events"][0]["recorded_at"].endswith("+08:00")
    explained = json.loads(invoke("explain", "T-1", "--db", store_url, "--json").stdout)
    assert explained["entries"][0]["recorded_at"].endswith("+08:00")


# ------------------------------------------------------------------ post --json and --dry-run


BATCH = "\n".join([
    json.dumps({**RESIDENT, "id": "C-1", "type": "contribution", "date": "2013-01-05", "tier": 1, "amount": "10.00"}),
    "not JSON",
    json.dumps({**RESIDENT, "id": "C-2", "type": "contribution", "date": "2013-01-05", "tier": 1, "amount": "-5"}),
    json.dumps({**RESIDENT, "id": "K-1", "type": "claim", "date": "2013-01-09", "tier": 1, "category": "inpatient", "amount": "99.00"}),
]) + "\n"


def test_post_json_gives_one_object_per_document_then_a_summary(store_url, tmp_path):
    path = tmp_path / "batch.jsonl"
    path.write_text(BATCH, encoding="utf-8")
    done = invoke("post", str(path), "--db", store_url, "--json")
    assert done.exit_code == 1
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    by_line = {line["line"]: line for line in lines if "line" in line}
    assert by_line[1] == {"line": 1, "id": "C-1", "status": "posted", "postings": 2, "error": None, "field": None, "rule": None, "message": None}
    assert by_line[2]["status"] == "rejected" and by_line[2]["error"] == "DocumentFormatError"
    assert (by_line[3]["id"], by_line[3]["field"], by_line[3]["rule"]) == ("C-2", "amount", "amounts must be positive")
    # The claim of 99.00 would take the empty payment account 1004 below zero.
    assert (by_line[4]["error"], by_line[4]["rule"]) == ("AccountOverdrawnError", "bank accounts never below zero")
    assert lines[-1] == {"summary": {"posted": 1, "postings": 2, "duplicates": 0, "rejected": 3, "dry_run": False}}


def test_a_dry_run_checks_and_computes_and_writes_nothing(store_url, tmp_path):
    path = tmp_path / "batch.jsonl"
    path.write_text(BATCH, encoding="utf-8")
    done = invoke("post", str(path), "--db", store_url, "--dry-run", "--json")
    assert done.exit_code == 1
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    would = next(line for line in lines if line.get("id") == "C-1")
    assert would["status"] == "would post"
    postings = would["entries"][0]["postings"]
    assert {(p["account"], p["debit"], p["credit"]) for p in postings} == {("1002", "10.00", "0.00"), ("4001.01", "0.00", "10.00")}
    assert lines[-1]["summary"] == {"posted": 1, "postings": 2, "duplicates": 0, "rejected": 3, "dry_run": True}
    assert json.loads(invoke("books", "--db", store_url, "--json").stdout) == []
    on_screen = invoke("post", str(path), "--db", store_url, "--dry-run")
    assert "dry run, nothing written: 1 documents would post (2 postings)" in on_screen.output
    # Posting for real afterwards posts C-1: the dry run left nothing cached that would call it a duplicate.
    real = invoke("post", str(path), "--db", store_url, "--json")
    assert json.loads(real.stdout.splitlines()[-1])["summary"]["posted"] == 1


def test_a_dry_run_shows_the_rule_computation(store_url, tmp_path):
    # Three tier-1 urban residents of 万州 in 2012 pay 50.00 − 40.00 of subsidy = 10.00 each: 30.00
    # (渝府发〔2007〕113号 三(四), 三(五)2), computed by the resident funding rule from the facts.
    document = {"id": "C-9", "type": "contribution", "date": "2012-03-02", "region": "500101", "scheme": "resident",
                "tier": 1, "facts": {"urban": 3}}
    path = tmp_path / "facts.jsonl"
    path.write_text(json.dumps(document) + "\n", encoding="utf-8")
    done = invoke("post", str(path), "--db", store_url, "--dry-run", "--json")
    assert done.exit_code == 0, done.output
    would = json.loads(done.stdout.splitlines()[0])
    assert would["status"] == "would post"
    (entry,) = would["entries"]
    assert {(p["account"], p["debit"], p["credit"]) for p in entry["postings"]} == {("1002", "30.00", "0.00"), ("4001.01", "0.00", "30.00")}
    assert entry["computation"]["rule"] == "resident.contribution"
    assert entry["computation"]["facts"] == {"urban": 3, "tier": 1}
    on_screen = invoke("post", str(path), "--db", store_url, "--dry-run")
    assert "would post" in on_screen.output and "30.00" in on_screen.output
    assert json.loads(invoke("books", "--db", store_url, "--json").stdout) == []


# ------------------------------------------------------------------ explain and policy in one unit, one citation style


YUAN_TEXT = re.compile(r"^-?\d+\.\d\d$")


def test_explain_json_gives_every_amount_as_yuan_text(ledger, store_url):
    for document in (
        {**RESIDENT, "id": "C-1", "type": "contribution", "date": "2013-01-05", "tier": 1, "amount": "10000.00"},
        {**RESIDENT, "id": "T-1", "type": "transfer", "date": "2013-01-06", "from": "income", "to": "fiscal", "amount": "10000.00"},
        {**RESIDENT, "id": "T-2", "type": "transfer", "date": "2013-01-07", "from": "fiscal", "to": "payment", "amount": "10000.00"},
        {**RESIDENT, "id": "K-1", "type": "claim", "date": "2013-05-14", "tier": 1, "category": "inpatient",
         "facts": {"person": "500101-P-001207", "hospital_level": "3", "covered_cost": "1600.00"}},
    ):
        outcome = ledger.post_one(read_document(document, "test"))
        assert outcome.status == "posted", outcome.error
    shown = json.loads(invoke("explain", "K-1", "--db", store_url, "--json").stdout)
    computation = shown["computation"]
    assert computation["amounts"] and all(YUAN_TEXT.match(v) for v in computation["amounts"].values())
    assert all(YUAN_TEXT.match(v) for v in computation["usage"].values())
    for entry in shown["entries"]:
        for posting in entry["postings"]:
            assert YUAN_TEXT.match(posting["debit"]) and YUAN_TEXT.match(posting["credit"])


def test_nothing_the_user_reads_cites_domain_md_or_seed_numbers():
    for on in ("2008-06-30", "2013-06-30"):
        shown = invoke("policy", "show", "500101", on, "--format", "csv")
        assert shown.exit_code == 0
        assert "DOMAIN.md" not in shown.stdout and not re.search(r"seeds? 0\d\d", shown.stdout)
        assert "渝府发〔2007〕113号" in shown.stdout
    assert "渝办发〔2011〕293号" in invoke("policy", "show", "500101", "2013-06-30").stdout
    assert "郴政办发〔2016〕37号" in invoke("policy", "show", "431000", "2017-06-30").stdout
    # Docstrings and messages are read too (help, errors, policy show): the whole package cites what a user has.
    readable = [
        REPOSITORY / "README.md",
        *sorted((REPOSITORY / "docs").rglob("*.md")),
        *sorted((REPOSITORY / "ledger").rglob("*.toml")),
        *sorted((REPOSITORY / "ledger").rglob("*.py")),
    ]
    for path in readable:
        text = path.read_text(encoding="utf-8")
        assert "DOMAIN.md" not in text and "shared/" not in text, path
        assert not re.search(r"\bseeds? 0\d\d", text), path


# ------------------------------------------------------------------ published statements in 元 and 万元, CSV and XLSX


def test_published_amounts_in_yuan_and_wan_read_exactly_and_sub_fen_is_refused():
    assert amount_fen("1,234.56") == 123456
    assert amount_fen("-0.05") == -5
    assert amount_fen("455.84", "wan") == 455840000  # 455.84 万元 = 4,558,400.00 元
    assert amount_fen("0.000001", "wan") == 1  # one fen
    assert amount_fen("1,234.567891", "wan") == 1234567891  # 12,345,678.91 元
    assert amount_fen("12", "wan") == 12000000
    for bad, unit in (("1.2345678", "wan"), ("1.234", "yuan"), ("1E5", "yuan"), ("1.23457E+11", "wan"), ("1,23", "yuan"),
                      ("12,34.00", "yuan"), ("１２", "yuan"), ("1_000", "yuan"), ("", "yuan")):
        with pytest.raises(MoneyFormatError):
            amount_fen(bad, unit)


YEAR_2013 = [
    # Income 1,600.00 (contributions 1,000.00 and 600.00 at the two tiers), spending 300.00 on a claim paid
    # from the payment account after 1,600.00 was swept there: 三、本期基金结余 1,300.00, 六、期末 1,300.00.
    {**RESIDENT, "id": "C-1", "type": "contribution", "date": "2013-01-05", "tier": 1, "amount": "1000.00"},
    {**RESIDENT, "id": "C-2", "type": "contribution", "date": "2013-01-05", "tier": 2, "amount": "600.00"},
    {**RESIDENT, "id": "T-1", "type": "transfer", "date": "2013-01-06", "from": "income", "to": "fiscal", "amount": "1600.00"},
    {**RESIDENT, "id": "T-2", "type": "transfer", "date": "2013-01-07", "from": "fiscal", "to": "payment", "amount": "1600.00"},
    {**RESIDENT, "id": "K-1", "type": "claim", "date": "2013-03-01", "tier": 1, "category": "inpatient", "amount": "300.00"},
]


def income_statement(ledger):
    for document in YEAR_2013:
        outcome = ledger.post_one(read_document(document, "test"))
        assert outcome.status == "posted", outcome.error
    return compute(ledger, "02", Scope("500101", "resident"), Period(2013))


def test_a_summary_that_leaves_out_the_surplus_is_checked_against_the_lines_it_gives(ledger):
    statement = income_statement(ledger)
    # Opening 0.00 + income 1,600.00 − spending 300.00 = 1,300.00; the publication says 1,400.00 at the close.
    published = "行次,项目,本年数\n1,一、基金收入,1600.00\n15,二、基金支出,300.00\n31,四、年初基金结余,0\n33,六、期末基金结余,1400.00\n"
    read = read_published(published.encode("utf-8"), statement)
    findings = compare(statement, read)
    arithmetic = [f for f in findings if f.kind == ARITHMETIC]
    assert [(f.row, f.published_fen, f.books_fen) for f in arithmetic] == [(33, 140000, 130000)]
    differs = [f for f in findings if f.kind == DIFFERS]
    assert [(f.row, f.published_fen, f.books_fen) for f in differs] == [(33, 140000, 130000)]
    left_out = {spec.row for spec in not_published(statement, read)}
    assert 30 in left_out and 2 in left_out and 33 not in left_out
    # The same summary, right, agrees: the lines it leaves out are not compared with the books.
    right = published.replace("1400.00", "1300.00")
    assert compare(statement, read_published(right.encode("utf-8"), statement)) == []


def test_a_publication_in_wan_is_compared_exactly(ledger):
    statement = income_statement(ledger)
    # 1,600.00 元 = 0.16 万元; 300.00 元 = 0.03 万元; 1,300.00 元 = 0.13 万元.
    published = "单位：万元\n行次,本年数\n1,0.16\n15,0.03\n30,0.13\n"
    read = read_published(published.encode("utf-8"), statement)
    assert read.unit == "wan" and compare(statement, read) == []
    with pytest.raises(Exception, match="单位：万元"):
        read_published(published.encode("utf-8"), statement, unit="yuan")
    fine = "行次,本年数\n1,0.160001\n"
    findings = compare(statement, read_published(fine.encode("utf-8"), statement, unit="wan"))
    assert [(f.kind, f.published_fen, f.books_fen) for f in findings] == [(DIFFERS, 160001, 160000)]
    too_fine = "行次,本年数\n1,0.1600001\n"
    findings = compare(statement, read_published(too_fine.encode("utf-8"), statement, unit="wan"))
    assert [f.kind for f in findings] == ["unreadable amount"] and "finer than a fen" in findings[0].message


def test_the_ledgers_own_xlsx_and_csv_are_read_back_and_agree(ledger, tmp_path):
    statement = income_statement(ledger)
    for form in ("01", "02"):
        shown = compute(ledger, form, Scope("500101", "resident"), Period(2013))
        target = tmp_path / f"{form}.xlsx"
        write_xlsx(shown, str(target))
        assert compare(shown, read_published(target.read_bytes(), shown)) == [], form
        assert compare(shown, read_published(to_csv(shown).encode("utf-8"), shown)) == [], form
    assert statement is not None


def test_statement_compare_command_takes_unit_and_format(ledger, store_url, tmp_path):
    income_statement(ledger)
    path = tmp_path / "published.csv"
    path.write_text("行次,本年数\n1,0.16\n15,0.03\n30,0.14\n", encoding="utf-8")
    done = invoke("statement", "compare", str(path), "--form", "02", "--region", "500101", "--scheme", "resident",
                  "--year", "2013", "--unit", "wan", "--db", store_url, "--format", "json")
    assert done.exit_code == 1
    payload = json.loads(done.stdout)
    assert payload["unit"] == "万元"
    # 0.14 万元 = 1,400.00 元 against 1,300.00: it differs from the books and from 一 − 二.
    assert {(f["kind"], f["published"], f["books"]) for f in payload["findings"]} == {
        ("differs", "1400.00", "1300.00"), ("arithmetic", "1400.00", "1300.00")}
    assert any(line["row"] == 33 for line in payload["not_published"])


# ------------------------------------------------------------------ XLSX prints like the form


def test_xlsx_statements_are_set_up_to_print_like_the_official_forms(ledger, tmp_path):
    income_statement(ledger)
    for form, orientation in (("01", "landscape"), ("02", "portrait")):
        shown = compute(ledger, form, Scope("500101", "resident"), Period(2013))
        target = tmp_path / f"{form}.xlsx"
        write_xlsx(shown, str(target))
        sheet = load_workbook(target).active
        setup = sheet.page_setup
        assert (str(setup.paperSize), setup.orientation) == ("9", orientation), form  # 9 is A4
        assert sheet.sheet_properties.pageSetUpPr.fitToPage is True
        assert (setup.fitToWidth, setup.fitToHeight) == (1, 1)
        assert sheet.print_title_rows == "$1:$4"
        header = [cell for cell in sheet[4] if cell.value is not None]
        assert header and all(cell.border.left.style == "thin" and cell.border.bottom.style == "thin" for cell in header)
        assert any(cell.border.top.style == "thin" for cell in sheet[5] if cell.value is not None)
        # 编制单位 runs over merged cells wide enough for it (a CJK character takes two columns).
        entity = sheet["A3"].value
        assert entity.startswith("编制单位：") and "城乡居民基本医疗保险基金" in entity
        merged = next(r for r in sheet.merged_cells.ranges if r.min_row == 3 and r.min_col == 1)
        room = sum(sheet.column_dimensions[chr(64 + c)].width for c in range(merged.min_col, merged.max_col + 1))
        assert sheet["A3"].alignment.wrap_text is True
        assert room * (sheet.row_dimensions[3].height or 15) / 15 >= 2 * len(entity) - 10
