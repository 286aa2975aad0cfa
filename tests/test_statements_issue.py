"""Statements leaving the ledger: XLSX and JSON, issuing and reissuing, comparing a published statement, the CLI.

The books are the worked examples of test_statements.py (万州's resident book,
2012 closed, 2013 open); every figure expected here is from the hand sums
written there and beside each assertion.
"""

from __future__ import annotations

import json
from decimal import Decimal

from sqlalchemy import text
from typer.testing import CliRunner

from ledger.cli import app
from ledger.statements import Period, Scope
from ledger.statements.issuing import issue, issued
from ledger.store import Ledger
from test_statements import CLOSE_2012, RESIDENT, WANZHOU, YEAR_2012, YEAR_2013, post, yuan

runner = CliRunner()
SUBJECT_2013 = ["--region", WANZHOU, "--scheme", "resident", "--year", "2013"]
LATE_CLAIM = {**RESIDENT, "id": "CL-3", "type": "claim", "date": "2013-03-20", "category": "inpatient", "tier": 1, "amount": "200.00"}


def invoke(*args: str):
    return runner.invoke(app, list(args))


def posted(store_url, *documents):
    with Ledger(store_url) as ledger:
        post(ledger, *documents)


def xlsx_yuan(value) -> Decimal:
    """A numeric cell read back (openpyxl returns int or float) as yuan to the fen, for comparing with JSON's text."""
    return Decimal(repr(value)).quantize(Decimal("0.01"))


def row_of(sheet, column: int, name: str) -> int:
    for (cell,) in sheet.iter_rows(min_col=column, max_col=column):
        if cell.value == name:
            return cell.row
    raise AssertionError(f"no {name} in column {column}")


def json_line(data, code):
    (line,) = [line for line in data["lines"] if line["code"] == code]
    return line["values"]


# ------------------------------------------------------------------ XLSX and JSON


def test_the_xlsx_balance_sheet_is_two_sided_and_its_totals_equal_the_json(store_url, tmp_path):
    import openpyxl

    posted(store_url, *YEAR_2012, CLOSE_2012, *YEAR_2013)
    shown = invoke("statement", "show", "--form", "01", *SUBJECT_2013, "--format", "json", "--db", store_url)
    assert shown.exit_code == 0, shown.output
    data = json.loads(shown.stdout)
    target = tmp_path / "01.xlsx"
    written = invoke("statement", "show", "--form", "01", *SUBJECT_2013, "--format", "xlsx", "--out", str(target), "--db", store_url)
    assert written.exit_code == 0, written.output
    sheet = openpyxl.load_workbook(target).active
    assert (sheet["A1"].value, sheet["H2"].value, sheet["H3"].value) == ("资产负债表", "会社保01表", "单位：元")
    assert sheet["A3"].value == "编制单位：万州区（500101） 城乡居民基本医疗保险基金"
    assert [sheet.cell(row=4, column=c).value for c in range(1, 9)] == [
        "资产", "行次", "年初余额", "期末余额", "负债和基金", "行次", "年初余额", "期末余额"
    ]
    # Assets on the left, liabilities and fund on the right; 资产合计 level with 负债和基金合计, both bold.
    assets = row_of(sheet, 1, "资产合计")
    assert sheet.cell(row=assets, column=5).value == "负债和基金合计"
    assert sheet.cell(row=assets, column=1).font.bold and sheet.cell(row=assets, column=8).font.bold
    assert sheet.cell(row=assets, column=4).number_format == "#,##0.00"
    # 年初 2960.00, 期末 4672.34 on both sides (test_statements: the next year).
    opening, closing = json_line(data, "assets_total")["opening"]["yuan"], json_line(data, "assets_total")["closing"]["yuan"]
    assert (opening, closing) == ("2960.00", "4672.34")
    assert xlsx_yuan(sheet.cell(row=assets, column=3).value) == Decimal(opening)
    assert xlsx_yuan(sheet.cell(row=assets, column=4).value) == Decimal(closing)
    assert xlsx_yuan(sheet.cell(row=assets, column=8).value) == Decimal(json_line(data, "liabilities_and_fund_total")["closing"]["yuan"])
    fund = row_of(sheet, 5, "基金合计")
    assert xlsx_yuan(sheet.cell(row=fund, column=8).value) == Decimal(json_line(data, "fund_total")["closing"]["yuan"])


