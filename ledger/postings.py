"""Postings and the checks every book applies to them.

A posting is one line of a double entry: an account, a tier (0 where the
account takes none) and a signed amount in fen, debit positive and credit
negative. The checks are pure functions that return errors as values, so a
document's every problem can be reported in one run.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import NamedTuple

from ledger.accounts import (
    BANK_ACCOUNTS,
    CHART,
    FISCAL_ACCOUNT,
    INCOME_ACCOUNT,
    NO_TIER,
    ONE_SIDED_ACCOUNTS,
    PAYMENT_ACCOUNT,
    TIERS,
    AccountCode,
    Scheme,
    takes_tier,
)
from ledger.errors import (
    AccountFlowError,
    AccountOverdrawnError,
    BookLimitError,
    HeldOverdrawnError,
    LedgerError,
    NonPositiveAmountError,
    ReversalDateError,
    SelfEntryError,
    TierError,
    UnbalancedEntryError,
    UnknownAccountError,
)
from ledger.money import format_yuan

Tier = int
BalanceKey = str  # "account:tier", e.g. "4001.01:1"; JSON-safe for snapshots.


class Posting(NamedTuple):
    """One line of a double entry.

    Attributes:
      account: a leaf account code from the chart.
      tier: 1 or 2 on a resident book's income, expense and fund balance; else 0.
      amount_fen: debit positive, credit negative; never zero.
    """

    account: AccountCode
    tier: Tier
    amount_fen: int

    @property
    def key(self) -> BalanceKey:
        return balance_key(self.account, self.tier)

    def mirrored(self) -> "Posting":
        return Posting(self.account, self.tier, -self.amount_fen)

    def describe(self) -> str:
        side = "Dr" if self.amount_fen > 0 else "Cr"
        tier = f" tier {self.tier}" if self.tier else ""
        return f"{side} {self.account}{tier} {format_yuan(abs(self.amount_fen))}"


def balance_key(account: AccountCode, tier: Tier) -> BalanceKey:
    return f"{account}:{tier}"


def split_key(key: BalanceKey) -> tuple[AccountCode, Tier]:
    account, tier = key.rsplit(":", 1)
    return account, int(tier)


def postings_from_rows(rows: Iterable[Sequence[object]]) -> tuple[Posting, ...]:
    """Rebuild postings from their stored form (lists after a JSON round trip)."""
    return tuple(Posting(str(row[0]), int(row[1]), int(row[2])) for row in rows)  # type: ignore[call-overload]


def postings_to_rows(postings: Iterable[Posting]) -> list[list[object]]:
    return [[p.account, p.tier, p.amount_fen] for p in postings]


def check_lines(scheme: Scheme, postings: Sequence[Posting]) -> list[LedgerError]:
    """Each line names a chart account the scheme may use, with the right tier and a non-zero amount."""
    errors: list[LedgerError] = []
    for posting in postings:
        account = CHART.get(posting.account)
        if account is None or scheme not in account.schemes:
            errors.append(
                UnknownAccountError(
                    f"account {posting.account} is not in the chart of accounts of a {scheme} book",
                    field="postings",
                )
            )
            continue
        if takes_tier(scheme, account) and posting.tier not in TIERS:
            errors.append(
                TierError(
                    f"{posting.account} {account.name} in a resident book needs tier 1 or 2",
                    field="tier",
                )
            )
        elif not takes_tier(scheme, account) and posting.tier != NO_TIER:
            errors.append(
                TierError(
                    f"{posting.account} {account.name} in a {scheme} book takes no tier, got tier {posting.tier}",
                    field="tier",
                )
            )
        if posting.amount_fen == 0:
            errors.append(NonPositiveAmountError(f"a posting to {posting.account} is zero", field="postings"))
    return errors


def check_balanced(postings: Sequence[Posting]) -> list[LedgerError]:
    debit_fen = sum(p.amount_fen for p in postings if p.amount_fen > 0)
    credit_fen = -sum(p.amount_fen for p in postings if p.amount_fen < 0)
    if not postings:
        return [UnbalancedEntryError("a document must carry at least one debit and one credit", field="postings")]
    if debit_fen != credit_fen:
        difference = debit_fen - credit_fen
        more = "debits exceed credits" if difference > 0 else "credits exceed debits"
        return [
            UnbalancedEntryError(
                f"debits {format_yuan(debit_fen)} and credits {format_yuan(credit_fen)} differ: "
                f"{more} by {format_yuan(abs(difference))}",
                field="postings",
            )
        ]
    return []


def check_overdraft(
    balances: Mapping[BalanceKey, int],
    bank_days: Mapping[BalanceKey, Mapping[str, int]],
    effective_date: date,
    postings: Sequence[Posting],
    last_days: Mapping[BalanceKey, str] | None = None,
) -> list[LedgerError]:
    """No bank account (1001–1005) may be below zero at the end of the document's day or of any later day.

    ``balances`` are the book's balances in fen (every date), ``bank_days``
    each bank account's net movement in fen per ISO date (``YYYY-MM-DD``).
    A back-dated document is judged against every later day already posted,
    so the rule holds at every effective date, not only in posting order.
    Movements of one day net, as on a bank's daily statement: the balance
    judged is the one at the end of each day, whatever order that day's
    documents were posted in. Each refusal names the account, the first
    date it would fall below zero and the shortfall in yuan (the deepest
    deficit the document would cause). ``last_days``, when given, holds
    for each bank account a date no day of ``bank_days`` is after (the
    book's ``bank_last_day``): a document dated on or after it has no later
    day, so the days are not scanned.
    Raises nothing; returns ``AccountOverdrawnError`` values.
    """
    movement: dict[BalanceKey, int] = {}
    for posting in postings:
        if posting.account in BANK_ACCOUNTS:
            movement[posting.key] = movement.get(posting.key, 0) + posting.amount_fen
    day = effective_date.isoformat()
    errors: list[LedgerError] = []
    for key, change_fen in sorted(movement.items()):
        if change_fen >= 0:
            continue
        if last_days is not None and last_days.get(key, "") <= day:
            later: list[tuple[str, int]] = []
        else:
            later = sorted((d, fen) for d, fen in bank_days.get(key, {}).items() if d > day)
        running_fen = balances.get(key, 0) - sum(fen for _, fen in later) + change_fen
        first: tuple[str, int] | None = (day, running_fen) if running_fen < 0 else None
        lowest = (day, running_fen)
        for later_day, fen in later:
            running_fen += fen
            if running_fen < 0 and first is None:
                first = (later_day, running_fen)
            if running_fen < lowest[1]:
                lowest = (later_day, running_fen)
        if first is not None:
            errors.append(_overdrawn(key, first, lowest))
    return errors


def _overdrawn(key: BalanceKey, first: tuple[str, int], lowest: tuple[str, int]) -> AccountOverdrawnError:
    account, _ = split_key(key)
    where = f"{account} {CHART[account].name} would fall to {format_yuan(first[1])} on {first[0]}"
    if lowest != first:
        where += f" and to {format_yuan(lowest[1])} on {lowest[0]}"
    return AccountOverdrawnError(f"{where}: too little by {format_yuan(-lowest[1])}", field="amount")


def check_one_sided(balances: Mapping[BalanceKey, int], postings: Sequence[Posting]) -> list[LedgerError]:
    """No account of ``ONE_SIDED_ACCOUNTS`` crosses to its other side once these postings are applied.

    ``balances`` are the book's balances in fen (debit positive). The money held
    for hardship residents (2001.01) cannot pay out more than it received; a
    district cannot be repaid more cross-district advances (1101.01) than it
    made, nor settle more clearing (2001.02) than it owes. Returns
    ``HeldOverdrawnError`` values naming the account and by how much.
    """
    movement: dict[BalanceKey, int] = {}
    for posting in postings:
        if posting.account in ONE_SIDED_ACCOUNTS:
            movement[posting.key] = movement.get(posting.key, 0) + posting.amount_fen
    errors: list[LedgerError] = []
    for key, change_fen in sorted(movement.items()):
        account, _ = split_key(key)
        side = ONE_SIDED_ACCOUNTS[account]
        after_fen = side * (balances.get(key, 0) + change_fen)
        if after_fen < 0:
            held_fen = side * balances.get(key, 0)
            errors.append(
                HeldOverdrawnError(
                    f"{account} {CHART[account].name} holds {format_yuan(max(held_fen, 0))}; this would take it "
                    f"{format_yuan(-after_fen)} past zero: too much by {format_yuan(-after_fen)}",
                    field="amount",
                )
            )
    return errors


def check_self_entry(postings: Sequence[Posting]) -> list[LedgerError]:
    """No entry debits and credits the same account and tier: it would move nothing but inflate the turnover."""
    debited = {p.key for p in postings if p.amount_fen > 0}
    both = sorted(debited & {p.key for p in postings if p.amount_fen < 0})
    return [
        SelfEntryError(
            f"{account}{f' tier {tier}' if tier else ''} is both debited and credited: an entry to and from the "
            "same account moves nothing",
            field="postings",
        )
        for account, tier in map(split_key, both)
    ]


# Every book's debit turnover (the sum of every debit it ever posted) stays
# within this limit. Every event is balanced, so a book's credit turnover
# equals its debit turnover, and every account's debits, credits and balance
# are within it too: one bound covers every figure of a book and every
# projection row (proj_balances, proj_fiscal_accounts) folded from it.
# 10^15 fen is ten trillion yuan, about thirty times what every medical
# insurance fund of the country takes in a year; a sum of one account over
# 9,000 books still fits a signed 64-bit integer (9.22 × 10^18), which is
# what the projections' BigInteger columns and SQLite's sum() hold.
MAXIMUM_BOOK_TURNOVER_FEN = 10**15


def check_turnover(debit_total_fen: int, postings: Sequence[Posting]) -> list[LedgerError]:
    """The book's debit turnover after these postings stays within ``MAXIMUM_BOOK_TURNOVER_FEN``."""
    after_fen = debit_total_fen + sum(p.amount_fen for p in postings if p.amount_fen > 0)
    if after_fen <= MAXIMUM_BOOK_TURNOVER_FEN:
        return []
    return [
        BookLimitError(
            f"the book's debit turnover would reach {format_yuan(after_fen)}, above its limit of "
            f"{format_yuan(MAXIMUM_BOOK_TURNOVER_FEN)} (docs/design.md, Limits)",
            field="amount",
        )
    ]


def check_reversal_date(reverses: str, original_date: date, reversal_date: date) -> list[LedgerError]:
    """A reversal is dated on or after the document it reverses, so no period shows the undoing before the doing."""
    if reversal_date >= original_date:
        return []
    return [
        ReversalDateError(
            f"{reverses} is dated {original_date.isoformat()}; its reversal cannot be dated before it "
            f"({reversal_date.isoformat()})",
            field="date",
        )
    ]


# What the income account may pay into, and what the payment account may
# receive from (财社〔2017〕144号 第39–42条). Refunds by the original channel
# and reversals of earlier documents are exempt: they undo a movement.
INCOME_ACCOUNT_MAY_PAY = frozenset({FISCAL_ACCOUNT, "5301"})
PAYMENT_ACCOUNT_MAY_RECEIVE = frozenset({FISCAL_ACCOUNT, "4401", "4201"})


def check_account_flow(postings: Sequence[Posting]) -> list[LedgerError]:
    debited = {p.account for p in postings if p.amount_fen > 0}
    credited = {p.account for p in postings if p.amount_fen < 0}
    errors: list[LedgerError] = []
    if INCOME_ACCOUNT in credited:
        wrong = sorted(debited - INCOME_ACCOUNT_MAY_PAY)
        if wrong:
            errors.append(
                AccountFlowError(
                    f"the income account 1002 may pay only into the fiscal special account 1003 or to the "
                    f"level above, not to {', '.join(wrong)}",
                    field="postings",
                )
            )
    if PAYMENT_ACCOUNT in debited:
        wrong = sorted(credited - PAYMENT_ACCOUNT_MAY_RECEIVE)
        if wrong:
            errors.append(
                AccountFlowError(
                    f"the payment account 1004 may receive only from the fiscal special account 1003, the "
                    f"level above or its own interest, not from {', '.join(wrong)}",
                    field="postings",
                )
            )
    return errors
