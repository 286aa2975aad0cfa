"""Roles, the actions each allows, and the regions a scope covers: pure, no store.

The matrix below is the whole of who may do what; ``docs/service.md``
("Roles and the 制单/审核/记账 flow") prints it. A grant gives a user one
role over one scope; a user may hold several. Separation of duties
(会计基础工作规范: 制单, 审核 and 记账 by different people) shows in the
matrix: the accountant enters but never approves, the checker approves but
never enters, the auditor and the finance officer only read, and the
administrator manages users and grants but reads and posts no books.
"""

from __future__ import annotations

from enum import Enum

from ledger.regions import RegionCode, is_region_code, municipality_of


class Action(str, Enum):
    """Everything a user may be allowed to do to the books of a region."""

    POST_DOCUMENT = "post_document"  # post a typed document that needs no approval (settlement, contribution, ...)
    PROPOSE = "propose"  # enter a document that needs 审核 (journal, reversal, period reopening, year close)
    CLOSE_PERIOD = "close_period"  # close a month
    APPROVE = "approve"  # approve or reject another user's proposal (审核)
    READ_BALANCES = "read_balances"  # balances, trial balance, the fiscal special account (财政专户)
    READ_SUBSIDIES = "read_subsidies"  # subsidy positions by government level
    READ_STATEMENTS = "read_statements"  # the official statements
    READ_VOUCHERS = "read_vouchers"  # the voucher register and a document with its voucher and computation
    READ_PROPOSALS = "read_proposals"  # proposals and their decisions
    READ_AUDIT = "read_audit"  # trace, events, chain links, the period log
    VERIFY = "verify"  # replay and check the books
    READ_SEALS = "read_seals"  # the seals of closed periods
    MANAGE_USERS = "manage_users"  # add, disable and reset users; grant and revoke roles; revoke tokens


class Role(str, Enum):
    """The posts a user can hold, each granted over a scope."""

    ACCOUNTANT = "accountant"  # 制单
    CHECKER = "checker"  # 审核
    AUDITOR = "auditor"
    FINANCE_OFFICER = "finance_officer"
    ADMINISTRATOR = "administrator"


A = Action
_READ_BOOKS = frozenset({A.READ_BALANCES, A.READ_SUBSIDIES, A.READ_STATEMENTS, A.READ_VOUCHERS, A.READ_PROPOSALS})

# The one table of who may do what (docs/service.md prints it).
ROLE_ACTIONS: dict[Role, frozenset[Action]] = {
    Role.ACCOUNTANT: _READ_BOOKS | {A.POST_DOCUMENT, A.PROPOSE, A.CLOSE_PERIOD},
    Role.CHECKER: _READ_BOOKS | {A.APPROVE},
    Role.AUDITOR: _READ_BOOKS | {A.READ_AUDIT, A.VERIFY, A.READ_SEALS},
    Role.FINANCE_OFFICER: frozenset({A.READ_BALANCES, A.READ_SUBSIDIES, A.READ_STATEMENTS}),
    Role.ADMINISTRATOR: frozenset({A.MANAGE_USERS}),
}


def roles_allowing(action: Action) -> tuple[Role, ...]:
    """The roles whose grant allows ``action``, in the matrix's order."""
    return tuple(role for role, actions in ROLE_ACTIONS.items() if action in actions)


def province_of(code: RegionCode) -> RegionCode:
    """The province (省级, GB/T 2260: the first two digits and ``0000``) of a region code."""
    return code[:2] + "0000"


def covers(scope: RegionCode, region: RegionCode) -> bool:
    """Whether a grant over ``scope`` reaches the books of ``region``.

    A scope is a district (itself only), a municipality (itself and every
    district whose ``municipality_of`` it is) or a province (every code with
    its first two digits). For the four municipalities under the central
    government (北京, 天津, 上海, 重庆) the municipality and the province are
    the same code (``500000``) and cover the same districts.
    """
    return region == scope or municipality_of(region) == scope or province_of(region) == scope


def covers_book(scope: RegionCode, book: str) -> bool:
    """Whether a grant over ``scope`` reaches the book written ``REGION/SCHEME/YEAR`` (a verify finding's book)."""
    region = book.split("/")[0]
    return is_region_code(region) and covers(scope, region)


def scope_kind(scope: RegionCode) -> str:
    """``province``, ``municipality`` or ``district``: what a grant over ``scope`` covers."""
    if province_of(scope) == scope:
        return "province"
    if municipality_of(scope) == scope:
        return "municipality"
    return "district"


def allows(grants: list[tuple[Role, RegionCode]], action: Action, region: RegionCode) -> bool:
    """Whether any of these (role, scope) grants allows ``action`` on the books of ``region``."""
    if not is_region_code(region):
        return False
    return any(action in ROLE_ACTIONS[role] and covers(scope, region) for role, scope in grants)
