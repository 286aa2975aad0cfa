"""A realistic demo municipality: a year of business documents.

For every district of ``data/demo.toml`` (two of each class of docs/policy/resident.md): an opening balance, a quarter of contribution collections at both
tiers, subsidies from every level, monthly sweeps from the income account to
the fiscal special account, monthly funding of the payment account, claims,
a refund, a recovery and a reversal, medical assistance with premium
sponsorship into the resident fund, remittances to the municipal adjustment
fund and grants from it, interest, and the year-end close of every book.

``size`` scales the number of documents (collection batches and claims),
not the money: the municipality's totals stay realistic at any size, which
is what province-scale benchmarks need.
"""

from __future__ import annotations

import random
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from importlib import resources
from typing import Any

from ledger.money import allocate, format_yuan, parse_yuan
from ledger.policy import load_policy
from ledger.policy.facts import Facts
from ledger.policy.rules import adjustment, assistance, claims
from ledger.policy.rules.resident import contribution
from ledger.regions import known_regions

DEMO_MUNICIPALITY = "500000"
CONTRIBUTION_MONTHS = (1, 2, 3)
QUARTER_END_MONTHS = (3, 6, 9, 12)


def scenario() -> dict[str, Any]:
    text = resources.files("ledger").joinpath("data/demo.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


@dataclass
class _Writer:
    """Collects documents with their dates; a sequence number keeps same-day order."""

    documents: list[tuple[date, int, dict[str, Any]]] = field(default_factory=list)

    def add(self, when: date, raw: dict[str, Any]) -> None:
        self.documents.append((when, len(self.documents), {"date": when.isoformat(), **raw}))

    def in_order(self) -> Iterator[dict[str, Any]]:
        for _, _, raw in sorted(self.documents, key=lambda item: (item[0], item[1])):
            yield raw


def generate_documents(size: int = 5, year: int = 2013, seed: int = 7, close_months: bool = False) -> Iterator[dict[str, Any]]:
    """The demo year as raw documents, in date order; the same arguments give the same documents.

    With ``close_months`` every district book also closes January to
    November at each month end (月结), with a seal at each quarter end; the
    year close locks December.
    """
    config = scenario()
    rng = random.Random(seed)
    writer = _Writer()
    remitted_fen = 0
    poverty_districts = []
    for region, insured in config["districts"].items():
        district = _District(region, insured, config, size, year, rng, writer)
        district.write_year()
        if close_months:
            district.write_month_closes()
        remitted_fen += district.remitted_fen
        if known_regions()[region].district_class == "poverty_key":
            poverty_districts.append(region)
    _write_adjustment_fund(config, year, remitted_fen, poverty_districts, writer)
    yield from writer.in_order()


class _District:
    """One district's year: its resident book and its assistance book."""

    def __init__(self, region, insured, config, size, year, rng, writer) -> None:  # type: ignore[no-untyped-def]
        self.region = region
        self.insured = {1: int(insured["tier_1"]), 2: int(insured["tier_2"])}
        self.config = config
        self.size = size
        self.year = year
        self.rng = rng
        self.writer = writer
        self.district_class = known_regions()[region].district_class
        self.policy = load_policy(region, date(year, 1, 1))
        self.assistance_policy = self.policy
        self.remitted_fen = 0
        self.sequence = 0

    def id(self, kind: str) -> str:
        self.sequence += 1
        return f"{self.year}-{self.region}-{kind}-{self.sequence:06d}"

    def day(self, month: int, day: int) -> date:
        return date(self.year, month, day)

    def resident(self, kind: str, **fields: Any) -> dict[str, Any]:
        return {"id": self.id(kind), "type": kind, "region": self.region, "scheme": "resident", **fields}

    def write_year(self) -> None:
        fundraising = {tier: self._fundraising_fen(tier) for tier in (1, 2)}
        benefits_percent = self.config["spending"]["benefits_percent_of_fundraising"]
        monthly_benefits = {t: fundraising[t] * benefits_percent // 100 // 12 for t in (1, 2)}
        self._write_opening(monthly_benefits)
        self._write_contributions()
        self._write_subsidies()
        assistance_spending = self._write_assistance()
        for month in range(1, 13):
            self._write_claims(month, monthly_benefits, assistance_spending)
        self._write_interest(fundraising)
        self._write_corrections()
        self._write_remittance(fundraising)
        for scheme in ("resident", "assistance"):
            self.writer.add(
                self.day(12, 31),
                {"id": self.id("close"), "type": "year_close", "region": self.region, "scheme": scheme, "year": self.year},
            )

    def write_month_closes(self) -> None:
        """Close each month of both books at its last day, after everything dated that day."""
        for month in range(1, 12):
            last_day = date(self.year + (month == 12), month % 12 + 1, 1).toordinal() - 1
            for scheme in ("resident", "assistance"):
                self.writer.add(
                    date.fromordinal(last_day),
                    {"id": self.id("mclose"), "type": "month_close", "region": self.region, "scheme": scheme,
                     "year": self.year, "month": month, "seal": month in QUARTER_END_MONTHS},
                )

    def _tier_amount_fen(self, tier: int) -> int:
        return int(self.policy.get(f"resident.tier_{tier}.amount").value)

    def _individual_share_fen(self, tier: int) -> int:
        """What one urban resident pays at a tier, as the policy engine computes it."""
        return contribution(Facts({"tier": tier, "urban": 1}), self.policy).amounts["individual"]

    def _sponsored(self, tier: int) -> int:
        per_thousand = self.config["sponsorship"][f"sponsored_per_thousand_tier_{tier}"]
        return self.insured[tier] * per_thousand // 1000

    def _fundraising_fen(self, tier: int) -> int:
        return self.insured[tier] * self._tier_amount_fen(tier)

    def _write_opening(self, monthly_benefits: dict[int, int]) -> None:
        months = self.config["spending"]["opening_balance_months"]
        for tier in (1, 2):
            amount = format_yuan(monthly_benefits[tier] * months)
            self.writer.add(
                self.day(1, 1),
                self.resident(
                    "journal",
                    purpose="期初余额 opening balance taken over from the previous system",
                    postings=[{"account": "1003", "debit": amount}, {"account": "3001", "tier": tier, "credit": amount}],
                ),
            )

    def _write_contributions(self) -> None:
        """Individual shares collected in batches over the first quarter, swept at each month end."""
        batches = len(CONTRIBUTION_MONTHS) * self.size
        self._month_sweeps = {m: 0 for m in CONTRIBUTION_MONTHS}
        for tier in (1, 2):
            share_fen = self._individual_share_fen(tier)
            paying = self.insured[tier] - self._sponsored(tier)
            persons = allocate(paying, [self.rng.randint(5, 15) for _ in range(batches)])
            for index, count in enumerate(persons):
                month = CONTRIBUTION_MONTHS[index % len(CONTRIBUTION_MONTHS)]
                # The document carries the facts; the policy engine computes count × share.
                self.writer.add(
                    self.day(month, self.rng.randint(1, 15)),
                    self.resident("contribution", tier=tier, persons=count, facts={"urban": count}),
                )
                self._month_sweeps[month] += count * share_fen
        refund_fen = self._individual_share_fen(1)
        self.writer.add(
            self.day(2, 20),
            self.resident("refund", tier=1, amount=format_yuan(refund_fen), original_year=self.year, memo="参保人死亡退费"),
        )
        self.writer.add(
            self.day(2, 21),
            self.resident("refund", tier=1, amount=format_yuan(refund_fen), original_year=self.year - 1, memo="上年重复缴费退费"),
        )
        self._month_sweeps[2] -= 2 * refund_fen
        for month, amount_fen in self._month_sweeps.items():
            end = date(self.year, month + 1, 1).toordinal() - 1
            self.writer.add(
                date.fromordinal(end),
                self.resident("transfer", **{"from": "income", "to": "fiscal"}, amount=format_yuan(amount_fen)),
            )

    def _write_subsidies(self) -> None:
        """Central in February; municipal and district in March: the engine splits by the district's class."""
        for tier in (1, 2):
            persons = self.insured[tier]
            for level, month, day in (("central", 2, 10), ("provincial", 3, 10), ("county", 3, 20)):
                self.writer.add(
                    self.day(month, day),
                    self.resident("subsidy", tier=tier, level=level, persons=persons, facts={"urban": persons}),
                )

    def _write_assistance(self) -> dict[int, list[int]]:
        """Assistance subsidies on 2 January, premium sponsorship on 15 January, then monthly aid."""
        sponsored_each_fen = {t: self._sponsored_each_fen(t) for t in (1, 2)}
        sponsorship_fen = {t: self._sponsored(t) * sponsored_each_fen[t] for t in (1, 2)}
        aid_each_fen = parse_yuan(self.config["spending"]["assistance_aid_per_insured_per_year"])
        monthly_aid_fen = (self.insured[1] + self.insured[2]) * aid_each_fen // 12
        margin = 100 + self.config["spending"]["assistance_budget_percent_over_spending"]
        budget_fen = (sum(sponsorship_fen.values()) + 12 * monthly_aid_fen) * margin // 100
        for level, part_fen in zip(("central", "provincial", "county"), allocate(budget_fen, [50, 30, 20])):
            self.writer.add(
                self.day(1, 2),
                {"id": self.id("asubsidy"), "type": "subsidy", "region": self.region, "scheme": "assistance",
                 "level": level, "amount": format_yuan(part_fen)},
            )
        for tier in (1, 2):
            self.writer.add(
                self.day(1, 15),
                {"id": self.id("sponsor"), "type": "sponsorship", "region": self.region, "tier": tier,
                 "persons": self._sponsored(tier), "facts": self._sponsorship_facts(tier)},
            )
        categories = ["outpatient", "inpatient", "major_disease", "large_expense"]
        return {month: allocate(monthly_aid_fen, [40, 35, 15, 10]) for month in range(1, 13)} | {"categories": categories}  # type: ignore[dict-item]

    def _sponsorship_facts(self, tier: int) -> dict[str, Any]:
        return {"category": "dibao", "individual_contribution": format_yuan(self._individual_share_fen(tier))}

    def _sponsored_each_fen(self, tier: int) -> int:
        """What the assistance fund pays for one sponsored 低保 resident, as the engine computes it."""
        facts = Facts({"tier": tier, **self._sponsorship_facts(tier)})
        return assistance.sponsorship(facts, self.assistance_policy).amounts["sponsored"]

    def _write_person_claim(self, month: int) -> int:
        """One resident's inpatient stay, written as facts: the engine computes the reimbursement."""
        level = self.rng.choice(("1", "2", "3"))
        facts = {"person": f"{self.region}-P{month:02d}{self.rng.randint(0, 99999):05d}", "hospital_level": level,
                 "covered_cost": format_yuan(self.rng.randint(200_000, 4_000_000))}
        computed = claims.inpatient(Facts({"tier": 1, **facts}, read_by_caller=("person",)), self.policy, 0).amounts["reimbursement"]
        if computed:
            self.writer.add(
                self.day(month, self.rng.randint(5, 28)),
                self.resident("claim", tier=1, category="inpatient", facts=facts),
            )
        return computed

    def _write_claims(self, month: int, monthly_benefits: dict[int, int], aid: dict[int, list[int]]) -> None:
        spending = self.config["spending"]
        shares = [spending["inpatient_percent"], spending["outpatient_percent"],
                  100 - spending["inpatient_percent"] - spending["outpatient_percent"]]
        funding_fen = 0
        for tier in (1, 2):
            budgets = allocate(monthly_benefits[tier], shares)
            for category, budget_fen in zip(("inpatient", "outpatient", "other"), budgets):
                for amount_fen in allocate(budget_fen, [self.rng.randint(1, 9) for _ in range(self.size)]):
                    if amount_fen:
                        self.writer.add(
                            self.day(month, self.rng.randint(5, 28)),
                            self.resident("claim", tier=tier, category=category, amount=format_yuan(amount_fen)),
                        )
                funding_fen += budget_fen
        funding_fen += self._write_person_claim(month)
        self.writer.add(
            self.day(month, 1),
            self.resident("transfer", **{"from": "fiscal", "to": "payment"}, amount=format_yuan(funding_fen)),
        )
        self._write_aid(month, aid)

    def _write_aid(self, month: int, aid: dict[Any, Any]) -> None:
        amounts = aid[month]
        self.writer.add(
            self.day(month, 3),
            {"id": self.id("afund"), "type": "transfer", "region": self.region, "scheme": "assistance",
             "from": "fiscal", "to": "payment", "amount": format_yuan(sum(amounts))},
        )
        for category, amount_fen in zip(aid["categories"], amounts):
            self.writer.add(
                self.day(month, self.rng.randint(5, 28)),
                {"id": self.id("aid"), "type": "assistance", "region": self.region, "category": category,
                 "amount": format_yuan(amount_fen)},
            )

    def _write_interest(self, fundraising: dict[int, int]) -> None:
        rate = self.config["spending"]["interest_per_ten_thousand_per_quarter"]
        for month in QUARTER_END_MONTHS:
            for tier in (1, 2):
                amount_fen = fundraising[tier] * rate // 10000
                self.writer.add(self.day(month, 21), self.resident("interest", tier=tier, amount=format_yuan(amount_fen)))

    def _write_corrections(self) -> None:
        """A benefit recovered, and a claim paid twice by mistake and reversed."""
        self.writer.add(
            self.day(6, 29),
            self.resident("recovery", tier=1, category="inpatient", amount="3200.00", original_year=self.year,
                          memo="追回违规报销"),
        )
        duplicate = self.resident("claim", tier=1, category="inpatient", amount="1860.40", memo="重复支付")
        self.writer.add(self.day(7, 28), duplicate)
        self.writer.add(
            self.day(7, 30),
            {"id": self.id("reversal"), "type": "reversal", "reverses": duplicate["id"], "memo": "冲销重复支付"},
        )

    def _write_remittance(self, fundraising: dict[int, int]) -> None:
        """The first pooling year's remittance: the engine computes the share of each tier's fundraising."""
        for tier in (1, 2):
            facts = {"fundraising": format_yuan(fundraising[tier])}
            computed = adjustment.remittance(Facts({**facts, "remitted_before": "0.00"}), self.policy)
            self.remitted_fen += computed.amounts["remittance"]
            self.writer.add(self.day(12, 10), self.resident("remittance", tier=tier, facts=facts))


def _write_adjustment_fund(config, year: int, remitted_fen: int, poverty_districts: list[str], writer: _Writer) -> None:  # type: ignore[no-untyped-def]
    """The municipality grants part of the year's remittances to its poverty-key districts, then closes."""
    municipality = config["municipality"]
    grant_fen = remitted_fen * config["adjustment"]["grant_percent_of_remittances"] // 100
    for index, (region, amount_fen) in enumerate(zip(poverty_districts, allocate(grant_fen, [1] * len(poverty_districts)))):
        writer.add(
            date(year, 12, 15),
            {"id": f"{year}-{municipality}-grant-{index + 1:03d}", "type": "grant", "region": region,
             "scheme": "resident", "tier": 1, "amount": format_yuan(amount_fen)},
        )
    writer.add(
        date(year, 12, 21),
        {"id": f"{year}-{municipality}-interest", "type": "interest", "region": municipality, "scheme": "adjustment",
         "amount": format_yuan(remitted_fen * 3 // 10000)},
    )
    writer.add(
        date(year, 12, 31),
        {"id": f"{year}-{municipality}-close", "type": "year_close", "region": municipality, "scheme": "adjustment", "year": year},
    )
