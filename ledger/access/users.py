"""Users kept in the store: add, list, disable, set a password, authenticate.

Passwords are hashed with argon2id (``argon2-cffi``, RFC 9106) with the
library's default parameters; the store keeps only the hash in its PHC
string form, which carries its own salt and parameters, so a hash made with
older parameters is still checked and is rehashed at the next good login.
Nothing here logs, returns or puts in an error message a password or a hash.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from ledger.access import throttle
from ledger.access.errors import AuthenticationError, UserError
from ledger.access.tables import timestamp, users

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
MAXIMUM_DISPLAY_NAME_LENGTH = 200
# NIST SP 800-63B §5.1.1.2 asks for at least 8 characters and allows at least 64; the upper bound keeps
# one login from costing the server more than one ordinary hash.
MINIMUM_PASSWORD_LENGTH = 10
MAXIMUM_PASSWORD_LENGTH = 1024
MAXIMUM_LISTED_USERS = 1000
WRONG_LOGIN = "wrong username or password"

HASHER = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """A hash to check an unknown username's password against, so that it takes as long as a known one's.

    Made at the first login of an unknown name, not at import: hashing costs about half a second and
    64 MiB, which every command (even ``--help``) would otherwise pay.
    """
    return HASHER.hash("not a password of anyone")


@dataclass(frozen=True)
class User:
    """A user as listed: never the password or its hash.

    Attributes:
      username: the login name (lower-case letters, digits, ``.``, ``_``, ``-``; at most 64).
      display_name: the name shown on pages and vouchers (e.g. 张会计).
      disabled: a disabled user can neither log in nor use a session or token.
      created_at, changed_at: UTC ISO times; created_by, changed_by: the usernames who did it.
    """

    username: str
    display_name: str
    disabled: bool
    created_at: str
    created_by: str
    changed_at: str
    changed_by: str


def check_username(username: str) -> str:
    """``username`` if it follows the rule, else ``UserError`` naming the field."""
    if not isinstance(username, str) or not USERNAME.match(username):
        raise UserError(
            "a username is 1 to 64 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit",
            field="username",
        )
    return username


def _check_password(password: str) -> None:
    if not isinstance(password, str) or not MINIMUM_PASSWORD_LENGTH <= len(password) <= MAXIMUM_PASSWORD_LENGTH:
        raise UserError(
            f"a password is {MINIMUM_PASSWORD_LENGTH} to {MAXIMUM_PASSWORD_LENGTH} characters long", field="password"
        )


def _check_display_name(display_name: str) -> str:
    if not isinstance(display_name, str) or not display_name.strip() or len(display_name) > MAXIMUM_DISPLAY_NAME_LENGTH:
        raise UserError(f"a display name is 1 to {MAXIMUM_DISPLAY_NAME_LENGTH} characters", field="display_name")
    return display_name.strip()


def add_user(engine: Engine, username: str, display_name: str, password: str, *, by: str, now: datetime | None = None) -> User:
    """Add an enabled user with this password (hashed here); ``by`` is who adds them.

    Raises ``UserError`` for a username, display name or password that breaks
    its rule, or a username already taken (disabled users keep theirs).
    """
    check_username(username)
    display_name = _check_display_name(display_name)
    _check_password(password)
    at = timestamp(now)
    row = {
        "username": username,
        "display_name": display_name,
        "password_hash": HASHER.hash(password),
        "disabled": False,
        "created_at": at,
        "created_by": by,
        "changed_at": at,
        "changed_by": by,
    }
    try:
        with engine.begin() as connection:
            connection.execute(insert(users), row)
    except IntegrityError:
        raise UserError(f"there is already a user {username}", field="username") from None
    return _user(row)


def _user(row: object) -> User:
    get = row.get if isinstance(row, dict) else row._mapping.get  # type: ignore[attr-defined]
    return User(*(get(name) for name in ("username", "display_name", "disabled", "created_at", "created_by", "changed_at", "changed_by")))


def get_user(engine: Engine, username: str) -> User:
    """The user named ``username``; ``UserError`` if there is none."""
    with engine.connect() as connection:
        row = connection.execute(select(users).where(users.c.username == username)).first()
    if row is None:
        raise UserError(f"there is no user {username}", field="username")
    return _user(row)


def list_users(engine: Engine, *, include_disabled: bool = True, limit: int = MAXIMUM_LISTED_USERS) -> list[User]:
    """Users in username order, at most ``limit`` (1 to ``MAXIMUM_LISTED_USERS``)."""
    if not 1 <= limit <= MAXIMUM_LISTED_USERS:
        raise UserError(f"the limit must be 1 to {MAXIMUM_LISTED_USERS} users", field="limit")
    query = select(users).order_by(users.c.username).limit(limit)
    if not include_disabled:
        query = query.where(users.c.disabled.is_(False))
    with engine.connect() as connection:
        return [_user(row) for row in connection.execute(query)]


def _change(engine: Engine, username: str, values: dict[str, object], by: str, now: datetime | None) -> None:
    with engine.begin() as connection:
        changed = connection.execute(
            update(users).where(users.c.username == username).values(**values, changed_at=timestamp(now), changed_by=by)
        )
    if changed.rowcount != 1:
        raise UserError(f"there is no user {username}", field="username")


def disable_user(engine: Engine, username: str, *, by: str, now: datetime | None = None) -> None:
    """Disable a user: no more logins, and their sessions and tokens stop resolving. ``UserError`` if unknown."""
    _change(engine, username, {"disabled": True}, by, now)


def enable_user(engine: Engine, username: str, *, by: str, now: datetime | None = None) -> None:
    """Enable a disabled user again. ``UserError`` if unknown."""
    _change(engine, username, {"disabled": False}, by, now)


def set_password(engine: Engine, username: str, password: str, *, by: str, now: datetime | None = None) -> None:
    """Replace a user's password (hashed here) and end their web sessions; tokens stay. ``UserError`` if unknown or too short."""
    from ledger.access import tokens

    _check_password(password)
    _change(engine, username, {"password_hash": HASHER.hash(password)}, by, now)
    tokens.revoke_sessions(engine, username, by=by, now=now)


