"""Refusals as RFC 9457 problem details: one JSON shape for every error the service gives.

A problem is ``{"type", "title", "status", "detail", "document", "field", "rule"}``
with media type ``application/problem+json``. ``detail`` is the message the
command line prints for the same refusal (``LedgerError.describe``), so both
faces say the same words. The status follows what was refused:

| refusal | status |
|---|---|
| no or a bad bearer token, a wrong login (``AuthenticationError``) | 401 |
| too many failed logins (``LoginThrottledError``) | 429 with ``Retry-After`` |
| a role that does not allow it (``PermissionDeniedError``, ``SelfApprovalError``) | 403 |
| a book, document or proposal not in the store (``NotFoundError``, ...) | 404 |
| a document id posted before with other content (``DuplicateConflictError``), a proposal decided already | 409 |
| a body over the size limit | 413 |
| a document or an argument the ledger refuses (any other ``LedgerError``) | 422 |
| the database failing under a request (``DBAPIError``) | 503 with ``Retry-After`` |
| a read whose ``wait_for`` the projections read did not reach in time (``PositionNotReachedError``) | 503 with ``Retry-After`` |
"""

from __future__ import annotations

import re
from http import HTTPStatus
from typing import Any

from starlette.responses import JSONResponse

from ledger.access.errors import (
    AuthenticationError, LoginThrottledError, PermissionDeniedError, ProposalError, ProposalRequiredError, SelfApprovalError,
)
from ledger.errors import BookNotFoundError, DuplicateConflictError, LedgerError
from ledger.tasks.arguments import NotFoundError
from ledger.tasks.reading import PositionNotReachedError

MEDIA_TYPE = "application/problem+json"
TYPE_PREFIX = "urn:ledger:problem:"


class ProposalNotFoundError(NotFoundError):
    """A proposal id that names no proposal."""


class DocumentNotFoundError(NotFoundError):
    """A document id that names no posted document."""


class ActorMismatchError(LedgerError):
    """A document naming an ``actor`` other than the logged-in user: the actor on an event is who logged in."""

    rule = "the actor is the logged-in user"


class BodyTooLargeError(LedgerError):
    """A request body over the service's limit (``MAXIMUM_BODY_BYTES``, ``MAXIMUM_UPLOAD_BYTES``)."""

    rule = "bounded request size"


def kebab(name: str) -> str:
    """``PermissionDeniedError`` → ``permission-denied``: a problem type from the exception's class."""
    name = name.removesuffix("Error")
    return re.sub(r"(?<!^)(?=[A-Z])", "-", name).lower()


def status_of(error: LedgerError) -> int:
    """The HTTP status of a refusal (the table above)."""
    if isinstance(error, LoginThrottledError):
        return 429
    if isinstance(error, AuthenticationError):
        return 401
    if isinstance(error, (PermissionDeniedError, SelfApprovalError)):
        return 403
    if isinstance(error, (NotFoundError, BookNotFoundError)):
        return 404
    if isinstance(error, BodyTooLargeError):
        return 413
    if isinstance(error, ProposalRequiredError):
        return 422
    if isinstance(error, (DuplicateConflictError, ProposalError)):
        return 409
    if isinstance(error, PositionNotReachedError):
        return 503
    return 422


def problem(status: int, detail: str, *, type_name: str = "about:blank", document: str | None = None,
            field: str | None = None, rule: str | None = None, headers: dict[str, str] | None = None,
            extra: dict[str, Any] | None = None) -> JSONResponse:
    """A problem-details response; ``type_name`` a kebab slug (prefixed ``urn:ledger:problem:``) or ``about:blank``."""
    body = {
        "type": type_name if type_name == "about:blank" else TYPE_PREFIX + type_name,
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "document": document,
        "field": field,
        "rule": rule,
        **(extra or {}),
    }
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def from_error(error: LedgerError, extra: dict[str, Any] | None = None) -> JSONResponse:
    """The problem for a ledger refusal: its status, its class as the type, the CLI's message as the detail."""
    status = status_of(error)
    headers = {"Retry-After": str(error.retry_after_seconds)} if isinstance(error, LoginThrottledError) else None
    if isinstance(error, PositionNotReachedError):
        headers = {"Retry-After": "1"}
    if status == 401:
        headers = {**(headers or {}), "WWW-Authenticate": 'Bearer realm="ledger"'}
    return problem(status, str(error), type_name=kebab(type(error).__name__), document=error.document_id,
                   field=error.field, rule=error.rule, headers=headers, extra=extra)
