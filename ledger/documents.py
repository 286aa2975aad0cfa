"""Business documents: reading, validating and turning them into postings.

A document is a flat record (one JSON object per line, or one CSV row) with an
``id``, a ``type`` and the fields of its type. Reading checks every field and
refuses unknown ones; planning turns a valid document into the postings of
each book it touches, following the standard entries of docs/documents.md. Both
are pure: no clock, no store.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, NamedTuple

import orjson

from ledger import accounts as chart
from ledger.aggregates.book import Book, BookKey
from ledger.errors import (
    AccountFlowError,
    AdministrativeCostError,
    DocumentFormatError,
    FenPrecisionError,
    LedgerError,
    NonPositiveAmountError,
    TierError,
)
from ledger import json_input
from ledger.chain import fast_canonical
from ledger.dates import DateFormatError, parse_date
from ledger.flags import parse_flag
from ledger.money import FenFractionError, MoneyFormatError, parse_yuan, shown
from ledger.postings import Posting, check_account_flow
from ledger.regions import is_region_code, municipality_of

MAXIMUM_ID_LENGTH = 64
MAXIMUM_TEXT_LENGTH = 500
MAXIMUM_JOURNAL_LINES = 200
MAXIMUM_FACTS = 50
MAXIMUM_FIELDS = 64  # fields of one document; the widest type (claim) has 10, with the envelope 14.
MAXIMUM_FACT_NAME_LENGTH = 64
MAXIMUM_ACCOUNT_LENGTH = 16
MAXIMUM_COUNT_DIGITS = 9  # persons in one document: under a billion.
ADJUSTMENT_SCHEME = "adjustment"

# Words that mark an expense as the agency's running costs, which the fund may
# not pay (渝府发〔2007〕113号 九; docs/policy/resident.md): they are a fiscal budget line. Chinese
# terms match anywhere in the purpose, English ones as whole words.
ADMINISTRATIVE_TERMS_CHINESE = ("工作经费", "管理费", "经办经费", "办公经费", "人员经费")
ADMINISTRATIVE_WORDS_ENGLISH = frozenset({"administration", "administrative", "overhead", "salaries"})


def is_administrative(purpose: str) -> bool:
    words = set(re.findall(r"[a-z]+", purpose.lower()))
    return any(term in purpose for term in ADMINISTRATIVE_TERMS_CHINESE) or bool(words & ADMINISTRATIVE_WORDS_ENGLISH)


@dataclass(frozen=True)
class Document:
    """One validated business document.

    Attributes:
      id: the business document id, unique across the ledger.
      type: one of ``DOCUMENT_TYPES``.
      date: the effective (business) date.
      actor: who posts it; not part of its content.
      fields: the type's fields, normalised (money in fen, tiers as ints).
    """

    id: str
    type: str
    date: date
    actor: str
    fields: Mapping[str, Any] = field(default_factory=dict)

    def canonical(self) -> dict[str, Any]:
        return {"id": self.id, "type": self.type, "date": self.date.isoformat(), **self.fields}

    def content_hash(self) -> str:
        """SHA-256 (64 hex digits) of the canonical JSON of ``canonical()``: sorted keys, no spaces, UTF-8.

        The JSON is ``json.dumps(…, sort_keys=True, separators=(",", ":"),
        ensure_ascii=False)``, written by ``ledger.chain.fast_canonical`` where
        that gives the same bytes. Raises ``TypeError`` for a field JSON cannot hold.
        """
        canonical = self.canonical()
        data = fast_canonical(canonical)
        if data is None:
            data = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        return hashlib.sha256(data).hexdigest()

    def __getitem__(self, name: str) -> Any:
        return self.fields[name]

    def get(self, name: str, default: Any = None) -> Any:
        return self.fields.get(name, default)


class Entry(NamedTuple):
    """The postings one document makes in one book.

    Attributes:
      book: the book written to.
      event_class: the kind of event that records it.
      postings: the lines, balanced within the book.
      effective_date: when it differs from the document's (a carryover opens on 1 January).
      extra: further event attributes (``reverses``, ``from_year``).
    """

    book: BookKey
    event_class: type[Book.Posted]
    postings: tuple[Posting, ...]
    effective_date: date | None = None
    extra: Mapping[str, Any] | None = None


# ---------------------------------------------------------------- field readers


def _text(document_id: str, name: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise DocumentFormatError("must be non-empty text", document_id=document_id, field=name)
    if len(value) > MAXIMUM_TEXT_LENGTH:
        raise DocumentFormatError(f"is longer than {MAXIMUM_TEXT_LENGTH} characters", document_id=document_id, field=name)
    _check_printable(document_id, name, value)
    return value.strip()


# Tab, line feed and carriage return may stand in a memo; no other control character may.
_ALLOWED_CONTROLS = frozenset("\t\n\r")
# Unicode's control characters (category Cc), but those allowed: all of them lie below U+0100 (U+0000–U+001F,
# U+007F–U+009F), a set the Unicode Stability Policy fixes for ever; tests/test_posting_lean.py checks every code point.
_FORBIDDEN_CONTROL = re.compile("[" + "".join(
    re.escape(chr(code)) for code in range(0x100) if unicodedata.category(chr(code)) == "Cc" and chr(code) not in _ALLOWED_CONTROLS
) + "]")


def _check_printable(document_id: str, name: str, value: str) -> None:
    """Refuse a control character (NUL, ESC, DEL …): it prints as nothing, and a database may cut the text at it."""
    found = _FORBIDDEN_CONTROL.search(value)
    if found is not None:
        raise DocumentFormatError(
            f"has the control character U+{ord(found.group()):04X} at character {found.start() + 1}; text may hold no "
            "control characters but tab and line breaks",
            document_id=document_id,
            field=name,
        )


def _region(document_id: str, name: str, value: Any) -> str:
    text = str(value).strip()
    if not is_region_code(text):
        raise DocumentFormatError(
            f"{shown(value)} is not a six-digit administrative region code (e.g. 500101)", document_id=document_id, field=name
        )
    return text


def _choice(options: Mapping[str, str] | frozenset[str] | tuple[str, ...]) -> Callable[[str, str, Any], str]:
    def read(document_id: str, name: str, value: Any) -> str:
        text = str(value).strip()
        if text not in options:
            raise DocumentFormatError(
                f"{shown(value)} is not one of {', '.join(sorted(options))}", document_id=document_id, field=name
            )
        return text

    return read


def _bank_account(document_id: str, name: str, value: Any) -> str:
    text = str(value).strip()
    code = chart.BANK_ACCOUNT_NAMES.get(text, text)
    if code not in chart.BANK_ACCOUNTS:
        raise DocumentFormatError(
            f"{shown(value)} is not a bank account: use {', '.join(chart.BANK_ACCOUNT_NAMES)} or 1001–1005",
            document_id=document_id,
            field=name,
        )
    return code


def _receiving_account(document_id: str, name: str, value: Any) -> str:
    code = _bank_account(document_id, name, value)
    if code not in (chart.INCOME_ACCOUNT, chart.FISCAL_ACCOUNT, chart.TREASURY):
        raise DocumentFormatError(
            f"{shown(value)}: contributions are received into income (1002), fiscal (1003) or treasury (1005)",
            document_id=document_id,
            field=name,
        )
    return code


def _tier(document_id: str, name: str, value: Any) -> int:
    if str(value).strip() in ("1", "2"):
        return int(str(value).strip())
    raise DocumentFormatError(f"{shown(value)} is not a tier: use 1 or 2", document_id=document_id, field=name)


def _month(document_id: str, name: str, value: Any) -> int:
    text = str(value).strip()
    if not re.fullmatch(r"(0?[1-9]|1[0-2])", text):
        raise DocumentFormatError(f"{shown(value)} is not a month: use 1 to 12", document_id=document_id, field=name)
    return int(text)


def _flag(document_id: str, name: str, value: Any) -> bool:
    flag = parse_flag(value)
    if flag is None:
        raise DocumentFormatError(f"{shown(value)} is not true or false", document_id=document_id, field=name)
    return flag


def _year(document_id: str, name: str, value: Any) -> int:
    text = str(value).strip()
    if not re.fullmatch(r"(19|20|21)[0-9]{2}", text):
        raise DocumentFormatError(f"{shown(value)} is not a year such as 2012", document_id=document_id, field=name)
    return int(text)


def _count(document_id: str, name: str, value: Any) -> int:
    text = str(value).strip()
    if not re.fullmatch(rf"[0-9]{{1,{MAXIMUM_COUNT_DIGITS}}}", text) or int(text) <= 0:
        raise DocumentFormatError(f"{shown(value)} is not a positive whole number", document_id=document_id, field=name)
    return int(text)


def _amount(document_id: str, name: str, value: Any) -> int:
    try:
        amount_fen = parse_yuan(value)
    except MoneyFormatError as error:
        rule = FenPrecisionError if isinstance(error, FenFractionError) else DocumentFormatError
        raise rule(str(error), document_id=document_id, field=name) from None
    if amount_fen <= 0:
        raise NonPositiveAmountError(
            f"{shown(value)} is not a positive amount; to take money back, post a refund, recovery or reversal",
            document_id=document_id,
            field=name,
        )
    return amount_fen


def _document_id(document_id: str, name: str, value: Any) -> str:
    text = _text(document_id, name, value)
    if len(text) > MAXIMUM_ID_LENGTH or not text.isprintable():
        raise DocumentFormatError(
            f"a document id is at most {MAXIMUM_ID_LENGTH} printable characters", document_id=document_id, field=name
        )
    return text


def _journal_postings(document_id: str, name: str, value: Any) -> list[list[Any]]:
    if isinstance(value, str):
        try:
            value = json_input.loads(value)
        except json_input.JsonInputError as error:
            raise DocumentFormatError(f"must be a JSON list of lines; the text {error.message}", document_id=document_id, field=name) from None
    if not isinstance(value, list) or not value or len(value) > MAXIMUM_JOURNAL_LINES:
        raise DocumentFormatError(
            f"must be a list of 1 to {MAXIMUM_JOURNAL_LINES} lines", document_id=document_id, field=name
        )
    rows: list[list[Any]] = []
    for number, line in enumerate(value, start=1):
        where = f"{name}[{number}]"
        if not isinstance(line, dict) or set(line) - {"account", "tier", "debit", "credit"}:
            raise DocumentFormatError(
                "each line is {account, tier?, debit | credit}", document_id=document_id, field=where
            )
        if ("debit" in line) == ("credit" in line):
            raise DocumentFormatError("give exactly one of debit or credit", document_id=document_id, field=where)
        account = str(line.get("account", "")).strip()
        if len(account) > MAXIMUM_ACCOUNT_LENGTH:
            raise DocumentFormatError(f"{shown(account)} is not an account code", document_id=document_id, field=where + ".account")
        tier = _tier(document_id, where + ".tier", line["tier"]) if line.get("tier") not in (None, "", 0, "0") else 0
        if "debit" in line:
            amount_fen = _amount(document_id, where + ".debit", line["debit"])
        else:
            amount_fen = -_amount(document_id, where + ".credit", line["credit"])
        rows.append([account, tier, amount_fen])
    return rows


def _facts(document_id: str, name: str, value: Any) -> dict[str, Any]:
    """The facts a policy rule computes from: a JSON object (in CSV, JSON text in its cell)."""
    if isinstance(value, str):
        try:
            value = json_input.loads(value)
        except json_input.JsonInputError as error:
            raise DocumentFormatError(f"must be a JSON object of facts; the text {error.message}", document_id=document_id, field=name) from None
    if not isinstance(value, dict) or len(value) > MAXIMUM_FACTS:
        raise DocumentFormatError(f"must be an object of at most {MAXIMUM_FACTS} facts", document_id=document_id, field=name)
    plain: dict[str, Any] = {}
    for key, fact in value.items():
        if not re.fullmatch(rf"[a-z0-9_]{{1,{MAXIMUM_FACT_NAME_LENGTH}}}", str(key)):
            raise DocumentFormatError(
                f"{shown(key)} is not a fact name: lower-case letters, digits and _, at most {MAXIMUM_FACT_NAME_LENGTH}",
                document_id=document_id,
                field=name,
            )
        if isinstance(fact, (dict, list)):
            raise DocumentFormatError("facts are plain values (text, numbers, true/false)", document_id=document_id, field=f"facts.{key}")
        if isinstance(fact, str) and len(fact) > MAXIMUM_TEXT_LENGTH:
            raise DocumentFormatError(f"is longer than {MAXIMUM_TEXT_LENGTH} characters", document_id=document_id, field=f"facts.{key}")
        if isinstance(fact, str):
            _check_printable(document_id, f"facts.{key}", fact)
        # A JSON number is kept as the text it was written in, which the rule that reads it checks.
        plain[key] = str(fact) if isinstance(fact, json_input.JsonNumber) else fact
    return plain


FieldReader = Callable[[str, str, Any], Any]

_COMMON: dict[str, FieldReader] = {"region": _region, "scheme": _choice(chart.SCHEMES), "amount": _amount}
_MEMO: dict[str, FieldReader] = {"memo": _text}
_AMOUNT_IN_REGION: dict[str, FieldReader] = {"region": _region, "amount": _amount}
# Funds whose insured are cared for in another district of the municipality (渝办发〔2011〕293号).
CARE_SCHEMES = ("resident", "worker")

# type -> (required fields, optional fields)
SPECS: dict[str, tuple[dict[str, FieldReader], dict[str, FieldReader]]] = {
    "contribution": (
        _COMMON,
        {
            "tier": _tier,
            "payer": _choice(chart.CONTRIBUTION_PAYERS),
            "into": _receiving_account,
            "persons": _count,
            "facts": _facts,
            **_MEMO,
        },
    ),
    "subsidy": (
        {"region": _region, "scheme": _choice(chart.SCHEMES), "amount": _amount},
        {"level": _choice(chart.SUBSIDY_LEVELS), "tier": _tier, "persons": _count, "facts": _facts, **_MEMO},
    ),
    "transfer": ({**_COMMON, "from": _bank_account, "to": _bank_account}, dict(_MEMO)),
    "claim": (
        {**_COMMON, "category": _choice(chart.CLAIM_CATEGORIES)},
        {"tier": _tier, "from": _bank_account, "purpose": _text, "persons": _count, "facts": _facts, **_MEMO},
    ),
    "assistance": (
        {"region": _region, "amount": _amount, "category": _choice(chart.ASSISTANCE_CATEGORIES)},
        {"scheme": _choice(("assistance",)), "from": _bank_account, "purpose": _text, "persons": _count, "facts": _facts, **_MEMO},
    ),
    "sponsorship": ({"region": _region, "amount": _amount, "tier": _tier}, {"persons": _count, "facts": _facts, **_MEMO}),
    "remittance": (
        {"region": _region, "amount": _amount},
        {"scheme": _choice(("resident", "worker")), "tier": _tier, "municipality": _region, "facts": _facts, **_MEMO},
    ),
    "grant": (
        {"region": _region, "amount": _amount},
        {"scheme": _choice(("resident", "worker")), "tier": _tier, "municipality": _region, "facts": _facts, **_MEMO},
    ),
    "gap_cover": (
        {"region": _region, "facts": _facts},
        {"scheme": _choice(("resident",)), "tier": _tier, "municipality": _region, **_MEMO},
    ),
    "merger": ({"region": _region, "facts": _facts}, {"tier": _tier, **_MEMO}),
    "worker_settlement": ({"region": _region, "facts": _facts}, {"municipality": _region, **_MEMO}),
    "interest": (_COMMON, {"account": _bank_account, "tier": _tier, **_MEMO}),
    "refund": (
        {**_COMMON, "original_year": _year},
        {"tier": _tier, "payer": _choice(chart.CONTRIBUTION_PAYERS), "from": _bank_account, **_MEMO},
    ),
    "recovery": (
        {**_COMMON, "original_year": _year, "category": _choice({**chart.CLAIM_CATEGORIES, **chart.ASSISTANCE_CATEGORIES})},
        {"tier": _tier, **_MEMO},
    ),
    "reversal": ({"reverses": _document_id}, dict(_MEMO)),
    "journal": (
        {"region": _region, "scheme": _choice(chart.SCHEMES), "purpose": _text, "postings": _journal_postings},
        dict(_MEMO),
    ),
    "opening_balances": (
        {"region": _region, "scheme": _choice(chart.SCHEMES), "year": _year, "balances": _journal_postings},
        {"audited": _text, **_MEMO},
    ),
    "cross_district_care": (
        {**_AMOUNT_IN_REGION, "home_region": _region, "category": _choice(chart.CLAIM_CATEGORIES)},
        {"scheme": _choice(CARE_SCHEMES), "tier": _tier, "from": _bank_account, "persons": _count, **_MEMO},
    ),
    "cross_district_settlement": (
        {**_AMOUNT_IN_REGION, "care_region": _region},
        {"scheme": _choice(CARE_SCHEMES), "month": _month, **_MEMO},
    ),
    "year_close": ({"region": _region, "scheme": _choice(chart.SCHEMES), "year": _year}, dict(_MEMO)),
    "month_close": (
        {"region": _region, "scheme": _choice(chart.SCHEMES), "year": _year, "month": _month},
        {"seal": _flag, **_MEMO},
    ),
    "period_reopen": (
        {"region": _region, "scheme": _choice(chart.SCHEMES), "year": _year, "reason": _text},
        {"month": _month, **_MEMO},
    ),
}
DOCUMENT_TYPES = tuple(SPECS)
ENVELOPE = frozenset({"id", "type", "date", "actor"})
# Every field of some document type: a name outside it is a misspelling, whatever the type.
FIELD_NAMES = ENVELOPE.union(*(set(required) | set(optional) for required, optional in SPECS.values()))
# The fields each type reads: the envelope, its required and its optional fields.
_KNOWN_FIELDS = {kind: ENVELOPE | set(required) | set(optional) for kind, (required, optional) in SPECS.items()}
# Types whose amount the policy engine may compute from their facts.
COMPUTABLE_TYPES = frozenset({"contribution", "subsidy", "claim", "assistance", "sponsorship", "remittance"})


def read_document(raw: Mapping[str, Any], default_actor: str = "unknown") -> Document:
    """Validate one raw record; raise a ``LedgerError`` naming the first bad field.

    Field names are exact (lower case); a name no document type has is refused
    before anything else, with the nearest field name when there is one.
    """
    raw = {k: v for k, v in raw.items() if v is not None and v != ""}
    if len(raw) > MAXIMUM_FIELDS:
        raise DocumentFormatError(f"has {len(raw)} fields; a document has at most {MAXIMUM_FIELDS}", field=None)
    unknown_anywhere = [] if FIELD_NAMES.issuperset(raw) else sorted((str(key) for key in raw if key not in FIELD_NAMES), key=str)
    document_id = _document_id("(no id)", "id", raw["id"]) if "id" in raw else None
    if unknown_anywhere:
        name = unknown_anywhere[0]
        raise DocumentFormatError(f"is not a field of any document{_nearest(name, FIELD_NAMES)}", document_id=document_id, field=name if len(name) <= 64 else name[:64] + "…")
    _check_text(document_id or "(no id)", raw)
    if document_id is None:
        document_id = _document_id("(no id)", "id", "")  # refused: an id is required
    kind = _choice(DOCUMENT_TYPES)(document_id, "type", raw.get("type", ""))
    required, optional = SPECS[kind]
    unknown = [] if _KNOWN_FIELDS[kind].issuperset(raw) else sorted(set(raw) - _KNOWN_FIELDS[kind])
    if unknown:
        raise DocumentFormatError(
            f"is not a field of a {kind} document (fields: {', '.join([*required, *optional])})",
            document_id=document_id,
            field=unknown[0],
        )
    fields: dict[str, Any] = {}
    for name, reader in required.items():
        if name == "amount" and kind in COMPUTABLE_TYPES and "facts" in raw and name not in raw:
            continue  # the policy engine computes it from the facts
        if name not in raw:
            hint = " (or give facts for the policy engine to compute it)" if name == "amount" and kind in COMPUTABLE_TYPES else ""
            raise DocumentFormatError(f"is required for a {kind} document{hint}", document_id=document_id, field=name)
        fields[name] = reader(document_id, name, raw[name])
    for name, reader in optional.items():
        if name in raw:
            fields[name] = reader(document_id, name, raw[name])
    if kind == "subsidy" and "level" not in fields and "facts" not in fields:
        raise DocumentFormatError(
            "is required for a subsidy document (or give facts to split it between levels)", document_id=document_id, field="level"
        )
    effective = _effective_date(document_id, kind, raw, fields)
    actor = _text(document_id, "actor", raw["actor"]) if "actor" in raw else default_actor
    purpose = fields.get("purpose", "")
    if is_administrative(purpose):
        raise AdministrativeCostError(
            f"'{purpose}' is the agency's running cost, a fiscal budget line; the fund may not pay it",
            document_id=document_id,
            field="purpose",
        )
    return Document(id=document_id, type=kind, date=effective, actor=actor, fields=fields)


def _nearest(name: str, known: frozenset[str] | set[str]) -> str:
    """``"; did you mean 'x'?"`` for the known name nearest to ``name`` (any case), or ``""``."""
    folded = name.strip().lower()
    if folded in known:
        return f"; did you mean '{folded}'? (field names are lower case)"
    close = difflib.get_close_matches(folded, sorted(known), n=1, cutoff=0.75)
    return f"; did you mean '{close[0]}'?" if close else ""


def _check_text(document_id: str, raw: Mapping[str, Any]) -> None:
    """Refuse text the ledger could not store: a lone surrogate (``"\\udc80"`` in JSON) is no character.

    A loop over a stack, not recursion: values from code may nest deeper than the JSON reader lets in.
    Almost every document is plain text, so the whole of it is encoded once
    first (one C call); only when that fails is it walked to name the field.
    """
    try:
        # orjson refuses a lone surrogate in any text it writes (and writes the common document ten times faster).
        orjson.dumps(raw)
        return
    except (orjson.JSONEncodeError, RecursionError):
        pass
    try:
        json.dumps(raw, ensure_ascii=False, check_circular=False).encode("utf-8")
        return
    except (UnicodeEncodeError, TypeError, ValueError, RecursionError):
        pass  # a lone surrogate somewhere, or a value JSON cannot hold: walk it to find which field
    pending: list[tuple[str, Any]] = [(str(key), key) for key in raw] + [(str(key), value) for key, value in raw.items()]
    while pending:
        where, value = pending.pop()
        if isinstance(value, str) and not _encodable(value):
            raise DocumentFormatError("holds a code that is no character (a lone surrogate)", document_id=document_id, field=where[:64])
        if isinstance(value, dict):
            pending.extend((f"{where}.{key}", key) for key in value)
            pending.extend((f"{where}.{key}", item) for key, item in value.items())
        elif isinstance(value, list):
            pending.extend((f"{where}[{number}]", item) for number, item in enumerate(value, start=1))


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _effective_date(document_id: str, kind: str, raw: Mapping[str, Any], fields: Mapping[str, Any]) -> date:
    if kind == "opening_balances":
        return _opening_date(document_id, raw, fields)
    if "date" not in raw:
        if kind == "year_close" or (kind == "period_reopen" and "month" not in fields):
            return date(fields["year"], 12, 31)
        if kind in ("month_close", "period_reopen"):
            return _month_end(fields["year"], fields["month"])
        raise DocumentFormatError(f"is required for a {kind} document", document_id=document_id, field="date")
    try:
        return parse_date(raw["date"])
    except DateFormatError as error:
        raise DocumentFormatError(str(error), document_id=document_id, field="date") from None


def _opening_date(document_id: str, raw: Mapping[str, Any], fields: Mapping[str, Any]) -> date:
    """Opening balances are the balances at the start of the year: 1 January of ``year``, whatever else is given."""
    opening = date(fields["year"], 1, 1)
    if "date" in raw:
        try:
            given = parse_date(raw["date"])
        except DateFormatError as error:
            raise DocumentFormatError(str(error), document_id=document_id, field="date") from None
        if given != opening:
            raise DocumentFormatError(
                f"opening balances are the balances of 1 January ({opening.isoformat()}), the 年初余额 of the "
                f"{fields['year']} book; leave the date out or give {opening.isoformat()}",
                document_id=document_id,
                field="date",
            )
    return opening


def _month_end(year: int, month: int) -> date:
    following = date(year + (month == 12), month % 12 + 1, 1)
    return date.fromordinal(following.toordinal() - 1)


# ---------------------------------------------------------------- planning


def plan(document: Document) -> list[Entry]:
    """The postings a document makes in each book (reversals and year closes need the store)."""
    planner = _PLANNERS.get(document.type)
    if planner is None:
        raise LedgerError(f"{document.type} documents are planned by the application", document_id=document.id)
    entries = planner(document)
    if "tier" in document.fields and not any(e.book.scheme == chart.TIERED_SCHEME for e in entries):
        raise TierError("only resident books keep tiers; leave the tier out", document_id=document.id, field="tier")
    return entries


def _book(document: Document, scheme: str | None = None, region: str | None = None) -> BookKey:
    return BookKey(region or document["region"], scheme or document["scheme"], document.date.year)


def _pair(book: BookKey, debit: str, credit: str, amount_fen: int, tier: int) -> tuple[Posting, ...]:
    """A two-line entry; the tier goes only on the accounts that take one."""
    return (
        Posting(debit, _line_tier(book, debit, tier), amount_fen),
        Posting(credit, _line_tier(book, credit, tier), -amount_fen),
    )


def _line_tier(book: BookKey, account: str, tier: int) -> int:
    leaf = chart.CHART.get(account)
    if leaf is None or not chart.takes_tier(book.scheme, leaf):
        return 0
    return tier


def _plan_contribution(d: Document) -> list[Entry]:
    book = _book(d)
    into = d.get("into", chart.INCOME_ACCOUNT)
    income = chart.CONTRIBUTION_PAYERS[d.get("payer", "individual")]
    return [Entry(book, Book.ContributionReceived, _pair(book, into, income, d["amount"], d.get("tier", 0)))]


def _plan_subsidy(d: Document) -> list[Entry]:
    """One level's subsidy, or (computed by the policy engine) every level's part in one entry."""
    book = _book(d)
    parts = d.get("parts") or {d["level"]: d["amount"]}
    held_fen = d.get("held", 0)
    tier = d.get("tier", 0)
    postings = [Posting(chart.FISCAL_ACCOUNT, 0, sum(parts.values()) + held_fen)]
    for level, amount_fen in parts.items():
        income = chart.SUBSIDY_LEVELS[level]
        postings.append(Posting(income, _line_tier(book, income, tier), -amount_fen))
    if held_fen:
        # The hardship extra held for tier-1 persons (记账, 渝府发〔2007〕113号 三(八)) is theirs: a liability.
        postings.append(Posting(chart.HARDSHIP_HELD, 0, -held_fen))
    return [Entry(book, Book.SubsidyAllocated, tuple(p for p in postings if p.amount_fen))]


def _plan_transfer(d: Document) -> list[Entry]:
    book = _book(d)
    if d["to"] == d["from"]:
        raise DocumentFormatError(f"a transfer from {d['from']} to itself moves nothing", document_id=d.id, field="to")
    postings = _pair(book, d["to"], d["from"], d["amount"], 0)
    for error in check_account_flow(postings):
        # The book would refuse it too; here the message can point at the transfer's own field.
        raise AccountFlowError(error.message, document_id=d.id, field="to")
    return [Entry(book, Book.TransferMade, postings)]


def _plan_claim(d: Document) -> list[Entry]:
    book = _book(d)
    # A hardship drawdown pays the person's own share from the money held for them, not the fund's benefit.
    expense = chart.HARDSHIP_HELD if d.get("from_held") else chart.CLAIM_CATEGORIES[d["category"]]
    paid_from = d.get("from", chart.PAYMENT_ACCOUNT)
    return [Entry(book, Book.ClaimPaid, _pair(book, expense, paid_from, d["amount"], d.get("tier", 0)))]


def _plan_assistance(d: Document) -> list[Entry]:
    book = _book(d, scheme="assistance")
    expense = chart.ASSISTANCE_CATEGORIES[d["category"]]
    paid_from = d.get("from", chart.PAYMENT_ACCOUNT)
    return [Entry(book, Book.AssistanceDisbursed, _pair(book, expense, paid_from, d["amount"], 0))]


def _plan_sponsorship(d: Document) -> list[Entry]:
    """The assistance 专账 pays the premium straight into the resident fund's fiscal account."""
    assistance = _book(d, scheme="assistance")
    resident = _book(d, scheme="resident")
    return [
        Entry(assistance, Book.PremiumSponsored, _pair(assistance, chart.SPONSORSHIP_EXPENSE, chart.FISCAL_ACCOUNT, d["amount"], 0)),
        Entry(
            resident,
            Book.PremiumSponsored,
            _pair(resident, chart.FISCAL_ACCOUNT, chart.SPONSORED_CONTRIBUTION, d["amount"], d["tier"]),
        ),
    ]


