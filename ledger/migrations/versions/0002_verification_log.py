"""Verification log: ledger_verifications, one row per completed verification.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30

``ledger verify`` (command line, API and web page) records each completed
verification in the store, so every service worker and the command line
agree on the age and verdict of the last one (``ledger.verification_log``).
The table starts empty: verifications run before this release were kept
only in the memory of the service that ran them. The definition is frozen
here, not imported from the code. Run on a store that already has the
table with every column (a step interrupted after its commit was recorded
elsewhere, or made by hand), it only records the format.
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# True when this revision changes a proj_* table: ``ledger migrate`` then rebuilds the projections from the events.
rebuild_projections = False

TIME = 32

metadata = sa.MetaData()

verifications = sa.Table(
    "ledger_verifications",
    metadata,
    sa.Column("verification_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("verified_at", sa.String(TIME), nullable=False),
    sa.Column("verified_by", sa.String(200), nullable=False),
    sa.Column("channel", sa.String(8), nullable=False),
    sa.Column("scope", sa.String(40), nullable=False),
    sa.Column("agrees", sa.Boolean, nullable=False),
    sa.Column("findings", sa.Integer, nullable=False),
    sa.Column("store_findings", sa.Integer, nullable=False),
    sa.Column("first_finding", sa.Text, nullable=True),
    sa.Column("first_finding_book", sa.String(80), nullable=True),
    sa.Column("position", sa.BigInteger, nullable=False),
    sa.Column("chain_heads", sa.Integer, nullable=False),
    sa.Column("events", sa.BigInteger, nullable=False),
    sa.Index("ledger_verifications_by_time", "verified_at"),
)


def upgrade() -> None:
    bind = op.get_bind()
    inspector = sa.inspect(bind)
    if verifications.name not in inspector.get_table_names():
        verifications.create(bind)
        return
    present = {column["name"] for column in inspector.get_columns(verifications.name)}
    missing = [column.name for column in verifications.columns if column.name not in present]
    if missing:
        raise RuntimeError(
            f"table {verifications.name} exists but has no column {', '.join(missing)}: it was not made by the ledger; "
            "rename or drop it, then run ledger migrate again"
        )


def downgrade() -> None:
    raise NotImplementedError("store formats only move forward: restore the backup taken before migrating")
