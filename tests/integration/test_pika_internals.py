"""pika's private attributes that Kanin reads (``core.pika_internals``), against the real broker.

These fail if a pika release moves what Kanin relies on: the server's
``Connection.Start`` properties, the socket that ``drop()`` cuts, the agreed
heartbeat, the bytes read and a channel's close reason.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator

import pika
import pika.exceptions as pe
import pytest

from core import pika_internals
from tests.helpers.amqp_frames import CONNECTION_CLOSE, CONNECTION_START_OK, method_frames
from tests.helpers.broker import TEST_URL, connect
from tests.helpers.tcp_proxy import TcpProxy


def wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> bool:
    """Check ``condition`` every few milliseconds until it holds or ``timeout`` passes."""
    pause = threading.Event()
    for _ in range(int(timeout / 0.005)):
        if condition():
            return True
        pause.wait(0.005)
    return condition()


@pytest.fixture
def proxy() -> Iterator[TcpProxy]:
    port = pika.URLParameters(TEST_URL).port
    tcp = TcpProxy(port)
    yield tcp
    tcp.close()


def through(proxy: TcpProxy) -> pika.BlockingConnection:
    return connect(f"amqp://guest:guest@127.0.0.1:{proxy.port}/%2F")


def test_server_properties_name_the_broker_and_its_version():
    connection = connect()
    try:
        properties = pika_internals.server_properties(connection)
        assert properties, "pika no longer keeps the server's properties in _impl"
        assert properties["product"] in (b"RabbitMQ", "RabbitMQ")
        version = properties["version"]
        text = version.decode() if isinstance(version, bytes) else str(version)
        assert text[0].isdigit()
        assert "capabilities" in properties
    finally:
        connection.close()


def test_the_socket_is_found_while_open_and_gone_once_closed(proxy):
    connection = through(proxy)
    sock = pika_internals.socket_of(connection)
    assert isinstance(sock, socket.socket), "pika no longer keeps its socket in _impl._transport"
    assert sock.getpeername()[1] == proxy.port
    connection.close()
    assert pika_internals.socket_of(connection) is None
    assert pika_internals.drop(connection) is False


def test_drop_cuts_the_stream_without_a_connection_close(proxy):
    connection = through(proxy)
    connection.channel()
    assert pika_internals.drop(connection) is True
    with pytest.raises(pe.AMQPConnectionError):
        connection.process_data_events(time_limit=1)
    assert not connection.is_open
    assert wait_until(lambda: proxy.connections == 0), "the proxy still sees the client"
    methods = method_frames(proxy.sent_by_clients()[0])
    assert CONNECTION_START_OK in methods  # the stream was read
    assert CONNECTION_CLOSE not in methods


def test_a_clean_close_is_seen_in_the_stream(proxy):
    """The control for the test above: the frame reader does see a Connection.Close."""
    connection = through(proxy)
    connection.close()
    assert wait_until(lambda: proxy.connections == 0)
    assert CONNECTION_CLOSE in method_frames(proxy.sent_by_clients()[0])


def test_the_agreed_heartbeat_the_peer_and_the_bytes_read_are_found():
    params = pika.URLParameters(TEST_URL)
    params.heartbeat = 7
    connection = pika.BlockingConnection(params)
    try:
        assert pika_internals.negotiated_heartbeat(connection) == 7
        assert pika_internals.peer(connection) == f"{params.host}:{params.port}"
        before = pika_internals.bytes_received(connection)
        assert isinstance(before, int)
        assert before > 0  # Connection.Start, Tune and Open-Ok were read
        connection.channel().queue_declare(queue="", exclusive=True)
        after = pika_internals.bytes_received(connection)
        assert after is not None
        assert after > before
    finally:
        connection.close()


def test_the_reason_a_broker_closed_a_channel_is_found():
    connection = connect()
    try:
        channel = connection.channel()
        with pytest.raises(pe.ChannelClosedByBroker):
            channel.queue_declare(queue="kanin-test-surely-missing-queue", passive=True)
        reason = pika_internals.closing_reason(channel)
        assert isinstance(reason, pe.ChannelClosedByBroker)
        assert reason.reply_code == 404
        assert pika_internals.closing_reason(connection.channel()) is None
    finally:
        connection.close()
