"""Offline by construction: the test session cannot reach beyond loopback."""

from __future__ import annotations

import asyncio
import socket

import pytest

from tests.conftest import NetworkBlocked


def test_connecting_off_loopback_fails() -> None:
    with socket.socket() as s, pytest.raises(NetworkBlocked):
        s.connect(("192.0.2.1", 443))  # TEST-NET-1: never routed anyway


def test_resolving_a_public_name_fails() -> None:
    with pytest.raises(NetworkBlocked):
        socket.getaddrinfo("pypi.org", 443)


async def test_asyncio_connections_are_guarded_too() -> None:
    with pytest.raises(NetworkBlocked):
        await asyncio.open_connection("198.51.100.7", 80)


def test_loopback_stays_open() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        with socket.socket() as client:
            client.connect(server.getsockname())
