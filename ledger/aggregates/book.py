"""A fund book: one pooling region, one scheme, one fiscal year.

The book's state is its balances per account and tier, each bank account's
net movement per day (a year has at most 366), its identity and its periods,
so it stays small however many events it has.
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
from eventsourcing.utils import get_topic

from ledger.accounts import BANK_ACCOUNTS, CHART, HARDSHIP_HELD, Scheme, fund_balance_account
from ledger.chain import GENESIS, chain_hash, fields_to_link
from ledger.errors import DateOutsideBookError, LedgerError, OpeningBalancesError, PeriodClosedError
from ledger.postings import (
    BalanceKey,
    Posting,
    check_account_flow,
    check_balanced,
    check_lines,
    check_one_sided,
    check_overdraft,
    check_self_entry,
    check_turnover,
    postings_from_rows,
    postings_to_rows,
    split_key,
)
from ledger.regions import RegionCode, municipality_of

# Held money that lapses goes to 其他收入 of tier 1, the only tier it is held for.
HELD_LAPSES_INTO = "4501"
HELD_TIER = 1

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
    """The books of one fund in one pooling region for one fiscal year.

    Every event carries ``chain``: the SHA-256 of the previous event's chain
    and this event's own content (see ``ledger.chain``), so a stored event
    that is changed, removed or moved breaks the chain from that point on.
    """

    class Opened(Aggregate.Created):
        # The shape of this event as stored (docs/operations.md, Upgrading): a
        # change of shape raises it and adds ``upcast_v1_v2``; stored events are never rewritten.
        class_version = 1

        region: str
        scheme: str
        year: int
        municipality: str
        chain: str

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
          voucher: the 记账凭证号, consecutive from 1 within the book and the
            month of the effective date; 0 on an event with no postings.
          chain: this event's link in the book's hash chain.

        Every subclass inherits ``class_version``; one whose shape changes
        declares its own, with the upcasters from each earlier version.
        """

        class_version = 1

        document_id: str
        effective_date: str
        actor: str
        postings: list
        computation: dict | None
        content_hash: str
        voucher: int
        chain: str

        def apply(self, aggregate: "Book") -> None:
            postings = postings_from_rows(self.postings)
            aggregate.apply_postings(postings)
            aggregate.apply_bank_days(self.effective_date, postings)
            aggregate.chain_head = self.chain
            aggregate.lines += len(postings)
            aggregate.debit_total_fen += sum(p.amount_fen for p in postings if p.amount_fen > 0)
            if self.voucher:
                aggregate.vouchers[self.effective_date[:7]] = self.voucher

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
            super().apply(aggregate)
            aggregate.closed = True
            # What the close leaves is what next year's book was given; a
            # close after a reopening carries only the difference.
            aggregate.carried_out = dict(aggregate.balances)

    class BalancesCarriedForward(Posted):
        from_year: int

    class OpeningBalancesEntered(Posted):
        """A book opened with the last audited balances of the system the agency used before (期初余额).

        Only the first event after ``Opened``; the book then takes no balances
        carried forward from an earlier year of the ledger.
        """

        def apply(self, aggregate: "Book") -> None:
            super().apply(aggregate)
            aggregate.opened_with = self.document_id

    class HeldLapsed(Posted):
        """At the year close, what is left of the money held for hardship residents passes into the fund (其他收入)."""

    class CrossDistrictCareAdvanced(Posted):
        """Care in one district for an insured of another: the advance, the platform's clearing and the home district's benefit."""

    class CrossDistrictSettled(Posted):
        """The municipal platform's monthly settlement of cross-district care between two districts."""

    class GapCovered(Posted):
        pass

    class FundsMerged(Posted):
        """The balances of a fund that merged into another, moved out; the book closes."""

        merged_into: str

        def apply(self, aggregate: "Book") -> None:
            super().apply(aggregate)
            aggregate.closed = True
            aggregate.merged = True

    class MergedFundsReceived(Posted):
        """The balances of the funds merged into this one, moved in."""

    class MonthClosed(Posted):
        """A month of the book is locked: nothing more may be dated in it.

        Months close in order, so the book keeps only the last closed month.
        ``seal`` asks for a seal of the book as it stands after the close.
        """

        period: str
        seal: bool

        def apply(self, aggregate: "Book") -> None:
            super().apply(aggregate)
            aggregate.closed_through = int(self.period[5:7])

    class PeriodReopened(Posted):
        """A closed month (``YYYY-MM``, with every later month) or the closed year (``YYYY``) is opened again.

        The reason and the reopener (``actor``) stay in the event, and every
        later statement of the book lists them.
        """

        period: str
        reason: str

        def apply(self, aggregate: "Book") -> None:
            super().apply(aggregate)
            if len(self.period) == 4:
                aggregate.closed = False
            else:
                aggregate.closed_through = int(self.period[5:7]) - 1

    # Events whose postings may break the account-flow rules because they
    # return money by its original channel or undo an earlier document.
    FLOW_EXEMPT = (
        RefundPaid,
        RecoveryReceived,
        DocumentReversed,
        BalancesCarriedForward,
        OpeningBalancesEntered,
        FundsMerged,
        MergedFundsReceived,
    )

    # A year with no income or expense closes with no postings, and an empty
    # book carries nothing forward.
    MAY_BE_EMPTY = (YearClosed, BalancesCarriedForward, GapCovered, FundsMerged, MergedFundsReceived, MonthClosed, PeriodReopened)

    # Period control: no postings, their own checks.
    PERIOD_EVENTS = (MonthClosed, PeriodReopened)

    # The close and the opening balances are dated on the period's edge, which may already be locked.
    MONTH_LOCK_EXEMPT = (YearClosed, BalancesCarriedForward, MonthClosed, PeriodReopened)

    @classmethod
    def may_be_empty(cls, event_class: type) -> bool:
        # issubclass, not "in": the aggregate's metaclass redefines nested event classes after the body runs.
        return issubclass(event_class, cls.MAY_BE_EMPTY)

    def __init__(self, region: str, scheme: str, year: int, municipality: str, chain: str) -> None:
        self.region = region
        self.scheme = scheme
        self.year = year
        self.municipality = municipality
        self.balances: dict[BalanceKey, int] = {}
        # Each bank account's net movement per effective date (ISO YYYY-MM-DD), so a
        # back-dated document is judged against every later day (check_overdraft).
        self.bank_days: dict[BalanceKey, dict[str, int]] = {}
        # The latest effective date each bank account has moved on, so a document dated on or after it
        # has no later day to be judged against (check_overdraft skips the scan).
        self.bank_last_day: dict[BalanceKey, str] = {}
        self.closed = False
        self.merged = False
        # Months 1..closed_through are locked.
        self.closed_through = 0
        # The last voucher number given in each month (YYYY-MM).
        self.vouchers: dict[str, int] = {}
        self.chain_head = chain
        # Posting lines and the sum of their debits, for seals.
        self.lines = 0
        self.debit_total_fen = 0
        # The balances the last year close left, which next year's book received.
        self.carried_out: dict[BalanceKey, int] = {}
        # The opening_balances document the book was opened with, if any.
        self.opened_with = ""

    @classmethod
    def open(cls, key: BookKey) -> "Book":
        identifier = book_id(key)
        fields = {
            "region": key.region,
            "scheme": key.scheme,
            "year": key.year,
            "municipality": municipality_of(key.region),
            "timestamp": cls.Opened.create_timestamp(),
            "originator_topic": get_topic(cls),
        }
        linked = fields_to_link(cls.Opened, {**fields, "originator_id": identifier, "originator_version": 1})
        chain = chain_hash(GENESIS, "Opened", linked)
        return cls._create(cls.Opened, id=identifier, chain=chain, **fields)

    def trigger_event(self, event_class: type, **kwargs: object) -> None:  # type: ignore[override]
        """Link the new event into the book's hash chain before it is applied."""
        kwargs.setdefault("timestamp", event_class.create_timestamp())  # type: ignore[attr-defined]
        fields = {**kwargs, "originator_id": self.id, "originator_version": self.version + 1}
        kwargs["chain"] = chain_hash(self.chain_head, event_class.__name__, fields_to_link(event_class, fields))
        super().trigger_event(event_class, **kwargs)

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

    def apply_bank_days(self, effective_date: str, postings: Sequence[Posting]) -> None:
        for posting in postings:
            if posting.account in BANK_ACCOUNTS:
                if effective_date > self.bank_last_day.get(posting.key, ""):
                    self.bank_last_day[posting.key] = effective_date
                days = self.bank_days.setdefault(posting.key, {})
                moved_fen = days.get(effective_date, 0) + posting.amount_fen
                if moved_fen:
                    days[effective_date] = moved_fen
                else:
                    days.pop(effective_date, None)

    def balance_fen(self, account: str, tier: int = 0) -> int:
        return self.balances.get(f"{account}:{tier}", 0)

    def check(
        self,
        event_class: type["Book.Posted"],
        effective_date: date,
        postings: Sequence[Posting],
        extra: Mapping[str, object] | None = None,
    ) -> list[LedgerError]:
        """Every reason this book would refuse these postings; empty when it accepts them.

        The one place the book's rules live: posting calls it before an
        event is triggered, and ``ledger verify`` calls it again on its
        replay before applying each stored event. The rules: the period is
        open (year and month), the date is in the book's year, every line is
        an account of the scheme's chart with the right tier, debits equal
        credits (财会〔2017〕28号), no entry debits and credits one account,
        the account flow (财社〔2017〕144号 第39–42条), no bank account below
        zero at the end of the document's day or any later day, and the
        book's turnover within ``MAXIMUM_BOOK_TURNOVER_FEN``.
        """
        if issubclass(event_class, self.PERIOD_EVENTS):
            return self._check_period(event_class, dict(extra or {}))
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
        if effective_date.month <= self.closed_through and not issubclass(event_class, self.MONTH_LOCK_EXEMPT):
            return [
                PeriodClosedError(
                    f"{effective_date.isoformat()} falls in {self.year}-{effective_date.month:02d}, which is closed in "
                    f"book {self.key}; date it in an open month, or reopen the month with a period_reopen document "
                    "giving the reason",
                    field="date",
                )
            ]
        errors = check_lines(self.scheme, postings)
        if errors:
            return errors
        errors = self._check_opening(event_class, postings)
        if errors:
            return errors
        if postings or not self.may_be_empty(event_class):
            errors = check_balanced(postings)
        errors += check_self_entry(postings)
        if not issubclass(event_class, self.FLOW_EXEMPT):
            errors += check_account_flow(postings)
        errors += check_overdraft(self.balances, self.bank_days, effective_date, postings, self.bank_last_day)
        errors += check_one_sided(self.balances, postings)
        errors += check_turnover(self.debit_total_fen, postings)
        return errors

    def _check_opening(self, event_class: type, postings: Sequence[Posting]) -> list[LedgerError]:
        """Opening balances open an empty book, once, with balance-sheet lines; a book so opened takes no carryover."""
        if issubclass(event_class, self.BalancesCarriedForward) and self.opened_with:
            return [
                OpeningBalancesError(
                    f"book {self.key} was opened with the audited balances of {self.opened_with}; the {self.year - 1} "
                    "book of the ledger cannot carry its balances into it as well",
                    field="year",
                )
            ]
        if not issubclass(event_class, self.OpeningBalancesEntered):
            return []
        if self.version > 1:
            already = f" with {self.opened_with}" if self.opened_with else ""
            return [
                OpeningBalancesError(
                    f"book {self.key} already has postings{already}; opening balances open an empty book, once "
                    "(correct a balance with a journal)",
                    field="balances",
                )
            ]
        flows = sorted({p.account for p in postings if CHART[p.account].is_income_or_expense})
        if flows:
            return [
                OpeningBalancesError(
                    f"{', '.join(flows)} are income or expense; opening balances are the balance sheet's "
                    "(assets, liabilities and fund balance) after the earlier system's year close",
                    field="balances",
                )
            ]
        return []

    def _check_period(self, event_class: type, extra: Mapping[str, object]) -> list[LedgerError]:
        period = str(extra["period"])
        if self.merged:
            return [PeriodClosedError(f"book {self.key} was merged into another fund; it stays closed", field="year")]
        if issubclass(event_class, self.MonthClosed):
            month = int(period[5:7])
            if self.closed:
                return [
                    PeriodClosedError(
                        f"the {self.year} book of {self.key} is closed, with every month; nothing is left to close "
                        "(to correct it, reopen the year with a period_reopen document giving the reason)",
                        field="month",
                    )
                ]
            if month <= self.closed_through:
                return [PeriodClosedError(f"{period} is already closed in book {self.key}", field="month")]
            if month != self.closed_through + 1:
                return [
                    PeriodClosedError(
                        f"months close in order: close {self.year}-{self.closed_through + 1:02d} of book {self.key} "
                        f"before {period}",
                        field="month",
                    )
                ]
            return []
        if len(period) == 4:
            if not self.closed:
                return [
                    PeriodClosedError(
                        f"the {self.year} book of {self.key} is not closed, so there is no year to reopen; "
                        "to reopen a month, give month",
                        field="year",
                    )
                ]
            return []
        if self.closed:
            return [
                PeriodClosedError(
                    f"the {self.year} book of {self.key} is closed; reopen the year before one of its months",
                    field="month",
                )
            ]
        if int(period[5:7]) > self.closed_through:
            return [PeriodClosedError(f"{period} is not closed in book {self.key}", field="month")]
        return []

    def next_voucher(self, effective_date: date) -> int:
        return self.vouchers.get(effective_date.isoformat()[:7], 0) + 1

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
            voucher=self.next_voucher(effective_date) if postings else 0,
            **extra,
        )

    def lapse_postings(self) -> tuple[Posting, ...]:
        """What is left of the money held for hardship residents lapses into the fund at the year close.

        Dr 2001.01 / Cr 4501 其他收入 on tier 1, the tier the money was held for
        (渝府发〔2007〕113号 三(八); the lapse is our reading, docs/policy/resident.md
        reading 3). Empty when nothing is held.
        """
        held_fen = -self.balance_fen(HARDSHIP_HELD)
        if held_fen <= 0:
            return ()
        return (Posting(HARDSHIP_HELD, 0, held_fen), Posting(HELD_LAPSES_INTO, HELD_TIER, -held_fen))

    def closing_postings(self, before: Sequence[Posting] = ()) -> tuple[Posting, ...]:
        """Close every income and expense balance into the fund balance, tier by tier.

        ``before`` are postings recorded just before the close (the lapse of
        held money), counted as if already applied.
        """
        fund_balance = fund_balance_account(self.scheme)
        postings: list[Posting] = []
        net_by_tier: dict[int, int] = {}
        balances = dict(self.balances)
        for posting in before:
            balances[posting.key] = balances.get(posting.key, 0) + posting.amount_fen
        for key, balance_fen in sorted(balances.items()):
            if not balance_fen:
                continue
            account, tier = split_key(key)
            if CHART[account].is_income_or_expense:
                postings.append(Posting(account, tier, -balance_fen))
                net_by_tier[tier] = net_by_tier.get(tier, 0) + balance_fen
        for tier, net_fen in sorted(net_by_tier.items()):
            if net_fen:
                postings.append(Posting(fund_balance, tier, net_fen))
        return tuple(postings)

    def carried_balances(self, closing: Sequence[Posting]) -> tuple[Posting, ...]:
        """What next year's book receives once the closing postings are applied.

        The first close carries every balance; a close after the year was
        reopened carries only what changed since the last close.
        """
        after: dict[BalanceKey, int] = dict(self.balances)
        for posting in closing:
            after[posting.key] = after.get(posting.key, 0) + posting.amount_fen
        for key, carried_fen in self.carried_out.items():
            after[key] = after.get(key, 0) - carried_fen
        return tuple(
            Posting(*split_key(key), balance_fen) for key, balance_fen in sorted(after.items()) if balance_fen
        )

    def trial_balance(self) -> Mapping[BalanceKey, int]:
        return dict(self.balances)
