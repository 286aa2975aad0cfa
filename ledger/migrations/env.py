"""Alembic's entry point: run the revisions on the connection ``ledger.formats`` hands over.

Each revision runs in a transaction of its own (``transaction_per_migration``),
and the store's format is recorded in ``ledger_format`` instead of Alembic's
default ``alembic_version``.
"""

from alembic import context

from ledger.formats import FORMAT_TABLE

connection = context.config.attributes["connection"]
context.configure(connection=connection, version_table=FORMAT_TABLE, transaction_per_migration=True)
with context.begin_transaction():
    context.run_migrations()
