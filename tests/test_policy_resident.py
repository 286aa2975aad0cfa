"""Resident funding rules of 渝府发〔2007〕113号 (渝府发〔2007〕113号): worked examples by hand, and posting with facts."""

from __future__ import annotations

import json
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.documents import read_document
from ledger.errors import DocumentFormatError
from ledger.policy import PolicyError, load_policy, parse_policy_file, policy_files
from ledger.policy.engine import PolicyMismatchError
from ledger.policy.facts import Facts
from ledger.policy.rules.resident import (
    TierLockedError,
    check_tier_lock,
    contribution,
    hardship_drawdown,
    subsidy_split,
)
from ledger.projections import queries
from ledger.store import explain

ON = date(2012, 3, 1)
POLICY = load_policy("500101", ON)


def split(**facts):
    return subsidy_split(Facts(facts), POLICY).amounts


def test_one_standard_urban_resident_in_a_general_district():
    # 渝府发〔2007〕113号 三(五)2: ≥ 40 a person, central 20; the municipality pays 75% of the other 20 in a 一般区县.
    assert split(urban=1, district_class="general") == {"central": 2000, "municipal": 1500, "district": 500}
    # individual = tier 1 amount 50 − subsidy 40 = 10.00
    assert contribution(Facts({"tier": 1, "urban": 1}), POLICY).amounts == {"individual": 1000, "held": 0}


def test_main_urban_districts_share_the_local_part_half_and_half():
    # 10 × 20 central = 200.00; local 10 × 20 = 200.00: municipal 50% = 100.00, district 100.00
    assert split(urban=10, district_class="main_urban") == {"central": 20000, "municipal": 10000, "district": 10000}


def test_a_hardship_child_in_a_poverty_key_district():
    # urban: central 20, local 20 → municipal 90% 18.00, district 2.00
    # hardship child: 40 + 60 = 100, central 20 + 5 = 25, local 75 → municipal 67.50, district 7.50
    # central 20 + 25 = 45.00; municipal 18 + 67.50 = 85.50; district 2 + 7.50 = 9.50 (sum 140.00 = 40 + 100)
    assert split(urban=1, urban_hardship_child=1, district_class="poverty_key") == {
        "central": 4500,
        "municipal": 8550,
        "district": 950,
    }


def test_hardship_adults_extra_subsidy_is_held_at_tier_1_and_lowers_the_share_at_tier_2():
    # tier 1: individual 50 − 40 = 10.00 each, the extra 60.00 each held (记账): 2 × 60 = 120.00
    assert contribution(Facts({"tier": 1, "urban_hardship_adult": 2}), POLICY).amounts == {"individual": 2000, "held": 12000}
    # tier 2: individual 160 − 40 − 60 = 60.00 each; 2 urban at 160 − 40 = 120.00 → 2 × 120 + 60 = 300.00
    assert contribution(Facts({"tier": 2, "urban": 2, "urban_hardship_adult": 1}), POLICY).amounts == {"individual": 30000, "held": 0}


def test_rural_residents_are_subsidised_at_the_ncms_standard():
    # our reading: 新农合 2007 standard 40 (central 20); tier 1: 50 − 40 = 10.00
    assert contribution(Facts({"tier": 1, "rural": 4}), POLICY).amounts["individual"] == 4000
    assert split(rural=1, district_class="general") == {"central": 2000, "municipal": 1500, "district": 500}


def district_override(total: str) -> str:
    return f"""
[policy]
id = "wanzhou-2012"
region = "500101"
effective_from = "2012-01-01"
seed = "000_026dec3e8a5df88c.txt"
title = "a district raising the urban subsidy"

[parameters."resident.subsidy.urban.total"]
value = "{total}"
unit = "yuan"
minimum = true
source = "district decision"
"""


def test_a_district_may_raise_a_minimum_and_the_split_follows():
    files = (*policy_files(), parse_policy_file(district_override("50.00")))
    policy = load_policy("500101", ON, files)
    # 50 a person: central 20, local 30 → municipal 75% 22.50, district 7.50; individual 50 − 50 = 0.00
    assert subsidy_split(Facts({"urban": 1, "district_class": "general"}), policy).amounts == {
        "central": 2000,
        "municipal": 2250,
        "district": 750,
    }
    assert contribution(Facts({"tier": 1, "urban": 1}), policy).amounts["individual"] == 0


def test_a_district_may_not_lower_a_minimum():
    files = (*policy_files(), parse_policy_file(district_override("30.00")))
    with pytest.raises(PolicyError, match="below the minimum"):
        load_policy("500101", ON, files)


def test_the_tier_is_locked_for_two_years():
    # chosen tier 1 for 2012: 2013 may not change (两年之内不得变更), 2014 may
    with pytest.raises(TierLockedError):
        check_tier_lock(1, 2012, 2, 2013, POLICY)
    check_tier_lock(1, 2012, 2, 2014, POLICY)
    check_tier_lock(1, 2012, 1, 2013, POLICY)


def test_the_hardship_account_pays_own_shares_until_the_year_s_60_yuan_is_used():
    facts = {"hardship_group": "hardship_adult"}
    first = hardship_drawdown(Facts({**facts, "out_of_pocket": "45.00"}), POLICY, 0)
    assert first.amounts == {"paid": 4500} and first.usage == {"hardship_account": 4500}
    # 60.00 − 45.00 used = 15.00 left
    assert hardship_drawdown(Facts({**facts, "out_of_pocket": "30.00"}), POLICY, 4500).amounts == {"paid": 1500}
    assert hardship_drawdown(Facts({**facts, "out_of_pocket": "10.00"}), POLICY, 6000).amounts == {"paid": 0}


