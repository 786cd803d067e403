"""Helpers shared by the server tests (imported by module name, like tests/queue/queue_helpers)."""

from __future__ import annotations

import json


def error_of(response) -> tuple[int, str]:
    """(HTTP status, MLflow error_code) of an error response, checking its JSON shape."""
    payload = json.loads(response.text)
    assert set(payload) == {"error_code", "message"}, payload
    assert payload["message"], payload
    assert "Traceback" not in payload["message"]
    return response.status_code, payload["error_code"]


class DroppingProxy:
    """A loopback HTTP/1.1 proxy that forwards requests to a server but, for the first `drops`
    requests whose target contains `match`, hangs up instead of relaying the response: what a
    client sees when a server dies after committing but before answering."""

    def __init__(self, target_port: int, match: bytes, drops: int = 1):
        import socket
        import threading

        self.target_port = target_port
        self.match = match
        self.drops_left = drops
        self.dropped = 0
        self.forwarded: list[bytes] = []
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self) -> None:
        self._closed = True
        self._listener.close()

    def _accept(self) -> None:
        import threading

        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    @staticmethod
    def _read_message(sock, buffer: bytes) -> tuple[bytes | None, bytes]:
        while b"\r\n\r\n" not in buffer:
            chunk = sock.recv(65536)
            if not chunk:
                return None, buffer
            buffer += chunk
        head, rest = buffer.split(b"\r\n\r\n", 1)
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        while len(rest) < length:
            chunk = sock.recv(65536)
            if not chunk:
                return None, b""
            rest += chunk
        return head + b"\r\n\r\n" + rest[:length], rest[length:]

    def _serve(self, client) -> None:
        import socket

        upstream = socket.create_connection(("127.0.0.1", self.target_port))
        pending_in, pending_out = b"", b""
        try:
            while True:
                request, pending_in = self._read_message(client, pending_in)
                if request is None:
                    return
                upstream.sendall(request)
                response, pending_out = self._read_message(upstream, pending_out)
                if response is None:
                    return
                target = request.split(b"\r\n", 1)[0]
                with self._lock:
                    self.forwarded.append(target)
                    drop = self.match in target and self.drops_left > 0
                    if drop:
                        self.drops_left -= 1
                        self.dropped += 1
                if drop:
                    client.shutdown(socket.SHUT_RDWR)
                    return
                client.sendall(response)
        except OSError:
            return
        finally:
            client.close()
            upstream.close()
