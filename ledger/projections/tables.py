"""The projection tables.

Every row here follows from the events alone; ``rebuild`` drops and refills
them. Money columns are integer fen.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Integer, MetaData, String, Table

metadata = MetaData()

books = Table(
    "proj_books",
    metadata,
    Column("book_id", String(32), primary_key=True),
    Column("region", String(6), nullable=False, index=True),
    Column("scheme", String(16), nullable=False),
    Column("year", Integer, nullable=False),
    Column("municipality", String(6), nullable=False, index=True),
    Column("closed", Boolean, nullable=False),
    Column("events", BigInteger, nullable=False),
)

# One row per book, account and tier (0 where the account takes none).
balances = Table(
    "proj_balances",
    metadata,
    Column("book_id", String(32), primary_key=True),
    Column("account", String(16), primary_key=True),
    Column("tier", Integer, primary_key=True),
    Column("debit_fen", BigInteger, nullable=False),
    Column("credit_fen", BigInteger, nullable=False),
    Column("balance_fen", BigInteger, nullable=False),
    # What the year-end close posted to the row, so the year's own income and
    # expense (balance before the close) stay readable after it.
    Column("closed_fen", BigInteger, nullable=False),
)

# The social-security fiscal special account (财政专户, 1003) per region, fund
# and year, as the finance bureau sees it: the balance brought forward, what
# came in, what went out and what is left.
fiscal_accounts = Table(
    "proj_fiscal_accounts",
    metadata,
    Column("region", String(6), primary_key=True),
    Column("scheme", String(16), primary_key=True),
    Column("year", Integer, primary_key=True),
    Column("municipality", String(6), nullable=False, index=True),
    Column("opening_fen", BigInteger, nullable=False),
    Column("receipts_fen", BigInteger, nullable=False),
    Column("payments_fen", BigInteger, nullable=False),
    Column("closing_fen", BigInteger, nullable=False),
)

tracking = Table(
    "proj_tracking",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("notification_id", BigInteger, nullable=False),
)

PROJECTION_TABLES = (books, balances, fiscal_accounts)
