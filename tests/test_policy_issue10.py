"""Issue 10, the policy engine: the region's deductible and the settlement's, the floor-only regions'
contributions and subsidies, the checks of `ledger policy check`, and the gaps a seed leaves open.

Every expected figure is worked by hand from the seeds (渝办发〔2011〕293号, 郴政办发〔2016〕37号,
苏政发2007年《关于建立城镇居民基本医疗保险制度的意见》, 渝府发〔2012〕78号, 渝府发〔2007〕113号) in the comment beside it.
"""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.aggregates.book import BookKey, book_id
from ledger.documents import read_document
from ledger.projections import queries
from ledger.policy import PolicyError, load_policy, parse_policy_file, policy_files
from ledger.policy.checks import surplus_findings
from ledger.policy.facts import Facts
from ledger.policy.rules import claims
from ledger.policy.rules.claims import DeductibleNotAllowedError

WANZHOU = "500101"
CHENZHOU_DISTRICT = "431002"  # 北湖区
FENGXIAN = "320321"  # 丰县, a county of Jiangsu
ON = date(2012, 5, 1)


def post(ledger, *lines):
    return list(ledger.post(read_document(line) for line in lines))


def balance_fen(ledger, region: str, year: int, account: str, scheme: str = "resident") -> int:
    """Debit-positive balance of an account and its sub-accounts in one book."""
    rows = queries.book_balances(ledger.engine, book_id(BookKey(region, scheme, year)).hex, account)
    return sum(row.balance_fen for row in rows)


def stay(**facts) -> Facts:
    return Facts({"tier": "1", "hospital_level": "2", **facts}, "K-1")


def _file(file_id: str, region: str, effective_from: str, body: str) -> str:
    return f"""
[policy]
id = "{file_id}"
region = "{region}"
effective_from = "{effective_from}"
seed = "004_9700c8a0963dcb6b.txt"
title = "test"
{body}
"""


def _deductible(level: int, value: str, set_by: str = "") -> str:
    line = f'set_by = "{set_by}"\n' if set_by else ""
    return f"""
[parameters."resident.inpatient.deductible.level_{level}"]
{line}value = "{value}"
unit = "yuan"
source = "the municipality's own 办法"
"""


# ---------------------------------------------------------------- 1. the deductible


def test_a_settlement_deductible_below_the_regions_is_used_and_recorded():
    # level 2, tier 1: rate 60%; the settlement applied 200.00 (the region's is 300.00):
    # (12,000.00 − 200.00) × 60% = 7,080.00
    computation = claims.inpatient(stay(covered_cost="12000.00", deductible="200.00"), load_policy(WANZHOU, ON), 0)
    assert computation.amounts["reimbursement"] == 708000
    recorded = [s for s in computation.steps if s.label == "deductible"]
    assert recorded and "200.00" in recorded[0].formula and "300.00" in recorded[0].formula


def test_a_settlement_deductible_of_zero_is_used():
    # 12,000.00 × 60% = 7,200.00
    computation = claims.inpatient(stay(covered_cost="12000.00", deductible="0.00"), load_policy(WANZHOU, ON), 0)
    assert computation.amounts["reimbursement"] == 720000


def test_a_settlement_deductible_above_the_regions_is_refused_naming_the_figure():
    with pytest.raises(DeductibleNotAllowedError) as refused:
        claims.inpatient(stay(covered_cost="12000.00", deductible="315.00"), load_policy(WANZHOU, ON), 0)
    assert refused.value.field == "facts.deductible"
    assert "300.00" in refused.value.message and "15.00 too much" in refused.value.message


def test_the_unapproved_penalty_applies_to_the_settlements_deductible():
    # level 3 out of district unapproved: the settlement's 600.00 × 1.05 = 630.00; rate 40% − 5 = 35%:
    # (20,000.00 − 630.00) × 35% = 6,779.50
    facts = Facts({"tier": "1", "hospital_level": "3", "covered_cost": "20000.00", "deductible": "600.00",
                   "out_of_district": "true"}, "K-1")
    computation = claims.inpatient(facts, load_policy(WANZHOU, ON), 0)
    assert computation.amounts["reimbursement"] == 677950


def test_a_municipal_file_replaces_the_deductible_from_its_date():
    # A later 500000 file sets level 2 at 400.00: (12,000.00 − 400.00) × 60% = 6,960.00
    files = (*policy_files(), parse_policy_file(_file("cq-2012-deductibles", "500000", "2012-03-01", _deductible(2, "400.00"))))
    computation = claims.inpatient(stay(covered_cost="12000.00"), load_policy(WANZHOU, ON, files), 0)
    assert computation.amounts["reimbursement"] == 696000


