"""The policy engine: from a document's facts to the amounts it posts.

``evaluate`` looks up the policy in force for the document's region and
date, runs the rule for its type with the facts and the state the rule needs
(a person's usage of an annual cap, a household's tier, a district's
remittances), and returns the amounts to post, the computation to keep in
the event, and the state changes to make once every book has accepted the
postings. Nothing is changed before then, so a refused document leaves no
trace.

A document that carries an amount as well as facts is checked: a mismatch is
refused, naming both figures.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from ledger.aggregates.state import DistrictFund, Household, InsuredYear
from ledger.documents import Document
from ledger.errors import DocumentFormatError, LedgerError
from ledger.money import format_yuan
from ledger.policy import Policy, PolicyError, load_policy
from ledger.policy.computation import Computation, Step
from ledger.policy.facts import Facts
from ledger.regions import DIRECT_MUNICIPALITIES, known_regions

# "yearly" (Chenzhou: a share of each year's fundraising) or "top_up" (Chongqing: keep the
# cumulative remittance at the share of the current year's fundraising).
REMITTANCE_METHOD = "adjustment.remittance_method"


class PolicyMismatchError(LedgerError):
    """A document's amount differs from what the policy computes from its facts."""

    rule = "amount as the policy computes it"


class NothingPayableError(LedgerError):
    """The policy computes nothing to pay (a cap reached, a quota used up, a stay that does not qualify)."""

    rule = "nothing payable under the policy"


class StateAccess(Protocol):
    def insured_year(self, region: str, person: str, year: int) -> InsuredYear: ...
    def household(self, region: str, household: str) -> Household: ...
    def district_fund(self, region: str, scheme: str) -> DistrictFund: ...


@dataclass
class Evaluation:
    """What the engine decided for one document.

    Attributes:
      document: the document with its computed amounts filled in.
      computation: the record kept in the event, or None when no rule computed anything.
      commits: state changes to make once the books have accepted the postings.
    """

    document: Document
    computation: Computation | None = None
    commits: list[Callable[[], None]] = field(default_factory=list)

    def commit(self) -> None:
        for change in self.commits:
            change()


def evaluate(document: Document, state: StateAccess) -> Evaluation:
    handler = _HANDLERS.get(document.type)
    if handler is None:
        return Evaluation(document)
    return handler(document, state)


# ---------------------------------------------------------------- helpers


def _policy(document: Document) -> Policy:
    return load_policy(document["region"], document.date)


def _facts(document: Document, reads: tuple[str, ...] = (), **envelope: Any) -> Facts:
    """The document's facts, with the document's own fields (its tier) added; the two must agree.

    ``reads`` names the facts the engine reads itself (``person``, ``household``,
    ``met_targets``): the rule's declaration allows these beside its own, and the
    document's own fields, whatever the rule reads.
    """
    given = document.get("facts", {})
    values = dict(given)
    for name, value in envelope.items():
        if value is None:
            continue
        if name in given and str(given[name]) != str(value):
            raise DocumentFormatError(
                f"says {given[name]!r} but the document's {name} is {value!r}; give it once",
                document_id=document.id,
                field=f"facts.{name}",
            )
        values[name] = value
    return Facts(values, document.id, read_by_caller=(*reads, *envelope))


def _settle(document: Document, computation: Computation, amount_fen: int, label: str) -> Document:
    """Fill in the computed amount, or check the one the document carries."""
    if amount_fen <= 0:
        raise NothingPayableError(
            f"the policy computes nothing to pay as {label} ({computation.rule}): {_why_nothing(computation)}",
            document_id=document.id,
            field="facts",
        )
    given_fen = document.get("amount")
    if given_fen is not None and given_fen != amount_fen:
        raise PolicyMismatchError(
            f"the document says {format_yuan(given_fen)}, the policy computes {format_yuan(amount_fen)} "
            f"as {label} ({computation.rule}); see the computation with 'ledger explain'",
            document_id=document.id,
            field="amount",
        )
    return replace(document, fields={**document.fields, "amount": amount_fen})


def _why_nothing(computation: Computation) -> str:
    """The decisions and the last computed steps, since a refused document's computation is kept nowhere else."""
    notes = [f"{s.label}: {s.formula}" for s in computation.steps if not s.value]
    computed = [f"{s.label} = {s.formula} = {s.value}" for s in computation.steps if s.value and not s.label.startswith("policy ")]
    return "; ".join(notes + computed[-2:]) or "the computed amount is 0.00"


def _person(document: Document, facts: Facts) -> str:
    return facts.text("person")


# ---------------------------------------------------------------- handlers


