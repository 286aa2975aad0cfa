"""A fund book: one pooling region, one scheme, one fiscal year.

The book's state is only its balances per account and tier, its identity and
whether its year is closed, so it stays small however many events it has.
Commands validate everything first and trigger an event only when nothing can
fail any more; the events' ``apply`` only assigns.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import date
from typing import NamedTuple
from uuid import UUID

from eventsourcing.domain import Aggregate

from ledger.accounts import CHART, Scheme, fund_balance_account
from ledger.errors import DateOutsideBookError, LedgerError, PeriodClosedError
from ledger.postings import (
    BalanceKey,
    Posting,
    check_account_flow,
    check_balanced,
    check_lines,
    check_overdraft,
    postings_from_rows,
    postings_to_rows,
    split_key,
)
from ledger.regions import RegionCode, municipality_of

BOOK_NAMESPACE = UUID("5b7c2f0e-8d0a-4a53-9a43-3c1f4b1e2d01")


class BookKey(NamedTuple):
    region: RegionCode
    scheme: Scheme
    year: int

    def __str__(self) -> str:
        return f"{self.region}/{self.scheme}/{self.year}"


def book_id(key: BookKey) -> UUID:
    """Books have deterministic ids, so opening one twice is a conflict, not a second book."""
    return uuid.uuid5(BOOK_NAMESPACE, f"book:{key.region}:{key.scheme}:{key.year}")


class Book(Aggregate):
    """The books of one fund in one pooling region for one fiscal year."""

    class Opened(Aggregate.Created):
        region: str
        scheme: str
        year: int
        municipality: str

    class Posted(Aggregate.Event):
        """Base of every event that carries postings.

        Attributes:
          document_id: the business document this event records.
          effective_date: the business date, ISO ``YYYY-MM-DD``.
          actor: who posted it.
          postings: ``[account, tier, amount_fen]`` rows, debit positive.
          computation: how the policy engine computed the amounts (facts,
            policy version, steps, result), or None when the document carried
            its amounts.
          content_hash: SHA-256 of the document's canonical content, so the
            document registry can be checked against (and rebuilt from) the events.
        """

        document_id: str
        effective_date: str
        actor: str
        postings: list
        computation: dict | None
        content_hash: str

        def apply(self, aggregate: "Book") -> None:
            aggregate.apply_postings(postings_from_rows(self.postings))

    class ContributionReceived(Posted):
        pass

    class SubsidyAllocated(Posted):
        pass

    class TransferMade(Posted):
        pass

    class ClaimPaid(Posted):
        pass

    class AssistanceDisbursed(Posted):
        pass

    class PremiumSponsored(Posted):
        pass

    class AdjustmentRemitted(Posted):
        pass

    class AdjustmentGranted(Posted):
        pass

    class InterestEarned(Posted):
        pass

    class RefundPaid(Posted):
        pass

    class RecoveryReceived(Posted):
        pass

    class JournalPosted(Posted):
        pass

    class DocumentReversed(Posted):
        reverses: str

    class YearClosed(Posted):
        def apply(self, aggregate: "Book") -> None:
            aggregate.apply_postings(postings_from_rows(self.postings))
            aggregate.closed = True

    class BalancesCarriedForward(Posted):
        from_year: int

    class GapCovered(Posted):
        pass

    class FundsMerged(Posted):
        """The balances of a fund that merged into another, moved out; the book closes."""

        merged_into: str

        def apply(self, aggregate: "Book") -> None:
            aggregate.apply_postings(postings_from_rows(self.postings))
            aggregate.closed = True

    class MergedFundsReceived(Posted):
        """The balances of the funds merged into this one, moved in."""

    # Events whose postings may break the account-flow rules because they
    # return money by its original channel or undo an earlier document.
    FLOW_EXEMPT = (RefundPaid, RecoveryReceived, DocumentReversed, BalancesCarriedForward, FundsMerged, MergedFundsReceived)

    # A year with no income or expense closes with no postings, and an empty
    # book carries nothing forward.
    MAY_BE_EMPTY = (YearClosed, BalancesCarriedForward, GapCovered, FundsMerged, MergedFundsReceived)

    @classmethod
    def may_be_empty(cls, event_class: type) -> bool:
        # issubclass, not "in": the aggregate's metaclass redefines nested event classes after the body runs.
        return issubclass(event_class, cls.MAY_BE_EMPTY)

    def __init__(self, region: str, scheme: str, year: int, municipality: str) -> None:
        self.region = region
        self.scheme = scheme
        self.year = year
        self.municipality = municipality
        self.balances: dict[BalanceKey, int] = {}
        self.closed = False

    @classmethod
    def open(cls, key: BookKey) -> "Book":
        return cls._create(
            cls.Opened,
            id=book_id(key),
            region=key.region,
            scheme=key.scheme,
            year=key.year,
            municipality=municipality_of(key.region),
        )

    @property
    def key(self) -> BookKey:
        return BookKey(self.region, self.scheme, self.year)

    def apply_postings(self, postings: Sequence[Posting]) -> None:
        for posting in postings:
            balance_fen = self.balances.get(posting.key, 0) + posting.amount_fen
            if balance_fen:
                self.balances[posting.key] = balance_fen
            else:
                self.balances.pop(posting.key, None)

    def balance_fen(self, account: str, tier: int = 0) -> int:
        return self.balances.get(f"{account}:{tier}", 0)

    def check(
        self,
        event_class: type["Book.Posted"],
        effective_date: date,
        postings: Sequence[Posting],
    ) -> list[LedgerError]:
        """Every reason this book would refuse these postings; empty when it accepts them."""
        if self.closed:
            return [
                PeriodClosedError(
                    f"the {self.year} book of {self.key} is closed; post into {self.year + 1} instead",
                    field="date",
                )
            ]
        if effective_date.year != self.year:
            return [
                DateOutsideBookError(
                    f"{effective_date.isoformat()} is outside fiscal year {self.year} of book {self.key}",
                    field="date",
                )
            ]
        errors = check_lines(self.scheme, postings)
        if errors:
            return errors
        if postings or not self.may_be_empty(event_class):
            errors = check_balanced(postings)
        if not issubclass(event_class, self.FLOW_EXEMPT):
            errors += check_account_flow(postings)
        errors += check_overdraft(self.balances, postings)
        return errors

    def record(
        self,
        event_class: type["Book.Posted"],
        *,
        document_id: str,
        effective_date: date,
        actor: str,
        postings: Sequence[Posting],
        computation: dict | None = None,
        content_hash: str = "",
        **extra: object,
    ) -> None:
        """Trigger the event; call only after ``check`` returned no errors."""
        self.trigger_event(
            event_class,
            document_id=document_id,
            effective_date=effective_date.isoformat(),
            actor=actor,
            postings=postings_to_rows(postings),
            computation=computation,
            content_hash=content_hash,
            **extra,
        )

    def closing_postings(self) -> tuple[Posting, ...]:
        """Close every income and expense balance into the fund balance, tier by tier."""
        fund_balance = fund_balance_account(self.scheme)
        postings: list[Posting] = []
        net_by_tier: dict[int, int] = {}
        for key, balance_fen in sorted(self.balances.items()):
            account, tier = split_key(key)
            if CHART[account].is_income_or_expense:
                postings.append(Posting(account, tier, -balance_fen))
                net_by_tier[tier] = net_by_tier.get(tier, 0) + balance_fen
        for tier, net_fen in sorted(net_by_tier.items()):
            if net_fen:
                postings.append(Posting(fund_balance, tier, net_fen))
        return tuple(postings)

    def carried_balances(self, closing: Sequence[Posting]) -> tuple[Posting, ...]:
        """The balances that open next year's book once the closing postings are applied."""
        after: dict[BalanceKey, int] = dict(self.balances)
        for posting in closing:
            after[posting.key] = after.get(posting.key, 0) + posting.amount_fen
        return tuple(
            Posting(*split_key(key), balance_fen) for key, balance_fen in sorted(after.items()) if balance_fen
        )

    def trial_balance(self) -> Mapping[BalanceKey, int]:
        return dict(self.balances)
