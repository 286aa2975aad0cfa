"""The command line, end to end, on both backends."""

from __future__ import annotations

import json

from sqlalchemy import text
from typer.testing import CliRunner

from ledger.cli import app

runner = CliRunner()

# A general district's first days of 2013: figures by hand from DOMAIN.md §3.1 (one tier-1 urban
# resident in a general district: individual 10.00, central 20.00, municipal 15.00, district 5.00).
GOOD_AND_BAD = "\n".join(
    [
        '{"id": "C-1", "type": "contribution", "date": "2013-01-05", "region": "500101", "scheme": "resident", "tier": 1, "amount": "10.00"}',
        '{"id": "S-1", "type": "subsidy", "date": "2013-01-06", "region": "500101", "scheme": "resident", "tier": 1, "level": "central", "amount": "20.00"}',
        '{"id": "S-2", "type": "subsidy", "date": "2013-01-06", "region": "500101", "scheme": "resident", "tier": 1, "level": "provincial", "amount": "15.00"}',
        "this line is not JSON",
        '{"id": "S-3", "type": "subsidy", "date": "2013-01-06", "region": "500101", "scheme": "resident", "tier": 1, "level": "county", "amount": "5.00"}',
        '{"id": "K-1", "type": "claim", "date": "2013-01-09", "region": "500101", "scheme": "resident", "tier": 1, "category": "inpatient", "amount": "99.00"}',
        '{"id": "T-1", "type": "transfer", "date": "2013-01-31", "region": "500101", "scheme": "resident", "from": "income", "to": "fiscal", "amount": "10.00"}',
        '{"id": "X-1", "type": "contribution", "date": "2013-01-05", "region": "500101", "scheme": "resident", "tier": 1, "amount": "10.001"}',
    ]
)


def invoke(*args: str, input: str | None = None):
    return runner.invoke(app, list(args), input=input)


def write(tmp_path, name: str, content: str) -> str:
    path = tmp_path / name
    path.write_text(content + "\n", encoding="utf-8")
    return str(path)


def test_a_file_with_bad_lines_posts_the_good_ones_names_every_bad_one_and_can_be_posted_again(store_url, tmp_path):
    path = write(tmp_path, "january.jsonl", GOOD_AND_BAD)
    first = invoke("post", path, "--db", store_url)
    assert first.exit_code == 1
    assert "posted 5 documents (10 postings), 0 duplicates skipped, 3 rejected" in first.output
    # Line 4 is not JSON, line 6 overdraws the empty payment account, line 8 has a fraction of a fen.
    assert "not JSON" in first.output
    assert "K-1" in first.output and "1004" in first.output and "too little by 99.00" in first.output
    assert "X-1" in first.output and "whole number of fen" in first.output

    again = invoke("post", path, "--db", store_url)
    assert again.exit_code == 1
    assert "posted 0 documents (0 postings), 5 duplicates skipped, 3 rejected" in again.output

    shown = invoke("balance", "500101", "resident", "2013", "--db", store_url, "--json")
    assert shown.exit_code == 0
    rows = {(r["account"], r["tier"]): r["balance"] for r in json.loads(shown.stdout)["rows"]}
    # 1003: 20.00 + 15.00 + 5.00 subsidies + 10.00 swept = 50.00; 1002: 10.00 in, 10.00 swept = 0.00.
    assert rows[("1003", 0)] == "50.00"
    assert rows[("1002", 0)] == "0.00"
    assert rows[("4001.01", 1)] == "-10.00"
    assert rows[("4101.01", 1)] == "-20.00"
    assert rows[("4101.02", 1)] == "-15.00"
    assert rows[("4101.04", 1)] == "-5.00"


