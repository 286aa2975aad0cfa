"""One documented reading of amounts, dates and files (docs/documents.md §2–§3, §5).

Every input named in issue 9 §1 is here with its outcome, and others of the
same kind beside it: amounts outside the grammar, days the calendar does not
have, files in GBK / UTF-16 / with bad bytes, inputs past every limit,
spreadsheet leftovers, and facts no rule reads. Figures are worked by hand
in the comments. Tests that post run on SQLite and PostgreSQL.
"""

from __future__ import annotations

import io
import json

import pytest
from typer.testing import CliRunner

from ledger.aggregates.book import BookKey, book_id
from ledger.cli import app
from ledger.documents import MAXIMUM_FIELDS, read_document
from ledger.errors import DocumentFormatError, FenPrecisionError, LedgerError
from ledger.json_input import MAXIMUM_NESTING
from ledger.money import FenFractionError, MoneyFormatError, parse_yuan
from ledger.policy.facts import Facts, UndeclaredFactError, UnknownFactError, reads
from ledger.projections import queries
from ledger.reader import MAXIMUM_CSV_COLUMNS, MAXIMUM_LINE_BYTES, read_records
from ledger.reconcile import parse_statement

runner = CliRunner()
HEADER = "id,type,date,region,scheme,tier,amount,memo"


def contribution(document_id: str, amount: object = "100.00", **fields: object) -> dict:
    return {"id": document_id, "type": "contribution", "date": "2015-03-10", "region": "500101", "scheme": "resident",
            "tier": 1, "amount": amount, **fields}


def jsonl(*documents: dict) -> str:
    return "".join(json.dumps(d, ensure_ascii=False) + "\n" for d in documents)


def records(data: str | bytes, file_format: str = "jsonl", encoding: str | None = None) -> list:
    stream = io.BytesIO(data) if isinstance(data, bytes) else io.BytesIO(data.encode("utf-8"))
    return list(read_records(stream, file_format, "test", encoding))


def only(data: str | bytes, file_format: str = "jsonl", encoding: str | None = None):
    (record,) = records(data, file_format, encoding)
    return record


def refusal(data: str | bytes, file_format: str = "jsonl", encoding: str | None = None) -> LedgerError:
    record = only(data, file_format, encoding)
    assert record.error is not None, f"accepted: {record.document}"
    return record.error


def post_file(path: str, store_url: str, *options: str):
    return runner.invoke(app, ["post", path, "--db", store_url, "--quiet", *options])


def balance_fen(ledger, account: str, region: str = "500101", scheme: str = "resident", year: int = 2015) -> int:
    ledger.projector.catch_up()
    rows = queries.book_balances(ledger.engine, book_id(BookKey(region, scheme, year)).hex, account)
    return sum(row.balance_fen for row in rows)


# ---------------------------------------------------------------- amounts: the grammar


@pytest.mark.parametrize(
    "text,fen",
    [
        ("1234.56", 123456),
        ("50", 5000),
        ("50.5", 5050),  # one decimal: 50.50
        ("0.01", 1),
        ("0", 0),
        ("-12.30", -1230),  # the grammar has a sign; callers that take none refuse it by their own rule
        (" 12.30 ", 1230),  # spaces around are removed
        ("1,234.56", 123456),  # thousands separators in groups of three
        ("12,345,678.90", 1234567890),
        ("10,000,000,000,000.00", 10**15),  # the largest amount: ten trillion yuan
        ("１２３．４５", 12345),  # full-width digits and point, as a Chinese input method types them
        ("１，２３４．５０", 123450),  # full-width comma in its place
        ("－５", -500),
    ],
)
def test_amounts_in_the_grammar_are_read_to_the_fen(text, fen):
    assert parse_yuan(text) == fen


