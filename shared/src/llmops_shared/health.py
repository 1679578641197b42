"""Liveness, readiness and Prometheus metrics over a tiny HTTP server in a thread of its own.

``GET /healthz`` answers 200 while the process is alive (503 once its event loop has been stuck
for long: a wedged process to restart); ``GET /readyz`` answers 200 once the service is connected
and subscribed (503 before, while draining, and while the loop is stalled); ``GET /metrics`` is
the Prometheus exposition. A 503 names its reason.

The server runs in a daemon thread, not on the service's event loop: a loop blocked in a long
synchronous call, or in a write to a full pipe, would otherwise answer no probe at all while it
is stuck, and once it ran again the overdue heartbeat and the probe ran together, so the probe
saw nothing wrong. From its own thread the server reads what the loop last wrote (the heartbeat's
monotonic time, a float: one attribute read, atomic under the GIL) and says how long it has been.
It is the standard library's ``http.server`` rather than a web framework: three fixed routes do
not justify another dependency in every service image.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

#: A check of the process: None when it passes, else the reason it fails (one line).
Check = Callable[[], str | None]

#: How often the serving thread looks for a stop request (``shutdown`` waits up to this long).
_POLL_S = 0.1


class HealthServer:
    """Serves /healthz, /readyz and /metrics for one service, from a thread of its own.

    Args:
        service: the service's name, in every answer.
        host: the address to listen on.
        port: the port (0: any free one).
        ready: why the service is not ready, or None; called from the server's thread.
        alive: why the process should be restarted, or None; called from the server's thread.
    """

    def __init__(
        self,
        service: str,
        host: str,
        port: int,
        ready: Check,
        alive: Check = lambda: None,
    ) -> None:
        self.service = service
        self.host = host
        self.port = port
        self._ready = ready
        self._alive = alive
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    async def start(self) -> int:
        """Start listening; returns the bound port (useful with port 0)."""
        server = ThreadingHTTPServer((self.host, self.port), _handler(self))
        server.daemon_threads = True  # a probe that hangs never holds up the exit
        self._server = server
        self.port = server.server_address[1]
        self._thread = threading.Thread(
            target=server.serve_forever,
            args=(_POLL_S,),
            name=f"health-{self.service}",
            daemon=True,
        )
        self._thread.start()
        return self.port

    async def stop(self) -> None:
        """Stop listening (without blocking the event loop while the thread notices)."""
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is None:
            return
        await asyncio.to_thread(server.shutdown)
        server.server_close()
        if thread is not None:
            await asyncio.to_thread(thread.join)

    def route(self, path: str) -> tuple[int, str, bytes]:
        """The status, content type and body answering a GET of ``path``."""
        if path == "/healthz":
            return self._check(self._alive, "ok", "wedged")
        if path == "/readyz":
            return self._check(self._ready, "ready", "not ready")
        if path == "/metrics":
            return 200, CONTENT_TYPE_LATEST, generate_latest()
        return 404, "text/plain", b"not found\n"

    def _check(self, check: Check, passed: str, failed: str) -> tuple[int, str, bytes]:
        try:
            reason = check()
        except Exception as exc:  # a probe answers, whatever the check ran into
            reason = f"the check failed: {exc!r}"
        body: dict[str, Any] = {"service": self.service, "status": passed}
        if reason is not None:
            body.update(status=failed, reason=reason)
        return 200 if reason is None else 503, "application/json", json.dumps(body).encode()


def _handler(health: HealthServer) -> type[BaseHTTPRequestHandler]:
    """A request handler class answering from ``health``."""

    class Handler(BaseHTTPRequestHandler):
        timeout = 5  # seconds a probe may take to send its request

        def do_GET(self) -> None:  # (the name http.server dispatches GET to)
            status, ctype, body = health.route(self.path.split("?", 1)[0])
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # probes every few seconds are not news; structlog reports what matters

    return Handler
