"""Medical assistance (城乡医疗救助), Chongqing 2012 (渝府发〔2012〕78号; docs/policy/assistance.md).

Recipient categories (facts ``category``, 渝府发〔2012〕78号 一): ``dibao`` (1 城乡低保),
``sanwu`` (2 城市三无), ``wubao`` (3 农村五保), ``orphan`` (4 城乡孤儿),
``youfu`` (5 在乡重点优抚), ``severe_disability`` (6 重度残疾),
``special_hardship`` (7 其他特殊困难人员, incl. low-income residents over 60)
and ``student`` (8 家庭经济困难的在校大学生). Students are aided through the
school system, not this fund (渝府发〔2012〕78号 二, closing paragraph), so every rule
refuses category 8 with ``StudentAidedBySchoolError``.

Every aid is a share of the in-policy out-of-pocket cost left after insurance
(经医疗保险报销后，属于医疗保险政策范围内的自付费用), limited by an annual cap per
person. The caller passes what the person already received this year from the
same cap as ``used_fen``; each rule returns the increment under ``usage``.
Which categories fall in which group is the seed's structure and lives here;
every rate, cap, quota and amount is a policy figure.
"""

from __future__ import annotations

import unicodedata
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from ledger.errors import DocumentFormatError, LedgerError
from ledger.money import format_yuan as yuan
from ledger.money import percent_of
from ledger.policy import Policy
from ledger.policy.computation import Computation, Explainer, Step
from ledger.policy.facts import Facts, reads

# Seed 003 一 lists the categories in this order; the number is the position.
CATEGORIES = ("dibao", "sanwu", "wubao", "orphan", "youfu", "severe_disability", "special_hardship", "student")
CATEGORY_NAMES = {
    "dibao": "城乡低保对象",
    "sanwu": "城市“三无”人员",
    "wubao": "农村五保对象",
    "orphan": "城乡孤儿",
    "youfu": "在乡重点优抚对象",
    "severe_disability": "城乡重度（一、二级）残疾人员",
    "special_hardship": "民政部门建档的其他特殊困难人员",
    "student": "家庭经济困难的在校大学生",
}
SCHOOL_AIDED_CATEGORY = "student"
# 前五类 get the higher inpatient and major-disease rates (二(二)2, 二(三)1); the
# rest of 前七类 the lower ones.
FIRST_FIVE = frozenset(CATEGORIES[:5])
# 三无 and 五保 are sponsored their whole tier-1 contribution (二(一) 全额资助).
FULL_SPONSORSHIP = frozenset({"sanwu", "wubao"})
# 二(二)1: the quota goes to 三无, 五保 and some 低保; the 60% rate to the other 低保 and 优抚.
OUTPATIENT_QUOTA = frozenset({"sanwu", "wubao"})
OUTPATIENT_RATE = frozenset({"dibao", "youfu"})

QUOTA_BUCKET = "assistance_outpatient_quota"
OUTPATIENT_CAP_BUCKET = "assistance_outpatient_cap"
INPATIENT_BUCKET = "assistance_inpatient_cap"
MAJOR_BUCKET = "assistance_major_cap"
LARGE_EXPENSE_BUCKET = "assistance_large_expense_cap"
DISEASE_SEPARATOR = "；"


class StudentAidedBySchoolError(LedgerError):
    """A hardship university student (category 8) was put to the medical assistance fund."""

    rule = "students aided through the school system (渝府发〔2012〕78号 二 纳入学校资助体系资助)"


class DiseaseNotListedError(LedgerError):
    """A major-disease claim named a disease outside the list of 渝府发〔2012〕78号 二(三)1."""

    rule = "major-disease aid for the listed diseases only (渝府发〔2012〕78号 二(三)1 22类疾病)"


# ---------------------------------------------------------------- shared steps


def _category(facts: Facts, ex: Explainer) -> str:
    """The recipient's category, refusing category 8."""
    category = facts.choice("category", CATEGORIES)
    number = CATEGORIES.index(category) + 1
    if category == SCHOOL_AIDED_CATEGORY:
        raise StudentAidedBySchoolError(
            f"{category} (category 8, {CATEGORY_NAMES[category]}) is aided through the school "
            "system, not the medical assistance fund: 门诊和住院医疗费用…纳入学校资助体系资助",
            document_id=facts.document_id,
            field="facts.category",
        )
    # A step with a value, not a note: the category is an input, not a reason for paying nothing.
    ex.computation.steps.append(Step("category", f"{category}, {CATEGORY_NAMES[category]}", str(number), f"渝府发〔2012〕78号 一({number})"))
    return category


