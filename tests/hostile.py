"""A hostile HTTP server on 127.0.0.1: answers too big, too slow or not what they claim, one kind per request.

`plan` is the list of answers to give, in turn (the last one from then on); `hits` counts the requests. Every slow
answer stops by itself (at most DRIP_S), so a test never leaves a thread sending for long.
"""

from __future__ import annotations

import json
import threading
import time
import zlib
from functools import lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DRIP_S = 40.0  # the longest a dripping answer goes on (a client under test gives up long before)
BOMB_MIB = 768


@lru_cache(maxsize=None)
def bomb(kind: str = "gzip", mib: int = BOMB_MIB) -> bytes:
    """Zeros that unpack to `mib` MiB: about 0.75 MiB as gzip for 768 MiB (made in steps, never held unpacked)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS if kind == "gzip" else zlib.MAX_WBITS)
    zeros = bytes(1 << 20)
    return b"".join([packer.compress(zeros) for _ in range(mib)] + [packer.flush()])


def presence(count: int) -> bytes:
    return json.dumps({"participants": count}).encode()


# name: what the server does (each a short description for the tables of the tests)
KINDS = {
    "ok": "200 application/json {participants: 1}",
    "empty": "404 (nobody in the room)",
    "gzip_bomb": f"200 json, gzip of {BOMB_MIB} MiB zeros (0.75 MB sent)",
    "deflate_bomb": f"200 json, deflate of {BOMB_MIB} MiB zeros",
    "big_plain": "200 json, 50 MB with Content-Length",
    "big_chunked": "200 json, 50 MB chunked, no length",
    "drip_body": "200 json, then one byte every 0.5 s",
    "drip_headers": "status line, then one header byte every 0.5 s",
    "endless_header": "one header line of 1 MB",
    "many_headers": "20 000 header lines",
    "silent": "accepts, never answers",
    "redirect_http": "302 to another http address",
    "html": "200 text/html (a captive portal)",
    "brotli": "200 json with Content-Encoding: br",
    "bad_gzip": "200 json, gzip that is no gzip",
    "garbage": "no HTTP at all",
    "deep_json": "200 json nested 100 000 deep",
    "rich_type": "200 with a Content-Type that is Qt rich text (an <img> of a local file)",
}

RICH_TYPE = "<img src='file:///etc/hostname'><b>fett</b>"


class HostileServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, *plan: str, tls=None):
        self.plan = list(plan or ("ok",))
        self.hits = 0
        self.redirect_hits = 0
        self._stop = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):  # noqa: N802 (http.server's name)
                if self.path.startswith("/redirected"):
                    server.redirect_hits += 1
                    self._send(200, presence(5))
                    return
                server.hits += 1
                kind = server.plan.pop(0) if len(server.plan) > 1 else server.plan[0]
                try:
                    getattr(self, "_" + kind)()
                except (BrokenPipeError, ConnectionResetError):
                    pass

            do_POST = do_GET  # noqa: N815

            def _send(self, status: int, body: bytes, kind: str = "application/json", **headers: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Connection", "close")
                for name, value in headers.items():
                    self.send_header(name.replace("_", "-"), value)
                self.end_headers()
                self.wfile.write(body)

            def _drip(self, byte: bytes) -> None:
                end = time.monotonic() + DRIP_S
                while time.monotonic() < end and not server._stop.is_set():
                    self.wfile.write(byte)
                    self.wfile.flush()
                    time.sleep(0.5)

            def _ok(self):
                self._send(200, presence(1))

            def _empty(self):
                self._send(404, b"", "text/plain")

            def _gzip_bomb(self):
                self._send(200, bomb("gzip"), Content_Encoding="gzip")

            def _deflate_bomb(self):
                self._send(200, bomb("deflate"), Content_Encoding="deflate")

            def _big_plain(self):
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(50 << 20))
                self.end_headers()
                chunk = b" " * (1 << 20)  # sent in steps: the server's own memory must not count as the client's
                for _ in range(50):
                    self.wfile.write(chunk)

            def _big_chunked(self):
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                chunk = b" " * (1 << 20)
                for _ in range(50):
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                self.wfile.write(b"0\r\n\r\n")

            def _drip_body(self):
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self._drip(b" ")

            def _drip_headers(self):
                self.wfile.write(b"HTTP/1.1 200 OK\r\nX-Slow: ")
                self._drip(b"a")

            def _endless_header(self):
                self.wfile.write(b"HTTP/1.1 200 OK\r\nX-Long: " + b"a" * (1 << 20) + b"\r\n\r\n")

            def _many_headers(self):
                self.wfile.write(b"HTTP/1.1 200 OK\r\n" + b"X-A: b\r\n" * 20000 + b"\r\n")

            def _silent(self):
                server._stop.wait(DRIP_S)

            def _redirect_http(self):
                self.send_response(302)
                self.send_header("Location", f"http://127.0.0.1:{server.server_address[1]}/redirected")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def _html(self):
                self._send(200, b"<html><img src='file:///etc/palim'>Login</html>", "text/html")

            def _brotli(self):
                self._send(200, b"\x1b\x00", Content_Encoding="br")

            def _bad_gzip(self):
                self._send(200, b"\x1f\x8b\x08\x00" + b"\xff" * 64, Content_Encoding="gzip")

            def _garbage(self):
                self.wfile.write(b"\x00\x01SSH-2.0-OpenSSH\r\n" * 10)

            def _rich_type(self):
                self._send(200, b"{}", RICH_TYPE)

            def _deep_json(self):
                self._send(200, b"[" * 100_000 + b"]" * 100_000)

            def log_message(self, *args):
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        if tls is not None:  # an ssl.SSLContext for the server side: https, as a Jitsi server is asked
            self.socket = tls.wrap_socket(self.socket, server_side=True)
        self.tls = tls is not None
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)
        self.thread.start()

    def handle_error(self, request, client_address):
        pass  # a client that gave up closes the connection: that is what these tests want

    def url(self, path: str = "/room-size") -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.server_address[1]}{path}"

    def stop(self) -> None:
        self._stop.set()
        self.shutdown()
        self.server_close()

    def __enter__(self) -> HostileServer:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
