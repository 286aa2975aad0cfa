"""Chenzhou's merged resident fund (ledger/policy/rules/chenzhou.py, 郴政办发〔2016〕37号).

Worked examples, figures by hand from 郴政办发〔2016〕37号: 四(二) (the two funds merge
after audit; 对基金存在缺口的，由同级财政部门负责妥善解决), 四(四)2 (按照…年筹资
总额的5%建立市级风险调剂金) and 四(四)4 (按照城乡居民医保基金总额15%左右的
比例，建立门诊医疗统筹基金). Pure: no ledger, no database.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from ledger.errors import DocumentFormatError, NonPositiveAmountError
from ledger.policy import PolicyError, load_policy, parse_policy_file, policy_files
from ledger.policy.facts import Facts
from ledger.policy.rules.chenzhou import (
    MergerAuditError,
    adjustment_remittance,
    merge_funds,
    outpatient_pool_share,
)

CHENZHOU_DISTRICT = "431002"  # 北湖区, a district of 郴州市
AUDIT = "郴北审报〔2016〕12号"


def chenzhou(on: date = date(2017, 6, 1)):
    return load_policy(CHENZHOU_DISTRICT, on)


def package_file(file_id: str):
    return next(f for f in policy_files() if f.id == file_id)


def merger_facts(urban: str, ncms: str, urban_audited: str | None = None, ncms_audited: str | None = None) -> Facts:
    return Facts(
        {
            "urban_balance": urban,
            "urban_audited": urban if urban_audited is None else urban_audited,
            "ncms_balance": ncms,
            "ncms_audited": ncms if ncms_audited is None else ncms_audited,
            "audit_reference": AUDIT,
        },
        document_id="CZ-2016-MERGE-1",
    )


def policy_from(region: str, effective: str, parameters: str):
    """The policy in force from a one-off file of the given parameters (TOML text)."""
    text = f"""