@pytest.mark.parametrize(
    "text,says",
    [
        ("1.23457E+11", "exponent"),  # Excel's display of 123,456,789,012.34 in a narrow cell
        ("1E5", "exponent"),
        ("1e-2", "exponent"),
        ("1,23", "comma"),  # a decimal comma: today read as 123.00
        ("1,2345", "comma"),
        ("12,34,567", "comma"),  # groups of two (lakh) are not groups of three
        (",123", "comma"),
        ("1_000", "underscore"),
        ("١٢٣", "digits other than 0–9"),  # Arabic-Indic digits
        ("१२३", "digits other than 0–9"),  # Devanagari digits
        ("12.300", "more than two decimals"),
        ("1.2.3", "not an amount"),
        ("1.", "not an amount"),
        (".5", "not an amount"),
        ("007", "leading zeros"),
        ("+5", "not an amount"),
        ("- 5", "not an amount"),
        ("1 234", "not an amount"),
        ("1\u00a0234", "not an amount"),  # a no-break space as separator
        ("NaN", "not an amount"),
        ("Infinity", "not an amount"),
        ("", "not an amount"),
        ("123456789012345", "more than 14 digits"),
        ("10000000000000.01", "larger than any fund"),
        pytest.param("9" * 5000, "too long", id="5000 digits"),  # never turned into a number
    ],
)
def test_amounts_outside_the_grammar_are_refused_saying_why(text, says):
    with pytest.raises(MoneyFormatError) as raised:
        parse_yuan(text)
    assert says in str(raised.value)
    assert len(str(raised.value)) < 300, "the message quotes a long value in full"


def test_a_fraction_of_a_fen_is_its_own_error():
    with pytest.raises(FenFractionError, match="whole number of fen"):
        parse_yuan("12.345")
    # Trailing zeros are whole fen but still outside the grammar, and not a fraction of a fen.
    with pytest.raises(MoneyFormatError) as raised:
        parse_yuan("12.300")
    assert not isinstance(raised.value, FenFractionError)


@pytest.mark.parametrize("value", [12.5, True, None, [1], 10**13 + 1, 10**5000], ids=["float", "bool", "None", "list", "too large", "5000 digits"])
def test_values_that_are_not_amounts_are_refused(value):
    with pytest.raises(MoneyFormatError):
        parse_yuan(value)


# ---------------------------------------------------------------- amounts: every place that reads one


@pytest.mark.parametrize(
    "amount_json,says",
    [
        ('"1.23457E+11"', "exponent"),
        ('"1,23"', "comma"),
        ("1E5", "exponent"),  # a JSON number written with an exponent
        ("1.5e2", "exponent"),
        ("100.505", "whole number of fen"),
        pytest.param("1" * 5000, "too long", id="JSON number of 5000 digits"),
        pytest.param('"' + "1" * 5000 + '"', "too long", id="text of 5000 digits"),
        ("NaN", "not a JSON value"),
        ("Infinity", "not a JSON value"),
    ],
)
def test_a_document_amount_outside_the_grammar_is_refused_naming_the_field(amount_json, says):
    line = json.dumps(contribution("C-1", "PLACEHOLDER")).replace('"PLACEHOLDER"', amount_json) + "\n"
    error = refusal(line)
    assert says in str(error)
    if "JSON value" not in says:
        assert (error.document_id, error.field) == ("C-1", "amount")


def test_json_numbers_are_read_as_written_never_as_floats():
    # 100.50 as a JSON number is 10,050 fen exactly; 100 is whole yuan.
    assert only(jsonl(contribution("C-1")).replace('"100.00"', "100.50")).document["amount"] == 10050
    assert only(jsonl(contribution("C-2", 100))).document["amount"] == 10000


def test_the_document_content_of_a_json_number_is_unchanged():
    """A document posted before this reading has the same content now, so re-sending it is still a duplicate."""
    as_number = only(jsonl(contribution("C-1")).replace('"100.00"', "100.50")).document
    as_text = only(jsonl(contribution("C-1", "100.50"))).document
    assert as_number.content_hash() == as_text.content_hash()


def test_grouping_commas_and_full_width_digits_read_in_a_csv_cell():
    rows = f'{HEADER}\nC-1,contribution,2015-03-10,500101,resident,1,"1,234.56",\nC-2,contribution,2015-03-10,500101,resident,1,１２３．４５,\n'
    first, second = records(rows, "csv")
    assert first.document["amount"] == 123456
    assert second.document["amount"] == 12345


def test_a_misplaced_comma_in_a_csv_cell_is_refused():
    error = refusal(f'{HEADER}\nC-1,contribution,2015-03-10,500101,resident,1,"1,23",\n', "csv")
    assert (error.document_id, error.field) == ("C-1", "amount") and "comma" in str(error)


