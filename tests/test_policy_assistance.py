"""Medical assistance, Chongqing 2012 (ledger/policy/rules/assistance.py).

Worked examples, figures by hand from 渝府发〔2012〕78号 (渝府发〔2012〕78号) and
DOMAIN.md §3.4:
- 二(一) sponsorship: tier 1 三无/五保 全额资助, 其他对象 50 元; tier 2 统一 60 元;
  超过资助标准的个人应缴参保费用由救助对象自付.
- 二(二)1 outpatient: 三无, 五保, 低保 80岁以上 or 需院外维持治疗 — quota 不低于200元,
  全额救助; other 低保 and 优抚 — 不低于60%, 年封顶线不低于100元.
- 二(二)2 inpatient: 前五类 不低于60%, 其他 不低于40%, 年封顶线不低于6000元.
- 二(三)1 major disease (22 diseases): 前五类 不低于70%, 其他 不低于50%, 年封顶线 不低于10万元.
- 二(三)2 large expense: 二级及以上, 一次住院 政策范围内费用 超过3万元, 特殊病种的比例,
  年封顶线不低于6万元.
- 四(二) 当年筹集的医疗救助基金结余不得超过15%; 四(一) 本级预算 不得低于上年市级下拨 15%.
Rounding is half up to the fen. Pure: no ledger, no database.
"""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.errors import DocumentFormatError, NonPositiveAmountError
from ledger.money import format_yuan, parse_yuan, percent_of
from ledger.policy import Policy, PolicyError, load_policy, parse_policy_file, policy_files
from ledger.policy.facts import Facts
from ledger.policy.rules.assistance import (
    DiseaseNotListedError,
    StudentAidedBySchoolError,
    budget_check,
    inpatient,
    large_expense,
    major_disease,
    outpatient,
    sponsorship,
    surplus_check,
)

WANZHOU = "500101"  # 万州区, a district of 重庆市
FILE_ID = "chongqing-2012-assistance"
ON = date(2013, 6, 1)
FIRST_FIVE = ("dibao", "sanwu", "wubao", "orphan", "youfu")
SIX_SEVEN = ("severe_disability", "special_hardship")


def policy(on: date = ON):
    return load_policy(WANZHOU, on)


def package_file():
    return next(f for f in policy_files() if f.id == FILE_ID)


def district_override(name: str, value: str, unit: str = "percent") -> Policy:
    text = f"""
[policy]
id = "wanzhou-2013-assistance"
region = "{WANZHOU}"
effective_from = "2013-01-01"
seed = "003_74611e520c5305cb.txt"
title = "万州区 raises a minimum"

[parameters."{name}"]
value = "{value}"
unit = "{unit}"
source = "渝府发〔2012〕78号 二 有条件的区县（自治县）可结合实际适当提高医疗救助标准"
"""
    return load_policy(WANZHOU, ON, files=(package_file(), parse_policy_file(text)))


def sponsor(category: str, tier: int, contribution: str, **more) -> dict[str, int]:
    facts = Facts({"category": category, "tier": tier, "individual_contribution": contribution, **more})
    return sponsorship(facts, policy()).amounts


def aid(rule, facts: dict, used: str = "0.00", in_force=None):
    computation = rule(Facts(facts), in_force or policy(), parse_yuan(used))
    return computation


def yuan_of(computation) -> str:
    return format_yuan(computation.amounts["aid"])


# --- the policy file ----------------------------------------------------------


def test_policy_file_is_in_force_in_chongqing_from_2013():
    in_force = policy(date(2013, 1, 1))
    assert FILE_ID in in_force.files
    assert in_force.get("assistance.inpatient.cap").value == 600000  # 6000.00 元
    assert in_force.get("assistance.inpatient.cap").minimum is True
    assert in_force.get("assistance.major_disease.cap").value == 10000000  # 10万元
    assert in_force.get("assistance.large_expense.threshold").value == 3000000  # 3万元
    assert in_force.get("assistance.large_expense.threshold").minimum is False
    assert str(in_force.get("assistance.outpatient.rate_percent").value) == "60"
    assert in_force.get("assistance.sponsorship.tier_2.amount").source.startswith("渝府发〔2012〕78号 二(一)")


def test_policy_file_is_not_in_force_before_2013():
    assert not policy(date(2012, 12, 31)).has("assistance.inpatient.cap")


def test_every_figure_cites_seed_003():
    for parameter in package_file().parameters.values():
        assert parameter.source.startswith("渝府发〔2012〕78号 "), parameter.name


