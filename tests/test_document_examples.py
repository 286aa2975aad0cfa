"""The documentation of the input format agrees with the code.

Every ```json block of docs/documents.md is a document line; each must pass
the JSON Schema in docs/document.schema.json and be accepted by
``ledger.documents.read_document``, and every document type must have one.
Invalid documents must be refused by both. The schema's field lists and
choices are compared with ``SPECS`` and the chart of accounts, so neither can
change without the other. None of this needs a database, except the last
test, which posts the examples in order into a throwaway SQLite file to prove
they tell one consistent story.
"""

from __future__ import annotations

import csv
import io
import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from ledger import accounts as chart
from ledger.aggregates.book import BookKey
from ledger.documents import (
    ADMINISTRATIVE_TERMS_CHINESE,
    ADMINISTRATIVE_WORDS_ENGLISH,
    COMPUTABLE_TYPES,
    DOCUMENT_TYPES,
    ENVELOPE,
    MAXIMUM_FACTS,
    MAXIMUM_ID_LENGTH,
    MAXIMUM_JOURNAL_LINES,
    MAXIMUM_TEXT_LENGTH,
    SPECS,
    Document,
    plan,
    read_document,
)
from ledger.errors import (
    AccountFlowError,
    AdministrativeCostError,
    DocumentFormatError,
    FenPrecisionError,
    LedgerError,
    NonPositiveAmountError,
    TierError,
    UnknownAccountError,
)
from ledger.postings import check_balanced, check_lines

DOCS = Path(__file__).resolve().parent.parent / "docs"
DOCUMENTS_MD = DOCS / "documents.md"
SCHEMA_PATH = DOCS / "document.schema.json"

# Documents that need the store to plan (they read what earlier documents wrote).
PLANNED_BY_APPLICATION = ("reversal", "year_close", "merger", "month_close", "period_reopen")


def _fenced_blocks(language: str) -> list[str]:
    text = DOCUMENTS_MD.read_text(encoding="utf-8")
    return re.findall(rf"^```{language}\n(.*?)^```", text, flags=re.DOTALL | re.MULTILINE)


def _load(line: str) -> dict[str, Any]:
    # The same parsing as ledger/reader.py: JSON numbers become exact decimals, never floats.
    return json.loads(line, parse_float=Decimal)


def _json_examples() -> list[dict[str, Any]]:
    return [_load(line) for block in _fenced_blocks("json") for line in block.splitlines() if line.strip()]


def _csv_rows() -> list[dict[str, str]]:
    """The CSV example's rows as the reader sees them: empty cells are absent fields."""
    rows = []
    for block in _fenced_blocks("csv"):
        for row in csv.DictReader(io.StringIO(block)):
            rows.append({key.strip(): value for key, value in row.items() if key and value not in (None, "")})
    return rows


EXAMPLES = _json_examples()
CSV_ROWS = _csv_rows()
SCHEMA = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
VALIDATOR = Draft202012Validator(SCHEMA, format_checker=Draft202012Validator.FORMAT_CHECKER)


def _example_id(example: dict[str, Any]) -> str:
    return str(example.get("id"))


def _schema_errors(document: dict[str, Any]) -> list[str]:
    return [error.message for error in VALIDATOR.iter_errors(document)]


# ---------------------------------------------------------------- the examples


def test_the_page_has_examples_in_both_formats():
    assert len(EXAMPLES) >= len(DOCUMENT_TYPES)
    assert CSV_ROWS, "docs/documents.md has no ```csv example"


def test_each_json_block_is_one_document_line():
    for block in _fenced_blocks("json"):
        lines = [line for line in block.splitlines() if line.strip()]
        assert len(lines) == 1, f"a ```json block should hold one document line, found {len(lines)}:\n{block}"


def test_the_schema_is_a_valid_draft_2020_12_schema():
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(SCHEMA)


