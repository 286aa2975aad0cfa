"""The worker fund's settlement against its targets (渝办发〔2011〕293号 职工办法 二(四)2, 二(五)): worked examples by hand.

Unless a test says otherwise: collection target 10,000,000.00 (95% = 9,500,000.00),
spending target 8,000,000.00.
"""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.errors import DocumentFormatError, NonPositiveAmountError
from ledger.policy import load_policy
from ledger.policy.facts import Facts
from ledger.policy.rules.worker import settlement

POLICY = load_policy("500101", date(2012, 12, 31))
ZERO = {
    "collection_retained": 0,
    "shortfall_from_surplus": 0,
    "shortfall_from_government": 0,
    "underspend_retained": 0,
    "overspend_municipal": 0,
    "overspend_district": 0,
    "overspend_district_from_surplus": 0,
    "overspend_district_from_government": 0,
}


def settle(**facts) -> dict[str, int]:
    base = {
        "district_class": "other",
        "collection_target": "10000000.00",
        "collected": "9500000.00",
        "spending_target": "8000000.00",
        "spent": "8000000.00",
        "pooled_surplus": "0.00",
    }
    return settlement(Facts({**base, **facts}), POLICY).amounts


def test_exactly_on_both_targets_settles_nothing():
    assert settle() == ZERO


# ---------------------------------------------------------------- collection (二(四)2)


def test_97_percent_collected_keeps_half_of_the_part_above_95():
    # (9,700,000.00 − 9,500,000.00) × 50% = 100,000.00 retained
    assert settle(collected="9700000.00") == {**ZERO, "collection_retained": 10_000_000}


def test_90_percent_collected_with_enough_surplus():
    # shortfall 9,500,000.00 − 9,000,000.00 = 500,000.00, all from the 800,000.00 surplus
    assert settle(collected="9000000.00", pooled_surplus="800000.00") == {**ZERO, "shortfall_from_surplus": 50_000_000}


def test_90_percent_collected_without_enough_surplus():
    # shortfall 500,000.00: 200,000.00 from the surplus, 500,000 − 200,000 = 300,000.00 from the district government
    assert settle(collected="9000000.00", pooled_surplus="200000.00") == {
        **ZERO,
        "shortfall_from_surplus": 20_000_000,
        "shortfall_from_government": 30_000_000,
    }


def test_the_threshold_rounds_half_up_to_the_fen():
    # 10,000.01 × 95% = 9,500.0095 → 9,500.01; collected 9,500.00 → shortfall 0.01 from the government
    assert settle(collection_target="10000.01", collected="9500.00")["shortfall_from_government"] == 1
    # collected 9,500.03 → (9,500.03 − 9,500.01) × 50% = 0.01 retained
    assert settle(collection_target="10000.01", collected="9500.03")["collection_retained"] == 1


# ---------------------------------------------------------------- spending (二(五))


def test_an_under_spend_keeps_60_percent():
    # (8,000,000.00 − 7,500,000.00) × 60% = 300,000.00 retained
    assert settle(spent="7500000.00") == {**ZERO, "underspend_retained": 30_000_000}


def test_a_district_that_missed_its_targets_keeps_none_of_its_under_spend():
    # 各区县完成目标考核任务后 only: 0.00
    amounts = settlement(Facts({
        "district_class": "other", "collection_target": "10000000.00", "collected": "9500000.00",
        "spending_target": "8000000.00", "spent": "7500000.00", "pooled_surplus": "0.00", "met_targets": False,
    }), POLICY).amounts
    assert amounts == ZERO


def test_a_main_urban_overspend_is_shared_half_and_half():
    # overspend 9,000,000.00 − 8,000,000.00 = 1,000,000.00: municipality 50% 500,000.00, district 500,000.00,
    # all from its 800,000.00 surplus
    assert settle(district_class="main_urban", spent="9000000.00", pooled_surplus="800000.00") == {
        **ZERO,
        "overspend_municipal": 50_000_000,
        "overspend_district": 50_000_000,
        "overspend_district_from_surplus": 50_000_000,
    }


def test_a_regional_centre_overspend_is_shared_55_45():
    # 1,000,000.00: municipality 55% 550,000.00, district 450,000.00: 200,000.00 surplus + 250,000.00 government
    assert settle(district_class="regional_centre", spent="9000000.00", pooled_surplus="200000.00") == {
        **ZERO,
        "overspend_municipal": 55_000_000,
        "overspend_district": 45_000_000,
        "overspend_district_from_surplus": 20_000_000,
        "overspend_district_from_government": 25_000_000,
    }


def test_an_other_district_overspend_is_shared_60_40():
    # 1,000,000.00: municipality 60% 600,000.00, district 400,000.00, no surplus: all from the government
    assert settle(district_class="other", spent="9000000.00") == {
        **ZERO,
        "overspend_municipal": 60_000_000,
        "overspend_district": 40_000_000,
        "overspend_district_from_government": 40_000_000,
    }


