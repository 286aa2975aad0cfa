"""Baseline: the tables of the last release before store formats were recorded.

Revision ID: 0001
Revises:
Create Date: 2026-11-30

The tables that are not rebuilt from events, exactly as that release made
them: the document registry, seals, issued statements, users, login
attempts, tokens, grants and proposals. The definitions are frozen here, not
imported from the code, so a later change of a table needs a revision of its
own. On a store made before formats were recorded, a table that release had
not yet made (``ledger_statements`` appears on the first issue) is created,
and ``ledger_proposals`` made a few hours before ``regions`` was added gets
it, each proposal's own region; any other difference is refused, naming it.
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# True when this revision changes a proj_* table: ``ledger migrate`` then rebuilds the projections from the events.
rebuild_projections = False

TIME = 32
USERNAME = 64

metadata = sa.MetaData()

sa.Table(
    "ledger_documents",
    metadata,
    sa.Column("document_id", sa.String(64), primary_key=True),
    sa.Column("content_hash", sa.String(64), nullable=False),
    sa.Column("document_type", sa.String(32), nullable=False),
    sa.Column("entries", sa.Text, nullable=False),
    sa.Column("reversed_by", sa.String(64), nullable=True),
)
sa.Table(
    "ledger_seals",
    metadata,
    sa.Column("book_id", sa.String(32), primary_key=True),
    sa.Column("version", sa.BigInteger, primary_key=True),
    sa.Column("period", sa.String(7), nullable=False),
    sa.Column("book", sa.String(40), nullable=False),
    sa.Column("document_id", sa.String(64), nullable=False),
    sa.Column("payload", sa.Text, nullable=False),
)
sa.Table(
    "ledger_statements",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("form", sa.String(2), nullable=False),
    sa.Column("scope", sa.String(80), nullable=False),
    sa.Column("period", sa.String(7), nullable=False),
    sa.Column("issued_at", sa.String(32), nullable=False),
    sa.Column("issued_by", sa.String(200), nullable=False),
    sa.Column("position", sa.BigInteger, nullable=False),
    sa.Column("source_hash", sa.String(64), nullable=False),
    sa.Column("figures", sa.Text, nullable=False),
    sa.Column("figures_digest", sa.String(64), nullable=False),
    sa.Index("ix_ledger_statements_subject", "form", "scope", "period", "id"),
)
sa.Table(
    "ledger_users",
    metadata,
    sa.Column("username", sa.String(USERNAME), primary_key=True),
    sa.Column("display_name", sa.String(200), nullable=False),
    sa.Column("password_hash", sa.String(200), nullable=False),
    sa.Column("disabled", sa.Boolean, nullable=False),
    sa.Column("created_at", sa.String(TIME), nullable=False),
    sa.Column("created_by", sa.String(USERNAME), nullable=False),
    sa.Column("changed_at", sa.String(TIME), nullable=False),
    sa.Column("changed_by", sa.String(USERNAME), nullable=False),
)
sa.Table(
    "ledger_login_attempts",
    metadata,
    sa.Column("attempt_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("username", sa.String(USERNAME), nullable=False),
    sa.Column("client_address", sa.String(64), nullable=False),
    sa.Column("attempted_at", sa.String(TIME), nullable=False),
    sa.Column("succeeded", sa.Boolean, nullable=False),
    sa.Index("ledger_login_attempts_by_username", "username", "attempted_at"),
    sa.Index("ledger_login_attempts_by_address", "client_address", "attempted_at"),
    sa.Index("ledger_login_attempts_by_time", "attempted_at"),
)
sa.Table(
    "ledger_tokens",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("token_id", sa.String(32), nullable=False, unique=True),
    sa.Column("username", sa.String(USERNAME), nullable=False, index=True),
    sa.Column("kind", sa.String(8), nullable=False),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("created_at", sa.String(TIME), nullable=False),
    sa.Column("expires_at", sa.String(TIME), nullable=False),
    sa.Column("revoked_at", sa.String(TIME), nullable=True),
    sa.Column("revoked_by", sa.String(USERNAME), nullable=True),
)
sa.Table(
    "ledger_grants",
    metadata,
    sa.Column("grant_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("username", sa.String(USERNAME), nullable=False),
    sa.Column("role", sa.String(24), nullable=False),
    sa.Column("scope", sa.String(6), nullable=False),
    sa.Column("granted_at", sa.String(TIME), nullable=False),
    sa.Column("granted_by", sa.String(USERNAME), nullable=False),
    sa.Column("revoked_at", sa.String(TIME), nullable=True),
    sa.Column("revoked_by", sa.String(USERNAME), nullable=True),
    sa.Index(
        "ledger_grants_live",
        "username",
        "role",
        "scope",
        unique=True,
        sqlite_where=sa.text("revoked_at IS NULL"),
        postgresql_where=sa.text("revoked_at IS NULL"),
    ),
)
sa.Table(
    "ledger_proposals",
    metadata,
    sa.Column("proposal_id", sa.String(32), primary_key=True),
    sa.Column("document_id", sa.String(64), nullable=False),
    sa.Column("document_type", sa.String(32), nullable=False),
    sa.Column("document", sa.Text, nullable=False),
    sa.Column("region", sa.String(6), nullable=False),
    sa.Column("municipality", sa.String(6), nullable=False),
    sa.Column("province", sa.String(6), nullable=False),
    sa.Column("regions", sa.Text, nullable=False),
    sa.Column("status", sa.String(12), nullable=False),
    sa.Column("proposed_by", sa.String(USERNAME), nullable=False),
    sa.Column("proposed_at", sa.String(TIME), nullable=False),
    sa.Column("decided_by", sa.String(USERNAME), nullable=True),
    sa.Column("decided_at", sa.String(TIME), nullable=True),
    sa.Column("reason", sa.Text, nullable=True),
    sa.Column("posted_at", sa.String(TIME), nullable=True),
    sa.Index("ledger_proposals_by_status", "status", "proposed_at"),
    sa.Index("ledger_proposals_by_region", "region", "status"),
    sa.Index("ledger_proposals_by_municipality", "municipality", "status"),
    sa.Index("ledger_proposals_by_province", "province", "status"),
    sa.Index("ledger_proposals_by_document", "document_id"),
    sa.Index(
        "ledger_proposals_live_document",
        "document_id",
        unique=True,
        sqlite_where=sa.text("status IN ('pending', 'approved', 'posted')"),
        postgresql_where=sa.text("status IN ('pending', 'approved', 'posted')"),
    ),
)


def upgrade() -> None:
    bind = op.get_bind()
    inspector = sa.inspect(bind)
    existing = set(inspector.get_table_names())
    for table in metadata.sorted_tables:
        if table.name not in existing:
            table.create(bind)
            continue
        present = {column["name"] for column in inspector.get_columns(table.name)}
        if table.name == "ledger_proposals" and "regions" not in present:
            _add_proposal_regions()
            present.add("regions")
        missing = [column.name for column in table.columns if column.name not in present]
        if missing:
            raise RuntimeError(
                f"table {table.name} has no column {', '.join(missing)}: this store was written by a release "
                "older than the first this release can upgrade (docs/operations.md, Upgrading)"
            )


def _add_proposal_regions() -> None:
    """The release before ``regions`` asked for approval over the proposal's own region only: keep that for old rows."""
    op.add_column("ledger_proposals", sa.Column("regions", sa.Text, nullable=False, server_default="[]"))
    op.execute("UPDATE ledger_proposals SET regions = '[\"' || region || '\"]'")


def downgrade() -> None:
    raise NotImplementedError("store formats only move forward: restore the backup taken before migrating")
