"""Sessions for the web page and named bearer tokens for integrations.

A secret is 32 random bytes (``secrets.token_urlsafe``), shown once, when it
is made. The store keeps only its SHA-256: a secret of 256 random bits needs
no slow password hash (nothing guessable to protect), and a plain digest can
be looked up by its index. A session and a token differ in lifetime and in
that tokens are named and listed per user, for integrations; both expire,
both can be revoked, and neither resolves once its user is disabled.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, insert, select, update

from ledger.access.errors import AuthenticationError, UserError
from ledger.access.tables import timestamp, tokens, users

SESSION_LIFETIME = timedelta(hours=8)  # one working day
DEFAULT_TOKEN_LIFETIME = timedelta(days=90)
MAXIMUM_TOKEN_LIFETIME = timedelta(days=366)
MAXIMUM_TOKEN_NAME_LENGTH = 100
MAXIMUM_LISTED_TOKENS = 1000
SECRET_BYTES = 32
# Marks a secret as this ledger's, so a leaked one is recognised by secret scanners and people alike.
SECRET_PREFIX = "ldg_"
SESSION, TOKEN = "session", "token"
INVALID = "the session or token is unknown, expired or revoked; log in again"


@dataclass(frozen=True)
class TokenInfo:
    """A session or token as listed: never its secret or hash.

    Attributes:
      token_id: the public handle to revoke it by.
      username: whose it is; kind: ``session`` or ``token``; name: the token's name (a session's is ``session``).
      created_at, expires_at, revoked_at: UTC ISO times (``revoked_at`` empty while it is live).
    """

    token_id: str
    username: str
    kind: str
    name: str
    created_at: str
    expires_at: str
    revoked_at: str | None


@dataclass(frozen=True)
class Principal:
    """Who a resolved secret speaks for: the user, and by which session or token."""

    username: str
    kind: str
    token_id: str
    name: str


def digest(secret: str) -> str:
    """The SHA-256 of a secret as 64 hex digits: what the store keeps."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _info(row: object) -> TokenInfo:
    m = row._mapping  # type: ignore[attr-defined]
    return TokenInfo(m["token_id"], m["username"], m["kind"], m["name"], m["created_at"], m["expires_at"], m["revoked_at"])


def _issue(engine: Engine, username: str, kind: str, name: str, lifetime: timedelta, now: datetime | None) -> tuple[str, TokenInfo]:
    moment = now or datetime.now(UTC)
    with engine.connect() as connection:
        known = connection.execute(select(users.c.disabled).where(users.c.username == username)).first()
    if known is None:
        raise UserError(f"there is no user {username}", field="username")
    if known.disabled:
        raise UserError(f"the account {username} is disabled", field="username")
    secret = SECRET_PREFIX + secrets.token_urlsafe(SECRET_BYTES)
    row = {
        "token_hash": digest(secret),
        "token_id": uuid.uuid4().hex,
        "username": username,
        "kind": kind,
        "name": name,
        "created_at": timestamp(moment),
        "expires_at": timestamp(moment + lifetime),
        "revoked_at": None,
        "revoked_by": None,
    }
    with engine.begin() as connection:
        connection.execute(insert(tokens), row)
    return secret, TokenInfo(row["token_id"], username, kind, name, row["created_at"], row["expires_at"], None)


def create_session(engine: Engine, username: str, *, now: datetime | None = None) -> tuple[str, TokenInfo]:
    """A new web session for an authenticated user: its secret (for the cookie, shown once) and its record.

    Lasts ``SESSION_LIFETIME``. ``UserError`` if the user is unknown or disabled.
    """
    return _issue(engine, username, SESSION, SESSION, SESSION_LIFETIME, now)