[policy]
id = "test-policy"
region = "{region}"
effective_from = "{effective}"
seed = "test"
title = "test"
{parameters}
"""
    return load_policy(region, date.fromisoformat(effective), files=(parse_policy_file(text),))


# --- the policy file ----------------------------------------------------------


def test_a_chenzhou_district_picks_up_chenzhou_2016():
    policy = chenzhou()
    assert policy.files == ("chenzhou-2016",)
    expected = {
        "resident.funding.minimum": (57000, True, "郴政办发〔2016〕37号 四(四)3"),
        "resident.funding.individual_minimum": (15000, True, "郴政办发〔2016〕37号 四(四)3"),
        "adjustment.remittance_percent": (Decimal("5"), False, "郴政办发〔2016〕37号 四(四)2"),
        "adjustment.remittance_method": ("yearly", False, "郴政办发〔2016〕37号 四(四)2"),
        "resident.outpatient_pool.share_percent": (Decimal("15"), False, "郴政办发〔2016〕37号 四(四)4"),
        "resident.contribution_window.start": ("08-01", False, "郴政办发〔2016〕37号 四(四)3"),
        "resident.contribution_window.end": ("12-31", False, "郴政办发〔2016〕37号 四(四)3"),
        "resident.contribution_window.years_before_coverage": (1, False, "郴政办发〔2016〕37号 四(四)3"),
        "resident.contribution_window.first_coverage_year": (2017, False, "郴政办发〔2016〕37号 三(三)"),
        "resident.contribution_window.transition.coverage_year": (2017, False, "郴政办发〔2016〕37号 四(四)3"),
        "resident.contribution_window.transition.start": ("2016-10-01", False, "郴政办发〔2016〕37号 四(四)3"),
        "resident.contribution_window.transition.end": ("2017-02-28", False, "郴政办发〔2016〕37号 四(四)3"),
        "resident.sponsorship.extreme_hardship_percent": (Decimal("100"), False, "郴政办发〔2016〕37号 四(四)3"),
        "resident.benefit_transition_years": (1, False, "郴政办发〔2016〕37号 四(四)4"),
        "resident.pooling_level": ("county", False, "郴政办发〔2016〕37号 四(四)2"),
        "merger.deficit_met_by_finance": (True, False, "郴政办发〔2016〕37号 四(二)"),
        "merger.handover_deadline": ("2016-08-30", False, "郴政办发〔2016〕37号 三(一)"),
        "merger.new_scheme_start": ("2017-01-01", False, "郴政办发〔2016〕37号 三(三)"),
    }
    for name, (value, minimum, source) in expected.items():
        parameter = policy.get(name)
        assert (parameter.value, parameter.minimum) == (value, minimum), name
        assert parameter.source.startswith(source), name
    assert set(policy.parameters) == set(expected)


def test_the_municipality_itself_and_every_chenzhou_county_pick_it_up():
    for region in ("431000", "431021", "431081"):  # 郴州市, 桂阳县, 资兴市
        assert load_policy(region, date(2017, 6, 1), files=(package_file("chenzhou-2016"),)).files == ("chenzhou-2016",)


def test_chenzhou_2016_is_in_force_from_the_date_of_the_notice():
    files = (package_file("chenzhou-2016"),)
    assert load_policy(CHENZHOU_DISTRICT, date(2016, 8, 24), files=files).files == ("chenzhou-2016",)
    with pytest.raises(PolicyError):
        load_policy(CHENZHOU_DISTRICT, date(2016, 8, 23), files=files)


def test_a_chongqing_region_picks_up_neither_file():
    ours = {"chenzhou-2016", "jiangsu-2007"}
    try:
        policy = load_policy("500101", date(2017, 6, 1))
    except PolicyError:
        pass  # no Chongqing file in the package: certainly none of ours
    else:
        assert not ours & set(policy.files)
    with pytest.raises(PolicyError):
        load_policy("500101", date(2017, 6, 1), files=(package_file("chenzhou-2016"), package_file("jiangsu-2007")))


def test_other_hunan_cities_do_not_pick_up_chenzhou():
    with pytest.raises(PolicyError):
        load_policy("430102", date(2017, 6, 1), files=(package_file("chenzhou-2016"),))  # 长沙 芙蓉区


# --- adjustment_remittance: 5% of each year's fundraising ------------------------


def test_remittance_is_5_percent_of_the_years_fundraising():
    # 1,000,000.00 × 5% = 50,000.00
    computation = adjustment_remittance(Facts({"fundraising": "1000000.00"}), chenzhou())
    assert computation.amounts == {"remittance": 5000000}
    sources = {step.label: step.source for step in computation.steps}
    assert sources["policy adjustment.remittance_percent"].startswith("郴政办发〔2016〕37号 四(四)2")


def test_remittance_rounds_half_up_to_the_fen():
    # 12,345,678.90 × 5% = 617,283.945 → 617,283.95
    assert adjustment_remittance(Facts({"fundraising": "12345678.90"}), chenzhou()).amounts == {"remittance": 61728395}
    # 0.10 × 5% = 0.005 → 0.01; 0.09 × 5% = 0.0045 → 0.00
    assert adjustment_remittance(Facts({"fundraising": "0.10"}), chenzhou()).amounts == {"remittance": 1}
    assert adjustment_remittance(Facts({"fundraising": "0.09"}), chenzhou()).amounts == {"remittance": 0}


def test_remittance_is_the_same_share_every_year_not_a_top_up():
    # Each year stands alone: 2017 on 40,000,000.00, 2018 on 44,000,000.00.
    # 40,000,000.00 × 5% = 2,000,000.00; 44,000,000.00 × 5% = 2,200,000.00
    # (a Chongqing-style top-up would remit only 200,000.00 in 2018).
    policy_2018 = chenzhou(date(2018, 6, 1))
    assert adjustment_remittance(Facts({"fundraising": "40000000.00"}), chenzhou()).amounts == {"remittance": 200000000}
    assert adjustment_remittance(Facts({"fundraising": "44000000.00"}), policy_2018).amounts == {"remittance": 220000000}


def test_remittance_refuses_a_policy_with_another_method():
    top_up = policy_from(
        "500000",
        "2012-01-01",
        """
[parameters."adjustment.remittance_percent"]
value = "8"
unit = "percent"
source = "test"

