"""The language-model planner against a fake OpenAI-compatible server that streams the real
protocol: tool calls chosen by the model run as the studio's tools, arguments are validated,
steps are bounded, and the offline planner takes over when the provider fails."""

from __future__ import annotations

import json
from typing import Any

import pytest

from generations.chat import llm
from generations.chat.models import ChatEvent, ChatToolCall
from generations.models import Job
from tests.chat import fake_openai
from tests.chat.fake_openai import Call, Json, Stream

pytestmark = pytest.mark.django_db


@pytest.fixture
def model(settings: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """configure(script) → (base url, seen requests), with CHAT_MODEL pointing at the fake."""
    monkeypatch.setattr(llm.time, "sleep", lambda _s: None)  # retries without waiting
    servers: list[Any] = []

    def configure(script: fake_openai.Script) -> list[fake_openai.Seen]:
        cm = fake_openai.serve(script)
        base, seen = cm.__enter__()
        servers.append(cm)
        settings.CHAT_MODEL = "gpt-fake-mini"
        settings.OPENAI_BASE_URL = base
        settings.OPENAI_API_KEY = "sk-test-chat"
        return seen

    yield configure
    for cm in servers:
        cm.__exit__(None, None, None)


def kinds(turn: Any) -> list[str]:
    return list(ChatEvent.objects.filter(turn=turn).values_list("kind", flat=True))


def test_it_handles_a_tool_calling_model_end_to_end(model: Any, say: Any) -> None:
    """GIVEN a model that streams text and tool calls WHEN the seed's request is sent THEN the
    model's calls run as the studio's tools, in order, and it gets each result back."""
    seen = model(fake_openai.design_model)
    turn = say("make a cozy cabin sticker and put it on a mug")
    assert turn.job.status == Job.Status.COMPLETED, turn.job.error
    calls = list(ChatToolCall.objects.filter(turn=turn).values_list("name", "status"))
    assert calls == [
        ("generate_image", "done"),
        ("remove_background", "done"),
        ("search_products", "done"),
        ("build_mockup", "done"),
    ]
    assert turn.planner == "model gpt-fake-mini"
    assert turn.reply.startswith("Sure! I'll make a cozy cabin sticker")
    assert turn.reply.endswith("Here is your cozy cabin sticker on a mug.")
    assert turn.cost_cents == 3
    assert turn.state["produced"]["mockup"]["product"] == "mug"

    # The outgoing requests: the real protocol, with the tools and their results.
    assert len(seen) == 5
    first = seen[0]
    assert first.path == "/v1/chat/completions"
    assert first.headers["authorization"] == "Bearer sk-test-chat"
    assert first.body["model"] == "gpt-fake-mini" and first.body["stream"] is True
    assert first.body["tool_choice"] == "auto"
    names = [t["function"]["name"] for t in first.body["tools"]]
    assert names == [
        "generate_image",
        "remove_background",
        "search_products",
        "build_mockup",
        "create_listing",
    ]
    schema = first.body["tools"][0]["function"]["parameters"]
    assert schema["required"] == ["prompt"] and schema["additionalProperties"] is False
    assert first.body["messages"][0]["role"] == "system"
    assert first.body["messages"][-1] == {
        "role": "user",
        "content": "make a cozy cabin sticker and put it on a mug",
    }
    second = seen[1].body["messages"]
    assert second[-2]["role"] == "assistant"
    assert second[-2]["tool_calls"][0]["id"] == "call_gen"
    assert json.loads(second[-2]["tool_calls"][0]["function"]["arguments"]) == {
        "prompt": "cozy cabin sticker",
        "count": 1,
    }
    assert second[-1]["role"] == "tool" and second[-1]["tool_call_id"] == "call_gen"
    result = json.loads(second[-1]["content"])
    assert result["costCents"] == 1 and len(result["images"]) == 1

    # Streamed text arrived as deltas (a word at a time, batched), between the steps.
    log = kinds(turn)
    assert log.count("start-step") == log.count("finish-step") == 5
    assert log.index("text-delta") < log.index("tool-call")
    assert log[-1] == "finish"


def test_it_handles_follow_ups_by_reusing_the_design(model: Any, say: Any) -> None:
    model(fake_openai.design_model)
    first = say("make a cozy cabin sticker and put it on a mug")
    design = first.conversation.state["design"]["assetId"]
    second = say("now on a hoodie", after=first)
    assert second.job.status == Job.Status.COMPLETED, second.job.error
    names = list(ChatToolCall.objects.filter(turn=second).values_list("name", flat=True))
    assert names == ["search_products", "build_mockup"]  # no new image: the design is reused
    mockup = second.state["produced"]["mockup"]
    assert mockup["product"] == "hoodie" and mockup["imageId"] == design
    assert second.cost_cents == 1


def test_it_rejects_invalid_tool_arguments_and_tells_the_model(model: Any, say: Any) -> None:
    """GIVEN a model that calls build_mockup with a made-up image id and an unknown tool
    THEN nothing runs for them, and the model reads the validation errors as tool results."""
    replies = iter(
        [
            Stream(
                "Trying.",
                [
                    Call("c1", "build_mockup", {"product": "mug", "imageId": "the-cabin"}),
                    Call("c2", "order_pizza", {"size": "L"}),
                    Call("c3", "generate_image", "{not json"),
                ],
            ),
            Stream("Sorry, I could not do that."),
        ]
    )
    seen = model(lambda _body: next(replies))
    turn = say("put the cabin on a mug")
    assert turn.job.status == Job.Status.COMPLETED
    assert not ChatToolCall.objects.filter(turn=turn).exists()
    assert kinds(turn).count("tool-input-error") == 3
    tool_messages = [m for m in seen[1].body["messages"] if m["role"] == "tool"]
    errors = [json.loads(m["content"])["error"] for m in tool_messages]
    assert [m["tool_call_id"] for m in tool_messages] == ["c1", "c2", "c3"]
    assert "imageId" in errors[0] and "earlier tool result" in errors[0]
    assert "There is no tool 'order_pizza'" in errors[1]
    assert errors[2] == "The arguments are not valid JSON."
    assert turn.cost_cents == 0


def test_it_caps_the_priced_tool_calls_of_a_turn(model: Any, say: Any) -> None:
    """GIVEN a model that keeps asking for new images THEN the fifth priced call is refused
    (nothing runs or is charged) and the model is told why."""
    seen = model(
        lambda _b: Stream(calls=[Call("g", "generate_image", {"prompt": "a fox", "count": 1})])
    )
    turn = say("make foxes forever")
    assert ChatToolCall.objects.filter(turn=turn, name="generate_image").count() == 4
    assert turn.cost_cents == 4
    last_tool = [m for m in seen[-1].body["messages"] if m["role"] == "tool"][-1]
    assert "at most 4 priced tool calls" in json.loads(last_tool["content"])["error"]


def test_it_stops_after_the_step_limit(model: Any, say: Any, settings: Any) -> None:
    settings.CHAT_MAX_STEPS = 3
    seen = model(lambda _b: Stream(calls=[Call("s", "search_products", {"query": "mug"})]))
    turn = say("find me a mug")
    assert len(seen) == 3
    assert ChatToolCall.objects.filter(turn=turn).count() == 3
    assert turn.reply.endswith("I stopped after 3 steps; what I made so far is above.")


def test_it_falls_back_to_the_offline_planner_when_the_provider_fails(model: Any, say: Any) -> None:
    seen = model(lambda _b: Json(503, {"error": {"message": "The server is overloaded."}}))
    turn = say("make a cozy cabin sticker and put it on a mug")
    assert len(seen) == 3  # three attempts, then the fallback
    assert turn.job.status == Job.Status.COMPLETED
    assert turn.planner.startswith("model gpt-fake-mini; offline (the language model failed:")
    assert "The server is overloaded. (HTTP 503)" in turn.planner
    names = list(ChatToolCall.objects.filter(turn=turn).values_list("name", flat=True))
    assert names == ["generate_image", "remove_background", "build_mockup"]
    assert turn.state["produced"]["mockup"]["product"] == "mug"


def test_it_keeps_what_the_model_made_when_it_fails_mid_turn(model: Any, say: Any) -> None:
    """GIVEN a model that generated the art and then breaks (a stream cut short before any text,
    retried, then a 401) THEN the offline planner finishes the turn with that art: no second
    generation or charge."""
    replies = iter(
        [
            Stream("On it.", [Call("g", "generate_image", {"prompt": "cozy cabin sticker"})]),
            Stream("Now the", cut_after=1),
            Json(401, {"error": {"message": "Incorrect API key provided: sk-te***"}}),
        ]
    )
    model(lambda _b: next(replies))
    turn = say("make a cozy cabin sticker and put it on a mug")
    assert turn.job.status == Job.Status.COMPLETED
    names = list(ChatToolCall.objects.filter(turn=turn).values_list("name", flat=True))
    assert names == ["generate_image", "remove_background", "build_mockup"]
    assert "Incorrect API key provided" in turn.planner
    assert turn.cost_cents == 3


def test_it_reads_a_server_that_answers_without_streaming(model: Any, say: Any) -> None:
    completion = {
        "id": "x",
        "object": "chat.completion",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "Just words, no tools."},
                "finish_reason": "stop",
            }
        ],
    }
    model(lambda _b: Json(200, completion))
    turn = say("hello there")
    assert turn.reply == "Just words, no tools."
    assert turn.planner == "model gpt-fake-mini"