def _rate_group(category: str) -> str:
    return "categories_1_5" if category in FIRST_FIVE else "categories_6_7"


def _at_rate(ex: Explainer, out_of_pocket_fen: int, rate_name: str) -> int:
    rate_percent = ex.percent(rate_name)
    return ex.step(
        "aid at the rate",
        f"{yuan(out_of_pocket_fen)} out-of-pocket × {rate_percent}%, half up to the fen",
        percent_of(out_of_pocket_fen, rate_percent),
    )


def _within_cap(ex: Explainer, aid_fen_before_cap: int, cap_name: str, used_fen: int) -> int:
    """Limit an aid to what is left of a yearly cap; the cap limits, it does not refuse."""
    if used_fen < 0:
        raise ValueError(f"used_fen must not be negative, got {used_fen}")
    cap_fen = ex.money(cap_name)
    left_fen = ex.step("left of the yearly cap", f"max({yuan(cap_fen)} − {yuan(used_fen)} used this year, 0)", max(cap_fen - used_fen, 0))
    aid_fen = ex.step("aid", f"min({yuan(aid_fen_before_cap)}, {yuan(left_fen)} left)", min(aid_fen_before_cap, left_fen))
    if aid_fen < aid_fen_before_cap:
        ex.note("cap reached", f"{cap_name} {yuan(cap_fen)} limits the aid; {yuan(aid_fen_before_cap - aid_fen)} is not aided")
    return aid_fen


def _out_of_pocket(facts: Facts) -> int:
    return facts.money("out_of_pocket", allow_zero=False)


def _required_flag(facts: Facts, name: str, why: str) -> bool:
    if not facts.has(name):
        raise DocumentFormatError(f"is required {why}", document_id=facts.document_id, field=f"facts.{name}")
    return facts.flag(name)


# ---------------------------------------------------------------- sponsorship


@reads("category", "tier", "individual_contribution", "worker_insured")
def sponsorship(facts: Facts, policy: Policy) -> Computation:
    """The assistance fund's sponsorship of a recipient's resident-fund premium (渝府发〔2012〕78号 二(一)).

    Facts: ``category``, ``tier`` (1 or 2), ``individual_contribution`` (the
    person's own share at that tier, yuan) and, optionally,
    ``worker_insured`` (true for a person the worker scheme covers: not
    sponsored, 属于城镇职工医疗保险覆盖范围的除外).
    Tier 1: 三无 and 五保 are sponsored in full, categories 1 and 4–7 the tier-1
    amount; tier 2: every category the tier-2 amount. Never more than the
    contribution; the recipient pays the rest.
    Amounts: ``sponsored`` (paid from the assistance fund into the resident
    fund) and ``paid_by_recipient`` (fen), summing to the contribution.
    Usage: none.
    """
    ex = Explainer("assistance.sponsorship", facts.values, policy)
    category = _category(facts, ex)
    tier = int(facts.choice("tier", ("1", "2")))
    contribution_fen = facts.money("individual_contribution")
    if facts.flag("worker_insured"):
        ex.note("not sponsored", "the worker scheme covers the person (属于城镇职工医疗保险覆盖范围的除外)", "渝府发〔2012〕78号 二(一)")
        sponsored_fen = 0
    elif tier == 1 and category in FULL_SPONSORSHIP:
        sponsored_fen = ex.step(
            "sponsored in full (全额资助)", f"the whole contribution {yuan(contribution_fen)}", contribution_fen, "渝府发〔2012〕78号 二(一)"
        )
    else:
        standard_fen = ex.money(f"assistance.sponsorship.tier_{tier}.amount")
        sponsored_fen = ex.step(
            "sponsored", f"min({yuan(standard_fen)}, {yuan(contribution_fen)} contribution)", min(standard_fen, contribution_fen)
        )
    paid_fen = ex.step(
        "paid by the recipient (超过资助标准的…由救助对象自付)",
        f"{yuan(contribution_fen)} − {yuan(sponsored_fen)}",
        contribution_fen - sponsored_fen,
        "渝府发〔2012〕78号 二(一)",
    )
    return ex.done({"sponsored": sponsored_fen, "paid_by_recipient": paid_fen})


# ---------------------------------------------------------------- ordinary disease


