"""Resident-fund claims, Chongqing (渝府发〔2007〕113号 and 渝办发〔2011〕293号; docs/policy/claims.md).

Inpatient stays are reimbursed at a rate set by the person's funding tier
and the hospital's level, above a deductible (起付线), within one annual cap
per person (渝办发〔2011〕293号 居民办法 四(二)). A stay at a level-3 hospital outside the
home district, or any stay outside the city, without the agency's approval
or filing costs a higher deductible and a lower rate (居民办法 五(一)).
Tier 2 also pools the outpatient costs of three major diseases, under the
same cap (渝府发〔2007〕113号 三(八)). Maternity is a fixed amount, outside the cap.

The caller passes what the fund already paid the person this year under the
cap as ``used_fen``; the capped rules return their increment under
``usage["resident_annual_cap"]``. A cap limits an amount, it never refuses.
"""

from __future__ import annotations

from decimal import Decimal

from ledger.errors import LedgerError
from ledger.money import format_yuan as yuan
from ledger.money import percent_of
from ledger.policy import Policy, PolicyError
from ledger.policy.computation import Computation, Explainer, Step
from ledger.policy.facts import Facts, reads

TIERS = ("1", "2")
HOSPITAL_LEVELS = ("1", "2", "3")  # "1" is 一级及以下 (level 1 and below)
# 居民办法 五(一): inside the city only a level-3 hospital outside the home
# district needs approval; level 1 and 2 anywhere in the city are a free choice.
APPROVAL_LEVEL_IN_CITY = "3"
ANNUAL_CAP_BUCKET = "resident_annual_cap"
PERCENT_WHOLE = Decimal(100)


class MajorOutpatientTierError(LedgerError):
    """A tier-1 resident claimed a major-disease outpatient cost, which only tier 2 pools."""

    rule = "major outpatient diseases pooled for tier 2 only (渝府发〔2007〕113号 三(八) 对选择二档筹资水平参保的人员…纳入统筹基金支付)"


class DeductibleNotAllowedError(LedgerError):
    """A settlement's deductible is above the one the region sets for the hospital level."""

    rule = "the deductible (起付标准) the pooling region sets (渝府发〔2007〕113号 三(八); 渝办发〔2011〕293号 居民办法 四(二))"


def _record(ex: Explainer, label: str, formula: str, value: str, source: str) -> None:
    """A step that records a fact of the computation, not a reason for paying less.

    ``Explainer.note`` leaves the value empty, and the engine reads empty-valued
    steps as the reasons an amount is zero, so informational lines carry a value.
    """
    ex.computation.steps.append(Step(label, formula, value, source))


def _within_cap(ex: Explainer, tier: str, amount_fen_before_cap: int, used_fen: int) -> int:
    """Limit a payment to what is left of the person's annual cap."""
    if used_fen < 0:
        raise ValueError(f"used_fen must not be negative, got {used_fen}")
    cap_fen = ex.money(f"resident.annual_cap.tier_{tier}")
    left_fen = ex.step("left of the annual cap", f"max({yuan(cap_fen)} − {yuan(used_fen)} paid this year, 0)", max(cap_fen - used_fen, 0))
    paid_fen = ex.step("reimbursement", f"min({yuan(amount_fen_before_cap)}, {yuan(left_fen)} left)", min(amount_fen_before_cap, left_fen))
    if paid_fen < amount_fen_before_cap:
        ex.note(
            "cap reached",
            f"the tier-{tier} annual cap {yuan(cap_fen)} (年累计最高支付限额) limits the reimbursement; "
            f"{yuan(amount_fen_before_cap - paid_fen)} is not paid",
            "渝办发〔2011〕293号 居民办法 四(二)",
        )
    return paid_fen


def _above_deductible(ex: Explainer, cost_fen: int, deductible_fen: int, rate_percent: Decimal) -> int:
    base_fen = ex.step("cost above the deductible", f"max({yuan(cost_fen)} − {yuan(deductible_fen)}, 0)", max(cost_fen - deductible_fen, 0))
    return ex.step("at the rate", f"{yuan(base_fen)} × {rate_percent}%, half up to the fen", percent_of(base_fen, rate_percent))


def _needs_approval(facts: Facts, level: str) -> bool:
    """Whether the stay is one the seed makes subject to approval or filing (居民办法 五(一))."""
    # Read both flags first, so an ill-typed one is named even when the other decides.
    out_of_city = facts.flag("out_of_city")
    out_of_district = facts.flag("out_of_district")
    return out_of_city or (out_of_district and level == APPROVAL_LEVEL_IN_CITY)


