"""Resident-fund claims of seeds 000 and 004: worked examples by hand, the policy files, the annual cap property.

Figures in force on 2012-03-01 for 万州 (500101): tier 1 rates 80/60/40 and
tier 2 85/65/45 by hospital level (渝办发〔2011〕293号 居民办法 四(二)); deductibles
100.00 / 300.00 / 800.00 by level (our default reading); without approval
deductible × 1.05 and rate − 5 points (居民办法 五(一)); annual cap 70,000.00
tier 1, 110,000.00 tier 2; maternity 100.00 + 400.00 (渝府发〔2007〕113号 三(八)); major
outpatient 65%, no deductible (our readings).
"""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.errors import DocumentFormatError, NonPositiveAmountError
from ledger.money import parse_yuan
from ledger.policy import PolicyError, load_policy, parse_policy_file, policy_files
from ledger.policy.facts import Facts
from ledger.policy.rules.claims import MajorOutpatientTierError, inpatient, major_outpatient, maternity

WANZHOU = "500101"
ON = date(2012, 3, 1)
POLICY = load_policy(WANZHOU, ON)


def stay(used_fen: int = 0, **facts):
    return inpatient(Facts(facts), POLICY, used_fen)


def paid(used_fen: int = 0, **facts) -> dict[str, int]:
    return stay(used_fen, **facts).amounts


# ---------------------------------------------------------------- inpatient: rates by tier and level


def test_tier_1_rates_by_hospital_level():
    # level 1: (5,000.00 − 100.00 deductible) × 80% = 3,920.00; out of pocket 5,000 − 3,920 = 1,080.00
    assert paid(tier=1, hospital_level="1", covered_cost="5000.00") == {"reimbursement": 392000, "out_of_pocket": 108000}
    # level 2: (12,000.00 − 300.00) × 60% = 7,020.00; out of pocket 4,980.00
    assert paid(tier=1, hospital_level="2", covered_cost="12000.00") == {"reimbursement": 702000, "out_of_pocket": 498000}
    # level 3: (20,000.00 − 800.00) × 40% = 7,680.00; out of pocket 12,320.00
    assert paid(tier=1, hospital_level="3", covered_cost="20000.00") == {"reimbursement": 768000, "out_of_pocket": 1232000}


def test_tier_2_rates_are_5_points_higher_85_65_45():
    # level 1: (5,000.00 − 100.00) × 85% = 4,165.00
    assert paid(tier=2, hospital_level="1", covered_cost="5000.00")["reimbursement"] == 416500
    # level 2: (12,000.00 − 300.00) × 65% = 7,605.00
    assert paid(tier=2, hospital_level="2", covered_cost="12000.00")["reimbursement"] == 760500
    # level 3: (20,000.00 − 800.00) × 45% = 8,640.00; out of pocket 11,360.00
    assert paid(tier=2, hospital_level="3", covered_cost="20000.00") == {"reimbursement": 864000, "out_of_pocket": 1136000}


def test_a_cost_below_the_deductible_is_paid_nothing():
    # level 3: max(500.00 − 800.00, 0) × 40% = 0.00; the person pays all 500.00
    assert paid(tier=1, hospital_level="3", covered_cost="500.00") == {"reimbursement": 0, "out_of_pocket": 50000}


def test_rates_round_half_up_to_the_fen():
    # level 1: (1,000.01 − 100.00) × 80% = 900.01 × 0.8 = 720.008 → 720.01
    assert paid(tier=1, hospital_level="1", covered_cost="1000.01")["reimbursement"] == 72001
    # level 3 out of district without approval: (1,000.10 − 840.00) × 35% = 160.10 × 0.35 = 56.035 → 56.04 (half up)
    assert paid(tier=1, hospital_level="3", covered_cost="1000.10", out_of_district=True)["reimbursement"] == 5604


# ---------------------------------------------------------------- inpatient: approval (居民办法 五(一))


def test_a_level_3_stay_out_of_district_without_approval_costs_a_higher_deductible_and_a_lower_rate():
    # deductible 800.00 × 1.05 = 840.00; rate 40% − 5 points = 35%
    # (20,000.00 − 840.00) × 35% = 19,160.00 × 0.35 = 6,706.00; out of pocket 20,000 − 6,706 = 13,294.00
    computation = stay(tier=1, hospital_level="3", covered_cost="20000.00", out_of_district=True, approved=False)
    assert computation.amounts == {"reimbursement": 670600, "out_of_pocket": 1329400}
    steps = {s.label: s for s in computation.steps}
    assert steps["deductible without approval"].value == "840.00"
    assert steps["rate without approval"].value == "35%"
    assert "渝办发〔2011〕293号 居民办法 五(一)" in steps["policy resident.inpatient.unapproved.deductible_increase_percent"].source


