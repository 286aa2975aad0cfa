"""Funding floors and contribution windows of the resident fund, for any region.

The rules read only parameters that several seeds share, so the same function
serves Chenzhou (郴政办发〔2016〕37号: at least 570 元 a person in 2017, of which the
individual at least 150; contributions for a year paid from 1 August to
31 December of the year before) and Jiangsu (苏政发2007年《关于建立城镇居民基本医疗保险制度的意见》: at least 150 元 a
person; no window). A policy that lacks an optional parameter skips that
check, and the computation says so.
"""

from __future__ import annotations

import re
from datetime import date

from ledger.errors import LedgerError
from ledger.money import format_yuan as yuan
from ledger.policy import Policy, PolicyError
from ledger.policy.computation import Computation, Explainer
from ledger.policy.facts import Facts, reads

FUNDING_MINIMUM = "resident.funding.minimum"
INDIVIDUAL_MINIMUM = "resident.funding.individual_minimum"
WINDOW = "resident.contribution_window"
_ISO_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_MONTH_DAY = re.compile(r"^[0-9]{2}-[0-9]{2}$")


class FundingBelowMinimumError(LedgerError):
    """A funding level, or the individual's share of it, is below the minimum (不低于) in force."""

    rule = "funding at least the minimum in force (筹资标准不低于)"


class ContributionWindowError(LedgerError):
    """A contribution was paid outside the contribution window (参保缴费期) of its coverage year."""

    rule = "contributions paid within the contribution window (参保缴费期)"


@reads("tier_amount", "individual")
def check_funding(facts: Facts, policy: Policy) -> Computation:
    """Check a funding level against the minimums in force; the subsidy is the rest.

    Facts: ``tier_amount`` (funding per person per year at the chosen level,
    yuan) and ``individual`` (the individual's share of it, yuan — whoever
    pays it, so a share paid by medical assistance still counts).
    Amounts: ``subsidy`` (fen): tier_amount − individual, what governments
    must put in. Usage: none.
    Refuses with ``FundingBelowMinimumError`` when the tier amount is below
    ``resident.funding.minimum`` or, where the policy has one, the individual
    share is below ``resident.funding.individual_minimum``; both shortfalls
    are named in one message, so the accountant sees every problem at once.
    """
    ex = Explainer("funding.check_funding", facts.values, policy)
    tier_fen = facts.money("tier_amount", allow_zero=False)
    individual_fen = facts.money("individual")
    if individual_fen > tier_fen:
        raise facts.error(
            "individual", f"the individual share {yuan(individual_fen)} is more than the tier amount {yuan(tier_fen)}"
        )
    shortfalls = []
    minimum_fen = ex.money(FUNDING_MINIMUM)
    if tier_fen < minimum_fen:
        shortfalls.append(_shortfall(policy, "tier_amount", tier_fen, FUNDING_MINIMUM, minimum_fen))
    if policy.has(INDIVIDUAL_MINIMUM):
        individual_minimum_fen = ex.money(INDIVIDUAL_MINIMUM)
        if individual_fen < individual_minimum_fen:
            shortfalls.append(_shortfall(policy, "individual", individual_fen, INDIVIDUAL_MINIMUM, individual_minimum_fen))
    else:
        ex.note("no individual minimum", "the policy in force sets none, so only the total is checked")
    if shortfalls:
        raise FundingBelowMinimumError(
            "; ".join(message for _, message in shortfalls),
            document_id=facts.document_id,
            field=f"facts.{shortfalls[0][0]}",
        )
    subsidy_fen = ex.step("subsidy", f"{yuan(tier_fen)} − {yuan(individual_fen)} individual", tier_fen - individual_fen)
    return ex.done({"subsidy": subsidy_fen})


