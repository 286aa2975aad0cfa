"""Tracing a statement figure to its lines, and the bridge from their net to the figure, on both backends.

The story (万州区 500101 resident, 2025; the municipality 500000 holds the
adjustment fund), worked by hand from the standard entries of DOMAIN.md §2:

  CT  2025-01-10 contribution 1,000.00 t1     Dr 1002 / Cr 4001.01:1
  SW  2025-01-31 sweep 1,000.00               Dr 1003 / Cr 1002
  SB  2025-02-12 central subsidy 2,000.00 t1  Dr 1003 / Cr 4101.01:1
  TR  2025-02-20 fund payments 800.00         Dr 1004 / Cr 1003
  CL  2025-03-05 inpatient claim 500.00 t1    Dr 5001.01:1 / Cr 1004
  RM  2025-06-30 remittance 300.00 t1         district: Dr 5301:1 / Cr 1003; city: Dr 1003 / Cr 4402
  YC  2025-12-31 year close of the district book (and of the adjustment book)

收支表 2025 of the district: 财政补贴收入 (行次 6) 2,000.00; 住院 (行次 17)
500.00; 上解上级支出 (行次 21) 300.00. 资产负债表 at 31 December: 财政专户存款
(行次 3) 1,000 + 2,000 − 800 − 300 = 1,900.00.
"""

from __future__ import annotations

import json

from typer.testing import CliRunner

from ledger.cli import app
from ledger.documents import read_document

WANZHOU, CHONGQING = "500101", "500000"
R = {"region": WANZHOU, "scheme": "resident"}
STORY = [
    {**R, "id": "CT", "type": "contribution", "date": "2025-01-10", "tier": 1, "amount": "1000.00"},
    {**R, "id": "SW", "type": "transfer", "date": "2025-01-31", "from": "1002", "to": "1003", "amount": "1000.00"},
    {**R, "id": "SB", "type": "subsidy", "date": "2025-02-12", "tier": 1, "level": "central", "amount": "2000.00"},
    {**R, "id": "TR", "type": "transfer", "date": "2025-02-20", "from": "1003", "to": "1004", "amount": "800.00"},
    {**R, "id": "CL", "type": "claim", "date": "2025-03-05", "tier": 1, "category": "inpatient", "amount": "500.00"},
    {**R, "id": "RM", "type": "remittance", "date": "2025-06-30", "tier": 1, "amount": "300.00", "municipality": CHONGQING},
    {**R, "id": "YC", "type": "year_close", "year": 2025},
    {"id": "YC-CITY", "type": "year_close", "region": CHONGQING, "scheme": "adjustment", "year": 2025},
]


def posted(ledger):
    outcomes = [ledger.post_one(read_document(raw)) for raw in STORY]
    assert [o.status for o in outcomes] == ["posted"] * len(STORY), [str(o.error) for o in outcomes]
    return ledger


def trace(ledger, *options):
    result = CliRunner().invoke(app, ["statement", "trace", "--db", ledger.url, "--scheme", "resident", "--year", "2025", *options])
    return result


def test_an_income_figure_is_its_lines_less_the_year_end_close(ledger):
    result = trace(posted(ledger), "--form", "02", "--region", WANZHOU, "--line", "6", "--json")
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    # SB credits 4101.01:1 2,000.00 and the close debits it back: the lines net to 0.00; without
    # the close, −2,000.00 debit positive, which the income line shows as 2,000.00.
    assert (shown["figure"], shown["explained"], shown["agrees"]) == ("2000.00", "2000.00", True)
    assert shown["bridge"] == [
        {"step": "the lines' net (debit positive)", "amount": "0.00"},
        {"step": "taking out the year-end close 年终结转", "amount": "-2000.00"},
    ]
    assert sorted({row["document_id"] for row in shown["rows"]}) == ["SB", "YC"]


def test_a_monthly_expense_figure_and_a_balance_sheet_figure(ledger):
    posted(ledger)
    month = trace(ledger, "--form", "02", "--region", WANZHOU, "--month", "3", "--line", "17", "--column", "month", "--json")
    assert month.exit_code == 0, month.output
    shown = json.loads(month.stdout)
    assert (shown["figure"], shown["explained"]) == ("500.00", "500.00")  # CL, in March, nothing to take out
    assert [row["document_id"] for row in shown["rows"]] == ["CL"]
    sheet = trace(ledger, "--form", "01", "--region", WANZHOU, "--line", "3", "--json")
    assert sheet.exit_code == 0, sheet.output
    shown = json.loads(sheet.stdout)
    assert (shown["figure"], shown["explained"]) == ("1900.00", "1900.00")
    assert sorted(row["document_id"] for row in shown["rows"]) == ["RM", "SB", "SW", "TR"]


def test_a_consolidated_figure_takes_out_what_was_eliminated(ledger):
    posted(ledger)
    # With the adjustment book in scope, RM is between two books of the scope: the district's 5301 of
    # 300.00 is eliminated and 上解上级支出 shows 0.00. Lines: RM Dr 300.00, the close Cr 300.00.
    result = trace(ledger, "--form", "02", "--region", CHONGQING, "--consolidated", "--with-adjustment", "--line", "21", "--json")
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    assert (shown["figure"], shown["explained"]) == ("0.00", "0.00")
    assert shown["bridge"] == [
        {"step": "the lines' net (debit positive)", "amount": "0.00"},
        {"step": "taking out the year-end close 年终结转", "amount": "300.00"},
        {"step": "taking out the remittances and grants eliminated between the scope's books", "amount": "-300.00"},
    ]


def test_a_fund_balance_or_a_missing_line_is_refused_with_what_to_do(ledger):
    posted(ledger)
    fund = trace(ledger, "--form", "01", "--region", WANZHOU, "--line", "12")
    assert fund.exit_code == 1
    assert "is a fund balance" in " ".join(fund.output.split())
    missing = trace(ledger, "--form", "02", "--region", WANZHOU, "--line", "99")
    assert missing.exit_code == 1
    assert "the statement has no 行次 99" in " ".join(missing.output.split())