def _adjustment_book(d: Document) -> BookKey:
    return BookKey(d.get("municipality", municipality_of(d["region"])), ADJUSTMENT_SCHEME, d.date.year)


def _plan_remittance(d: Document) -> list[Entry]:
    district = _book(d, scheme=d.get("scheme", "resident"))
    city = _adjustment_book(d)
    tier = d.get("tier", 0)
    return [
        Entry(district, Book.AdjustmentRemitted, _pair(district, "5301", chart.FISCAL_ACCOUNT, d["amount"], tier)),
        Entry(city, Book.AdjustmentRemitted, _pair(city, chart.FISCAL_ACCOUNT, "4402", d["amount"], 0)),
    ]


def _plan_grant(d: Document) -> list[Entry]:
    district = _book(d, scheme=d.get("scheme", "resident"))
    city = _adjustment_book(d)
    tier = d.get("tier", 0)
    return [
        Entry(city, Book.AdjustmentGranted, _pair(city, "5302", chart.FISCAL_ACCOUNT, d["amount"], 0)),
        Entry(district, Book.AdjustmentGranted, _pair(district, chart.FISCAL_ACCOUNT, "4401", d["amount"], tier)),
    ]


def _plan_gap_cover(d: Document) -> list[Entry]:
    """A district's gap: the grant part from the municipal fund, the fiscal part from its own finance.

    Also a worker fund's settlement (``worker_settlement``): the municipality's
    share of an overspend is the grant part, what falls to the district
    government the fiscal part.
    """
    district = _book(d, scheme="worker" if d.type == "worker_settlement" else "resident")
    tier = d.get("tier", 0)
    grant_fen, fiscal_fen = d["from_grant"], d["from_fiscal"]
    postings = [Posting(chart.FISCAL_ACCOUNT, 0, grant_fen + fiscal_fen)] if grant_fen + fiscal_fen else []
    if grant_fen:
        postings.append(Posting("4401", _line_tier(district, "4401", tier), -grant_fen))
    if fiscal_fen:
        postings.append(Posting("4101.04", _line_tier(district, "4101.04", tier), -fiscal_fen))
    entries = [Entry(district, Book.GapCovered, tuple(postings))]
    if grant_fen:
        city = _adjustment_book(d)
        entries.insert(0, Entry(city, Book.GapCovered, _pair(city, "5302", chart.FISCAL_ACCOUNT, grant_fen, 0)))
    return entries


