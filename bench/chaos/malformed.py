"""Malformed documents of many kinds, mixed with good ones: the bad lines are refused, the good ones post exactly.

Each malformed line is a good document of the generated file with one thing
wrong (an amount Excel wrote as ``1.23457E+11``, a decimal comma, a JSON
number with an exponent, a 5,000-digit amount, 2013-02-30, an unknown field
or fact, a wrong type, facts nested deep, bytes that are not UTF-8, CSV
junk ...), under an id ``CHAOS-BAD-<kind>-<n>`` so that one that got into
the books is named by its kind. Each file is one trial: ``ledger post``
must end with its summary and no traceback, post every good document,
reject every bad line (a row of empty CSV cells is skipped, not
rejected), and leave books equal to a clean run of the good documents
alone. The bad lines go before the file's first year-end close, so one
that was wrongly accepted is not hidden behind a closed period.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.chaos.books import differences, fingerprint, registry_count, verify_problems
from bench.chaos.campaign import Campaign
from bench.chaos.children import SUMMARY, post, summary_problems

BAD_PREFIX = "CHAOS-BAD-"
RAW = "\x00raw\x00"  # a placeholder string whose JSON text is replaced by raw JSON
DEEP_LEVELS = 100_000
OVERSIZED_LINE_BYTES = (1 << 20) + 10
CSV_OVERSIZED_CELL_BYTES = 200 * 1024
CSV_COLUMNS = ("id", "type", "date", "region", "scheme", "tier", "level", "amount", "memo")
SHARES = {"jsonl": 0.70, "csv": 0.20, "jsonl-non-utf8": 0.05, "csv-non-utf8": 0.05}

Templates = dict[str, dict[str, Any]]
Kind = Callable[[Templates, str], bytes]


def _json(document: dict[str, Any], raw: str | None = None) -> bytes:
    text = json.dumps(document, ensure_ascii=False)
    if raw is not None:
        text = text.replace(json.dumps(RAW), raw)
    return text.encode("utf-8")


def _with(template: str, raw: str | None = None, drop: tuple[str, ...] = (), **changes: Any) -> Kind:
    def make(templates: Templates, identifier: str) -> bytes:
        document = {**templates[template], "id": identifier, **changes}
        for name in drop:
            document.pop(name, None)
        return _json(document, raw)

    return make


def _facts(raw: str | None = None, **changes: Any) -> Kind:
    def make(templates: Templates, identifier: str) -> bytes:
        claim = templates["claim"]
        return _json({**claim, "id": identifier, "facts": {**claim["facts"], **changes}}, raw)

    return make


def _text(line: str) -> Kind:
    return lambda templates, identifier: line.replace("{id}", identifier).encode("utf-8")


def _bytes_in_memo(raw: bytes) -> Kind:
    def make(templates: Templates, identifier: str) -> bytes:
        return _json({**templates["interest"], "id": identifier, "memo": "MEMO"}).replace(b"MEMO", raw)

    return make


def _nested(levels: int) -> str:
    return '{"a":' * levels + "1" + "}" * levels


JSONL_KINDS: dict[str, Kind] = {
    # Amounts: one grammar, everything else refused (issue 9 §1).
    "amount-excel-exponent": _with("interest", amount="1.23457E+11"),
    "amount-exponent-text": _with("interest", amount="1e5"),
    "amount-json-exponent": _with("interest", raw="1E5", amount=RAW),
    "amount-json-float-exponent": _with("interest", raw="1.5e2", amount=RAW),
    "amount-decimal-comma": _with("interest", amount="1,23"),
    "amount-misplaced-comma": _with("interest", amount="1,234,56"),
    "amount-underscore": _with("interest", amount="1_000.00"),
    "amount-arabic-indic-digits": _with("interest", amount="١٠٠"),
    "amount-devanagari-digits": _with("interest", amount="१००"),
    "amount-three-decimals": _with("interest", amount="1.234"),
    "amount-two-points": _with("interest", amount="12.3.4"),
    "amount-negative": _with("interest", amount="-100.00"),
    "amount-zero": _with("interest", amount="0.00"),
    "amount-nan-text": _with("interest", amount="NaN"),
    "amount-infinity-text": _with("interest", amount="Infinity"),
    "amount-json-nan": _with("interest", raw="NaN", amount=RAW),
    "amount-json-infinity": _with("interest", raw="Infinity", amount=RAW),
    "amount-empty": _with("interest", amount=""),
    "amount-unit-suffix": _with("interest", amount="100元"),
    "amount-hexadecimal": _with("interest", amount="0x10"),
    "amount-boolean": _with("interest", amount=True),
    "amount-null": _with("interest", raw="null", amount=RAW),
    "amount-array": _with("interest", amount=[1]),
    "amount-object": _with("interest", amount={"yuan": 1}),
    "amount-5000-digits": _with("interest", amount="9" * 5000),
    "amount-over-cap": _with("interest", amount="1" + "0" * 25),
    "amount-missing": _with("interest", drop=("amount",)),
    # Dates: a day of the calendar, written YYYY-MM-DD.
    "date-february-30": _with("interest", date="2013-02-30"),
    "date-february-29-not-leap": _with("interest", date="2013-02-29"),
    "date-month-13": _with("interest", date="2013-13-01"),
    "date-june-31": _with("interest", date="2013-06-31"),
    "date-slashes": _with("interest", date="2013/06/15"),
    "date-day-first": _with("interest", date="15/06/2013"),
    "date-empty": _with("interest", date=""),
    "date-number": _with("interest", date=20130615),
    "date-chinese": _with("interest", date="二〇一三年六月十五日"),
    # Other fields: present, of their type and in their range.
    "id-empty": _with("interest", id=""),
    "id-too-long": lambda t, i: _with("interest", id=i + "-" + "x" * 64)(t, i),
    "id-number": _with("interest", id=12345),
    "id-missing": _with("interest", drop=("id",)),
    "type-unknown": _with("interest", type="payment"),
    "type-missing": _with("interest", drop=("type",)),
    "type-number": _with("interest", type=7),
    "region-five-digits": _with("interest", region="50010"),
    "region-letters": _with("interest", region="abcdef"),
    "region-list": _with("interest", region=["500101"]),
    "scheme-unknown": _with("interest", scheme="residents"),
    "scheme-number": _with("interest", scheme=1),
    "tier-letter": _with("interest", tier="x"),
    "tier-three": _with("interest", tier=3),
    "tier-fraction": _with("interest", tier=1.5),
    "tier-boolean": _with("interest", tier=True),
    "unknown-field": _with("interest", amonut="100.00"),
    "memo-too-long": _with("interest", memo="备" * 501),
    "memo-number": _with("interest", memo=5),
    "memo-nul-character": _with("interest", memo="a\u0000b"),
    "memo-lone-surrogate": _with("interest", raw='"\\ud800"', memo=RAW),
    "persons-negative": _with("contribution", persons=-5),
    "persons-text": _with("contribution", persons="many"),
    "persons-fraction": _with("contribution", persons=1.5),
    # Facts: only those the rule reads, each of its type.
    "fact-unknown": _facts(out_of_distrct=True, aproved=False),
    "fact-cost-excel-exponent": _facts(covered_cost="1.23457E+11"),
    "fact-cost-text": _facts(covered_cost="abc"),
    "fact-hospital-level-9": _facts(hospital_level="9"),
    "fact-too-many": lambda t, i: _facts(**{f"extra_{n}": n for n in range(60)})(t, i),
    "fact-nested-100": _facts(raw=_nested(100), hospital_level=RAW),
    "facts-text": _with("claim", facts="inpatient"),
    "facts-list": _with("claim", facts=[1, 2]),
    # Journals and reversals.
    "journal-over-line-limit": lambda t, i: _with("journal", postings=t["journal"]["postings"] * 101)(t, i),
    "journal-postings-text": _with("journal", postings="1003 2933333.32"),
    "reversal-of-unknown-document": _text('{"date": "2013-06-15", "id": "{id}", "type": "reversal", "reverses": "NO-SUCH-DOCUMENT"}'),
    # Lines that are not one JSON object.
    "line-null": _text("null"),
    "line-array": _text('["{id}"]'),
    "line-number": _text("42"),
    "line-string": _text('"{id}"'),
    "line-empty-object": _text("{}"),
    "line-truncated": _text('{"id": "{id}", "type": "interest", "amount": '),
    "line-trailing-garbage": lambda t, i: _with("interest")(t, i) + b" xyz",
    "line-two-objects": lambda t, i: _with("interest")(t, i) * 2,
}

NON_UTF8_KINDS: dict[str, Kind] = {
    "bytes-ff-fe": _bytes_in_memo(b"\xff\xfe"),
    "bytes-gbk-text": _bytes_in_memo("街道办事处".encode("gbk")),
    "bytes-truncated-sequence": _bytes_in_memo(b"\xe8\xa1"),
    "bytes-overlong-slash": _bytes_in_memo(b"\xc0\xaf"),
    "bytes-latin-1": _bytes_in_memo("café".encode("latin-1")),
}

# Lines the reader crashed on when the campaign was written: in a file of their own, so they hide nothing else.
LIMIT_KINDS: dict[str, Kind] = {
    "amount-json-5000-digits": _with("interest", raw="9" * 5000, amount=RAW),
    "facts-nested-100000": _facts(raw=_nested(DEEP_LEVELS), hospital_level=RAW),
    "array-nested-100000": _with("interest", raw="[" * DEEP_LEVELS + "]" * DEEP_LEVELS, memo=RAW),
    "line-over-1-mib": _with("interest", memo="x" * OVERSIZED_LINE_BYTES),
    "amount-200000-digits": _with("interest", amount="9" * 200_000),
    "amount-json-200000-digits": _with("interest", raw="9" * 200_000, amount=RAW),
    "fields-20000": lambda t, i: _with("interest", **{f"f{n}": n for n in range(20_000)})(t, i),
}


def _templates(documents: list[dict[str, Any]]) -> Templates:
    """One good document of each shape the kinds start from, dated mid-year."""
    first = {
        "interest": next(d for d in documents if d["type"] == "interest"),
        "contribution": next(d for d in documents if d["type"] == "contribution" and "facts" in d),
        "claim": next(d for d in documents if d["type"] == "claim" and "facts" in d),
        "journal": next(d for d in documents if d["type"] == "journal"),
    }
    return {name: {**document, "date": "2013-06-15"} for name, document in first.items()}


def bad_lines(kinds: dict[str, Kind], count: int, templates: Templates, label: str) -> list[tuple[str, bytes]]:
    """``count`` malformed lines, the kinds taken in turn so that every kind appears."""
    names = list(kinds)
    lines = []
    for number in range(count):
        kind = names[number % len(names)]
        lines.append((kind, kinds[kind](templates, f"{BAD_PREFIX}{kind}-{label}{number}")))
    return lines


def _mixed(campaign: Campaign, good: list[bytes], bad: list[bytes], last_position: int) -> list[bytes]:
    """The good lines in order, each bad line at a random place before ``last_position``."""
    places = sorted(campaign.rng.randint(0, last_position) for _ in bad)
    mixed: list[bytes] = []
    cursor = 0
    for place, line in zip(places, bad):
        mixed += good[cursor:place]
        cursor = max(cursor, place)
        mixed.append(line)
    return mixed + good[cursor:]


def run_malformed(campaign: Campaign, backend_name: str, base: Path, documents: list[dict[str, Any]]) -> None:
    """Every malformed file on one backend."""
    backend = campaign.backends[backend_name]
    result = campaign.scenario("malformed documents", backend_name)
    templates = _templates(documents)
    counts = {name: max(1, round(campaign.sizes.malformed * share)) for name, share in SHARES.items()}
    good_lines = base.read_bytes().splitlines()
    close = next(i for i, d in enumerate(documents) if d["type"] == "year_close")
    csv_good = _csv_good(documents)
    csv_base = campaign.folder / "csv-good.csv"
    csv_base.write_bytes(_csv_bytes(csv_good, []))
    trials = [
        ("jsonl", base, _jsonl(campaign, good_lines, bad_lines(JSONL_KINDS, counts["jsonl"], templates, "j"), close), counts["jsonl"]),
        ("jsonl-non-utf8", base, _jsonl(campaign, good_lines, bad_lines(NON_UTF8_KINDS, counts["jsonl-non-utf8"], templates, "u"), close), counts["jsonl-non-utf8"]),
        ("jsonl-limits", base, _jsonl(campaign, good_lines, bad_lines(LIMIT_KINDS, len(LIMIT_KINDS), templates, "l"), close), len(LIMIT_KINDS)),
        ("csv", csv_base, _csv_bytes(csv_good, _csv_junk(counts["csv"], templates)), None),
        ("csv-non-utf8", csv_base, _csv_bytes(csv_good, _csv_non_utf8(counts["csv-non-utf8"], templates)), counts["csv-non-utf8"]),
    ]
    for name, reference_file, content, rejected in trials:
        if name not in campaign.sizes.malformed_files:
            continue
        suffix = ".csv" if name.startswith("csv") else ".jsonl"
        path = campaign.folder / f"malformed-{name}{suffix}"
        path.write_bytes(content)
        if rejected is None:  # CSV junk: every line but the blank rows
            rejected = sum(1 for kind, _ in _csv_junk(counts["csv"], templates) if kind != "blank-row")
        problems = campaign.timed(result, lambda: _malformed_trial(campaign, backend, path, reference_file, rejected))
        result.record(problems, f"{name} ({rejected} bad lines)")
    result.note(
        f"malformed lines per run: {sum(counts[n] for n in ('jsonl', 'jsonl-non-utf8', 'csv', 'csv-non-utf8')) + len(LIMIT_KINDS):,} "
        f"of {len(JSONL_KINDS) + len(NON_UTF8_KINDS) + len(LIMIT_KINDS) + len(CSV_JUNK)} kinds"
    )


def _jsonl(campaign: Campaign, good: list[bytes], bad: list[tuple[str, bytes]], close: int) -> bytes:
    return b"\n".join(_mixed(campaign, good, [line for _, line in bad], close)) + b"\n"


def _malformed_trial(campaign: Campaign, backend: Any, path: Path, reference_file: Path, rejected: int) -> list[str]:
    url = backend.fresh_store("chaos")
    reference = campaign.reference(reference_file)
    # A file of good UTF-8 with bad bytes mixed in is posted naming its encoding: at full size its bad lines
    # outnumber its Chinese ones, and a file whose non-ASCII lines are mostly not UTF-8 is read as GB18030
    # when nobody says otherwise (docs/documents.md §2).
    run = post(path, url, *(["--encoding", "utf-8"] if "non-utf8" in path.name else []))
    problems = summary_problems(run, "ledger post", posted=len(reference.registry), rejected=rejected)
    books = fingerprint(url)
    if run.traceback or run.posted is None:
        return problems + [f"the books hold {len(books.registry)} of the clean run's {len(reference.registry)} documents"]
    accepted = sorted({identifier[len(BAD_PREFIX):].rsplit("-", 1)[0] for identifier in books.registry if identifier.startswith(BAD_PREFIX)})
    if accepted:
        problems.append(f"malformed documents were posted: {', '.join(accepted)}")
    return problems + differences(reference, books) + verify_problems(url)


# ---------------------------------------------------------------- CSV


def _csv_good(documents: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Interest and amount-given subsidies of the file, renamed: income that needs no earlier document."""
    # Chinese memos, as an agency's files have: they are also what tells the reader the file is UTF-8.
    return [
        {**d, "id": "CSV-" + d["id"], "memo": d.get("memo") or "财政专户收入"}
        for d in documents
        if d["type"] in ("interest", "subsidy") and "amount" in d and set(d) <= set(CSV_COLUMNS)
    ]


