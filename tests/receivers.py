"""An HTTP receiver on 127.0.0.1 standing in for ntfy and webhooks: answers POSTs and records every request."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Receiver(ThreadingHTTPServer):
    """Answers with the statuses it is given, in turn (the last one from then on); records path, headers and body."""

    def __init__(self, *statuses: int):
        self.statuses = list(statuses or (200,))
        self.received: list[dict] = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(handler):  # noqa: N802,N805
                body = handler.rfile.read(int(handler.headers.get("Content-Length", 0)))
                self.received.append({"path": handler.path, "headers": dict(handler.headers), "body": body})
                handler.send_response(self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0])
                handler.send_header("Content-Length", "0")
                handler.end_headers()

            def log_message(handler, *args):  # noqa: N805
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str = "") -> str:
        """The receiver's address with a path."""
        return f"http://127.0.0.1:{self.server_address[1]}{path}"

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self.shutdown()
        self.server_close()