def test_a_district_sets_its_deductible_where_its_municipality_lets_it():
    # The municipality's file marks level 2 set_by = "district"; 万州 sets 250.00:
    # (12,000.00 − 250.00) × 60% = 7,050.00
    municipal = _file("cq-2012-deductibles", "500000", "2012-03-01", _deductible(2, "400.00", "district"))
    district = _file("wanzhou-2012-deductible", WANZHOU, "2012-04-01", _deductible(2, "250.00"))
    files = (*policy_files(), parse_policy_file(municipal), parse_policy_file(district))
    policy = load_policy(WANZHOU, ON, files)
    assert policy.get("resident.inpatient.deductible.level_2").set_by == "district"
    assert claims.inpatient(stay(covered_cost="12000.00"), policy, 0).amounts["reimbursement"] == 705000
    # and the district's figure bounds the settlement's: 260.00 is 10.00 too much
    with pytest.raises(DeductibleNotAllowedError, match="10.00 too much"):
        claims.inpatient(stay(covered_cost="12000.00", deductible="260.00"), policy, 0)


def test_a_district_may_not_set_a_deductible_its_municipality_sets():
    district = _file("wanzhou-2012-deductible", WANZHOU, "2012-04-01", _deductible(2, "250.00"))
    with pytest.raises(PolicyError, match="set by the municipality"):
        load_policy(WANZHOU, ON, (*policy_files(), parse_policy_file(district)))


def test_a_set_by_that_is_not_known_is_refused_when_loading():
    with pytest.raises(PolicyError, match="set_by"):
        parse_policy_file(_file("x", "500000", "2012-03-01", _deductible(2, "400.00", "province")))


@settings(max_examples=200, deadline=None)
@given(
    cost_fen=st.integers(min_value=1, max_value=50_000_000),
    deductible_fen=st.integers(min_value=0, max_value=30_000),
    level=st.sampled_from(["1", "2", "3"]),
    unapproved=st.booleans(),
)
def test_a_settlement_deductible_never_loses_a_fen_and_never_pays_more_than_a_lower_one(cost_fen, deductible_fen, level, unapproved):
    region_fen = {"1": 10_000, "2": 30_000, "3": 80_000}[level]
    deductible_fen = min(deductible_fen, region_fen)
    policy = load_policy(WANZHOU, ON)

    def paid(deductible: int) -> tuple[int, int]:
        facts = Facts({"tier": "1", "hospital_level": level, "covered_cost": f"{cost_fen // 100}.{cost_fen % 100:02d}",
                       "deductible": f"{deductible // 100}.{deductible % 100:02d}", "out_of_district": unapproved}, "K")
        amounts = claims.inpatient(facts, policy, 0).amounts
        return amounts["reimbursement"], amounts["out_of_pocket"]

    reimbursement_fen, out_of_pocket_fen = paid(deductible_fen)
    assert reimbursement_fen + out_of_pocket_fen == cost_fen
    assert 0 <= reimbursement_fen <= cost_fen
    assert paid(0)[0] >= reimbursement_fen >= paid(region_fen)[0]


def test_a_claim_with_the_settlements_deductible_posts_what_it_computes(ledger):
    funded = [
        {"id": "S-1", "type": "subsidy", "date": "2012-01-10", "region": WANZHOU, "scheme": "resident", "tier": 1,
         "level": "central", "amount": "300000.00"},
        {"id": "T-1", "type": "transfer", "date": "2012-01-11", "region": WANZHOU, "scheme": "resident",
         "from": "fiscal", "to": "payment", "amount": "300000.00"},
    ]
    claim = {"id": "K-1", "type": "claim", "date": "2012-05-01", "region": WANZHOU, "scheme": "resident", "tier": 1,
             "category": "inpatient",
             "facts": {"person": "P-1", "hospital_level": "2", "covered_cost": "12000.00", "deductible": "200.00"}}
    outcomes = post(ledger, *funded, claim, {**claim, "id": "K-2", "facts": {**claim["facts"], "deductible": "300.01"}})
    assert outcomes[2].status == "posted", outcomes[2].error
    assert balance_fen(ledger, WANZHOU, 2012, "5001") == 708000
    assert outcomes[3].status == "rejected" and "facts.deductible" in str(outcomes[3].error)


# ---------------------------------------------------------------- 3. floor-only regions: 郴州 and Jiangsu


def chenzhou_contribution(document_id: str = "C-1", date_text: str = "2016-11-10", amount: str | None = None, **facts) -> dict:
    document = {"id": document_id, "type": "contribution", "date": date_text, "region": CHENZHOU_DISTRICT,
                "scheme": "resident", "tier": 1, "facts": {"coverage_year": "2017", **facts}}
    if amount is not None:
        document["amount"] = amount
    return document