def test_the_disease_list_has_the_22_diseases_of_the_seed():
    diseases = policy().get("assistance.major_disease.diseases")
    entries = diseases.value.split("；")
    assert len(entries) == 22  # 等22类疾病
    assert entries[0] == "肺癌" and entries[-1] == "唇腭裂"
    assert diseases.source.startswith("渝府发〔2012〕78号 二(三)1")


def test_a_computation_names_each_figure_with_its_source():
    computation = aid(inpatient, {"category": "dibao", "out_of_pocket": "100.00"})
    cap_step = next(s for s in computation.steps if s.label == "policy assistance.inpatient.cap")
    assert cap_step.value == "6000.00"
    assert cap_step.source.startswith("渝府发〔2012〕78号 二(二)2")
    assert computation.policy["files"][-1] == FILE_ID


# --- sponsorship (二(一)) ------------------------------------------------------


@pytest.mark.parametrize("category", ["sanwu", "wubao"])
def test_tier_1_sanwu_and_wubao_sponsored_in_full(category):
    # 全额资助: the whole 60.00 contribution, nothing left for the recipient.
    assert sponsor(category, 1, "60.00") == {"sponsored": 6000, "paid_by_recipient": 0}


@pytest.mark.parametrize("category", ["dibao", "orphan", "youfu", "severe_disability", "special_hardship"])
def test_tier_1_other_recipients_sponsored_50(category):
    # 其他对象按50元标准: min(50.00, 60.00) = 50.00; 60.00 − 50.00 = 10.00 自付.
    assert sponsor(category, 1, "60.00") == {"sponsored": 5000, "paid_by_recipient": 1000}


def test_tier_1_contribution_below_50_is_sponsored_only_up_to_the_contribution():
    # min(50.00, 30.00) = 30.00; 30.00 − 30.00 = 0.00.
    assert sponsor("dibao", 1, "30.00") == {"sponsored": 3000, "paid_by_recipient": 0}


@pytest.mark.parametrize("category", ["dibao", "sanwu", "wubao", "orphan", "youfu", "severe_disability", "special_hardship"])
def test_tier_2_every_recipient_sponsored_60(category):
    # 统一按60元: min(60.00, 160.00) = 60.00; 160.00 − 60.00 = 100.00 自付, 三无 and 五保 too.
    assert sponsor(category, 2, "160.00") == {"sponsored": 6000, "paid_by_recipient": 10000}


def test_tier_2_contribution_below_60():
    # min(60.00, 45.50) = 45.50; 0.00 left.
    assert sponsor("youfu", 2, "45.50") == {"sponsored": 4550, "paid_by_recipient": 0}


def test_a_person_the_worker_scheme_covers_is_not_sponsored():
    # 属于城镇职工医疗保险覆盖范围的除外: 0.00 sponsored, 60.00 − 0.00 = 60.00.
    assert sponsor("dibao", 1, "60.00", worker_insured=True) == {"sponsored": 0, "paid_by_recipient": 6000}


def test_a_district_may_raise_the_tier_1_sponsorship():
    raised = district_override("assistance.sponsorship.tier_1.amount", "60.00", "yuan")
    facts = Facts({"category": "dibao", "tier": 1, "individual_contribution": "60.00"})
    # min(60.00 raised, 60.00) = 60.00.
    assert sponsorship(facts, raised).amounts == {"sponsored": 6000, "paid_by_recipient": 0}


@pytest.mark.parametrize(
    ("facts", "field"),
    [
        ({"category": "dibao", "individual_contribution": "60.00"}, "facts.tier"),
        ({"category": "dibao", "tier": 3, "individual_contribution": "60.00"}, "facts.tier"),
        ({"tier": 1, "individual_contribution": "60.00"}, "facts.category"),
        ({"category": "poor", "tier": 1, "individual_contribution": "60.00"}, "facts.category"),
        ({"category": "dibao", "tier": 1}, "facts.individual_contribution"),
        ({"category": "dibao", "tier": 1, "individual_contribution": "60.001"}, "facts.individual_contribution"),
        ({"category": "dibao", "tier": 1, "individual_contribution": 60.0}, "facts.individual_contribution"),
    ],
)
def test_sponsorship_facts_missing_or_ill_typed(facts, field):
    with pytest.raises(DocumentFormatError) as raised:
        sponsorship(Facts(facts, "SP-9"), policy())
    assert raised.value.field == field
    assert raised.value.document_id == "SP-9"


# --- category 8 ---------------------------------------------------------------


