"""Grants of roles over scopes, and the check of an action against them.

``grant`` and ``revoke`` record who did it and when; a revoked grant keeps
its row. ``permits`` and ``require`` read the live grants of an enabled user
and apply the matrix of ``ledger.access.roles``. Whether the one granting
may grant (``manage_users`` over the scope) is the caller's check, made
where the request is authenticated, as every other permission is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from ledger.access.errors import PermissionDeniedError, UserError
from ledger.access.roles import Action, Role, allows, roles_allowing, scope_kind
from ledger.access.tables import grants, timestamp, users
from ledger.regions import RegionCode, is_region_code

MAXIMUM_GRANTS_PER_USER = 200


@dataclass(frozen=True)
class Grant:
    """One role over one scope.

    Attributes:
      username, role, scope: who holds which role over which region code.
      scope_kind: ``district``, ``municipality`` or ``province``.
      granted_at, granted_by: when and by whom; revoked_at, revoked_by: empty while it is live.
    """

    username: str
    role: Role
    scope: RegionCode
    scope_kind: str
    granted_at: str
    granted_by: str
    revoked_at: str | None = None
    revoked_by: str | None = None


def _role(role: Role | str) -> Role:
    try:
        return Role(role)
    except ValueError:
        known = ", ".join(r.value for r in Role)
        raise UserError(f"there is no role {role}; the roles are {known}", field="role") from None


def _action(action: Action | str) -> Action:
    try:
        return Action(action)
    except ValueError:
        known = ", ".join(a.value for a in Action)
        raise UserError(f"there is no action {action!s:.40}; the actions are {known}", field="action") from None


def _scope(scope: str) -> RegionCode:
    if not isinstance(scope, str) or not is_region_code(scope):
        raise UserError(f"{scope!r} is not a six-digit region code (a district, municipality or province)", field="scope")
    return scope


def grant(engine: Engine, username: str, role: Role | str, scope: RegionCode, *, by: str, now: datetime | None = None) -> Grant:
    """Give ``username`` the role over ``scope``. ``UserError`` for an unknown user, role or scope, or a grant already live."""
    chosen, region = _role(role), _scope(scope)
    at = timestamp(now)
    with engine.connect() as connection:
        if connection.execute(select(users.c.username).where(users.c.username == username)).first() is None:
            raise UserError(f"there is no user {username}", field="username")
    try:
        with engine.begin() as connection:
            connection.execute(
                insert(grants),
                {"username": username, "role": chosen.value, "scope": region, "granted_at": at, "granted_by": by},
            )
    except IntegrityError:
        raise UserError(f"{username} already holds {chosen.value} over {region}", field="role") from None
    return Grant(username, chosen, region, scope_kind(region), at, by)


def revoke(engine: Engine, username: str, role: Role | str, scope: RegionCode, *, by: str, now: datetime | None = None) -> None:
    """End ``username``'s live grant of the role over ``scope``. ``UserError`` if there is none."""
    chosen, region = _role(role), _scope(scope)
    with engine.begin() as connection:
        changed = connection.execute(
            update(grants)
            .where(
                grants.c.username == username,
                grants.c.role == chosen.value,
                grants.c.scope == region,
                grants.c.revoked_at.is_(None),
            )
            .values(revoked_at=timestamp(now), revoked_by=by)
        )
    if changed.rowcount != 1:
        raise UserError(f"{username} holds no {chosen.value} over {region} to revoke", field="role")


def list_grants(engine: Engine, username: str, *, include_revoked: bool = False) -> list[Grant]:
    """A user's grants in the order they were made (at most ``MAXIMUM_GRANTS_PER_USER``), live ones only unless asked."""
    query = select(grants).where(grants.c.username == username).order_by(grants.c.grant_id).limit(MAXIMUM_GRANTS_PER_USER)
    if not include_revoked:
        query = query.where(grants.c.revoked_at.is_(None))
    with engine.connect() as connection:
        return [
            Grant(r.username, Role(r.role), r.scope, scope_kind(r.scope), r.granted_at, r.granted_by, r.revoked_at, r.revoked_by)
            for r in connection.execute(query)
        ]


def _live_grants(engine: Engine, username: str) -> list[tuple[Role, RegionCode]]:
    """The live grants of an enabled user; none for a disabled or unknown one."""
    query = (
        select(grants.c.role, grants.c.scope)
        .join(users, users.c.username == grants.c.username)
        .where(grants.c.username == username, grants.c.revoked_at.is_(None), users.c.disabled.is_(False))
        .limit(MAXIMUM_GRANTS_PER_USER)
    )
    with engine.connect() as connection:
        return [(Role(r.role), r.scope) for r in connection.execute(query)]


@dataclass(frozen=True)
class Permissions:
    """What one user may do: their live grants, read once (for a request, or a batch of documents).

    A disabled or unknown user has no grants, so is permitted nothing.
    """

    username: str
    grants: tuple[tuple[Role, RegionCode], ...]

    @classmethod
    def load(cls, engine: Engine, username: str) -> "Permissions":
        return cls(username, tuple(_live_grants(engine, username)))

    def permits(self, action: Action, region: RegionCode) -> bool:
        """Whether a live grant's role allows ``action`` and its scope covers ``region``."""
        return allows(list(self.grants), _action(action), region)

    def require(self, action: Action, region: RegionCode, *, document_id: str | None = None) -> None:
        """Return if ``permits``; else raise ``PermissionDeniedError`` naming the user, action, region and the roles that allow it."""
        chosen = _action(action)
        if not self.permits(chosen, region):
            allowing = [role.value for role in roles_allowing(chosen)]
            raise PermissionDeniedError(self.username, chosen.value, region, allowing, document_id=document_id)


def permits(engine: Engine, username: str, action: Action, region: RegionCode) -> bool:
    """Whether ``username`` (enabled) holds a role that allows ``action`` over a scope covering ``region``."""
    return Permissions.load(engine, username).permits(action, region)


def require(engine: Engine, username: str, action: Action, region: RegionCode, *, document_id: str | None = None) -> None:
    """Return if ``permits``; else raise ``PermissionDeniedError`` naming the user, action, region and the roles that allow it."""
    Permissions.load(engine, username).require(action, region, document_id=document_id)
