"""The municipal adjustment fund, a district's gap and the resident surplus check (渝办发〔2011〕293号 居民办法 六): worked examples by hand."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.errors import DocumentFormatError, NonPositiveAmountError
from ledger.policy import PolicyError, load_policy, parse_policy_file, policy_files
from ledger.policy.facts import Facts
from ledger.policy.rules.adjustment import (
    GrantRefusedError,
    check_grant_allowed,
    gap_cover,
    remittance,
    resident_surplus_check,
)

WANZHOU = "500101"
ON = date(2012, 6, 30)
POLICY = load_policy(WANZHOU, ON)


def remit(fundraising: str, remitted_before: str) -> int:
    return remittance(Facts({"fundraising": fundraising, "remitted_before": remitted_before}), POLICY).amounts["remittance"]


def cover(gap: str, surplus: str, grant: str) -> dict[str, int]:
    return gap_cover(Facts({"gap": gap, "surplus": surplus, "grant": grant}), POLICY).amounts


# ---------------------------------------------------------------- remittance (六(四))


def test_the_first_year_remits_8_percent_of_fundraising():
    # 首次上解额: 5,000,000.00 × 8% = 400,000.00
    assert remit("5000000.00", "0.00") == 40_000_000


def test_a_later_year_tops_up_to_8_percent_of_that_year_s_fundraising():
    # 5,500,000.00 × 8% = 440,000.00; 400,000.00 remitted before → 40,000.00
    assert remit("5500000.00", "400000.00") == 4_000_000
    # the third year: 6,000,000.00 × 8% = 480,000.00; 440,000.00 before → 40,000.00
    assert remit("6000000.00", "440000.00") == 4_000_000


def test_a_year_whose_fundraising_fell_remits_nothing():
    # 4,800,000.00 × 8% = 384,000.00 < 440,000.00 remitted before → max(384,000 − 440,000, 0) = 0.00
    computation = remittance(Facts({"fundraising": "4800000.00", "remitted_before": "440000.00"}), POLICY)
    assert computation.amounts == {"remittance": 0}
    assert any(s.label == "nothing to top up" for s in computation.steps)


def test_the_remittance_rounds_half_up_to_the_fen():
    # 12,345.67 × 8% = 987.6536 → 987.65; 12,345.69 × 8% = 987.6552 → 987.66
    assert remit("12345.67", "0.00") == 98765
    assert remit("12345.69", "0.00") == 98766


def test_the_computation_names_the_8_percent_and_its_clause():
    computation = remittance(Facts({"fundraising": "5000000.00", "remitted_before": "0.00"}), POLICY)
    step = next(s for s in computation.steps if s.label == "policy adjustment.remittance_percent")
    assert step.value == "8%" and step.source.startswith("渝办发〔2011〕293号 居民办法 六(四)")


def test_remittance_facts_are_named():
    with pytest.raises(DocumentFormatError, match="facts.remitted_before"):
        remittance(Facts({"fundraising": "5000000.00"}), POLICY)
    with pytest.raises(DocumentFormatError, match="facts.fundraising"):
        remittance(Facts({"fundraising": "lots", "remitted_before": "0.00"}), POLICY)
    with pytest.raises(NonPositiveAmountError, match="facts.remitted_before"):
        remittance(Facts({"fundraising": "5000000.00", "remitted_before": "-1.00"}), POLICY)


def test_a_policy_with_the_yearly_method_is_refused_here():
    text = """
[policy]
id = "chongqing-test-yearly"
region = "500000"
effective_from = "2013-01-01"
seed = "004_9700c8a0963dcb6b.txt"
title = "a test file changing the method"