def test_the_xlsx_income_statement_totals_equal_the_json(store_url, tmp_path):
    import openpyxl

    posted(store_url, *YEAR_2012, CLOSE_2012, *YEAR_2013)
    data = json.loads(invoke("statement", "show", "--form", "02", *SUBJECT_2013, "--format", "json", "--db", store_url).stdout)
    target = tmp_path / "02.xlsx"
    assert invoke("statement", "show", "--form", "02", *SUBJECT_2013, "--format", "xlsx", "-o", str(target), "--db", store_url).exit_code == 0
    sheet = openpyxl.load_workbook(target).active
    assert (sheet["A1"].value, sheet["D2"].value) == ("收支表", "会社保02表")
    totals = {"一、基金收入": "income_total", "二、基金支出": "expense_total", "三、本期基金结余": "surplus", "六、期末基金结余": "closing_fund"}
    for name, code in totals.items():
        row = row_of(sheet, 1, name)
        assert sheet.cell(row=row, column=1).font.bold
        for column, key in ((3, "this_year"), (4, "last_year")):
            assert xlsx_yuan(sheet.cell(row=row, column=column).value) == Decimal(json_line(data, code)[key]["yuan"]), (name, key)
    # 本年数 income 2012.34, 上年数 3700.00 (by hand in test_statements).
    assert json_line(data, "income_total")["this_year"]["yuan"] == "2012.34"
    assert json_line(data, "income_total")["last_year"]["yuan"] == "3700.00"


# ------------------------------------------------------------------ issuing


def test_issue_reissue_shows_each_changed_line_and_the_documents_recorded_since(ledger):
    post(ledger, *YEAR_2012, CLOSE_2012, *YEAR_2013)
    scope, period = Scope(WANZHOU, "resident"), Period(2013)
    first = issue(ledger, "02", scope, period, "auditor")
    assert first.previous is None and first.changes == ()
    assert (first.issued.form, first.issued.scope, first.issued.period) == ("02", "500101/resident", "2013")
    assert first.issued.source_hash == first.statement.source_hash() and len(first.issued.figures_digest) == 64
    post(ledger, LATE_CLAIM)
    second = issue(ledger, "02", scope, period, "auditor")
    assert second.previous.id == first.issued.id and second.issued.position > first.issued.position
    # The late claim adds 200.00 to 5001.01 and to the expense, and takes 200.00 off the year's result:
    # expense 300.00 → 500.00, surplus 1712.34 → 1512.34, closing fund 4672.34 → 4472.34. 上年数 is untouched.
    assert [(c.row, c.name, c.column, yuan(c.old_fen), yuan(c.new_fen), yuan(c.difference_fen)) for c in second.changes] == [
        (15, "二、基金支出", "本年数", "300.00", "500.00", "200.00"),
        (16, "社会保险待遇支出", "本年数", "300.00", "500.00", "200.00"),
        (17, "其中：住院", "本年数", "0.00", "200.00", "200.00"),
        (30, "三、本期基金结余", "本年数", "1712.34", "1512.34", "-200.00"),
        (33, "六、期末基金结余", "本年数", "4672.34", "4472.34", "-200.00"),
    ]
    assert [(d.document_id, d.kinds, d.books) for d in second.documents] == [("CL-3", ("ClaimPaid",), ("500101/resident/2013",))]
    # Issued again with nothing recorded in between: nothing changed, the same figures and digest.
    third = issue(ledger, "02", scope, period, "auditor")
    assert third.changes == () and third.documents == ()
    assert third.issued.figures_digest == second.issued.figures_digest
    # The issues are a record, not a projection: a rebuild of the projections leaves them.
    ledger.projector.rebuild()
    assert [i.id for i in issued(ledger.engine, form="02")] == [first.issued.id, second.issued.id, third.issued.id]


def test_issue_and_issued_on_the_command_line(store_url):
    posted(store_url, *YEAR_2012, CLOSE_2012, *YEAR_2013)
    first = invoke("statement", "issue", "--form", "01", *SUBJECT_2013, "--by", "王会计", "--db", store_url)
    assert first.exit_code == 0, first.output
    assert "issued #1" in first.output and "first issue" in first.output
    posted(store_url, LATE_CLAIM)
    second = invoke("statement", "issue", "--form", "01", *SUBJECT_2013, "--by", "王会计", "--db", store_url, "--json")
    assert second.exit_code == 0, second.output
    result = json.loads(second.stdout)
    assert result["previous"]["id"] == 1 and result["issued"]["id"] == 2
    # 1004 700.00 → 500.00 and the fund 200.00 less on tier 1 (4372.34 → 4172.34).
    changed = {(c["code"], c["column"]): (c["old"], c["new"], c["difference"]) for c in result["changes"]}
    assert changed[("1004", "期末余额")] == ("700.00", "500.00", "-200.00")
    assert changed[("3001:1", "期末余额")] == ("4372.34", "4172.34", "-200.00")
    assert [d["document_id"] for d in result["documents_since"]] == ["CL-3"]
    listed = invoke("statement", "issued", "--db", store_url, "--json")
    assert [(i["id"], i["form"], i["scope"], i["period"], i["issued_by"]) for i in json.loads(listed.stdout)] == [
        (1, "01", "500101/resident", "2013", "王会计"),
        (2, "01", "500101/resident", "2013", "王会计"),
    ]
    assert invoke("rebuild", "--db", store_url).exit_code == 0
    assert len(json.loads(invoke("statement", "issued", "--db", store_url, "--json").stdout)) == 2


