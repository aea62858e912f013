"""A TCP proxy on 127.0.0.1 that forwards, then freezes: sockets stay open, no byte moves either way.

It behaves like a half-open Cloud SQL Auth Proxy connection: the client's kernel keeps acking
(so neither TCP keepalives nor tcp_user_timeout see a dead peer) but no answer ever comes.
While frozen, new connections (a cancel request, the next run) are accepted and never forwarded.
One thread serves every connection; it stops by itself after `lifetime` seconds at the latest.
"""

from __future__ import annotations

import selectors
import socket
import threading
import time
from dataclasses import dataclass, field
from types import TracebackType

CHUNK = 65536


@dataclass
class _Pair:
    """A client connection and its upstream one, with what is held back while frozen."""

    client: socket.socket
    upstream: socket.socket | None = None
    held: bytes = b""  # server bytes past the freeze point, delivered on thaw
    peers: dict[socket.socket, socket.socket] = field(default_factory=dict)


class FreezingProxy:
    """`with FreezingProxy(port) as proxy:` forwards to 127.0.0.1:port at `proxy.port`."""

    def __init__(self, upstream_port: int, freeze_after_bytes: int | None = None,
                 lifetime: float = 120.0) -> None:  # fmt: skip
        self.upstream_port = upstream_port
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._frozen = False
        self._budget = freeze_after_bytes  # server -> client bytes to forward before freezing
        self.forwarded = 0  # server -> client bytes forwarded in all
        self.accepted = 0
        self._pairs: list[_Pair] = []
        self._stop = threading.Event()
        self._deadline = time.monotonic() + lifetime
        self._thread = threading.Thread(target=self._serve, name="freezing-proxy", daemon=True)

    # --- commands from the test -------------------------------------------------------------

    def freeze(self) -> None:
        with self._lock:
            self._frozen = True

    def thaw(self) -> None:
        with self._lock:
            self._frozen, self._budget = False, None

    @property
    def frozen(self) -> bool:
        with self._lock:
            return self._frozen

    def __enter__(self) -> FreezingProxy:
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 tb: TracebackType | None) -> None:  # fmt: skip
        self._stop.set()
        self._thread.join(timeout=5)

    # --- the loop ---------------------------------------------------------------------------

    def _serve(self) -> None:
        sel = selectors.DefaultSelector()
        sel.register(self._listener, selectors.EVENT_READ)
        registered: set[socket.socket] = set()
        try:
            while not self._stop.is_set() and time.monotonic() < self._deadline:
                self._sync_registrations(sel, registered)
                for key, _ in sel.select(timeout=0.05):
                    sock = key.fileobj
                    assert isinstance(sock, socket.socket)
                    if sock is self._listener:
                        self._accept()
                    elif not self.frozen:
                        self._forward(sock, sel, registered)
        finally:
            sel.close()
            self._close_all()

    def _sync_registrations(self, sel: selectors.BaseSelector, registered: set[socket.socket]) -> None:
        """Frozen: read nothing (bytes wait in the kernel). Thawed: read every open socket."""
        frozen = self.frozen
        for pair in list(self._pairs):
            if not frozen and pair.upstream is None:
                self._open_upstream(pair)
            if not frozen and pair.held:
                pair.client.sendall(pair.held)
                pair.held = b""
            for sock in pair.peers:
                if frozen and sock in registered:
                    sel.unregister(sock)
                    registered.discard(sock)
                elif not frozen and sock not in registered:
                    sel.register(sock, selectors.EVENT_READ)
                    registered.add(sock)

    def _accept(self) -> None:
        client, _ = self._listener.accept()
        self.accepted += 1
        self._pairs.append(_Pair(client))  # connected upstream while (or once) not frozen

    def _open_upstream(self, pair: _Pair) -> None:
        try:
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port), timeout=5)
        except OSError:
            pair.client.close()
            self._pairs.remove(pair)
            return
        upstream.settimeout(None)
        pair.upstream = upstream
        pair.peers = {pair.client: upstream, upstream: pair.client}

    def _forward(self, sock: socket.socket, sel: selectors.BaseSelector,
                 registered: set[socket.socket]) -> None:  # fmt: skip
        pair = next((p for p in self._pairs if sock in p.peers), None)
        if pair is None:
            return
        try:
            data = sock.recv(CHUNK)
        except OSError:
            data = b""
        if not data:  # one side closed: close the other, as a proxy does
            self._drop(pair, sel, registered)
            return
        peer = pair.peers[sock]
        if sock is pair.upstream:
            data = self._spend(pair, data)
        try:
            peer.sendall(data)
        except OSError:
            self._drop(pair, sel, registered)

    def _spend(self, pair: _Pair, data: bytes) -> bytes:
        """Forward server bytes up to the budget; past it, hold the rest and freeze."""
        with self._lock:
            if self._budget is not None and self.forwarded + len(data) >= self._budget:
                cut = max(0, self._budget - self.forwarded)
                pair.held, data = data[cut:], data[:cut]
                self._frozen = True
            self.forwarded += len(data)
        return data

    def _drop(self, pair: _Pair, sel: selectors.BaseSelector, registered: set[socket.socket]) -> None:
        for sock in pair.peers or {pair.client: pair.client}:
            if sock in registered:
                sel.unregister(sock)
                registered.discard(sock)
            sock.close()
        self._pairs.remove(pair)

    def _close_all(self) -> None:
        for pair in self._pairs:
            for sock in pair.peers or {pair.client: pair.client}:
                sock.close()
        self._pairs.clear()
        self._listener.close()