def _unapproved_penalty(ex: Explainer, deductible_fen: int, rate_percent: Decimal) -> tuple[int, Decimal]:
    """起付线提高5%，同时报销比例下降5%: the deductible × 1.05 and the rate − 5 points."""
    increase_percent = ex.percent("resident.inpatient.unapproved.deductible_increase_percent")
    reduction_points = ex.percent("resident.inpatient.unapproved.rate_reduction_points")
    raised_fen = ex.step(
        "deductible without approval",
        f"{yuan(deductible_fen)} × (100% + {increase_percent}%), half up to the fen",
        percent_of(deductible_fen, PERCENT_WHOLE + increase_percent),
        "渝办发〔2011〕293号 居民办法 五(一)",
    )
    lowered_percent = max(rate_percent - reduction_points, Decimal(0))
    _record(ex, "rate without approval", f"max({rate_percent}% − {reduction_points} points, 0)", f"{lowered_percent}%", "渝办发〔2011〕293号 居民办法 五(一)")
    return raised_fen, lowered_percent


def _deductible(ex: Explainer, facts: Facts, policy: Policy, level: str) -> int:
    """The deductible of the stay before any penalty: the settlement's, where it carries one, else the region's.

    Our reading (docs/policy.md §5): a settlement may have applied less than
    the region's figure for the level (a second stay, a transfer, a group the
    region's own 办法 favours; the seeds leave these to the region), so a
    lower one is used and recorded beside the region's; a higher one would
    charge the insured more than the region allows and is refused
    (``DeductibleNotAllowedError``). A region with no figure in force takes the
    settlement's; with neither, the stay is refused naming the open figure.
    """
    name = f"resident.inpatient.deductible.level_{level}"
    region_fen = ex.money(name) if policy.has(name) else None
    if not facts.has("deductible"):
        if region_fen is None:
            gap = policy.gap_for(name)
            left_open = f" ({gap.source})" if gap else ""
            raise PolicyError(
                f"the policy in force for {policy.region} sets no deductible for level-{level} hospitals ({name}){left_open}; "
                "give the deductible the settlement applied as facts.deductible",
                document_id=facts.document_id,
                field="facts.deductible",
            )
        return region_fen
    settled_fen = facts.money("deductible")
    if region_fen is not None and settled_fen > region_fen:
        raise DeductibleNotAllowedError(
            f"the settlement's deductible {yuan(settled_fen)} is above the region's {yuan(region_fen)} for level-{level} "
            f"hospitals ({name}, {policy.get(name).file_id}): {yuan(settled_fen - region_fen)} too much; give the deductible "
            "before any increase for an unapproved stay, which the policy applies itself (渝办发〔2011〕293号 居民办法 五(一))",
            document_id=facts.document_id,
            field="facts.deductible",
        )
    region_text = f"the region's figure {yuan(region_fen)}" if region_fen is not None else "the region sets none"
    _record(ex, "deductible", f"the settlement applied {yuan(settled_fen)}; {region_text}", yuan(settled_fen), "facts.deductible")
    return settled_fen


@reads("tier", "hospital_level", "covered_cost", "approved", "minor", "out_of_city", "out_of_district", "deductible")
def inpatient(facts: Facts, policy: Policy, used_fen: int) -> Computation:
    """An inpatient stay's reimbursement from the resident fund (渝办发〔2011〕293号 居民办法 四(二), 五(一)).

    Facts: ``tier`` (1 or 2), ``hospital_level`` ("1" level 1 and below,
    "2", "3"), ``covered_cost`` (in-policy cost of the stay, yuan),
    ``out_of_district`` (a hospital outside the home district, default
    false), ``out_of_city`` (a hospital outside Chongqing, default false),
    ``approved`` (the home agency approved the transfer or took the filing,
    default false), ``minor`` (optional; see below), ``deductible`` (optional,
    yuan: the deductible the settlement applied, before any penalty; see
    ``_deductible``).
    Rate by tier and level and a deductible per stay by level (the region's,
    or the settlement's where it carries one and it is not above the region's;
    ``DeductibleNotAllowedError`` otherwise). A level-3 stay
    outside the home district, or any stay outside the city, without approval:
    deductible × 1.05 and rate − 5 points. Then at most what is left of the
    tier's annual cap: ``used_fen`` is what the fund already paid the person
    this year under the cap.
    Amounts (fen): ``reimbursement``, ``out_of_pocket`` (cost − reimbursement).
    Usage: ``resident_annual_cap`` += reimbursement.
    Minors: 渝府发〔2007〕113号 三(八) wants them paid better than adults of the same
    tier but gives no figure, so a minor is paid at the adult rate and the
    computation says so.
    """
    ex = Explainer("claims.inpatient", facts.values, policy)
    tier = facts.choice("tier", TIERS)
    level = facts.choice("hospital_level", HOSPITAL_LEVELS)
    cost_fen = facts.money("covered_cost", allow_zero=False)
    approved = facts.flag("approved")
    rate_percent = ex.percent(f"resident.inpatient.rate_percent.tier_{tier}.level_{level}")
    deductible_fen = _deductible(ex, facts, policy, level)
    if _needs_approval(facts, level):
        if approved:
            _record(ex, "approval", "the home district's agency approved or took the filing (报经…同意): no penalty", "approved", "渝办发〔2011〕293号 居民办法 五(一)")
        else:
            deductible_fen, rate_percent = _unapproved_penalty(ex, deductible_fen, rate_percent)
    if facts.flag("minor"):
        _record(
            ex,
            "minor",
            "未成年人的保障待遇要高于按同档次参保的成年人, but the seed sets no figure (由市劳动保障局…研究具体办法)",
            "adult rate",
            "渝府发〔2007〕113号 三(八)",
        )
    before_cap_fen = _above_deductible(ex, cost_fen, deductible_fen, rate_percent)
    paid_fen = _within_cap(ex, tier, before_cap_fen, used_fen)
    out_of_pocket_fen = ex.step("out of pocket", f"{yuan(cost_fen)} − {yuan(paid_fen)}", cost_fen - paid_fen)
    return ex.done({"reimbursement": paid_fen, "out_of_pocket": out_of_pocket_fen}, {ANNUAL_CAP_BUCKET: paid_fen})


