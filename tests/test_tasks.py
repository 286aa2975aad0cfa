"""The use-case rooms (ledger/tasks/) on their own: plain records in and out, refusals raised, nothing printed, no face imported."""

from __future__ import annotations

import ast
import pathlib

import pytest
from typer.testing import CliRunner

from ledger.cli import app
from ledger.documents import read_document
from ledger.tasks import balances, posting
from ledger.tasks.arguments import ArgumentError, NotFoundError
from ledger.tasks.reading import current

runner = CliRunner()
TASKS = pathlib.Path(__file__).resolve().parent.parent / "ledger" / "tasks"

# A general district's first days of 2013 (tests/test_cli.py's figures): one tier-1 urban resident's
# individual contribution of 10.00 and the central subsidy of 20.00.
DOCUMENTS = [
    {"id": "C-1", "type": "contribution", "date": "2013-01-05", "region": "500101", "scheme": "resident", "tier": 1, "amount": "10.00"},
    {"id": "S-1", "type": "subsidy", "date": "2013-01-06", "region": "500101", "scheme": "resident", "tier": 1, "level": "central", "amount": "20.00"},
]


def test_no_room_imports_a_face():
    """Data flows one way, face → room → core: no room imports the command line, Typer or Rich."""
    for path in sorted(TASKS.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                imported = [node.module or ""]
            elif isinstance(node, ast.Import):
                imported = [alias.name for alias in node.names]
            else:
                continue
            for name in imported:
                assert not name.startswith(("ledger.cli", "typer", "rich", "click")), f"{path.name} imports {name}"


def test_rooms_return_plain_records_in_fen_and_print_nothing(ledger, capsys):
    summary = posting.PostSummary()
    lines = list(posting.post_documents(ledger, (read_document(raw, "tester") for raw in DOCUMENTS), summary))
    assert [(line.line, line.document_id, line.status) for line in lines] == [(1, "C-1", "posted"), (2, "S-1", "posted")]
    # Each document debits a bank account and credits an income account: 2 documents, 4 posting lines.
    assert (summary.posted, summary.postings, summary.duplicates, summary.rejected) == (2, 4, 0, [])

    result = balances.balance(ledger, balances.BalanceQuery("500101", "resident", 2013))
    by_account = {(row.account, row.tier): row.balance_fen for row in result.rows}
    # 10.00 into the income account 1002, 20.00 into the fiscal special account 1003; income credited by tier.
    assert by_account[("1002", 0)] == 1000
    assert by_account[("1003", 0)] == 2000
    assert by_account[("4001.01", 1)] == -1000
    assert by_account[("4101.01", 1)] == -2000
    shown = {(row["account"], row["tier"]): row["balance"] for row in balances.balance_json(result)["rows"]}  # type: ignore[index, union-attr]
    assert shown[("1003", 0)] == "20.00" and shown[("4001.01", 1)] == "-10.00"

    again = posting.PostSummary()
    list(posting.post_documents(current(ledger), (read_document(raw, "tester") for raw in DOCUMENTS), again))
    assert (again.posted, again.duplicates) == (0, 2)
    assert capsys.readouterr() == ("", "")


def test_a_room_refuses_by_raising(ledger):
    with pytest.raises(ArgumentError, match="scheme must be one of"):
        balances.BalanceQuery("500101", "pension", 2013)
    with pytest.raises(ArgumentError, match="9999 is not an account of the chart"):
        balances.BalanceQuery("500101", "resident", 2013, account="9999")
    with pytest.raises(ArgumentError, match="--as-of: '2013-02-30' is not a day of the calendar"):
        balances.TrialBalanceQuery("500101", 2013, as_of="2013-02-30")
    with pytest.raises(NotFoundError, match="there is no book 500101/resident/2013"):
        balances.balance(ledger, balances.BalanceQuery("500101", "resident", 2013))
    with pytest.raises(NotFoundError, match="no books for 500101 in 2013"):
        balances.trial_balances(ledger, balances.TrialBalanceQuery("500101", 2013))


@pytest.mark.parametrize(
    "arguments",
    [
        ["balance", "500101", "pension", "2013"],
        ["balance", "500101", "resident", "2013", "--as-of", "2013-02-30"],
        ["trial-balance", "500101", "2013", "--known-on", "yesterday"],
        ["trace", "--region", "500101", "--scheme", "resident", "--year", "2013", "--account", "9999"],
        ["trace", "--region", "500101", "--scheme", "resident", "--year", "2013", "--account", "1003", "--from", "2014-01-01"],
        ["vouchers", "--region", "500101", "--scheme", "pension", "--year", "2013"],
        ["period", "close", "500101", "pension", "2013", "1"],
        ["statement", "show", "--form", "03", "--region", "500101", "--scheme", "resident", "--year", "2013"],
        ["statement", "show", "--form", "01", "--region", "500101", "--scheme", "resident", "--year", "2013", "--as-of", "2013-13-01"],
    ],
)
def test_a_malformed_request_is_refused_before_the_store_is_opened(tmp_path, arguments):
    """Exit 2, the argument named, and not even an empty store made."""
    store = tmp_path / "never.db"
    result = runner.invoke(app, [*arguments, "--db", f"sqlite:///{store}"])
    assert result.exit_code == 2, result.output
    assert result.output.strip()
    assert not store.exists()