def test_the_surplus_used_for_the_collection_shortfall_is_not_there_for_the_overspend():
    # collected 90%: shortfall 500,000.00 takes 500,000.00 of the 700,000.00 surplus; 200,000.00 left.
    # overspend 1,000,000.00 (other): municipality 600,000.00, district 400,000.00 = 200,000.00 surplus left
    # + 200,000.00 government
    assert settle(collected="9000000.00", spent="9000000.00", pooled_surplus="700000.00") == {
        **ZERO,
        "shortfall_from_surplus": 50_000_000,
        "overspend_municipal": 60_000_000,
        "overspend_district": 40_000_000,
        "overspend_district_from_surplus": 20_000_000,
        "overspend_district_from_government": 20_000_000,
    }


def test_collection_retention_this_year_does_not_meet_this_year_s_overspend():
    # 97% collected: 100,000.00 retained for 今后; overspend 1,000,000.00 (main urban) → district 500,000.00,
    # no surplus: all from the government
    amounts = settle(district_class="main_urban", collected="9700000.00", spent="9000000.00")
    assert amounts["collection_retained"] == 10_000_000
    assert amounts["overspend_district_from_government"] == 50_000_000


def test_overspend_shares_round_half_up_and_lose_no_fen():
    # 0.03 × 55% = 0.0165 → 0.02 municipal; district 0.03 − 0.02 = 0.01
    amounts = settle(district_class="regional_centre", spending_target="100.00", spent="100.03")
    assert (amounts["overspend_municipal"], amounts["overspend_district"]) == (2, 1)


def test_the_computation_cites_the_clauses():
    computation = settlement(Facts({
        "district_class": "regional_centre", "collection_target": "100.00", "collected": "97.00",
        "spending_target": "100.00", "spent": "110.00", "pooled_surplus": "0.00",
    }), POLICY)
    sources = {s.label: s.source for s in computation.steps}
    assert sources["policy worker.collection.threshold_percent"].startswith("渝办发〔2011〕293号 职工办法 二(四)2")
    assert sources["policy worker.spending.overspend_municipal_percent.regional_centre"].startswith("渝办发〔2011〕293号 职工办法 二(五)")


# ---------------------------------------------------------------- facts


@pytest.mark.parametrize(
    ("change", "error", "field"),
    [
        ({"district_class": "suburban"}, DocumentFormatError, "facts.district_class"),
        ({"collection_target": "0.00"}, NonPositiveAmountError, "facts.collection_target"),
        ({"spending_target": None}, DocumentFormatError, "facts.spending_target"),
        ({"spent": None}, DocumentFormatError, "facts.spent"),
        ({"pooled_surplus": "-1.00"}, NonPositiveAmountError, "facts.pooled_surplus"),
        ({"collected": "a lot"}, DocumentFormatError, "facts.collected"),
        ({"met_targets": "perhaps"}, DocumentFormatError, "facts.met_targets"),
    ],
)
def test_missing_and_ill_typed_facts_are_named(change, error, field):
    facts = {
        "district_class": "other", "collection_target": "100.00", "collected": "97.00",
        "spending_target": "100.00", "spent": "90.00", "pooled_surplus": "0.00", **change,
    }
    with pytest.raises(error) as raised:
        settlement(Facts(facts, "WS-2012"), POLICY)
    assert raised.value.field == field


def test_the_worker_figures_load_with_their_sources():
    expected = {
        "worker.collection.threshold_percent": 95,
        "worker.collection.retained_percent": 50,
        "worker.spending.underspend_retained_percent": 60,
        "worker.spending.overspend_municipal_percent.main_urban": 50,
        "worker.spending.overspend_municipal_percent.regional_centre": 55,
        "worker.spending.overspend_municipal_percent.other": 60,
    }
    for name, value in expected.items():
        parameter = POLICY.get(name)
        assert parameter.value == value and parameter.source.startswith("渝办发〔2011〕293号 职工办法") and parameter.file_id == "chongqing-2011"


# ---------------------------------------------------------------- properties

YUAN = st.integers(min_value=0, max_value=10**12).map(lambda fen: f"{fen // 100}.{fen % 100:02d}")


@settings(max_examples=200, deadline=None)
@given(
    district_class=st.sampled_from(["main_urban", "regional_centre", "other"]),
    target_fen=st.integers(min_value=1, max_value=10**12),
    collected=YUAN,
    spending_fen=st.integers(min_value=1, max_value=10**12),
    spent=YUAN,
    surplus=YUAN,
)
def test_every_part_adds_up(district_class, target_fen, collected, spending_fen, spent, surplus):
    as_yuan = lambda fen: f"{fen // 100}.{fen % 100:02d}"  # noqa: E731
    amounts = settle(
        district_class=district_class, collection_target=as_yuan(target_fen), collected=collected,
        spending_target=as_yuan(spending_fen), spent=spent, pooled_surplus=surplus,
    )
    collected_fen, spent_fen, surplus_fen = (int(x.replace(".", "")) for x in (collected, spent, surplus))
    threshold_fen = (target_fen * 95 + 50) // 100
    assert amounts["shortfall_from_surplus"] + amounts["shortfall_from_government"] == max(threshold_fen - collected_fen, 0)
    assert amounts["overspend_municipal"] + amounts["overspend_district"] == max(spent_fen - spending_fen, 0)
    assert amounts["overspend_district_from_surplus"] + amounts["overspend_district_from_government"] == amounts["overspend_district"]
    assert amounts["shortfall_from_surplus"] + amounts["overspend_district_from_surplus"] <= surplus_fen
    assert all(v >= 0 for v in amounts.values())
