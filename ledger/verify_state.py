"""Prove the policy engine's state events against the books, which are hash-chained.

The engine keeps three small aggregates beside the books
(``ledger.aggregates.state``): an insured person's use of the annual caps in
a year (``InsuredYear``), a household's funding tier (``Household``) and a
district's remittances to the municipal adjustment fund (``DistrictFund``).
They have no hash chain of their own, and their events keep the shapes they
always had, so stores written before still verify. Each is proven instead:

* its id is the uuid5 of its own fields, recomputed from its ``Opened`` event;
* its versions run 1..N without a gap;
* every event after ``Opened`` names the document whose book event carries
  the computation that justifies it, and agrees with it; and conversely every
  book event whose computation records a use, a household's tier choice or a
  remittance has its state event, so a deleted one is named.

One pass reads the state events and one the book events of the four kinds
that write state (claims, assistance, contributions, remittances), each a
page at a time in primary-key order. What each pass expects is kept as one
small tuple per state-writing document, and the two are compared at the end.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic
from sqlalchemy import select

from ledger.aggregates.book import Book
from ledger.aggregates.state import DistrictFund, Household, InsuredYear, district_fund_id, household_id, insured_year_id
from ledger.money import format_yuan
from ledger.persistence import after_event

PAGE_SIZE_EVENTS = 5000
# The remittance's debit in the district's book (``documents._plan_remittance``); the city's side credits 4402.
REMITTANCE_ACCOUNT = "5301"

STATE_OPENED = (InsuredYear.Opened, Household.Opened, DistrictFund.Opened)
STATE_CHANGES = (InsuredYear.Used, Household.TierChosen, DistrictFund.Remitted)
# The book events whose documents the engine writes state for (``ledger.policy.engine``).
STATE_WRITING_BOOK_EVENTS = (Book.ClaimPaid, Book.AssistanceDisbursed, Book.ContributionReceived, Book.AdjustmentRemitted)


@dataclass(frozen=True)
class Claim:
    """What a state event says about one document, or what the document's book event says it should.

    Attributes:
      aggregate: the state aggregate, worded for the auditor ("insured person P-1 of 500101 in 2013").
      version: the state event's version (0 for what a book event expects).
      values: the figures compared, e.g. ``{"usage": {"annual_cap": 120000}}``.
      where: the book event, worded for the auditor (empty for a state event).
    """

    aggregate: str
    version: int
    values: dict[str, Any]
    where: str = ""


def stored_events(ledger, topics: Iterable[str]) -> Iterator[tuple[UUID, int, Any]]:  # type: ignore[no-untyped-def]
    """Every stored event of the given topics as ``(originator_id, version, event)``, by aggregate and version, a page at a time.

    A row that no longer decodes is yielded with ``None`` as its event: it is itself evidence.
    """
    table = ledger.app.recorder.events_record_cls.__table__
    topics = list(topics)
    last: tuple[Any, int] | None = None
    with ledger.engine.connect() as connection:
        while True:
            query = select(table.c.originator_id, table.c.originator_version, table.c.topic, table.c.state).where(table.c.topic.in_(topics))
            if last is not None:
                query = query.where(after_event(table, last))
            rows = connection.execute(query.order_by(table.c.originator_id, table.c.originator_version).limit(PAGE_SIZE_EVENTS)).all()
            for originator_id, version, topic, state in rows:
                identifier = originator_id if isinstance(originator_id, UUID) else UUID(str(originator_id))
                try:
                    event = ledger.app.mapper.to_domain_event(StoredEvent(identifier, int(version), topic, bytes(state)))
                except Exception:  # a row that no longer decodes is named by the caller
                    event = None
                yield identifier, int(version), event
            if len(rows) < PAGE_SIZE_EVENTS:
                return
            last = (rows[-1][0], rows[-1][1])


def _aggregate_name(opened: Any) -> str:
    if isinstance(opened, InsuredYear.Opened):
        return f"insured person {opened.person} of {opened.region} in {opened.year}"
    if isinstance(opened, Household.Opened):
        return f"household {opened.household} of {opened.region}"
    return f"district fund {opened.region}/{opened.scheme}"


def _expected_id(opened: Any) -> UUID:
    if isinstance(opened, InsuredYear.Opened):
        return insured_year_id(opened.region, opened.person, opened.year)
    if isinstance(opened, Household.Opened):
        return household_id(opened.region, opened.household)
    return district_fund_id(opened.region, opened.scheme)


def _values(event: Any) -> dict[str, Any]:
    if isinstance(event, InsuredYear.Used):
        return {"usage": {bucket: int(fen) for bucket, fen in event.usage.items()}}
    if isinstance(event, Household.TierChosen):
        return {"tier": int(event.tier), "year": int(event.year)}
    return {"year": int(event.year), "tier": int(event.tier), "amount_fen": int(event.amount_fen)}


def state_claims(ledger) -> tuple[int, dict[tuple[str, str], Claim], list[tuple[str, str]]]:  # type: ignore[no-untyped-def]
    """Read every state event once: the count, what each names by ``(aggregate id hex, document)``, and the findings of the reading.

    A finding is ``(aggregate, message)``: an id that is not the uuid5 of
    the ``Opened`` event's fields, a version out of 1..N, a row that does not
    decode, a document named twice in one aggregate.
    """
    topics = [get_topic(cls) for cls in STATE_OPENED + STATE_CHANGES]
    claims: dict[tuple[str, str], Claim] = {}
    findings: list[tuple[str, str]] = []
    count, current, version, name = 0, None, 0, ""
    for identifier, stored_version, event in stored_events(ledger, topics):
        count += 1
        if identifier != current:
            current, version, name = identifier, 0, f"state aggregate {identifier.hex}"
        if event is None:
            findings.append((name, f"version {stored_version} cannot be read: the stored row was changed"))
        elif isinstance(event, STATE_OPENED):
            name = _aggregate_name(event)
            if _expected_id(event) != identifier:
                findings.append((name, f"version {stored_version} (Opened) has id {identifier.hex}, its fields give {_expected_id(event).hex}: the event was changed"))
        if stored_version != version + 1:
            missing = f"version {version + 1}" if stored_version == version + 2 else f"versions {version + 1}–{stored_version - 1}"
            findings.append((name, f"{missing} missing before version {stored_version}: state events were deleted"))
        version = stored_version
        if isinstance(event, STATE_CHANGES):
            key = (identifier.hex, str(event.document_id))
            if key in claims:
                findings.append((name, f"versions {claims[key].version} and {stored_version} both name document {event.document_id}"))
            claims[key] = Claim(name, stored_version, _values(event))
    return count, claims, findings


def _book_keys(ledger) -> dict[UUID, tuple[str, str, int]]:  # type: ignore[no-untyped-def]
    """Every book's region, scheme and year, from its ``Opened`` event (one per book)."""
    return {
        identifier: (event.region, event.scheme, int(event.year))
        for identifier, _, event in stored_events(ledger, [get_topic(Book.Opened)])
        if event is not None
    }