def _plan_interest(d: Document) -> list[Entry]:
    book = _book(d)
    account = d.get("account", chart.FISCAL_ACCOUNT)
    return [Entry(book, Book.InterestEarned, _pair(book, account, "4201", d["amount"], d.get("tier", 0)))]


def _prior_year(d: Document) -> bool:
    if d["original_year"] > d.date.year:
        raise DocumentFormatError(
            f"{d['original_year']} is after the document's own year {d.date.year}", document_id=d.id, field="original_year"
        )
    return d["original_year"] < d.date.year


def _plan_refund(d: Document) -> list[Entry]:
    """This year's contribution comes off its income line; an earlier year's is 其他支出 5401."""
    book = _book(d)
    debit = "5401" if _prior_year(d) else chart.CONTRIBUTION_PAYERS[d.get("payer", "individual")]
    paid_from = d.get("from", chart.INCOME_ACCOUNT)
    return [Entry(book, Book.RefundPaid, _pair(book, debit, paid_from, d["amount"], d.get("tier", 0)))]


def _plan_recovery(d: Document) -> list[Entry]:
    """This year's benefit comes back off its expense line; an earlier year's is 其他收入 4501."""
    book = _book(d)
    if _prior_year(d):
        postings = _pair(book, chart.FISCAL_ACCOUNT, "4501", d["amount"], d.get("tier", 0))
    else:
        categories = chart.ASSISTANCE_CATEGORIES if book.scheme == "assistance" else chart.CLAIM_CATEGORIES
        if d["category"] not in categories:
            raise DocumentFormatError(
                f"{d['category']!r} is not a category of a {book.scheme} book: use {', '.join(categories)}",
                document_id=d.id,
                field="category",
            )
        postings = _pair(book, chart.PAYMENT_ACCOUNT, categories[d["category"]], d["amount"], d.get("tier", 0))
    return [Entry(book, Book.RecoveryReceived, postings)]


