"""Alembic revisions of the tables that are not rebuilt from events (docs/operations.md, Upgrading).

``ledger.formats`` runs them; ``env.py`` is Alembic's entry point and
``versions/`` holds one revision per store format, named by its number
(``0001``). The events table is the ``eventsourcing-sqlalchemy`` library's
and the ``proj_*`` tables are rebuilt from events, so neither is here.
"""