def _shortfall(policy: Policy, fact: str, amount_fen: int, name: str, minimum_fen: int) -> tuple[str, str]:
    parameter = policy.get(name)
    message = (
        f"facts.{fact} {yuan(amount_fen)} is below the minimum {yuan(minimum_fen)} "
        f"({name}, {parameter.file_id}): {yuan(minimum_fen - amount_fen)} too little"
    )
    return fact, message


@reads("paid_on", "coverage_year")
def check_contribution_window(facts: Facts, policy: Policy) -> Computation:
    """Check that a contribution was paid within its coverage year's window.

    Facts: ``paid_on`` (YYYY-MM-DD) and ``coverage_year`` (the year the
    contribution insures). Amounts: none. Usage: none.
    The window runs from ``resident.contribution_window.start`` to ``.end``
    (month-day text, e.g. "08-01" and "12-31") in the year
    ``years_before_coverage`` before the coverage year. A coverage year named
    by ``.transition.coverage_year`` uses the full dates ``.transition.start``
    and ``.transition.end`` instead; coverage years before
    ``.first_coverage_year`` are not checked. A policy with no window accepts
    any date. Refuses with ``ContributionWindowError`` naming facts.paid_on.
    """
    ex = Explainer("funding.check_contribution_window", facts.values, policy)
    paid_on = _fact_date(facts, "paid_on")
    coverage_year = facts.count("coverage_year")
    if not policy.has(f"{WINDOW}.start"):
        ex.note("no window", "the policy in force sets no contribution window, so any payment date is accepted")
        return ex.done({})
    if policy.has(f"{WINDOW}.first_coverage_year") and coverage_year < ex.count(f"{WINDOW}.first_coverage_year"):
        ex.note(
            "not checked",
            f"coverage year {coverage_year} is before the window applies (the old schemes' windows are not in the policy)",
        )
        return ex.done({})
    opens, closes, name = _window(ex, policy, coverage_year)
    if not opens <= paid_on <= closes:
        raise ContributionWindowError(
            f"facts.paid_on {paid_on.isoformat()} is outside the contribution window for coverage year "
            f"{coverage_year}, {opens.isoformat()} to {closes.isoformat()} ({name}, {policy.get(name).file_id})",
            document_id=facts.document_id,
            field="facts.paid_on",
        )
    ex.note("within the window", f"{opens.isoformat()} ≤ {paid_on.isoformat()} ≤ {closes.isoformat()}")
    return ex.done({})


def _window(ex: Explainer, policy: Policy, coverage_year: int) -> tuple[date, date, str]:
    """The first and last day of the window for a coverage year, and the parameter that set it."""
    transition = f"{WINDOW}.transition"
    if policy.has(f"{transition}.coverage_year") and ex.count(f"{transition}.coverage_year") == coverage_year:
        opens = _policy_date(f"{transition}.start", ex.text(f"{transition}.start"), None)
        closes = _policy_date(f"{transition}.end", ex.text(f"{transition}.end"), None)
        name = f"{transition}.start"
    else:
        year = coverage_year - ex.count(f"{WINDOW}.years_before_coverage")
        opens = _policy_date(f"{WINDOW}.start", ex.text(f"{WINDOW}.start"), year)
        closes = _policy_date(f"{WINDOW}.end", ex.text(f"{WINDOW}.end"), year)
        name = f"{WINDOW}.start"
    if closes < opens:
        raise PolicyError(f"{name}: the window closes ({closes.isoformat()}) before it opens ({opens.isoformat()})")
    return opens, closes, name


def _policy_date(name: str, text: str, year: int | None) -> date:
    """A full date (year None) or a month-day in ``year``, from policy text."""
    pattern = _ISO_DATE if year is None else _MONTH_DAY
    try:
        if not pattern.match(text):
            raise ValueError(text)
        return date.fromisoformat(text if year is None else f"{year:04d}-{text}")
    except ValueError:
        expected = "YYYY-MM-DD" if year is None else "MM-DD"
        raise PolicyError(f"policy figure {name} = {text!r} is not a date written {expected}") from None


def _fact_date(facts: Facts, name: str) -> date:
    return facts.date(name)