def test_csv_and_stdin_post_the_same_documents(store_url, tmp_path):
    csv_text = "\n".join(
        [
            "id,type,date,region,scheme,tier,level,amount,from,to",
            "S-1,subsidy,2013-02-10,500238,resident,2,central,20.00,,",
            "T-1,transfer,2013-02-11,500238,resident,,,12.50,fiscal,payment",
        ]
    )
    posted = invoke("post", write(tmp_path, "feb.csv", csv_text), "--db", store_url)
    assert posted.exit_code == 0, posted.output
    assert "posted 2 documents (4 postings)" in posted.output
    piped = invoke(
        "post", "-", "--db", store_url,
        input='{"id": "K-9", "type": "claim", "date": "2013-02-12", "region": "500238", "scheme": "resident", "tier": 2, "category": "outpatient", "amount": "2.50"}\n',
    )
    assert piped.exit_code == 0, piped.output
    one = invoke("balance", "500238", "resident", "2013", "--account", "1004", "--db", store_url, "--json")
    # 1004: 12.50 funded − 2.50 outpatient claim = 10.00
    assert json.loads(one.stdout)["rows"] == [
        {"account": "1004", "name": "支出户存款", "tier": 0, "debit": "12.50", "credit": "2.50", "balance": "10.00", "side": "Dr"}
    ]


def test_demo_balances_and_verify_agrees_then_names_a_tampered_projection(store_url):
    shown = invoke("demo", "--size", "1", "--db", store_url)
    assert shown.exit_code == 0, shown.output
    assert "balanced" in shown.output and "agree" in shown.output
    trial = invoke("trial-balance", "500000", "2013", "--db", store_url, "--json")
    assert trial.exit_code == 0
    (municipality,) = json.loads(trial.stdout)
    assert municipality["balanced"] is True
    assert municipality["debit_total"] == municipality["credit_total"]

    assert invoke("verify", "--db", store_url).exit_code == 0
    from ledger.store import Ledger

    with Ledger(store_url) as ledger, ledger.engine.begin() as connection:
        connection.execute(
            text("UPDATE proj_balances SET balance_fen = balance_fen + 1 WHERE account = '1003' AND tier = 0")
        )
    broken = invoke("verify", "--db", store_url)
    assert broken.exit_code == 1
    assert "1003:0: replay" in broken.output and "DISAGREE" in broken.output

    assert invoke("rebuild", "--db", store_url).exit_code == 0
    assert invoke("verify", "--db", store_url).exit_code == 0


def test_asking_for_a_book_that_does_not_exist_says_so(store_url):
    shown = invoke("balance", "500101", "resident", "1999", "--db", store_url)
    assert shown.exit_code == 1
    assert "there is no book 500101/resident/1999" in shown.output


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_store_that_cannot_be_opened_is_named_with_its_password_hidden_and_the_driver_s_reason_alone(tmp_path):
    """Every way a command opens a store says the same: the URL without its password and the driver's first line, exit 2."""
    unreachable = f"postgresql+psycopg2://auditor:s3cret-pw@127.0.0.1:{_free_port()}/ledger"
    missing_folder = f"sqlite:///{tmp_path}/no-such-folder/ledger.db"
    commands = [
        ("books",),  # open_ledger: every reading and posting command
        ("migrate", "--dry-run"),  # ledger migrate plans before opening
        ("serve", "--port", str(_free_port())),  # the service opens the store before it listens
    ]
    for url in (unreachable, missing_folder):
        for command in commands:
            if url == missing_folder and command[0] == "migrate":
                continue  # no file yet is a store the ledger will make, not an error ("nothing to do")
            result = invoke(*command, "--db", url)
            assert result.exit_code == 2, (command, url, result.output)
            assert "cannot open the store" in result.output, (command, result.output)
            assert "s3cret-pw" not in result.output
            assert "sqlalche.me" not in result.output and "Background on this error" not in result.output
            assert "Traceback" not in result.output
    result = invoke("books", "--db", unreachable)
    assert "postgres" in result.output and "auditor:***@127.0.0.1" in result.output
    assert "Connection refused" in result.output or "could not connect" in result.output