@pytest.mark.parametrize(
    "rule,call",
    [
        (sponsorship, lambda f: sponsorship(f, policy())),
        (outpatient, lambda f: outpatient(f, policy(), 0)),
        (inpatient, lambda f: inpatient(f, policy(), 0)),
        (major_disease, lambda f: major_disease(f, policy(), 0)),
        (large_expense, lambda f: large_expense(f, policy(), 0)),
    ],
    ids=["sponsorship", "outpatient", "inpatient", "major_disease", "large_expense"],
)
def test_students_are_aided_by_the_school_system_not_this_fund(rule, call):
    every = {"category": "student", "tier": 1, "individual_contribution": "60.00", "out_of_pocket": "100.00",
             "disease": "肺癌", "hospital_level": "3", "covered_cost": "40000.00"}
    # Each rule is given the facts it reads: any other fact is refused before the category is looked at.
    facts = Facts({name: value for name, value in every.items() if name in rule.facts}, "A-8")
    with pytest.raises(StudentAidedBySchoolError) as raised:
        call(facts)
    assert raised.value.field == "facts.category"
    assert raised.value.document_id == "A-8"
    assert "school" in str(raised.value)


# --- outpatient (二(二)1) -------------------------------------------------------


@pytest.mark.parametrize("category", ["sanwu", "wubao"])
def test_outpatient_quota_covers_cost_in_full(category):
    computation = aid(outpatient, {"category": category, "out_of_pocket": "150.00"})
    # 全额救助: 150.00 ≤ 200.00 quota.
    assert yuan_of(computation) == "150.00"
    assert computation.usage == {"assistance_outpatient_quota": 15000}


def test_outpatient_quota_used_up_part_way():
    computation = aid(outpatient, {"category": "wubao", "out_of_pocket": "250.00"})
    # min(250.00, 200.00 − 0.00) = 200.00; 50.00 not aided.
    assert yuan_of(computation) == "200.00"
    assert any(s.label == "cap reached" for s in computation.steps)


def test_outpatient_quota_for_dibao_over_80_then_used_up():
    facts = {"category": "dibao", "out_of_pocket": "80.00", "over_80": True, "long_term_care": False}
    # 200.00 − 120.00 used = 80.00 left; min(80.00, 80.00) = 80.00.
    assert yuan_of(aid(outpatient, facts, used="120.00")) == "80.00"
    # The quota is used up: 200.00 − 200.00 = 0.00.
    second = aid(outpatient, {**facts, "out_of_pocket": "30.00"}, used="200.00")
    assert yuan_of(second) == "0.00"
    assert second.usage == {"assistance_outpatient_quota": 0}


def test_outpatient_quota_for_dibao_in_long_term_care():
    facts = {"category": "dibao", "out_of_pocket": "50.00", "over_80": "false", "long_term_care": "true"}
    # 需院外维持治疗: quota group, 50.00 in full.
    computation = aid(outpatient, facts)
    assert yuan_of(computation) == "50.00"
    assert computation.usage == {"assistance_outpatient_quota": 5000}


def test_outpatient_rate_for_other_dibao():
    facts = {"category": "dibao", "out_of_pocket": "100.00", "over_80": False, "long_term_care": False}
    computation = aid(outpatient, facts)
    # 100.00 × 60% = 60.00 ≤ 100.00 cap.
    assert yuan_of(computation) == "60.00"
    assert computation.usage == {"assistance_outpatient_cap": 6000}


def test_outpatient_rate_for_youfu_rounds_half_up():
    # 12.34 × 60% = 7.404 → 7.40.
    assert yuan_of(aid(outpatient, {"category": "youfu", "out_of_pocket": "12.34"})) == "7.40"


def test_outpatient_cap_reached_part_way_then_nothing():
    # 200.00 × 60% = 120.00; 100.00 − 40.00 used = 60.00 left → 60.00.
    first = aid(outpatient, {"category": "youfu", "out_of_pocket": "200.00"}, used="40.00")
    assert yuan_of(first) == "60.00"
    # 50.00 × 60% = 30.00; 100.00 − 100.00 = 0.00 left → 0.00.
    second = aid(outpatient, {"category": "youfu", "out_of_pocket": "50.00"}, used="100.00")
    assert yuan_of(second) == "0.00"


@pytest.mark.parametrize("category", ["orphan", "severe_disability", "special_hardship"])
def test_outpatient_no_aid_where_the_seed_names_none(category):
    computation = aid(outpatient, {"category": category, "out_of_pocket": "100.00"})
    assert yuan_of(computation) == "0.00"
    assert computation.usage == {}
    assert any(s.label == "no outpatient aid" for s in computation.steps)


