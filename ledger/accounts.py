"""The chart of accounts for social-insurance funds (财会〔2017〕28号).

Codes and names follow 财会〔2017〕28号 (listed in docs/documents.md). Sub-accounts after the dot are
ours. Postings go to leaf accounts only. 5501 and 5502 are our codes for the
assistance book's own expenses, kept apart from insurance benefits as
财办〔2018〕43号 requires; the national chart leaves their numbering to us.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

AccountCode = str
Scheme = str

SCHEMES: tuple[Scheme, ...] = ("resident", "assistance", "worker", "adjustment", "urban_resident", "ncms")
# 城镇居民医保 and 新农合 before a merger into one resident fund (郴政办发〔2016〕37号); their
# books are untiered and close when their balances move into the resident book.
PRE_MERGER_SCHEMES: tuple[Scheme, ...] = ("urban_resident", "ncms")
BENEFIT_SCHEMES: tuple[Scheme, ...] = ("resident", "worker", "urban_resident", "ncms")
TIERED_SCHEME: Scheme = "resident"
NO_TIER = 0
TIERS = (1, 2)


class AccountClass(str, Enum):
    ASSET = "asset"
    LIABILITY = "liability"
    NET_ASSETS = "net assets"
    INCOME = "income"
    EXPENSE = "expense"


DEBIT_NORMAL = {AccountClass.ASSET, AccountClass.EXPENSE}


@dataclass(frozen=True)
class Account:
    """One leaf account of the chart.

    Attributes:
      code: the account number, with our sub-account after the dot.
      name: the Chinese name used on the official statements.
      account_class: asset, liability, net assets, income or expense.
      schemes: the schemes whose books may use it.
    """

    code: AccountCode
    name: str
    account_class: AccountClass
    schemes: tuple[Scheme, ...] = SCHEMES

    @property
    def debit_normal(self) -> bool:
        return self.account_class in DEBIT_NORMAL

    @property
    def is_bank(self) -> bool:
        return self.code in BANK_ACCOUNTS

    @property
    def is_income_or_expense(self) -> bool:
        return self.account_class in (AccountClass.INCOME, AccountClass.EXPENSE)


A, L, N, I, E = (
    AccountClass.ASSET,
    AccountClass.LIABILITY,
    AccountClass.NET_ASSETS,
    AccountClass.INCOME,
    AccountClass.EXPENSE,
)
NOT_WORKER = ("resident", "assistance", "adjustment", "urban_resident", "ncms")

_CHART = [
    Account("1001", "库存现金", A),
    Account("1002", "收入户存款", A),
    Account("1003", "财政专户存款", A),
    Account("1004", "支出户存款", A),
    Account("1005", "国库存款", A),
    Account("1101", "暂付款", A),
    Account("1101.01", "暂付款—异地就医垫付", A, ("resident", "worker")),
    Account("1201", "债券投资", A),
    Account("2001", "暂收款", L),
    Account("2001.01", "暂收款—困难居民记账资金", L, ("resident",)),
    Account("2001.02", "暂收款—异地就医清算", L, ("resident", "worker")),
    Account("2101", "借入款项", L),
    Account("3001", "一般基金结余", N, NOT_WORKER),
    Account("3001.01", "一般基金结余—统筹基金", N, ("worker",)),
    Account("3001.02", "一般基金结余—个人账户", N, ("worker",)),
    Account("3101", "风险基金结余", N),
    Account("4001.01", "社会保险费收入—个人缴费", I),
    Account("4001.02", "社会保险费收入—城乡医疗救助资助收入", I, ("resident",)),
    Account("4001.03", "社会保险费收入—财政代缴", I),
    Account("4101.01", "财政补贴收入—中央", I),
    Account("4101.02", "财政补贴收入—省级（直辖市）", I),
    Account("4101.03", "财政补贴收入—地市", I),
    Account("4101.04", "财政补贴收入—区县", I),
    Account("4201", "利息收入", I),
    Account("4401", "上级补助收入", I),
    Account("4402", "下级上解收入", I),
    Account("4501", "其他收入", I),
    Account("5001.01", "社会保险待遇支出—住院", E, BENEFIT_SCHEMES),
    Account("5001.02", "社会保险待遇支出—门诊", E, BENEFIT_SCHEMES),
    Account("5001.03", "社会保险待遇支出—其他", E, BENEFIT_SCHEMES),
    Account("5101", "大病保险支出", E, BENEFIT_SCHEMES),
    Account("5301", "上解上级支出", E),
    Account("5302", "补助下级支出", E),
    Account("5401", "其他支出", E),
    Account("5501", "资助参保支出", E, ("assistance",)),
    Account("5502.01", "医疗救助支出—门诊救助", E, ("assistance",)),
    Account("5502.02", "医疗救助支出—住院救助", E, ("assistance",)),
    Account("5502.03", "医疗救助支出—重特大疾病救助", E, ("assistance",)),
    Account("5502.04", "医疗救助支出—大额费用救助", E, ("assistance",)),
]

CHART: dict[AccountCode, Account] = {account.code: account for account in _CHART}

CASH, INCOME_ACCOUNT, FISCAL_ACCOUNT, PAYMENT_ACCOUNT, TREASURY = "1001", "1002", "1003", "1004", "1005"
BANK_ACCOUNTS = frozenset({CASH, INCOME_ACCOUNT, FISCAL_ACCOUNT, PAYMENT_ACCOUNT, TREASURY})
FUND_BALANCE = "3001"
# Money held for tier-1 urban hardship residents (记账, 渝府发〔2007〕113号 三(八)): theirs, not the
# pooled fund's, so a liability until it pays their own share or lapses at the year's end
# (docs/policy/resident.md, reading 3).
HARDSHIP_HELD = "2001.01"
# Cross-district care (渝办发〔2011〕293号): what the district of care advanced for another
# district's insured, and what each district owes or is owed through the municipal
# settlement platform (docs/policy/cross-district.md).
CARE_ADVANCED = "1101.01"
CARE_CLEARING = "2001.02"
# Accounts that never cross to the other side: +1 may not go below zero (a debit
# balance), -1 may not go above it (a credit balance). Drawing more than is held,
# or settling more than was advanced, is refused.
ONE_SIDED_ACCOUNTS: dict[AccountCode, int] = {HARDSHIP_HELD: -1, CARE_ADVANCED: 1, CARE_CLEARING: -1}
WORKER_POOLED_BALANCE = "3001.01"

# Names the documents may use for the bank accounts, besides their codes.
BANK_ACCOUNT_NAMES = {
    "cash": CASH,
    "income": INCOME_ACCOUNT,
    "fiscal": FISCAL_ACCOUNT,
    "payment": PAYMENT_ACCOUNT,
    "treasury": TREASURY,
}

SUBSIDY_LEVELS = {
    "central": "4101.01",
    "provincial": "4101.02",
    "prefecture": "4101.03",
    "county": "4101.04",
}

CLAIM_CATEGORIES = {"inpatient": "5001.01", "outpatient": "5001.02", "other": "5001.03"}

ASSISTANCE_CATEGORIES = {
    "outpatient": "5502.01",
    "inpatient": "5502.02",
    "major_disease": "5502.03",
    "large_expense": "5502.04",
}
SPONSORSHIP_EXPENSE = "5501"
SPONSORED_CONTRIBUTION = "4001.02"

CONTRIBUTION_PAYERS = {"individual": "4001.01", "finance": "4001.03"}


def fund_balance_account(scheme: Scheme) -> AccountCode:
    """The 3001 leaf that income and expense close into for a scheme."""
    return WORKER_POOLED_BALANCE if scheme == "worker" else FUND_BALANCE


def takes_tier(scheme: Scheme, account: Account) -> bool:
    """Whether postings to this account in this scheme's book carry a tier.

    Resident books keep tier 1 and tier 2 apart on everything that touches the
    fund's income, expense and fund balance; bank accounts, advances and
    liabilities are shared.
    """
    return scheme == TIERED_SCHEME and account.account_class in (
        AccountClass.INCOME,
        AccountClass.EXPENSE,
        AccountClass.NET_ASSETS,
    )
