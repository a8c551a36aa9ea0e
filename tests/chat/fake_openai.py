"""A fake OpenAI-compatible chat-completions server on 127.0.0.1 that speaks the real wire
protocol: `POST /v1/chat/completions` answered with chunked Server-Sent Events (`data:
{chat.completion.chunk}` lines, text in `delta.content`, tool calls as `delta.tool_calls`
fragments keyed by `index` with the arguments split across chunks, `finish_reason`, a usage
chunk, `data: [DONE]`), or with a JSON completion / an OpenAI error body when told to.

A script (request JSON → Reply) plays the model; every request is recorded for assertions.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Call:
    id: str
    name: str
    arguments: dict[str, Any] | str


@dataclass
class Stream:
    """A streamed completion: `text` (streamed a word at a time) and/or tool calls."""

    text: str = ""
    calls: list[Call] = field(default_factory=list)
    delay: float = 0.0  # seconds between chunks
    cut_after: int | None = None  # stop sending after this many chunks (a broken stream)
    error_chunk: dict[str, Any] | None = None  # an in-stream {"error": …} after the text


@dataclass
class Json:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


Reply = Stream | Json
Script = Callable[[dict[str, Any]], Reply]


@dataclass
class Seen:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


def chunks(reply: Stream, model: str) -> list[dict[str, Any]]:
    base = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 1, "model": model}

    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}

    out = [chunk({"role": "assistant", "content": ""})]
    words = reply.text.split(" ")
    for i, word in enumerate(words):
        if word or i:
            out.append(chunk({"content": word if i == 0 else " " + word}))
    for index, call in enumerate(reply.calls):
        arguments = (
            call.arguments if isinstance(call.arguments, str) else json.dumps(call.arguments)
        )
        out.append(
            chunk(
                {
                    "tool_calls": [
                        {
                            "index": index,
                            "id": call.id,
                            "type": "function",
                            "function": {"name": call.name, "arguments": ""},
                        }
                    ]
                }
            )
        )
        step = max(1, len(arguments) // 3)
        for start in range(0, len(arguments), step):
            piece = arguments[start : start + step]
            out.append(chunk({"tool_calls": [{"index": index, "function": {"arguments": piece}}]}))
    if reply.error_chunk is not None:
        out.append(reply.error_chunk)
    out.append(chunk({}, "tool_calls" if reply.calls else "stop"))
    out.append({**base, "choices": [], "usage": {"prompt_tokens": 10, "completion_tokens": 5}})
    return out


@contextmanager
def serve(script: Script) -> Iterator[tuple[str, list[Seen]]]:
    """Yields (base URL ending in /v1, recorded requests)."""
    seen: list[Seen] = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                body = {"_raw": raw.decode(errors="replace")}
            seen.append(Seen(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
            if self.path != "/v1/chat/completions":
                self._json(Json(404, {"error": {"message": f"Unknown path {self.path}"}}))
                return
            reply = script(body)
            if isinstance(reply, Json):
                self._json(reply)
            else:
                self._stream(reply, str(body.get("model", "")))

        def _json(self, reply: Json) -> None:
            data = json.dumps(reply.body).encode()
            self.send_response(reply.status)
            self.send_header("Content-Type", "application/json")
            for k, v in reply.headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _stream(self, reply: Stream, model: str) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream; charset=utf-8")
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            events = [f"data: {json.dumps(c)}\n\n" for c in chunks(reply, model)]
            events.append("data: [DONE]\n\n")
            if reply.cut_after is not None:
                events = events[: reply.cut_after]
            try:
                for event in events:
                    data = event.encode()
                    self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                    self.wfile.flush()
                    if reply.delay:
                        time.sleep(reply.delay)
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                pass
            if reply.cut_after is not None:
                self.close_connection = True

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1", seen
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


# --- a scripted design model ---------------------------------------------------------------------


def tool_results(body: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(tool name, result) for each tool message, matched to the assistant call by its id."""
    names: dict[str, str] = {}
    out = []
    for message in body.get("messages", []):
        for call in message.get("tool_calls") or []:
            names[call["id"]] = call["function"]["name"]
        if message.get("role") == "tool":
            out.append((names.get(message["tool_call_id"], "?"), json.loads(message["content"])))
    return out


def design_model(body: dict[str, Any]) -> Reply:
    """Plays a good tool-calling model for "a <subject> sticker on a <product>": generate →
    remove the background → search → mockup → a closing sentence; "now on a X" follow-ups reuse
    the current design id from the context."""
    messages = body["messages"]
    request = next(m["content"] for m in reversed(messages) if m["role"] == "user")
    results = tool_results(body)
    # Only this turn's results count: those after the last user message.
    last_user = max(i for i, m in enumerate(messages) if m["role"] == "user")
    turn_results = results[len(tool_results({"messages": messages[:last_user]})) :]
    step = len([m for m in messages[last_user:] if m.get("role") == "assistant"])
    product = "hoodie" if "hoodie" in request else "mug"
    if "now on" in request:
        context = messages[0]["content"]
        design = context.split("Current design: imageId ", 1)[1].split()[0].rstrip(";")
        if step == 0:
            return Stream(
                "Putting it on a hoodie.",
                [Call(f"call_s{step}", "search_products", {"query": product})],
            )
        if step == 1:
            found = turn_results[-1][1]["products"][0]["product"]
            return Stream(
                calls=[Call("call_m1", "build_mockup", {"product": found, "imageId": design})]
            )
        return Stream("Done: your design is on the hoodie.")
    if step == 0:
        return Stream(
            "Sure! I'll make a cozy cabin sticker and put it on a mug.",
            [Call("call_gen", "generate_image", {"prompt": "cozy cabin sticker", "count": 1})],
        )
    name, result = turn_results[-1]
    if name == "generate_image":
        image = result["images"][0]["id"]
        return Stream(calls=[Call("call_bg", "remove_background", {"imageId": image})])
    if name == "remove_background":
        image = result["image"]["id"]
        return Stream(
            calls=[Call("call_find", "search_products", {"query": product, "imageId": image})]
        )
    if name == "search_products":
        image = next(r["image"]["id"] for n, r in turn_results if n == "remove_background")
        found = result["products"][0]["product"]
        return Stream(
            calls=[Call("call_mock", "build_mockup", {"product": found, "imageId": image})]
        )
    return Stream("Here is your cozy cabin sticker on a mug.")
