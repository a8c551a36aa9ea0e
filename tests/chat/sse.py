"""Reading a UI Message Stream body in tests, with each chunk checked against the fields the
AI SDK's own schema requires (ai: src/ui-message-stream/ui-message-chunks.ts)."""

from __future__ import annotations

import json
from typing import Any

# type → required fields (and their Python types), from uiMessageChunkSchema.
REQUIRED: dict[str, dict[str, type | tuple[type, ...]]] = {
    "start": {},
    "finish": {},
    "error": {"errorText": str},
    "text-start": {"id": str},
    "text-delta": {"id": str, "delta": str},
    "text-end": {"id": str},
    "start-step": {},
    "finish-step": {},
    "tool-input-start": {"toolCallId": str, "toolName": str},
    "tool-input-available": {"toolCallId": str, "toolName": str},
    "tool-input-error": {"toolCallId": str, "toolName": str, "errorText": str},
    "tool-output-available": {"toolCallId": str},
    "tool-output-error": {"toolCallId": str, "errorText": str},
    "file": {"url": str, "mediaType": str},
    "source-url": {"sourceId": str, "url": str},
}
FINISH_REASONS = {"stop", "length", "content-filter", "tool-calls", "error", "interrupted", "other"}


def parse(body: str) -> tuple[list[dict[str, Any]], bool]:
    """(chunks, whether it ended with data: [DONE]). Comments are skipped like the SDK does."""
    chunks: list[dict[str, Any]] = []
    done = False
    for event in body.split("\n\n"):
        data = [line[5:].lstrip() for line in event.split("\n") if line.startswith("data:")]
        if not data:
            continue
        payload = "\n".join(data)
        assert not done, "nothing may follow [DONE]"
        if payload == "[DONE]":
            done = True
            continue
        chunk = json.loads(payload)
        check(chunk)
        chunks.append(chunk)
    return chunks, done


def check(chunk: dict[str, Any]) -> None:
    kind = chunk.get("type", "")
    if kind.startswith("data-"):
        assert "data" in chunk, chunk
        return
    assert kind in REQUIRED, f"not a UI message chunk type: {kind}"
    for name, typ in REQUIRED[kind].items():
        assert isinstance(chunk.get(name), typ), (kind, name, chunk)
    if kind == "finish" and "finishReason" in chunk:
        assert chunk["finishReason"] in FINISH_REASONS


def check_sequence(chunks: list[dict[str, Any]]) -> None:
    """Order rules the SDK's processor enforces: text parts open before deltas, tool input
    before output, start first, finish last."""
    assert chunks[0]["type"] == "start" and chunks[-1]["type"] == "finish"
    open_texts: set[str] = set()
    tools: set[str] = set()
    for c in chunks:
        t = c["type"]
        if t == "text-start":
            open_texts.add(c["id"])
        elif t in ("text-delta", "text-end"):
            assert c["id"] in open_texts, c
            if t == "text-end":
                open_texts.discard(c["id"])
        elif t in ("tool-input-start", "tool-input-available", "tool-input-error"):
            tools.add(c["toolCallId"])
        elif t in ("tool-output-available", "tool-output-error"):
            assert c["toolCallId"] in tools, c
    assert not open_texts, f"text parts left open: {open_texts}"


def text_of(chunks: list[dict[str, Any]]) -> str:
    return "".join(c["delta"] for c in chunks if c["type"] == "text-delta")
