"""Seals: a book's chain head, counts and totals at a period close, signed and kept outside the database.

A year close, and a month close that asks for one, issues a seal: the book's
version, the head of its hash chain, how many events and posting lines it
has, its debit turnover, every balance and the last voucher number of every
month. The seal is stored in ``ledger_seals`` in the same transaction as the
close. ``ledger seal export`` signs it with the agency's Ed25519 key into a
small JSON file for the auditor to keep; ``ledger verify --seal FILE`` checks
the signature and replays the book up to the sealed version, proving the
stored events still give exactly the sealed figures.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import BigInteger, Column, String, Table, Text, select

from ledger.chain import canonical
from ledger.errors import LedgerError
from ledger.registry import metadata

SEAL_FORMAT = "ledger-seal/1"
ALGORITHM = "Ed25519"

seals = Table(
    "ledger_seals",
    metadata,
    Column("book_id", String(32), primary_key=True),
    Column("version", BigInteger, primary_key=True),
    Column("period", String(7), nullable=False),
    Column("book", String(40), nullable=False),
    Column("document_id", String(64), nullable=False),
    Column("payload", Text, nullable=False),
)


class SealError(LedgerError):
    """A seal file that cannot be read or whose signature does not hold."""

    rule = "seal"


def payload(book: Any, period: str, document_id: str, sealed_at: str) -> dict[str, Any]:
    """What a seal states about a book as it stands in memory, right after its closing event."""
    return {
        "format": SEAL_FORMAT,
        "book": str(book.key),
        "book_id": book.id.hex,
        "period": period,
        "document_id": document_id,
        "sealed_at": sealed_at,
        "version": book.version,
        "chain_head": book.chain_head,
        "events": book.version,
        "lines": book.lines,
        "debit_total_fen": book.debit_total_fen,
        "balances": {key: fen for key, fen in sorted(book.balances.items())},
        "vouchers": dict(sorted(book.vouchers.items())),
    }


# Every key a seal states (``payload``): a stored seal with any other was edited.
PAYLOAD_KEYS = frozenset(
    {"format", "book", "book_id", "period", "document_id", "sealed_at", "version", "chain_head", "events", "lines",
     "debit_total_fen", "balances", "vouchers"}
)


def row(seal: Mapping[str, Any]) -> dict[str, object]:
    return {
        "book_id": seal["book_id"],
        "version": seal["version"],
        "period": seal["period"],
        "book": seal["book"],
        "document_id": seal["document_id"],
        "payload": canonical(seal),
    }


@dataclass(frozen=True)
class StoredSeal:
    book: str
    period: str
    version: int
    document_id: str
    payload: dict[str, Any]
    # The row's own book id column, which must agree with the payload's.
    book_id: str = ""


def stored(engine: Any, book: str | None = None, period: str | None = None) -> list[StoredSeal]:
    query = select(seals).order_by(seals.c.book, seals.c.version)
    if book:
        query = query.where(seals.c.book == book)
    if period:
        query = query.where(seals.c.period == period)
    with engine.connect() as connection:
        return [StoredSeal(r.book, r.period, r.version, r.document_id, json.loads(r.payload), r.book_id) for r in connection.execute(query)]


# ---------------------------------------------------------------- keys and signatures


def generate_key(folder: Path) -> tuple[Path, Path]:
    """Write a new Ed25519 key pair: ``seal.key`` (private, keep it with the agency) and ``seal.pub``."""
    folder.mkdir(parents=True, exist_ok=True)
    private = Ed25519PrivateKey.generate()
    private_path, public_path = folder / "seal.key", folder / "seal.pub"
    private_path.write_bytes(
        private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    private_path.chmod(0o600)
    public_path.write_bytes(
        private.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    return private_path, public_path


def _raw_public(key: Ed25519PublicKey) -> str:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()


def sign(seal: Mapping[str, Any], private_key_path: Path) -> dict[str, Any]:
    """The seal file's content: the seal and its signature over its canonical JSON."""
    try:
        private = serialization.load_pem_private_key(private_key_path.read_bytes(), password=None)
    except (OSError, ValueError) as error:
        raise SealError(f"cannot read the signing key {private_key_path}: {error}", field="key") from None
    if not isinstance(private, Ed25519PrivateKey):
        raise SealError(f"{private_key_path} is not an Ed25519 private key", field="key")
    signature = private.sign(canonical(seal).encode("utf-8"))
    return {
        "seal": dict(seal),
        "signature": {"algorithm": ALGORITHM, "public_key": _raw_public(private.public_key()), "value": signature.hex()},
    }


def read_signed(path: Path, public_key_path: Path | None = None) -> dict[str, Any]:
    """The seal in a seal file whose signature holds; with a public key file, signed by that key."""
    try:
        content = json.loads(path.read_text(encoding="utf-8"))
        seal, signature = content["seal"], content["signature"]
        public_hex, value = signature["public_key"], signature["value"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise SealError(f"{path} is not a seal file: {error}", field="seal") from None
    if seal.get("format") != SEAL_FORMAT or signature.get("algorithm") != ALGORITHM:
        raise SealError(f"{path} is not a {SEAL_FORMAT} seal signed with {ALGORITHM}", field="seal")
    if public_key_path is not None:
        try:
            trusted = serialization.load_pem_public_key(public_key_path.read_bytes())
        except (OSError, ValueError) as error:
            raise SealError(f"cannot read the public key {public_key_path}: {error}", field="public_key") from None
        if not isinstance(trusted, Ed25519PublicKey) or _raw_public(trusted) != public_hex:
            raise SealError(f"{path} was not signed by the key in {public_key_path}", field="signature")
    try:
        Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_hex)).verify(
            bytes.fromhex(value), canonical(seal).encode("utf-8")
        )
    except (InvalidSignature, ValueError):
        raise SealError(f"the signature of {path} does not match its content: the file was altered", field="signature") from None
    return seal
