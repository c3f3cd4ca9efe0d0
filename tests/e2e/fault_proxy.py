"""A TCP proxy in front of moto whose mode a test switches: what AWS looks like when it misbehaves.

- `pass`: bytes flow both ways (the service works);
- `refuse`: every new connection is closed at once (a dead endpoint: connection reset);
- `hang`: connections are accepted and never answered (a paused endpoint: only timeouts end the wait).
Connections opened before a switch are cut, so kept-alive clients meet the new mode at once.
"""
from __future__ import annotations

import socket
import threading


class FaultProxy:
    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.mode = "pass"
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._stopped = False

    @property
    def url(self) -> str:
        return "http://127.0.0.1:%d" % self._listener.getsockname()[1]

    def start(self) -> "FaultProxy":
        threading.Thread(target=self._accept, name="fault-proxy", daemon=True).start()
        return self

    def set_mode(self, mode: str) -> None:
        assert mode in ("pass", "refuse", "hang")
        with self._lock:
            self.mode = mode
            cut, self._open = self._open, set()
        for sock in cut:
            _close(sock)

    def stop(self) -> None:
        self._stopped = True
        self.set_mode("refuse")
        _close(self._listener)

    def _accept(self) -> None:
        while not self._stopped:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                mode = self.mode
                if mode != "refuse":
                    self._open.add(client)
            if mode == "refuse":
                _close(client)
            elif mode == "pass":
                threading.Thread(target=self._relay, args=(client,), daemon=True).start()
            # hang: keep the socket open, read nothing, answer nothing

    def _relay(self, client: socket.socket) -> None:
        try:
            upstream = socket.create_connection(self.upstream, timeout=5)
        except OSError:
            _close(client)
            return
        upstream.settimeout(None)
        with self._lock:
            self._open.add(upstream)

        def pump(src: socket.socket, dst: socket.socket) -> None:
            try:
                while chunk := src.recv(65536):
                    dst.sendall(chunk)
            except OSError:
                pass
            finally:
                _close(src)
                _close(dst)

        threading.Thread(target=pump, args=(upstream, client), daemon=True).start()
        pump(client, upstream)


def _close(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    try:
        sock.close()
    except OSError:
        pass
