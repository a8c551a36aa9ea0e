"""Seed 000's chat orchestrator: POST /ai-generations/chat/start → {jobId}, GET
/ai-generations/chat/jobs/:id → {status, stage} until {status: "done", response: {text, images,
mockup}}, and POST /ai-generations/chat/stream: the AI SDK's UI Message Stream over SSE.

Scope ai:generate. Each route parses its request in one function (`parse_*`) and calls the chat
actions (generations.chat.actions); errors are seed 000's {"error": "..."} (no balance: 429).
A stream whose client goes away cancels its turn (the job and any tool job it started).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse

from generations.api.ai_generations import exhausted
from generations.api.common import SEED_000, ApiError, endpoint, json_body
from generations.api.ui_message_stream import CONTENT_TYPE, HEADERS, Encoder, stream
from generations.chat.actions import (
    MAX_HISTORY,
    ChatError,
    Message,
    cancel_turn,
    find_conversation,
    start_turn,
    turn_status,
)
from generations.chat.events import FINAL, Entry, follow
from generations.chat.models import ChatTurn
from generations.chat.present import Presenter
from studio.actions import InsufficientCredits

SOURCE = "api:chat"
ROLES = ("user", "assistant", "system")
TRIGGERS = {"submit-message": False, "regenerate-message": True}


@dataclass(frozen=True)
class ChatRequest:
    """A start or stream body: the seed's {messages: [{role, content}]} or the AI SDK's
    {id, messages: [{id, role, parts}], trigger, messageId}."""

    text: str
    history: list[Message]
    regenerate: bool = False
    conversation_id: str = ""
    client_id: str = ""


def _message_text(message: dict[str, Any], index: int) -> str:
    content, parts = message.get("content"), message.get("parts")
    if isinstance(content, str):
        return content
    pieces = content if isinstance(content, list) else parts
    if not isinstance(pieces, list):
        raise ApiError(400, f"messages[{index}] needs content (a string) or parts (an array).")
    texts = [
        p["text"]
        for p in pieces
        if isinstance(p, dict) and p.get("type") == "text" and isinstance(p.get("text"), str)
    ]
    return " ".join(texts)


def parse_chat_request(request: HttpRequest) -> ChatRequest:
    data = json_body(request)
    messages = data.get("messages")
    if not isinstance(messages, list) or not messages:
        raise ApiError(400, "messages must be a non-empty array of {role, content}.")
    if len(messages) > MAX_HISTORY:
        raise ApiError(400, f"messages accepts at most {MAX_HISTORY} items.")
    parsed: list[Message] = []
    for i, m in enumerate(messages):
        if not isinstance(m, dict):
            raise ApiError(400, f"messages[{i}] must be an object with role and content.")
        role = m.get("role")
        if role not in ROLES:
            raise ApiError(400, f"messages[{i}].role must be one of: {', '.join(ROLES)}.")
        parsed.append(Message(role, _message_text(m, i)))
    if parsed[-1].role != "user":
        raise ApiError(400, "The last message must be the user's request (role user).")
    trigger = data.get("trigger")
    if trigger is not None and trigger not in TRIGGERS:
        raise ApiError(400, f"trigger must be one of: {', '.join(TRIGGERS)}.")
    conversation_id = data.get("conversationId") or ""
    client_id = data.get("id") or ""
    if not isinstance(conversation_id, str) or not isinstance(client_id, str):
        raise ApiError(400, "conversationId and id must be strings.")
    if len(client_id) > 200:
        raise ApiError(400, "id must be at most 200 characters.")
    return ChatRequest(
        text=parsed[-1].text,
        history=parsed[:-1],
        regenerate=TRIGGERS.get(trigger or "", False),
        conversation_id=conversation_id,
        client_id=client_id,
    )


def parse_job_id(job_id: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(job_id))
    except ValueError:
        raise ApiError(404, "Chat job not found.") from None


def _start(request: HttpRequest, chat: ChatRequest) -> ChatTurn:
    shop = request.shop  # type: ignore[attr-defined]
    try:
        conversation = find_conversation(
            shop,
            conversation_id=chat.conversation_id,
            client_id=chat.client_id,
            history=chat.history,
        )
        return start_turn(
            shop,
            chat.text,
            api_key=request.api_key,  # type: ignore[attr-defined]
            conversation=conversation,
            client_id=chat.client_id,
            history=chat.history,
            regenerate=chat.regenerate,
            source=SOURCE,
        )
    except ChatError as exc:
        raise ApiError(exc.status, str(exc)) from None
    except InsufficientCredits as exc:
        raise exhausted(exc) from None


@endpoint(SEED_000, scope="ai:generate", methods=("POST",), idempotent=True)
def chat_start(request: HttpRequest) -> HttpResponse:
    turn = _start(request, parse_chat_request(request))
    return JsonResponse({"jobId": str(turn.job_id), "conversationId": str(turn.conversation_id)})


@endpoint(SEED_000, scope="ai:generate")
def chat_job(request: HttpRequest, job_id: str) -> HttpResponse:
    ident = parse_job_id(job_id)
    turn = (
        ChatTurn.objects.select_related("job", "conversation")
        .filter(job_id=ident, conversation__shop=request.shop)  # type: ignore[attr-defined]
        .first()
    )
    if turn is None or turn.job is None:
        raise ApiError(404, "Chat job not found.")
    status = turn_status(turn)
    if status == "running":
        return JsonResponse({"status": "running", "stage": turn.job.stage or "queued"})
    if status == "done":
        presenter = Presenter(request, request.shop)  # type: ignore[attr-defined]
        return JsonResponse({"status": "done", "response": presenter.response(turn)})
    return JsonResponse(
        {"status": status, "stage": turn.job.stage, "error": turn.job.error or turn.job.stage}
    )


@endpoint(SEED_000, scope="ai:generate", methods=("POST",))
def chat_stream(request: HttpRequest) -> HttpResponse:
    turn = _start(request, parse_chat_request(request))
    presenter = Presenter(request, request.shop)  # type: ignore[attr-defined]
    metadata = {"jobId": str(turn.job_id), "conversationId": str(turn.conversation_id)}
    encoder = Encoder(presenter, str(turn.id), metadata)
    response = StreamingHttpResponse(_follow(turn, encoder), content_type=CONTENT_TYPE)
    for name, value in HEADERS.items():
        response[name] = value
    return response


def _follow(turn: ChatTurn, encoder: Encoder) -> Iterator[str]:
    """The stream; when the client goes away before the end, its turn is canceled."""
    ended = False

    def entries() -> Iterator[Entry]:
        nonlocal ended
        for entry in follow(turn.id, turn.job_id):
            ended = ended or entry.kind in FINAL
            yield entry

    try:
        yield from stream(encoder, entries())
    finally:
        if not ended:
            # The server closes this generator when the client disconnects (a write failed).
            cancel_turn(turn, reason="canceled: the client disconnected")
