"""The municipal adjustment fund (市级调剂金) and a district's resident-fund gap, Chongqing (渝办发〔2011〕293号; docs/policy/adjustment.md).

Each district remits to the municipality's adjustment fund so that, year by
year, its cumulative remittance stays at 8% of the year's fundraising
(居民办法 六(四)). A district that did not remit or missed its targets gets
no grant (六(三)). A district's yearly gap is met by its own accumulated
surplus, then a grant, then its own finance (六(一); 财社〔2017〕144号 第38条).
The resident fund's accumulated balance is checked against 25% of the
year's fundraising and reported as a finding.

Chenzhou's adjustment fund (a plain 5% every year, 郴政办发〔2016〕37号) is
``chenzhou.adjustment_remittance``; ``adjustment.remittance_method`` in the
policy in force says which one applies.
"""

from __future__ import annotations

from decimal import Decimal

from ledger.errors import LedgerError
from ledger.money import format_yuan as yuan
from ledger.money import percent_of
from ledger.policy import Policy, PolicyError
from ledger.policy.computation import Computation, Explainer
from ledger.policy.facts import Facts, reads

TOP_UP_REMITTANCE = "top_up"
GAP_CHANNELS = ("surplus", "grant", "fiscal")
GAP_CHANNEL_NAMES = {"surplus": "历年滚存结余基金", "grant": "市级调剂金", "fiscal": "本地区财政补助"}


class GrantRefusedError(LedgerError):
    """The adjustment fund may not grant a district that did not remit or missed its targets."""

    rule = (
        "no grant to a district that did not remit or missed its targets "
        "(渝办发〔2011〕293号 居民办法 六(三) 对未完成目标考核指标和未按规定上解市级调剂金的区县…市级调剂金不予调剂补助)"
    )


def require_remittance_method(ex: Explainer, method: str) -> None:
    """Refuse to compute a remittance under a policy that remits another way, so one cannot be applied by mistake."""
    in_force = ex.text("adjustment.remittance_method")
    if in_force != method:
        raise PolicyError(
            f"adjustment.remittance_method is {in_force!r} in the policy in force; "
            f"this rule computes only the {method!r} remittance"
        )


@reads("fundraising", "remitted_before")
def remittance(facts: Facts, policy: Policy) -> Computation:
    """A district's remittance to the municipal adjustment fund this year (渝办发〔2011〕293号 居民办法 六(四)).

    Facts: ``fundraising`` (the district's total resident-fund fundraising of
    the year, yuan), ``remitted_before`` (its cumulative remittance so
    far, yuan — the engine fills it from the district's remittances of the
    same tier; 0.00 before the first one).
    Amounts (fen): ``remittance`` = max(0, fundraising × 8% − remitted_before),
    the 8% rounded half up to the fen. In the first year that is 8% of the
    fundraising (首次上解额); afterwards the top-up that keeps the cumulative
    remittance at 8% of the current year's fundraising (与当年筹资总额8%的差额),
    nothing when fundraising fell. Usage: none.
    """
    ex = Explainer("adjustment.remittance", facts.values, policy)
    require_remittance_method(ex, TOP_UP_REMITTANCE)
    fundraising_fen = facts.money("fundraising")
    remitted_before_fen = facts.money("remitted_before")
    percent = ex.percent("adjustment.remittance_percent")
    level_fen = ex.step(
        "level to keep",
        f"{yuan(fundraising_fen)} fundraising × {percent}%, half up to the fen",
        percent_of(fundraising_fen, percent),
    )
    remittance_fen = ex.step(
        "remittance",
        f"max({yuan(level_fen)} − {yuan(remitted_before_fen)} remitted so far, 0)",
        max(level_fen - remitted_before_fen, 0),
    )
    if remittance_fen == 0:
        ex.note("nothing to top up", f"remittances so far {yuan(remitted_before_fen)} already reach {percent}% of this year's fundraising")
    return ex.done({"remittance": remittance_fen})


