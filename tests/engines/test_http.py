"""The shared HTTP plumbing: retries, Retry-After, timeouts, provider messages, downloads."""

from __future__ import annotations

import email.utils
import time

import httpx
import pytest
import respx

from generations.engines.base import EngineError
from generations.engines.http import (
    RetryPolicy,
    Transport,
    decode_data_uri,
    download,
    make_client,
    message_from,
    parse_retry_after,
    split_provider_model,
)

from .conftest import png

BASE = "https://api.example.test"


def test_it_retries_a_429_after_the_retry_after_it_was_given(retry, sleeps):
    with respx.mock(base_url=BASE) as router, make_client(BASE) as client:
        route = router.get("/x").mock(
            side_effect=[
                httpx.Response(429, headers={"Retry-After": "2"}, json={"detail": "slow down"}),
                httpx.Response(200, json={"ok": True}),
            ]
        )
        answer = Transport("P", retry).json(client, "GET", "/x")
    assert answer == {"ok": True}
    assert route.call_count == 2
    assert sleeps == [2.0]


def test_it_backs_off_exponentially_on_5xx_then_gives_up_retryable(retry, sleeps):
    with respx.mock(base_url=BASE) as router, make_client(BASE) as client:
        router.get("/x").mock(return_value=httpx.Response(503, json={"detail": "overloaded"}))
        with pytest.raises(EngineError, match="P: overloaded") as info:
            Transport("P", retry).request(client, "GET", "/x")
    assert info.value.retryable is True
    assert sleeps == [0.01, 0.02]  # three attempts, two waits, doubling


def test_it_retries_timeouts_and_reports_them(retry, sleeps):
    with respx.mock(base_url=BASE) as router, make_client(BASE) as client:
        route = router.get("/x").mock(
            side_effect=[httpx.ReadTimeout("slow"), httpx.Response(200, json={})]
        )
        Transport("P", retry).request(client, "GET", "/x")
        assert route.call_count == 2
        route.mock(side_effect=httpx.ConnectTimeout("down"))
        with pytest.raises(EngineError, match="did not answer in time") as info:
            Transport("P", retry).request(client, "GET", "/x")
    assert info.value.retryable is True


def test_it_fails_permanent_errors_at_once_with_the_provider_message(retry, sleeps):
    with respx.mock(base_url=BASE) as router, make_client(BASE) as client:
        route = router.post("/x").mock(
            return_value=httpx.Response(
                400, json={"error": {"message": "Invalid size 7x7", "code": "invalid_value"}}
            )
        )
        with pytest.raises(EngineError, match="Invalid size 7x7") as info:
            Transport("P", retry).request(client, "POST", "/x")
    assert info.value.retryable is False
    assert route.call_count == 1 and sleeps == []


def test_it_hands_a_long_retry_after_back_to_the_job_queue(retry, sleeps):
    with respx.mock(base_url=BASE) as router, make_client(BASE) as client:
        router.get("/x").mock(return_value=httpx.Response(429, headers={"Retry-After": "600"}))
        with pytest.raises(EngineError) as info:
            Transport("P", retry).request(client, "GET", "/x")
    assert info.value.retryable and info.value.retry_after == 600
    assert sleeps == []  # a worker is not held for ten minutes


def test_it_names_credentials_on_401(retry):
    with respx.mock(base_url=BASE) as router, make_client(BASE) as client:
        router.get("/x").mock(return_value=httpx.Response(401, json={"detail": "bad token"}))
        with pytest.raises(EngineError, match=r"bad token.*check the credentials"):
            Transport("P", retry).request(client, "GET", "/x")


def test_it_parses_retry_after_seconds_and_dates():
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after("0.5") == 0.5
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    later = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 25 <= parse_retry_after(later) <= 31


def test_it_reads_each_providers_error_shape():
    assert message_from({"error": {"message": "m1", "type": "t"}}) == "m1"
    assert message_from({"detail": "m2"}) == "m2"
    assert message_from({"detail": [{"msg": "field required", "loc": ["prompt"]}]}) == (
        "field required"
    )
    assert message_from({"name": "bad_request", "errors": ["prompt: required"]}) == (
        "bad_request: prompt: required"
    )
    assert message_from(
        {"error": {"type": "x", "message": "Prompt outputs failed validation", "details": "ckpt"}}
    ) == ("Prompt outputs failed validation: ckpt")


