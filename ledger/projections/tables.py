"""The projection tables.

Every row here follows from the events alone; ``rebuild`` drops and refills
them. Money columns are integer fen.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Index, Integer, MetaData, PrimaryKeyConstraint, String, Table

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

# One row per posting line, with its event's dates, document and voucher: the
# dated projection behind as-of views, statements, trace and the voucher
# register. Dates are ISO text (``YYYY-MM-DD``; recorded times UTC
# ``YYYY-MM-DDTHH:MM:SS.ffffff+00:00``), which order correctly as text.
lines = Table(
    "proj_lines",
    metadata,
    Column("notification_id", BigInteger, primary_key=True),
    Column("line", Integer, primary_key=True),
    Column("book_id", String(32), nullable=False),
    Column("version", Integer, nullable=False),
    # The event's class name: ContributionReceived, YearClosed, BalancesCarriedForward, ...
    Column("kind", String(40), nullable=False),
    Column("document_id", String(64), nullable=False),
    # 记账凭证号: the voucher number within the book and period (YYYY-MM of the effective date).
    Column("period", String(7), nullable=False),
    Column("voucher", Integer, nullable=False),
    Column("effective_date", String(10), nullable=False),
    Column("recorded_at", String(32), nullable=False),
    Column("account", String(16), nullable=False),
    Column("tier", Integer, nullable=False),
    Column("amount_fen", BigInteger, nullable=False),  # debit positive
    # One secondary index serves every dated read: as-of sums and statements
    # (a book up to a date), trace (a book, a window, accounts) and the voucher
    # register (a book, a month). Each index costs every posting line an insert.
    # It also carries kind, amount and recorded time, so an as-of read
    # (queries.balances_as_of) is answered from the index alone, a range of
    # it, never touching the table (docs/performance.md, "As-of reads").
    Index("ix_proj_lines_book_date", "book_id", "effective_date", "account", "tier", "kind", "amount_fen", "recorded_at"),
)

# The posting lines summed by book, account, tier, effective month and
# recorded month (both ``YYYY-MM``; the recorded month is the UTC month of
# ``proj_lines.recorded_at``), written with the lines. An as-of read through a
# date adds the months before the date's month and reads only that month's
# lines, so its cost no longer grows with the book (queries.balances_as_of;
# docs/performance.md, "As-of reads"). Keeping the recorded month lets a read
# as known on a time take whole months recorded before that time's month.
months = Table(
    "proj_months",
    metadata,
    Column("book_id", String(32), nullable=False),
    Column("month", String(7), nullable=False),
    Column("recorded_month", String(7), nullable=False),
    Column("account", String(16), nullable=False),
    Column("tier", Integer, nullable=False),
    Column("debit_fen", BigInteger, nullable=False),
    Column("credit_fen", BigInteger, nullable=False),
    # What year-end closes (YearClosed) posted, as in proj_balances.closed_fen.
    Column("closed_fen", BigInteger, nullable=False),
    # On PostgreSQL the key's index carries the sums too, so an as-of read takes a book's months from the
    # index alone, a few contiguous pages, instead of a heap page or more per month (docs/performance.md,
    # "As-of reads", "Wave 5"). On SQLite the rows are stored in key order, which does the same.
    PrimaryKeyConstraint(
        "book_id", "month", "recorded_month", "account", "tier", postgresql_include=["debit_fen", "credit_fen", "closed_fen"]
    ),
    sqlite_with_rowid=False,
)

# Every period close and reopening, who did it and why: statements list the
# reopenings of their books.
periods = Table(
    "proj_periods",
    metadata,
    Column("notification_id", BigInteger, primary_key=True),
    Column("book_id", String(32), nullable=False, index=True),
    Column("action", String(8), nullable=False),  # close or reopen
    Column("period", String(7), nullable=False),  # YYYY-MM, or YYYY for the year
    Column("document_id", String(64), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("reason", String(500), nullable=False),
    Column("effective_date", String(10), nullable=False),
    Column("recorded_at", String(32), nullable=False),
)

tracking = Table(
    "proj_tracking",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("notification_id", BigInteger, nullable=False),
)

PROJECTION_TABLES = (books, balances, fiscal_accounts, lines, months, periods)