def _plan_journal(d: Document) -> list[Entry]:
    book = _book(d)
    postings = tuple(Posting(account, tier, amount_fen) for account, tier, amount_fen in d["postings"])
    return [Entry(book, Book.JournalPosted, postings)]


def _plan_opening_balances(d: Document) -> list[Entry]:
    """The earlier system's last audited balances, as the book's 年初余额 (the book checks it is empty)."""
    book = BookKey(d["region"], d["scheme"], d["year"])
    postings = tuple(Posting(account, tier, amount_fen) for account, tier, amount_fen in d["balances"])
    return [Entry(book, Book.OpeningBalancesEntered, postings)]


def _care_books(d: Document, other_field: str) -> tuple[BookKey, BookKey, BookKey]:
    """(the document's district, the municipal platform's clearing book, the other district), one municipality."""
    scheme = d.get("scheme", chart.TIERED_SCHEME)
    region, other = d["region"], d[other_field]
    municipality = municipality_of(region)
    if other == region:
        raise DocumentFormatError(
            f"{other} is the document's own region; care in the insured's own district is an ordinary claim",
            document_id=d.id,
            field=other_field,
        )
    if municipality_of(other) != municipality:
        raise DocumentFormatError(
            f"{other} is not in municipality {municipality}; the municipal platform settles only between its own "
            "districts (渝办发〔2011〕293号)",
            document_id=d.id,
            field=other_field,
        )
    for name, code in (("region", region), (other_field, other)):
        if code == municipality:
            raise DocumentFormatError(
                f"{code} is the municipality, whose {scheme} book keeps the settlement platform's clearing; name a district",
                document_id=d.id,
                field=name,
            )
    year = d.date.year
    return BookKey(region, scheme, year), BookKey(municipality, scheme, year), BookKey(other, scheme, year)