@pytest.mark.parametrize("example", EXAMPLES, ids=_example_id)
def test_example_validates_against_the_schema(example):
    assert _schema_errors(example) == []


@pytest.mark.parametrize("example", EXAMPLES, ids=_example_id)
def test_example_is_accepted_by_read_document(example):
    document = read_document(example)
    assert document.type == example["type"]
    assert document.id == example["id"]


@pytest.mark.parametrize(
    "example", [e for e in EXAMPLES if e["type"] not in PLANNED_BY_APPLICATION and "facts" not in e], ids=_example_id
)
def test_example_plans_into_balanced_postings_on_chart_accounts(example):
    """What a book checks before any balance is known: accounts, tiers, debits equal credits.

    A document with facts is planned only after the policy engine has read the
    store (a person's cap, a household's tier, a district's remittances); its
    postings are checked by posting it, in the last test.
    """
    for entry in plan(read_document(example)):
        errors = check_lines(entry.book.scheme, entry.postings) + check_balanced(entry.postings)
        assert errors == [], f"{entry.book}: {[str(e) for e in errors]}"


def test_every_document_type_has_an_example():
    shown = {example["type"] for example in EXAMPLES}
    missing = [kind for kind in DOCUMENT_TYPES if kind not in shown]
    assert missing == [], f"docs/documents.md has no ```json example of {missing}"


def test_every_document_type_has_a_section():
    text = DOCUMENTS_MD.read_text(encoding="utf-8")
    missing = [kind for kind in DOCUMENT_TYPES if f"\n### {kind}\n" not in text]
    assert missing == []


def test_example_ids_are_unique():
    ids = [example["id"] for example in EXAMPLES] + [row["id"] for row in CSV_ROWS]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("row", CSV_ROWS, ids=_example_id)
def test_csv_example_row_is_accepted(row):
    document = read_document(row)
    assert document.type == row["type"]
    # The same row as a JSON line passes the schema once the JSON text of the postings and facts cells is decoded.
    as_json = dict(row)
    for cell in ("postings", "facts"):
        if cell in as_json:
            as_json[cell] = _load(as_json[cell])
    assert _schema_errors(as_json) == []


# ---------------------------------------------------------------- invalid documents

VALID_CONTRIBUTION = {
    "id": "WZ-2012-CT-9001",
    "type": "contribution",
    "date": "2012-01-16",
    "region": "500101",
    "scheme": "resident",
    "tier": 1,
    "amount": "12500.00",
}
VALID_JOURNAL = {
    "id": "WZ-2012-JN-9001",
    "type": "journal",
    "date": "2012-10-08",
    "region": "500101",
    "scheme": "resident",
    "purpose": "异地就医预付金",
    "postings": [{"account": "1101", "debit": "3000.00"}, {"account": "1004", "credit": "3000.00"}],
}