def test_a_journal_line_amount_outside_the_grammar_is_refused_naming_the_line():
    journal = {"id": "J-1", "type": "journal", "date": "2015-03-10", "region": "500101", "scheme": "worker",
               "purpose": "调整", "postings": [{"account": "1101", "debit": "1E5"}, {"account": "1004", "credit": "100000.00"}]}
    with pytest.raises(DocumentFormatError) as raised:
        read_document(journal)
    assert raised.value.field == "postings[1].debit" and "exponent" in str(raised.value)
    journal["postings"][0]["debit"] = "0.001"
    with pytest.raises(FenPrecisionError):
        read_document(journal)


def test_a_money_fact_outside_the_grammar_is_refused_naming_the_fact():
    with pytest.raises(DocumentFormatError) as raised:
        Facts({"covered_cost": "1,23"}, "K-1").money("covered_cost")
    assert raised.value.field == "facts.covered_cost" and "comma" in str(raised.value)
    assert Facts({"covered_cost": "25,000.00"}).money("covered_cost") == 2_500_000


def test_a_bank_statement_reads_amounts_by_the_same_grammar():
    text = "日期,摘要,金额,余额\n2013-03-01,来款,\"4,558,402.00\",\"4,558,402.00\"\n2013-03-02,来款,1.23457E+11,\n2013-03-03,来款,\"1,23\",\n"
    statement, errors = parse_statement(text, "bank.csv")
    assert [row.amount_fen for row in statement.rows] == [455840200]
    assert len(errors) == 2
    assert "exponent" in str(errors[0]) and "row 3" in str(errors[0])
    assert "comma" in str(errors[1]) and "row 4" in str(errors[1])


# ---------------------------------------------------------------- dates


@pytest.mark.parametrize(
    "written,says",
    [
        ("2015-02-30", "not a day of the calendar: 2015-02 has 28 days"),
        ("2016-02-30", "not a day of the calendar: 2016-02 has 29 days"),
        ("2015-04-31", "not a day of the calendar: 2015-04 has 30 days"),
        ("2015-13-01", "not a day of the calendar: there is no month 13"),
        ("2015-00-10", "not a day of the calendar: there is no month 0"),
        ("2015-03-00", "not a day of the calendar"),
        ("2015/03/10", "not a date written YYYY-MM-DD"),
        ("20150310", "not a date written YYYY-MM-DD"),
        ("2015-3-10", "not a date written YYYY-MM-DD"),
        ("２０１５-０３-１０", "not a date written YYYY-MM-DD"),
    ],
)
def test_a_date_that_is_no_day_is_told_apart_from_one_written_wrong(written, says):
    error = refusal(jsonl(contribution("C-1", date=written)))
    assert (error.document_id, error.field) == ("C-1", "date")
    assert says in str(error)


def test_a_fact_date_and_a_statement_date_are_read_the_same_way():
    with pytest.raises(DocumentFormatError, match="not a day of the calendar"):
        Facts({"paid_on": "2015-02-30"}).date("paid_on")
    _statement, errors = parse_statement("date,amount\n2013-02-30,1.00\n", "bank.csv")
    assert "not a day of the calendar: 2013-02 has 28 days" in str(errors[0])



@pytest.mark.parametrize(
    "command",
    [
        ["balance", "500101", "resident", "2015", "--as-of", "{date}"],
        ["trace", "--region", "500101", "--scheme", "resident", "--year", "2015", "--account", "1002", "--from", "{date}"],
        ["statement", "show", "--form", "02", "--region", "500101", "--scheme", "resident", "--year", "2015", "--as-of", "{date}"],
        ["policy", "show", "500101", "{date}"],
    ],
    ids=["balance --as-of", "trace --from", "statement --as-of", "policy show"],
)
@pytest.mark.parametrize(
    "written,says",
    [("2015-02-30", "not a day of the calendar: 2015-02 has 28 days"), ("20150310", "not a date written YYYY-MM-DD")],
)
def test_a_date_given_on_the_command_line_is_read_as_documents_read_it(tmp_path, command, written, says):
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    first = tmp_path / "first.jsonl"
    first.write_text(jsonl(contribution("C-1", date="2015-03-10")) + "\n", encoding="utf-8")
    assert runner.invoke(app, ["post", str(first), "--db", url]).exit_code == 0
    database = [] if command[0] == "policy" else ["--db", url]
    result = runner.invoke(app, [part.replace("{date}", written) for part in command] + database)
    assert result.exit_code != 0
    assert says in " ".join(result.output.split())
    assert "Traceback" not in result.output


