"""Funding floors and contribution windows (ledger/policy/rules/funding.py).

Worked examples, figures by hand from 郴政办发〔2016〕37号 四(四)3 (Chenzhou: 2017
funding 不低于570元/人, of which the individual 不低于150元; 每年的8月1日至
12月31日为下一年度的参保缴费期; for 2017 the window is 2016-10-01 to
2017-02-28) and 苏政发2007年《关于建立城镇居民基本医疗保险制度的意见》 二(三) (Jiangsu: 每人每年不低于150元; no window).
Pure: no ledger, no database.
"""

from __future__ import annotations

from datetime import date

import pytest

from ledger.errors import DocumentFormatError, NonPositiveAmountError
from ledger.policy import PolicyError, load_policy, parse_policy_file, policy_files
from ledger.policy.facts import Facts
from ledger.policy.rules.funding import (
    ContributionWindowError,
    FundingBelowMinimumError,
    check_contribution_window,
    check_funding,
)

CHENZHOU_DISTRICT = "431002"  # 北湖区, a district of 郴州市
NANJING_DISTRICT = "320102"  # 玄武区, a district of 南京市
FENG_COUNTY = "320321"  # 丰县, a county of 徐州市: a Jiangsu pooling region of its own


def chenzhou(on: date = date(2017, 6, 1)):
    return load_policy(CHENZHOU_DISTRICT, on)


def jiangsu(on: date = date(2008, 1, 1)):
    return load_policy(NANJING_DISTRICT, on)


def package_file(file_id: str):
    return next(f for f in policy_files() if f.id == file_id)


def funding(tier_amount: str, individual: str, policy) -> dict[str, int]:
    return check_funding(Facts({"tier_amount": tier_amount, "individual": individual}), policy).amounts


def window(paid_on: str, coverage_year: int, policy):
    return check_contribution_window(Facts({"paid_on": paid_on, "coverage_year": coverage_year}), policy)


# --- the Jiangsu policy file ------------------------------------------------


def test_jiangsu_file_applies_to_a_nanjing_district():
    policy = jiangsu()
    assert policy.files == ("jiangsu-2007",)
    minimum = policy.get("resident.funding.minimum")
    assert minimum.value == 15000  # 150.00 元
    assert minimum.minimum is True
    assert minimum.source.startswith("苏政发2007年《关于建立城镇居民基本医疗保险制度的意见》 二(三)")
    assert "不低于150元" in minimum.source
    assert not policy.has("resident.funding.individual_minimum")
    assert not policy.has("resident.contribution_window.start")
    assert policy.get("resident.pooling_level").value == "city_or_county"
    assert policy.get("resident.hardship.premium_payer").source.startswith("苏政发2007年《关于建立城镇居民基本医疗保险制度的意见》 二(四)")


def test_jiangsu_file_applies_to_every_city_and_county_from_2007():
    # 从2007年起: in force from 2007-01-01 in any Jiangsu region, city or county.
    for region in ("320000", "320100", "320582", FENG_COUNTY):
        assert load_policy(region, date(2007, 1, 1), files=(package_file("jiangsu-2007"),)).files == ("jiangsu-2007",)
    with pytest.raises(PolicyError):
        load_policy(NANJING_DISTRICT, date(2006, 12, 31), files=(package_file("jiangsu-2007"),))


def test_jiangsu_file_does_not_apply_outside_jiangsu():
    only_ours = (package_file("jiangsu-2007"), package_file("chenzhou-2016"))
    for region in ("500101", "330102", "310101"):
        with pytest.raises(PolicyError):
            load_policy(region, date(2017, 6, 1), files=only_ours)


# --- check_funding: Chenzhou 2017, 570 of which individual 150 ---------------


def test_chenzhou_funding_at_both_minimums():
    # 570.00 − 150.00 individual = 420.00 from governments
    assert funding("570.00", "150.00", chenzhou()) == {"subsidy": 42000}


def test_chenzhou_funding_above_both_minimums():
    # 600.00 − 180.50 individual = 419.50
    assert funding("600.00", "180.50", chenzhou()) == {"subsidy": 41950}