# ------------------------------------------------------------------ a published statement

# 万州's 2013 收支表 as published, with English headers: three mistakes.
#   行次 11 利息收入 printed 12.43 where the books have 12.34;
#   行次 30 本期基金结余 printed 1721.34 where 一 − 二 = 2012.34 − 300.00 = 1712.34 (and the books say so too);
#   行次 33 期末基金结余 printed right (4672.34) but not 四 + 三 + 五 of the printed figures (2960.00 + 1721.34).
# Blank cells and left-out lines are zero.
PUBLISHED_2013 = """row,item,this_year,last_year
1,一、基金收入,"2,012.34",3700.00
2,社会保险费收入,,1600.00
3,其中：个人缴费,,1600.00
6,财政补贴收入,2000.00,2000.00
7,其中：中央,2000.00,2000.00
11,利息收入,12.43,
12,上级补助收入,,100.00
15,二、基金支出,300.00,740.00
16,社会保险待遇支出,300.00,500.00
17,其中：住院,,500.00
18,门诊,300.00,
21,上解上级支出,,240.00
30,三、本期基金结余,1721.34,2960.00
31,四、年初基金结余,2960.00,
33,六、期末基金结余,4672.34,2960.00
"""


def test_a_published_statement_is_compared_line_by_line_and_checked_against_itself(store_url, tmp_path):
    posted(store_url, *YEAR_2012, CLOSE_2012, *YEAR_2013)
    published = tmp_path / "published.csv"
    published.write_text(PUBLISHED_2013, encoding="utf-8")
    compared = invoke("statement", "compare", str(published), "--form", "02", *SUBJECT_2013, "--db", store_url, "--json")
    assert compared.exit_code == 1, compared.output
    findings = [(f["kind"], f["row"], f["column"], f["published_fen"], f["books_fen"]) for f in json.loads(compared.stdout)["findings"]]
    assert findings == [
        ("differs", 11, "本年数", 1243, 1234),  # too much by 0.09
        ("differs", 30, "本年数", 172134, 171234),  # too much by 9.00
        ("arithmetic", 1, "本年数", 201234, 201243),  # 一 printed 2012.34, its printed parts add to 2012.43
        ("arithmetic", 30, "本年数", 172134, 171234),  # 三 printed 1721.34, 一 − 二 printed = 1712.34
        ("arithmetic", 33, "本年数", 467234, 468134),  # 六 printed 4672.34, 四 + 三 + 五 printed = 4681.34
    ]
    on_screen = invoke("statement", "compare", str(published), "--form", "02", *SUBJECT_2013, "--db", store_url)
    assert on_screen.exit_code == 1
    assert "行次 11 利息收入, 本年数: published 12.43, the books 12.34: too much by 0.09" in on_screen.output
    assert "行次 33 六、期末基金结余, 本年数: published 4,672.34, its parts add up to 4,681.34: too little by 9.00" in on_screen.output
    assert "5 findings" in on_screen.output


