"""A client for OpenAI-compatible chat completions with tool calling, streamed.

POST {OPENAI_BASE_URL}/chat/completions with `stream: true`: the answer is Server-Sent Events,
one `chat.completion.chunk` per `data:` line, text in `choices[0].delta.content`, tool calls in
`choices[0].delta.tool_calls[]` (fragments keyed by `index`: the first carries `id` and
`function.name`, every one a piece of `function.arguments`), `finish_reason` on the last choice
chunk, then `data: [DONE]`. A server that ignores `stream` and answers one JSON completion is
read too. Failures raise LlmError with the provider's own words; the planner then falls back.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from django.conf import settings

from generations.engines.http import RETRY_STATUSES, parse_retry_after, provider_message

PROVIDER = "the language model"


class LlmError(Exception):
    """The model could not be used for this turn (unreachable, refused, or spoke nonsense)."""

    def __init__(self, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable


@dataclass
class ToolCallRequest:
    id: str
    name: str
    arguments: str  # JSON text, as the model wrote it


@dataclass
class Completion:
    text: str = ""
    tool_calls: list[ToolCallRequest] = field(default_factory=list)
    finish_reason: str = ""
    usage: dict[str, Any] = field(default_factory=dict)


class ChatCompletions:
    """One model on one OpenAI-compatible server. `transport` lets tests route requests."""

    def __init__(
        self,
        *,
        model: str | None = None,
        base_url: str | None = None,
        api_key: str | None = None,
        timeout: float | None = None,
        attempts: int = 3,
        sleep: Callable[[float], None] = time.sleep,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.model = model or settings.CHAT_MODEL
        self.base_url = (base_url or settings.OPENAI_BASE_URL).rstrip("/")
        api_key = settings.OPENAI_API_KEY if api_key is None else api_key
        timeout = settings.CHAT_LLM_TIMEOUT if timeout is None else timeout
        headers = {"User-Agent": "studio-chat/1", "Accept": "text/event-stream"}
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        self.client = httpx.Client(
            headers=headers,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            transport=transport,
        )
        self.attempts = attempts
        self.sleep = sleep

    def close(self) -> None:
        self.client.close()

    def complete(
        self,
        messages: list[dict[str, Any]],
        tools: list[dict[str, Any]],
        *,
        on_text: Callable[[str], None] | None = None,
        on_chunk: Callable[[], None] | None = None,
    ) -> Completion:
        """One model step. Text is handed to `on_text` as it streams; `on_chunk` runs for every
        chunk (the caller checks for a cancel there). Retries connection failures, 429 and 5xx
        while nothing has streamed yet."""
        body: dict[str, Any] = {
            "model": self.model,
            "messages": messages,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        if tools:
            body["tools"] = tools
            body["tool_choice"] = "auto"
        last: LlmError | None = None
        for attempt in range(self.attempts):
            streamed = [False]

            def text(piece: str, streamed: list[bool] = streamed) -> None:
                streamed[0] = True
                if on_text is not None:
                    on_text(piece)

            try:
                return self._once(body, text, on_chunk)
            except LlmError as exc:
                if not exc.retryable or streamed[0] or attempt + 1 >= self.attempts:
                    raise
                last = exc
                self.sleep(min(0.5 * 2**attempt, 4.0))
        raise last or LlmError("The language model did not answer.")

    def _once(
        self,
        body: dict[str, Any],
        on_text: Callable[[str], None],
        on_chunk: Callable[[], None] | None,
    ) -> Completion:
        url = f"{self.base_url}/chat/completions"
        try:
            with self.client.stream("POST", url, json=body) as response:
                if response.status_code >= 400:
                    response.read()
                    message = f"{PROVIDER}: {provider_message(response)}"
                    retry_after = parse_retry_after(response.headers.get("Retry-After"))
                    retryable = response.status_code in RETRY_STATUSES and (retry_after or 0) < 10
                    raise LlmError(f"{message} (HTTP {response.status_code})", retryable=retryable)
                kind = response.headers.get("content-type", "")
                if "text/event-stream" not in kind:
                    response.read()
                    completion = _from_json(response)
                    if completion.text:
                        on_text(completion.text)
                    return completion
                return _from_stream(response, on_text, on_chunk)
        except httpx.TimeoutException as exc:
            raise LlmError(
                f"{PROVIDER} did not answer in time ({type(exc).__name__}).", retryable=True
            ) from exc
        except httpx.TransportError as exc:
            raise LlmError(
                f"Could not reach {PROVIDER} ({type(exc).__name__}: {exc}).", retryable=True
            ) from exc


def _from_json(response: httpx.Response) -> Completion:
    try:
        data = response.json()
        message = data["choices"][0]["message"]
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise LlmError(f"{PROVIDER} answered with something that is not a completion.") from exc
    calls = [
        ToolCallRequest(
            str(c.get("id") or f"call_{i}"),
            str(c["function"]["name"]),
            str(c["function"].get("arguments") or "{}"),
        )
        for i, c in enumerate(message.get("tool_calls") or [])
        if isinstance(c, dict) and isinstance(c.get("function"), dict)
    ]
    return Completion(
        text=str(message.get("content") or ""),
        tool_calls=calls,
        finish_reason=str(data["choices"][0].get("finish_reason") or ""),
        usage=data.get("usage") or {},
    )


def _from_stream(
    response: httpx.Response,
    on_text: Callable[[str], None],
    on_chunk: Callable[[], None] | None,
) -> Completion:
    out = Completion()
    calls: dict[int, dict[str, str]] = {}
    done = False
    for line in response.iter_lines():
        if on_chunk is not None:
            on_chunk()
        if not line.startswith("data:"):
            continue  # comments, event names, blank separators
        payload = line[5:].strip()
        if payload == "[DONE]":
            done = True
            break
        try:
            chunk = json.loads(payload)
        except ValueError as exc:
            raise LlmError(f"{PROVIDER} sent a stream chunk that is not JSON.") from exc
        if not isinstance(chunk, dict):
            raise LlmError(f"{PROVIDER} sent a stream chunk that is not an object.")
        if chunk.get("error"):
            raise LlmError(f"{PROVIDER}: {provider_message_of(chunk)}", retryable=False)
        if chunk.get("usage"):
            out.usage = chunk["usage"]
        for choice in chunk.get("choices") or []:
            delta = choice.get("delta") or {}
            piece = delta.get("content")
            if isinstance(piece, str) and piece:
                out.text += piece
                on_text(piece)
            for call in delta.get("tool_calls") or []:
                slot = calls.setdefault(
                    int(call.get("index", 0)), {"id": "", "name": "", "args": ""}
                )
                if call.get("id"):
                    slot["id"] = str(call["id"])
                function = call.get("function") or {}
                if function.get("name"):
                    slot["name"] += str(function["name"])
                if function.get("arguments"):
                    slot["args"] += str(function["arguments"])
            if choice.get("finish_reason"):
                out.finish_reason = str(choice["finish_reason"])
    if not done and not out.finish_reason:
        raise LlmError(f"{PROVIDER} ended the stream before finishing.", retryable=True)
    out.tool_calls = [
        ToolCallRequest(slot["id"] or f"call_{i}", slot["name"], slot["args"] or "{}")
        for i, slot in sorted(calls.items())
    ]
    return out


def provider_message_of(chunk: dict[str, Any]) -> str:
    error = chunk.get("error")
    if isinstance(error, dict):
        return str(error.get("message") or error)[:500]
    return str(error)[:500]