# ---------------------------------------------------------------- encodings

GBK_EXAMPLE = f"{HEADER}\nG-1,contribution,2015-03-10,500101,resident,1,100,街道\n"


def test_the_issue_s_gbk_csv_posts(store_url, tmp_path, ledger):
    path = tmp_path / "g.csv"
    path.write_bytes(GBK_EXAMPLE.encode("gbk"))
    result = post_file(str(path), store_url)
    assert result.exit_code == 0, result.output
    assert "posted 1 documents" in result.output
    # 100 yuan into the income account 1002.
    assert balance_fen(ledger, "1002") == 10000


@pytest.mark.parametrize(
    "name,data,encoding",
    [
        ("GBK", GBK_EXAMPLE.encode("gbk"), None),
        ("GB18030", GBK_EXAMPLE.replace("街道", "街道𠀀").encode("gb18030"), None),  # a character beyond GBK
        ("UTF-8", GBK_EXAMPLE.encode("utf-8"), None),
        ("UTF-8 with BOM", GBK_EXAMPLE.encode("utf-8-sig"), None),
        ("UTF-16 LE with BOM", GBK_EXAMPLE.encode("utf-16"), None),
        ("UTF-16 BE with BOM", b"\xfe\xff" + GBK_EXAMPLE.encode("utf-16-be"), None),
        ("UTF-16 LE with CRLF", GBK_EXAMPLE.replace("\n", "\r\n").encode("utf-16"), None),
        ("GBK named", GBK_EXAMPLE.encode("gbk"), "gbk"),
        ("UTF-16 LE named, without BOM", GBK_EXAMPLE.encode("utf-16-le"), "utf-16-le"),
    ],
)
def test_a_whole_file_in_each_encoding_is_read(name, data, encoding):
    record = only(data, "csv", encoding)
    assert record.error is None, record.error
    assert record.document.id == "G-1"
    assert record.document["memo"].startswith("街道")


def test_ascii_lines_do_not_vote_and_a_gbk_line_makes_the_file_gb18030():
    # 3 ASCII lines read alike in both and do not vote; line 5, the only voter, is GBK: GB18030 it is.
    lines = [HEADER] + [f"A-{n},contribution,2015-03-10,500101,resident,1,1,plain" for n in range(3)]
    data = ("\n".join(lines) + "\n").encode("ascii") + "G-1,contribution,2015-03-10,500101,resident,1,1,街道\n".encode("gbk")
    assert [r.document["memo"] for r in records(data, "csv")] == ["plain", "plain", "plain", "街道"]


def test_a_damaged_line_at_the_top_does_not_turn_a_utf8_file_into_gb18030():
    # Line 2 carries GBK bytes (valid GB18030, not UTF-8); lines 3-5 are UTF-8 Chinese. Three of four
    # non-ASCII lines are UTF-8, so the file is UTF-8: line 2 is refused and the memos after it read right.
    gbk_line = "B-1,contribution,2015-03-10,500101,resident,1,1,街道办事处\n".encode("gbk")
    utf8_lines = "".join(f"U-{n},contribution,2015-03-10,500101,resident,1,1,街道{n}\n" for n in range(3)).encode("utf-8")
    read = records(f"{HEADER}\n".encode("ascii") + gbk_line + utf8_lines, "csv")
    assert read[0].error is not None and "not valid UTF-8 text" in str(read[0].error)
    assert "as 3 of its 4 lines with non-ASCII text are" in str(read[0].error)
    assert [r.document["memo"] for r in read[1:]] == ["街道0", "街道1", "街道2"]