def test_the_same_stay_with_approval_is_paid_at_the_ordinary_terms():
    # (20,000.00 − 800.00) × 40% = 7,680.00, as in the home district
    computation = stay(tier=1, hospital_level="3", covered_cost="20000.00", out_of_district=True, approved=True)
    assert computation.amounts == {"reimbursement": 768000, "out_of_pocket": 1232000}
    assert any(s.label == "approval" and s.value == "approved" for s in computation.steps)


def test_tier_2_out_of_district_without_approval():
    # (20,000.00 − 840.00) × (45% − 5) = 19,160.00 × 40% = 7,664.00
    assert paid(tier=2, hospital_level="3", covered_cost="20000.00", out_of_district=True)["reimbursement"] == 766400


def test_level_1_and_2_stays_out_of_district_need_no_approval():
    # 居民办法 五(一): 市内二级及以下定点医疗机构住院，由本人自主选择 — (12,000.00 − 300.00) × 60% = 7,020.00
    assert paid(tier=1, hospital_level="2", covered_cost="12000.00", out_of_district=True)["reimbursement"] == 702000
    # (5,000.00 − 100.00) × 80% = 3,920.00
    assert paid(tier=1, hospital_level="1", covered_cost="5000.00", out_of_district=True)["reimbursement"] == 392000


def test_a_stay_outside_the_city_without_filing_is_penalised_at_any_level():
    # level 2: deductible 300.00 × 1.05 = 315.00; rate 60% − 5 = 55%
    # (12,000.00 − 315.00) × 55% = 11,685.00 × 0.55 = 6,426.75; out of pocket 5,573.25
    assert paid(tier=1, hospital_level="2", covered_cost="12000.00", out_of_city=True) == {
        "reimbursement": 642675,
        "out_of_pocket": 557325,
    }
    # with the filing: (12,000.00 − 300.00) × 60% = 7,020.00
    assert paid(tier=1, hospital_level="2", covered_cost="12000.00", out_of_city=True, approved=True)["reimbursement"] == 702000


def test_a_minor_is_paid_at_the_adult_rate_and_the_computation_says_why():
    # 渝府发〔2007〕113号 三(八) wants better terms for minors but sets no figure: (5,000.00 − 100.00) × 80% = 3,920.00
    computation = stay(tier=1, hospital_level="1", covered_cost="5000.00", minor=True)
    assert computation.amounts["reimbursement"] == 392000
    minor = next(s for s in computation.steps if s.label == "minor")
    assert minor.value == "adult rate" and minor.source == "渝府发〔2007〕113号 三(八)"


# ---------------------------------------------------------------- inpatient: the annual cap


def test_the_cap_reached_part_way_through_a_claim():
    # tier 1 cap 70,000.00, 68,000.00 paid this year: (5,000.00 − 100.00) × 80% = 3,920.00 before the cap,
    # 70,000 − 68,000 = 2,000.00 left → pays 2,000.00; out of pocket 5,000 − 2,000 = 3,000.00
    computation = stay(6_800_000, tier=1, hospital_level="1", covered_cost="5000.00")
    assert computation.amounts == {"reimbursement": 200000, "out_of_pocket": 300000}
    assert computation.usage == {"resident_annual_cap": 200000}
    note = next(s for s in computation.steps if s.label == "cap reached")
    assert "1920.00 is not paid" in note.formula and note.value == ""


def test_a_second_claim_after_the_cap_pays_nothing():
    # 70,000.00 used of 70,000.00: 0.00 left; the whole 5,000.00 is out of pocket
    computation = stay(7_000_000, tier=1, hospital_level="1", covered_cost="5000.00")
    assert computation.amounts == {"reimbursement": 0, "out_of_pocket": 500000}
    assert computation.usage == {"resident_annual_cap": 0}


def test_the_tier_2_cap_is_110000():
    # 109,000.00 used; (20,000.00 − 800.00) × 45% = 8,640.00 before the cap; 1,000.00 left → 1,000.00
    assert paid(10_900_000, tier=2, hospital_level="3", covered_cost="20000.00")["reimbursement"] == 100000
    # 108,000.00 used at tier 1 would already be over its 70,000.00: 0.00
    assert paid(10_800_000, tier=1, hospital_level="3", covered_cost="20000.00")["reimbursement"] == 0


