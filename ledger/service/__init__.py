"""The HTTP face of the ledger: a FastAPI app over ``ledger.tasks`` and ``ledger.access``.

``create_app(url)`` gives the ASGI app on the store at ``url``; ``ledger
serve`` runs it on uvicorn. Every endpoint authenticates the bearer token,
checks the user's permission over the region concerned
(``ledger.access.grants``), calls one task and returns its ``*_json``
shape; every refusal leaves as an RFC 9457 problem (``problems``).
docs/service.md describes the API.
"""

from __future__ import annotations

from typing import Any

__all__ = ["create_app"]


def create_app(url: str | None = None, ledgers: int | None = None, follower: bool | None = None, read_url: str | None = None) -> Any:
    """The FastAPI app on the store at ``url``, ``ledgers`` requests on the books at once (see ``ledger.service.app.create_app``).

    Imported on first use, so that the command line, which imports
    ``ledger.service.demo_users`` for ``ledger demo``, never loads FastAPI.
    """
    from ledger.service.app import create_app as make_app

    return make_app(url, ledgers, follower, read_url)