def create_token(
    engine: Engine, username: str, name: str, *, lifetime: timedelta = DEFAULT_TOKEN_LIFETIME, now: datetime | None = None
) -> tuple[str, TokenInfo]:
    """A new named bearer token for an integration: its secret (shown once) and its record.

    ``name`` says what uses it (``his-settlement-feed``); one live token per
    name and user. Raises ``UserError`` for an unknown or disabled user, a
    name already live, an empty or over-long name, or a lifetime outside
    one day to ``MAXIMUM_TOKEN_LIFETIME``.
    """
    if not isinstance(name, str) or not name.strip() or len(name) > MAXIMUM_TOKEN_NAME_LENGTH:
        raise UserError(f"a token name is 1 to {MAXIMUM_TOKEN_NAME_LENGTH} characters", field="name")
    if not timedelta(days=1) <= lifetime <= MAXIMUM_TOKEN_LIFETIME:
        raise UserError(f"a token lasts from 1 to {MAXIMUM_TOKEN_LIFETIME.days} days", field="lifetime")
    name = name.strip()
    at = timestamp(now)
    live = [t for t in list_tokens(engine, username) if t.name == name and t.revoked_at is None and t.expires_at > at]
    if live:
        raise UserError(f"{username} already has a live token named {name}; revoke it first", field="name")
    return _issue(engine, username, TOKEN, name, lifetime, now)


def list_tokens(engine: Engine, username: str, *, limit: int = MAXIMUM_LISTED_TOKENS) -> list[TokenInfo]:
    """A user's tokens (not sessions), newest first, at most ``limit``: names and times, never secrets."""
    query = (
        select(tokens)
        .where(tokens.c.username == username, tokens.c.kind == TOKEN)
        .order_by(tokens.c.created_at.desc())
        .limit(min(max(limit, 1), MAXIMUM_LISTED_TOKENS))
    )
    with engine.connect() as connection:
        return [_info(row) for row in connection.execute(query)]


def resolve(engine: Engine, secret: str, *, now: datetime | None = None) -> Principal:
    """The user a session cookie or bearer token speaks for.

    Raises ``AuthenticationError`` (one message for all) when the secret is
    unknown, expired or revoked, or its user is disabled.
    """
    if not isinstance(secret, str) or not secret.startswith(SECRET_PREFIX) or len(secret) > 200:
        raise AuthenticationError(INVALID, field="token")
    query = (
        select(tokens, users.c.disabled)
        .join(users, users.c.username == tokens.c.username)
        .where(tokens.c.token_hash == digest(secret))
    )
    with engine.connect() as connection:
        row = connection.execute(query).first()
    if row is None or row.revoked_at is not None or row.expires_at <= timestamp(now) or row.disabled:
        raise AuthenticationError(INVALID, field="token")
    return Principal(row.username, row.kind, row.token_id, row.name)


def revoke(engine: Engine, token_id: str, *, by: str, now: datetime | None = None) -> None:
    """Revoke a session or token by its public id. ``UserError`` if there is no live one with that id."""
    with engine.begin() as connection:
        changed = connection.execute(
            update(tokens)
            .where(tokens.c.token_id == token_id, tokens.c.revoked_at.is_(None))
            .values(revoked_at=timestamp(now), revoked_by=by)
        )
    if changed.rowcount != 1:
        raise UserError(f"there is no live session or token {token_id}", field="token_id")


def revoke_secret(engine: Engine, secret: str, *, now: datetime | None = None) -> None:
    """End the session or token this secret opens (a logout); nothing happens for an unknown secret."""
    with engine.begin() as connection:
        connection.execute(
            update(tokens)
            .where(tokens.c.token_hash == digest(secret), tokens.c.revoked_at.is_(None))
            .values(revoked_at=timestamp(now), revoked_by=tokens.c.username)
        )


def revoke_sessions(engine: Engine, username: str, *, by: str, now: datetime | None = None) -> int:
    """End every live web session of a user (after a password change); return how many."""
    with engine.begin() as connection:
        changed = connection.execute(
            update(tokens)
            .where(tokens.c.username == username, tokens.c.kind == SESSION, tokens.c.revoked_at.is_(None))
            .values(revoked_at=timestamp(now), revoked_by=by)
        )
    return changed.rowcount
