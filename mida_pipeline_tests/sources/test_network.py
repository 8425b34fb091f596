"""The connection pool's idle check, over real sockets: a connection the server closed while it was idle is noticed
and replaced, and the transport's client makes its connections through the pipeline's backend."""

from __future__ import annotations

import asyncio
import socket
import time

import httpx
import pytest

from mida_pipeline.sources import RetryPolicy
from mida_pipeline.sources.network import Backend, readable
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


def test_the_transports_client_connects_through_the_pipelines_backend():
    """Reached through private attributes of httpx and httpcore (network.py): an upgrade that renames them fails
    here, instead of the saving going quietly."""
    made = transport("http://127.0.0.1:9")
    assert isinstance(made.client._transport._pool._network_backend, Backend)
    asyncio.run(made.aclose())


def test_a_transport_given_by_the_caller_is_left_as_it_is():
    given = httpx.AsyncHTTPTransport()
    made = transport("http://127.0.0.1:9", transport=given)
    assert made.client._transport is given
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
