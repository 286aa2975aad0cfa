"""Reconciliation (对账) of bank and fiscal-account statements with the books, and the 余额调节表.

Every expected figure is worked out by hand from the standard entries of
DOMAIN.md §2 (a transfer from the fiscal account to the payment account is
Dr 1004 / Cr 1003, a claim is Cr 1004, a recovery of this year's benefit is
Dr 1004, a subsidy is Dr 1003), never read back from the code. The books are
万州区 (500101)'s resident fund for 2013.
"""

from __future__ import annotations

import json
from datetime import date

from typer.testing import CliRunner

from ledger.cli import app
from ledger.documents import read_document
from ledger.reconcile import BY_AMOUNT_AND_DATE, BY_REFERENCE, BookLine, StatementRow, match, parse_statement

runner = CliRunner()

WANZHOU = "500101"
RESIDENT = {"region": WANZHOU, "scheme": "resident"}


def post(ledger, *documents):
    outcomes = list(ledger.post([read_document(d) for d in documents]))
    assert [o.status for o in outcomes] == ["posted"] * len(documents), [str(o.error) for o in outcomes]


def invoke(*args: str):
    return runner.invoke(app, list(args))


def write(tmp_path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


# The first quarter of 2013. On the payment account 1004:
#   T-2   2013-02-01  Dr 3000.00  funded from the fiscal account
#   CL-4  2013-03-05  Cr  200.00  outpatient claim
#   CL-5  2013-03-07  Cr  200.00  outpatient claim of the same amount
#   CL-1  2013-03-10  Cr 1200.00  inpatient claim
#   CL-3  2013-03-15  Cr   50.00  maternity claim posted by mistake ...
#   RV-1  2013-03-16  Dr   50.00  ... and reversed the next day
#   RC-1  2013-03-29  Dr  100.00  recovery of this year's inpatient benefit
#   CL-2  2013-03-30  Cr  300.00  outpatient claim
# Book balance of 1004 at 31 March: 3000 − 200 − 200 − 1200 − 50 + 50 + 100 − 300 = 1200.00.
QUARTER = [
    {"id": "S-1", "type": "subsidy", "date": "2013-01-20", **RESIDENT, "tier": 1, "level": "central", "amount": "2000.00"},
    {"id": "S-2", "type": "subsidy", "date": "2013-01-20", **RESIDENT, "tier": 1, "level": "provincial", "amount": "1500.00"},
    {"id": "S-3", "type": "subsidy", "date": "2013-01-20", **RESIDENT, "tier": 1, "level": "county", "amount": "500.00"},
    {"id": "C-1", "type": "contribution", "date": "2013-01-05", **RESIDENT, "tier": 1, "amount": "1000.00"},
    {"id": "T-1", "type": "transfer", "date": "2013-01-31", **RESIDENT, "from": "income", "to": "fiscal", "amount": "1000.00"},
    {"id": "T-2", "type": "transfer", "date": "2013-02-01", **RESIDENT, "from": "fiscal", "to": "payment", "amount": "3000.00"},
    {"id": "CL-4", "type": "claim", "date": "2013-03-05", **RESIDENT, "tier": 1, "category": "outpatient", "amount": "200.00"},
    {"id": "CL-5", "type": "claim", "date": "2013-03-07", **RESIDENT, "tier": 1, "category": "outpatient", "amount": "200.00"},
    {"id": "CL-1", "type": "claim", "date": "2013-03-10", **RESIDENT, "tier": 1, "category": "inpatient", "amount": "1200.00"},
    {"id": "CL-3", "type": "claim", "date": "2013-03-15", **RESIDENT, "tier": 1, "category": "other", "amount": "50.00"},
    {"id": "RV-1", "type": "reversal", "date": "2013-03-16", "reverses": "CL-3"},
    {"id": "RC-1", "type": "recovery", "date": "2013-03-29", **RESIDENT, "tier": 1, "original_year": 2013,
     "category": "inpatient", "amount": "100.00"},
    {"id": "CL-2", "type": "claim", "date": "2013-03-30", **RESIDENT, "tier": 1, "category": "outpatient", "amount": "300.00"},
]

# The bank's statement of the payment account, in the bank's own terms: 借方 is money out of
# the account, 贷方 money in. 对方户名 is not read. Running balance (余额):
#   row 2  +3000.00 → 3000.00   (reference T-2: matched by reference, one day after the books)
#   row 3  − 200.00 → 2800.00   (matched with CL-4 by amount and date)
#   row 4  − 200.00 → 2600.00   (matched with CL-5)
#   row 5  −1200.00 → 1400.00   (CL-1, two days after the books)
#   row 6  +  12.34 → 1412.34   (interest the books have not recorded: 银行已收企业未收)
#   row 7  −   5.00 → 1407.34   (a bank charge the books have not recorded: 银行已付企业未付)
#   row 8  − 300.00 → 1107.34   (dated 2 April: outside a reconciliation through 31 March)
BANK_STATEMENT = """日期,摘要,凭证号,借方,贷方,余额,对方户名
2013-02-02,财政专户拨入,T-2,,3000.00,3000.00,万州区社保基金财政专户
2013-03-06,门诊结算,,200.00,,2800.00,万州区人民医院
2013-03-08,门诊结算,,200.00,,2600.00,万州区中医院
2013-03-12,住院结算,,1200.00,,1400.00,万州区人民医院
2013-03-21,结息,,,12.34,1412.34,
2013-03-25,手续费,,5.00,,1407.34,
2013-04-02,门诊结算,,300.00,,1107.34,万州区人民医院
"""


def reconcile_payment_account(store_url, tmp_path, *extra: str):
    path = write(tmp_path, "payment-2013-03.csv", BANK_STATEMENT)
    return invoke(
        "reconcile", path, "--region", WANZHOU, "--scheme", "resident", "--year", "2013", "--account", "1004",
        "--through", "2013-03-31", "--db", store_url, *extra,
    )


def test_a_bank_statement_reconciles_with_every_kind_of_difference_named(ledger, store_url, tmp_path):
    post(ledger, *QUARTER)
    result = reconcile_payment_account(store_url, tmp_path, "--format", "json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)

    matched = {(m["statement"]["row"], m["book"]["document_id"], m["by"], m["days_apart"]) for m in report["matched"]}
    assert matched == {
        (2, "T-2", BY_REFERENCE, 1),
        # Two claims of 200.00: closest dates first, ties to the earlier row, then the earlier line.
        (3, "CL-4", BY_AMOUNT_AND_DATE, 1),
        (4, "CL-5", BY_AMOUNT_AND_DATE, 1),
        (5, "CL-1", BY_AMOUNT_AND_DATE, 2),
    }
    assert [(r["row"], r["amount"]) for r in report["statement_only_receipts"]] == [(6, "12.34")]
    assert [(r["row"], r["amount"]) for r in report["statement_only_payments"]] == [(7, "-5.00")]
    assert [(l["document_id"], l["amount"], l["voucher"]) for l in report["book_only_receipts"]] == [("RC-1", "100.00", "2013-03#6")]
    assert [(l["document_id"], l["amount"]) for l in report["book_only_payments"]] == [("CL-2", "-300.00")]
    # CL-3 and its reversal cancel in the books; neither is a difference with the bank.
    assert [(p["original"]["document_id"], p["reversal"]["document_id"]) for p in report["reversed_in_books"]] == [("CL-3", "RV-1")]
    assert report["statement_rows_outside_window"] == 1

    # 余额调节表 at 31 March:
    #   statement 1407.34 (余额 of row 7) + 100.00 RC-1 − 300.00 CL-2        = 1207.34
    #   books     1200.00                 +  12.34 interest − 5.00 charge   = 1207.34
    assert report["statement_balance"] == "1407.34"
    assert report["statement_balance_source"] == "余额 of row 7"
    assert report["book_balance"] == "1200.00"
    assert report["adjusted_statement_balance"] == "1207.34"
    assert report["adjusted_book_balance"] == "1207.34"
    assert report["difference"] == "0.00"
    assert report["agrees"] is True


def test_the_table_shows_the_adjustment_and_the_csv_report_lists_every_item(ledger, store_url, tmp_path):
    post(ledger, *QUARTER)
    shown = reconcile_payment_account(store_url, tmp_path)
    assert shown.exit_code == 0, shown.output
    assert "余额调节表" in shown.output and "银行已收企业未收" in shown.output and "企业已付银行未付" in shown.output
    assert "adjusted balances agree at 1207.34" in shown.output

    out_path = tmp_path / "report.csv"
    written = reconcile_payment_account(store_url, tmp_path, "--format", "csv", "--out", str(out_path))
    assert written.exit_code == 0, written.output
    lines = out_path.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("section,statement_row")
    sections = [line.split(",")[0] for line in lines[1:]]
    # 4 matched, 1 + 1 on the statement only, 1 + 1 in the books only, 2 reversed lines, 8 + 1 adjustment lines.
    assert sections.count("matched") == 4
    assert sections.count("银行已收企业未收") == 1 and sections.count("银行已付企业未付") == 1
    assert sections.count("企业已收银行未收") == 1 and sections.count("企业已付银行未付") == 1
    assert sections.count("冲销 reversed in the books") == 2
    assert sections.count("余额调节表") == 9


def test_adjusted_balances_that_do_not_agree_exit_1_and_name_the_difference(ledger, store_url, tmp_path):
    post(ledger, *QUARTER)
    # A closing balance of 1400.00 instead of the statement's 1407.34:
    #   statement 1400.00 + 100.00 − 300.00 = 1200.00; books 1200.00 + 12.34 − 5.00 = 1207.34.
    result = reconcile_payment_account(store_url, tmp_path, "--statement-balance", "1400.00", "--format", "json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["statement_balance_source"] == "--statement-balance"
    assert (report["adjusted_statement_balance"], report["adjusted_book_balance"]) == ("1200.00", "1207.34")
    assert report["difference"] == "-7.34"
    assert report["agrees"] is False
    assert "is less than the adjusted book balance 1207.34 by 7.34" in report["verdict"]


def test_a_fiscal_special_account_statement_reconciles_with_1003(ledger, store_url, tmp_path):
    post(
        ledger,
        *QUARTER[:6],
        {"id": "IN-1", "type": "interest", "date": "2013-02-20", **RESIDENT, "tier": 1, "account": "fiscal", "amount": "30.00"},
        {"id": "S-4", "type": "subsidy", "date": "2013-02-27", **RESIDENT, "tier": 2, "level": "central", "amount": "400.00"},
    )
    # 1003 in the books through February: S-1 2000.00 + S-2 1500.00 + S-3 500.00 (20 Jan) + T-1 1000.00 (31 Jan)
    # − T-2 3000.00 (1 Feb) + IN-1 30.00 (20 Feb) + S-4 400.00 (27 Feb) = 2430.00.
    # The finance bureau's statement (English headers, one signed amount column, no balance) has
    # everything but S-4, and its closing balance is 2030.00 (2430.00 − 400.00).
    statement = write(
        tmp_path,
        "fiscal-2013-02.csv",
        "date,description,reference,amount\n"
        "2013-01-20,中央财政补助,S-1,2000.00\n"
        "2013-01-21,市级财政补助,,1500.00\n"
        "2013-01-22,区县财政补助,S-3,500.00\n"
        "2013/02/01,收入户缴存,,\"1,000.00\"\n"
        "20130201,拨付支出户,T-2,-3000.00\n"
        "2013-02-21,专户结息,,30.00\n",
    )
    result = invoke(
        "reconcile", statement, "--region", WANZHOU, "--scheme", "resident", "--year", "2013", "--account", "1003",
        "--through", "2013-02-28", "--statement-balance", "2030.00", "--format", "json", "--db", store_url,
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert sorted((m["book"]["document_id"], m["by"]) for m in report["matched"]) == [
        ("IN-1", BY_AMOUNT_AND_DATE),
        ("S-1", BY_REFERENCE),
        ("S-2", BY_AMOUNT_AND_DATE),
        ("S-3", BY_REFERENCE),
        ("T-1", BY_AMOUNT_AND_DATE),
        ("T-2", BY_REFERENCE),
    ]
    assert [l["document_id"] for l in report["book_only_receipts"]] == ["S-4"]
    assert report["statement_only_receipts"] == report["statement_only_payments"] == report["book_only_payments"] == []
    # statement 2030.00 + 400.00 S-4 = 2430.00; books 2430.00.
    assert (report["adjusted_statement_balance"], report["adjusted_book_balance"]) == ("2430.00", "2430.00")


def test_bad_statement_rows_are_refused_naming_file_row_and_column_and_nothing_is_written(ledger, store_url, tmp_path):
    post(ledger, *QUARTER)
    statement = write(
        tmp_path,
        "bad.csv",
        "日期,摘要,收入,支出,余额\n"
        "2013-02-02,拨入,3000.00,,3000.00\n"
        "2013-02-30,结算,,100.00,2900.00\n"
        "2013-03-01,结算,,12.345,\n"
        "2013-03-02,结算,10.00,10.00,\n"
        "2013-03-03,结算,-5.00,,\n",
    )
    report = tmp_path / "report.json"
    result = invoke(
        "reconcile", statement, "--region", WANZHOU, "--scheme", "resident", "--year", "2013", "--account", "1004",
        "--format", "json", "--out", str(report), "--db", store_url,
    )
    assert result.exit_code == 1
    output = " ".join(result.output.split())
    assert "bad.csv row 3, column '日期': '2013-02-30' is not a day of the calendar: 2013-02 has 28 days" in output
    assert "bad.csv row 4, column '支出': '12.345' is not a whole number of fen" in output
    assert "bad.csv row 5, column '收入': the row has money both in and out" in output
    assert "bad.csv row 6, column '收入': '-5.00' is negative" in output
    assert "[statement layout (docs/reconciliation.md)]" in output
    assert "4 problem(s) in bad.csv; nothing was reconciled" in output
    assert not report.exists()


def test_a_balance_that_does_not_follow_from_the_rows_is_refused():
    _statement, errors = parse_statement(
        "date,amount,balance\n2013-03-01,3000.00,3000.00\n2013-03-02,-200.00,2900.00\n2013-03-03,-100.00,2700.00\n",
        "jump.csv",
    )
    # Row 3: 3000.00 − 200.00 = 2800.00 expected, 2900.00 given. Row 4 is checked from row 3's balance as
    # given: 2900.00 − 100.00 = 2800.00 expected, 2700.00 given.
    assert [e.describe() for e in errors] == [
        "jump.csv row 3, column 'balance': 2900.00 does not follow from the balance before it and this row's amount: "
        "expected 2800.00, too much by 100.00 [statement layout (docs/reconciliation.md)]",
        "jump.csv row 4, column 'balance': 2700.00 does not follow from the balance before it and this row's amount: "
        "expected 2800.00, too little by 100.00 [statement layout (docs/reconciliation.md)]",
    ]


def test_a_header_without_amounts_and_rows_out_of_order_are_refused():
    _statement, errors = parse_statement("日期,摘要\n2013-03-01,x\n", "no-amount.csv")
    assert [e.row for e in errors] == [1] and "has no amount column" in errors[0].message
    _statement, errors = parse_statement("date,amount\n2013-03-05,1.00\n2013-03-01,2.00\n", "order.csv")
    assert [(e.row, e.column) for e in errors] == [(3, "date")] and "sort the statement oldest first" in errors[0].message
    _statement, errors = parse_statement("date,amount,收入\n2013-03-05,1.00,\n", "both.csv")
    assert "both a signed amount column and in/out columns" in errors[0].message


def test_a_statement_without_a_closing_balance_is_refused(ledger, store_url, tmp_path):
    post(ledger, *QUARTER)
    statement = write(tmp_path, "no-balance.csv", "date,amount,reference\n2013-02-02,3000.00,T-2\n")
    result = invoke(
        "reconcile", statement, "--region", WANZHOU, "--scheme", "resident", "--year", "2013", "--account", "1004",
        "--db", store_url,
    )
    assert result.exit_code == 1
    assert "gives no 余额 (balance) on or before 2013-12-31" in " ".join(result.output.split())


def test_a_reference_naming_a_document_with_another_amount_is_noted_and_matching_goes_on():
    # Pure: no store. The statement says 300.00 out with reference CL-2, but CL-2's line is 30.00 out;
    # a 300.00 line of another document two days earlier takes the row by amount and date.
    rows = [StatementRow(2, date(2013, 3, 12), -30000, "CL-2")]
    lines = [
        BookLine(1, 0, date(2013, 3, 10), "CL-2", "claim", "ClaimPaid", "2013-03", 1, 2, -3000),
        BookLine(2, 0, date(2013, 3, 10), "CL-9", "claim", "ClaimPaid", "2013-03", 2, 3, -30000),
    ]
    found = match(rows, lines, tolerance_days=3)
    assert [(m.book.document_id, m.by) for m in found.matched] == [("CL-9", BY_AMOUNT_AND_DATE)]
    assert [line.document_id for line in found.lines] == ["CL-2"]
    assert found.notes == [
        "row 2: reference CL-2 names a document whose lines on the account are 30.00 out, not 300.00 out; "
        "the row was matched by amount and date where it could be"
    ]


def test_two_rows_with_the_reference_of_one_line_match_it_once():
    rows = [StatementRow(2, date(2013, 2, 2), 300000, "T-2"), StatementRow(3, date(2013, 2, 9), 300000, "T-2")]
    lines = [BookLine(1, 0, date(2013, 2, 1), "T-2", "transfer", "TransferMade", "2013-02", 1, 7, 300000)]
    found = match(rows, lines, tolerance_days=3)
    assert [(m.statement.row, m.by) for m in found.matched] == [(2, BY_REFERENCE)]
    assert [row.row for row in found.rows] == [3]
    assert found.notes == [
        "row 3: reference T-2 names a document whose line of 3000.00 in is already matched with an earlier row; "
        "the row was matched by amount and date where it could be"
    ]


def test_money_in_never_matches_a_credit_and_dates_beyond_the_tolerance_do_not_match():
    rows = [StatementRow(2, date(2013, 3, 10), 10000), StatementRow(3, date(2013, 3, 20), -10000)]
    lines = [
        BookLine(1, 0, date(2013, 3, 10), "CL-1", "claim", "ClaimPaid", "2013-03", 1, 2, -10000),
        BookLine(2, 0, date(2013, 3, 16), "RC-1", "recovery", "RecoveryReceived", "2013-03", 2, 3, 10000),
    ]
    # Row 2 (in, 10 March) could only take RC-1 (a debit), 6 days away; row 3 (out, 20 March)
    # only CL-1 (a credit), 10 days away: with 3 days' tolerance nothing matches, with 10 both do.
    assert match(rows, lines, tolerance_days=3).matched == []
    assert [(m.statement.row, m.book.document_id) for m in match(rows, lines, tolerance_days=10).matched] == [
        (2, "RC-1"),
        (3, "CL-1"),
    ]