def test_it_downloads_and_sends_credentials_only_to_the_api_host(retry):
    image = png()
    with respx.mock() as router, make_client(BASE, headers={"Authorization": "Bearer k"}) as api:
        cdn = router.get("https://cdn.example.test/out.png").mock(
            return_value=httpx.Response(200, content=image, headers={"Content-Type": "image/png"})
        )
        own = router.get(f"{BASE}/files/1").mock(
            return_value=httpx.Response(200, content=image, headers={"Content-Type": "image/png"})
        )
        data, kind = download(
            Transport("P", retry), "https://cdn.example.test/out.png", auth_client=api
        )
        download(Transport("P", retry), f"{BASE}/files/1", auth_client=api)
    assert data == image and kind == "image/png"
    assert "authorization" not in cdn.calls[0].request.headers
    assert own.calls[0].request.headers["authorization"] == "Bearer k"


def test_it_decodes_data_uris_and_refuses_other_schemes(retry):
    assert decode_data_uri("data:image/png;base64,aGk=") == (b"hi", "image/png")
    with pytest.raises(EngineError, match="cannot fetch"):
        download(Transport("P", retry), "file:///etc/passwd")


def test_it_splits_pinned_provider_inputs():
    assert split_provider_model("a/b?steps=4&fast=true&style=raw") == (
        "a/b",
        {"steps": 4, "fast": True, "style": "raw"},
    )
    assert split_provider_model("gpt-image-1") == ("gpt-image-1", {})


def test_downloads_are_capped_while_streaming(retry):
    big = b"x" * 5000
    with respx.mock() as router:
        router.get("https://cdn.example.test/declared.png").mock(
            return_value=httpx.Response(200, content=big)
        )
        router.get("https://cdn.example.test/chunked.png").mock(
            return_value=httpx.Response(200, stream=httpx.ByteStream(big))
        )
        for name in ("declared", "chunked"):
            with pytest.raises(EngineError, match="larger than 1,000 bytes"):
                download(
                    Transport("P", retry), f"https://cdn.example.test/{name}.png", max_bytes=1000
                )
        data, _ = download(
            Transport("P", retry), "https://cdn.example.test/declared.png", max_bytes=5000
        )
    assert data == big


def test_a_canceled_call_closes_its_connection_to_the_provider(monkeypatch):
    """GIVEN a provider that accepted a request and never answers WHEN the job is canceled at
    a heartbeat THEN the client's connection is shut (the provider sees it close) and the call's
    thread has ended by the time with_heartbeat raises."""
    import socket
    import threading

    from generations.engines.base import JobCanceled
    from generations.engines.http import with_heartbeat

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]
    closed = threading.Event()

    def hold() -> None:
        conn, _ = listener.accept()
        conn.recv(65536)
        conn.settimeout(30)
        try:
            if conn.recv(1) == b"":  # the client hung up
                closed.set()
        except OSError:
            closed.set()
        finally:
            conn.close()

    threading.Thread(target=hold, daemon=True).start()
    beats = []

    def progress(pct, stage):
        beats.append(stage)
        if len(beats) == 2:
            raise JobCanceled("job")

    transport = Transport("P", RetryPolicy(attempts=1, sleep=lambda s: None))
    try:
        with make_client(f"http://127.0.0.1:{port}") as client, pytest.raises(JobCanceled):
            with_heartbeat(
                lambda: transport.request(client, "GET", "/never"),
                progress,
                5,
                "waiting",
                every=0.05,
                client=client,
            )
        assert closed.wait(5)
        assert not [t for t in threading.enumerate() if t.name.startswith("provider-call")]
    finally:
        listener.close()


def test_downloads_off_the_provider_host_go_through_the_safe_fetcher(retry, stub_dns):
    """Output URLs a provider hands back are user-controlled as far as we know: a private
    address, a redirect from the provider's host to one, and a name that does not resolve are
    all refused without a connection."""
    stub_dns.add("evil.example.test", "10.0.0.8")
    with respx.mock(assert_all_called=False) as router, make_client(BASE) as api:
        private = router.get("https://evil.example.test/out.png")
        hop = router.get(f"{BASE}/files/2").mock(
            return_value=httpx.Response(302, headers={"Location": "http://169.254.169.254/x"})
        )
        with pytest.raises(EngineError, match="will not fetch"):
            download(Transport("P", retry), "https://evil.example.test/out.png", auth_client=api)
        with pytest.raises(EngineError, match="will not fetch"):
            download(Transport("P", retry), f"{BASE}/files/2", auth_client=api)
    assert not private.called and hop.call_count == 1


def test_downloads_give_up_on_a_server_that_trickles_its_headers(settings):
    from tests.support.trickle import Trickler

    settings.FETCH_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    settings.ENGINE_DOWNLOAD_SECONDS = 2
    with Trickler(interval=1.0) as server:
        with pytest.raises(EngineError, match="in time"):
            download(Transport("P", RetryPolicy(attempts=1)), server.url + ".png")
        assert server.closed.wait(5)