def check_grant_allowed(remitted_this_year: bool, met_targets: bool, policy: Policy) -> None:
    """Refuse an adjustment-fund grant to a district that did not remit or missed its targets.

    ``remitted_this_year``: the district remitted to the adjustment fund in
    the grant's year; ``met_targets``: it met its 目标考核指标. Each condition
    applies while its flag (``adjustment.grant.requires_remittance``,
    ``adjustment.grant.requires_targets_met``) is true in the policy.
    Raises ``GrantRefusedError`` naming every condition that failed.
    """
    failures = []
    if policy.get("adjustment.grant.requires_remittance").value and not remitted_this_year:
        failures.append("it has not remitted to the municipal adjustment fund this year (未按规定上解市级调剂金)")
    if policy.get("adjustment.grant.requires_targets_met").value and not met_targets:
        failures.append("it did not meet its targets (未完成目标考核指标)")
    if failures:
        raise GrantRefusedError(
            "the adjustment fund grants nothing to this district: " + "; and ".join(failures)
            + "; its gap is borne by the district in full (当期出现的基金收支缺口全额由各区县承担)"
        )


def _gap_order(ex: Explainer) -> list[str]:
    text = ex.text("resident.gap_cover.order")
    order = [channel.strip() for channel in text.split(",")]
    if sorted(order) != sorted(GAP_CHANNELS) or order[-1] != "fiscal":
        raise PolicyError(
            f"resident.gap_cover.order is {text!r}; it must name {', '.join(GAP_CHANNELS)} once each, "
            "with fiscal last (finance meets whatever the others leave)"
        )
    return order


@reads("gap", "surplus", "grant")
def gap_cover(facts: Facts, policy: Policy) -> Computation:
    """How a district's yearly resident-fund gap is met (渝办发〔2011〕293号 居民办法 六(一); 财社〔2017〕144号 第38条).

    Facts: ``gap`` (the year's shortfall of income against spending, yuan,
    greater than 0), ``surplus`` (the district's accumulated surplus
    available for it, yuan), ``grant`` (the adjustment-fund grant approved,
    yuan, may be 0.00).
    In the order of ``resident.gap_cover.order`` (surplus, grant, fiscal):
    each channel gives what it has, up to what is still open; the district's
    finance meets the rest. A grant larger than the gap left is used only
    as far as needed.
    Amounts (fen): ``from_surplus``, ``from_grant``, ``from_fiscal``, summing
    to the gap. Usage: none.
    """
    ex = Explainer("adjustment.gap_cover", facts.values, policy)
    gap_fen = facts.money("gap", allow_zero=False)
    available_fen = {"surplus": facts.money("surplus"), "grant": facts.money("grant")}
    open_fen = gap_fen
    taken_fen = {}
    for channel in _gap_order(ex):
        if channel == "fiscal":
            taken_fen[channel] = ex.step(f"from {GAP_CHANNEL_NAMES[channel]}", f"the {yuan(open_fen)} still open", open_fen)
        else:
            taken_fen[channel] = ex.step(
                f"from {GAP_CHANNEL_NAMES[channel]}",
                f"min({yuan(available_fen[channel])} available, {yuan(open_fen)} still open)",
                min(available_fen[channel], open_fen),
            )
        open_fen -= taken_fen[channel]
    return ex.done({f"from_{channel}": taken_fen[channel] for channel in GAP_CHANNELS})


def resident_surplus_check(accumulated_balance_fen: int, fundraising_fen: int, policy: Policy) -> list[str]:
    """Findings (empty when fine) when the resident fund's accumulated balance exceeds its limit.

    The limit is ``resident.surplus.accumulated_limit_percent`` (25%) of the
    year's fundraising (财社〔2017〕144号 第36条; the seeds give no figure, so it
    is a reading), rounded half up to the fen like every amount; a balance
    equal to the limit is fine. The finding says by how much it is too much.
    """
    parameter = policy.get("resident.surplus.accumulated_limit_percent")
    limit_percent = Decimal(parameter.value)
    limit_fen = percent_of(fundraising_fen, limit_percent)
    if accumulated_balance_fen <= limit_fen:
        return []
    return [
        f"the resident fund's accumulated balance {yuan(accumulated_balance_fen)} exceeds {limit_percent}% of the "
        f"year's fundraising {yuan(fundraising_fen)} (limit {yuan(limit_fen)}): "
        f"too much by {yuan(accumulated_balance_fen - limit_fen)} [{parameter.source}]"
    ]