@reads("prenatal", "delivery", "planned_birth")
def maternity(facts: Facts, policy: Policy) -> Computation:
    """The fixed maternity amounts for a planned birth (渝府发〔2007〕113号 三(八)).

    Facts: ``prenatal`` (prenatal checks, true/false), ``delivery``
    (the birth, true/false), ``planned_birth`` (符合计划生育规定, default true:
    the agency checked it before paying).
    Amounts (fen): ``benefit`` = 100.00 if prenatal + 400.00 if delivery.
    Usage: none. Our reading: these 定额补助 are not payments under the annual
    cap (年累计最高支付限额, 渝办发〔2011〕293号 居民办法 四(二), which caps reimbursement).
    """
    ex = Explainer("claims.maternity", facts.values, policy)
    prenatal = facts.flag("prenatal")
    delivery = facts.flag("delivery")
    if not facts.flag("planned_birth", default=True):
        ex.note("not a planned birth", "the fixed amounts are for 符合计划生育规定的孕产妇 only", "渝府发〔2007〕113号 三(八)")
        return ex.done({"benefit": 0})
    benefit_fen = 0
    if prenatal:
        benefit_fen += ex.step("prenatal checks (产前检查)", "fixed amount", ex.money("resident.maternity.prenatal"))
    if delivery:
        benefit_fen += ex.step("delivery (分娩)", "fixed amount", ex.money("resident.maternity.delivery"))
    if not (prenatal or delivery):
        ex.note("nothing claimed", "neither facts.prenatal nor facts.delivery is true")
    _record(ex, "annual cap", "fixed amounts are not reimbursement under 年累计最高支付限额 (our reading)", "not counted", "渝办发〔2011〕293号 居民办法 四(二)")
    return ex.done({"benefit": benefit_fen})


@reads("tier", "disease", "covered_cost")
def major_outpatient(facts: Facts, policy: Policy, used_fen: int) -> Computation:
    """A tier-2 resident's outpatient cost for one of the three pooled major diseases (渝府发〔2007〕113号 三(八)).

    Facts: ``tier`` (must be the policy's ``resident.major_outpatient.tier``,
    2; tier 1 is refused with ``MajorOutpatientTierError``), ``disease``
    (one of ``resident.major_outpatient.diseases``: ``cancer_treatment``
    恶性肿瘤的放疗、化疗和镇痛治疗, ``dialysis`` 透析治疗, ``anti_rejection``
    肾脏移植术后的抗排异治疗), ``covered_cost`` (in-policy cost, yuan).
    Reimbursement = (cost − deductible) × rate, within the same annual cap as
    inpatient stays (``used_fen`` paid this year already). Rate 65% and no
    deductible are our readings: the seeds give no figures.
    Amounts (fen): ``reimbursement``, ``out_of_pocket``.
    Usage: ``resident_annual_cap`` += reimbursement.
    """
    ex = Explainer("claims.major_outpatient", facts.values, policy)
    tier = facts.choice("tier", TIERS)
    pooled_tier = ex.count("resident.major_outpatient.tier")
    if int(tier) != pooled_tier:
        raise MajorOutpatientTierError(
            f"the person is insured at tier {tier}; only tier {pooled_tier} pools the outpatient costs "
            "of the three major diseases (3种重大疾病门诊医疗费用纳入统筹基金支付)",
            document_id=facts.document_id,
            field="facts.tier",
        )
    diseases = [d.strip() for d in ex.text("resident.major_outpatient.diseases").split(",") if d.strip()]
    disease = facts.choice("disease", diseases)
    cost_fen = facts.money("covered_cost", allow_zero=False)
    _record(ex, "disease", "one of the 3种重大疾病", disease, "渝府发〔2007〕113号 三(八)")
    rate_percent = ex.percent("resident.major_outpatient.rate_percent")
    deductible_fen = ex.money("resident.major_outpatient.deductible")
    before_cap_fen = _above_deductible(ex, cost_fen, deductible_fen, rate_percent)
    paid_fen = _within_cap(ex, tier, before_cap_fen, used_fen)
    out_of_pocket_fen = ex.step("out of pocket", f"{yuan(cost_fen)} − {yuan(paid_fen)}", cost_fen - paid_fen)
    return ex.done({"reimbursement": paid_fen, "out_of_pocket": out_of_pocket_fen}, {ANNUAL_CAP_BUCKET: paid_fen})
