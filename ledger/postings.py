"""Postings and the checks every book applies to them.

A posting is one line of a double entry: an account, a tier (0 where the
account takes none) and a signed amount in fen, debit positive and credit
negative. The checks are pure functions that return errors as values, so a
document's every problem can be reported in one run.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import NamedTuple

from ledger.accounts import (
    BANK_ACCOUNTS,
    CHART,
    FISCAL_ACCOUNT,
    INCOME_ACCOUNT,
    NO_TIER,
    PAYMENT_ACCOUNT,
    TIERS,
    AccountCode,
    Scheme,
    takes_tier,
)
from ledger.errors import (
    AccountFlowError,
    AccountOverdrawnError,
    LedgerError,
    NonPositiveAmountError,
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


def check_overdraft(balances: Mapping[BalanceKey, int], postings: Sequence[Posting]) -> list[LedgerError]:
    """No bank account (1001–1005) may end below zero after the postings."""
    movement: dict[AccountCode, int] = {}
    for posting in postings:
        if posting.account in BANK_ACCOUNTS:
            movement[posting.account] = movement.get(posting.account, 0) + posting.amount_fen
    errors: list[LedgerError] = []
    for account, change_fen in sorted(movement.items()):
        after_fen = balances.get(balance_key(account, NO_TIER), 0) + change_fen
        if after_fen < 0:
            errors.append(
                AccountOverdrawnError(
                    f"{account} {CHART[account].name} would fall to {format_yuan(after_fen)}: "
                    f"too little by {format_yuan(-after_fen)}",
                    field="amount",
                )
            )
    return errors


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
