"""A real static HTTP server on 127.0.0.1 for the publish/pull/browser tests.

It serves a directory like any plain web server (ETag and Last-Modified,
``304 Not Modified`` on a matching conditional request) and can misbehave on
purpose for chosen paths: corrupt the body, truncate it, stall, answer 404 or
500, or drop the connection without answering.
"""

from __future__ import annotations

import hashlib
import mimetypes
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from email.utils import formatdate, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

FAULTS = ("corrupt", "truncate", "slow", "404", "500", "drop")


class StaticServer:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.faults: dict[str, str] = {}  # path prefix (no leading /) -> fault
        self.fault_times: dict[str, int] = {}  # prefix -> how many times left (absent: always)
        self.slow_seconds = 3.0
        self.log: list[tuple[str, int]] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                server._handle(self)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        # a short poll interval: stopping the server waits for one poll
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)

    def start(self) -> StaticServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def fault(self, prefix: str, kind: str, times: int | None = None) -> None:
        assert kind in FAULTS
        self.faults[prefix] = kind
        if times is not None:
            self.fault_times[prefix] = times

    def clear(self) -> None:
        self.faults.clear()
        self.fault_times.clear()
        self.log.clear()

    def _fault_for(self, rel: str) -> str | None:
        with self._lock:
            for prefix, kind in self.faults.items():
                if rel.startswith(prefix):
                    left = self.fault_times.get(prefix)
                    if left is not None:
                        if left <= 0:
                            continue
                        self.fault_times[prefix] = left - 1
                    return kind
        return None

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        rel = unquote(urlsplit(h.path).path).lstrip("/")
        if rel == "" or rel.endswith("/"):
            rel += "index.html"
        target = (self.root / rel).resolve()
        fault = self._fault_for(rel)
        if fault == "drop":
            self._record(rel, 0)
            h.close_connection = True
            h.connection.shutdown(socket.SHUT_RDWR)
            return
        if fault in ("404", "500"):
            return self._send_error(h, rel, int(fault))
        if not str(target).startswith(str(self.root.resolve())) or not target.is_file():
            return self._send_error(h, rel, 404)
        body = target.read_bytes()
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        mtime = target.stat().st_mtime
        last_modified = formatdate(mtime, usegmt=True)
        if h.headers.get("If-None-Match") == etag or (
                h.headers.get("If-None-Match") is None and h.headers.get("If-Modified-Since")
                and _not_after(h.headers["If-Modified-Since"], mtime)):
            self._record(rel, 304)
            h.send_response(304)
            h.send_header("ETag", etag)
            h.send_header("Last-Modified", last_modified)
            h.end_headers()
            return
        if fault == "corrupt":
            body = body[:-2] + bytes([body[-2] ^ 0x20]) + body[-1:] if len(body) > 2 else b"x"
        self._record(rel, 200)
        h.send_response(200)
        ctype = mimetypes.guess_type(rel)[0] or "application/octet-stream"
        if ctype.startswith("text/") or ctype == "application/json":
            ctype += "; charset=utf-8"
        h.send_header("Content-Type", ctype)
        h.send_header("Content-Length", str(len(body)))
        h.send_header("ETag", etag)
        h.send_header("Last-Modified", last_modified)
        h.end_headers()
        if fault == "slow":
            h.wfile.write(body[:10])
            h.wfile.flush()
            time.sleep(self.slow_seconds)
            with suppress(OSError):
                h.wfile.write(body[10:])
            return
        if fault == "truncate":
            h.wfile.write(body[: len(body) // 2])
            h.wfile.flush()
            h.close_connection = True
            h.connection.shutdown(socket.SHUT_RDWR)
            return
        h.wfile.write(body)

    def _send_error(self, h: BaseHTTPRequestHandler, rel: str, code: int) -> None:
        self._record(rel, code)
        body = f"error {code}\n".encode()
        h.send_response(code)
        h.send_header("Content-Type", "text/plain")
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    def _record(self, rel: str, code: int) -> None:
        with self._lock:
            self.log.append((rel, code))


def _not_after(header: str, mtime: float) -> bool:
    try:
        since = parsedate_to_datetime(header).timestamp()
    except (TypeError, ValueError):
        return False
    return int(mtime) <= since


@contextmanager
def serve(root: Path) -> Iterator[StaticServer]:
    server = StaticServer(root).start()
    try:
        yield server
    finally:
        server.stop()