def test_standard_input_votes_on_the_whole_input_too():
    gbk_lines = "".join(f"G-{n},contribution,2015-03-10,500101,resident,1,1,街道{n}\n" for n in range(3)).encode("gbk")

    class Unseekable(io.BufferedReader):
        def seekable(self) -> bool:
            return False

    stream = Unseekable(io.BytesIO(f"{HEADER}\n".encode("ascii") + gbk_lines))
    read = list(read_records(stream, "csv", "test"))
    assert [r.document["memo"] for r in read] == ["街道0", "街道1", "街道2"]


@pytest.mark.parametrize("character", ["\x00", "\x1b", "\x7f", "\x85"])
def test_a_control_character_in_text_is_refused_naming_the_field(character):
    error = refusal(jsonl(contribution("C-1", memo=f"街道{character}办事处")))
    assert (error.document_id, error.field) == ("C-1", "memo")
    assert f"U+{ord(character):04X} at character 3" in str(error)
    kept = only(jsonl(contribution("C-2", memo="两行\t说明\r\n第二行")).encode("utf-8"))
    assert kept.error is None


def test_a_line_not_valid_in_the_file_s_encoding_is_refused_with_its_number_and_the_rest_is_read():
    good = jsonl(contribution("C-1", memo="街道"))  # UTF-8 Chinese: the file is UTF-8
    data = good.encode("utf-8") + b'{"id": "C-2", "memo": "caf\xe9"}\n' + jsonl(contribution("C-3")).encode("utf-8")
    first, second, third = records(data)
    assert first.document.id == "C-1" and third.document.id == "C-3"
    assert second.line == 2 and "not valid UTF-8 text" in str(second.error) and "as 1 of its 2 lines with non-ASCII text are" in str(second.error)
    assert "--encoding" in str(second.error)


def test_a_non_utf8_byte_after_2000_good_lines_is_one_refused_line():
    good = jsonl(*(contribution(f"C-{n}", memo="街道") for n in range(1, 2001))).encode("utf-8")
    data = good + b'{"id": "C-2001", "memo": "\xff"}\n' + jsonl(contribution("C-2002")).encode("utf-8")
    read = records(data)
    assert len(read) == 2002
    refused = [r for r in read if r.error is not None]
    assert [r.line for r in refused] == [2001]
    assert read[-1].document.id == "C-2002"


def test_a_bad_byte_posts_the_good_lines_and_ends_with_the_summary(store_url, tmp_path, ledger):
    good = jsonl(*(contribution(f"C-{n}", "1.00") for n in range(1, 21))).encode("utf-8")
    path = tmp_path / "bad-byte.jsonl"
    path.write_bytes(good + b'{"id": "C-21", "memo": "\xff"}\n' + jsonl(contribution("C-22", "1.00")).encode("utf-8"))
    result = post_file(str(path), store_url)
    assert result.exit_code == 1
    assert "posted 21 documents (42 postings), 0 duplicates skipped, 1 rejected" in result.output
    assert "Traceback" not in result.output
    assert balance_fen(ledger, "1002") == 2100  # 21 × 1.00


def test_a_csv_line_in_a_wrong_encoding_is_refused_and_the_next_rows_read():
    data = (HEADER + "\nC-1,contribution,2015-03-10,500101,resident,1,1,街道\n").encode("utf-8")
    data += "C-2,contribution,2015-03-10,500101,resident,1,1,街道\n".encode("gbk")
    data += b"C-3,contribution,2015-03-10,500101,resident,1,1,x\n"
    first, second, third = records(data, "csv")
    assert first.document.id == "C-1" and third.document.id == "C-3"
    assert second.line == 3 and "not valid UTF-8" in str(second.error)


def test_an_unknown_encoding_is_refused_before_anything_is_read(store_url, tmp_path):
    path = tmp_path / "g.csv"
    path.write_bytes(GBK_EXAMPLE.encode("gbk"))
    result = post_file(str(path), store_url, "--encoding", "klingon")
    assert result.exit_code == 2 and "unknown encoding" in result.output


def test_a_named_encoding_is_used(store_url, tmp_path, ledger):
    path = tmp_path / "g.csv"
    path.write_bytes(GBK_EXAMPLE.encode("gbk"))
    result = post_file(str(path), store_url, "--encoding", "gbk")
    assert result.exit_code == 0, result.output
    assert balance_fen(ledger, "1002") == 10000


