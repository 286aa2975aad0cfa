"""Chenzhou's merged resident fund (郴政办发〔2016〕37号; docs/policy/chenzhou.md).

The 城镇居民医保 fund and the 新农合 fund of each county become one resident
fund (城乡居民医保基金) after the county's audit office has audited both; a
fund in deficit is made whole by the county's finance (四(二)). Each county
remits 5% of a year's fundraising to the municipal risk adjustment fund
(四(四)2) and budgets about 15% of its fund for outpatient pooling (四(四)4).
The funding floors and the contribution window are in ``funding.py``.
"""

from __future__ import annotations

from ledger.errors import LedgerError
from ledger.money import percent_of
from ledger.money import format_yuan as yuan
from ledger.policy import Policy
from ledger.policy.computation import Computation, Explainer
from ledger.policy.facts import Facts, reads
from ledger.policy.rules.adjustment import require_remittance_method

# The two old funds, by the prefix of their facts.
OLD_FUNDS = {"urban": "城镇居民医保", "ncms": "新农合"}
YEARLY_REMITTANCE = "yearly"


class MergerAuditError(LedgerError):
    """An old fund's balance in the books differs from the audit report's figure."""

    rule = "funds merged at their audited balances (郴政办发〔2016〕37号 四(二) 县市区审计部门要…进行审计)"


@reads("fundraising")
def adjustment_remittance(facts: Facts, policy: Policy) -> Computation:
    """A county's yearly remittance to the municipal risk adjustment fund (市级风险调剂金).

    Facts: ``fundraising`` (the county's total fundraising of the year,
    yuan: individual contributions, contributions paid by assistance or
    finance, and every level's fiscal subsidy; not interest).
    Amounts: ``remittance`` (fen) = fundraising × adjustment.remittance_percent,
    rounded half up. Usage: none.
    Our reading of 四(四)2 (``adjustment.remittance_method`` = "yearly"): the
    county remits this every year, on that year's fundraising alone. A policy
    with another method (Chongqing's first remittance and top-up, 渝办发〔2011〕293号)
    is refused here, so it cannot be applied by mistake.
    """
    ex = Explainer("chenzhou.adjustment_remittance", facts.values, policy)
    require_remittance_method(ex, YEARLY_REMITTANCE)
    fundraising_fen = facts.money("fundraising")
    percent = ex.percent("adjustment.remittance_percent")
    remittance_fen = ex.step(
        "remittance", f"{yuan(fundraising_fen)} × {percent}%, half up", percent_of(fundraising_fen, percent)
    )
    return ex.done({"remittance": remittance_fen})


@reads("audit_reference", "urban_balance", "urban_audited", "ncms_balance", "ncms_audited")
def merge_funds(facts: Facts, policy: Policy) -> Computation:
    """The arithmetic and the audit check of merging the two old funds into the new one.

    Facts: ``urban_balance`` and ``ncms_balance`` (each old fund's closing
    fund balance in the books, yuan; negative for a fund in deficit),
    ``urban_audited`` and ``ncms_audited`` (the audit report's figures, yuan)
    and ``audit_reference`` (the audit report's number, text).
    Amounts (fen): ``from_urban`` and ``from_ncms`` (each old fund's balance,
    with its sign), ``finance_covers_gap`` (≥ 0: the deficits met by the
    county's finance when ``merger.deficit_met_by_finance``), and
    ``new_fund_opening`` = from_urban + from_ncms + finance_covers_gap.
    Usage: none.
    Refuses with ``MergerAuditError`` when a book balance differs from its
    audited figure, naming both facts and both figures (every mismatch at once).
    """
    ex = Explainer("chenzhou.merge_funds", facts.values, policy)
    audit_reference = facts.text("audit_reference")
    balances_fen = _audited_balances(facts, audit_reference)
    ex.note("audit", f"both balances agree with audit report {audit_reference}")
    moved_fen = {
        fund: ex.step(f"from the {name} fund", "its audited closing balance", balances_fen[fund])
        for fund, name in OLD_FUNDS.items()
    }
    deficit_fen = sum(-balance for balance in balances_fen.values() if balance < 0)
    gap_covered_fen = 0
    if deficit_fen:
        # Each old fund is judged on its own (对基金存在缺口的): one fund's
        # surplus does not excuse finance from the other's deficit.
        if ex.flag("merger.deficit_met_by_finance"):
            gap_covered_fen = deficit_fen
        else:
            ex.note("deficit carried", "the policy in force does not have finance meet the gap; the new fund takes it over")
    formula = " + ".join(f"max(−{fund}, 0)" for fund in OLD_FUNDS)
    ex.step("met by finance", formula, gap_covered_fen)
    opening_fen = ex.step(
        "new fund's opening balance",
        " + ".join(yuan(moved_fen[fund]) for fund in OLD_FUNDS) + f" + {yuan(gap_covered_fen)} from finance",
        sum(moved_fen.values()) + gap_covered_fen,
    )
    return ex.done({
        "from_urban": moved_fen["urban"],
        "from_ncms": moved_fen["ncms"],
        "finance_covers_gap": gap_covered_fen,
        "new_fund_opening": opening_fen,
    })


