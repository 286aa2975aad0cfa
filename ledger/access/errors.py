"""The refusals of the access layer, under the ledger's one ``LedgerError``.

No message here ever carries a password, a token or a hash: a refusal says
who, what and why, never the secret that was offered.
"""

from __future__ import annotations

from collections.abc import Sequence

from ledger.errors import LedgerError


class AccessError(LedgerError):
    """Base of every refusal about users, logins, grants and proposals."""

    rule = "access"


class UserError(AccessError):
    """A username, display name or password that breaks its rule, or a user that does not exist or exists already."""

    rule = "users"


class AuthenticationError(AccessError):
    """A login or a token that does not identify an enabled user.

    The message is the same for an unknown user and a wrong password, so a
    failed login does not tell whether the account exists.
    """

    rule = "authentication"


class LoginThrottledError(AuthenticationError):
    """Too many failed logins for this username or from this client address within the window.

    Attributes:
      retry_after_seconds: whole seconds until the oldest counted failure leaves the window
        (what an HTTP ``Retry-After`` header carries).
    """

    rule = "login rate limit"

    def __init__(self, message: str, *, retry_after_seconds: int, field: str | None = None) -> None:
        self.retry_after_seconds = retry_after_seconds
        super().__init__(message, field=field)


class PermissionDeniedError(AccessError):
    """A user asked to do something no role they hold allows in that region.

    Attributes:
      username: who asked.
      action: the action's value (``post_document``, ``approve``, ...).
      region: the six-digit region code of the books concerned.
      allowing_roles: the roles that allow the action (any of them, granted over the region, would do).
    """

    rule = "roles and scopes"

    def __init__(self, username: str, action: str, region: str, allowing_roles: Sequence[str], *, document_id: str | None = None) -> None:
        self.username = username
        self.action = action
        self.region = region
        self.allowing_roles = tuple(allowing_roles)
        needed = " or ".join(self.allowing_roles) if self.allowing_roles else "no role"
        super().__init__(
            f"user {username} may not {action.replace('_', ' ')} in region {region}: "
            f"that takes the role {needed} granted over {region}, its municipality or its province",
            document_id=document_id,
        )


class SelfApprovalError(AccessError):
    """The user who entered a proposal (制单) tried to approve or reject it (审核).

    Source: 会计基础工作规范 (财会字〔1996〕19号), separation of 制单 and 审核: a voucher is
    checked by a person other than the one who made it.
    """

    rule = "制单 and 审核 by different people (会计基础工作规范)"


class ProposalError(AccessError):
    """A proposal that cannot be entered, approved or rejected as asked (already decided, unknown, duplicate id)."""

    rule = "制单 → 审核 → 记账"


class ProposalRequiredError(ProposalError):
    """A document of a type that must be entered as a proposal was posted directly."""
