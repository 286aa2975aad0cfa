"""Seals: the agency's signing key, the seals year closes and sealed month closes issue, a seal signed into a file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ledger.errors import LedgerError
from ledger.seals import StoredSeal, generate_key, sign, stored
from ledger.store import Ledger
from ledger.tasks.arguments import NotFoundError


class KeyExistsError(LedgerError):
    """The folder already holds a signing key: a key is never overwritten."""

    rule = "a key is never overwritten"

    def describe(self) -> str:
        return self.message


def make_key(folder: Path) -> tuple[Path, Path]:
    """Make the agency's Ed25519 key pair in ``folder``: (seal.key, private; seal.pub, for the auditor)."""
    if (folder / "seal.key").exists():
        raise KeyExistsError(f"{folder / 'seal.key'} exists; a key is never overwritten")
    return generate_key(folder)


def seals(ledger: Ledger, book: str | None = None) -> list[StoredSeal]:
    """The seals issued, of one book (``REGION/SCHEME/YEAR``) or all, oldest first."""
    return stored(ledger.engine, book)


def export(ledger: Ledger, book: str, private_key: Path, period: str | None = None) -> tuple[StoredSeal, dict[str, Any]]:
    """The latest seal of ``book`` (of ``period``: ``YYYY`` or ``YYYY-MM``, when given) and its content signed with
    ``private_key``. ``NotFoundError`` when there is none; ``SealError`` for a key that cannot sign."""
    found = stored(ledger.engine, book, period)
    if not found:
        raise NotFoundError(
            f"no seal of {book}{' for ' + period if period else ''}; seals are issued by year closes and month closes with seal true"
        )
    return found[-1], sign(found[-1].payload, private_key)
