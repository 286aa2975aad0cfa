"""Read models in SQL tables, folded from the notification log."""

from ledger.projections.projector import Projector
from ledger.projections.tables import PROJECTION_TABLES

__all__ = ["PROJECTION_TABLES", "Projector"]
