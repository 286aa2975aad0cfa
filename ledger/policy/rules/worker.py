"""The worker fund's yearly settlement with a district, Chongqing municipal pooling (渝办发〔2011〕293号 职工办法; docs/policy/worker.md).

Under municipal pooling every district's worker contributions go up to the
municipal fiscal account (职工办法 二(一)6), and the municipality sets each
district a collection target and a spending target each year. At the year's
end the two are settled:

- Collection (超收留存，差额弥补, 二(四)2): a district that collected more than 95%
  of its target keeps 50% of the part above 95% for its future gaps; one
  that collected less makes up the shortfall to 95% from its pooled surplus,
  then from its government's budget.
- Spending (缺口分担, 二(五)): a district that met its targets and spent less
  than its target keeps 60% of the saving; an overspend is shared between
  the municipality and the district by the district's class in the fiscal
  system (50/50 main urban, 55/45 regional centre cities, 60/40 other), the
  district's share paid from its pooled surplus, then by its government.

Our readings: the surplus the collection shortfall used is not there again
for the overspend; what the district retains this year is for 今后 (later
years) and does not meet this year's shortfall or overspend.
"""

from __future__ import annotations

from ledger.money import format_yuan as yuan
from ledger.money import percent_of
from ledger.policy import Policy
from ledger.policy.computation import Computation, Explainer
from ledger.policy.facts import Facts, reads

# 职工办法 二(五) 按照财政管理体制的分类办法将区县（自治县）分为三类.
DISTRICT_CLASSES = ("main_urban", "regional_centre", "other")


def _collection(ex: Explainer, target_fen: int, collected_fen: int, surplus_fen: int) -> tuple[int, int, int]:
    """(retained, shortfall from surplus, shortfall from government), in fen."""
    threshold_percent = ex.percent("worker.collection.threshold_percent")
    threshold_fen = ex.step(
        "collection threshold",
        f"{yuan(target_fen)} target × {threshold_percent}%, half up to the fen",
        percent_of(target_fen, threshold_percent),
        "渝办发〔2011〕293号 职工办法 二(四)2",
    )
    if collected_fen >= threshold_fen:
        retained_percent = ex.percent("worker.collection.retained_percent")
        above_fen = collected_fen - threshold_fen
        retained_fen = ex.step(
            "collection retained by the district (超收留存)",
            f"({yuan(collected_fen)} − {yuan(threshold_fen)}) × {retained_percent}%, half up to the fen",
            percent_of(above_fen, retained_percent),
            "渝办发〔2011〕293号 职工办法 二(四)2",
        )
        return retained_fen, 0, 0
    shortfall_fen = ex.step("collection shortfall (低于95%的差额)", f"{yuan(threshold_fen)} − {yuan(collected_fen)}", threshold_fen - collected_fen)
    from_surplus_fen, from_government_fen = _surplus_then_government(
        ex, "shortfall", "区县政府予以弥补", shortfall_fen, surplus_fen, "渝办发〔2011〕293号 职工办法 二(四)2"
    )
    return 0, from_surplus_fen, from_government_fen


def _underspend(ex: Explainer, saved_fen: int, met_targets: bool) -> int:
    if not met_targets and ex.flag("worker.spending.underspend_retention_requires_targets_met"):
        ex.note("under-spend not retained", "the district did not meet its targets (完成目标考核任务后 only)", "渝办发〔2011〕293号 职工办法 二(五)")
        return 0
    retained_percent = ex.percent("worker.spending.underspend_retained_percent")
    return ex.step(
        "under-spend retained by the district (节支部分)",
        f"{yuan(saved_fen)} × {retained_percent}%, half up to the fen",
        percent_of(saved_fen, retained_percent),
        "渝办发〔2011〕293号 职工办法 二(五)",
    )


def _overspend(ex: Explainer, district_class: str, overspend_fen: int, surplus_fen: int) -> tuple[int, int, int, int]:
    """(municipal, district, district from surplus, district from government), in fen."""
    municipal_percent = ex.percent(f"worker.spending.overspend_municipal_percent.{district_class}")
    municipal_fen = ex.step(
        "overspend borne by the municipality (市级承担)",
        f"{yuan(overspend_fen)} × {municipal_percent}%, half up to the fen",
        percent_of(overspend_fen, municipal_percent),
        "渝办发〔2011〕293号 职工办法 二(五)",
    )
    district_fen = ex.step("overspend borne by the district", f"{yuan(overspend_fen)} − {yuan(municipal_fen)}", overspend_fen - municipal_fen)
    from_surplus_fen, from_government_fen = _surplus_then_government(
        ex, "district's share", "区县政府负担", district_fen, surplus_fen, "渝办发〔2011〕293号 职工办法 二(五)"
    )
    return municipal_fen, district_fen, from_surplus_fen, from_government_fen