[parameters."adjustment.remittance_method"]
value = "yearly"
unit = "text"
source = "test"
"""
    policy = load_policy(WANZHOU, date(2013, 6, 30), (*policy_files(), parse_policy_file(text)))
    with pytest.raises(PolicyError, match="top_up"):
        remittance(Facts({"fundraising": "5000000.00", "remitted_before": "0.00"}), policy)


@settings(max_examples=200, deadline=None)
@given(years=st.lists(st.integers(min_value=0, max_value=10**12), min_size=1, max_size=8))
def test_cumulative_remittance_is_8_percent_of_the_highest_level_reached(years):
    # Each year's remittance tops up to round(8% × fundraising); the running total is therefore
    # the highest such level so far, and it never falls.
    remitted_fen, highest_level_fen = 0, 0
    for fundraising_fen in years:
        amount_fen = remit(f"{fundraising_fen // 100}.{fundraising_fen % 100:02d}", f"{remitted_fen // 100}.{remitted_fen % 100:02d}")
        assert amount_fen >= 0
        remitted_fen += amount_fen
        highest_level_fen = max(highest_level_fen, (fundraising_fen * 8 + 50) // 100)
        assert remitted_fen == highest_level_fen


# ---------------------------------------------------------------- grants (六(三))


def test_a_district_that_remitted_and_met_its_targets_may_be_granted():
    assert check_grant_allowed(True, True, POLICY) is None


def test_no_grant_to_a_district_that_did_not_remit():
    with pytest.raises(GrantRefusedError, match="未按规定上解市级调剂金") as raised:
        check_grant_allowed(False, True, POLICY)
    assert "渝办发〔2011〕293号 居民办法 六(三)" in str(raised.value)
    assert "did not meet" not in str(raised.value)


def test_no_grant_to_a_district_that_missed_its_targets():
    with pytest.raises(GrantRefusedError, match="未完成目标考核指标"):
        check_grant_allowed(True, False, POLICY)


def test_both_failures_are_named_at_once():
    with pytest.raises(GrantRefusedError) as raised:
        check_grant_allowed(False, False, POLICY)
    assert "未按规定上解" in str(raised.value) and "未完成目标考核指标" in str(raised.value)


# ---------------------------------------------------------------- a district's gap (六(一))


def test_a_gap_met_entirely_by_the_surplus():
    # gap 100,000.00 ≤ surplus 150,000.00: all from the surplus
    assert cover("100000.00", "150000.00", "0.00") == {"from_surplus": 10_000_000, "from_grant": 0, "from_fiscal": 0}


def test_a_gap_met_by_surplus_and_grant():
    # surplus 60,000.00, then min(50,000.00 grant, 40,000.00 still open) = 40,000.00; finance 0.00
    assert cover("100000.00", "60000.00", "50000.00") == {"from_surplus": 6_000_000, "from_grant": 4_000_000, "from_fiscal": 0}


def test_a_gap_met_by_all_three():
    # surplus 30,000.00 + grant 20,000.00; finance 100,000 − 30,000 − 20,000 = 50,000.00
    assert cover("100000.00", "30000.00", "20000.00") == {"from_surplus": 3_000_000, "from_grant": 2_000_000, "from_fiscal": 5_000_000}


def test_a_gap_with_no_surplus_and_no_grant_falls_on_finance():
    assert cover("1234.56", "0.00", "0.00") == {"from_surplus": 0, "from_grant": 0, "from_fiscal": 123456}


def test_gap_facts_are_named():
    with pytest.raises(NonPositiveAmountError, match="facts.gap"):
        cover("0.00", "10.00", "0.00")
    with pytest.raises(DocumentFormatError, match="facts.grant"):
        gap_cover(Facts({"gap": "10.00", "surplus": "0.00"}), POLICY)


def test_an_order_without_fiscal_last_is_refused():
    text = """
[policy]
id = "chongqing-test-order"
region = "500000"
effective_from = "2013-01-01"
seed = "004_9700c8a0963dcb6b.txt"
title = "a test file with a broken order"

[parameters."resident.gap_cover.order"]
value = "fiscal,surplus,grant"
unit = "text"
source = "test"
"""
    policy = load_policy(WANZHOU, date(2013, 6, 30), (*policy_files(), parse_policy_file(text)))
    with pytest.raises(PolicyError, match="fiscal last"):
        gap_cover(Facts({"gap": "10.00", "surplus": "0.00", "grant": "0.00"}), policy)


@settings(max_examples=200, deadline=None)
@given(
    gap_fen=st.integers(min_value=1, max_value=10**13),
    surplus_fen=st.integers(min_value=0, max_value=10**13),
    grant_fen=st.integers(min_value=0, max_value=10**13),
)
def test_the_channels_always_sum_to_the_gap(gap_fen, surplus_fen, grant_fen):
    as_yuan = lambda fen: f"{fen // 100}.{fen % 100:02d}"  # noqa: E731
    parts = cover(as_yuan(gap_fen), as_yuan(surplus_fen), as_yuan(grant_fen))
    assert sum(parts.values()) == gap_fen
    assert 0 <= parts["from_surplus"] <= surplus_fen and 0 <= parts["from_grant"] <= grant_fen
    # the grant is drawn only once the surplus is used up, and finance only once both are
    assert parts["from_grant"] == 0 or parts["from_surplus"] == surplus_fen
    assert parts["from_fiscal"] == 0 or parts["from_grant"] == grant_fen


# ---------------------------------------------------------------- the resident surplus check


def test_a_balance_up_to_25_percent_of_fundraising_is_fine():
    # 25% × 1,000,000.00 = 250,000.00; a balance of exactly 250,000.00 is not over
    assert resident_surplus_check(25_000_000, 100_000_000, POLICY) == []
    assert resident_surplus_check(0, 100_000_000, POLICY) == []


def test_a_balance_over_25_percent_is_a_finding_saying_by_how_much():
    # 250,000.01 − 250,000.00 = 0.01 too much
    findings = resident_surplus_check(25_000_001, 100_000_000, POLICY)
    assert len(findings) == 1
    assert "250000.01" in findings[0] and "limit 250000.00" in findings[0] and "too much by 0.01" in findings[0]
    assert "财社〔2017〕144号 第36条" in findings[0]


def test_the_limit_is_rounded_half_up_to_the_fen():
    # 25% × 1,000.02 = 250.005 → 250.01: 250.01 is fine, 250.02 is 0.01 too much
    assert resident_surplus_check(25001, 100002, POLICY) == []
    assert "too much by 0.01" in resident_surplus_check(25002, 100002, POLICY)[0]


def test_the_25_percent_is_marked_as_a_reading_outside_the_seeds():
    parameter = POLICY.get("resident.surplus.accumulated_limit_percent")
    assert parameter.value == 25 and "not in the seeds" in parameter.source and parameter.note.startswith("our reading")
