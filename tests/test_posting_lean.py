"""The lean posting path writes what the plain one wrote (issue 13, "the accounting per document").

Every shortcut here has a definition it must equal: canonical JSON is
``json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False,
default=_plain)``, a registry row's entries are ``json.dumps``, a row
of ``COPY`` text is every field as ``copy_field`` writes it,
a control character is Unicode's category Cc, and the overdraft check with
the book's last bank days is the check that scans every later day. Each
test holds the fast form against the definition itself.
"""

from __future__ import annotations

import json
import pickle
import unicodedata
from datetime import date, datetime, timezone
from uuid import UUID

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger import chain
from ledger.aggregates.book import Book, BookKey
from ledger.documents import _FORBIDDEN_CONTROL, Document, read_document
from ledger.errors import AccountOverdrawnError, DocumentFormatError, LedgerError
from ledger.json_input import JsonNumber
from ledger.postings import Posting, check_overdraft
from ledger.registry import entries_json


def reference_canonical(value: object) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=chain._plain)


# Every character but the surrogates, which are no characters (a lone one is refused before it gets here).
EVERY_CHARACTER = "".join(chr(code) for code in range(0x110000) if not 0xD800 <= code <= 0xDFFF)

text = st.text(st.characters(codec="utf-8") | st.sampled_from("\x00\x01\x1f\x7f\x80\x9f\u2028\u2029\"\\/\ufeff"), max_size=12)
leaves = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | text
    | text.map(JsonNumber)
    | st.floats(allow_nan=True)
    | st.decimals(allow_nan=False, places=2)
    | st.uuids()
    | st.dates()
)
values = st.recursive(
    leaves,
    lambda inner: st.lists(inner, max_size=4) | st.lists(inner, max_size=3).map(tuple) | st.dictionaries(text, inner, max_size=4),
    max_leaves=20,
)


def test_every_character_is_written_as_json_writes_it():
    document = {"memo": EVERY_CHARACTER, EVERY_CHARACTER[:300]: [EVERY_CHARACTER[::-7], 1]}
    assert chain.fast_canonical(document) == reference_canonical(document).encode("utf-8")
    assert chain.canonical(document) == reference_canonical(document)


@settings(max_examples=400, deadline=None)
@given(values)
def test_canonical_is_json_with_sorted_keys(value):
    assert chain.canonical(value) == reference_canonical(value)
    assert chain.canonical_bytes(value) == reference_canonical(value).encode("utf-8")


@settings(max_examples=200, deadline=None)
@given(st.floats() | st.uuids() | st.decimals(allow_nan=False) | st.integers(min_value=2**64))
def test_what_orjson_writes_its_own_way_is_left_to_json(leaf):
    # Nested, where chain_hash does not turn it into text first.
    assert chain.fast_canonical({"a": [leaf]}) is None
    assert chain.canonical({"a": [leaf]}) == reference_canonical({"a": [leaf]})


def test_a_lone_surrogate_still_fails_to_encode_as_before():
    with pytest.raises(UnicodeEncodeError):
        chain.canonical_bytes({"memo": "\udc80"})
    assert chain.canonical({"memo": "\udc80"}) == reference_canonical({"memo": "\udc80"})


def test_chain_link_is_the_documented_hash():
    fields = {
        "document_id": "C-1",
        "effective_date": "2024-03-05",
        "postings": [["5101.01", 1, 12345], ["1002", 0, -12345]],
        "computation": {"rule": "claim", "facts": {"total": JsonNumber("123.45")}, "steps": [], "amounts": {"fund_pays": 12345}},
        "originator_id": UUID("5b7c2f0e-8d0a-4a53-9a43-3c1f4b1e2d01"),
        "originator_version": 7,
        "timestamp": datetime(2024, 3, 5, 8, 0, 0, 123456, tzinfo=timezone.utc),
        "chain": "ignored",
    }
    content = {key: value for key, value in fields.items() if key != "chain"}
    text_form = "f" * 64 + "\n" + "ClaimPaid" + "\n" + reference_canonical(content)
    import hashlib

    assert chain.chain_hash("f" * 64, "ClaimPaid", fields) == hashlib.sha256(text_form.encode("utf-8")).hexdigest()