def test_a_chenzhou_contribution_with_facts_computes_from_its_standard(ledger):
    # 3 persons × 180.00 individual (standard 600.00 ≥ 570.00, individual 180.00 ≥ 150.00) = 540.00
    outcomes = post(ledger, chenzhou_contribution(persons="3", tier_amount="600.00", individual="180.00"))
    assert outcomes[0].status == "posted", outcomes[0].error
    assert balance_fen(ledger, CHENZHOU_DISTRICT, 2016, "4001") == -54000


def test_a_chenzhou_contribution_below_the_floors_is_refused_naming_both(ledger):
    # 569.00: 1.00 too little; individual 149.00: 1.00 too little
    outcomes = post(ledger, chenzhou_contribution(persons="1", tier_amount="569.00", individual="149.00"))
    assert outcomes[0].status == "rejected"
    assert "facts.tier_amount" in str(outcomes[0].error) and "facts.individual" in str(outcomes[0].error)
    assert str(outcomes[0].error).count("1.00 too little") == 2


def test_a_chenzhou_contribution_outside_the_window_is_refused(ledger):
    # coverage 2017: the transition window 2016-10-01 to 2017-02-28; 2017-03-01 is outside
    late = chenzhou_contribution(date_text="2017-03-01", persons="1", tier_amount="570.00", individual="150.00")
    early = chenzhou_contribution("C-2", date_text="2016-09-30", persons="1", tier_amount="570.00", individual="150.00")
    last_day = chenzhou_contribution("C-3", date_text="2017-02-28", persons="1", tier_amount="570.00", individual="150.00")
    outcomes = post(ledger, late, early, last_day)
    assert [o.status for o in outcomes] == ["rejected", "rejected", "posted"]
    assert "facts.paid_on" in str(outcomes[0].error) and "2016-10-01 to 2017-02-28" in str(outcomes[0].error)


def test_a_chenzhou_contribution_needs_its_coverage_year(ledger):
    document = chenzhou_contribution(persons="1", tier_amount="570.00", individual="150.00")
    del document["facts"]["coverage_year"]
    outcome = post(ledger, document)[0]
    assert outcome.status == "rejected" and "facts.coverage_year" in str(outcome.error)


def test_a_chenzhou_contribution_that_carries_its_amount_needs_no_individual_fact(ledger):
    # 450.00 for 3 persons: 150.00 each, at the minimum; 451.00 does not divide into whole fen equally
    outcomes = post(ledger, chenzhou_contribution(amount="450.00", persons="3", tier_amount="570.00"),
                    chenzhou_contribution("C-2", amount="451.00", persons="3", tier_amount="570.00"),
                    chenzhou_contribution("C-3", amount="447.00", persons="3", tier_amount="570.00"))
    assert outcomes[0].status == "posted", outcomes[0].error
    assert outcomes[1].status == "rejected" and "'amount'" in str(outcomes[1].error)
    # 447.00 / 3 = 149.00: below the individual minimum by 1.00
    assert outcomes[2].status == "rejected" and "1.00 too little" in str(outcomes[2].error)


def test_a_chenzhou_contribution_with_no_individual_figure_names_the_clause_that_leaves_it_open(ledger):
    outcome = post(ledger, chenzhou_contribution(persons="3", tier_amount="570.00"))[0]
    assert outcome.status == "rejected"
    assert "facts.individual" in str(outcome.error) and "郴政办发〔2016〕37号 四(四)3" in str(outcome.error) and "150.00" in str(outcome.error)


def test_a_county_file_may_supply_the_standards_the_seed_leaves_to_it():
    body = """
[parameters."resident.funding.standard"]
value = "600.00"
unit = "yuan"
source = "北湖区 2017 standard"

[parameters."resident.funding.individual_standard"]
value = "180.00"
unit = "yuan"
source = "北湖区 2017 standard"
"""
    files = (*policy_files(), parse_policy_file(_file("beihu-2017", CHENZHOU_DISTRICT, "2016-09-01", body)))
    policy = load_policy(CHENZHOU_DISTRICT, date(2016, 11, 10), files)
    from ledger.policy.rules.funding import floor_funding

    # 2 × 180.00 = 360.00; subsidy 2 × (600.00 − 180.00) = 840.00
    amounts = floor_funding(Facts({"persons": "2"}, "C-1"), policy).amounts
    assert amounts == {"individual": 36000, "subsidy": 84000}
    assert "resident.funding.standard" not in [g.name for g in policy.gaps()]