def _audited_balances(facts: Facts, audit_reference: str) -> dict[str, int]:
    """Each old fund's book balance, once every one is known to equal its audited figure."""
    balances_fen, mismatches = {}, []
    for fund, name in OLD_FUNDS.items():
        balance_fen = _signed_money(facts, f"{fund}_balance")
        audited_fen = _signed_money(facts, f"{fund}_audited")
        if balance_fen != audited_fen:
            side = "too much" if balance_fen > audited_fen else "too little"
            mismatches.append((fund, (
                f"the {name} fund's facts.{fund}_balance {yuan(balance_fen)} differs from facts.{fund}_audited "
                f"{yuan(audited_fen)}: the books show {yuan(abs(balance_fen - audited_fen))} {side}"
            )))
        balances_fen[fund] = balance_fen
    if mismatches:
        raise MergerAuditError(
            "; ".join(message for _, message in mismatches)
            + f" (audit report {audit_reference}); correct the books before the merger",
            document_id=facts.document_id,
            field=f"facts.{mismatches[0][0]}_balance",
        )
    return balances_fen


def _signed_money(facts: Facts, name: str) -> int:
    """A yuan amount that may be negative (a fund in deficit); ``Facts.money`` refuses negatives."""
    return facts.signed_money(name)


@reads("fund_total")
def outpatient_pool_share(facts: Facts, policy: Policy) -> Computation:
    """The outpatient pooling budget (门诊医疗统筹基金), about 15% of the fund.

    Facts: ``fund_total`` (the resident fund's total for the year, yuan).
    Amounts: ``outpatient_budget`` (fen) = fund_total ×
    resident.outpatient_pool.share_percent, rounded half up. Usage: none.
    """
    ex = Explainer("chenzhou.outpatient_pool_share", facts.values, policy)
    fund_total_fen = facts.money("fund_total")
    percent = ex.percent("resident.outpatient_pool.share_percent")
    budget_fen = ex.step(
        "outpatient budget", f"{yuan(fund_total_fen)} × {percent}%, half up", percent_of(fund_total_fen, percent)
    )
    return ex.done({"outpatient_budget": budget_fen})


def outpatient_pool_check(outpatient_fen: int, fund_total_fen: int, policy: Policy) -> list[str]:
    """Findings when a year's outpatient spending exceeds the outpatient pool (门诊医疗统筹基金).

    ``outpatient_fen``: the year's outpatient benefits (5001.02, fen);
    ``fund_total_fen``: the year's fundraising (4001 + 4101, fen), our reading
    of 城乡居民医保基金总额. The pool is fund_total × resident.outpatient_pool.share_percent
    (郴政办发〔2016〕37号 四(四)4, 15% 左右), rounded half up. A finding, never a
    refusal: the seed says about (左右), and a single claim cannot know the
    year's total, so the excess is reported for the agency to judge.
    """
    if outpatient_fen < 0 or fund_total_fen < 0:
        raise ValueError("spending and fundraising are never negative here")
    share = policy.get("resident.outpatient_pool.share_percent")
    pool_fen = percent_of(fund_total_fen, share.value)
    if outpatient_fen <= pool_fen:
        return []
    return [
        f"outpatient benefits {yuan(outpatient_fen)} exceed the outpatient pool, {share.value}% 左右 of the year's "
        f"fundraising {yuan(fund_total_fen)} = {yuan(pool_fen)}: {yuan(outpatient_fen - pool_fen)} too much "
        f"[{share.source}; {share.file_id}]"
    ]
