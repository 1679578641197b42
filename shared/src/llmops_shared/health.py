"""Liveness, readiness and Prometheus metrics over a tiny HTTP server on the event loop.

``GET /healthz`` answers 200 while the process serves; ``GET /readyz`` answers 200 once the
service is connected and subscribed (503 before and while draining); ``GET /metrics`` is the
Prometheus exposition. It is a few lines of asyncio rather than a web framework: three fixed
routes do not justify another dependency in every service image.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from llmops_shared.logging import get_logger

_log = get_logger(__name__)


class HealthServer:
    """Serves /healthz, /readyz and /metrics for one service."""

    def __init__(self, service: str, host: str, port: int, ready: Callable[[], bool]) -> None:
        self.service = service
        self.host = host
        self.port = port
        self._ready = ready
        self._server: asyncio.Server | None = None

    async def start(self) -> int:
        """Start listening; returns the bound port (useful with port 0)."""
        self._server = await asyncio.start_server(self._handle, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def stop(self) -> None:
        """Stop listening."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=5)
            path = request.split(b" ", 2)[1].decode() if request.count(b" ") >= 2 else "/"
            status, ctype, body = self._route(path.split("?", 1)[0])
            head = (
                f"HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
            )
            writer.write(head.encode() + body)
            await writer.drain()
        except (TimeoutError, asyncio.IncompleteReadError, ConnectionError):
            pass  # a probe that hung up or sent garbage: nothing to answer
        finally:
            writer.close()

    def _route(self, path: str) -> tuple[str, str, bytes]:
        if path == "/healthz":
            return "200 OK", "application/json", self._json("ok")
        if path == "/readyz":
            if self._ready():
                return "200 OK", "application/json", self._json("ready")
            return "503 Service Unavailable", "application/json", self._json("not ready")
        if path == "/metrics":
            return "200 OK", CONTENT_TYPE_LATEST, generate_latest()
        return "404 Not Found", "text/plain", b"not found\n"

    def _json(self, status: str) -> bytes:
        return json.dumps({"service": self.service, "status": status}).encode()