# Figures the seeds leave to the pooling region (郴政办发〔2016〕37号 四(四)3, 苏政发2007年《关于建立城镇居民
#基本医疗保险制度的意见》 二(三)): a county's own file may set them; without them the document carries them.
FUNDING_STANDARD = "resident.funding.standard"
INDIVIDUAL_STANDARD = "resident.funding.individual_standard"


def _per_person(facts: Facts, ex: Explainer, policy: Policy, fact: str, figure: str, floor: str) -> int:
    """A per-person figure from the facts, else the region's own file; refused naming the figure the seed leaves open."""
    if facts.has(fact):
        return facts.money(fact, allow_zero=fact == "individual")
    if policy.has(figure):
        return ex.money(figure)
    gap = policy.gap_for(figure)
    left_open = gap.source if gap else f"the policy in force ({', '.join(policy.files)}) sets no {figure}"
    minimum = f" only the minimum {policy.get(floor).shown()} ({floor})," if policy.has(floor) else ""
    raise FundingStandardOpenError(
        f"the seed sets{minimum} not the figure itself ({left_open}); give facts.{fact} per person "
        f"(the pooling region's standard), or the amount, or a policy file of the region setting {figure}",
        document_id=facts.document_id,
        field=f"facts.{fact}",
    )


class FundingStandardOpenError(LedgerError):
    """A contribution or subsidy needs a per-person figure the seed leaves to the pooling region, and nothing gives it."""

    rule = "the funding standard is the pooling region's (具体标准由各统筹地区确定)"


class SubsidySplitOpenError(LedgerError):
    """A subsidy with facts where the seed sets no split between levels, and the document names no level and amount."""

    rule = "the subsidy's split between levels is the region's (补助比例由各统筹地区确定)"


@reads("persons", "tier_amount", "individual")
def floor_funding(facts: Facts, policy: Policy) -> Computation:
    """Contributions and subsidy for residents where the seed sets only funding floors (郴州, Jiangsu).

    Facts: ``persons`` (count), ``tier_amount`` (the region's funding
    standard per person per year, yuan; or the region's own figure
    ``resident.funding.standard``), ``individual`` (the individual's share per
    person, yuan; or ``resident.funding.individual_standard``).
    Amounts (fen): ``individual`` = persons × individual share, ``subsidy`` =
    persons × (tier_amount − individual), what governments put in.
    Refuses with ``FundingBelowMinimumError`` where the standard or the
    individual share is below the floors in force (郴政办发〔2016〕37号 四(四)3: 570.00,
    of which the individual 150.00; 苏政发2007年《关于建立城镇居民基本医疗保险制度的意见》 二(三): 150.00), and
    with ``FundingStandardOpenError`` naming the clause that leaves a figure to
    the region when neither the facts nor the region's file give it.
    """
    ex = Explainer("funding.floor_funding", facts.values, policy)
    persons = facts.count("persons")
    if persons == 0:
        raise facts.error("persons", "must be at least 1")
    tier_fen = _per_person(facts, ex, policy, "tier_amount", FUNDING_STANDARD, FUNDING_MINIMUM)
    individual_fen = _per_person(facts, ex, policy, "individual", INDIVIDUAL_STANDARD, INDIVIDUAL_MINIMUM)
    checked = check_funding(
        Facts({"tier_amount": yuan(tier_fen), "individual": yuan(individual_fen)}, facts.document_id), policy
    )
    ex.computation.steps.extend(checked.steps)
    subsidy_each_fen = checked.amounts["subsidy"]
    individual_total_fen = ex.step("individual contributions", f"{persons} × {yuan(individual_fen)}", persons * individual_fen)
    subsidy_total_fen = ex.step("subsidy", f"{persons} × {yuan(subsidy_each_fen)}", persons * subsidy_each_fen)
    return ex.done({"individual": individual_total_fen, "subsidy": subsidy_total_fen})