def test_it_handles_an_error_inside_the_stream(model: Any, say: Any) -> None:
    error = {"error": {"message": "Rate limit reached for requests", "type": "requests"}}
    model(lambda _b: Stream("Hmm", error_chunk=error))
    turn = say("make a fox badge")
    assert "Rate limit reached for requests" in turn.planner
    assert ChatToolCall.objects.filter(turn=turn, name="generate_image").count() == 1


def test_the_client_assembles_fragmented_parallel_tool_calls() -> None:
    script = Stream(
        "Two things.",
        [
            Call("call_a", "search_products", {"query": "black tee"}),
            Call("call_b", "search_products", {"query": "mug", "limit": 2}),
        ],
    )
    with fake_openai.serve(lambda _b: script) as (base, seen):
        client = llm.ChatCompletions(model="m", base_url=base, api_key="", timeout=5)
        texts: list[str] = []
        completion = client.complete([{"role": "user", "content": "x"}], [], on_text=texts.append)
        client.close()
    assert completion.text == "Two things." and texts == ["Two", " things."]
    assert [(c.id, c.name, json.loads(c.arguments)) for c in completion.tool_calls] == [
        ("call_a", "search_products", {"query": "black tee"}),
        ("call_b", "search_products", {"query": "mug", "limit": 2}),
    ]
    assert completion.finish_reason == "tool_calls"
    assert completion.usage == {"prompt_tokens": 10, "completion_tokens": 5}
    assert "authorization" not in seen[0].headers  # no key configured: none sent
    assert "tools" not in seen[0].body


def test_it_rejects_a_provider_that_refuses_the_key() -> None:
    reply = Json(
        401, {"error": {"message": "Incorrect API key provided", "code": "invalid_api_key"}}
    )
    with fake_openai.serve(lambda _b: reply) as (base, seen):
        client = llm.ChatCompletions(model="m", base_url=base, api_key="sk-bad", timeout=5)
        with pytest.raises(llm.LlmError, match=r"Incorrect API key provided \(HTTP 401\)") as err:
            client.complete([{"role": "user", "content": "x"}], [])
        client.close()
    assert err.value.retryable is False
    assert len(seen) == 1  # a refused key is not retried
