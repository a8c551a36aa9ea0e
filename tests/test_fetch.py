"""The SSRF-safe fetcher: refused targets never see a connection; pinning; caps."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import httpx
import pytest

from studio.fetch import FetchError, check_url, fetch, parse_ip_literal
from tests.support.trickle import Trickler


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


def test_it_pins_the_checked_address_and_keeps_the_host_name(settings, stub_dns):
    """GIVEN a name the (stub) resolver maps to a local server WHEN it is fetched THEN the
    connection goes to the checked address while the request still names the host."""
    settings.FETCH_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    stub_dns.add("cdn.example.com", "127.0.0.1")
    seen = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            seen["host"], seen["path"] = self.headers["Host"], self.path
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", "3")
            self.end_headers()
            self.wfile.write(b"img")

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        port = server.server_port
        result = fetch(f"http://CDN.example.com:{port}/a.png?x=1")
    finally:
        server.shutdown()
        server.server_close()
    assert seen == {"host": f"cdn.example.com:{port}", "path": "/a.png?x=1"}
    assert result.content == b"img" and result.content_type == "image/png"
    assert result.url == f"http://cdn.example.com:{port}/a.png?x=1"


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


def test_it_rejects_a_server_that_trickles_its_headers(settings):
    """GIVEN a server that sends its headers a byte a second WHEN it is fetched with a 2.5 s
    deadline THEN the fetch fails with a time-out (per-read time-outs alone never fire)."""
    settings.FETCH_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    server = Trickler(interval=1.0)
    try:
        with pytest.raises(FetchError, match="in time"):
            fetch(f"http://127.0.0.1:{server.port}/slow.png", timeout=2.5)
        assert server.closed.wait(5)  # and the connection was closed
    finally:
        server.close()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://" + "a" * 64 + ".example.com/x.png", "longer than 63"),
        ("http://" + ("abcdefghij." * 24) + "com/", "longer than 253"),
        ("http://a..example.com/", "empty label"),
        ("http://exa_mple-.com/", "cannot have"),
        ("http://-lead.example.com/", "cannot have"),
        ("http://%65xample.com/", "cannot have"),
        ("http://user:pass@example.com/a.png", "user name or password"),
        ("http://example.com@127.0.0.1/", "user name or password"),
        ("http://example.com\\@127.0.0.1/", "backslashes"),
        ("http://exa\tmple.com/", "control characters"),
        ("http://example.com/a\r\nX-Injected: 1", "control characters"),
        ("http://example.com\x00.evil/", "control characters"),
        ("http://\ud800.example.com/", "not a valid name"),
    ],
)
def test_it_rejects_bad_host_names_userinfo_and_ambiguous_characters(url, message, stub_dns):
    transport = Recorder()
    with pytest.raises(FetchError, match=message) as err:
        fetch(url, transport=transport, resolver=public)
    assert err.value.blocked
    assert transport.requests == []
    assert stub_dns.asked == []  # refused before any lookup


def test_it_fetches_international_names_in_their_ascii_form():
    transport = Recorder()
    seen = []
    result = fetch(
        "https://bücher.example/a.png",
        transport=transport,
        resolver=lambda h, p: seen.append(h) or ["93.184.216.34"],
    )
    assert seen == ["xn--bcher-kva.example"]
    assert transport.requests[0].url.raw_host == b"xn--bcher-kva.example"
    assert result.url == "https://xn--bcher-kva.example/a.png"


def test_it_gives_up_on_a_resolver_that_hangs():
    import time

    release = threading.Event()

    def hanging(host, port):
        release.wait(30)
        return ["93.184.216.34"]

    try:
        with pytest.raises(FetchError, match="took too long"):
            fetch("http://slow-dns.example/", transport=Recorder(), resolver=hanging, timeout=0.3)
    finally:
        release.set()
    time.sleep(0)  # the lookup thread ends once released


def test_it_caps_concurrent_fetches_per_shop(settings):
    """GIVEN a shop already running its maximum of fetches WHEN it starts one more THEN that one
    is refused as busy, and a slot freed by a finished fetch can be taken again."""
    from studio.fetch import shop_slot

    settings.FETCH_CONCURRENCY_PER_SHOP = 2
    settings.FETCH_SLOT_WAIT_SECONDS = 0.1
    with shop_slot(41, 5), shop_slot(41, 5):
        with pytest.raises(FetchError, match="already has 2 downloads") as err:
            fetch("http://ok.example/", transport=Recorder(), resolver=public, shop=41)
        assert err.value.busy
        # Another shop is not affected.
        assert fetch("http://ok.example/", transport=Recorder(), resolver=public, shop=42)
    assert fetch("http://ok.example/", transport=Recorder(), resolver=public, shop=41)


def test_it_fetches_when_the_cache_for_slots_is_down(settings, monkeypatch):
    from django.core.cache import caches

    def broken(*args, **kwargs):
        raise ConnectionError("cache down")

    monkeypatch.setattr(type(caches["default"]), "add", broken)
    result = fetch("http://ok.example/", transport=Recorder(), resolver=public, shop=7)
    assert result.status == 200