def _csv_bytes(good: list[dict[str, Any]], junk: list[tuple[str, bytes]]) -> bytes:
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    lines = text.getvalue().encode("utf-8").splitlines()
    for document in good:
        text = io.StringIO()
        csv.DictWriter(text, fieldnames=CSV_COLUMNS, lineterminator="\n").writerow(document)
        lines.append(text.getvalue().rstrip("\n").encode("utf-8"))
    # Junk goes between the header and the first good row, in turn with the good rows.
    header, rows = lines[0], lines[1:]
    mixed: list[bytes] = []
    for index in range(max(len(rows), len(junk))):
        if index < len(junk):
            mixed.append(junk[index][1])
        if index < len(rows):
            mixed.append(rows[index])
    return b"\n".join([header, *mixed]) + b"\n"


def _csv_row(template: dict[str, Any], identifier: str, **changes: Any) -> bytes:
    text = io.StringIO()
    csv.DictWriter(text, fieldnames=CSV_COLUMNS, lineterminator="\n", extrasaction="ignore").writerow({**template, "id": identifier, **changes})
    return text.getvalue().rstrip("\n").encode("utf-8")


CSV_JUNK: dict[str, Callable[[dict[str, Any], str], bytes]] = {
    "more-cells-than-header": lambda t, i: _csv_row(t, i) + b",extra,cells",
    "amount-excel-exponent": lambda t, i: _csv_row(t, i, amount="1.23457E+11"),
    "amount-decimal-comma": lambda t, i: _csv_row(t, i, amount="1,23"),
    "amount-thousands-misplaced": lambda t, i: _csv_row(t, i, amount="1,0000.00"),
    "amount-formula": lambda t, i: _csv_row(t, i, amount="=SUM(A1:A9)"),
    "amount-currency-sign": lambda t, i: _csv_row(t, i, amount="¥100.00"),
    "date-excel-slashes": lambda t, i: _csv_row(t, i, date="2013/6/15"),
    "date-february-30": lambda t, i: _csv_row(t, i, date="2013-02-30"),
    "date-excel-serial": lambda t, i: _csv_row(t, i, date="41440"),
    "type-unknown": lambda t, i: _csv_row(t, i, type="payment"),
    "tier-letter": lambda t, i: _csv_row(t, i, tier="x"),
    "header-repeated": lambda t, i: ",".join(CSV_COLUMNS).encode(),
    "id-empty": lambda t, i: _csv_row(t, ""),
    "nul-byte": lambda t, i: _csv_row(t, i, memo="a\x00b"),
    "blank-row": lambda t, i: b"," * (len(CSV_COLUMNS) - 1),
}
CSV_RARE_JUNK = {"cell-over-128-kib": lambda t, i: _csv_row(t, i, memo="x" * CSV_OVERSIZED_CELL_BYTES)}


