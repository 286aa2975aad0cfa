"""The layouts of the official statements: 资产负债表 (会社保01表) and 收支表 (会社保02表).

Each form is a fixed list of lines with their 行次 (row numbers), Chinese
names, the accounts they sum and the arithmetic that ties them together, laid
out like the forms of 社会保险基金会计制度 (财会〔2017〕28号). The row numbers
stay the same whatever the fund, so a published statement can be compared
line by line; a line whose accounts the fund's books may not use (门诊救助 on
a resident fund, 城乡医疗救助资助收入 on a worker fund) is left off.

Where the national forms leave detail to the agency, the lines follow our
chart (ledger/accounts.py): the 其中 lines under 社会保险费收入 and 财政补贴收入
are our sub-accounts, and the assistance fund's own expenses (5501, 5502.xx)
are its own lines, kept apart from insurance benefits (财办〔2018〕43号).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from ledger.accounts import CHART, Scheme

BALANCE_SHEET = "01"
INCOME_STATEMENT = "02"
FORMS = (BALANCE_SHEET, INCOME_STATEMENT)

# Where a line's figure comes from.
ACCOUNT = "account"  # the accounts' balances (01) or the period's income and expense (02)
FORMULA = "formula"  # other lines of the same column: plus minus minus
OPENING_FUND = "opening_fund"  # 02: the fund balance carried into the year
OTHER_FUND = "other_fund"  # 02: fund movements that are neither income nor expense

# Sides of the balance sheet in its two-sided layout.
LEFT, RIGHT = "assets", "liabilities_and_fund"

LineCode = str


@dataclass(frozen=True)
class LineSpec:
    """One line of an official statement.

    Attributes:
      row: the 行次, fixed for the form whatever the fund.
      code: a stable name for the line: the account code for an account's
        line (``1003``, ``4001.01``; ``3001:1`` for tier 1 of the fund
        balance), a word for a total (``assets_total``, ``surplus``).
      name: the Chinese line name as printed on the form.
      accounts: the account codes summed; a code also takes its
        sub-accounts (``4001`` sums ``4001.01``–``4001.03``).
      sign: +1 where the line shows a debit balance (assets, expense),
        −1 where it shows a credit (liabilities, fund, income).
      plus, minus: the lines this line equals the sum (less the minus
        lines) of. A total is computed that way; an account line that has
        them is checked against them (its 其中 lines must add up to it).
      level: 0 for a total or heading line, 1 for an account line, 2 for a
        其中 (of which) line.
      tier: the resident fund's tier a 其中 line of 一般基金结余 shows.
      schemes: the funds that show the line; None to follow the chart.
      source: ``account``, ``formula``, ``opening_fund`` or ``other_fund``.
      side: on the balance sheet, ``assets`` (left) or
        ``liabilities_and_fund`` (right).
      heading: a section heading printed above the line (资产：, 负债：, 基金：).
    """

    row: int
    code: LineCode
    name: str
    accounts: tuple[str, ...] = ()
    sign: int = 1
    plus: tuple[LineCode, ...] = ()
    minus: tuple[LineCode, ...] = ()
    level: int = 1
    tier: int | None = None
    schemes: tuple[Scheme, ...] | None = None
    source: str = ACCOUNT
    side: str = ""
    heading: str = ""

    @property
    def is_total(self) -> bool:
        return self.level == 0

    def takes(self, account: str) -> bool:
        """Whether this line sums the leaf account."""
        return any(account == code or account.startswith(code + ".") for code in self.accounts)

    def shown_for(self, schemes: Collection[Scheme]) -> bool:
        if self.schemes is not None:
            return any(scheme in self.schemes for scheme in schemes)
        if self.source != ACCOUNT:
            return True
        return any(self.takes(leaf.code) and any(s in leaf.schemes for s in schemes) for leaf in CHART.values())


@dataclass(frozen=True)
class Equality:
    """Two lines of a form that must show the same figure in every column."""

    left: LineCode
    right: LineCode
    name: str


@dataclass(frozen=True)
class Form:
    """An official statement's layout.

    Attributes:
      code: ``01`` or ``02``.
      number: the form number printed on it (会社保01表).
      title: 资产负债表 or 收支表.
      lines: every line the form may show, in printed order.
      equalities: lines that must agree (资产合计 = 负债和基金合计).
    """

    code: str
    number: str
    title: str
    lines: tuple[LineSpec, ...]
    equalities: tuple[Equality, ...] = ()

    def shown(self, schemes: Collection[Scheme]) -> tuple[LineSpec, ...]:
        return tuple(line for line in self.lines if line.shown_for(schemes))

    def line(self, code: LineCode) -> LineSpec:
        for line in self.lines:
            if line.code == code:
                return line
        raise KeyError(code)

    def by_row(self, row: int, schemes: Collection[Scheme]) -> LineSpec | None:
        for line in self.shown(schemes):
            if line.row == row:
                return line
        return None


def _debit(row: int, code: str, name: str, level: int = 1, **more: object) -> LineSpec:
    return LineSpec(row, code, name, (code,), 1, level=level, **more)  # type: ignore[arg-type]


def _credit(row: int, code: str, name: str, level: int = 1, **more: object) -> LineSpec:
    return LineSpec(row, code, name, (code,), -1, level=level, **more)  # type: ignore[arg-type]


ASSET_LINES = ("1001", "1002", "1003", "1004", "1005", "1101", "1201")

BALANCE_SHEET_FORM = Form(
    code=BALANCE_SHEET,
    number="会社保01表",
    title="资产负债表",
    lines=(
        _debit(1, "1001", "库存现金", side=LEFT, heading="资产："),
        _debit(2, "1002", "收入户存款", side=LEFT),
        _debit(3, "1003", "财政专户存款", side=LEFT),
        _debit(4, "1004", "支出户存款", side=LEFT),
        _debit(5, "1005", "国库存款", side=LEFT),
        _debit(6, "1101", "暂付款", side=LEFT),
        _debit(7, "1201", "债券投资", side=LEFT),
        LineSpec(8, "assets_total", "资产合计", sign=1, plus=ASSET_LINES, level=0, source=FORMULA, side=LEFT),
        _credit(9, "2001", "暂收款", side=RIGHT, heading="负债："),
        # Our 其中 line, numbered after the national rows so that they keep their numbers: the money
        # held for tier-1 hardship residents (记账, 渝府发〔2007〕113号 三(八)), theirs and not the fund's.
        _credit(18, "2001.01", "其中：困难居民记账资金", level=2, side=RIGHT),
        _credit(10, "2101", "借入款项", side=RIGHT),
        LineSpec(11, "liabilities_total", "负债合计", sign=-1, plus=("2001", "2101"), level=0, source=FORMULA, side=RIGHT),
        _credit(12, "3001", "一般基金结余", side=RIGHT, heading="基金："),
        # The resident fund keeps its tiers apart (不同筹资水平要分别列账核算); the worker fund its
        # pooled fund and individual accounts. 其中 lines are "of which": an untiered balance
        # in a consolidation (the adjustment fund's) is in 一般基金结余 but on neither tier line.
        LineSpec(13, "3001:1", "其中：一档", ("3001",), -1, level=2, tier=1, schemes=("resident",), side=RIGHT),
        LineSpec(14, "3001:2", "二档", ("3001",), -1, level=2, tier=2, schemes=("resident",), side=RIGHT),
        LineSpec(13, "3001.01", "其中：统筹基金", ("3001.01",), -1, level=2, schemes=("worker",), side=RIGHT),
        LineSpec(14, "3001.02", "个人账户", ("3001.02",), -1, level=2, schemes=("worker",), side=RIGHT),
        _credit(15, "3101", "风险基金结余", side=RIGHT),
        LineSpec(16, "fund_total", "基金合计", sign=-1, plus=("3001", "3101"), level=0, source=FORMULA, side=RIGHT),
        LineSpec(
            17,
            "liabilities_and_fund_total",
            "负债和基金合计",
            sign=-1,
            plus=("liabilities_total", "fund_total"),
            level=0,
            source=FORMULA,
            side=RIGHT,
        ),
    ),
    equalities=(Equality("assets_total", "liabilities_and_fund_total", "资产合计 = 负债和基金合计"),),
)

INCOME_LINES = ("4001", "4101", "4201", "4401", "4402", "4501")
EXPENSE_LINES = ("5001", "5101", "5301", "5302", "5401", "5501", "5502")

INCOME_STATEMENT_FORM = Form(
    code=INCOME_STATEMENT,
    number="会社保02表",
    title="收支表",
    lines=(
        LineSpec(1, "income_total", "一、基金收入", sign=-1, plus=INCOME_LINES, level=0, source=FORMULA),
        LineSpec(2, "4001", "社会保险费收入", ("4001",), -1, plus=("4001.01", "4001.02", "4001.03")),
        _credit(3, "4001.01", "其中：个人缴费", level=2),
        _credit(4, "4001.02", "城乡医疗救助资助收入", level=2),
        _credit(5, "4001.03", "财政代缴", level=2),
        LineSpec(6, "4101", "财政补贴收入", ("4101",), -1, plus=("4101.01", "4101.02", "4101.03", "4101.04")),
        _credit(7, "4101.01", "其中：中央", level=2),
        _credit(8, "4101.02", "省级（直辖市）", level=2),
        _credit(9, "4101.03", "地市", level=2),
        _credit(10, "4101.04", "区县", level=2),
        _credit(11, "4201", "利息收入"),
        _credit(12, "4401", "上级补助收入"),
        _credit(13, "4402", "下级上解收入"),
        _credit(14, "4501", "其他收入"),
        LineSpec(15, "expense_total", "二、基金支出", sign=1, plus=EXPENSE_LINES, level=0, source=FORMULA),
        LineSpec(16, "5001", "社会保险待遇支出", ("5001",), 1, plus=("5001.01", "5001.02", "5001.03")),
        _debit(17, "5001.01", "其中：住院", level=2),
        _debit(18, "5001.02", "门诊", level=2),
        _debit(19, "5001.03", "其他", level=2),
        _debit(20, "5101", "大病保险支出"),
        _debit(21, "5301", "上解上级支出"),
        _debit(22, "5302", "补助下级支出"),
        _debit(23, "5401", "其他支出"),
        _debit(24, "5501", "资助参保支出"),
        LineSpec(25, "5502", "医疗救助支出", ("5502",), 1, plus=("5502.01", "5502.02", "5502.03", "5502.04")),
        _debit(26, "5502.01", "其中：门诊救助", level=2),
        _debit(27, "5502.02", "住院救助", level=2),
        _debit(28, "5502.03", "重特大疾病救助", level=2),
        _debit(29, "5502.04", "大额费用救助", level=2),
        LineSpec(30, "surplus", "三、本期基金结余", sign=-1, plus=("income_total",), minus=("expense_total",), level=0, source=FORMULA),
        LineSpec(31, "opening_fund", "四、年初基金结余", sign=-1, level=0, source=OPENING_FUND),
        LineSpec(32, "other_fund", "五、其他基金变动", sign=-1, level=0, source=OTHER_FUND),
        LineSpec(
            33,
            "closing_fund",
            "六、期末基金结余",
            sign=-1,
            plus=("opening_fund", "surplus", "other_fund"),
            level=0,
            source=FORMULA,
        ),
    ),
)

FORMS_BY_CODE = {BALANCE_SHEET: BALANCE_SHEET_FORM, INCOME_STATEMENT: INCOME_STATEMENT_FORM}

# The 02 lines that hold a fund balance rather than a flow: a month column leaves them blank.
FUND_BALANCE_LINES = ("opening_fund", "other_fund", "closing_fund")

FUND_NAMES: dict[Scheme, str] = {
    "resident": "城乡居民基本医疗保险基金",
    "assistance": "城乡医疗救助基金",
    "worker": "职工基本医疗保险基金",
    "adjustment": "医疗保险市级调剂金",
    "urban_resident": "城镇居民基本医疗保险基金",
    "ncms": "新型农村合作医疗基金",
}


def form_of(code: str) -> Form:
    return FORMS_BY_CODE[code]