# ---------------------------------------------------------------- limits: no input raises


def test_facts_nested_100000_levels_are_a_refused_line_naming_document_and_field():
    deep = "[" * 100_000 + "]" * 100_000
    line = '{"id": "K-1", "type": "claim", "facts": {"x": ' + deep + "}}\n"
    error = refusal(line)
    assert (error.document_id, error.field) == ("K-1", "facts")
    assert f"nested more than {MAXIMUM_NESTING} levels" in str(error)
    # The id may come after the deep part: it is still found.
    error = refusal('{"facts": ' + deep + ', "id": "K-2"}\n')
    assert (error.document_id, error.field) == ("K-2", "facts")
    # A document that is only a deep array names no field.
    assert "nested" in str(refusal(deep + "\n"))


def test_facts_nested_deep_in_a_csv_cell_are_refused():
    deep = '"{""x"": ' + "[" * 100_000 + "]" * 100_000 + '}"'
    error = refusal(f"id,type,date,region,scheme,tier,category,facts\nK-1,claim,2015-03-10,500101,resident,1,inpatient,{deep}\n", "csv")
    assert (error.document_id, error.field) == ("K-1", "facts") and "nested" in str(error)


def test_nesting_within_the_limit_is_read_as_before():
    """A facts value that is an object is refused by its own rule, not by the nesting limit."""
    error = refusal(jsonl(contribution("C-1", facts={"urban": {"a": 1}})))
    assert error.field == "facts.urban" and "plain values" in str(error)


def test_an_overlong_line_is_refused_and_the_next_line_read():
    long_memo = "x" * (MAXIMUM_LINE_BYTES + 10)
    data = jsonl(contribution("C-1", memo=long_memo), contribution("C-2"))
    first, second = records(data)
    assert first.line == 1 and f"longer than {MAXIMUM_LINE_BYTES:,} bytes" in str(first.error)
    assert second.document.id == "C-2"
    csv_data = f"{HEADER}\nC-1,contribution,2015-03-10,500101,resident,1,1,{long_memo}\nC-2,contribution,2015-03-10,500101,resident,1,1,\n"
    first, second = records(csv_data, "csv")
    assert first.line == 2 and "longer than" in str(first.error)
    assert second.document.id == "C-2"


@pytest.mark.parametrize("column,says", [("memo", "longer than 500 characters"), ("amount", "too long"), ("region", "not a six-digit")])
def test_a_csv_cell_over_128_kib_is_refused_naming_the_field(column, says):
    big = "1" * (200 * 1024)
    row = {"id": "C-1", "type": "contribution", "date": "2015-03-10", "region": "500101", "scheme": "resident",
           "tier": "1", "amount": "1", "memo": "", column: big}
    error = refusal(f"{HEADER}\n" + ",".join(row[name] for name in HEADER.split(",")) + "\n", "csv")
    assert (error.document_id, error.field) == ("C-1", column)
    assert says in str(error) and len(str(error)) < 400


def test_numbers_of_5000_digits_are_refused_in_every_field_that_counts():
    for field in ("persons", "tier"):
        error = refusal(jsonl(contribution("C-1")).replace('"tier": 1', f'"{field}": {"7" * 5000}' + (', "tier": 1' if field != "tier" else "")))
        assert error.field == field and len(str(error)) < 400
    with pytest.raises(DocumentFormatError):
        Facts({"urban": "7" * 5000}).count("urban")


def test_too_many_fields_are_refused():
    wide = contribution("C-1", **{f"x{n}": "1" for n in range(MAXIMUM_FIELDS)})
    assert f"at most {MAXIMUM_FIELDS}" in str(refusal(jsonl(wide)))
    header = ",".join(f"c{n}" for n in range(MAXIMUM_CSV_COLUMNS + 1))
    error = refusal(header + "\n" + "," * MAXIMUM_CSV_COLUMNS + "1\n", "csv")
    assert f"at most {MAXIMUM_CSV_COLUMNS}" in str(error) and "no row of the file was read" in str(error)


def test_long_fact_names_and_values_are_refused():
    assert refusal(jsonl(contribution("C-1", facts={"x" * 65: 1}))).field == "facts"
    assert refusal(jsonl(contribution("C-1", facts={"urban": "1" * 501}))).field == "facts.urban"