def outpatient_bucket(facts: Facts) -> str:
    """The yearly limit a person's outpatient aid draws on: the quota (三无, 五保, 低保 over 80 or in care) or the capped share."""
    category = facts.text("category")
    in_quota_group = category == "dibao" and (facts.flag("over_80") or facts.flag("long_term_care"))
    return QUOTA_BUCKET if category in OUTPATIENT_QUOTA or in_quota_group else OUTPATIENT_CAP_BUCKET


def _outpatient_group(facts: Facts, ex: Explainer, category: str) -> str | None:
    """``quota``, ``rate``, or None for a category the seed gives no outpatient aid."""
    if category in OUTPATIENT_QUOTA:
        return "quota"
    if category == "dibao":
        why = "for a 低保 recipient: it decides between the yearly quota and the rate (渝府发〔2012〕78号 二(二)1)"
        over_80 = _required_flag(facts, "over_80", why)
        long_term_care = _required_flag(facts, "long_term_care", why)
        if over_80 or long_term_care:
            ex.note("quota group", "低保 aged 80 or more (80岁以上) or needing care outside hospital (需院外维持治疗)", "渝府发〔2012〕78号 二(二)1")
            return "quota"
    if category in OUTPATIENT_RATE:
        return "rate"
    return None


@reads("category", "out_of_pocket", "over_80", "long_term_care")
def outpatient(facts: Facts, policy: Policy, used_fen: int) -> Computation:
    """Ordinary-disease outpatient aid (渝府发〔2012〕78号 二(二)1).

    Facts: ``category``, ``out_of_pocket`` (in-policy out-of-pocket cost after
    insurance, yuan), ``over_80`` and ``long_term_care`` (true/false; required
    for 低保 only). 三无, 五保, and 低保 aged 80 or more or needing long-term
    care: the cost in full up to the yearly quota, unused quota lapsing at year
    end; other 低保 and 优抚: the outpatient rate, up to the yearly cap;
    categories 4, 6 and 7: no outpatient aid (the seed names none), aid 0.
    ``used_fen``: aid already paid this year from the same bucket.
    Amounts: ``aid``. Usage: ``assistance_outpatient_quota`` or
    ``assistance_outpatient_cap``.
    """
    ex = Explainer("assistance.outpatient", facts.values, policy)
    category = _category(facts, ex)
    out_of_pocket_fen = _out_of_pocket(facts)
    group = _outpatient_group(facts, ex, category)
    if group is None:
        ex.note("no outpatient aid", f"渝府发〔2012〕78号 二(二)1 names no ordinary outpatient aid for {category}", "渝府发〔2012〕78号 二(二)1")
        return ex.done({"aid": 0})
    if group == "quota":
        in_full_fen = ex.step("aided in full (全额救助)", f"{yuan(out_of_pocket_fen)} out-of-pocket", out_of_pocket_fen, "渝府发〔2012〕78号 二(二)1")
        aid_fen = _within_cap(ex, in_full_fen, "assistance.outpatient.quota", used_fen)
        return ex.done({"aid": aid_fen}, {QUOTA_BUCKET: aid_fen})
    at_rate_fen = _at_rate(ex, out_of_pocket_fen, "assistance.outpatient.rate_percent")
    aid_fen = _within_cap(ex, at_rate_fen, "assistance.outpatient.cap", used_fen)
    return ex.done({"aid": aid_fen}, {OUTPATIENT_CAP_BUCKET: aid_fen})


@reads("category", "out_of_pocket")
def inpatient(facts: Facts, policy: Policy, used_fen: int) -> Computation:
    """Ordinary-disease inpatient aid (渝府发〔2012〕78号 二(二)2).

    Facts: ``category``, ``out_of_pocket`` (in-policy out-of-pocket cost after
    insurance, yuan). Categories 1–5 get the higher rate, 6–7 the lower, up
    to the yearly cap. ``used_fen``: inpatient aid already paid this year.
    Amounts: ``aid``. Usage: ``assistance_inpatient_cap``.
    """
    ex = Explainer("assistance.inpatient", facts.values, policy)
    category = _category(facts, ex)
    out_of_pocket_fen = _out_of_pocket(facts)
    at_rate_fen = _at_rate(ex, out_of_pocket_fen, f"assistance.inpatient.rate_percent.{_rate_group(category)}")
    aid_fen = _within_cap(ex, at_rate_fen, "assistance.inpatient.cap", used_fen)
    return ex.done({"aid": aid_fen}, {INPATIENT_BUCKET: aid_fen})


