"""The HTTP benchmark's load generators send what they are told and count what is not a success.

A few seconds against a stub server on loopback (no Tongban, no database): the whole benchmark takes
minutes and is not a test; only its plumbing is, since a wrong header or body would measure the wrong
endpoint and a redirect would pass for a success."""

from __future__ import annotations

import shutil
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from benchmarks.bench_http import Request, python_run, wrk_run


class _Stub(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # persistent connections, as gunicorn's
    seen: list = []

    def _answer(self, body: bytes) -> None:
        type(self).seen.append((self.command, self.path, dict(self.headers), body))
        status = 302 if self.path == "/redirect" else 201
        self.send_response(status)
        self.send_header("Content-Length", "2")
        if status == 302:
            self.send_header("Location", "/accounts/login/")
        self.end_headers()
        self.wfile.write(b"ok")

    def do_POST(self):  # noqa: N802 - http.server's naming
        self._answer(self.rfile.read(int(self.headers.get("Content-Length", 0))))

    def do_GET(self):  # noqa: N802
        self._answer(b"")

    def log_message(self, *args):
        pass


@pytest.fixture
def stub():
    _Stub.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Stub)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _request(base: str, path: str) -> Request:
    body = '{"q": "开火锅店", "quote": "]] ]=]"}'.encode()
    return Request("stub", base, "POST", path, {"Cookie": "sessionid=abc; csrftoken=t", "X-CSRFToken": "t",
                                                 "Content-Type": "application/json"}, body)


def _check(sample, base_seen, *, redirects: bool) -> None:
    assert sample.requests > 0 and sample.req_s > 0 and 0 < sample.p50_ms <= sample.p99_ms
    method, path, headers, body = base_seen[0]
    assert method == "POST" and headers["Cookie"] == "sessionid=abc; csrftoken=t" and headers["X-CSRFToken"] == "t"
    assert body.decode() == '{"q": "开火锅店", "quote": "]] ]=]"}'
    if redirects:
        assert sample.errors == sample.requests  # a 302 is not a success
    else:
        assert sample.errors == 0


@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed (scripts/system-packages.txt)")
@pytest.mark.parametrize("path", ["/ok", "/redirect"])
def test_wrk_sends_method_headers_and_body_and_counts_non_2xx(stub, tmp_path, path):
    sample = wrk_run(_request(stub, path), 1, 1, 2, tmp_path)
    _check(sample, _Stub.seen, redirects=path == "/redirect")


@pytest.mark.parametrize("path", ["/ok", "/redirect"])
def test_python_clients_send_method_headers_and_body_and_count_non_2xx(stub, path):
    sample = python_run(_request(stub, path), 1, 2)
    _check(sample, _Stub.seen, redirects=path == "/redirect")
