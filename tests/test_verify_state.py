"""verify proves the policy engine's state events against the books (issue 9 §3): both backends.

The story, 万州区 (500101), resident scheme, figures worked by hand:

  S-12  2012-01-10 central subsidy 320,000.00 tier 1 into the fiscal account
  T-12  2012-01-11 fiscal → payment 300,000.00
  K-1   2012-05-01 inpatient claim, P-2, level 1, covered 80,100.00:
        (80,100.00 − 100.00) × 80% = 64,000.00, P-2's annual cap use 6,400,000 fen
  K-2   2012-05-01 inpatient claim, P-2, level 1, covered 10,100.00:
        (10,100.00 − 100.00) × 80% = 8,000.00, but 70,000.00 − 64,000.00 = 6,000.00 left: use 600,000 fen
  C-1   2012-03-02 contribution tier 1, household H-7, 3 urban persons (the household chooses tier 1 in 2012)
  C-3   2014-03-02 contribution tier 2, household H-7 (the household changes to tier 2 in 2014)
  R-12  2012-06-30 remittance, fundraising 10,000.00: × 8% = 800.00 (80,000 fen), tier 1

State aggregates and their events:
  insured person P-2 of 500101 in 2012: 1 Opened, 2 Used K-1 {6,400,000}, 3 Used K-2 {600,000}
  household H-7 of 500101:              1 Opened, 2 TierChosen C-1 (tier 1, 2012), 3 TierChosen C-3 (tier 2, 2014)
  district fund 500101/resident:        1 Opened, 2 Remitted R-12 (2012, tier 1, 80,000 fen)
"""

from __future__ import annotations

import json

from sqlalchemy import delete, select, update
from typer.testing import CliRunner

from ledger.aggregates.state import district_fund_id, household_id, insured_year_id
from ledger.cli import app
from ledger.documents import read_document
from ledger.verify import verify

WANZHOU = "500101"
BUCKET = "resident_annual_cap"  # ledger.policy.rules.claims.ANNUAL_CAP_BUCKET
PERSON = insured_year_id(WANZHOU, "P-2", 2012)
HOUSEHOLD = household_id(WANZHOU, "H-7")
FUND = district_fund_id(WANZHOU, "resident")
PERSON_NAME = "insured person P-2 of 500101 in 2012"
HOUSEHOLD_NAME = "household H-7 of 500101"
FUND_NAME = "district fund 500101/resident"


def _claim(document_id: str, cost: str) -> dict:
    return {"id": document_id, "type": "claim", "date": "2012-05-01", "region": WANZHOU, "scheme": "resident", "tier": 1,
            "category": "inpatient", "facts": {"person": "P-2", "hospital_level": "1", "covered_cost": cost}}


def _contribution(document_id: str, date: str, tier: int) -> dict:
    return {"id": document_id, "type": "contribution", "date": date, "region": WANZHOU, "scheme": "resident",
            "tier": tier, "facts": {"urban": 3, "household": "H-7"}}


STORY = [
    {"id": "S-12", "type": "subsidy", "date": "2012-01-10", "region": WANZHOU, "scheme": "resident", "tier": 1,
     "level": "central", "amount": "320000.00"},
    {"id": "T-12", "type": "transfer", "date": "2012-01-11", "region": WANZHOU, "scheme": "resident",
     "from": "fiscal", "to": "payment", "amount": "300000.00"},
    _claim("K-1", "80100.00"),
    _claim("K-2", "10100.00"),
    _contribution("C-1", "2012-03-02", 1),
    _contribution("C-3", "2014-03-02", 2),
    {"id": "R-12", "type": "remittance", "date": "2012-06-30", "region": WANZHOU, "tier": 1, "facts": {"fundraising": "10000.00"}},
]


def _story(ledger) -> None:
    outcomes = list(ledger.post([read_document(raw) for raw in STORY]))
    assert [o.status for o in outcomes] == ["posted"] * len(STORY), [str(o.error) for o in outcomes]


def _where(table, identifier, version):  # type: ignore[no-untyped-def]
    return (table.c.originator_id == identifier) & (table.c.originator_version == version)


def _state(ledger, identifier, version) -> dict:
    table = ledger.app.recorder.events_record_cls.__table__
    with ledger.engine.connect() as connection:
        return json.loads(bytes(connection.execute(select(table.c.state).where(_where(table, identifier, version))).scalar_one()))


def _edit(ledger, identifier, version, **changes) -> None:
    table = ledger.app.recorder.events_record_cls.__table__
    state = {**_state(ledger, identifier, version), **changes}
    with ledger.engine.begin() as connection:
        connection.execute(update(table).where(_where(table, identifier, version)).values(state=json.dumps(state).encode()))


def _delete(ledger, identifier, version) -> None:
    table = ledger.app.recorder.events_record_cls.__table__
    with ledger.engine.begin() as connection:
        assert connection.execute(delete(table).where(_where(table, identifier, version))).rowcount == 1


def _findings(ledger) -> list[str]:
    return [f"{f.book}: {f.message}" for f in verify(ledger).findings]


def test_the_untampered_story_agrees_and_its_state_is_what_the_books_computed(ledger):
    _story(ledger)
    assert _state(ledger, PERSON, 2)["usage"] == {BUCKET: 6_400_000}
    assert _state(ledger, PERSON, 3)["usage"] == {BUCKET: 600_000}
    assert (_state(ledger, HOUSEHOLD, 3)["tier"], _state(ledger, HOUSEHOLD, 3)["year"]) == (2, 2014)
    assert _state(ledger, FUND, 2)["amount_fen"] == 80_000
    report = verify(ledger)
    assert report.findings == []
    assert report.state_events == 3 + 3 + 2