def test_chenzhou_funding_below_the_total_minimum_is_refused():
    with pytest.raises(FundingBelowMinimumError) as refused:
        funding("569.99", "150.00", chenzhou())
    assert refused.value.field == "facts.tier_amount"
    # 570.00 − 569.99 = 0.01 too little
    assert "569.99" in str(refused.value) and "570.00" in str(refused.value) and "0.01 too little" in str(refused.value)


def test_chenzhou_individual_below_150_is_refused():
    with pytest.raises(FundingBelowMinimumError) as refused:
        funding("570.00", "149.00", chenzhou())
    assert refused.value.field == "facts.individual"
    # 150.00 − 149.00 = 1.00 too little
    assert "149.00" in str(refused.value) and "150.00" in str(refused.value) and "1.00 too little" in str(refused.value)


def test_chenzhou_individual_below_150_is_refused_even_when_the_total_is_generous():
    with pytest.raises(FundingBelowMinimumError) as refused:
        funding("800.00", "120.00", chenzhou())
    assert refused.value.field == "facts.individual"


def test_both_shortfalls_are_named_in_one_refusal():
    with pytest.raises(FundingBelowMinimumError) as refused:
        funding("500.00", "100.00", chenzhou())
    message = str(refused.value)
    assert refused.value.field == "facts.tier_amount"
    # 570.00 − 500.00 = 70.00 and 150.00 − 100.00 = 50.00
    assert "facts.tier_amount 500.00" in message and "70.00 too little" in message
    assert "facts.individual 100.00" in message and "50.00 too little" in message


def test_funding_records_the_minimums_with_their_sources():
    computation = check_funding(Facts({"tier_amount": "570.00", "individual": "150.00"}), chenzhou())
    sources = {step.label: step.source for step in computation.steps}
    assert sources["policy resident.funding.minimum"].startswith("郴政办发〔2016〕37号 四(四)3")
    assert sources["policy resident.funding.individual_minimum"].startswith("郴政办发〔2016〕37号 四(四)3")
    assert computation.policy["files"] == ["chenzhou-2016"]


# --- check_funding: Jiangsu 2007, 150 and no individual minimum ---------------


def test_jiangsu_funding_at_the_minimum():
    # 150.00 − 50.00 individual = 100.00
    assert funding("150.00", "50.00", jiangsu()) == {"subsidy": 10000}


def test_jiangsu_funding_above_the_minimum():
    # 240.00 − 100.00 individual = 140.00
    assert funding("240.00", "100.00", jiangsu()) == {"subsidy": 14000}


def test_jiangsu_has_no_individual_minimum_so_a_zero_share_is_accepted():
    # 低保 families: 参保费用主要由财政负担; 150.00 − 0.00 = 150.00
    computation = check_funding(Facts({"tier_amount": "150.00", "individual": "0"}), jiangsu())
    assert computation.amounts == {"subsidy": 15000}
    assert any(step.label == "no individual minimum" for step in computation.steps)


def test_jiangsu_funding_below_the_minimum_is_refused():
    with pytest.raises(FundingBelowMinimumError) as refused:
        funding("149.99", "40.00", jiangsu())
    assert refused.value.field == "facts.tier_amount"
    assert "149.99" in str(refused.value) and "150.00" in str(refused.value) and "jiangsu-2007" in str(refused.value)


def test_chenzhou_floor_does_not_reach_jiangsu():
    # 200.00 would be refused in Chenzhou (below 570) but is fine in Jiangsu.
    assert funding("200.00", "50.00", jiangsu()) == {"subsidy": 15000}


# --- check_funding: facts ---------------------------------------------------


def test_an_individual_share_above_the_tier_amount_is_refused():
    with pytest.raises(DocumentFormatError) as refused:
        funding("570.00", "600.00", chenzhou())
    assert refused.value.field == "facts.individual"


@pytest.mark.parametrize(
    "values, field",
    [
        ({"individual": "150.00"}, "facts.tier_amount"),
        ({"tier_amount": "570.00"}, "facts.individual"),
        ({"tier_amount": 570.0, "individual": "150.00"}, "facts.tier_amount"),
        ({"tier_amount": "570.001", "individual": "150.00"}, "facts.tier_amount"),
        ({"tier_amount": "five hundred", "individual": "150.00"}, "facts.tier_amount"),
    ],
)
def test_missing_or_ill_typed_funding_facts_are_named(values, field):
    with pytest.raises(DocumentFormatError) as refused:
        check_funding(Facts(values, document_id="CZ-2017-F-1"), chenzhou())
    assert refused.value.field == field
    assert "CZ-2017-F-1" in str(refused.value)


