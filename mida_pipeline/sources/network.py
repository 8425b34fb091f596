"""httpx's connection pool with its most frequent question made cheap: "has this idle connection been closed?"

Before it hands out a connection and after every response is closed, httpcore's pool asks each of its
connections whether it has expired. An idle HTTP/1.1 connection answers by asking its stream whether the socket
is readable: a server that closed a kept-alive connection leaves it readable, at end of file. Through AnyIO each
such question rebuilds the socket's whole table of attributes, with a `getpeername()` system call, to reach the
raw socket (httpcore 1.0, AnyIO 4). With 16 connections that was about a quarter of a large sync's CPU
(benchmarks/RESULTS.md, `python -m benchmarks.http_pool`). Here each stream keeps its raw socket, and the answer
is the same poll httpcore makes; everything else is AnyIO's, as before.
"""

from __future__ import annotations

import select
import socket
from typing import Any

import httpcore
import httpx


def readable(sock: socket.socket | None) -> bool:
    """Whether a read would return at once: data, or the end of file of a connection the peer closed. A socket
    that is gone counts as readable, so the pool drops its connection (httpcore's rule)."""
    fd = -1 if sock is None else sock.fileno()
    if fd < 0:
        return True
    if hasattr(select, "poll"):
        poll = select.poll()
        poll.register(fd, select.POLLIN)
        return bool(poll.poll(0))
    return bool(select.select([fd], [], [], 0)[0])


class _Stream(httpcore.AsyncNetworkStream):
    """AnyIO's stream, holding its raw socket for the idle check."""

    def __init__(self, inner: httpcore.AsyncNetworkStream):
        self._inner = inner
        self._socket = inner.get_extra_info("socket")

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return await self._inner.read(max_bytes, timeout)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        await self._inner.write(buffer, timeout)

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def start_tls(self, ssl_context, server_hostname: str | None = None, timeout: float | None = None):
        # TLS runs over the same socket: its readability is still the question (as httpcore asks it).
        return _Stream(await self._inner.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable":
            return readable(self._socket)
        return self._inner.get_extra_info(info)


class Backend(httpcore.AsyncNetworkBackend):
    """httpcore's AnyIO backend, its streams wrapped in `_Stream`."""

    def __init__(self):
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        return _Stream(await self._inner.connect_tcp(host, port, timeout, local_address, socket_options))

    async def connect_unix_socket(self, path, timeout=None, socket_options=None):
        return _Stream(await self._inner.connect_unix_socket(path, timeout, socket_options))

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def use_cheap_idle_checks(client: httpx.AsyncClient) -> None:
    """Give the client's own pool (the one httpx made from its settings: limits, certificates; proxies taken from
    the environment keep theirs) the backend above, before it opens a connection. httpx offers no argument for
    this, so it reaches two private attributes; mida_pipeline_tests/sources/test_network.py fails when an upgrade
    renames them (here the stock backend is then kept)."""
    pool = getattr(getattr(client, "_transport", None), "_pool", None)
    if isinstance(pool, httpcore.AsyncConnectionPool) and hasattr(pool, "_network_backend"):
        pool._network_backend = Backend()