def test_a_district_may_raise_the_outpatient_quota():
    raised = district_override("assistance.outpatient.quota", "300.00", "yuan")
    # min(250.00, 300.00) = 250.00.
    assert yuan_of(aid(outpatient, {"category": "sanwu", "out_of_pocket": "250.00"}, in_force=raised)) == "250.00"


@pytest.mark.parametrize(
    ("facts", "field", "error"),
    [
        ({"category": "dibao", "out_of_pocket": "10.00", "long_term_care": False}, "facts.over_80", DocumentFormatError),
        ({"category": "dibao", "out_of_pocket": "10.00", "over_80": False}, "facts.long_term_care", DocumentFormatError),
        ({"category": "dibao", "out_of_pocket": "10.00", "over_80": "maybe", "long_term_care": False}, "facts.over_80", DocumentFormatError),
        ({"category": "sanwu"}, "facts.out_of_pocket", DocumentFormatError),
        ({"category": "sanwu", "out_of_pocket": "0.00"}, "facts.out_of_pocket", NonPositiveAmountError),
        ({"category": "sanwu", "out_of_pocket": "-5.00"}, "facts.out_of_pocket", NonPositiveAmountError),
    ],
)
def test_outpatient_facts_missing_or_ill_typed(facts, field, error):
    with pytest.raises(error) as raised:
        outpatient(Facts(facts), policy(), 0)
    assert raised.value.field == field


# --- inpatient (二(二)2) --------------------------------------------------------


@pytest.mark.parametrize("category", FIRST_FIVE)
def test_inpatient_first_five_categories_at_60(category):
    computation = aid(inpatient, {"category": category, "out_of_pocket": "5000.00"})
    # 5,000.00 × 60% = 3,000.00 ≤ 6,000.00.
    assert yuan_of(computation) == "3000.00"
    assert computation.usage == {"assistance_inpatient_cap": 300000}


@pytest.mark.parametrize("category", SIX_SEVEN)
def test_inpatient_categories_6_and_7_at_40(category):
    # 5,000.00 × 40% = 2,000.00.
    assert yuan_of(aid(inpatient, {"category": category, "out_of_pocket": "5000.00"})) == "2000.00"


def test_inpatient_rounding():
    # 1,234.56 × 40% = 493.824 → 493.82.
    assert yuan_of(aid(inpatient, {"category": "special_hardship", "out_of_pocket": "1234.56"})) == "493.82"


def test_inpatient_one_claim_above_the_cap():
    # 20,000.00 × 60% = 12,000.00 > 6,000.00 cap → 6,000.00.
    assert yuan_of(aid(inpatient, {"category": "sanwu", "out_of_pocket": "20000.00"})) == "6000.00"


def test_inpatient_cap_reached_part_way_then_nothing():
    # 8,000.00 × 60% = 4,800.00; 6,000.00 − 2,000.00 used = 4,000.00 left → 4,000.00.
    first = aid(inpatient, {"category": "sanwu", "out_of_pocket": "8000.00"}, used="2000.00")
    assert yuan_of(first) == "4000.00"
    assert first.usage == {"assistance_inpatient_cap": 400000}
    # 6,000.00 − 6,000.00 = 0.00 left → 0.00.
    second = aid(inpatient, {"category": "sanwu", "out_of_pocket": "1000.00"}, used="6000.00")
    assert yuan_of(second) == "0.00"


def test_a_district_may_raise_the_inpatient_rate_to_70():
    raised = district_override("assistance.inpatient.rate_percent.categories_1_5", "70")
    # 5,000.00 × 70% = 3,500.00.
    computation = aid(inpatient, {"category": "dibao", "out_of_pocket": "5000.00"}, in_force=raised)
    assert yuan_of(computation) == "3500.00"


def test_a_district_may_not_lower_the_inpatient_rate_to_50():
    with pytest.raises(PolicyError, match="below the minimum"):
        district_override("assistance.inpatient.rate_percent.categories_1_5", "50")


def test_a_district_may_not_change_the_large_expense_threshold():
    with pytest.raises(PolicyError, match="not a minimum"):
        district_override("assistance.large_expense.threshold", "40000.00", "yuan")


# --- major disease (二(三)1) ----------------------------------------------------


