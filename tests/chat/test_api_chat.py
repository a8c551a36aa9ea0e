"""Seed 000's chat routes in process: start → poll, the UI message stream's encoding, follow-ups
over the API, and the errors (the jobs run inline here; tests/chat/test_chat_live.py runs them
on a real worker behind a live server)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client

from generations import actions
from generations.api import chat as chat_api_module
from generations.chat.models import ChatToolCall, ChatTurn, Conversation
from generations.models import Job
from mockups.actions import update_shop_url_settings
from studio.models import Membership, Shop
from tests.api.conftest import ApiClient
from tests.chat import sse

pytestmark = pytest.mark.django_db

SEED = "make a cozy cabin sticker and put it on a mug"
START = "/ai-generations/chat/start"
STREAM = "/ai-generations/chat/stream"


def poll(api: ApiClient, job_id: str) -> Any:
    response = api.get(f"/ai-generations/chat/jobs/{job_id}")
    assert response.status_code == 200, response.content
    return response.json()


def run(job_id: str) -> None:
    actions.execute_job(job_id)


def fetch(url: str) -> Any:
    """GET an absolute URL of this test server; `.body` holds the bytes."""
    parts = urlsplit(url)
    assert parts.netloc == "testserver", url
    response = Client().get(parts.path + ("?" + parts.query if parts.query else ""))
    response.body = b"".join(response.streaming_content) if response.streaming else response.content
    return response


@pytest.fixture
def inline_stream(monkeypatch: pytest.MonkeyPatch) -> None:
    """The stream route's turn runs to the end as soon as it is created (no worker here), so the
    stream replays the whole log."""
    real = chat_api_module.start_turn

    def start_and_run(*args: Any, **kwargs: Any) -> ChatTurn:
        turn = real(*args, **kwargs)
        actions.execute_job(str(turn.job_id))
        return turn

    monkeypatch.setattr(chat_api_module, "start_turn", start_and_run)


def test_it_handles_start_then_poll_as_the_seed_shows(chat_api: ApiClient) -> None:
    started = chat_api.post(START, {"messages": [{"role": "user", "content": SEED}]})
    assert started.status_code == 200
    job_id = started.json()["jobId"]
    assert poll(chat_api, job_id) == {"status": "running", "stage": "queued"}
    run(job_id)
    body = poll(chat_api, job_id)
    assert set(body) == {"status", "response"} and body["status"] == "done"
    response = body["response"]
    assert response["text"].startswith("I'll make a cozy cabin sticker")
    assert response["costCents"] == 3
    sticker, cutout = response["images"]
    assert {"id", "imageUrl", "width", "height"} <= set(sticker)
    assert sticker["imageUrl"].startswith("http://testserver/media/shops/")
    image = fetch(cutout["imageUrl"])
    assert image.status_code == 200 and image["Content-Type"] == "image/png"
    mockup = response["mockup"]
    assert mockup["product"] == "mug" and mockup["imageId"] == cutout["id"]
    assert "sig=" in mockup["url"]  # new shops require signed mockup URLs by default
    rendered = fetch(mockup["url"])
    assert rendered.status_code == 200 and rendered["Content-Type"] == "image/jpeg"
    assert rendered["X-Mockup-Cache"] == "hit"  # the turn rendered it already
    assert rendered.body[:2] == b"\xff\xd8"


def test_the_mockup_url_is_signed_only_when_the_shop_requires_it(
    chat_api: ApiClient, shop: Shop
) -> None:
    job_id = chat_api.post(START, {"messages": [{"role": "user", "content": SEED}]}).json()["jobId"]
    run(job_id)
    url = poll(chat_api, job_id)["response"]["mockup"]["url"]
    assert "sig=" in url
    assert fetch(url).status_code == 200
    unsigned = url.split("&sig=")[0]
    assert fetch(unsigned).status_code == 403
    # What the settings page does: the shop's cached API keys must see the change at once.
    update_shop_url_settings(shop, trusted_origins=shop.trusted_origins, require_signed_urls=False)
    job_id = chat_api.post(START, {"messages": [{"role": "user", "content": SEED}]}).json()["jobId"]
    run(job_id)
    url = poll(chat_api, job_id)["response"]["mockup"]["url"]
    assert "sig=" not in url
    assert fetch(url).status_code == 200, fetch(url).content


def test_it_continues_a_conversation_from_the_resent_history(chat_api: ApiClient) -> None:
    """A start/poll client keeps no id: it sends the whole history back, and the follow-up
    reuses the design instead of generating again."""
    first = chat_api.post(START, {"messages": [{"role": "user", "content": SEED}]}).json()
    run(first["jobId"])
    reply = poll(chat_api, first["jobId"])["response"]
    messages = [
        {"role": "user", "content": SEED},
        {"role": "assistant", "content": reply["text"]},
        {"role": "user", "content": "now on a hoodie"},
    ]
    second = chat_api.post(START, {"messages": messages}).json()
    assert second["conversationId"] == first["conversationId"]
    run(second["jobId"])
    follow = poll(chat_api, second["jobId"])["response"]
    assert follow["images"] == [] and follow["costCents"] == 1  # the hoodie render
    assert follow["mockup"]["product"] == "hoodie"
    assert follow["mockup"]["imageId"] == reply["mockup"]["imageId"]
    assert Job.objects.filter(kind="generate").count() == 1


def test_it_starts_a_new_conversation_for_an_unknown_history(chat_api: ApiClient) -> None:
    messages = [
        {"role": "user", "content": "make a fox badge"},
        {"role": "assistant", "content": "Something we never said."},
        {"role": "user", "content": "make it blue"},
    ]
    body = chat_api.post(START, {"messages": messages}).json()
    conversation = Conversation.objects.get(id=body["conversationId"])
    assert conversation.turns.count() == 1 and conversation.title == "make a fox badge"


def test_it_streams_the_ui_message_stream_protocol(
    chat_api: ApiClient, inline_stream: None
) -> None:
    response = chat_api.post(
        STREAM,
        {
            "id": "chat-abc",
            "messages": [{"id": "m1", "role": "user", "parts": [{"type": "text", "text": SEED}]}],
            "trigger": "submit-message",
        },
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "text/event-stream"
    assert response["x-vercel-ai-ui-message-stream"] == "v1"
    assert response["Cache-Control"] == "no-cache"
    assert response["x-accel-buffering"] == "no"
    body = b"".join(response.streaming_content).decode()
    chunks, done = sse.parse(body)
    assert done
    sse.check_sequence(chunks)
    turn = ChatTurn.objects.get()
    assert chunks[0]["messageId"] == str(turn.id)
    assert chunks[0]["messageMetadata"]["jobId"] == str(turn.job_id)
    assert turn.conversation.client_id == "chat-abc"
    types = [c["type"] for c in chunks]
    tools = [c["toolName"] for c in chunks if c["type"] == "tool-input-available"]
    assert tools == ["generate_image", "remove_background", "build_mockup"]
    outputs = [c["output"] for c in chunks if c["type"] == "tool-output-available"]
    assert outputs[0]["images"][0]["imageUrl"].startswith("http://testserver/media/")
    assert outputs[0]["costCents"] == 1
    assert outputs[2]["url"].startswith("http://testserver/m/mug?")
    files = [c for c in chunks if c["type"] == "file"]
    assert [f["mediaType"] for f in files] == ["image/png", "image/png", "image/jpeg"]
    mockup = next(c for c in chunks if c["type"] == "data-mockup")["data"]
    assert files[-1]["url"] == mockup["url"] == outputs[2]["url"]
    stages = [c["data"]["stage"] for c in chunks if c["type"] == "data-stage"]
    assert stages[0] == "queued" and "generating image" in stages and stages[-1] == "done"
    assert types.index("text-delta") < types.index("tool-input-start")  # the intro comes first
    assert sse.text_of(chunks).endswith("This cost 3¢.")
    assert chunks[-1] == {
        "type": "finish",
        "finishReason": "stop",
        "messageMetadata": {
            "jobId": str(turn.job_id),
            "conversationId": str(turn.conversation_id),
            "costCents": 3,
        },
    }
    assert fetch(mockup["url"]).status_code == 200


def test_it_streams_a_follow_up_of_the_same_ai_sdk_chat(
    chat_api: ApiClient, inline_stream: None
) -> None:
    def send(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
        response = chat_api.post(
            STREAM, {"id": "chat-1", "messages": messages, "trigger": "submit-message"}
        )
        chunks, _done = sse.parse(b"".join(response.streaming_content).decode())
        return chunks

    user = {"id": "u1", "role": "user", "parts": [{"type": "text", "text": SEED}]}
    first = send([user])
    reply = {
        "id": first[0]["messageId"],
        "role": "assistant",
        "parts": [{"type": "text", "text": sse.text_of(first)}],
    }
    follow = {"id": "u2", "role": "user", "parts": [{"type": "text", "text": "now on a black tee"}]}
    second = send([user, reply, follow])
    tools = [c["toolName"] for c in second if c["type"] == "tool-input-available"]
    assert tools == ["build_mockup"]
    mockup = next(c for c in second if c["type"] == "data-mockup")["data"]
    assert (mockup["product"], mockup["variant"]) == ("tshirt", "black")
    assert Conversation.objects.get().turns.count() == 2


def test_it_regenerates_with_a_new_seed(chat_api: ApiClient, inline_stream: None) -> None:
    user = {"id": "u1", "role": "user", "parts": [{"type": "text", "text": "make a fox badge"}]}
    b"".join(chat_api.post(STREAM, {"id": "c", "messages": [user]}).streaming_content)
    again = chat_api.post(STREAM, {"id": "c", "messages": [user], "trigger": "regenerate-message"})
    b"".join(again.streaming_content)
    first, second = ChatToolCall.objects.filter(name="generate_image").order_by("created_at")
    assert "seed" not in first.arguments and second.arguments["seed"] >= 0
    assert ChatTurn.objects.order_by("position").last().trigger == "regenerate"


def test_it_ends_the_stream_with_the_error_of_a_failed_turn(
    chat_api: ApiClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = chat_api_module.start_turn

    def start_and_fail(*args: Any, **kwargs: Any) -> ChatTurn:
        turn = real(*args, **kwargs)
        actions.fail_job(turn.job, "The worker ran out of memory.")
        return turn

    monkeypatch.setattr(chat_api_module, "start_turn", start_and_fail)
    response = chat_api.post(STREAM, {"messages": [{"role": "user", "content": SEED}]})
    chunks, done = sse.parse(b"".join(response.streaming_content).decode())
    assert done
    sse.check_sequence(chunks)
    assert {"type": "error", "errorText": "The worker ran out of memory."} in chunks
    assert chunks[-1]["finishReason"] == "error"
    job_id = chunks[0]["messageMetadata"]["jobId"]
    assert poll(chat_api, job_id) == {
        "status": "failed",
        "stage": "failed",
        "error": "The worker ran out of memory.",
    }


def test_it_cancels_the_turn_when_the_stream_is_closed_early(chat_api: ApiClient) -> None:
    response = chat_api.post(STREAM, {"messages": [{"role": "user", "content": SEED}]})
    stream = iter(response.streaming_content)
    assert next(stream).startswith(b'data: {"type":"start"')
    # What a WSGI server does when the client goes away: close the iterable (the test client's
    # wrapper closes the response, keeping the test's database connection open).
    response._iterator.close()  # the test client's closing wrapper around our generator
    turn = ChatTurn.objects.get()
    assert turn.job.status == Job.Status.CANCELED
    assert turn.job.stage == "canceled: the client disconnected"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "messages is required."),
        ({"messages": []}, "messages must be a non-empty array of {role, content}."),
        ({"messages": ["hi"]}, "messages[0] must be an object."),
        ({"messages": [{"role": "robot", "content": "x"}]}, "messages[0].role must be one of: user, assistant or system."),
        ({"messages": [{"role": "user"}]}, "Each message needs content (a string) or parts (an array)."),
        ({"messages": [{"role": "assistant", "content": "x"}]}, "The last message must be the user's request (role user)."),
        ({"messages": [{"role": "user", "content": " "}]}, "The message is empty: say what to design."),
        ({"messages": [{"role": "user", "content": "x"}], "trigger": "poke"}, "trigger must be one of: submit-message or regenerate-message."),
        ({"messages": [{"role": "user", "content": "x"}], "id": 5}, "id must be a string."),
        ({"messages": [{"role": "user", "content": "x" * 4001}]}, "The message is longer than 4000 characters."),
    ],
)  # fmt: skip
@pytest.mark.parametrize("route", [START, STREAM])
def test_it_rejects_bad_requests(chat_api: ApiClient, route: str, body: Any, message: str) -> None:
    response = chat_api.post(route, body)
    assert response.status_code == 400
    assert response.json()["error"] == message
    assert not ChatTurn.objects.exists()


def test_it_rejects_a_body_that_is_not_json(chat_api: ApiClient) -> None:
    response = chat_api.post(START, "{not json", content_type="application/json")
    assert (
        response.status_code == 400
        and response.json()["error"] == "The request body is not valid JSON."
    )


def test_it_rejects_calls_without_the_scope_or_key(shop: Shop, api_for: Any) -> None:
    body = {"messages": [{"role": "user", "content": SEED}]}
    assert ApiClient("").post(START, body).status_code == 401
    limited = api_for(shop, ["library:read"])
    for route in (START, STREAM):
        response = limited.post(route, body)
        assert response.status_code == 403
        assert response.json()["error"] == "This API key lacks the ai:generate scope."
    assert limited.get("/ai-generations/chat/jobs/x").status_code == 403


def test_it_rejects_unknown_and_foreign_jobs(
    chat_api: ApiClient, api_for: Any, make_user: Any
) -> None:
    job_id = chat_api.post(START, {"messages": [{"role": "user", "content": SEED}]}).json()["jobId"]
    other_shop = Membership.objects.get(user=make_user("other@example.com")).shop
    other = api_for(other_shop)
    for client, ident in ((other, job_id), (chat_api, "nope"), (chat_api, "0" * 32)):
        response = client.get(f"/ai-generations/chat/jobs/{ident}")
        assert response.status_code == 404
        assert response.json() == {"error": "Chat job not found.", "code": "not_found"}
    generate = Job.objects.create(shop=chat_api_shop(chat_api), kind="generate")
    assert chat_api.get(f"/ai-generations/chat/jobs/{generate.id}").status_code == 404
    response = other.post(
        START,
        {
            "conversationId": str(ChatTurn.objects.get().conversation_id),
            "messages": [{"role": "user", "content": "x"}],
        },
    )
    assert response.status_code == 404 and response.json()["error"] == "Conversation not found."


def chat_api_shop(api: ApiClient) -> Shop:
    from studio import apikeys

    return apikeys.authenticate(api.raw).shop


def test_it_answers_429_when_the_shop_cannot_pay(chat_api: ApiClient, shop: Shop) -> None:
    Shop.objects.filter(id=shop.id).update(plan_budget_cents=0, wallet_cents=0)
    response = chat_api.post(START, {"messages": [{"role": "user", "content": SEED}]})
    assert response.status_code == 429
    assert response.json() == {
        "error": "API credits exhausted and no wallet balance",
        "code": "ResourceExhausted",
        "requiredCents": 2,
        "availableCents": 0,
    }


def test_it_answers_409_while_the_previous_reply_is_made(chat_api: ApiClient) -> None:
    first = chat_api.post(START, {"id": "c9", "messages": [{"role": "user", "content": SEED}]})
    second = chat_api.post(
        START, {"id": "c9", "messages": [{"role": "user", "content": "now on a mug"}]}
    )
    assert first.status_code == 200 and second.status_code == 409
    assert second.json()["error"] == "The previous reply is still being made; wait for it first."


def test_it_replays_a_start_with_the_same_idempotency_key(chat_api: ApiClient) -> None:
    body = {"messages": [{"role": "user", "content": SEED}]}
    first = chat_api.post(START, body, headers={"Idempotency-Key": "k-1"})
    again = chat_api.post(START, body, headers={"Idempotency-Key": "k-1"})
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert ChatTurn.objects.count() == 1


def test_the_mockup_url_carries_the_design_on_the_storage_origin(
    chat_api: ApiClient, settings: Any
) -> None:
    settings.STORAGE_PUBLIC_ORIGIN = "https://{shop}.files.example.com"
    job_id = chat_api.post(START, {"messages": [{"role": "user", "content": SEED}]}).json()["jobId"]
    run(job_id)
    response = poll(chat_api, job_id)["response"]
    asset = parse_qs(urlsplit(response["mockup"]["url"]).query)["asset"][0]
    assert asset.startswith("https://shop-") and ".files.example.com/shops/" in asset
    assert response["images"][0]["imageUrl"].startswith("https://shop-")


def test_the_routes_are_in_the_openapi_document() -> None:
    from generations.api.openapi import document

    paths = document()["paths"]
    stream = paths["/ai-generations/chat/stream"]["post"]
    assert stream["x-scopes"] == ["ai:generate"]
    ok = stream["responses"]["200"]
    assert list(ok["content"]) == ["text/event-stream"]
    assert "x-vercel-ai-ui-message-stream" in ok["headers"]
    assert {"400", "404", "409", "429"} <= set(stream["responses"])
    start = paths["/ai-generations/chat/start"]["post"]
    assert any(p["name"] == "Idempotency-Key" for p in start["parameters"])
    assert "get" in paths["/ai-generations/chat/jobs/{job_id}"]
