"""Run an emulator app on a real loopback port in a background thread."""
from __future__ import annotations

import threading
import urllib.request

from werkzeug.serving import WSGIRequestHandler, make_server


class QuietRequestHandler(WSGIRequestHandler):
    """No access log line per request (the journal already records vendor requests)."""

    def log_request(self, code="-", size="-"):
        pass


class LiveServer:
    """A threaded werkzeug server for ``app``.

    The socket is bound in the caller's thread (so a bind error raises here), and
    :meth:`start` returns only after a real request to ``health_path`` succeeded.
    """

    def __init__(self, app, host: str = "127.0.0.1", port: int = 0, health_path: str = "/_emulator/health"):
        self.app = app
        self.health_path = health_path
        self.server = make_server(host, port, app, threaded=True, request_handler=QuietRequestHandler)
        self.host, self.port = host, self.server.server_port
        self.url = f"http://{host}:{self.port}"
        self._thread: threading.Thread | None = None

    def start(self, timeout: float = 5.0) -> LiveServer:
        self._thread = threading.Thread(target=self.server.serve_forever, name=f"emulator-{self.port}", daemon=True)
        self._thread.start()
        with urllib.request.urlopen(f"{self.url}{self.health_path}", timeout=timeout) as resp:
            if resp.status != 200:
                raise RuntimeError(f"emulator at {self.url} answered {resp.status} to its health check")
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
