"""Small aggregates the policy engine keeps beside the books.

Each has a deterministic id, so the rules that span many documents — an
annual cap across all of a person's claims, a household's tier lock, a
district's cumulative remittance — are enforced by the same optimistic
concurrency that guards the books: the state is saved in the same transaction
as the postings it allowed.
"""

from __future__ import annotations

import uuid
from uuid import UUID

from eventsourcing.domain import Aggregate

STATE_NAMESPACE = UUID("8c1d6a52-3f7e-4b09-9e21-4a6f0c7d5b33")


def insured_year_id(region: str, person: str, year: int) -> UUID:
    return uuid.uuid5(STATE_NAMESPACE, f"insured:{region}:{person}:{year}")


def household_id(region: str, household: str) -> UUID:
    return uuid.uuid5(STATE_NAMESPACE, f"household:{region}:{household}")


def district_fund_id(region: str, scheme: str) -> UUID:
    return uuid.uuid5(STATE_NAMESPACE, f"district-fund:{region}:{scheme}")


class InsuredYear(Aggregate):
    """What one insured person has used this year under each annual cap or quota."""

    class Opened(Aggregate.Created):
        class_version = 1

        region: str
        person: str
        year: int

    class Used(Aggregate.Event):
        class_version = 1

        document_id: str
        usage: dict

        def apply(self, aggregate: "InsuredYear") -> None:
            for bucket, amount_fen in self.usage.items():
                aggregate.used[bucket] = aggregate.used.get(bucket, 0) + int(amount_fen)

    def __init__(self, region: str, person: str, year: int) -> None:
        self.region = region
        self.person = person
        self.year = year
        self.used: dict[str, int] = {}

    @classmethod
    def open(cls, region: str, person: str, year: int) -> "InsuredYear":
        return cls._create(cls.Opened, id=insured_year_id(region, person, year), region=region, person=person, year=year)

    def used_fen(self, bucket: str) -> int:
        return self.used.get(bucket, 0)

    def record_use(self, document_id: str, usage: dict[str, int]) -> None:
        if any(usage.values()):
            self.trigger_event(self.Used, document_id=document_id, usage=dict(usage))


class Household(Aggregate):
    """A household's funding tier and the year it chose it (tier lock, 渝府发〔2007〕113号 三(六))."""

    class Opened(Aggregate.Created):
        class_version = 1

        region: str
        household: str

    class TierChosen(Aggregate.Event):
        class_version = 1

        document_id: str
        tier: int
        year: int

        def apply(self, aggregate: "Household") -> None:
            aggregate.tier = self.tier
            aggregate.chosen_year = self.year

    def __init__(self, region: str, household: str) -> None:
        self.region = region
        self.household = household
        self.tier: int | None = None
        self.chosen_year: int | None = None

    @classmethod
    def open(cls, region: str, household: str) -> "Household":
        return cls._create(cls.Opened, id=household_id(region, household), region=region, household=household)

    def choose(self, document_id: str, tier: int, year: int) -> None:
        if self.tier != tier:
            self.trigger_event(self.TierChosen, document_id=document_id, tier=tier, year=year)


class DistrictFund(Aggregate):
    """A district fund's remittances to the municipal adjustment fund, by year and tier.

    The remittance keeps each tier's cumulative remittance at the policy's
    share of that tier's fundraising (tiers are accounted separately), so a
    second computed remittance in a year finds nothing left to pay.
    """

    class Opened(Aggregate.Created):
        class_version = 1

        region: str
        scheme: str

    class Remitted(Aggregate.Event):
        class_version = 1

        document_id: str
        year: int
        tier: int
        amount_fen: int

        def apply(self, aggregate: "DistrictFund") -> None:
            key = f"{self.year}:{self.tier}"
            aggregate.remitted[key] = aggregate.remitted.get(key, 0) + self.amount_fen

    def __init__(self, region: str, scheme: str) -> None:
        self.region = region
        self.scheme = scheme
        self.remitted: dict[str, int] = {}

    @classmethod
    def open(cls, region: str, scheme: str) -> "DistrictFund":
        return cls._create(cls.Opened, id=district_fund_id(region, scheme), region=region, scheme=scheme)

    def remitted_total_fen(self, tier: int) -> int:
        """Everything this tier has remitted so far, in every year."""
        return sum(amount for key, amount in self.remitted.items() if key.endswith(f":{tier}"))

    def remitted_in(self, year: int) -> bool:
        return any(amount > 0 for key, amount in self.remitted.items() if key.startswith(f"{year}:"))

    def record_remittance(self, document_id: str, year: int, tier: int, amount_fen: int) -> None:
        self.trigger_event(self.Remitted, document_id=document_id, year=year, tier=tier, amount_fen=amount_fen)