def test_a_chenzhou_subsidy_with_facts_names_its_level_and_stays_within_the_whole(ledger):
    # whole subsidy: 10 × (600.00 − 180.00) = 4,200.00
    base = {"type": "subsidy", "date": "2017-01-15", "region": CHENZHOU_DISTRICT, "scheme": "resident", "tier": 1,
            "facts": {"persons": "10", "tier_amount": "600.00", "individual": "180.00"}}
    outcomes = post(ledger, {**base, "id": "S-1", "level": "central", "amount": "3000.00"},
                    {**base, "id": "S-2", "level": "county", "amount": "4200.01"},
                    {**base, "id": "S-3"},
                    {**base, "id": "S-4", "level": "county", "amount": "100.00",
                     "facts": {**base["facts"], "individual": "140.00"}})
    assert outcomes[0].status == "posted", outcomes[0].error
    assert outcomes[1].status == "rejected" and "4200.00" in str(outcomes[1].error)
    assert outcomes[2].status == "rejected" and "郴政办发〔2016〕37号 四(四)3" in str(outcomes[2].error) and "4200.00" in str(outcomes[2].error)
    assert outcomes[3].status == "rejected" and "10.00 too little" in str(outcomes[3].error)


def test_a_jiangsu_contribution_checks_only_the_total(ledger):
    # 丰县: 2 × 50.00 = 100.00 (150.00 ≥ 150.00; no individual minimum); 149.99 is 0.01 too little; no window
    base = {"type": "contribution", "date": "2008-03-01", "region": FENGXIAN, "scheme": "resident", "tier": 1}
    outcomes = post(ledger, {**base, "id": "J-1", "facts": {"persons": "2", "tier_amount": "150.00", "individual": "50.00"}},
                    {**base, "id": "J-2", "facts": {"persons": "2", "tier_amount": "149.99", "individual": "50.00"}})
    assert outcomes[0].status == "posted", outcomes[0].error
    assert balance_fen(ledger, FENGXIAN, 2008, "4001") == -10000
    assert outcomes[1].status == "rejected" and "0.01 too little" in str(outcomes[1].error)


@settings(max_examples=200, deadline=None)
@given(persons=st.integers(min_value=1, max_value=10_000), standard_fen=st.integers(min_value=57_000, max_value=200_000),
       individual_fen=st.integers(min_value=15_000, max_value=200_000))
def test_floor_funding_splits_the_standard_without_losing_a_fen(persons, standard_fen, individual_fen):
    from ledger.policy.rules.funding import floor_funding

    individual_fen = min(individual_fen, standard_fen)
    facts = Facts({"persons": str(persons), "tier_amount": f"{standard_fen // 100}.{standard_fen % 100:02d}",
                   "individual": f"{individual_fen // 100}.{individual_fen % 100:02d}"}, "C")
    amounts = floor_funding(facts, load_policy(CHENZHOU_DISTRICT, date(2017, 1, 15))).amounts
    assert amounts["individual"] + amounts["subsidy"] == persons * standard_fen
    assert amounts["individual"] == persons * individual_fen


# ---------------------------------------------------------------- 2. checks on `ledger policy check`


def test_outpatient_spending_over_the_pool_is_a_finding(ledger):
    # fundraising 100,000.00 (contributions 30,000.00 + subsidy 70,000.00); pool 15% = 15,000.00;
    # outpatient benefits 15,000.01 → 0.01 too much; 15,000.00 exactly → no finding
    base = {"region": CHENZHOU_DISTRICT, "scheme": "resident", "tier": 1}
    base_untiered = {"region": CHENZHOU_DISTRICT, "scheme": "resident"}
    documents = [
        {**base, "id": "C-1", "type": "contribution", "date": "2017-01-20", "amount": "30000.00"},
        {**base, "id": "S-1", "type": "subsidy", "date": "2017-01-20", "level": "central", "amount": "70000.00"},
        {**base_untiered, "id": "W-1", "type": "transfer", "date": "2017-01-21", "from": "income", "to": "fiscal", "amount": "30000.00"},
        {**base_untiered, "id": "T-1", "type": "transfer", "date": "2017-01-22", "from": "fiscal", "to": "payment", "amount": "20000.00"},
        {**base, "id": "K-1", "type": "claim", "date": "2017-06-01", "category": "outpatient", "amount": "15000.00"},
    ]
    outcomes = post(ledger, *documents)
    assert all(o.status == "posted" for o in outcomes), [o.error for o in outcomes]
    assert [f for f in surplus_findings(ledger.engine, CHENZHOU_DISTRICT, 2017) if "outpatient" in f.message] == []
    post(ledger, {**base, "id": "K-2", "type": "claim", "date": "2017-06-02", "category": "outpatient", "amount": "0.01"})
    findings = [f for f in surplus_findings(ledger.engine, CHENZHOU_DISTRICT, 2017) if "outpatient" in f.message]
    assert len(findings) == 1
    assert "15000.00" in findings[0].message and "0.01 too much" in findings[0].message
    assert "郴政办发〔2016〕37号 四(四)4" in findings[0].message