def book_claims(ledger) -> dict[tuple[str, str], Claim]:  # type: ignore[no-untyped-def]
    """What the book events of claims, assistance, contributions and remittances say the state must hold, by ``(aggregate id hex, document)``.

    A use where the computation records one (``Computation.usage``, any
    bucket non-zero); a remittance from the district book's 5301 line (every
    remittance, computed or given, ``engine._remittance``); a tier choice
    where a contribution's computation names a household and its tier
    differs from the household's tier before it, in recording order
    (``Household.choose``).
    """
    keys = _book_keys(ledger)
    expected: dict[tuple[str, str], Claim] = {}
    contributions: list[tuple[datetime, str, UUID, str, int, int, str]] = []
    topics = [get_topic(cls) for cls in STATE_WRITING_BOOK_EVENTS]
    for book, version, event in stored_events(ledger, topics):
        if event is None or book not in keys:
            continue  # the book's replay names an unreadable row or a missing Opened
        region, scheme, _ = keys[book]
        year = int(event.effective_date[:4])
        where = f"{region}/{scheme}/{keys[book][2]} version {version} ({type(event).__name__}, document {event.document_id})"
        computation = event.computation or {}
        facts = computation.get("facts") or {}
        usage = {bucket: int(fen) for bucket, fen in (computation.get("usage") or {}).items()}
        if any(usage.values()) and "person" in facts:
            person = str(facts["person"])
            name = f"insured person {person} of {region} in {year}"
            expected[(insured_year_id(region, person, year).hex, event.document_id)] = Claim(name, 0, {"usage": usage}, where)
        elif isinstance(event, Book.AdjustmentRemitted):
            for account, tier, amount_fen in event.postings:
                if str(account).startswith(REMITTANCE_ACCOUNT):
                    name = f"district fund {region}/{scheme}"
                    values = {"year": year, "tier": int(tier), "amount_fen": int(amount_fen)}
                    expected[(district_fund_id(region, scheme).hex, event.document_id)] = Claim(name, 0, values, where)
        elif isinstance(event, Book.ContributionReceived) and facts.get("household") and facts.get("tier") is not None:
            identifier = household_id(region, str(facts["household"]))
            name = f"household {facts['household']} of {region}"
            contributions.append((event.timestamp, event.document_id, identifier, name, int(facts["tier"]), year, where))
    tiers: dict[UUID, int] = {}
    for _, document_id, identifier, name, tier, year, where in sorted(contributions, key=lambda c: c[0]):
        if tiers.get(identifier) != tier:
            expected[(identifier.hex, document_id)] = Claim(name, 0, {"tier": tier, "year": year}, where)
        tiers[identifier] = tier
    return expected


