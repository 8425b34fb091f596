"""httpx's connection pool, made cheap for each call: the same connections, limits and rules, with less work a call.

Before it hands out a connection, and after every response is closed, httpcore's pool (1.0) runs one pass over its
requests and connections. Two things made that pass a large part of a sync's CPU (benchmarks/RESULTS.md,
`python -m benchmarks.http_pool`):

- **The idle check.** The pass asks each idle connection whether it has expired, and an idle HTTP/1.1 connection
  answers by asking its stream whether the socket is readable (a server that closed a kept-alive connection leaves it
  readable, at end of file). Through AnyIO each such question rebuilds the socket's whole table of attributes, with a
  `getpeername()` system call. Here each stream keeps its raw socket, and the answer is the same poll httpcore makes
  (`Backend`).
- **The pass itself.** httpcore counts the connections once for every idle one (quadratic in the pool's size), and
  hands a connection that just became idle to every queued request: all but one wake, find it taken, and queue again,
  each with a pass of its own. `Pool` makes one linear pass that gives each idle connection to one request and never
  checks or closes a connection a request is about to use. Both are open upstream (encode/httpcore pull requests #928
  and #1035, unmerged in 1.0.9).

The pool serves HTTP/1.1, which is all the clients ask for.
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


class Pool(httpcore.AsyncConnectionPool):
    """httpcore's pool with a linear assignment pass; everything else is httpcore's."""

    def _assign_requests_to_connections(self) -> list:
        """httpcore's pass, in the same order of rules: drop closed connections; close expired ones and idle ones
        beyond the keep-alive limit; then give each queued request, first come first served, an available connection
        to its origin, else a new one while under the limit, else one made in place of an idle connection. Returns
        the connections to close (httpcore closes them outside its lock).

        A connection already given to a request that has not started on it yet (`reserved`) stays idle until it
        does; it is neither checked, closed nor given to another request meanwhile."""
        closing = []
        reserved = {r.connection for r in self._requests if r.connection is not None}
        kept = []
        for connection in self._connections:
            if connection.is_closed():
                continue
            if connection not in reserved and connection.has_expired():
                closing.append(connection)
                continue
            kept.append(connection)
        idle = [c for c in kept if c not in reserved and c.is_idle()]
        surplus = max(0, len(idle) - self._max_keepalive_connections)
        dropped, idle = idle[:surplus], idle[surplus:]
        closing += dropped
        self._connections = [c for c in kept if c not in dropped]
        free = [c for c in idle if c.is_available()]

        for request in self._requests:
            if not request.is_queued():
                continue
            origin = request.request.url.origin
            connection = next((c for c in free if c.can_handle_request(origin)), None)
            if connection is None and len(self._connections) >= self._max_connections:
                if not free:
                    break  # nothing to give or replace until a connection comes back
                spare = free[0]  # an idle connection to another origin makes room
                free.remove(spare)
                self._connections.remove(spare)
                closing.append(spare)
            if connection is None:
                connection = self.create_connection(origin)
                self._connections.append(connection)
            else:
                free.remove(connection)
            request.assign_to_connection(connection)
        return closing


def use_pipeline_pool(client: httpx.AsyncClient) -> None:
    """Make the client's own pool (the one httpx made from its settings: limits, certificates; proxies taken from
    the environment keep theirs) a `Pool` with the `Backend` above, before it opens a connection. httpx offers no
    argument for either, so this reaches private attributes; mida_pipeline_tests/sources/test_pool.py fails when an
    upgrade renames them (here the stock pool is then kept)."""
    pool = getattr(getattr(client, "_transport", None), "_pool", None)
    if type(pool) is httpcore.AsyncConnectionPool and hasattr(pool, "_network_backend"):
        pool._network_backend = Backend()
        # The same object, its pass replaced: the pool's settings stay those httpx gave it.
        pool.__class__ = Pool
