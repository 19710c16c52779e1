"""A TCP proxy for tests that break the network: drop connections (a reset) or freeze them."""

from __future__ import annotations

import selectors
import socket
import struct
import threading


class TcpProxy:
    """Forwards 127.0.0.1:<port> to a target; ``drop_all()`` resets every connection.

    ``freeze()`` stops forwarding and accepting while every socket stays open
    (a network that silently stops carrying packets); ``thaw()`` resumes.

    Every byte a client sends to the target is kept (``sent_by_clients()``),
    so a test can read the AMQP frames a client wrote before its connection ended.

    Args:
        target_port: the port on 127.0.0.1 to forward to.
    """

    def __init__(self, target_port: int) -> None:
        self._target = ("127.0.0.1", target_port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.setblocking(False)
        self.port: int = self._listener.getsockname()[1]
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._listener, selectors.EVENT_READ)
        self._peers: dict[socket.socket, socket.socket] = {}
        self._sent: dict[socket.socket, bytearray] = {}  # client -> bytes it sent, in accept order
        self._lock = threading.Lock()
        self._drop = threading.Event()
        self._freeze_wanted = False
        self._frozen = False
        self._stop = threading.Event()
        self._wake_r, self._wake_w = socket.socketpair()
        self._selector.register(self._wake_r, selectors.EVENT_READ)
        self._thread = threading.Thread(target=self._loop, name="test-tcp-proxy", daemon=True)
        self._thread.start()

    @property
    def connections(self) -> int:
        """Client connections currently open through the proxy."""
        with self._lock:
            return len(self._peers) // 2

    def sent_by_clients(self) -> list[bytes]:
        """What each client connection sent to the target so far, in the order they connected."""
        with self._lock:
            return [bytes(data) for data in self._sent.values()]

    def drop_all(self) -> None:
        """Reset every open connection (RST, no AMQP close)."""
        self._drop.set()
        self._wake_w.send(b"x")

    def freeze(self) -> None:
        """Stop carrying bytes and accepting connections; sockets stay open, nothing is closed."""
        self._freeze_wanted = True
        self._wake_w.send(b"x")

    def thaw(self) -> None:
        """Carry bytes again (those written meanwhile wait in the kernel's buffers)."""
        self._freeze_wanted = False
        self._wake_w.send(b"x")

    def close(self) -> None:
        """Stop the proxy and close everything."""
        self._stop.set()
        self._wake_w.send(b"x")
        self._thread.join(5)
        self._listener.close()
        self._wake_r.close()
        self._wake_w.close()

    def _loop(self) -> None:
        while not self._stop.is_set():
            if self._drop.is_set():
                self._drop.clear()
                self._reset_all()
            if self._freeze_wanted != self._frozen:
                self._set_frozen(self._freeze_wanted)
            for key, _events in self._selector.select(timeout=0.5):
                sock = key.fileobj
                assert isinstance(sock, socket.socket)
                if sock is self._wake_r:
                    sock.recv(64)
                elif sock is self._listener:
                    self._accept()
                else:
                    self._forward(sock)
        self._reset_all()
        self._selector.close()

    def _set_frozen(self, frozen: bool) -> None:
        """Stop (or resume) watching the listener and every connection."""
        with self._lock:
            socks = [self._listener, *self._peers]
        for sock in socks:
            try:
                if frozen:
                    self._selector.unregister(sock)
                else:
                    self._selector.register(sock, selectors.EVENT_READ)
            except (KeyError, ValueError, OSError):
                pass
        self._frozen = frozen

    def _accept(self) -> None:
        try:
            client, _addr = self._listener.accept()
        except BlockingIOError:
            return
        try:
            upstream = socket.create_connection(self._target, timeout=2)
        except OSError:
            client.close()
            return
        for sock in (client, upstream):
            sock.setblocking(False)
            if not self._frozen:
                self._selector.register(sock, selectors.EVENT_READ)
        with self._lock:
            self._peers[client] = upstream
            self._peers[upstream] = client
            self._sent[client] = bytearray()

    def _forward(self, sock: socket.socket) -> None:
        with self._lock:
            peer = self._peers.get(sock)
        if peer is None:
            return
        try:
            data = sock.recv(65536)
            if data:
                with self._lock:
                    record = self._sent.get(sock)
                    if record is not None:
                        record += data
                peer.setblocking(True)
                peer.sendall(data)
                peer.setblocking(False)
                return
        except OSError:
            pass
        self._close_pair(sock, reset=False)

    def _reset_all(self) -> None:
        with self._lock:
            socks = list(self._peers)
        for sock in socks:
            self._close_pair(sock, reset=True)

    def _close_pair(self, sock: socket.socket, *, reset: bool) -> None:
        with self._lock:
            if sock not in self._peers:
                return  # closed with its peer already
            peer = self._peers.pop(sock)
            self._peers.pop(peer, None)
        for s in (sock, peer):
            try:
                self._selector.unregister(s)
            except (KeyError, ValueError):
                pass
            if reset:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            s.close()