# ---------------------------------------------------------------- major disease and large expense


def _normal(text: str) -> str:
    """Compare disease names without regard to spaces or full- and half-width forms."""
    return "".join(unicodedata.normalize("NFKC", text).split())


def _disease_names(entry: str) -> set[str]:
    """An entry, its name before the bracket, and a bracketed alias such as 尿毒症."""
    full = _normal(entry)
    names = {full}
    if "(" in full:
        head, _, rest = full.partition("(")
        names.add(head)
        bracketed = rest.rstrip(")")
        # A bracket listing organs (心、肝、肺、脑、肾) is a qualifier, not another name.
        if "、" not in bracketed:
            names.add(bracketed)
    return names


def _listed_disease(ex: Explainer, disease: str) -> str | None:
    """The entry of the policy's disease list that names ``disease``, or None."""
    wanted = _normal(disease)
    for entry in ex.text("assistance.major_disease.diseases").split(DISEASE_SEPARATOR):
        if entry.strip() and wanted in _disease_names(entry):
            return entry.strip()
    return None


@reads("category", "disease", "out_of_pocket")
def major_disease(facts: Facts, policy: Policy, used_fen: int) -> Computation:
    """Major-disease aid for the 22 listed diseases (渝府发〔2012〕78号 二(三)1).

    Facts: ``category``, ``disease`` (one of the list in
    ``assistance.major_disease.diseases``, Chinese name as the seed writes it),
    ``out_of_pocket`` (in-policy out-of-pocket cost after insurance of the
    stay, or of outpatient radio- or chemotherapy, dialysis or transfusion,
    yuan). Categories 1–5 the higher rate, 6–7 the lower, up to one yearly cap
    for inpatient and outpatient together. A disease not on the list is
    refused with ``DiseaseNotListedError``. ``used_fen``: major-disease aid
    already paid this year. Amounts: ``aid``. Usage: ``assistance_major_cap``.
    """
    ex = Explainer("assistance.major_disease", facts.values, policy)
    category = _category(facts, ex)
    disease = facts.text("disease")
    entry = _listed_disease(ex, disease)
    if entry is None:
        raise DiseaseNotListedError(
            f"{disease!r} is not one of the diseases of assistance.major_disease.diseases "
            f"({policy.get('assistance.major_disease.diseases').file_id}); 儿童急性白血病 and 先天性心脏病 follow "
            "渝办发〔2010〕263号, which this ledger does not carry; another disease may qualify for large-expense aid",
            document_id=facts.document_id,
            field="facts.disease",
        )
    ex.note("listed disease", entry, "渝府发〔2012〕78号 二(三)1")
    out_of_pocket_fen = _out_of_pocket(facts)
    at_rate_fen = _at_rate(ex, out_of_pocket_fen, f"assistance.major_disease.rate_percent.{_rate_group(category)}")
    aid_fen = _within_cap(ex, at_rate_fen, "assistance.major_disease.cap", used_fen)
    return ex.done({"aid": aid_fen}, {MAJOR_BUCKET: aid_fen})


def _large_expense_shortfalls(ex: Explainer, facts: Facts, hospital_level: int, covered_fen: int) -> list[str]:
    """Every reason a stay does not qualify for large-expense aid, all reported together."""
    reasons = []
    minimum_level = ex.count("assistance.large_expense.minimum_hospital_level")
    if hospital_level < minimum_level:
        reasons.append(f"a level-{hospital_level} hospital; the stay must be at a level-{minimum_level} hospital or above")
    threshold_fen = ex.money("assistance.large_expense.threshold")
    if covered_fen <= threshold_fen:
        reasons.append(f"the stay's in-policy cost {yuan(covered_fen)} is not more than {yuan(threshold_fen)}")
    if facts.has("disease"):
        entry = _listed_disease(ex, facts.text("disease"))
        if entry is not None:
            reasons.append(f"{entry} is a listed disease, aided by the major-disease rule (特殊病种以外的其他疾病)")
    return reasons


