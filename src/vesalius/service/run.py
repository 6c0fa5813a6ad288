"""Run the web application in a background thread, next to the DICOM listener.

:class:`HttpServer` serves an ASGI application (:func:`vesalius.service.app.create_app`) with
uvicorn in a thread of its own, so that one process can run the DICOM listener and the HTTP
service together. It binds its socket itself before starting, so that a port in use is a
:class:`~vesalius.errors.ConfigError` raised by :meth:`HttpServer.start` (not a thread
dying later), and port 0 picks a free port that :attr:`HttpServer.port` then tells.
:meth:`HttpServer.stop` stops accepting, lets running requests finish (up to a timeout) and
joins the thread. Signals are left to the caller: uvicorn only handles them in the main
thread, and this server never runs there.

Examples
--------
>>> import pathlib, tempfile, httpx
>>> from vesalius.service.app import create_app
>>> from vesalius.store import BlobStore, open_store, sqlite_url
>>> root = pathlib.Path(tempfile.mkdtemp())
>>> store = open_store(sqlite_url(root / "index.sqlite3"))
>>> app = create_app(store, BlobStore(root / "blobs"), min_free_bytes=0)
>>> with HttpServer(app, host="127.0.0.1", port=0) as server:
...     httpx.get(f"{server.url}/health").json()["status"]
'ok'
>>> server.running
False
>>> store.close()
"""

from __future__ import annotations

import gc
import logging
import socket
import threading
import time
from types import TracebackType
from typing import Any

import uvicorn

from vesalius.errors import ConfigError, VesaliusError

log = logging.getLogger(__name__)


def bind_tcp(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host:port`` (IPv4 or IPv6), address reuse on, not listening.

    Raises
    ------
    ConfigError
        When the address cannot be resolved or bound (port in use, no permission).
    """
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except socket.gaierror as err:
        raise ConfigError(f"cannot listen on {host}:{port}: {err}") from None
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as err:
        sock.close()
        raise ConfigError(f"cannot listen on {host}:{port}: {err.strerror or err}") from None
    return sock


class HttpServer:
    """An ASGI application served by uvicorn in a background thread.

    Parameters
    ----------
    app
        The ASGI application (a FastAPI app).
    host, port
        Where to listen; port 0 picks a free port.
    shutdown_timeout_s
        How long :meth:`stop` lets running requests finish before cancelling them.
    """

    def __init__(self, app: Any, *, host: str, port: int, shutdown_timeout_s: float = 10.0) -> None:
        self.host = host
        self._requested_port = port
        self._config = uvicorn.Config(
            app,
            log_config=None,
            access_log=False,
            proxy_headers=False,  # forwarded headers: only from trusted_proxies (auth.proxy)
            lifespan="off",
            timeout_graceful_shutdown=max(1, round(shutdown_timeout_s)),
        )
        self._shutdown_timeout_s = shutdown_timeout_s
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._port = port

    @property
    def port(self) -> int:
        """The port listened on (the one the system chose when asked for 0)."""
        return self._port

    @property
    def url(self) -> str:
        """The base URL, such as ``http://127.0.0.1:8080``."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def running(self) -> bool:
        """Whether the serving thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    def start(self, *, timeout_s: float = 30.0) -> None:
        """Bind, start serving in a thread, and return once requests are accepted.

        Raises
        ------
        ConfigError
            When the address cannot be bound.
        VesaliusError
            When the server does not come up within ``timeout_s``.
        """
        if self._thread is not None:
            return
        sock = bind_tcp(self.host, self._requested_port)
        self._port = int(sock.getsockname()[1])
        server = uvicorn.Server(self._config)
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="vesalius-http", daemon=True
        )
        self._server, self._thread = server, thread
        # What is alive now (the application, the ORM's tables, the modules) lives as long
        # as the process: out of the collector's reach, a full collection no longer walks
        # it, a pause of tens of milliseconds for every request in flight under load.
        gc.freeze()
        thread.start()
        deadline = time.monotonic() + timeout_s
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                sock.close()
                raise VesaliusError(f"the HTTP service on {self.url} did not start")
            time.sleep(0.01)
        log.info("HTTP service listening on %s", self.url)

    def stop(self) -> None:
        """Stop accepting, let running requests finish, join the thread."""
        server, thread = self._server, self._thread
        self._server, self._thread = None, None
        if server is None or thread is None:
            return
        server.should_exit = True
        thread.join(self._shutdown_timeout_s + 5.0)
        if thread.is_alive():
            log.error("the HTTP service on %s did not stop in time", self.url)
        else:
            log.info("HTTP service on %s stopped", self.url)

    def __enter__(self) -> HttpServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