def _plan_cross_district_care(d: Document) -> list[Entry]:
    """The district of care advances; the platform owes it and is owed by the home district, whose benefit it is.

    District of care: Dr 1101.01 / Cr 1004 (or ``from``). Platform: Dr 1101.01 /
    Cr 2001.02. Home district: Dr 5001.0x (the insured's tier) / Cr 2001.02.
    The clearing lines net to zero across the three books (docs/policy/cross-district.md).
    """
    care, platform, home = _care_books(d, "home_region")
    amount_fen = d["amount"]
    expense = chart.CLAIM_CATEGORIES[d["category"]]
    return [
        Entry(care, Book.CrossDistrictCareAdvanced, _pair(care, chart.CARE_ADVANCED, d.get("from", chart.PAYMENT_ACCOUNT), amount_fen, 0)),
        Entry(platform, Book.CrossDistrictCareAdvanced, _pair(platform, chart.CARE_ADVANCED, chart.CARE_CLEARING, amount_fen, 0)),
        Entry(home, Book.CrossDistrictCareAdvanced, _pair(home, expense, chart.CARE_CLEARING, amount_fen, d.get("tier", 0))),
    ]


def _plan_cross_district_settlement(d: Document) -> list[Entry]:
    """The home district pays what it owes through the platform, which repays the district of care.

    Home district: Dr 2001.02 / Cr 1003. Platform: Dr 2001.02 / Cr 1101.01.
    District of care: Dr 1003 / Cr 1101.01.
    """
    home, platform, care = _care_books(d, "care_region")
    amount_fen = d["amount"]
    return [
        Entry(home, Book.CrossDistrictSettled, _pair(home, chart.CARE_CLEARING, chart.FISCAL_ACCOUNT, amount_fen, 0)),
        Entry(platform, Book.CrossDistrictSettled, _pair(platform, chart.CARE_CLEARING, chart.CARE_ADVANCED, amount_fen, 0)),
        Entry(care, Book.CrossDistrictSettled, _pair(care, chart.FISCAL_ACCOUNT, chart.CARE_ADVANCED, amount_fen, 0)),
    ]


