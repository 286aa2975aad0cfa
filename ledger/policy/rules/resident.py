"""The resident fund's funding rules, Chongqing pilot (渝府发〔2007〕113号, docs/policy/resident.md).

Person categories: ``urban`` (城镇居民), ``urban_hardship_adult`` and
``urban_hardship_child`` (困难群体: 低保, 重度残疾, 低收入老年人; students and
children), ``rural`` (农村居民, subsidised at the 新农合 standard).
"""

from __future__ import annotations

from decimal import Decimal

from ledger.errors import LedgerError
from ledger.money import format_yuan as yuan
from ledger.money import percent_of
from ledger.policy import Policy
from ledger.policy.computation import Computation, Explainer
from ledger.policy.facts import Facts, reads

CATEGORIES = ("urban", "urban_hardship_adult", "urban_hardship_child", "rural")
HARDSHIP = {"urban_hardship_adult": "hardship_adult", "urban_hardship_child": "hardship_child"}
DISTRICT_CLASSES = ("main_urban", "general", "poverty_key")
HARDSHIP_BUCKET = "hardship_account"


class TierLockedError(LedgerError):
    """A household tried to change its funding tier within the lock period."""

    rule = "tier locked for two years (渝府发〔2007〕113号 三(六) 两年之内不得变更)"


def _subsidy_per_person(ex: Explainer, category: str) -> tuple[int, int]:
    """(total, central) subsidy in fen for one person of a category."""
    if category == "rural":
        return ex.money("resident.subsidy.rural.total"), ex.money("resident.subsidy.rural.central")
    total_fen = ex.money("resident.subsidy.urban.total")
    central_fen = ex.money("resident.subsidy.urban.central")
    if category in HARDSHIP:
        group = HARDSHIP[category]
        total_fen += ex.money(f"resident.subsidy.{group}.extra_total")
        central_fen += ex.money(f"resident.subsidy.{group}.extra_central")
    return total_fen, central_fen


def _persons(facts: Facts) -> dict[str, int]:
    persons = {c: facts.count(c) for c in CATEGORIES if facts.has(c)}
    if not any(persons.values()):
        raise facts.error(CATEGORIES[0], f"give the number of insured persons of at least one of {', '.join(CATEGORIES)}")
    return persons


@reads("district_class", "tier", *CATEGORIES)
def subsidy_split(facts: Facts, policy: Policy) -> Computation:
    """The fiscal subsidy for insured persons, split central / municipal / district.

    Facts: persons per category (``urban``, ``urban_hardship_adult``,
    ``urban_hardship_child``, ``rural``: counts), ``district_class``
    (``main_urban``, ``general``, ``poverty_key``) and, optionally, ``tier``
    (the document's tier).
    Amounts: ``central``, ``municipal``, ``district`` (fen), summing to the
    whole subsidy. The municipality pays its class's share of the part above
    the central subsidy, rounded half up per category; the district the rest,
    so no fen is lost.
    When some of it is held, also ``held_central``, ``held_municipal``,
    ``held_district`` (fen, each within its level's part): at tier 1, with with
    ``resident.hardship.hold_extra_at_tier_1``, the hardship extra of each
    hardship person is held for that person (记账, 渝府发〔2007〕113号 三(八)), not
    the pooled fund's income; it is split between levels as the extra itself
    is (central its central part, the municipality its share of the rest).
    """
    ex = Explainer("resident.subsidy_split", facts.values, policy)
    district_class = facts.choice("district_class", DISTRICT_CLASSES)
    hold_extra = facts.has("tier") and facts.choice("tier", ("1", "2")) == "1" and ex.flag("resident.hardship.hold_extra_at_tier_1")
    share_percent = ex.percent(f"resident.subsidy.municipal_share_percent.{district_class}")
    amounts = dict.fromkeys(("central", "municipal", "district"), 0)
    for category, count in _persons(facts).items():
        total_fen, central_each_fen = _subsidy_per_person(ex, category)
        local_fen = count * (total_fen - central_each_fen)
        municipal_part_fen = percent_of(local_fen, share_percent)
        ex.step(f"{category}: central", f"{count} × {yuan(central_each_fen)}", count * central_each_fen)
        ex.step(f"{category}: municipal", f"{count} × {yuan(total_fen - central_each_fen)} × {share_percent}%", municipal_part_fen)
        ex.step(f"{category}: district", f"{count} × {yuan(total_fen - central_each_fen)} − municipal", local_fen - municipal_part_fen)
        amounts["central"] += count * central_each_fen
        amounts["municipal"] += municipal_part_fen
        amounts["district"] += local_fen - municipal_part_fen
        if hold_extra and category in HARDSHIP:
            _held_parts(ex, category, count, share_percent, amounts)
    return ex.done(amounts)