def _csv_template(templates: Templates) -> dict[str, Any]:
    return {**templates["interest"], "date": "2013-06-15"}


def _csv_junk(count: int, templates: Templates) -> list[tuple[str, bytes]]:
    template = _csv_template(templates)
    names = list(CSV_JUNK)
    junk = [(names[n % len(names)], CSV_JUNK[names[n % len(names)]](template, f"{BAD_PREFIX}{names[n % len(names)]}-c{n}")) for n in range(count)]
    rare = [(name, make(template, f"{BAD_PREFIX}{name}-c0")) for name, make in CSV_RARE_JUNK.items()]
    return junk + rare


def _csv_non_utf8(count: int, templates: Templates) -> list[tuple[str, bytes]]:
    template = _csv_template(templates)
    samples = [b"\xff\xfe", "街道办事处".encode("gbk"), b"\xe8\xa1", b"\xc0\xaf"]
    return [("bytes", _csv_row(template, f"{BAD_PREFIX}bytes-n{n}", memo="MEMO").replace(b"MEMO", samples[n % len(samples)])) for n in range(count)]


# ---------------------------------------------------------------- one kind at a time


def run_kinds(campaign: Campaign, backend_name: str, documents: list[dict[str, Any]]) -> None:
    """Each malformed kind alone, through the command in this process, on one store that must stay empty.

    The mixed files show what a user sees; this shows, kind by kind, which
    ones crash the reader or get into the books, where in a mixed file the
    first crash hides the rest. A trial per kind.
    """
    from typer.testing import CliRunner

    from ledger.cli import app

    backend = campaign.backends[backend_name]
    result = campaign.scenario("malformed kinds, one at a time", backend_name)
    templates = _templates(documents)
    url = backend.fresh_store("chaos")
    runner = CliRunner()
    header = ",".join(CSV_COLUMNS).encode()
    csv_template = _csv_template(templates)
    lines = [(kind, ".jsonl", make(templates, f"{BAD_PREFIX}{kind}-k")) for kinds in (JSONL_KINDS, NON_UTF8_KINDS, LIMIT_KINDS) for kind, make in kinds.items()]
    lines += [(f"csv {kind}", ".csv", header + b"\n" + make(csv_template, f"{BAD_PREFIX}{kind}-kc")) for kind, make in {**CSV_JUNK, **CSV_RARE_JUNK}.items()]
    non_utf8 = [(f"csv {kind}", ".csv", header + b"\n" + line) for kind, line in _csv_non_utf8(4, templates)[:1]]
    lines += non_utf8
    # A file of one line has nothing to vote with: a GBK memo alone is a GBK file (docs/documents.md §2).
    # These kinds are bytes that are not UTF-8 in a file known to be UTF-8, so the run names the encoding.
    named_utf8 = set(NON_UTF8_KINDS) | {kind for kind, _, _ in non_utf8}
    for kind, suffix, line in lines:
        path = campaign.folder / f"kind{suffix}"
        path.write_bytes(line + b"\n")
        before = registry_count(url)
        encoding = ["--encoding", "utf-8"] if kind in named_utf8 else []
        outcome = campaign.timed(result, lambda: runner.invoke(app, ["post", str(path), "--db", url, "-q", *encoding]))
        result.record(campaign.timed(result, lambda: _kind_problems(kind, outcome, registry_count(url) - before)), kind)


def _kind_problems(kind: str, outcome: Any, posted: int) -> list[str]:
    expected = 0 if kind.endswith("blank-row") else 1
    if outcome.exception is not None and not isinstance(outcome.exception, SystemExit):
        error = outcome.exception
        return [f"traceback: {type(error).__name__}: {str(error).splitlines()[0][:160] if str(error) else ''}"]
    problems = []
    summary = SUMMARY.search(outcome.stdout)
    if summary is None:
        problems.append(f"no summary (exit {outcome.exit_code}): {outcome.output.strip()[-200:]}")
    elif int(summary.group(4)) != expected:
        problems.append(f"{summary.group(0)}; expected {expected} rejected")
    if outcome.exit_code != expected:
        problems.append(f"exit {outcome.exit_code}, expected {expected}")
    if posted:
        problems.append("the malformed document was posted")
    return problems
