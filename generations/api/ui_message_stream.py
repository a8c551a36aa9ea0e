"""The AI SDK's UI Message Stream protocol (v1) over Server-Sent Events, from a chat turn's log.

Checked against the `ai` package's own source (src/ui-message-stream/ui-message-chunks.ts,
ui-message-stream-headers.ts, json-to-sse-transform-stream.ts): every chunk is one
`data: <json>\\n\\n` event; the stream opens with `start` and ends with `finish`, then
`data: [DONE]`; comment lines (`: keep-alive`) are ignored by the client's parser.

    log entry          chunks
    stage              data-stage (id "stage": the part updates in place)
    text-start/-delta/-end   the same
    start-step/finish-step   the same
    tool-call          tool-input-start, tool-input-available
    tool-input-error   tool-input-error
    tool-result        tool-output-available (the output with URLs)
    tool-error         tool-output-error
    image              file (the image's URL)
    mockup             file (the mockup URL) and data-mockup
    listing            data-listing and source-url (the buy link)
    finish             text-end for any part left open, finish (messageMetadata: costCents…)
    end / timeout      error, finish
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from generations.chat.events import Entry
from generations.chat.present import Presenter

# Response headers of the protocol (ui-message-stream-headers.ts) except `connection`: a WSGI
# application may not set hop-by-hop headers; the server manages the connection itself.
HEADERS = {
    "Cache-Control": "no-cache",
    "x-vercel-ai-ui-message-stream": "v1",
    "x-accel-buffering": "no",
}
CONTENT_TYPE = "text/event-stream"
DONE = "data: [DONE]\n\n"
KEEP_ALIVE = ": keep-alive\n\n"


def sse(chunk: dict[str, Any]) -> str:
    return f"data: {json.dumps(chunk, separators=(',', ':'), ensure_ascii=False)}\n\n"


class Encoder:
    """Chunks for one assistant message, entry by entry."""

    def __init__(self, presenter: Presenter, message_id: str, metadata: dict[str, Any]) -> None:
        self.presenter = presenter
        self.message_id = message_id
        self.metadata = metadata
        self.open_texts: list[str] = []
        self.tools: dict[str, str] = {}  # toolCallId → toolName

    def start(self) -> list[dict[str, Any]]:
        return [{"type": "start", "messageId": self.message_id, "messageMetadata": self.metadata}]

    def encode(self, entry: Entry) -> list[dict[str, Any]]:
        d = entry.data
        kind = entry.kind
        if kind == "stage":
            return [{"type": "data-stage", "id": "stage", "data": {"stage": d.get("stage", "")}}]
        if kind == "text-start":
            self.open_texts.append(d["id"])
            return [{"type": "text-start", "id": d["id"]}]
        if kind == "text-delta":
            if d["id"] not in self.open_texts:  # a part an earlier attempt left open
                self.open_texts.append(d["id"])
                return [{"type": "text-start", "id": d["id"]}, {**d, "type": "text-delta"}]
            return [{"type": "text-delta", "id": d["id"], "delta": d.get("delta", "")}]
        if kind == "text-end":
            if d["id"] in self.open_texts:
                self.open_texts.remove(d["id"])
                return [{"type": "text-end", "id": d["id"]}]
            return []
        if kind in ("start-step", "finish-step"):
            return [{"type": kind}]
        if kind == "tool-call":
            call, name = d["toolCallId"], d["toolName"]
            self.tools[call] = name
            return [
                {"type": "tool-input-start", "toolCallId": call, "toolName": name},
                {
                    "type": "tool-input-available",
                    "toolCallId": call,
                    "toolName": name,
                    "input": d.get("input", {}),
                },
            ]
        if kind == "tool-input-error":
            return [
                {
                    "type": "tool-input-error",
                    "toolCallId": d["toolCallId"],
                    "toolName": d["toolName"],
                    "input": d.get("input"),
                    "errorText": d.get("errorText", ""),
                }
            ]
        if kind == "tool-result":
            name = self.tools.get(d["toolCallId"], "")
            output = self.presenter.tool_output(name, d.get("output") or {})
            return [
                {"type": "tool-output-available", "toolCallId": d["toolCallId"], "output": output}
            ]
        if kind == "tool-error":
            return [
                {
                    "type": "tool-output-error",
                    "toolCallId": d["toolCallId"],
                    "errorText": d.get("errorText", ""),
                }
            ]
        if kind == "image":
            image = self.presenter.image(d.get("imageId", ""))
            if image is None:
                return []
            return [{"type": "file", "url": image["imageUrl"], "mediaType": image["contentType"]}]
        if kind == "mockup":
            mockup = self.presenter.mockup(d)
            if mockup is None:
                return []
            return [
                {"type": "file", "url": mockup["url"], "mediaType": mockup["mediaType"]},
                {"type": "data-mockup", "id": "mockup", "data": mockup},
            ]
        if kind == "listing":
            listing = self.presenter.listing(d)
            return [
                {"type": "data-listing", "id": "listing", "data": listing},
                {
                    "type": "source-url",
                    "sourceId": str(listing["listingId"]),
                    "url": listing["buyUrl"],
                    "title": listing["title"],
                },
            ]
        if kind == "finish":
            return [
                *self._close_texts(),
                {"type": "data-stage", "id": "stage", "data": {"stage": "done"}},
                {
                    "type": "finish",
                    "finishReason": "stop",
                    "messageMetadata": {**self.metadata, "costCents": d.get("costCents", 0)},
                },
            ]
        if kind == "end":
            status = d.get("status", "failed")
            reason = d.get("error") or f"The turn was {status}."
            return [
                *self._close_texts(),
                {"type": "data-stage", "id": "stage", "data": {"stage": status}},
                {"type": "error", "errorText": reason},
                {"type": "finish", "finishReason": "error", "messageMetadata": self.metadata},
            ]
        if kind == "timeout":
            job = self.metadata.get("jobId", "")
            return [
                *self._close_texts(),
                {
                    "type": "error",
                    "errorText": "The reply is taking longer than this stream waits; it is still "
                    f"being made: poll GET /ai-generations/chat/jobs/{job}.",
                },
                {"type": "finish", "finishReason": "other", "messageMetadata": self.metadata},
            ]
        return []

    def _close_texts(self) -> list[dict[str, Any]]:
        closing = [{"type": "text-end", "id": i} for i in self.open_texts]
        self.open_texts = []
        return closing


def stream(encoder: Encoder, entries: Iterator[Entry]) -> Iterator[str]:
    """The SSE body: start, a chunk per entry (comments for heartbeats), then [DONE]."""
    for chunk in encoder.start():
        yield sse(chunk)
    for entry in entries:
        if entry.kind == "heartbeat":
            yield KEEP_ALIVE
            continue
        for chunk in encoder.encode(entry):
            yield sse(chunk)
    yield DONE