def _shown(values: dict[str, Any]) -> str:
    return ", ".join(
        f"{name} {format_yuan(value)}" if name == "amount_fen" else f"{name} {value}" for name, value in values.items()
    ).replace("amount_fen", "amount")


def compare(ledger, claims: dict[tuple[str, str], Claim], expected: dict[tuple[str, str], Claim]) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """Every state event the books do not justify, every book event with no state event, and every figure that differs."""
    findings: list[tuple[str, str]] = []
    unjustified = sorted(set(claims) - set(expected), key=lambda k: (claims[k].aggregate, claims[k].version))
    registered = ledger.app.registered([document for _, document in unjustified]) if unjustified else {}
    for key in unjustified:
        claim, document = claims[key], key[1]
        why = "is not in the document registry" if document not in registered else "has no book event whose computation records it"
        findings.append((claim.aggregate, f"version {claim.version} names document {document}, which {why}: the state event was changed or forged"))
    for key in sorted(set(expected) - set(claims), key=lambda k: (expected[k].aggregate, k[1])):
        wanted = expected[key]
        findings.append(
            (wanted.aggregate, f"has no state event for document {key[1]} ({_shown(wanted.values)}, recorded at {wanted.where}): it was deleted")
        )
    for key in sorted(set(claims) & set(expected), key=lambda k: (claims[k].aggregate, claims[k].version)):
        claim, wanted = claims[key], expected[key]
        if claim.values != wanted.values:
            findings.append(
                (
                    claim.aggregate,
                    f"version {claim.version} (document {key[1]}) says {_shown(claim.values)}, the book's computation at "
                    f"{wanted.where} gives {_shown(wanted.values)}: the state event was changed",
                )
            )
    return findings


def verify_state(ledger) -> tuple[int, list[tuple[str, str]]]:  # type: ignore[no-untyped-def]
    """Prove every state event against its aggregate's id and versions and against the books: the count read and the findings."""
    count, claims, findings = state_claims(ledger)
    return count, findings + compare(ledger, claims, book_claims(ledger))