def test_a_district_assistance_funding_below_15_percent_of_last_years_municipal_allocation_is_a_finding(ledger):
    # 2013: municipal allocation 100,000.00 → the district must put in at least 15,000.00 in 2014;
    # it puts in 14,999.99: 0.01 too little. With 15,000.00 there is no finding.
    base = {"region": WANZHOU, "scheme": "assistance", "type": "subsidy"}
    post(ledger, {**base, "id": "A-1", "date": "2013-02-01", "level": "provincial", "amount": "100000.00"},
         {**base, "id": "A-2", "date": "2014-02-01", "level": "county", "amount": "14999.99"})
    findings = [f for f in surplus_findings(ledger.engine, WANZHOU, 2014) if "municipal allocation" in f.message]
    assert len(findings) == 1 and "0.01 too little" in findings[0].message and findings[0].book == f"{WANZHOU}/assistance/2014"
    post(ledger, {**base, "id": "A-3", "date": "2014-03-01", "level": "county", "amount": "0.01"})
    assert [f for f in surplus_findings(ledger.engine, WANZHOU, 2014) if "municipal allocation" in f.message] == []


# ---------------------------------------------------------------- 4. the gaps a seed leaves open


def test_the_policy_lists_minors_terms_and_every_figure_left_to_a_later_document():
    gaps = {g.name: g for g in load_policy(WANZHOU, date(2013, 6, 30)).gaps()}
    assert "渝府发〔2007〕113号 三(八)" in gaps["resident.minor_terms"].source
    assert "渝办发〔2011〕293号 居民办法 六(四)" in gaps["adjustment.grant_terms"].source
    # our default deductibles stand in, so the gap stays open until the municipality's own file
    assert "resident.inpatient.deductible" in gaps
    municipal = "".join(_deductible(level, "200.00") for level in (1, 2, 3))
    files = (*policy_files(), parse_policy_file(_file("cq-2013", "500000", "2013-01-01", municipal)))
    closed = {g.name for g in load_policy(WANZHOU, date(2013, 6, 30), files).gaps()}
    assert "resident.inpatient.deductible" not in closed and "resident.minor_terms" in closed
    chenzhou = {g.name: g for g in load_policy(CHENZHOU_DISTRICT, date(2017, 6, 30)).gaps()}
    assert {"resident.inpatient.terms", "resident.subsidy.split", "resident.funding.standard"} <= set(chenzhou)
    assert all(g.source.startswith("郴政办发〔2016〕37号") for g in chenzhou.values())
    jiangsu = {g.name for g in load_policy(FENGXIAN, date(2008, 1, 1)).gaps()}
    assert {"resident.funding.standard", "resident.benefit_terms"} <= jiangsu


def test_a_gap_without_what_or_source_is_refused_when_loading():
    with pytest.raises(PolicyError, match="gap x has no source"):
        parse_policy_file(_file("y", "500000", "2012-01-01", '[gaps."x"]\nwhat = "w"\n'))


def test_policy_show_lists_every_gap_the_seeds_leave_open_with_its_clause():
    import json

    from typer.testing import CliRunner

    from ledger.cli import app

    shown = CliRunner().invoke(app, ["policy", "show", "500101", "2013-06-30", "--json"])
    assert shown.exit_code == 0, shown.output
    gaps = {g["name"]: g for g in json.loads(shown.stdout)["gaps"]}
    # 渝府发〔2007〕113号 三(八): minors' better terms are left to a later 具体办法, with no figure.
    assert "渝府发〔2007〕113号 三(八)" in gaps["resident.minor_terms"]["source"]
    assert "resident.minor_major_diseases" in gaps
    # The deductibles are the municipality's to set (渝办发〔2011〕293号 居民办法 四(二)); ours stand in.
    assert "渝办发〔2011〕293号" in gaps["resident.inpatient.deductible"]["source"]
    table = CliRunner().invoke(app, ["policy", "show", "500101", "2013-06-30"], env={"COLUMNS": "200"})
    assert table.exit_code == 0
    assert "Gaps: figures the seeds leave open" in table.output
    assert "resident.minor_terms" in table.output