def test_a_lone_surrogate_is_refused_not_stored():
    error = refusal(jsonl(contribution("C-1")).replace('"tier"', '"memo": "\\udc80", "tier"'))
    assert (error.document_id, error.field) == ("C-1", "memo")


def test_the_cli_ends_every_malformed_file_with_its_summary(store_url, tmp_path):
    lines = [
        '{"id": "K-1", "facts": ' + "[" * 100_000 + "]" * 100_000 + "}",
        json.dumps(contribution("C-1", "1" * 5000)),
        json.dumps(contribution("C-2", "1.00")),
        '{"id": "C-3", "amount": NaN}',
        "[1, 2]",
    ]
    path = tmp_path / "malformed.jsonl"
    path.write_bytes(("\n".join(lines) + "\n").encode("utf-8") + b"\xff\xfe\n")
    result = post_file(str(path), store_url)
    assert result.exit_code == 1
    assert "posted 1 documents (2 postings), 0 duplicates skipped, 5 rejected" in result.output


# ---------------------------------------------------------------- spreadsheet leftovers


def test_a_row_of_empty_cells_is_blank():
    read = records(f"{HEADER}\n,,,,,,,\nC-1,contribution,2015-03-10,500101,resident,1,1,\n ,  ,,,,,,\n,,,,,,,,,,\n", "csv")
    assert [r.document.id for r in read] == ["C-1"]


def test_header_names_are_read_in_any_case_with_spaces_and_a_bom_around():
    header = "\ufeffID , Type,DATE,Region,Scheme,Tier,Amount,Memo "
    record = only(f"{header}\nC-1,contribution,2015-03-10,500101,resident,1,1,x\n", "csv")
    assert record.document.id == "C-1" and record.document["amount"] == 100


def test_an_unknown_column_is_refused_naming_it_and_the_nearest_field():
    error = refusal(f"{HEADER.replace('amount', 'amout')}\nC-1,contribution,2015-03-10,500101,resident,1,1,\n", "csv")
    assert (error.document_id, error.field) == ("C-1", "amout") and "did you mean 'amount'" in str(error)


def test_an_upper_case_json_key_is_refused_naming_it_not_as_a_missing_id():
    error = refusal('{"ID": "C-1", "type": "contribution"}\n')
    assert error.field == "ID" and "did you mean 'id'" in str(error)


def test_a_header_naming_a_field_twice_is_refused_and_no_row_read():
    error = refusal(f"{HEADER},Amount\nC-1,contribution,2015-03-10,500101,resident,1,1,,2\n", "csv")
    assert "names the field 'amount' twice (columns 7 and 9)" in str(error)


def test_empty_trailing_columns_are_leftovers_but_a_cell_without_a_header_is_refused():
    assert only(f"{HEADER},,\nC-1,contribution,2015-03-10,500101,resident,1,1,,,\n", "csv").document.id == "C-1"
    assert only(f"{HEADER}\nC-1,contribution,2015-03-10,500101,resident,1,1,,,,\n", "csv").document.id == "C-1"
    assert "without a name" in str(refusal(f"{HEADER},\nC-1,contribution,2015-03-10,500101,resident,1,1,,oops\n", "csv"))
    assert "beyond the header" in str(refusal(f"{HEADER}\nC-1,contribution,2015-03-10,500101,resident,1,1,,oops\n", "csv"))


def test_a_file_without_a_header_is_refused_once():
    error = refusal("C-1,contribution,2015-03-10,500101,resident,1,1,\n", "csv")
    assert "neither an id nor a type column" in str(error)


# ---------------------------------------------------------------- facts no rule reads

LEVEL_3_CLAIM = {"id": "K-1", "type": "claim", "date": "2015-05-01", "region": "500101", "scheme": "resident", "tier": 1,
                 "category": "inpatient",
                 "facts": {"person": "P-1", "hospital_level": "3", "covered_cost": "20000.00", "out_of_distrct": True, "aproved": False}}