[parameters."adjustment.remittance_method"]
value = "top_up"
unit = "text"
source = "test"
""",
    )
    with pytest.raises(PolicyError, match="top_up"):
        adjustment_remittance(Facts({"fundraising": "100.00"}), top_up)


def test_remittance_refuses_a_policy_that_does_not_say_its_method():
    silent = policy_from(
        "500000",
        "2012-01-01",
        """
[parameters."adjustment.remittance_percent"]
value = "8"
unit = "percent"
source = "test"
""",
    )
    with pytest.raises(PolicyError, match="adjustment.remittance_method"):
        adjustment_remittance(Facts({"fundraising": "100.00"}), silent)


@pytest.mark.parametrize(
    "values, error",
    [({}, DocumentFormatError), ({"fundraising": 1000.5}, DocumentFormatError), ({"fundraising": "-1.00"}, NonPositiveAmountError)],
)
def test_remittance_facts_are_named(values, error):
    with pytest.raises(error) as refused:
        adjustment_remittance(Facts(values), chenzhou())
    assert refused.value.field == "facts.fundraising"


# --- merge_funds -------------------------------------------------------------------


def test_merger_with_both_balances_equal_to_the_audit():
    computation = merge_funds(merger_facts("3200000.00", "8750000.50"), chenzhou(date(2016, 12, 31)))
    # 3,200,000.00 + 8,750,000.50 + 0.00 = 11,950,000.50
    assert computation.amounts == {
        "from_urban": 320000000,
        "from_ncms": 875000050,
        "finance_covers_gap": 0,
        "new_fund_opening": 1195000050,
    }
    assert any(AUDIT in step.formula for step in computation.steps)


def test_a_merger_with_a_balance_that_differs_from_the_audit_is_refused():
    with pytest.raises(MergerAuditError) as refused:
        merge_funds(merger_facts("3200000.00", "8750000.50", urban_audited="3180000.00"), chenzhou())
    message = str(refused.value)
    assert refused.value.field == "facts.urban_balance"
    assert refused.value.document_id == "CZ-2016-MERGE-1"
    # 3,200,000.00 − 3,180,000.00 = 20,000.00 more in the books than the audit found
    assert "3200000.00" in message and "3180000.00" in message and "20000.00 too much" in message
    assert AUDIT in message


def test_a_new_rural_fund_mismatch_is_named_too():
    with pytest.raises(MergerAuditError) as refused:
        merge_funds(merger_facts("3200000.00", "8750000.50", ncms_audited="8750100.50"), chenzhou())
    assert refused.value.field == "facts.ncms_balance"
    # 8,750,100.50 − 8,750,000.50 = 100.00 less in the books than the audit found
    assert "facts.ncms_audited 8750100.50" in str(refused.value) and "100.00 too little" in str(refused.value)


def test_both_mismatches_are_named_in_one_refusal():
    with pytest.raises(MergerAuditError) as refused:
        merge_funds(merger_facts("10.00", "20.00", urban_audited="11.00", ncms_audited="19.00"), chenzhou())
    message = str(refused.value)
    assert "facts.urban_audited 11.00" in message and "facts.ncms_audited 19.00" in message


def test_a_fund_in_deficit_is_met_by_finance():
    # The urban fund closes at −150,000.00; finance pays 150,000.00 in.
    # −150,000.00 + 2,000,000.00 + 150,000.00 = 2,000,000.00
    computation = merge_funds(merger_facts("-150000.00", "2000000.00"), chenzhou())
    assert computation.amounts == {
        "from_urban": -15000000,
        "from_ncms": 200000000,
        "finance_covers_gap": 15000000,
        "new_fund_opening": 200000000,
    }
    sources = {step.label: step.source for step in computation.steps}
    assert sources["policy merger.deficit_met_by_finance"].startswith("郴政办发〔2016〕37号 四(二) 对基金存在缺口的")


def test_both_funds_in_deficit_are_both_met_by_finance():
    # −10,000.00 + −2,500.25 + (10,000.00 + 2,500.25) = 0.00
    computation = merge_funds(merger_facts("-10000.00", "-2500.25"), chenzhou())
    assert computation.amounts["finance_covers_gap"] == 1250025
    assert computation.amounts["new_fund_opening"] == 0


def test_a_deficit_is_not_netted_against_the_other_funds_surplus():
    # Per fund (对基金存在缺口的): the rural surplus of 500.00 does not reduce
    # finance's 100.00. −100.00 + 500.00 + 100.00 = 500.00
    computation = merge_funds(merger_facts("-100.00", "500.00"), chenzhou())
    assert computation.amounts["finance_covers_gap"] == 10000
    assert computation.amounts["new_fund_opening"] == 50000


def test_a_deficit_audited_at_a_different_figure_is_refused():
    with pytest.raises(MergerAuditError) as refused:
        merge_funds(merger_facts("-100.00", "500.00", urban_audited="-120.00"), chenzhou())
    # −100.00 − (−120.00) = 20.00 more in the books than the audit found
    assert "-120.00" in str(refused.value) and "20.00 too much" in str(refused.value)


def test_a_policy_without_finance_cover_carries_the_deficit_into_the_new_fund():
    policy = policy_from(
        "431000",
        "2016-08-24",
        """