def test_missing_and_bad_facts_are_named():
    with pytest.raises(DocumentFormatError, match="facts.urban"):
        subsidy_split(Facts({"district_class": "general"}), POLICY)
    with pytest.raises(DocumentFormatError, match="facts.district_class"):
        subsidy_split(Facts({"urban": 1, "district_class": "suburban"}), POLICY)
    with pytest.raises(DocumentFormatError, match="facts.tier"):
        contribution(Facts({"urban": 1}), POLICY)


@settings(max_examples=200, deadline=None)
@given(
    counts=st.lists(st.integers(min_value=0, max_value=200_000), min_size=4, max_size=4).filter(any),
    district_class=st.sampled_from(["main_urban", "general", "poverty_key"]),
    share=st.decimals(min_value=0, max_value=100, places=2),
)
def test_the_parts_of_a_subsidy_always_sum_to_the_whole(counts, district_class, share):
    text = district_override("40.00").replace('region = "500101"', 'region = "500000"').replace(
        "[parameters.\"resident.subsidy.urban.total\"]",
        f'[parameters."resident.subsidy.municipal_share_percent.{district_class}"]',
    ).replace('value = "40.00"\nunit = "yuan"', f'value = "{share}"\nunit = "percent"')
    policy = load_policy("500101", ON, (*policy_files(), parse_policy_file(text)))
    categories = ["urban", "urban_hardship_adult", "urban_hardship_child", "rural"]
    facts = {c: n for c, n in zip(categories, counts)} | {"district_class": district_class}
    amounts = subsidy_split(Facts(facts), policy).amounts
    # per person: urban 40, hardship adult 100, hardship child 100, rural 40
    whole_fen = (counts[0] * 40 + counts[1] * 100 + counts[2] * 100 + counts[3] * 40) * 100
    assert sum(amounts.values()) == whole_fen
    assert all(part >= 0 for part in amounts.values())
    assert amounts["central"] == (counts[0] * 20 + counts[1] * 50 + counts[2] * 25 + counts[3] * 20) * 100


# ---------------------------------------------------------------- posting with facts, both backends


def post(ledger, *lines):
    return list(ledger.post(read_document(line) for line in lines))


def test_a_subsidy_with_facts_posts_every_level_s_part_and_keeps_the_computation(ledger):
    (outcome,) = post(
        ledger,
        {"id": "S-1", "type": "subsidy", "date": "2012-03-01", "region": "500101", "scheme": "resident", "tier": 1,
         "facts": {"urban": 100}},
    )
    assert outcome.status == "posted" and outcome.postings == 4
    rows = {(r.account, r.tier): r.balance_fen for r in queries.book_balances(ledger.engine, _book("500101", 2012))}
    # 100 × 20 central = 2000.00; 100 × 20 × 75% = 1500.00 municipal (4101.02); 500.00 district (4101.04)
    assert rows == {("1003", 0): 400000, ("4101.01", 1): -200000, ("4101.02", 1): -150000, ("4101.04", 1): -50000}
    shown = explain(ledger, "S-1")
    assert shown["computation"]["rule"] == "resident.subsidy_split"
    assert "chongqing-2007" in shown["computation"]["policy"]["files"]
    assert shown["computation"]["amounts"] == {"central": 200000, "municipal": 150000, "district": 50000}
    assert json.dumps(shown, ensure_ascii=False)


def test_a_contribution_whose_amount_disagrees_with_the_policy_names_both_figures(ledger):
    (outcome,) = post(
        ledger,
        {"id": "C-1", "type": "contribution", "date": "2012-03-02", "region": "500101", "scheme": "resident", "tier": 1,
         "amount": "40.00", "facts": {"urban": 3}},
    )
    assert isinstance(outcome.error, PolicyMismatchError)
    # 3 × (50 − 40) = 30.00
    assert "says 40.00" in str(outcome.error) and "computes 30.00" in str(outcome.error)
    assert ledger.app.recorder.max_notification_id() in (None, 0)


def test_a_household_that_changes_tier_early_is_refused_and_nothing_is_written(ledger):
    first = {"id": "C-1", "type": "contribution", "date": "2012-03-02", "region": "500101", "scheme": "resident",
             "tier": 1, "facts": {"urban": 3, "household": "H-7"}}
    assert post(ledger, first)[0].status == "posted"
    head = ledger.app.recorder.max_notification_id()
    early = {**first, "id": "C-2", "date": "2013-03-02", "tier": 2}
    (refused,) = post(ledger, early)
    assert isinstance(refused.error, TierLockedError)
    assert "field 'tier'" in str(refused.error) and "document C-2" in str(refused.error)
    assert ledger.app.recorder.max_notification_id() == head
    # in 2014 the household may change: 3 × (160 − 40) = 360.00
    later = {**early, "id": "C-3", "date": "2014-03-02"}
    assert post(ledger, later)[0].status == "posted"
    rows = {(r.account, r.tier): r.balance_fen for r in queries.book_balances(ledger.engine, _book("500101", 2014))}
    assert rows[("4001.01", 2)] == -36000


def _book(region: str, year: int) -> str:
    from ledger.aggregates.book import BookKey, book_id

    return book_id(BookKey(region, "resident", year)).hex