FUNDING = [
    {"id": "S-1", "type": "subsidy", "date": "2015-01-10", "region": "500101", "scheme": "resident", "tier": 1,
     "level": "central", "amount": "300000.00"},
    {"id": "T-1", "type": "transfer", "date": "2015-01-11", "region": "500101", "scheme": "resident",
     "from": "fiscal", "to": "payment", "amount": "300000.00"},
]


def test_misspelt_facts_on_a_level_3_claim_are_refused_and_nothing_is_paid(ledger):
    outcomes = list(ledger.post(read_document(d) for d in [*FUNDING, LEVEL_3_CLAIM]))
    claim = outcomes[-1]
    assert claim.status == "rejected"
    assert isinstance(claim.error, UnknownFactError)
    # The first unknown fact alphabetically, with the nearest fact the rule reads.
    assert claim.error.field == "facts.aproved" and "did you mean 'approved'" in str(claim.error)
    assert balance_fen(ledger, "5001") == 0
    # Spelt right, the penalty applies: deductible 800.00 × 1.05 = 840.00, rate 40% − 5 = 35%:
    # (20,000.00 − 840.00) × 35% = 6,706.00.
    corrected = {**LEVEL_3_CLAIM, "facts": {"person": "P-1", "hospital_level": "3", "covered_cost": "20000.00",
                                            "out_of_district": True, "approved": False}}
    (outcome,) = ledger.post([read_document(corrected)])
    assert outcome.status == "posted", outcome.error
    assert balance_fen(ledger, "5001") == 670600


def test_the_other_misspelling_is_named_once_the_first_is_corrected():
    from ledger.policy.rules.claims import inpatient

    facts = Facts({"tier": 1, "hospital_level": "3", "covered_cost": "20000.00", "out_of_distrct": True, "approved": False})
    with pytest.raises(UnknownFactError) as raised:
        inpatient(facts, None, 0)
    assert raised.value.field == "facts.out_of_distrct" and "did you mean 'out_of_district'" in str(raised.value)


def test_a_fact_of_another_rule_is_refused():
    from ledger.policy.rules.claims import maternity

    with pytest.raises(UnknownFactError) as raised:
        maternity(Facts({"prenatal": True, "covered_cost": "100.00"}), None)
    assert raised.value.field == "facts.covered_cost" and "claims.maternity" in str(raised.value)


def test_a_grant_with_a_misspelt_fact_is_refused():
    from ledger.policy.engine import _check_grant

    grant = read_document({"id": "G-1", "type": "grant", "date": "2013-06-30", "region": "500101", "scheme": "resident",
                           "tier": 1, "amount": "100.00", "facts": {"met_target": False}})
    with pytest.raises(UnknownFactError) as raised:
        _check_grant(grant, None)
    assert raised.value.field == "facts.met_target" and "did you mean 'met_targets'" in str(raised.value)


def test_a_rule_that_reads_a_fact_it_does_not_declare_is_a_defect_named_as_such():
    @reads("a")
    def rule(facts: Facts) -> bool:
        return facts.flag("b")

    with pytest.raises(UndeclaredFactError, match="read facts.b without declaring it"):
        rule(Facts({"a": True}, "D-1"))
    with pytest.raises(UnknownFactError):
        rule(Facts({"b": True}, "D-1"))


# ---------------------------------------------------------------- the documented grammar is the code's


def test_the_schema_s_yuan_pattern_is_the_grammar_parse_yuan_reads():
    import re
    from pathlib import Path

    schema = json.loads((Path(__file__).resolve().parent.parent / "docs" / "document.schema.json").read_text(encoding="utf-8"))
    pattern = re.compile(schema["$defs"]["yuan"]["pattern"])
    samples = ["1234.56", "50", "50.5", "0", "0.01", "-12.30", "1,234.56", "12,345,678.90", "99,999,999,999,999.99",
               "1.23457E+11", "1E5", "1,23", "1,2345", "12,34,567", ",123", "1_000", "١٢٣", "12.300", "12.345",
               "1.2.3", "1.", ".5", "007", "+5", "1 234", "123456789012345"]
    for text in samples:
        try:
            parse_yuan(text)
            read = True
        except MoneyFormatError as error:
            read = "is larger than any fund" in str(error)  # in the grammar; above the cap on value, which no pattern states
        assert bool(pattern.fullmatch(text)) == read, text