[parameters."merger.deficit_met_by_finance"]
value = false
unit = "flag"
source = "test"
""",
    )
    computation = merge_funds(merger_facts("-100.00", "40.00"), policy)
    # −100.00 + 40.00 + 0.00 = −60.00
    assert computation.amounts["finance_covers_gap"] == 0
    assert computation.amounts["new_fund_opening"] == -6000
    assert any(step.label == "deficit carried" for step in computation.steps)


@pytest.mark.parametrize("missing", ["urban_balance", "urban_audited", "ncms_balance", "ncms_audited", "audit_reference"])
def test_a_missing_merger_fact_is_named(missing):
    values = dict(merger_facts("1.00", "2.00").values)
    del values[missing]
    with pytest.raises(DocumentFormatError) as refused:
        merge_funds(Facts(values), chenzhou())
    assert refused.value.field == f"facts.{missing}"


@pytest.mark.parametrize("bad", [1.5, "1.005", "one yuan", True])
def test_an_ill_typed_merger_balance_is_named(bad):
    values = dict(merger_facts("1.00", "2.00").values, ncms_audited=bad)
    with pytest.raises(DocumentFormatError) as refused:
        merge_funds(Facts(values), chenzhou())
    assert refused.value.field == "facts.ncms_audited"


# --- outpatient_pool_share: about 15% of the fund -----------------------------------


def test_outpatient_budget_is_15_percent_of_the_fund():
    # 1,000,000.00 × 15% = 150,000.00
    computation = outpatient_pool_share(Facts({"fund_total": "1000000.00"}), chenzhou())
    assert computation.amounts == {"outpatient_budget": 15000000}
    sources = {step.label: step.source for step in computation.steps}
    assert "15%左右" in sources["policy resident.outpatient_pool.share_percent"]


def test_outpatient_budget_rounds_half_up():
    # 11,950,000.50 × 15% = 1,792,500.075 → 1,792,500.08
    assert outpatient_pool_share(Facts({"fund_total": "11950000.50"}), chenzhou()).amounts == {"outpatient_budget": 179250008}
    # 0.03 × 15% = 0.0045 → 0.00
    assert outpatient_pool_share(Facts({"fund_total": "0.03"}), chenzhou()).amounts == {"outpatient_budget": 0}


@pytest.mark.parametrize(
    "values, error",
    [({}, DocumentFormatError), ({"fund_total": "lots"}, DocumentFormatError), ({"fund_total": "-5.00"}, NonPositiveAmountError)],
)
def test_outpatient_facts_are_named(values, error):
    with pytest.raises(error) as refused:
        outpatient_pool_share(Facts(values), chenzhou())
    assert refused.value.field == "facts.fund_total"


def test_computations_round_trip_through_json():
    from ledger.policy.computation import Computation

    computation = merge_funds(merger_facts("-150000.00", "2000000.00"), chenzhou())
    assert Computation.from_dict(computation.to_dict()) == computation
