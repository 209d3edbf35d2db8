"""A local HTTP server for tests of outbound calls: it records every request, whatever its
method, and answers with ``status``, ``headers`` and ``body`` (changeable between requests);
with ``hang`` set it holds each request until it is closed. Bound at construction, serving
from ``start()`` (or ``with``) until ``close()``."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class RecordingServer:
    def __init__(
        self, host: str, *, port: int = 0, status: int = 200, headers=(), body: bytes = b"",
        content_type: str | None = None,
    ):  # fmt: skip
        self.requests: list[dict] = []
        self.status, self.headers, self.body = status, list(headers), body
        self.content_type = content_type
        self.hang = False
        self.released = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                server.requests.append(
                    {"method": self.command, "path": self.path, "headers": dict(self.headers),
                     "body": self.rfile.read(length)}
                )  # fmt: skip
                if server.hang:
                    server.released.wait(timeout=30)
                    return
                self.send_response(server.status)
                for name, value in server.headers:
                    self.send_header(name, value)
                if server.content_type:
                    self.send_header("Content-Type", server.content_type)
                self.send_header("Content-Length", str(len(server.body)))
                self.end_headers()
                self.wfile.write(server.body)

            do_GET = do_POST = do_PUT = do_HEAD = _answer

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer((host, port), Handler)
        self.port = self.httpd.server_address[1]
        self.url = f"http://{host}:{self.port}"
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def start(self) -> "RecordingServer":
        self.thread.start()
        return self

    def close(self) -> None:
        self.released.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)

    def __enter__(self) -> "RecordingServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()
