"""The tables of users, logins, tokens, grants and proposals.

They are not rebuilt from events: each row is the record itself (who was
given which role, who approved which proposal), so they are created with the
document registry's tables, in the same schema and under the same lock
(``ledger.persistence.create_schema``), on SQLite and PostgreSQL alike.
Times are UTC ISO text of one fixed width (``YYYY-MM-DDTHH:MM:SS.ffffff+00:00``,
as in ``proj_lines``), which order correctly as text on both backends.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Boolean, Column, Index, Integer, String, Table, Text, text

from ledger.registry import metadata

USERNAME_LENGTH = 64
TIME_LENGTH = 32

users = Table(
    "ledger_users",
    metadata,
    Column("username", String(USERNAME_LENGTH), primary_key=True),
    Column("display_name", String(200), nullable=False),
    # An argon2id hash in its PHC string form ($argon2id$v=19$m=...$salt$hash); never the password.
    Column("password_hash", String(200), nullable=False),
    Column("disabled", Boolean, nullable=False),
    Column("created_at", String(TIME_LENGTH), nullable=False),
    Column("created_by", String(USERNAME_LENGTH), nullable=False),
    Column("changed_at", String(TIME_LENGTH), nullable=False),
    Column("changed_by", String(USERNAME_LENGTH), nullable=False),
)

# One row per login attempt, kept for ``throttle.ATTEMPT_RETENTION``: what the rate limit counts.
login_attempts = Table(
    "ledger_login_attempts",
    metadata,
    Column("attempt_id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(USERNAME_LENGTH), nullable=False),
    Column("client_address", String(64), nullable=False),
    Column("attempted_at", String(TIME_LENGTH), nullable=False),
    Column("succeeded", Boolean, nullable=False),
    Index("ledger_login_attempts_by_username", "username", "attempted_at"),
    Index("ledger_login_attempts_by_address", "client_address", "attempted_at"),
    Index("ledger_login_attempts_by_time", "attempted_at"),
)

# Sessions of the web page and named bearer tokens of integrations: only the SHA-256 of the secret is kept.
tokens = Table(
    "ledger_tokens",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    # A public handle to list and revoke a token by, without its secret.
    Column("token_id", String(32), nullable=False, unique=True),
    Column("username", String(USERNAME_LENGTH), nullable=False, index=True),
    Column("kind", String(8), nullable=False),  # "session" or "token"
    Column("name", String(100), nullable=False),
    Column("created_at", String(TIME_LENGTH), nullable=False),
    Column("expires_at", String(TIME_LENGTH), nullable=False),
    Column("revoked_at", String(TIME_LENGTH), nullable=True),
    Column("revoked_by", String(USERNAME_LENGTH), nullable=True),
)

# Every grant ever made; a revoked one keeps its row with who revoked it and when.
grants = Table(
    "ledger_grants",
    metadata,
    Column("grant_id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(USERNAME_LENGTH), nullable=False),
    Column("role", String(24), nullable=False),
    Column("scope", String(6), nullable=False),
    Column("granted_at", String(TIME_LENGTH), nullable=False),
    Column("granted_by", String(USERNAME_LENGTH), nullable=False),
    Column("revoked_at", String(TIME_LENGTH), nullable=True),
    Column("revoked_by", String(USERNAME_LENGTH), nullable=True),
    # One live grant of a role and scope per user, even when two administrators grant it at once.
    Index(
        "ledger_grants_live",
        "username",
        "role",
        "scope",
        unique=True,
        sqlite_where=text("revoked_at IS NULL"),
        postgresql_where=text("revoked_at IS NULL"),
    ),
)

# 制单 → 审核 → 记账: documents entered for approval, and what became of them.
proposals = Table(
    "ledger_proposals",
    metadata,
    Column("proposal_id", String(32), primary_key=True),
    Column("document_id", String(64), nullable=False),
    Column("document_type", String(32), nullable=False),
    # The document as entered (canonical JSON), posted unchanged on approval.
    Column("document", Text, nullable=False),
    # The region it is entered for (its ``region`` field; a reversal's: the reversed document's), and
    # that region's municipality and province, so a list by scope is one indexed query.
    Column("region", String(6), nullable=False),
    Column("municipality", String(6), nullable=False),
    Column("province", String(6), nullable=False),
    # Every region whose books it writes, as a JSON list, ``region`` first: 审核 is needed over all of them.
    Column("regions", Text, nullable=False),
    # pending, approved (claimed by a checker, being posted), posted, rejected, withdrawn, or refused
    # (approved, but the ledger refused to post it: ``reason`` holds the ledger's refusal).
    Column("status", String(12), nullable=False),
    Column("proposed_by", String(USERNAME_LENGTH), nullable=False),
    Column("proposed_at", String(TIME_LENGTH), nullable=False),
    Column("decided_by", String(USERNAME_LENGTH), nullable=True),
    Column("decided_at", String(TIME_LENGTH), nullable=True),
    Column("reason", Text, nullable=True),
    Column("posted_at", String(TIME_LENGTH), nullable=True),
    Index("ledger_proposals_by_status", "status", "proposed_at"),
    Index("ledger_proposals_by_region", "region", "status"),
    Index("ledger_proposals_by_municipality", "municipality", "status"),
    Index("ledger_proposals_by_province", "province", "status"),
    Index("ledger_proposals_by_document", "document_id"),
    # A document id has at most one proposal that is waiting, approved or posted; a rejected or
    # refused one may be entered again, corrected, under the same id.
    Index(
        "ledger_proposals_live_document",
        "document_id",
        unique=True,
        sqlite_where=text("status IN ('pending', 'approved', 'posted')"),
        postgresql_where=text("status IN ('pending', 'approved', 'posted')"),
    ),
)


def timestamp(now: datetime | None = None) -> str:
    """``now`` (default: the clock) as fixed-width UTC ISO text; a naive time is refused."""
    moment = now or datetime.now(UTC)
    if moment.tzinfo is None:
        raise ValueError("times must carry their zone")
    return moment.astimezone(UTC).isoformat(timespec="microseconds")