def test_a_claim_within_the_cap_records_its_whole_reimbursement_as_usage():
    assert stay(tier=1, hospital_level="2", covered_cost="12000.00").usage == {"resident_annual_cap": 702000}


def test_a_negative_usage_is_a_programming_error():
    with pytest.raises(ValueError):
        stay(-1, tier=1, hospital_level="1", covered_cost="5000.00")


# ---------------------------------------------------------------- inpatient: facts


@pytest.mark.parametrize(
    ("facts", "error", "field"),
    [
        ({"hospital_level": "1", "covered_cost": "5000.00"}, DocumentFormatError, "facts.tier"),
        ({"tier": 3, "hospital_level": "1", "covered_cost": "5000.00"}, DocumentFormatError, "facts.tier"),
        ({"tier": 1, "covered_cost": "5000.00"}, DocumentFormatError, "facts.hospital_level"),
        ({"tier": 1, "hospital_level": "4", "covered_cost": "5000.00"}, DocumentFormatError, "facts.hospital_level"),
        ({"tier": 1, "hospital_level": "1"}, DocumentFormatError, "facts.covered_cost"),
        ({"tier": 1, "hospital_level": "1", "covered_cost": "five thousand"}, DocumentFormatError, "facts.covered_cost"),
        ({"tier": 1, "hospital_level": "1", "covered_cost": "12.345"}, DocumentFormatError, "facts.covered_cost"),
        ({"tier": 1, "hospital_level": "1", "covered_cost": "0.00"}, NonPositiveAmountError, "facts.covered_cost"),
        ({"tier": 1, "hospital_level": "1", "covered_cost": "-5.00"}, NonPositiveAmountError, "facts.covered_cost"),
        ({"tier": 1, "hospital_level": "3", "covered_cost": "5000.00", "approved": "maybe"}, DocumentFormatError, "facts.approved"),
        ({"tier": 1, "hospital_level": "3", "covered_cost": "5000.00", "out_of_district": "far"}, DocumentFormatError, "facts.out_of_district"),
    ],
)
def test_missing_and_ill_typed_facts_are_named(facts, error, field):
    with pytest.raises(error) as raised:
        inpatient(Facts(facts, "CL-1"), POLICY, 0)
    assert raised.value.field == field and "CL-1" in str(raised.value)


def test_no_claim_rule_runs_before_municipal_pooling():
    # 渝府发〔2007〕113号 gives no rate, deductible or cap: before 2012 the figures are not in force
    with pytest.raises(PolicyError, match="resident.inpatient.rate_percent.tier_1.level_1"):
        inpatient(Facts({"tier": 1, "hospital_level": "1", "covered_cost": "5000.00"}), load_policy(WANZHOU, date(2011, 12, 31)), 0)


# ---------------------------------------------------------------- maternity


@pytest.mark.parametrize(
    ("facts", "benefit_fen"),
    [
        ({"prenatal": True}, 10000),  # 100.00 产前检查
        ({"delivery": True}, 40000),  # 400.00 分娩
        ({"prenatal": True, "delivery": True}, 50000),  # 100.00 + 400.00 = 500.00
        ({"prenatal": "false", "delivery": "true"}, 40000),
        ({"prenatal": False, "delivery": False}, 0),
        ({"prenatal": True, "delivery": True, "planned_birth": False}, 0),  # 符合计划生育规定 only
    ],
)
def test_maternity_fixed_amounts(facts, benefit_fen):
    computation = maternity(Facts(facts), POLICY)
    assert computation.amounts == {"benefit": benefit_fen}
    assert computation.usage == {}


def test_maternity_is_paid_from_the_pilot_start_and_says_it_is_outside_the_cap():
    # 渝府发〔2007〕113号 六(十六): pilots start 2007-10-01; 100.00 + 400.00
    computation = maternity(Facts({"prenatal": True, "delivery": True}), load_policy(WANZHOU, date(2007, 10, 1)))
    assert computation.amounts == {"benefit": 50000}
    assert any(s.label == "annual cap" and s.value == "not counted" for s in computation.steps)


def test_maternity_facts_are_named():
    with pytest.raises(DocumentFormatError, match="facts.delivery"):
        maternity(Facts({"prenatal": True, "delivery": "twins"}), POLICY)


# ---------------------------------------------------------------- tier-2 major outpatient