@pytest.mark.parametrize("category", FIRST_FIVE)
def test_major_disease_first_five_at_70(category):
    computation = aid(major_disease, {"category": category, "disease": "肺癌", "out_of_pocket": "50000.00"})
    # 50,000.00 × 70% = 35,000.00 ≤ 100,000.00.
    assert yuan_of(computation) == "35000.00"
    assert computation.usage == {"assistance_major_cap": 3500000}


@pytest.mark.parametrize("category", SIX_SEVEN)
def test_major_disease_categories_6_and_7_at_50(category):
    # 50,000.00 × 50% = 25,000.00.
    computation = aid(major_disease, {"category": category, "disease": "宫颈癌", "out_of_pocket": "50000.00"})
    assert yuan_of(computation) == "25000.00"


def test_major_disease_rounds_half_up():
    # 12.35 × 70% = 8.645 → 8.65; 12.35 × 50% = 6.175 → 6.18.
    assert yuan_of(aid(major_disease, {"category": "youfu", "disease": "1型糖尿病", "out_of_pocket": "12.35"})) == "8.65"
    assert yuan_of(aid(major_disease, {"category": "severe_disability", "disease": "甲亢", "out_of_pocket": "12.35"})) == "6.18"


def test_major_disease_cap_reached_part_way_then_nothing():
    facts = {"category": "dibao", "disease": "终末期肾病（尿毒症）", "out_of_pocket": "100000.00"}
    # 100,000.00 × 70% = 70,000.00; 100,000.00 − 50,000.00 used = 50,000.00 left → 50,000.00.
    assert yuan_of(aid(major_disease, facts, used="50000.00")) == "50000.00"
    # 100,000.00 − 100,000.00 = 0.00 left → 0.00.
    assert yuan_of(aid(major_disease, facts, used="100000.00")) == "0.00"


@pytest.mark.parametrize("disease", ["尿毒症", "终末期肾病", "终末期肾病(尿毒症)", "重症甲型 H1N1", "1 型糖尿病", "严重多器官衰竭"])
def test_major_disease_names_as_written_or_without_the_bracket(disease):
    # 1,000.00 × 70% = 700.00.
    assert yuan_of(aid(major_disease, {"category": "sanwu", "disease": disease, "out_of_pocket": "1000.00"})) == "700.00"


@pytest.mark.parametrize("disease", ["高血压", "儿童急性白血病", "先天性心脏病", "心"])
def test_major_disease_not_on_the_list_is_refused(disease):
    with pytest.raises(DiseaseNotListedError) as raised:
        major_disease(Facts({"category": "sanwu", "disease": disease, "out_of_pocket": "1000.00"}, "MD-1"), policy(), 0)
    assert raised.value.field == "facts.disease"
    assert "渝办发〔2010〕263号" in str(raised.value)


def test_major_disease_needs_a_disease():
    with pytest.raises(DocumentFormatError) as raised:
        major_disease(Facts({"category": "sanwu", "out_of_pocket": "1000.00"}), policy(), 0)
    assert raised.value.field == "facts.disease"


# --- large expense (二(三)2) ----------------------------------------------------


def stay(category: str, level: str, covered: str, out_of_pocket: str, **more) -> dict:
    return {"category": category, "hospital_level": level, "covered_cost": covered, "out_of_pocket": out_of_pocket, **more}


def test_large_expense_just_above_30000_qualifies():
    computation = aid(large_expense, stay("dibao", "2", "30000.01", "12000.00"))
    # 30,000.01 > 30,000.00 at level 2: 12,000.00 × 70% = 8,400.00.
    assert yuan_of(computation) == "8400.00"
    assert computation.usage == {"assistance_large_expense_cap": 840000}


def test_large_expense_at_exactly_30000_does_not_qualify():
    computation = aid(large_expense, stay("dibao", "3", "30000.00", "12000.00"))
    # 超过3万元: 30,000.00 is not more than 30,000.00.
    assert yuan_of(computation) == "0.00"
    assert computation.usage == {}
    note = next(s for s in computation.steps if s.label == "does not qualify")
    assert "30000.00 is not more than 30000.00" in note.formula


def test_large_expense_at_a_level_1_hospital_does_not_qualify():
    computation = aid(large_expense, stay("sanwu", "1", "50000.00", "20000.00"))
    assert yuan_of(computation) == "0.00"
    note = next(s for s in computation.steps if s.label == "does not qualify")
    assert "level-1 hospital" in note.formula