def test_the_ledgers_own_csv_compares_clean_and_a_balance_sheet_that_does_not_balance_is_named(store_url, tmp_path):
    posted(store_url, *YEAR_2012, CLOSE_2012, *YEAR_2013)
    own = tmp_path / "01.csv"
    assert invoke("statement", "show", "--form", "01", *SUBJECT_2013, "--format", "csv", "--out", str(own), "--db", store_url).exit_code == 0
    agrees = invoke("statement", "compare", str(own), "--form", "01", *SUBJECT_2013, "--db", store_url)
    assert agrees.exit_code == 0, agrees.output
    assert "agrees with the books" in agrees.output
    # The same file as a spreadsheet in China saves it (GB 18030, no BOM) reads the same.
    chinese = tmp_path / "01-gb18030.csv"
    chinese.write_bytes(own.read_text(encoding="utf-8-sig").encode("gb18030"))
    assert invoke("statement", "compare", str(chinese), "--form", "01", *SUBJECT_2013, "--db", store_url).exit_code == 0
    # Printed 1004 期末 as 7,000.00 instead of 700.00, and the 资产合计 with it (10,972.34 instead of 4,672.34).
    wrong = own.read_text(encoding="utf-8-sig").replace("4,1004,支出户存款,1000.00,700.00", "4,1004,支出户存款,1000.00,7000.00")
    wrong = wrong.replace("8,assets_total,资产合计,2960.00,4672.34", "8,assets_total,资产合计,2960.00,10972.34")
    published = tmp_path / "published-01.csv"
    published.write_text(wrong, encoding="utf-8")
    compared = invoke("statement", "compare", str(published), "--form", "01", *SUBJECT_2013, "--db", store_url, "--json")
    assert compared.exit_code == 1
    findings = [(f["kind"], f["row"], f["column"], f["published_fen"], f["books_fen"]) for f in json.loads(compared.stdout)["findings"]]
    assert findings == [
        ("differs", 4, "期末余额", 700000, 70000),
        ("differs", 8, "期末余额", 1097234, 467234),
        ("arithmetic", 8, "期末余额", 1097234, 467234),  # 资产合计 against 负债和基金合计 as printed
    ]


def test_a_published_file_with_a_header_the_form_does_not_have_is_refused(store_url, tmp_path):
    posted(store_url, *YEAR_2012)
    published = tmp_path / "bad.csv"
    published.write_text("行次,项目,本月数\n1,一、基金收入,1.00\n", encoding="utf-8")
    refused = invoke("statement", "compare", str(published), "--form", "02", "--region", WANZHOU, "--scheme", "resident", "--year", "2012", "--db", store_url)
    assert refused.exit_code == 1
    assert "'本月数' is not one this statement has" in refused.output and "[published statement layout]" in refused.output


# ------------------------------------------------------------------ the command line's exit codes


def test_show_exits_0_with_the_statement_and_1_with_nothing_but_the_refusal(store_url):
    posted(store_url, *YEAR_2012)
    shown = invoke("statement", "show", "--form", "01", "--region", WANZHOU, "--scheme", "resident", "--year", "2012", "--db", store_url)
    assert shown.exit_code == 0, shown.output
    assert "资产负债表" in shown.output and "2,960.00" in shown.output
    csv_text = invoke("statement", "show", "--form", "02", "--region", WANZHOU, "--scheme", "resident", "--year", "2012", "--month", "6", "--format", "csv", "--db", store_url)
    assert csv_text.stdout.splitlines()[0] == "行次,代码,项目,本月数,本年累计数"
    assert "30,surplus,三、本期基金结余,-240.00,2860.00" in csv_text.stdout
    with Ledger(store_url) as ledger, ledger.engine.begin() as connection:
        connection.execute(text("UPDATE proj_lines SET amount_fen = amount_fen + 1 WHERE document_id = 'C-1' AND account = '1002'"))
    refused = invoke("statement", "show", "--form", "01", "--region", WANZHOU, "--scheme", "resident", "--year", "2012", "--db", store_url)
    assert refused.exit_code == 1
    assert "资产合计 = 负债和基金合计 fails in 期末余额" in refused.output and "[statement invariant]" in refused.output
    assert "库存现金" not in refused.output  # no statement is printed


def test_show_refuses_a_missing_book_and_bad_options(store_url):
    posted(store_url, *YEAR_2012)
    missing = invoke("statement", "show", "--form", "01", "--region", WANZHOU, "--scheme", "resident", "--year", "1999", "--db", store_url)
    assert missing.exit_code == 1 and "there is no resident book of 500101 for 1999" in missing.output
    assert invoke("statement", "show", "--form", "03", "--region", WANZHOU, "--scheme", "resident", "--year", "2012", "--db", store_url).exit_code == 2
    assert invoke("statement", "show", "--form", "01", "--region", WANZHOU, "--scheme", "pension", "--year", "2012", "--db", store_url).exit_code == 2
    no_file = invoke("statement", "show", "--form", "01", "--region", WANZHOU, "--scheme", "resident", "--year", "2012", "--format", "xlsx", "--db", store_url)
    assert no_file.exit_code == 2 and "--out" in no_file.output
    bad_date = invoke("statement", "show", "--form", "01", "--region", WANZHOU, "--scheme", "resident", "--year", "2012", "--as-of", "30/06/2012", "--db", store_url)
    assert bad_date.exit_code == 2