@pytest.mark.parametrize("entries", [[], [["ab12", 3]], [["0f" * 16, 1], ["cd" * 16, 12]], [["a b", 1]], [["x", True]], [["x", 1, 2]]])
def test_registry_entries_are_json_dumps(entries):
    assert entries_json(entries) == json.dumps(entries)


def test_control_characters_are_unicode_category_cc_but_tab_and_line_breaks():
    found = {match.group() for match in _FORBIDDEN_CONTROL.finditer(EVERY_CHARACTER)}
    assert found == {c for c in EVERY_CHARACTER if unicodedata.category(c) == "Cc"} - {"\t", "\n", "\r"}


def test_a_control_character_is_named_with_its_position():
    raw = {"id": "J-1", "type": "journal", "date": "2024-01-05", "region": "500101", "scheme": "resident", "purpose": "ab\tc\x1bd"}
    with pytest.raises(DocumentFormatError) as refused:
        read_document(raw)
    assert refused.value.field == "purpose"
    assert "U+001B at character 5" in refused.value.message


def test_content_hash_is_the_hash_of_json_with_sorted_keys():
    import hashlib

    document = Document("C-1", "claim", date(2024, 3, 5), "bench", {"region": "500101", "facts": {"total": JsonNumber("12.50"), "名": "张三"}})
    expected = json.dumps(document.canonical(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert document.content_hash() == hashlib.sha256(expected.encode("utf-8")).hexdigest()


def test_a_refusal_pickles_as_it_stands():
    error = DocumentFormatError("is required for a claim document", document_id="A-1", field="region")
    back = pickle.loads(pickle.dumps(error))
    assert (type(back), str(back), back.args, vars(back)) == (type(error), str(error), error.args, vars(error))
    assert isinstance(back, LedgerError)


# ------------------------------------------------------------ the overdraft check without the scan

days = st.dates(min_value=date(2024, 1, 1), max_value=date(2024, 2, 29))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(days, st.integers(-5000, 5000)), max_size=12), days, st.integers(-8000, 8000))
def test_overdraft_with_last_days_is_the_full_scan(history, when, change_fen):
    book = Book.open(BookKey("500101", "resident", 2024))
    for number, (day, fen) in enumerate(history):
        if fen:
            book.apply_postings([Posting("1002", 0, fen)])
            book.apply_bank_days(day.isoformat(), [Posting("1002", 0, fen)])
    postings = [Posting("1002", 0, change_fen), Posting("2101", 0, -change_fen)]
    scanned = check_overdraft(book.balances, book.bank_days, when, postings)
    skipped = check_overdraft(book.balances, book.bank_days, when, postings, book.bank_last_day)
    assert [str(e) for e in skipped] == [str(e) for e in scanned]


def test_a_back_dated_payment_is_still_judged_on_later_days():
    # Worked by hand: 100.00 in on 1 March, 80.00 out on 10 March; 30.00 out dated 5 March leaves
    # 70.00 on 5 March but -10.00 on 10 March, so it is refused, naming 10 March.
    book = Book.open(BookKey("500101", "resident", 2024))
    for day, fen in (("2024-03-01", 10000), ("2024-03-10", -8000)):
        book.apply_postings([Posting("1002", 0, fen)])
        book.apply_bank_days(day, [Posting("1002", 0, fen)])
    assert book.bank_last_day == {"1002:0": "2024-03-10"}
    (error,) = check_overdraft(book.balances, book.bank_days, date(2024, 3, 5), [Posting("1002", 0, -3000)], book.bank_last_day)
    assert isinstance(error, AccountOverdrawnError)
    assert "-10.00 on 2024-03-10" in error.message
    # Dated 10 March or later, there is no later day: 20.00 is left, so 30.00 falls 10.00 short that day.
    (error,) = check_overdraft(book.balances, book.bank_days, date(2024, 3, 12), [Posting("1002", 0, -3000)], book.bank_last_day)
    assert "on 2024-03-12" in error.message and "too little by 10.00" in error.message


@settings(max_examples=300, deadline=None)
@given(st.lists(st.none() | st.booleans() | st.integers() | text | st.binary(max_size=4) | st.uuids() | text.map(JsonNumber), max_size=8))
def test_copy_text_is_every_field_as_copy_writes_it(row):
    from ledger.bulk import copy_field, copy_text

    assert copy_text([tuple(row)], len(row)) == "\t".join(map(copy_field, row)) + "\n"