def test_tier_2_dialysis_is_paid_at_65_percent_with_no_deductible():
    # 3,000.00 × 65% = 1,950.00; out of pocket 1,050.00
    computation = major_outpatient(Facts({"tier": 2, "disease": "dialysis", "covered_cost": "3000.00"}), POLICY, 0)
    assert computation.amounts == {"reimbursement": 195000, "out_of_pocket": 105000}
    assert computation.usage == {"resident_annual_cap": 195000}


@pytest.mark.parametrize("disease", ["cancer_treatment", "dialysis", "anti_rejection"])
def test_each_of_the_three_diseases_is_pooled(disease):
    # 1,234.57 × 65% = 802.4705 → 802.47
    assert major_outpatient(Facts({"tier": 2, "disease": disease, "covered_cost": "1234.57"}), POLICY, 0).amounts["reimbursement"] == 80247


def test_major_outpatient_shares_the_annual_cap_with_inpatient_stays():
    # an inpatient stay: (20,000.00 − 800.00) × 45% = 8,640.00; then 101,000.00 more used elsewhere this year
    used_fen = stay(tier=2, hospital_level="3", covered_cost="20000.00").usage["resident_annual_cap"] + 10_100_000
    # 110,000.00 − 109,640.00 = 360.00 left; 3,000.00 × 65% = 1,950.00 → 360.00
    computation = major_outpatient(Facts({"tier": 2, "disease": "anti_rejection", "covered_cost": "3000.00"}), POLICY, used_fen)
    assert computation.amounts == {"reimbursement": 36000, "out_of_pocket": 264000}


def test_a_tier_1_resident_is_refused_major_outpatient_pooling():
    with pytest.raises(MajorOutpatientTierError) as raised:
        major_outpatient(Facts({"tier": 1, "disease": "dialysis", "covered_cost": "3000.00"}, "OP-1"), POLICY, 0)
    assert raised.value.field == "facts.tier"
    assert "tier 1" in str(raised.value) and "OP-1" in str(raised.value) and "渝府发〔2007〕113号 三(八)" in str(raised.value)


def test_an_unlisted_disease_and_a_missing_cost_are_named():
    with pytest.raises(DocumentFormatError, match="facts.disease"):
        major_outpatient(Facts({"tier": 2, "disease": "diabetes", "covered_cost": "3000.00"}), POLICY, 0)
    with pytest.raises(DocumentFormatError, match="facts.covered_cost"):
        major_outpatient(Facts({"tier": 2, "disease": "dialysis"}), POLICY, 0)


# ---------------------------------------------------------------- the policy files


def _file(file_id: str):
    return next(f for f in policy_files() if f.id == file_id)


def test_the_policy_files_load_with_their_sources():
    pooling = _file("chongqing-2011")
    assert (pooling.region, pooling.effective_from, pooling.seed) == ("500000", date(2012, 1, 1), "004_9700c8a0963dcb6b.txt")
    benefits = _file("chongqing-2007-benefits")
    assert (benefits.region, benefits.effective_from, benefits.seed) == ("500000", date(2007, 10, 1), "000_026dec3e8a5df88c.txt")
    expected = {
        "resident.inpatient.rate_percent.tier_1.level_1": ("80", "渝办发〔2011〕293号 居民办法 四(二)"),
        "resident.inpatient.rate_percent.tier_1.level_3": ("40", "渝办发〔2011〕293号 居民办法 四(二)"),
        "resident.inpatient.rate_percent.tier_2.level_2": ("65", "渝办发〔2011〕293号 居民办法 四(二)"),
        "resident.annual_cap.tier_1": (7_000_000, "渝办发〔2011〕293号 居民办法 四(二)"),
        "resident.annual_cap.tier_2": (11_000_000, "渝办发〔2011〕293号 居民办法 四(二)"),
        "resident.inpatient.unapproved.deductible_increase_percent": ("5", "渝办发〔2011〕293号 居民办法 五(一)"),
        "resident.maternity.prenatal": (10000, "渝府发〔2007〕113号 三(八)"),
        "resident.maternity.delivery": (40000, "渝府发〔2007〕113号 三(八)"),
        "resident.major_outpatient.tier": (2, "渝府发〔2007〕113号 三(八)"),
    }
    for name, (value, source) in expected.items():
        parameter = POLICY.get(name)
        assert str(parameter.value) == str(value) and parameter.source.startswith(source), name
    # every default the seeds do not give says it is our reading
    for name in ("resident.inpatient.deductible.level_1", "resident.major_outpatient.rate_percent", "resident.major_outpatient.deductible"):
        assert POLICY.get(name).note.startswith("our reading"), name