def _changed(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    document = {**base, **changes}
    return {key: value for key, value in document.items() if value is not None}


def _without(base: dict[str, Any], name: str) -> dict[str, Any]:
    return {key: value for key, value in base.items() if key != name}


INVALID = [
    ("unknown field", _changed(VALID_CONTRIBUTION, payment_method="cash"), DocumentFormatError),
    (
        "tier on a transfer",
        {**_changed(VALID_CONTRIBUTION, type="transfer"), "from": "income", "to": "fiscal", "tier": 1},
        DocumentFormatError,
    ),
    ("five-digit region", _changed(VALID_CONTRIBUTION, region="50010"), DocumentFormatError),
    ("region with letters", _changed(VALID_CONTRIBUTION, region="50010A"), DocumentFormatError),
    ("amount with three decimals", _changed(VALID_CONTRIBUTION, amount="12.345"), FenPrecisionError),
    ("missing amount", _without(VALID_CONTRIBUTION, "amount"), DocumentFormatError),
    ("missing scheme", _without(VALID_CONTRIBUTION, "scheme"), DocumentFormatError),
    ("missing date", _without(VALID_CONTRIBUTION, "date"), DocumentFormatError),
    ("zero amount", _changed(VALID_CONTRIBUTION, amount="0.00"), NonPositiveAmountError),
    ("negative amount", _changed(VALID_CONTRIBUTION, amount="-10.00"), NonPositiveAmountError),
    ("amount as text that is not a number", _changed(VALID_CONTRIBUTION, amount="ten yuan"), DocumentFormatError),
    ("unknown type", _changed(VALID_CONTRIBUTION, type="donation"), DocumentFormatError),
    ("impossible date", _changed(VALID_CONTRIBUTION, date="2012-02-30"), DocumentFormatError),
    ("date in another form", _changed(VALID_CONTRIBUTION, date="2012/01/16"), DocumentFormatError),
    ("tier 3", _changed(VALID_CONTRIBUTION, tier=3), DocumentFormatError),
    ("scheme outside the list", _changed(VALID_CONTRIBUTION, scheme="pension"), DocumentFormatError),
    ("id too long", _changed(VALID_CONTRIBUTION, id="X" * (MAXIMUM_ID_LENGTH + 1)), DocumentFormatError),
    ("id with a control character", _changed(VALID_CONTRIBUTION, id="WZ-2012\tCT-1"), DocumentFormatError),
    ("memo too long", _changed(VALID_CONTRIBUTION, memo="注" * (MAXIMUM_TEXT_LENGTH + 1)), DocumentFormatError),
    ("persons zero", _changed(VALID_CONTRIBUTION, persons=0), DocumentFormatError),
    ("into the payment account", _changed(VALID_CONTRIBUTION, into="payment"), DocumentFormatError),
    (
        "administrative purpose",
        {**VALID_JOURNAL, "purpose": "工作经费"},
        AdministrativeCostError,
    ),
    (
        "journal line with debit and credit",
        {**VALID_JOURNAL, "postings": [{"account": "1101", "debit": "1.00", "credit": "1.00"}]},
        DocumentFormatError,
    ),
    (
        "journal line with an unknown key",
        {**VALID_JOURNAL, "postings": [{"account": "1101", "debit": "1.00", "side": "Dr"}]},
        DocumentFormatError,
    ),
    (
        "journal line with three decimals",
        {**VALID_JOURNAL, "postings": [{"account": "1101", "debit": "0.001"}, {"account": "1004", "credit": "0.001"}]},
        FenPrecisionError,
    ),
    ("journal without lines", {**VALID_JOURNAL, "postings": []}, DocumentFormatError),
    (
        "year_close with a two-digit year",
        {"id": "YC-1", "type": "year_close", "region": "500101", "scheme": "resident", "year": "12"},
        DocumentFormatError,
    ),
]


def test_the_valid_bases_are_valid():
    for base in (VALID_CONTRIBUTION, VALID_JOURNAL):
        assert _schema_errors(base) == []
        read_document(base)


@pytest.mark.parametrize("document,error_class", [(d, e) for _, d, e in INVALID], ids=[n for n, _, _ in INVALID])
def test_invalid_document_is_refused_by_schema_and_reader(document, error_class):
    assert _schema_errors(document), "the schema accepted it"
    with pytest.raises(error_class):
        read_document(document)


def test_a_float_amount_is_refused_by_schema_and_reader():
    document = _changed(VALID_CONTRIBUTION, amount=12.5)
    assert _schema_errors(document)
    with pytest.raises(DocumentFormatError):
        read_document(document)


# Rules the schema states up front that the ledger enforces only when it posts:
# the reader accepts these documents, and planning or the book's line check refuses them.
REFUSED_WHEN_POSTING = [
    ("tier on a worker contribution", _changed(VALID_CONTRIBUTION, scheme="worker"), TierError),
    ("resident contribution without a tier", _without(VALID_CONTRIBUTION, "tier"), TierError),
    (
        "resident remittance without a tier (scheme defaults to resident)",
        {"id": "RM-1", "type": "remittance", "date": "2012-06-30", "region": "500101", "amount": "5344.00"},
        TierError,
    ),
    (
        "claim in the assistance book",
        {"id": "CL-1", "type": "claim", "date": "2012-04-10", "region": "500101", "scheme": "assistance",
         "category": "inpatient", "amount": "100.00"},
        UnknownAccountError,
    ),
    (
        "tier on a bank-account line of a resident journal",
        {**VALID_JOURNAL, "postings": [{"account": "1101", "debit": "1.00"}, {"account": "1004", "tier": 1, "credit": "1"}]},
        TierError,
    ),
    (
        "no tier on an expense line of a resident journal",
        {**VALID_JOURNAL, "postings": [{"account": "5001.01", "debit": "1.00"}, {"account": "1004", "credit": "1.00"}]},
        TierError,
    ),
    (
        "recovery with a category the assistance book does not have",
        {"id": "RC-1", "type": "recovery", "date": "2012-09-18", "region": "500101", "scheme": "assistance",
         "original_year": 2012, "category": "other", "amount": "560.00"},
        DocumentFormatError,
    ),
    (
        "recovery with an assistance category in a resident book",
        {"id": "RC-2", "type": "recovery", "date": "2012-09-18", "region": "500101", "scheme": "resident", "tier": 1,
         "original_year": 2012, "category": "major_disease", "amount": "560.00"},
        DocumentFormatError,
    ),
    (
        "transfer from the income account to the payment account",
        {"id": "TR-1", "type": "transfer", "date": "2012-01-31", "region": "500101", "scheme": "resident",
         "from": "income", "to": "payment", "amount": "100.00"},
        AccountFlowError,
    ),
]


def _posting_errors(document: Document) -> list[LedgerError]:
    try:
        entries = plan(document)
    except LedgerError as error:
        return [error]
    return [error for entry in entries for error in check_lines(entry.book.scheme, entry.postings)]


@pytest.mark.parametrize(
    "document,error_class",
    [(d, e) for _, d, e in REFUSED_WHEN_POSTING],
    ids=[name for name, _, _ in REFUSED_WHEN_POSTING],
)
def test_schema_refuses_what_posting_refuses(document, error_class):
    assert _schema_errors(document), "the schema accepted it"
    errors = _posting_errors(read_document(document))
    assert any(isinstance(error, error_class) for error in errors), [str(e) for e in errors]


# ---------------------------------------------------------------- the schema follows the code


def _branches() -> dict[str, dict[str, Any]]:
    branches = {}
    for reference in SCHEMA["oneOf"]:
        branch = SCHEMA["$defs"][reference["$ref"].rsplit("/", 1)[1]]
        branches[branch["properties"]["type"]["const"]] = branch
    return branches


def test_schema_has_one_branch_per_document_type():
    assert list(_branches()) == list(DOCUMENT_TYPES)
    assert SCHEMA["properties"]["type"]["enum"] == list(DOCUMENT_TYPES)


@pytest.mark.parametrize("kind", DOCUMENT_TYPES)
def test_schema_branch_lists_the_fields_of_specs(kind):
    required, optional = SPECS[kind]
    branch = _branches()[kind]
    assert set(branch["properties"]) == set(ENVELOPE) | set(required) | set(optional)
    date_field = set() if kind in ("year_close", "month_close", "period_reopen", "opening_balances") else {"date"}
    # The amount of a computable type may be left to the policy engine when facts are given;
    # the schema says so with anyOf (test_amount_may_be_left_to_the_facts checks it).
    computed = {"amount"} if kind in COMPUTABLE_TYPES else set()
    assert set(branch["required"]) == {"id", "type"} | date_field | (set(required) - computed)
    assert branch["additionalProperties"] is False


def _first_example(kind: str) -> dict[str, Any]:
    return next(example for example in EXAMPLES if example["type"] == kind)


@pytest.mark.parametrize("kind", sorted(COMPUTABLE_TYPES))
def test_amount_may_be_left_to_the_facts(kind):
    """Without facts the amount (and a subsidy's level) is required; with facts it may be left out."""
    bare = {key: value for key, value in _first_example(kind).items() if key not in ("amount", "level", "facts")}
    assert _schema_errors(bare), "the schema accepted a document with neither amount nor facts"
    with pytest.raises(DocumentFormatError):
        read_document(bare)
    with_facts = {**bare, "facts": {"note": "the rule's facts"}}
    assert _schema_errors(with_facts) == []
    assert "amount" not in read_document(with_facts).fields


def test_schema_choices_follow_the_chart_of_accounts():
    definitions = SCHEMA["$defs"]
    assert definitions["scheme"]["enum"] == list(chart.SCHEMES)
    assert set(definitions["bank_account"]["enum"]) == set(chart.BANK_ACCOUNT_NAMES) | chart.BANK_ACCOUNTS
    assert set(definitions["payer"]["enum"]) == set(chart.CONTRIBUTION_PAYERS)
    assert set(definitions["subsidy_level"]["enum"]) == set(chart.SUBSIDY_LEVELS)
    assert set(definitions["claim_category"]["enum"]) == set(chart.CLAIM_CATEGORIES)
    assert set(definitions["assistance_category"]["enum"]) == set(chart.ASSISTANCE_CATEGORIES)
    recovery_categories = set(chart.CLAIM_CATEGORIES) | set(chart.ASSISTANCE_CATEGORIES)
    assert set(definitions["recovery_category"]["enum"]) == recovery_categories
    assert definitions["account"]["enum"] == list(chart.CHART)


def test_schema_limits_follow_the_code():
    definitions = SCHEMA["$defs"]
    assert definitions["id"]["maxLength"] == MAXIMUM_ID_LENGTH
    assert definitions["text"]["maxLength"] == MAXIMUM_TEXT_LENGTH
    assert _branches()["journal"]["properties"]["postings"]["maxItems"] == MAXIMUM_JOURNAL_LINES
    assert definitions["facts"]["maxProperties"] == MAXIMUM_FACTS


def test_facts_are_plain_values_in_schema_and_reader():
    nested = _changed(VALID_CONTRIBUTION, facts={"household": {"id": "H-1"}})
    assert _schema_errors(nested), "the schema accepted a fact that is an object"
    with pytest.raises(DocumentFormatError):
        read_document(nested)
    too_many = _changed(VALID_CONTRIBUTION, facts={f"fact_{n}": n for n in range(MAXIMUM_FACTS + 1)})
    assert _schema_errors(too_many), "the schema accepted too many facts"
    with pytest.raises(DocumentFormatError):
        read_document(too_many)


@pytest.mark.parametrize("word", sorted([*ADMINISTRATIVE_TERMS_CHINESE, *ADMINISTRATIVE_WORDS_ENGLISH]))
def test_a_purpose_mentioning_running_costs_is_refused_by_schema_and_reader(word):
    document = {**VALID_JOURNAL, "purpose": f"支付 {word.upper()} 等"}
    assert _schema_errors(document), "the schema accepted it"
    with pytest.raises(AdministrativeCostError):
        read_document(document)


def test_a_purpose_that_only_contains_an_english_word_inside_another_is_not_administrative():
    document = {**VALID_JOURNAL, "purpose": "drug administrations review"}
    assert not _schema_errors(document)
    read_document(document)


def test_contribution_into_choices_agree():
    """``into`` is a closed list inside SPECS; probe the reader with each value the schema allows."""
    allowed = SCHEMA["$defs"]["contribution_into"]["enum"]
    for into in allowed:
        read_document(_changed(VALID_CONTRIBUTION, into=into))
    for into in ("payment", "1004", "cash", "1001"):
        assert into not in allowed
        with pytest.raises(DocumentFormatError):
            read_document(_changed(VALID_CONTRIBUTION, into=into))


# ---------------------------------------------------------------- the story holds


def test_examples_post_in_order_into_an_empty_ledger(tmp_path):
    """The page says its examples, posted in order, are all accepted; the CSV rows follow them in 2013."""
    from ledger.store import Ledger

    documents = [read_document(example) for example in EXAMPLES] + [read_document(row) for row in CSV_ROWS]
    with Ledger(f"sqlite:///{tmp_path / 'examples.db'}") as ledger:
        outcomes = list(ledger.post(documents))
        refused = [(o.document_id, o.status, str(o.error)) for o in outcomes if o.status != "posted"]
        assert refused == []
        resident_2013 = ledger.app.book(BookKey("500101", "resident", 2013))
        # 2012 left 360.00 in the income account; January's sweep empties it with the new receipts.
        assert resident_2013.balance_fen(chart.INCOME_ACCOUNT) == 0
        assert resident_2013.balance_fen("2001") == -50000
        # The hardship extra held in 2013 (subsidy facts): 14,700.00, less the 60.00 drawn by WZ-2013-CL-0106.
        assert resident_2013.balance_fen(chart.HARDSHIP_HELD) == -1464000
        assert ledger.app.book(BookKey("500235", "resident", 2013)).balance_fen(chart.HARDSHIP_HELD) == -720000
        # Cross-district care of November 2012 was advanced and settled: nothing is left in clearing.
        platform = ledger.app.book(BookKey("500000", "resident", 2012))
        assert platform.balances == {} and platform.version == 3
        assert ledger.app.book(BookKey("500101", "resident", 2012)).balance_fen(chart.CARE_ADVANCED) == 0
        # 渝北区 opened with its audited balances: 3001 tier 1 41,000.00.
        assert ledger.app.book(BookKey("500112", "resident", 2013)).balance_fen("3001", 1) == -4100000


def test_the_opening_balances_example_file_opens_its_books_with_the_audited_balances(tmp_path):
    """docs/examples/yubei-2013-opening-balances.jsonl: 渝北区 adopts the ledger for 2013 (docs/documents.md, opening_balances).

    By hand: resident 1003 48,000.00 + 1004 6,500.00 + 1101 1,500.00 = 56,000.00 =
    2001 2,000.00 + 3001 41,000.00 (tier 1) + 13,000.00 (tier 2); assistance 1003 = 3001 12,500.00.
    """
    from ledger.reader import read_records
    from ledger.statements import Period, Scope, compute
    from ledger.store import Ledger

    with (DOCS / "examples" / "yubei-2013-opening-balances.jsonl").open("rb") as stream:
        records = list(read_records(stream, "jsonl", "accountant"))
    assert [r.error for r in records] == [None, None]
    with Ledger(f"sqlite:///{tmp_path / 'opening.db'}") as ledger:
        assert [o.status for o in ledger.post(r.document for r in records)] == ["posted", "posted"]
        sheet = compute(ledger, "01", Scope("500112", "resident"), Period(2013))
        opening = {line.spec.code: line.values[0] for line in sheet.lines if line.values[0]}
        assert opening == {
            "1003": 4800000, "1004": 650000, "1101": 150000, "assets_total": 5600000,
            "2001": 200000, "liabilities_total": 200000,
            "3001": 5400000, "3001:1": 4100000, "3001:2": 1300000, "fund_total": 5400000,
            "liabilities_and_fund_total": 5600000,
        }
        income = compute(ledger, "02", Scope("500112", "assistance"), Period(2013))
        figures = {line.spec.code: line.values[0] for line in income.lines}
        assert figures["opening_fund"] == 1250000 and figures["other_fund"] == 0 and figures["closing_fund"] == 1250000
