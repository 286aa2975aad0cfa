"""Running the app on uvicorn: in one process, or in several that share one listening socket.

One process works on the books for as many requests at once as it has
ledgers (``app.py``: 4 on PostgreSQL, 1 on SQLite); ``workers`` processes,
each with its own, multiply that on a PostgreSQL store; posting settles
their races by the books' versions (docs/reliability.md). The figures are in
docs/performance.md ("Service under load").
"""

from __future__ import annotations

import os
import socket

import uvicorn
from uvicorn.supervisors import Multiprocess

from ledger.service.app import LEDGERS_VARIABLE
from ledger.store import URL_VARIABLE

APP_FACTORY = "ledger.service:create_app"  # each worker builds its app from LEDGER_DB


def run(app: object, url: str, host: str, port: int, workers: int, forwarded_allow_ips: str, log_level: str) -> None:
    """Serve ``app`` (already opened on ``url``) in this process, or ``workers`` fresh processes on ``url``.

    Blocks until uvicorn stops (Ctrl-C or SIGTERM). With workers, ``app`` is
    only the proof that the store opens (and has its tables, made once before
    any worker starts); it is closed here, and each worker opens its own.
    """
    options = {"host": host, "port": port, "proxy_headers": True, "forwarded_allow_ips": forwarded_allow_ips,
               "log_level": log_level}
    if workers == 1:
        uvicorn.run(app, **options)  # type: ignore[arg-type]
        return
    settings = app.state.settings  # type: ignore[attr-defined]
    handed = {URL_VARIABLE: url, LEDGERS_VARIABLE: str(app.state.ledgers), "LEDGER_FOLLOWER": "yes" if settings.follower else "no"}  # type: ignore[attr-defined]
    if settings.read_url:
        handed["LEDGER_READ_DB"] = settings.read_url
    os.environ.update(handed)
    app.state.close()  # type: ignore[attr-defined]
    config = uvicorn.Config(APP_FACTORY, factory=True, workers=workers, **options)  # type: ignore[arg-type]
    Multiprocess(config, sockets=[tcp_listener(config.bind_socket())]).run()


def tcp_listener(bound: socket.socket) -> socket.socket:
    """The listening socket ``bound`` marked as TCP (protocol 6), so accepted connections get ``TCP_NODELAY``.

    uvicorn binds the shared socket with protocol 0 (uvicorn issue #3149);
    accepted sockets inherit it, asyncio sets ``TCP_NODELAY`` only on sockets
    that say TCP, and without it every keep-alive response after the first
    waits about 40 ms for the client's delayed ACK (measured here: 48 ms per
    request with two workers, 8 ms with one).
    """
    listener = socket.socket(bound.family, bound.type, socket.IPPROTO_TCP, fileno=bound.detach())
    listener.set_inheritable(True)
    return listener