def _surplus_then_government(
    ex: Explainer, what: str, government_phrase: str, amount_fen: int, surplus_fen: int, clause: str
) -> tuple[int, int]:
    """Meet an amount from the district's pooled surplus first, then from its government: (surplus, government)."""
    from_surplus_fen = ex.step(
        f"{what} from the pooled surplus (统筹结余基金支付)",
        f"min({yuan(amount_fen)}, {yuan(surplus_fen)} surplus)",
        min(amount_fen, surplus_fen),
        clause,
    )
    from_government_fen = ex.step(
        f"{what} from the district government ({government_phrase})",
        f"{yuan(amount_fen)} − {yuan(from_surplus_fen)}",
        amount_fen - from_surplus_fen,
        clause,
    )
    return from_surplus_fen, from_government_fen


@reads("district_class", "collection_target", "collected", "spending_target", "spent", "pooled_surplus", "met_targets")
def settlement(facts: Facts, policy: Policy) -> Computation:
    """A district's year-end worker-fund settlement against its targets (渝办发〔2011〕293号 职工办法 二(四)2, 二(五)).

    Facts: ``district_class`` (``main_urban`` 主城区, ``regional_centre``
    区域中心城市, ``other`` 其他区县), ``collection_target``, ``collected``,
    ``spending_target``, ``spent``, ``pooled_surplus`` (the district's pooled
    surplus, 统筹结余基金) — all yuan, targets greater than 0 — and
    ``met_targets`` (the district met its 目标考核任务, default true).
    Amounts (fen), zero where a branch does not apply:
    ``collection_retained``, ``shortfall_from_surplus``,
    ``shortfall_from_government``, ``underspend_retained``,
    ``overspend_municipal``, ``overspend_district``,
    ``overspend_district_from_surplus``, ``overspend_district_from_government``.
    Usage: none.
    """
    ex = Explainer("worker.settlement", facts.values, policy)
    district_class = facts.choice("district_class", DISTRICT_CLASSES)
    collection_target_fen = facts.money("collection_target", allow_zero=False)
    collected_fen = facts.money("collected")
    spending_target_fen = facts.money("spending_target", allow_zero=False)
    spent_fen = facts.money("spent")
    surplus_fen = facts.money("pooled_surplus")
    met_targets = facts.flag("met_targets", default=True)

    retained_fen, shortfall_surplus_fen, shortfall_government_fen = _collection(ex, collection_target_fen, collected_fen, surplus_fen)
    # The surplus that met the collection shortfall is spent; only the rest can meet the overspend.
    surplus_left_fen = ex.step("pooled surplus left", f"{yuan(surplus_fen)} − {yuan(shortfall_surplus_fen)}", surplus_fen - shortfall_surplus_fen)
    underspend_fen = municipal_fen = district_fen = district_surplus_fen = district_government_fen = 0
    if spent_fen <= spending_target_fen:
        saved_fen = ex.step("under-spend", f"{yuan(spending_target_fen)} − {yuan(spent_fen)}", spending_target_fen - spent_fen)
        underspend_fen = _underspend(ex, saved_fen, met_targets)
    else:
        overspend_fen = ex.step("overspend (超支部分)", f"{yuan(spent_fen)} − {yuan(spending_target_fen)}", spent_fen - spending_target_fen)
        municipal_fen, district_fen, district_surplus_fen, district_government_fen = _overspend(
            ex, district_class, overspend_fen, surplus_left_fen
        )
    return ex.done({
        "collection_retained": retained_fen,
        "shortfall_from_surplus": shortfall_surplus_fen,
        "shortfall_from_government": shortfall_government_fen,
        "underspend_retained": underspend_fen,
        "overspend_municipal": municipal_fen,
        "overspend_district": district_fen,
        "overspend_district_from_surplus": district_surplus_fen,
        "overspend_district_from_government": district_government_fen,
    })
