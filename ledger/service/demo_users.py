"""The demo store's users: one per role over the demo municipality, all with one documented password.

Only ``ledger demo`` makes them, and only on the store it fills: a real
store's users are added with ``ledger user add`` and a password of their own.
"""

from __future__ import annotations

from sqlalchemy import Engine

from ledger.access import grants, users
from ledger.access.errors import UserError
from ledger.demo import DEMO_MUNICIPALITY

DEMO_PASSWORD = "demo-password-2013"
# username, display name, role: each granted over the demo municipality (重庆市, 500000) and so over its districts.
DEMO_USERS = (
    ("accountant", "张会计", "accountant"),
    ("checker", "李审核", "checker"),
    ("auditor", "王审计", "auditor"),
    ("finance", "赵财政", "finance_officer"),
    ("admin", "系统管理员", "administrator"),
)


def add_demo_users(engine: Engine) -> list[str]:
    """Add the demo users that are not there yet, each with its grant; return the usernames added."""
    added = []
    for username, display_name, role in DEMO_USERS:
        try:
            users.add_user(engine, username, display_name, DEMO_PASSWORD, by="demo")
        except UserError:
            continue  # there already (a demo run before)
        grants.grant(engine, username, role, DEMO_MUNICIPALITY, by="demo")
        added.append(username)
    return added