def test_the_benefits_file_is_not_in_force_before_the_pilots_start():
    assert not load_policy(WANZHOU, date(2007, 9, 30)).has("resident.maternity.prenatal")
    assert load_policy(WANZHOU, date(2007, 10, 1)).has("resident.maternity.prenatal")
    assert not load_policy(WANZHOU, date(2011, 12, 31)).has("resident.annual_cap.tier_1")


def _district_file(name: str, value: str, unit: str = "yuan") -> str:
    return f"""
[policy]
id = "wanzhou-2012-test"
region = "500101"
effective_from = "2012-02-01"
seed = "004_9700c8a0963dcb6b.txt"
title = "a district's own figure"

[parameters."{name}"]
value = "{value}"
unit = "{unit}"
minimum = true
source = "district decision"
"""


def test_a_district_may_raise_the_running_cost_minimum_but_not_lower_it():
    # 渝办发〔2011〕293号 居民办法 九: 每人每年不低于1元
    files = (*policy_files(), parse_policy_file(_district_file("agency.running_cost_per_person", "2.00")))
    assert load_policy(WANZHOU, ON, files).get("agency.running_cost_per_person").value == 200
    files = (*policy_files(), parse_policy_file(_district_file("agency.running_cost_per_person", "0.50")))
    with pytest.raises(PolicyError, match="below the minimum"):
        load_policy(WANZHOU, ON, files)


@pytest.mark.parametrize(
    ("name", "value", "unit"),
    [("resident.inpatient.deductible.level_3", "500.00", "yuan"), ("resident.inpatient.rate_percent.tier_1.level_3", "50", "percent")],
)
def test_a_district_may_not_set_its_own_deductible_or_rate(name, value, unit):
    # 渝办发〔2011〕293号 居民办法 四(二): 全市统一执行 — the figures are the municipality's, not minimums
    files = (*policy_files(), parse_policy_file(_district_file(name, value, unit)))
    expected = "set by the municipality" if "deductible" in name else "not a minimum"
    with pytest.raises(PolicyError, match=expected):
        load_policy(WANZHOU, ON, files)


# ---------------------------------------------------------------- the cap, however the claims fall

CLAIM = st.fixed_dictionaries({
    "hospital_level": st.sampled_from(["1", "2", "3"]),
    "covered_cost": st.integers(min_value=1, max_value=30_000_000).map(lambda fen: f"{fen // 100}.{fen % 100:02d}"),
    "out_of_district": st.booleans(),
    "out_of_city": st.booleans(),
    "approved": st.booleans(),
})


def _run(tier: int, claims: list[dict]) -> list[int]:
    used_fen, paid_fen = 0, []
    for claim in claims:
        computation = inpatient(Facts({"tier": tier, **claim}), POLICY, used_fen)
        used_fen += computation.usage["resident_annual_cap"]
        paid_fen.append(computation.amounts["reimbursement"])
    return paid_fen


def _uncapped_fen(tier: int, claim: dict) -> int:
    computation = inpatient(Facts({"tier": tier, **claim}), POLICY, 0)
    return parse_yuan(next(s.value for s in computation.steps if s.label == "at the rate"))


@settings(max_examples=150, deadline=None)
@given(tier=st.sampled_from([1, 2]), claims=st.lists(CLAIM, min_size=1, max_size=15), data=st.data())
def test_a_person_s_reimbursements_never_exceed_the_cap_however_claims_are_ordered_or_split(tier, claims, data):
    cap_fen = POLICY.get(f"resident.annual_cap.tier_{tier}").value
    paid_fen = _run(tier, claims)
    assert all(p >= 0 for p in paid_fen)
    assert sum(paid_fen) <= cap_fen
    # The cap takes only what the claims would pay without it: the year's total is the lesser of the
    # two, whatever the order, so reordering the same claims pays the same in total.
    assert sum(paid_fen) == min(cap_fen, sum(_uncapped_fen(tier, c) for c in claims))
    reordered = data.draw(st.permutations(claims))
    assert sum(_run(tier, reordered)) == sum(paid_fen)
    # Splitting a stay into two (each with its own deductible) never gets past the cap either.
    index = data.draw(st.integers(min_value=0, max_value=len(claims) - 1))
    cost_fen = parse_yuan(claims[index]["covered_cost"])
    if cost_fen >= 2:
        part_fen = data.draw(st.integers(min_value=1, max_value=cost_fen - 1))
        halves = [{**claims[index], "covered_cost": f"{f // 100}.{f % 100:02d}"} for f in (part_fen, cost_fen - part_fen)]
        assert sum(_run(tier, claims[:index] + halves + claims[index + 1:])) <= cap_fen