# The seeds that set only floors (郴州, Jiangsu) have this figure; Chongqing's sets the tiers' amounts instead.
FLOOR_ONLY = "resident.funding.minimum"
WINDOW_FACTS = ("paid_on", "coverage_year")


def _floor_facts(document: Document, reads: tuple[str, ...] = ()) -> Facts:
    """The facts of a floor-only funding document, with the amount it carries read as the individual share.

    Where the seed leaves the individual share to the region and the document
    carries its amount but no ``individual`` fact, the share per person is the
    amount ÷ persons, which must divide exactly.
    """
    facts = _facts(document, reads, persons=document.get("persons"))
    given_fen = document.get("amount")
    if document.type == "contribution" and given_fen is not None and not facts.has("individual") and facts.has("persons"):
        persons = facts.count("persons")
        if persons and given_fen % persons == 0:
            facts.values["individual"] = format_yuan(given_fen // persons)
        elif persons:
            raise DocumentFormatError(
                f"{format_yuan(given_fen)} is not the same whole-fen contribution for each of {persons} persons; "
                "give facts.individual per person",
                document_id=document.id,
                field="amount",
            )
    facts.read = set()
    return facts


def _check_window(document: Document, policy: Policy) -> Computation:
    """郴政办发〔2016〕37号 四(四)3's contribution window, on a contribution with facts (paid_on defaults to its date)."""
    from ledger.policy.rules.funding import check_contribution_window

    if not policy.has("resident.contribution_window.start"):
        return Computation("funding.check_contribution_window", {}, policy.reference())
    given = document.get("facts", {})
    values = {name: given[name] for name in WINDOW_FACTS if name in given}
    values.setdefault("paid_on", document.date.isoformat())
    return check_contribution_window(Facts(values, document.id), policy)


def _floor_contribution(document: Document, policy: Policy) -> Evaluation:
    from ledger.policy.rules.funding import floor_funding

    window = _check_window(document, policy)
    computation = floor_funding(_floor_facts(document, WINDOW_FACTS), policy)
    computation.steps.extend(window.steps)
    return Evaluation(_settle(document, computation, computation.amounts["individual"], "individual contributions"), computation)


def _floor_subsidy(document: Document, policy: Policy) -> Evaluation:
    """A subsidy where the seed sets only floors: checked against them; the level's share is the document's.

    The seeds give no split of the subsidy between levels (郴政办发〔2016〕37号 四(四)3
    城乡居民医保政府补助纳入同级财政年度预算安排; 苏政发2007年《关于建立城镇居民基本医疗保险制度的意见》 二(四)
    补助比例由各统筹地区确定), so the document names its level and carries its
    amount, which may not exceed the whole subsidy the facts give.
    """
    from ledger.policy.rules.funding import SubsidySplitOpenError, floor_funding

    computation = floor_funding(_floor_facts(document), policy)
    whole_fen = computation.amounts["subsidy"]
    if "level" not in document.fields or document.get("amount") is None:
        gap = policy.gap_for("resident.subsidy.split")
        left_open = gap.source if gap else "the seed sets no split of the subsidy between levels"
        raise SubsidySplitOpenError(
            f"the facts give a whole subsidy of {format_yuan(whole_fen)}, but {left_open}: "
            "give the level paying and its amount",
            document_id=document.id,
            field="level" if "level" not in document.fields else "amount",
        )
    amount_fen = document["amount"]
    if amount_fen > whole_fen:
        raise PolicyMismatchError(
            f"the document says {format_yuan(amount_fen)}, more than the whole subsidy {format_yuan(whole_fen)} the facts give "
            "(persons × (tier_amount − individual)); see the computation with 'ledger explain'",
            document_id=document.id,
            field="amount",
        )
    computation.steps.append(Step("this level's part", f"{document['level']}: the document's amount", format_yuan(amount_fen), "the document"))
    return Evaluation(document, computation)


def _contribution(document: Document, state: StateAccess) -> Evaluation:
    from ledger.policy.rules.resident import check_tier_lock, contribution

    if "facts" not in document.fields:
        return Evaluation(document)
    policy = _policy(document)
    if policy.has(FLOOR_ONLY):
        return _floor_contribution(document, policy)
    facts = _facts(document, ("household",), tier=document.get("tier"))
    computation = contribution(facts, policy)
    evaluation = Evaluation(_settle(document, computation, computation.amounts["individual"], "individual contributions"), computation)
    if facts.has("household"):
        household = state.household(document["region"], facts.text("household"))
        tier, year = int(facts.raw("tier")), document.date.year
        if household.tier is not None:
            try:
                check_tier_lock(household.tier, household.chosen_year, tier, year, policy)
            except LedgerError as error:
                raise error.for_document(document.id) from None
        evaluation.commits.append(lambda: household.choose(document.id, tier, year))
    return evaluation


def _district_class(document: Document, facts: Facts) -> str:
    if facts.has("district_class"):
        return facts.text("district_class")
    region = known_regions().get(document["region"])
    if region is None or not region.district_class:
        raise facts.error("district_class", f"region {document['region']} has no known class; give main_urban, general or poverty_key")
    return region.district_class


def _subsidy(document: Document, state: StateAccess) -> Evaluation:
    from ledger.policy.rules.resident import subsidy_split

    if "facts" not in document.fields:
        return Evaluation(document)
    policy = _policy(document)
    if policy.has(FLOOR_ONLY):
        return _floor_subsidy(document, policy)
    facts = _facts(document, tier=document.get("tier"))
    facts.values.setdefault("district_class", _district_class(document, facts))
    computation = subsidy_split(facts, policy)
    # The municipality's part is provincial-level money in a municipality under the central
    # government (重庆), prefecture-level money elsewhere.
    municipal_level = "provincial" if document["region"][:2] in DIRECT_MUNICIPALITIES else "prefecture"
    amounts = computation.amounts
    levels = {"central": "central", municipal_level: "municipal", "county": "district"}
    received = {level: amounts[part] for level, part in levels.items()}
    # The hardship extra held for tier-1 persons (记账) arrives with the subsidy but is theirs, not income.
    held = {level: amounts.get(f"held_{part}", 0) for level, part in levels.items()}
    if "level" in document.fields:
        received = {document["level"]: received.get(document["level"], 0)}
        held = {document["level"]: held.get(document["level"], 0)}
    settled = _settle(document, computation, sum(received.values()), "the subsidy")
    parts = {level: received_fen - held[level] for level, received_fen in received.items()}
    fields = {**settled.fields, "parts": parts, "held": sum(held.values())}
    return Evaluation(replace(settled, fields=fields), computation)


def _with_usage(document: Document, state: StateAccess, rule: Callable[..., Computation], facts: Facts, bucket_of: Callable[[Facts], str]) -> Evaluation:
    """Run a capped rule with the person's usage so far, and record the new usage on commit."""
    insured = state.insured_year(document["region"], _person(document, facts), document.date.year)
    computation = rule(facts, _policy(document), insured.used_fen(bucket_of(facts)))
    amount_name = next(iter(computation.amounts))
    evaluation = Evaluation(_settle(document, computation, computation.amounts[amount_name], amount_name), computation)
    evaluation.commits.append(lambda: insured.record_use(document.id, computation.usage))
    return evaluation


def _claim(document: Document, state: StateAccess) -> Evaluation:
    if "facts" not in document.fields:
        return Evaluation(document)
    from ledger.policy.rules import claims, resident

    facts = _facts(document, ("person",), tier=document.get("tier"))
    category = document["category"]
    if category == "other" and (facts.has("prenatal") or facts.has("delivery")):
        computation = claims.maternity(facts, _policy(document))
        return Evaluation(_settle(document, computation, computation.amounts["benefit"], "the maternity benefit"), computation)
    if category == "other" and facts.has("hardship_group"):
        # The person's own held money pays, not the pooled fund (渝府发〔2007〕113号 三(八)).
        evaluation = _with_usage(document, state, resident.hardship_drawdown, facts, lambda f: resident.HARDSHIP_BUCKET)
        evaluation.document = replace(evaluation.document, fields={**evaluation.document.fields, "from_held": True})
        return evaluation
    if category == "inpatient":
        return _with_usage(document, state, claims.inpatient, facts, lambda f: claims.ANNUAL_CAP_BUCKET)
    if category == "outpatient":
        return _with_usage(document, state, claims.major_outpatient, facts, lambda f: claims.ANNUAL_CAP_BUCKET)
    raise facts.error("prenatal", "an 'other' claim with facts is a maternity benefit (prenatal, delivery) or a hardship drawdown (hardship_group)")


def _assistance(document: Document, state: StateAccess) -> Evaluation:
    if "facts" not in document.fields:
        return Evaluation(document)
    from ledger.policy.rules import assistance

    facts = _facts(document, ("person",))
    rules = {
        "outpatient": (assistance.outpatient, assistance.outpatient_bucket),
        "inpatient": (assistance.inpatient, lambda f: assistance.INPATIENT_BUCKET),
        "major_disease": (assistance.major_disease, lambda f: assistance.MAJOR_BUCKET),
        "large_expense": (assistance.large_expense, lambda f: assistance.LARGE_EXPENSE_BUCKET),
    }
    rule, bucket_of = rules[document["category"]]
    return _with_usage(document, state, rule, facts, bucket_of)


def _sponsorship(document: Document, state: StateAccess) -> Evaluation:
    if "facts" not in document.fields:
        return Evaluation(document)
    from ledger.policy.rules import assistance

    facts = _facts(document, tier=document.get("tier"))
    computation = assistance.sponsorship(facts, _policy(document))
    persons = document.get("persons", 1)
    each_fen = computation.amounts["sponsored"]
    total_fen = each_fen * persons
    computation.steps.append(Step("for every person", f"{persons} × {format_yuan(each_fen)}", format_yuan(total_fen), computation.rule))
    return Evaluation(_settle(document, computation, total_fen, "the sponsored premiums"), computation)


def _remittance(document: Document, state: StateAccess) -> Evaluation:
    fund = state.district_fund(document["region"], document.get("scheme", "resident"))
    year = document.date.year
    evaluation = Evaluation(document)
    if "facts" in document.fields:
        from ledger.policy.rules import adjustment, chenzhou

        policy = _policy(document)
        method = policy.get(REMITTANCE_METHOD).value if policy.has(REMITTANCE_METHOD) else "top_up"
        if method == chenzhou.YEARLY_REMITTANCE:
            computation = chenzhou.adjustment_remittance(_facts(document), policy)
        else:
            tier = document.get("tier", 0)
            facts = _facts(document)
            facts.values.setdefault("remitted_before", format_yuan(fund.remitted_total_fen(tier)))
            computation = adjustment.remittance(facts, policy)
        evaluation = Evaluation(_settle(document, computation, computation.amounts["remittance"], "the remittance"), computation)
    amount_fen = evaluation.document["amount"]
    tier = document.get("tier", 0)
    evaluation.commits.append(lambda: fund.record_remittance(document.id, year, tier, amount_fen))
    return evaluation


GRANT_CONDITION = "adjustment.grant.requires_remittance"


def _check_grant(document: Document, state: StateAccess) -> None:
    """Seed 004's conditions on a grant, where the policy in force sets them (Chongqing does; Chenzhou's seed is silent)."""
    try:
        policy = _policy(document)
    except PolicyError:
        return  # no policy file for this region: no condition to apply
    if not policy.has(GRANT_CONDITION):
        return
    from ledger.policy.rules import adjustment

    facts = _facts(document)
    if document.type == "grant":
        facts.refuse_unknown(frozenset({"met_targets"}), "the grant check (adjustment.check_grant_allowed)")
    met_targets = facts.flag("met_targets", default=True)
    fund = state.district_fund(document["region"], document.get("scheme", "resident"))
    try:
        adjustment.check_grant_allowed(fund.remitted_in(document.date.year), met_targets, policy)
    except LedgerError as error:
        error.field = error.field or "region"
        raise error.for_document(document.id) from None


def _grant(document: Document, state: StateAccess) -> Evaluation:
    _check_grant(document, state)
    return Evaluation(document)


def _gap_cover(document: Document, state: StateAccess) -> Evaluation:
    from ledger.policy.rules import adjustment

    computation = adjustment.gap_cover(_facts(document, ("met_targets",)), _policy(document))
    amounts = computation.amounts
    if amounts["from_grant"]:
        _check_grant(document, state)
    fields = {**document.fields, "from_grant": amounts["from_grant"], "from_fiscal": amounts["from_fiscal"]}
    return Evaluation(replace(document, fields=fields), computation)


def _worker_settlement(document: Document, state: StateAccess) -> Evaluation:
    """The settlement's money: the municipal share of an overspend, and what the district government pays.

    What the district retains, and what its pooled surplus meets, stay in its
    fund balance: the computation records them, nothing moves.
    """
    from ledger.policy.rules import worker

    computation = worker.settlement(_facts(document), _policy(document))
    amounts = computation.amounts
    fiscal_fen = amounts["shortfall_from_government"] + amounts["overspend_district_from_government"]
    fields = {**document.fields, "from_grant": amounts["overspend_municipal"], "from_fiscal": fiscal_fen}
    return Evaluation(replace(document, fields=fields), computation)


_HANDLERS: dict[str, Callable[[Document, StateAccess], Evaluation]] = {
    "contribution": _contribution,
    "subsidy": _subsidy,
    "claim": _claim,
    "assistance": _assistance,
    "sponsorship": _sponsorship,
    "remittance": _remittance,
    "grant": _grant,
    "gap_cover": _gap_cover,
    "worker_settlement": _worker_settlement,
}