def _held_parts(ex: Explainer, category: str, count: int, share_percent: Decimal, amounts: dict[str, int]) -> None:
    """Add the held hardship extra of ``count`` persons of a category to ``amounts``, by level."""
    group = HARDSHIP[category]
    extra_fen = ex.money(f"resident.subsidy.{group}.extra_total")
    extra_central_fen = ex.money(f"resident.subsidy.{group}.extra_central")
    local_fen = count * (extra_fen - extra_central_fen)
    municipal_fen = percent_of(local_fen, share_percent)
    source = "渝府发〔2007〕113号 三(八)"
    for name in ("held_central", "held_municipal", "held_district"):
        amounts.setdefault(name, 0)
    amounts["held_central"] += ex.step(f"{category}: held (记账), central", f"{count} × {yuan(extra_central_fen)}", count * extra_central_fen, source)
    amounts["held_municipal"] += ex.step(
        f"{category}: held (记账), municipal", f"{count} × {yuan(extra_fen - extra_central_fen)} × {share_percent}%", municipal_fen, source
    )
    amounts["held_district"] += ex.step(
        f"{category}: held (记账), district", f"{count} × {yuan(extra_fen - extra_central_fen)} − municipal", local_fen - municipal_fen, source
    )


@reads("tier", *CATEGORIES)
def contribution(facts: Facts, policy: Policy) -> Computation:
    """A household's individual contributions: tier amount − subsidy, per person.

    Facts: ``tier`` (1 or 2) and persons per category, as in ``subsidy_split``
    (all members of a household choose the same tier, 渝府发〔2007〕113号 三(六)).
    Amounts: ``individual`` (what the household pays) and ``held`` (the
    hardship extra subsidy held for its tier-1 hardship members, 记账).
    A subsidy above the tier amount leaves an individual share of zero.
    """
    ex = Explainer("resident.contribution", facts.values, policy)
    tier = int(facts.choice("tier", ("1", "2")))
    tier_fen = ex.money(f"resident.tier_{tier}.amount")
    hold_extra = tier == 1 and ex.flag("resident.hardship.hold_extra_at_tier_1")
    individual_fen = held_fen = 0
    for category, count in _persons(facts).items():
        total_fen, _ = _subsidy_per_person(ex, category)
        extra_fen = 0
        if category in HARDSHIP:
            extra_fen = ex.money(f"resident.subsidy.{HARDSHIP[category]}.extra_total")
        if hold_extra and extra_fen:
            share_fen = max(tier_fen - (total_fen - extra_fen), 0)
            held_fen += ex.step(f"{category}: held (记账)", f"{count} × {yuan(extra_fen)}", count * extra_fen)
        else:
            share_fen = max(tier_fen - total_fen, 0)
        individual_fen += ex.step(
            f"{category}: individual share",
            f"{count} × max({yuan(tier_fen)} − subsidy, 0) = {count} × {yuan(share_fen)}",
            count * share_fen,
        )
    return ex.done({"individual": individual_fen, "held": held_fen})


def check_tier_lock(chosen_tier: int, chosen_year: int, tier: int, year: int, policy: Policy) -> None:
    """A household keeps its tier for the lock period after choosing it (two years)."""
    lock_years = int(policy.get("resident.tier_lock_years").value)
    if tier != chosen_tier and year < chosen_year + lock_years:
        raise TierLockedError(
            f"the household chose tier {chosen_tier} for {chosen_year}; it may change tier from "
            f"{chosen_year + lock_years} on, not in {year}",
            field="tier",
        )


@reads("hardship_group", "out_of_pocket")
def hardship_drawdown(facts: Facts, policy: Policy, used_fen: int) -> Computation:
    """Pay a tier-1 hardship resident's own share of a medical cost from their 记账 account.

    Facts: ``out_of_pocket`` (the person's own share, yuan), ``hardship_group``
    (``hardship_adult`` or ``hardship_child``).
    The account holds the year's extra subsidy; ``used_fen`` is what it paid
    this year already. Amounts: ``paid``. Usage: ``hardship_account``.
    """
    ex = Explainer("resident.hardship_drawdown", facts.values, policy)
    group = facts.choice("hardship_group", ("hardship_adult", "hardship_child"))
    if not ex.flag("resident.hardship.hold_extra_at_tier_1"):
        ex.note("no account", "the policy in force holds no extra subsidy for the person")
        return ex.done({"paid": 0})
    held_fen = ex.money(f"resident.subsidy.{group}.extra_total")
    left_fen = ex.step("left in the account", f"{yuan(held_fen)} − {yuan(used_fen)} used", max(held_fen - used_fen, 0))
    out_of_pocket_fen = facts.money("out_of_pocket", allow_zero=False)
    paid_fen = ex.step("paid", f"min({yuan(out_of_pocket_fen)}, {yuan(left_fen)})", min(out_of_pocket_fen, left_fen))
    return ex.done({"paid": paid_fen}, {HARDSHIP_BUCKET: paid_fen})
