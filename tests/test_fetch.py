"""The SSRF-safe fetcher: refused targets never see a connection; pinning; caps."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import httpx
import pytest

from studio.fetch import FetchError, check_url, fetch, parse_ip_literal


class Recorder(httpx.BaseTransport):
    """A transport that records requests instead of connecting."""

    def __init__(self, responses: list[httpx.Response] | None = None) -> None:
        self.requests: list[httpx.Request] = []
        self.responses = responses or []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.responses.pop(0) if self.responses else httpx.Response(200, content=b"ok")


def public(host: str, port: int) -> list[str]:
    return ["93.184.216.34"]


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/x",
        "http://0.0.0.0/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://2130706433/",
        "http://0x7f000001/",
        "http://0177.0.0.1/",
        "http://127.1/",
        "http://10.0.0.5/",
        "http://192.168.1.1/",
        "http://172.16.0.1/",
        "http://100.64.0.1/",
        "http://[fe80::1]/",
        "http://[fc00::1]/",
        "http://[::]/",
        "http://224.0.0.1/",
    ],
)
def test_it_rejects_private_targets_without_connecting(url):
    transport = Recorder()
    with pytest.raises(FetchError) as err:
        fetch(url, transport=transport, resolver=public)
    assert err.value.blocked
    assert transport.requests == []


@pytest.mark.parametrize(
    "url",
    ["file:///etc/passwd", "gopher://x/", "ftp://example.com/", "http:///nohost", "not a url"],
)
def test_it_rejects_other_schemes_and_junk(url):
    with pytest.raises(FetchError):
        fetch(url, transport=Recorder(), resolver=public)


def test_it_rejects_a_name_resolving_to_a_private_address():
    transport = Recorder()
    with pytest.raises(FetchError, match="private"):
        fetch("http://evil.example/", transport=transport, resolver=lambda h, p: ["10.1.2.3"])
    assert transport.requests == []


def test_it_rejects_when_any_resolved_address_is_private():
    with pytest.raises(FetchError):
        check_url("http://mixed.example/", resolver=lambda h, p: ["93.184.216.34", "127.0.0.1"])


def test_it_pins_the_checked_address_and_keeps_the_host_name():
    transport = Recorder(
        [httpx.Response(200, content=b"img", headers={"content-type": "image/png"})]
    )
    result = fetch("https://cdn.example.com/a.png?x=1", transport=transport, resolver=public)
    (req,) = transport.requests
    assert req.url.host == "93.184.216.34"
    assert req.url.query == b"x=1"
    assert req.headers["host"] == "cdn.example.com"
    assert req.extensions["sni_hostname"] == "cdn.example.com"
    assert result.content == b"img" and result.content_type == "image/png"


def test_it_rechecks_every_redirect():
    transport = Recorder([httpx.Response(302, headers={"location": "http://169.254.169.254/"})])
    with pytest.raises(FetchError, match="private"):
        fetch("http://ok.example/", transport=transport, resolver=public)
    assert len(transport.requests) == 1  # the private hop was never contacted


def test_it_follows_at_most_three_redirects():
    hops = [httpx.Response(302, headers={"location": f"/r{i}"}) for i in range(5)]
    transport = Recorder(hops)
    with pytest.raises(FetchError, match="redirects"):
        fetch("http://ok.example/", transport=transport, resolver=public)
    assert len(transport.requests) == 4


def test_it_caps_the_body():
    transport = Recorder([httpx.Response(200, content=b"x" * 2000)])
    with pytest.raises(FetchError, match="larger"):
        fetch("http://ok.example/", transport=transport, resolver=public, max_bytes=1000)


def test_parse_ip_literal_normalises_legacy_spellings():
    assert str(parse_ip_literal("2130706433")) == "127.0.0.1"
    assert str(parse_ip_literal("0x7f.1")) == "127.0.0.1"
    assert parse_ip_literal("example.com") is None


class _Slow(BaseHTTPRequestHandler):
    def do_GET(self):
        import time

        time.sleep(2)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_it_times_out_on_a_real_slow_server(settings):
    settings.FETCH_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    server = HTTPServer(("127.0.0.1", 0), _Slow)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with pytest.raises(FetchError, match="in time"):
            fetch(f"http://127.0.0.1:{server.server_port}/", timeout=0.5)
    finally:
        server.shutdown()