def test_negative_or_zero_funding_facts_are_refused():
    with pytest.raises(NonPositiveAmountError) as refused:
        funding("570.00", "-1.00", chenzhou())
    assert refused.value.field == "facts.individual"
    with pytest.raises(NonPositiveAmountError) as refused:
        funding("0", "0", chenzhou())
    assert refused.value.field == "facts.tier_amount"


# --- district overrides of the minimums ----------------------------------------

OVERRIDE = """
[policy]
id = "test-{region}"
region = "{region}"
effective_from = "{effective}"
seed = "test"
title = "a district raises a minimum"

[parameters."{name}"]
value = "{value}"
unit = "yuan"
minimum = true
source = "test"
"""


def override(region: str, effective: str, name: str, value: str):
    return parse_policy_file(OVERRIDE.format(region=region, effective=effective, name=name, value=value))


def test_a_chenzhou_district_may_raise_the_funding_minimums():
    files = (
        package_file("chenzhou-2016"),
        override(CHENZHOU_DISTRICT, "2016-09-01", "resident.funding.minimum", "600.00"),
        override(CHENZHOU_DISTRICT, "2016-09-01", "resident.funding.individual_minimum", "180.00"),
    )
    policy = load_policy(CHENZHOU_DISTRICT, date(2017, 6, 1), files=files)
    assert policy.get("resident.funding.minimum").value == 60000
    # 600.00 − 180.00 = 420.00
    assert funding("600.00", "180.00", policy) == {"subsidy": 42000}
    # 570.00 meets the city's floor but not the district's 600.00.
    with pytest.raises(FundingBelowMinimumError) as refused:
        funding("570.00", "180.00", policy)
    assert "600.00" in str(refused.value) and "30.00 too little" in str(refused.value)
    with pytest.raises(FundingBelowMinimumError):
        funding("600.00", "150.00", policy)


def test_a_chenzhou_district_may_not_lower_the_funding_minimums():
    for name, value in (("resident.funding.minimum", "500.00"), ("resident.funding.individual_minimum", "100.00")):
        files = (package_file("chenzhou-2016"), override(CHENZHOU_DISTRICT, "2016-09-01", name, value))
        with pytest.raises(PolicyError, match="below the minimum"):
            load_policy(CHENZHOU_DISTRICT, date(2017, 6, 1), files=files)


def test_a_jiangsu_county_may_raise_but_not_lower_the_funding_minimum():
    raised = (package_file("jiangsu-2007"), override(FENG_COUNTY, "2007-07-01", "resident.funding.minimum", "200.00"))
    policy = load_policy(FENG_COUNTY, date(2008, 1, 1), files=raised)
    # 200.00 − 80.00 = 120.00
    assert funding("200.00", "80.00", policy) == {"subsidy": 12000}
    with pytest.raises(FundingBelowMinimumError):
        funding("150.00", "50.00", policy)
    lowered = (package_file("jiangsu-2007"), override(FENG_COUNTY, "2007-07-01", "resident.funding.minimum", "120.00"))
    with pytest.raises(PolicyError, match="below the minimum"):
        load_policy(FENG_COUNTY, date(2008, 1, 1), files=lowered)


# --- check_contribution_window -----------------------------------------------


def test_chenzhou_window_refuses_31_july():
    # Coverage year 2018: the window is 2017-08-01 to 2017-12-31.
    with pytest.raises(ContributionWindowError) as refused:
        window("2017-07-31", 2018, chenzhou(date(2017, 9, 1)))
    assert refused.value.field == "facts.paid_on"
    assert "2017-07-31" in str(refused.value) and "2017-08-01 to 2017-12-31" in str(refused.value)