def authenticate(
    engine: Engine, username: str, password: str, client_address: str, *, now: datetime | None = None
) -> User:
    """The enabled user whose password this is; every attempt is counted for the rate limit.

    Raises ``LoginThrottledError`` (before any hash is checked) when the
    username or the address has had too many failures in the window,
    ``AuthenticationError`` with one message for an unknown user and a wrong
    password (an unknown name costs one argon2 check too, so the time taken
    does not tell them apart), and ``AuthenticationError`` naming the
    account as disabled when the password is right but the user is disabled.
    """
    # A name no user can have (too long, not text) is counted, and fails, as the empty name.
    name = username if isinstance(username, str) and len(username) <= 64 else ""
    throttle.check(engine, name, client_address, now=now)
    with engine.connect() as connection:
        row = connection.execute(select(users).where(users.c.username == name)).first()
    stored_hash = row.password_hash if row is not None else _dummy_hash()
    good = _verify(stored_hash, password) and row is not None
    throttle.record(engine, name, client_address, succeeded=good and not row.disabled, now=now)  # type: ignore[union-attr]
    if not good:
        raise AuthenticationError(WRONG_LOGIN, field="password")
    if row.disabled:  # type: ignore[union-attr]
        raise AuthenticationError(f"the account {name} is disabled", field="username")
    if HASHER.check_needs_rehash(stored_hash):
        with engine.begin() as connection:
            connection.execute(update(users).where(users.c.username == name).values(password_hash=HASHER.hash(password)))
    return _user(row)


def _verify(stored_hash: str, password: object) -> bool:
    if not isinstance(password, str) or len(password) > MAXIMUM_PASSWORD_LENGTH:
        # Still spend one check, so that an over-long password is not told apart by its speed.
        password = ""
    try:
        return HASHER.verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
