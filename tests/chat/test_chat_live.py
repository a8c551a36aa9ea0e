"""The chat routes over real HTTP: pytest-django's live server, a real Celery worker, the
seed's request through the polling pair and the stream (read as it arrives), a client that
disconnects mid-turn, and the language-model planner against the fake OpenAI server."""

from __future__ import annotations

import io
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from django.db.backends.signals import connection_created
from PIL import Image

from generations.chat.models import ChatToolCall, ChatTurn
from generations.models import Job
from studio import apikeys
from studio.models import Shop
from tests.chat import fake_openai, sse
from tests.support.worker_fixtures import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

SEED = "make a cozy cabin sticker and put it on a mug"


@pytest.fixture
def key(shop: Shop, settings: Any) -> str:
    settings.API_RATE_LIMIT_PER_MINUTE = 10_000
    settings.RATELIMIT_REDIS_URL = ""
    return apikeys.create_api_key(shop, scopes=["ai:generate"], name="live").raw


def stream_lines(base: str, key: str, body: dict[str, Any]) -> Iterator[tuple[float, str]]:
    """(seconds since the request, line) for each SSE line as it arrives."""
    started = time.monotonic()
    with httpx.stream(
        "POST",
        f"{base}/ai-generations/chat/stream",
        json=body,
        headers={"x-api-key": key},
        timeout=httpx.Timeout(120, connect=10),
    ) as response:
        assert response.status_code == 200, response.read()
        assert response.headers["x-vercel-ai-ui-message-stream"] == "v1"
        assert response.headers["content-type"] == "text/event-stream"
        for line in response.iter_lines():
            if line:  # not the blank line that ends each event
                yield time.monotonic() - started, line


def chunks_of(lines: list[tuple[float, str]]) -> list[tuple[float, dict[str, Any]]]:
    out = []
    for at, line in lines:
        if line.startswith("data: ") and line != "data: [DONE]":
            chunk = json.loads(line[6:])
            sse.check(chunk)
            out.append((at, chunk))
    return out


def check_mockup(url: str) -> None:
    response = httpx.get(url, timeout=60)
    assert response.status_code == 200 and response.headers["content-type"] == "image/jpeg"
    image = Image.open(io.BytesIO(response.content))
    assert image.size == (800, 800)


def test_it_answers_the_seed_request_through_start_and_poll(
    live_server: Any, start_worker: Any, key: str
) -> None:
    worker = start_worker()
    base = live_server.url
    headers = {"x-api-key": key}
    started = httpx.post(
        f"{base}/ai-generations/chat/start",
        json={"messages": [{"role": "user", "content": SEED}]},
        headers=headers,
    )
    assert started.status_code == 200
    job_id = started.json()["jobId"]
    stages = set()

    def done() -> Any:
        body = httpx.get(f"{base}/ai-generations/chat/jobs/{job_id}", headers=headers).json()
        stages.add(body.get("stage"))
        return body if body["status"] != "running" else None

    body = wait_for(done, timeout=120, what="the chat job", worker=worker)
    assert body["status"] == "done", body
    assert stages & {"generating image", "removing background", "building the mockup"}
    response = body["response"]
    assert len(response["images"]) == 2 and response["costCents"] == 3
    for image in response["images"]:
        assert httpx.get(image["imageUrl"]).status_code == 200
    assert response["mockup"]["product"] == "mug"
    check_mockup(response["mockup"]["url"])


def test_it_streams_the_seed_request_and_a_follow_up(
    live_server: Any, start_worker: Any, key: str
) -> None:
    start_worker()
    user = {"id": "u1", "role": "user", "parts": [{"type": "text", "text": SEED}]}
    lines = list(stream_lines(live_server.url, key, {"id": "live-1", "messages": [user]}))
    assert lines[-1][1] == "data: [DONE]"
    chunks = chunks_of(lines)
    sse.check_sequence([c for _at, c in chunks])
    first_text = next(at for at, c in chunks if c["type"] == "text-delta")
    first_output = next(at for at, c in chunks if c["type"] == "tool-output-available")
    finished = next(at for at, c in chunks if c["type"] == "finish")
    # Streamed as it happens: the intro arrives before the first tool finishes, well before the end.
    assert first_text < first_output < finished
    types = [c["type"] for _at, c in chunks]
    assert types.count("file") == 3 and "data-mockup" in types
    mockup = next(c for _at, c in chunks if c["type"] == "data-mockup")["data"]
    check_mockup(mockup["url"])

    reply = {
        "id": chunks[0][1]["messageId"],
        "role": "assistant",
        "parts": [{"type": "text", "text": sse.text_of([c for _at, c in chunks])}],
    }
    follow = {"id": "u2", "role": "user", "parts": [{"type": "text", "text": "now on a hoodie"}]}
    lines = list(
        stream_lines(live_server.url, key, {"id": "live-1", "messages": [user, reply, follow]})
    )
    chunks = chunks_of(lines)
    tools = [c["toolName"] for _at, c in chunks if c["type"] == "tool-input-available"]
    assert tools == ["build_mockup"]
    hoodie = next(c for _at, c in chunks if c["type"] == "data-mockup")["data"]
    assert hoodie["product"] == "hoodie" and hoodie["imageId"] == mockup["imageId"]
    check_mockup(hoodie["url"])