def test_a_changed_usage_is_named_with_person_version_and_document(ledger):
    _story(ledger)
    _edit(ledger, PERSON, 2, usage={BUCKET: 100})
    (finding,) = _findings(ledger)
    assert finding.startswith(f"{PERSON_NAME}: version 2 (document K-1) says usage {{'{BUCKET}': 100}}")
    assert f"gives usage {{'{BUCKET}': 6400000}}" in finding


def test_a_changed_tier_is_named(ledger):
    _story(ledger)
    _edit(ledger, HOUSEHOLD, 3, tier=3)
    (finding,) = _findings(ledger)
    assert finding.startswith(f"{HOUSEHOLD_NAME}: version 3 (document C-3) says tier 3, year 2014")
    assert "gives tier 2, year 2014" in finding


def test_a_changed_year_of_a_tier_choice_is_named(ledger):
    _story(ledger)
    _edit(ledger, HOUSEHOLD, 2, year=2010)
    (finding,) = _findings(ledger)
    assert finding.startswith(f"{HOUSEHOLD_NAME}: version 2 (document C-1) says tier 1, year 2010")


def test_a_changed_remittance_amount_is_named(ledger):
    _story(ledger)
    _edit(ledger, FUND, 2, amount_fen=1)
    (finding,) = _findings(ledger)
    assert finding.startswith(f"{FUND_NAME}: version 2 (document R-12) says year 2012, tier 1, amount 0.01")
    assert "gives year 2012, tier 1, amount 800.00" in finding


def test_a_deleted_last_use_and_a_deleted_last_tier_choice_are_named(ledger):
    _story(ledger)
    _delete(ledger, PERSON, 3)
    _delete(ledger, HOUSEHOLD, 3)
    found = _findings(ledger)
    assert len(found) == 2, found
    assert any(f.startswith(f"{PERSON_NAME}: has no state event for document K-2 (usage {{'{BUCKET}': 600000}}") for f in found)
    assert any(f.startswith(f"{HOUSEHOLD_NAME}: has no state event for document C-3 (tier 2, year 2014") for f in found)


def test_a_deleted_remittance_is_named(ledger):
    _story(ledger)
    _delete(ledger, FUND, 2)  # the last row of the log, so the log's end is named too
    found = _findings(ledger)
    assert any(f.startswith(f"{FUND_NAME}: has no state event for document R-12 (year 2012, tier 1, amount 800.00") for f in found), found


def test_a_deleted_middle_event_is_named_as_a_gap_and_as_a_missing_use(ledger):
    _story(ledger)
    _delete(ledger, PERSON, 2)
    found = _findings(ledger)
    assert f"{PERSON_NAME}: version 2 missing before version 3: state events were deleted" in found
    assert any(f.startswith(f"{PERSON_NAME}: has no state event for document K-1") for f in found)
    assert len(found) == 2, found


def test_a_changed_field_of_the_opened_event_no_longer_gives_its_id(ledger):
    _story(ledger)
    _edit(ledger, PERSON, 1, person="P-9")
    found = _findings(ledger)
    assert any(
        f.startswith(f"insured person P-9 of 500101 in 2012: version 1 (Opened) has id {PERSON.hex}, its fields give "
                     f"{insured_year_id(WANZHOU, 'P-9', 2012).hex}")
        for f in found
    ), found


def test_a_state_event_naming_another_document_is_named(ledger):
    _story(ledger)
    _edit(ledger, PERSON, 3, document_id="K-9")  # not in the registry
    _edit(ledger, FUND, 2, document_id="K-1")  # in the registry, but a claim computes no remittance
    found = _findings(ledger)
    assert f"{PERSON_NAME}: version 3 names document K-9, which is not in the document registry: the state event was changed or forged" in found
    assert f"{FUND_NAME}: version 2 names document K-1, which has no book event whose computation records it: the state event was changed or forged" in found
    assert any(f.startswith(f"{PERSON_NAME}: has no state event for document K-2") for f in found)
    assert any(f.startswith(f"{FUND_NAME}: has no state event for document R-12") for f in found)
    assert len(found) == 4, found


def test_the_demo_agrees(store_url):
    runner = CliRunner()
    assert runner.invoke(app, ["demo", "--size", "1", "--db", store_url]).exit_code == 0
    checked = runner.invoke(app, ["verify", "--db", store_url])
    assert checked.exit_code == 0, checked.output
    assert "agree" in checked.output


def test_events_past_one_page_are_read_once_each_and_verify_ends(ledger, monkeypatch):
    """Paging by (originator_id, version): a page of 2 over the story's events reads each once, then stops.

    The first version compared a row-value tuple whose UUID SQLite bound as hyphenated text, below the stored
    hex form: past one page (5,000 events on the demo at size 10) it read the same page for ever.
    """
    import itertools

    from eventsourcing.utils import get_topic
    from sqlalchemy import func, select

    import ledger.verify as verify_module
    import ledger.verify_state as verify_state_module
    from ledger.aggregates.book import Book

    _story(ledger)
    topics = [get_topic(cls) for cls in (Book.Opened, Book.ClaimPaid, Book.ContributionReceived, Book.AdjustmentRemitted)]
    table = ledger.app.recorder.events_record_cls.__table__
    with ledger.engine.connect() as connection:
        stored = connection.execute(select(func.count()).where(table.c.topic.in_(topics))).scalar_one()
    assert stored > 2
    monkeypatch.setattr(verify_state_module, "PAGE_SIZE_EVENTS", 2)
    monkeypatch.setattr(verify_module, "PAGE_SIZE_EVENTS", 2)
    read = list(itertools.islice(verify_state_module.stored_events(ledger, topics), stored + 1))
    assert len(read) == stored
    assert len({(identifier, version) for identifier, version, _ in read}) == stored
    assert verify_module.verify(ledger).agrees