@pytest.mark.parametrize("paid_on", ["2017-08-01", "2017-10-15", "2017-12-31"])
def test_chenzhou_window_accepts_1_august_to_31_december(paid_on):
    computation = window(paid_on, 2018, chenzhou(date(2017, 9, 1)))
    assert computation.amounts == {}
    assert any(step.label == "within the window" for step in computation.steps)
    sources = {step.label: step.source for step in computation.steps}
    assert sources["policy resident.contribution_window.start"].startswith("郴政办发〔2016〕37号 四(四)3")


@pytest.mark.parametrize("paid_on", ["2018-01-01", "2018-03-01", "2016-12-31"])
def test_chenzhou_window_refuses_the_coverage_year_itself_and_earlier_years(paid_on):
    with pytest.raises(ContributionWindowError):
        window(paid_on, 2018, chenzhou(date(2018, 3, 1)))


@pytest.mark.parametrize("paid_on", ["2016-10-01", "2016-12-31", "2017-01-15", "2017-02-28"])
def test_chenzhou_2017_transition_window_accepts_1_october_2016_to_28_february_2017(paid_on):
    # 为平稳过渡，2017年度参保缴费期安排为2016年10月1日至2017年2月28日
    assert window(paid_on, 2017, chenzhou(date(2016, 10, 1))).amounts == {}


@pytest.mark.parametrize("paid_on", ["2016-09-30", "2017-03-01", "2016-08-15"])
def test_chenzhou_2017_transition_window_replaces_the_usual_window(paid_on):
    # 2016-08-15 would be inside the usual 1 Aug – 31 Dec window, but 2017 has its own.
    with pytest.raises(ContributionWindowError) as refused:
        window(paid_on, 2017, chenzhou(date(2016, 10, 1)))
    assert "2016-10-01 to 2017-02-28" in str(refused.value)


def test_chenzhou_does_not_check_coverage_years_of_the_old_schemes():
    # 2016 contributions belong to the old 城镇居民医保 and 新农合 (双轨运行、政策不变).
    computation = window("2016-09-10", 2016, chenzhou(date(2016, 9, 10)))
    assert any(step.label == "not checked" for step in computation.steps)


def test_a_jiangsu_date_with_no_window_is_accepted():
    computation = window("2008-05-17", 2008, jiangsu())
    assert computation.amounts == {}
    assert any(step.label == "no window" for step in computation.steps)


@pytest.mark.parametrize(
    "values, field",
    [
        ({"coverage_year": 2018}, "facts.paid_on"),
        ({"paid_on": "2017/08/01", "coverage_year": 2018}, "facts.paid_on"),
        ({"paid_on": "2017-02-30", "coverage_year": 2018}, "facts.paid_on"),
        ({"paid_on": "2017-08-01"}, "facts.coverage_year"),
        ({"paid_on": "2017-08-01", "coverage_year": "next"}, "facts.coverage_year"),
    ],
)
def test_missing_or_ill_typed_window_facts_are_named(values, field):
    with pytest.raises(DocumentFormatError) as refused:
        check_contribution_window(Facts(values), chenzhou(date(2017, 9, 1)))
    assert refused.value.field == field


WINDOW_FILE = """
[policy]
id = "test-window"
region = "431000"
effective_from = "2016-01-01"
seed = "test"
title = "a malformed window"

[parameters."resident.contribution_window.start"]
value = "{start}"
unit = "text"
source = "test"

[parameters."resident.contribution_window.end"]
value = "12-31"
unit = "text"
source = "test"

[parameters."resident.contribution_window.years_before_coverage"]
value = "1"
unit = "count"
source = "test"
"""


@pytest.mark.parametrize("start", ["8-1", "08-32", "2017-08-01"])
def test_a_malformed_window_in_a_policy_file_is_a_policy_error(start):
    policy = load_policy(CHENZHOU_DISTRICT, date(2017, 1, 1), files=(parse_policy_file(WINDOW_FILE.format(start=start)),))
    with pytest.raises(PolicyError, match="resident.contribution_window.start"):
        window("2017-08-01", 2018, policy)


def test_a_window_without_a_first_coverage_year_checks_every_year():
    policy = load_policy(CHENZHOU_DISTRICT, date(2017, 1, 1), files=(parse_policy_file(WINDOW_FILE.format(start="08-01")),))
    assert window("2009-12-31", 2010, policy).amounts == {}
    with pytest.raises(ContributionWindowError):
        window("2010-01-02", 2010, policy)