@pytest.fixture
def server_connections() -> Iterator[list[Any]]:
    """Every database connection opened outside the test's own thread (the live server's
    request threads), to check none is left open."""
    opened: list[Any] = []

    def created(sender: Any, connection: Any, **kwargs: Any) -> None:
        if threading.current_thread() is not threading.main_thread():
            opened.append(connection)

    connection_created.connect(created)
    yield opened
    connection_created.disconnect(created)


def test_it_cancels_the_turn_when_the_client_disconnects(
    live_server: Any,
    start_worker: Any,
    key: str,
    shop: Shop,
    server_connections: list[Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """GIVEN a slow image engine WHEN the client drops the stream while the art is being made
    THEN the turn and its generation job are canceled and refunded, the worker is free for the
    next turn, and no database connection is left open by the stream."""
    monkeypatch.setenv("STUDIO_SLOW_ENGINE_SECONDS", "15")  # the worker's generation: slow
    worker = start_worker()
    Shop.objects.filter(id=shop.id).update(default_model="test:slow")
    balance = Shop.objects.get(id=shop.id).balance_cents
    body = {"messages": [{"role": "user", "content": "make a fox badge"}]}
    for _at, line in stream_lines(live_server.url, key, body):
        if '"stage":"generating image"' in line:
            break  # leaving the block closes the connection mid-turn
    turn = ChatTurn.objects.get()
    job = wait_for(
        lambda: Job.objects.filter(id=turn.job_id, status=Job.Status.CANCELED).first(),
        timeout=30,
        what="the turn's job to be canceled",
        worker=worker,
    )
    assert job.stage == "canceled: the client disconnected"
    child = ChatToolCall.objects.get(turn=turn).job
    wait_for(
        lambda: Job.objects.get(id=child.id).status == Job.Status.CANCELED,
        timeout=30,
        what="the generation job to be canceled",
        worker=worker,
    )
    assert Shop.objects.get(id=shop.id).balance_cents == balance  # refunded
    assert server_connections  # the stream's thread had one
    wait_for(
        lambda: all(c.connection is None for c in server_connections),
        timeout=10,
        what="the stream's database connection to close",
    )

    # The worker is free: the next turn runs to the end.
    body = {"messages": [{"role": "user", "content": "make a fox badge"}], "id": "next"}
    lines = list(stream_lines(live_server.url, key, body))
    assert lines[-1][1] == "data: [DONE]"
    assert any('"finishReason":"stop"' in line for _at, line in lines)


def test_it_plans_with_a_language_model_through_the_worker(
    live_server: Any, start_worker: Any, key: str, monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    with fake_openai.serve(fake_openai.design_model) as (base, seen):
        # The worker reads its settings from the environment at start.
        monkeypatch.setenv("CHAT_MODEL", "gpt-fake-mini")
        monkeypatch.setenv("OPENAI_BASE_URL", base)
        monkeypatch.setenv("OPENAI_API_KEY", "sk-live")
        settings.CHAT_MODEL = "gpt-fake-mini"  # this process (the door) knows it too
        start_worker()
        user = {"id": "u1", "role": "user", "parts": [{"type": "text", "text": SEED}]}
        lines = list(stream_lines(live_server.url, key, {"id": "llm-1", "messages": [user]}))
    chunks = [c for _at, c in chunks_of(lines)]
    sse.check_sequence(chunks)
    tools = [c["toolName"] for c in chunks if c["type"] == "tool-input-available"]
    assert tools == ["generate_image", "remove_background", "search_products", "build_mockup"]
    assert sse.text_of(chunks).startswith("Sure! I'll make a cozy cabin sticker")
    assert [c["type"] for c in chunks].count("start-step") == 5
    assert len(seen) == 5 and seen[0].headers["authorization"] == "Bearer sk-live"
    mockup = next(c for c in chunks if c["type"] == "data-mockup")["data"]
    check_mockup(mockup["url"])
