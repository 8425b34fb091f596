"""The client's connection pool (sources/pool.py), over real sockets: the idle check notices a connection the server
closed while it was idle and replaces it; the assignment pass serves every request within the limits, reusing its
connections; and the transport's client uses both."""

from __future__ import annotations

import asyncio
import socket
import time

import httpx
import pytest

from mida_pipeline.sources import RetryPolicy
from mida_pipeline.sources.pool import Backend, Pool, readable, use_pipeline_pool
from mida_pipeline.sources.transport import AsyncTransport


@pytest.fixture
def pair():
    ours, theirs = socket.socketpair()
    yield ours, theirs
    ours.close()
    theirs.close()


def test_an_idle_open_socket_is_not_readable(pair):
    assert readable(pair[0]) is False


def test_a_socket_with_bytes_waiting_is_readable(pair):
    pair[1].sendall(b"x")
    assert readable(pair[0]) is True


def test_a_socket_whose_peer_closed_is_readable(pair):
    pair[1].close()
    assert readable(pair[0]) is True


def test_a_socket_that_is_gone_counts_as_readable(pair):
    pair[0].close()
    assert readable(pair[0]) is True
    assert readable(None) is True


def transport(base_url: str, **kwargs) -> AsyncTransport:
    return AsyncTransport("mida", base_url, headers={}, secrets=[], require_success=False, **kwargs)


def test_the_transports_client_uses_the_pipelines_pool_and_backend():
    """Reached through private attributes of httpx and httpcore (pool.py): an upgrade that renames them fails
    here, instead of the saving going quietly."""
    made = transport("http://127.0.0.1:9")
    pool = made.client._transport._pool
    assert type(pool) is Pool
    assert isinstance(pool._network_backend, Backend)
    asyncio.run(made.aclose())


def test_the_pass_pool_overrides_is_still_httpcores():
    """`Pool` replaces one method of httpcore's pool and reads its request queue's fields: an upgrade that renames
    them would leave the override unused, or broken."""
    import httpcore
    from httpcore._async.connection_pool import AsyncPoolRequest

    assert callable(httpcore.AsyncConnectionPool._assign_requests_to_connections)
    for name in ("assign_to_connection", "is_queued"):
        assert callable(getattr(AsyncPoolRequest, name))
    pool = httpcore.AsyncConnectionPool(max_connections=3)
    assert (pool._connections, pool._requests, pool._max_connections, pool._max_keepalive_connections) == ([], [], 3, 3)


def test_a_transport_given_by_the_caller_is_left_as_it_is():
    given = httpx.AsyncHTTPTransport()
    made = transport("http://127.0.0.1:9", transport=given)
    assert made.client._transport is given
    assert type(given._pool) is not Pool
    assert not isinstance(given._pool._network_backend, Backend)
    asyncio.run(made.aclose())


def test_a_connection_the_server_closed_while_idle_is_replaced_and_the_next_call_succeeds_at_once():
    """The server answers each connection once and closes it, as a server whose keep-alive ran out does. Without
    the idle check the second call would be written into the dead connection and fail."""

    async def scenario() -> tuple[int, list[dict]]:
        connections = 0
        answered, closed = asyncio.Event(), asyncio.Event()

        async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            nonlocal connections
            connections += 1
            await reader.readuntil(b"\r\n\r\n")
            body = b'{"n": %d}' % connections
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n" % len(body))
            writer.write(body)
            await writer.drain()
            await answered.wait()  # closed only once the client holds the connection as idle
            writer.close()  # no "connection: close": the client believes the connection is kept alive
            await writer.wait_closed()
            closed.set()

        server = await asyncio.start_server(answer, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        made = transport(f"http://127.0.0.1:{port}", retry=RetryPolicy(attempts=1))  # no retry to hide a failure
        try:
            first = await made.request_json("GET", "/a")
            answered.set()
            await closed.wait()
            pool = made.client._transport._pool
            # The FIN reaches the client's socket a moment after the server closes: wait for the pool to see it, but
            # not as long as httpx's keep-alive expiry (5 s), which would drop the connection without the idle check.
            deadline = time.monotonic() + 2
            while not all(c.has_expired() for c in pool.connections) and time.monotonic() < deadline:
                await asyncio.sleep(0.01)
            second = await made.request_json("GET", "/b")
        finally:
            await made.aclose()
            server.close()
            await server.wait_closed()
        return connections, [first, second]

    connections, answers = asyncio.run(scenario())
    assert answers == [{"n": 1}, {"n": 2}]
    assert connections == 2


class _Server:
    """A keep-alive HTTP/1.1 server on a loopback port that answers each request after `delay` seconds, counting the
    connections it accepted and the most requests it held at once."""

    def __init__(self, delay: float):
        self.delay, self.connections, self.open, self.peak = delay, 0, 0, 0

    async def answer(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while await reader.readuntil(b"\r\n\r\n"):
                self.open += 1
                self.peak = max(self.peak, self.open)
                await asyncio.sleep(self.delay)
                self.open -= 1
                body = b'{"ok": true}'
                writer.write(
                    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n" % len(body)
                )
                writer.write(body)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def __aenter__(self) -> str:
        self.server = await asyncio.start_server(self.answer, "127.0.0.1", 0)
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"

    async def __aexit__(self, *exc) -> None:
        self.server.close()


def pooled(limits: httpx.Limits) -> httpx.AsyncClient:
    client = httpx.AsyncClient(limits=limits, timeout=10)
    use_pipeline_pool(client)
    assert type(client._transport._pool) is Pool
    return client


def test_a_burst_larger_than_the_pool_is_served_over_its_connections_each_reused():
    """200 requests at once through 4 connections: every one answered, never more than 4 at the server, and no
    connection made beyond the 4 (each idle one goes to the next request waiting)."""

    async def scenario():
        server = _Server(delay=0.002)
        async with server as url, pooled(httpx.Limits(max_connections=4, max_keepalive_connections=4)) as client:
            answers = await asyncio.gather(*(client.get(f"{url}/{i}") for i in range(200)))
            held = len(client._transport._pool.connections)
        return server, [a.json() for a in answers], held

    server, answers, held = asyncio.run(scenario())
    assert answers == [{"ok": True}] * 200
    assert server.connections == 4
    assert server.peak <= 4
    assert held == 4


def test_idle_connections_beyond_the_keep_alive_limit_are_closed():
    async def scenario():
        server = _Server(delay=0.01)
        async with server as url, pooled(httpx.Limits(max_connections=4, max_keepalive_connections=1)) as client:
            answers = await asyncio.gather(*(client.get(f"{url}/{i}") for i in range(12)))
            held = len(client._transport._pool.connections)
        return server, answers, held

    server, answers, held = asyncio.run(scenario())
    assert [a.status_code for a in answers] == [200] * 12
    assert server.peak <= 4
    assert held == 1


def test_with_one_connection_allowed_an_idle_one_is_replaced_for_another_origin():
    """The pool's limit is reached by an idle connection to one server: a request to another is served by closing it
    and connecting anew, and back again."""

    async def scenario():
        first, second = _Server(delay=0), _Server(delay=0)
        async with first as a, second as b, pooled(httpx.Limits(max_connections=1)) as client:
            statuses = [(await client.get(url)).status_code for url in (a, b, a)]
            await asyncio.gather(client.get(a), client.get(b), client.get(a), client.get(b))
        return first.connections, second.connections, statuses

    first, second, statuses = asyncio.run(scenario())
    assert statuses == [200, 200, 200]
    assert first >= 2 and second >= 1