# Types whose document also writes its municipality's adjustment book (``_adjustment_book``).
MUNICIPAL_BOOK_TYPES = frozenset({"remittance", "grant", "gap_cover", "worker_settlement"})
# Cross-district care writes the district of care, the municipal platform and the other district (``_care_books``).
CARE_OTHER_REGION = {"cross_district_care": "home_region", "cross_district_settlement": "care_region"}


def regions_written(document: Document) -> list[str]:
    """Every region whose books a planned document writes, its own ``region`` first.

    A remittance, grant, gap cover or worker settlement also writes its
    municipality's adjustment book; cross-district care and its settlement
    write the municipal platform's book and the other district's. Reversals
    and closes are not planned here (the application finds their books).
    """
    regions = [document["region"]]
    if document.type in MUNICIPAL_BOOK_TYPES:
        regions.append(document.get("municipality", municipality_of(document["region"])))
    if document.type in CARE_OTHER_REGION:
        regions += [municipality_of(document["region"]), document[CARE_OTHER_REGION[document.type]]]
    return list(dict.fromkeys(regions))


_PLANNERS: dict[str, Callable[[Document], list[Entry]]] = {
    "opening_balances": _plan_opening_balances,
    "cross_district_care": _plan_cross_district_care,
    "cross_district_settlement": _plan_cross_district_settlement,
    "contribution": _plan_contribution,
    "subsidy": _plan_subsidy,
    "transfer": _plan_transfer,
    "claim": _plan_claim,
    "assistance": _plan_assistance,
    "sponsorship": _plan_sponsorship,
    "remittance": _plan_remittance,
    "grant": _plan_grant,
    "interest": _plan_interest,
    "gap_cover": _plan_gap_cover,
    "worker_settlement": _plan_gap_cover,
    "refund": _plan_refund,
    "recovery": _plan_recovery,
    "journal": _plan_journal,
}