def test_large_expense_for_a_listed_disease_goes_to_the_major_disease_rule():
    computation = aid(large_expense, stay("sanwu", "3", "50000.00", "20000.00", disease="胃癌"))
    assert yuan_of(computation) == "0.00"
    assert "major-disease rule" in next(s for s in computation.steps if s.label == "does not qualify").formula


@pytest.mark.parametrize("category", SIX_SEVEN)
def test_large_expense_categories_6_and_7_at_50(category):
    # 80,000.00 > 30,000.00 at level 3: 30,000.00 × 50% = 15,000.00.
    assert yuan_of(aid(large_expense, stay(category, "3", "80000.00", "30000.00"))) == "15000.00"


def test_large_expense_cap_reached_part_way_then_nothing():
    # 90,000.00 × 70% = 63,000.00; 60,000.00 − 10,000.00 used = 50,000.00 left → 50,000.00.
    first = aid(large_expense, stay("orphan", "3", "200000.00", "90000.00"), used="10000.00")
    assert yuan_of(first) == "50000.00"
    # 60,000.00 − 60,000.00 = 0.00 left → 0.00.
    second = aid(large_expense, stay("orphan", "2", "40000.00", "10000.00"), used="60000.00")
    assert yuan_of(second) == "0.00"


@pytest.mark.parametrize(
    ("facts", "field"),
    [
        (stay("dibao", "4", "40000.00", "1000.00"), "facts.hospital_level"),
        ({"category": "dibao", "covered_cost": "40000.00", "out_of_pocket": "1000.00"}, "facts.hospital_level"),
        ({"category": "dibao", "hospital_level": "2", "out_of_pocket": "1000.00"}, "facts.covered_cost"),
        (stay("dibao", "2", "40000.00", "40000.01"), "facts.out_of_pocket"),
    ],
)
def test_large_expense_facts_missing_or_ill_typed(facts, field):
    with pytest.raises(DocumentFormatError) as raised:
        large_expense(Facts(facts), policy(), 0)
    assert raised.value.field == field


# --- the fund's checks (四) ----------------------------------------------------


def test_surplus_at_15_percent_is_no_finding():
    # 1,000,000.00 × 15% = 150,000.00 allowed; a deficit is no finding either.
    assert surplus_check(15000000, 100000000, policy()) == []
    assert surplus_check(-500000, 100000000, policy()) == []


def test_surplus_above_15_percent_is_a_finding():
    findings = surplus_check(15000001, 100000000, policy())
    # 150,000.01 − 150,000.00 = 0.01 too much.
    assert len(findings) == 1
    assert "150000.01" in findings[0] and "0.01 too much" in findings[0]
    assert "渝府发〔2012〕78号 四(二)" in findings[0]


def test_surplus_limit_rounds_down_to_the_fen():
    # 0.10 × 15% = 0.015 → at most 0.01; a surplus of 0.02 is 0.01 too much.
    assert surplus_check(1, 10, policy()) == []
    assert "0.01 too much" in surplus_check(2, 10, policy())[0]


def test_district_budget_below_15_percent_of_last_years_allocation():
    # 2,000,000.00 × 15% = 300,000.00 required.
    assert budget_check(30000000, 200000000, policy()) == []
    findings = budget_check(29999999, 200000000, policy())
    assert "0.01 too little" in findings[0]


# --- property -------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(
    category=st.sampled_from(FIRST_FIVE + SIX_SEVEN),
    claims_fen=st.lists(st.integers(min_value=1, max_value=3_000_000), min_size=1, max_size=12),
)
def test_inpatient_aid_never_exceeds_the_cap_however_claims_fall(category, claims_fen):
    in_force = policy()
    cap_fen = in_force.get("assistance.inpatient.cap").value
    group = "categories_1_5" if category in FIRST_FIVE else "categories_6_7"
    rate_percent = in_force.get(f"assistance.inpatient.rate_percent.{group}").value
    used_fen = 0
    for out_of_pocket_fen in claims_fen:
        facts = Facts({"category": category, "out_of_pocket": format_yuan(out_of_pocket_fen)})
        computation = inpatient(facts, in_force, used_fen)
        aid_fen = computation.amounts["aid"]
        assert 0 <= aid_fen <= out_of_pocket_fen
        assert computation.usage == {"assistance_inpatient_cap": aid_fen}
        used_fen += aid_fen
    assert used_fen <= cap_fen
    # Each claim takes what is left of the cap, so the year's total is the cap or the
    # sum of the claims' aids at the rate, whichever is less, in any order.
    assert used_fen == min(cap_fen, sum(percent_of(c, rate_percent) for c in claims_fen))