@reads("category", "hospital_level", "covered_cost", "out_of_pocket", "disease")
def large_expense(facts: Facts, policy: Policy, used_fen: int) -> Computation:
    """Large-expense aid for a costly stay with another disease (渝府发〔2012〕78号 二(三)2).

    Facts: ``category``, ``hospital_level`` ("1", "2" or "3"),
    ``covered_cost`` (the stay's in-policy cost, yuan), ``out_of_pocket`` (its
    in-policy out-of-pocket cost after insurance, yuan) and, optionally,
    ``disease``. One stay at a level-2-or-above hospital whose in-policy cost
    is more than the threshold gets the major-disease rates, up to a yearly
    cap of its own. A stay that does not qualify gets aid 0, with every
    reason in the notes. ``used_fen``: large-expense aid already paid this
    year. Amounts: ``aid``. Usage: ``assistance_large_expense_cap``.
    """
    ex = Explainer("assistance.large_expense", facts.values, policy)
    category = _category(facts, ex)
    hospital_level = int(facts.choice("hospital_level", ("1", "2", "3")))
    covered_fen = facts.money("covered_cost", allow_zero=False)
    out_of_pocket_fen = _out_of_pocket(facts)
    if out_of_pocket_fen > covered_fen:
        raise DocumentFormatError(
            f"the out-of-pocket cost {yuan(out_of_pocket_fen)} is more than the stay's in-policy cost {yuan(covered_fen)}",
            document_id=facts.document_id,
            field="facts.out_of_pocket",
        )
    reasons = _large_expense_shortfalls(ex, facts, hospital_level, covered_fen)
    if reasons:
        ex.note("does not qualify", "; ".join(reasons), "渝府发〔2012〕78号 二(三)2")
        return ex.done({"aid": 0})
    at_rate_fen = _at_rate(ex, out_of_pocket_fen, f"assistance.major_disease.rate_percent.{_rate_group(category)}")
    aid_fen = _within_cap(ex, at_rate_fen, "assistance.large_expense.cap", used_fen)
    return ex.done({"aid": aid_fen}, {LARGE_EXPENSE_BUCKET: aid_fen})


# ---------------------------------------------------------------- the fund's checks


def _whole_fen(amount_fen: Decimal, rounding: str) -> int:
    """A limit in whole fen, rounded the way that keeps the comparison exact."""
    return int(amount_fen.quantize(Decimal(1), rounding=rounding))


def surplus_check(year_surplus_fen: int, funds_raised_fen: int, policy: Policy) -> list[str]:
    """Findings when the year's surplus is more than the allowed share of the funds raised.

    Seed 003 四(二) 当年筹集的医疗救助基金结余不得超过15% (财社〔2013〕217号 the
    same). The largest surplus allowed is the whole fen at or below the exact
    share, so the comparison itself never rounds. A deficit is no finding.
    """
    if funds_raised_fen < 0:
        raise ValueError(f"funds_raised_fen must not be negative, got {funds_raised_fen}")
    maximum = policy.get("assistance.surplus.maximum_percent")
    allowed_fen = _whole_fen(Decimal(funds_raised_fen) * maximum.value / 100, ROUND_FLOOR)
    if year_surplus_fen <= allowed_fen:
        return []
    return [
        f"the assistance fund's surplus for the year, {yuan(year_surplus_fen)}, is more than {maximum.value}% of the "
        f"{yuan(funds_raised_fen)} raised (at most {yuan(allowed_fen)}): {yuan(year_surplus_fen - allowed_fen)} too much "
        f"[{maximum.source}; {maximum.file_id}]"
    ]


def budget_check(district_budget_fen: int, municipal_allocation_fen_last_year: int, policy: Policy) -> list[str]:
    """Findings when a district budgets less than the required share of last year's municipal allocation.

    Seed 003 四(一): from 2013, 当年本级财政预算安排资金不得低于上年市级下拨补助资金总额的15%.
    The least budget allowed is the whole fen at or above the exact share.
    """
    if municipal_allocation_fen_last_year < 0 or district_budget_fen < 0:
        raise ValueError("a budget and an allocation are never negative")
    minimum = policy.get("assistance.district_budget.minimum_percent")
    required_fen = _whole_fen(Decimal(municipal_allocation_fen_last_year) * minimum.value / 100, ROUND_CEILING)
    if district_budget_fen >= required_fen:
        return []
    return [
        f"the district's own assistance budget, {yuan(district_budget_fen)}, is less than {minimum.value}% of last "
        f"year's municipal allocation {yuan(municipal_allocation_fen_last_year)} (at least {yuan(required_fen)}): "
        f"{yuan(required_fen - district_budget_fen)} too little [{minimum.source}; {minimum.file_id}]"
    ]
