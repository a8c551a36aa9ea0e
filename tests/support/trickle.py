"""A local HTTP server that answers too slowly in the way per-read time-outs cannot catch."""

from __future__ import annotations

import contextlib
import itertools
import socket
import threading


class Trickler:
    """Accepts connections, reads each request, then sends response headers one byte at a
    time, a byte every `interval` seconds, forever. Every read on the client side gets data
    in time, so only a deadline over the whole request ends it. `closed` is set once a client
    hung up; `connections` counts the connections accepted."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/slow"
        self.stop = threading.Event()
        self.closed = threading.Event()
        self.connections = 0
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        conn.settimeout(0.05)
        try:
            with contextlib.suppress(TimeoutError):
                conn.recv(65536)
            head = itertools.chain(b"HTTP/1.1 200 OK\r\nX-Slow: ", itertools.repeat(ord("a")))
            for byte in head:
                conn.sendall(bytes([byte]))
                if self.stop.wait(self.interval):
                    return
                try:
                    if conn.recv(65536) == b"":  # the client closed its end
                        self.closed.set()
                        return
                except TimeoutError:
                    pass
        except OSError:
            self.closed.set()
        finally:
            conn.close()

    def close(self) -> None:
        self.stop.set()
        self.sock.close()
        self.thread.join(timeout=5)

    def __enter__(self) -> Trickler:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
