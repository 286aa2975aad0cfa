"""The web page's login: a session of ``ledger.access.tokens`` in a cookie, and the CSRF token of each form.

The cookie holds the session's secret (the same secret ``POST /api/login``
hands an integration as a bearer token), so there is one session store:
``tokens.create_session`` makes it, ``tokens.resolve`` reads it, logout and
a disabled account end it. The cookie is ``HttpOnly`` (no script reads it),
``SameSite=Strict`` (no other site's page sends it) and, with
``LEDGER_SECURE_COOKIES=1`` behind a TLS proxy, ``Secure``.

Every form that changes something (approve, reject, propose a reversal,
log out) carries a CSRF token: the HMAC-SHA256 of a fixed label under the
session's secret. It is unguessable without the secret, the same for the
whole session, and kept nowhere (OWASP's "HMAC based token" pattern); a
request whose token does not match is refused before anything is read.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import dataclass

from sqlalchemy import Engine

from ledger.access import tokens, users
from ledger.access.errors import AccessError, AuthenticationError
from ledger.access.grants import Permissions
from ledger.access.roles import Role

COOKIE_NAME = "ledger_session"
SECURE_COOKIES_VARIABLE = "LEDGER_SECURE_COOKIES"
CSRF_FIELD = "csrf"
# The cookie lasts as long as the session it holds; the store's expiry is what counts.
COOKIE_MAX_AGE_SECONDS = int(tokens.SESSION_LIFETIME.total_seconds())
_CSRF_LABEL = b"ledger web form"
ROLE_NAMES = {
    Role.ACCOUNTANT: "制单",
    Role.CHECKER: "审核",
    Role.AUDITOR: "审计",
    Role.FINANCE_OFFICER: "财政",
    Role.ADMINISTRATOR: "系统管理",
}


class CsrfError(AccessError):
    """A form sent without the CSRF token of the session it was sent with (a forged or stale page): 403."""

    rule = "CSRF token"


def secure_cookies() -> bool:
    """Whether the session cookie is marked ``Secure`` (``LEDGER_SECURE_COOKIES=1``: the service is behind TLS)."""
    return os.environ.get(SECURE_COOKIES_VARIABLE, "").strip().lower() in ("1", "true", "yes")


def csrf_token(secret: str) -> str:
    """The CSRF token of the session whose cookie holds ``secret``: 64 hex digits."""
    return hmac.new(secret.encode("utf-8"), _CSRF_LABEL, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Viewer:
    """Who is looking at the page: the user, their permissions and the CSRF token their forms carry.

    Attributes:
      username, display_name: the logged-in user.
      permissions: their live grants, read once for the request (``Permissions.permits``/``require``).
      csrf: the session's CSRF token.
      posts: the grants shown in the header, ``(role name, scope)``.
    """

    username: str
    display_name: str
    permissions: Permissions
    csrf: str
    posts: tuple[tuple[str, str], ...]

    def check_csrf(self, sent: str | None) -> None:
        """Return if ``sent`` is this session's CSRF token; else ``CsrfError`` (nothing is done)."""
        if not isinstance(sent, str) or not hmac.compare_digest(sent, self.csrf):
            raise CsrfError("the form was not sent from this session's page: reload the page and try again", field=CSRF_FIELD)


def viewer(engine: Engine, secret: str | None) -> Viewer:
    """The viewer whose session cookie holds ``secret``; ``AuthenticationError`` for none, or one unknown, expired or revoked."""
    if not secret:
        raise AuthenticationError("log in first", field=COOKIE_NAME)
    principal = tokens.resolve(engine, secret)
    permissions = Permissions.load(engine, principal.username)
    user = users.get_user(engine, principal.username)
    posts = tuple((ROLE_NAMES.get(role, role.value), scope) for role, scope in permissions.grants)
    return Viewer(user.username, user.display_name, permissions, csrf_token(secret), posts)


def log_in(engine: Engine, username: str, password: str, client_address: str) -> str:
    """Check the password (counted by the login limits, ``users.authenticate``) and open a session; its secret.

    Raises ``AuthenticationError`` (wrong username or password) or ``LoginThrottledError`` (too many failures).
    """
    user = users.authenticate(engine, username, password, client_address)
    secret, _ = tokens.create_session(engine, user.username)
    return secret


def log_out(engine: Engine, secret: str | None) -> None:
    """End the session the cookie holds (nothing for no cookie or an unknown one)."""
    if secret:
        tokens.revoke_secret(engine, secret)


def safe_next(target: str | None) -> str:
    """Where to go after login: a path on this site only (``/…``, never ``//host`` or a full URL); else the glance."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/glance"
