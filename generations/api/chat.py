"""Seed 000's chat orchestrator on the declarative edge: POST /ai-generations/chat/start →
{jobId}, GET /ai-generations/chat/jobs/:id → {status, stage} until {status: "done", response:
{text, images, mockup}}, and POST /ai-generations/chat/stream: the AI SDK's UI Message Stream
over SSE (generations/api/ui_message_stream.py).

Scope ai:generate. The routes call the chat actions (generations.chat.actions); errors are seed
000's {"error": "..."} (no balance: 429). A stream whose client goes away cancels its turn (the
job and any tool job it started). docs/chat.md has the whole picture.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any, Literal

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from pydantic import Field, field_validator, model_validator

from generations.api.ai_generations import EXHAUSTED_429, exhausted
from generations.api.edge import (
    SEED_000,
    ApiError,
    In,
    Out,
    Returns,
    SimpleError,
    omitted,
    operation,
    route,
    studio_error,
)
from generations.api.idempotency import submit_bound
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
from generations.models import Job
from studio.actions import InsufficientCredits

SOURCE = "api:chat"
MAX_TEXT = 20_000  # characters of one history message (the request itself: 4000)
TRIGGERS = {"submit-message": False, "regenerate-message": True}

# --- models ---------------------------------------------------------------------------------------


class ChatMessageIn(In):
    """The seed's {role, content} or the AI SDK's UI message {id, role, parts}."""

    role: Literal["user", "assistant", "system"]
    content: str | list[dict[str, Any]] | None = Field(
        None, description="The text, or OpenAI-style content parts ({type: text, text})."
    )
    parts: list[dict[str, Any]] | None = Field(
        None, max_length=200, description="UI message parts; text parts are read."
    )
    id: str | None = Field(None, max_length=200)

    @model_validator(mode="after")
    def _has_text(self) -> ChatMessageIn:
        if self.content is None and self.parts is None:
            raise studio_error("Each message needs content (a string) or parts (an array).")
        if len(self.text) > MAX_TEXT:
            raise studio_error(f"A message is longer than {MAX_TEXT} characters.")
        return self

    @property
    def text(self) -> str:
        if isinstance(self.content, str):
            return self.content
        pieces = self.content if isinstance(self.content, list) else self.parts or []
        return " ".join(
            p["text"] for p in pieces if p.get("type") == "text" and isinstance(p.get("text"), str)
        )


class ChatIn(In):
    messages: list[ChatMessageIn] = Field(
        description="The conversation so far; the last message is the user's request.",
    )
    conversationId: str | None = Field(
        None, max_length=100, description="Continue this conversation (from an earlier reply)."
    )
    id: str | None = Field(
        None, max_length=200, description="The client's own chat id (the AI SDK sends one)."
    )
    trigger: Literal["submit-message", "regenerate-message"] | None = Field(
        None, description="regenerate-message makes the last request again with a new seed."
    )
    messageId: str | None = Field(None, max_length=200)

    @field_validator("messages")
    @classmethod
    def _messages(cls, value: list[ChatMessageIn]) -> list[ChatMessageIn]:
        if not value:
            raise studio_error("messages must be a non-empty array of {role, content}.")
        if len(value) > MAX_HISTORY:
            raise studio_error(f"messages accepts at most {MAX_HISTORY} items.")
        if value[-1].role != "user":
            raise studio_error("The last message must be the user's request (role user).")
        return value


class ChatStarted(Out):
    jobId: str = Field(description="Poll GET /ai-generations/chat/jobs/:jobId.")
    conversationId: str = Field(description="Send it back to continue this conversation.")


class ChatImage(Out):
    id: str
    imageUrl: str
    width: int
    height: int
    contentType: str


class ChatMockup(Out):
    url: str = Field(description="The mockup URL (signed when the shop requires it).")
    product: str
    productName: str
    variant: str
    imageId: str
    imageUrl: str
    mediaType: str
    signed: bool


class ChatListing(Out):
    listingId: str | None
    title: str
    priceCents: int | None
    buyUrl: str


class ChatResponse(Out):
    text: str
    images: list[ChatImage] = Field(description="Images this turn made: art, then cut-outs.")
    mockup: ChatMockup | None
    costCents: int = Field(description="What the turn's tools cost after refunds.")
    conversationId: str
    messageId: str
    listing: ChatListing | None = omitted("The listing, when the request asked to sell.")
    products: list[str] | None = omitted("Products the catalog search found.")


class ChatJob(Out):
    status: Literal["running", "done", "failed", "canceled"]
    stage: str | None = omitted("What the turn is doing (running, failed, canceled).")
    response: ChatResponse | None = omitted("The reply (done).")
    error: str | None = omitted("Why it failed or stopped.")


CHAT_ERRORS = {
    404: Returns(SimpleError, "No such conversation in this shop"),
    409: Returns(SimpleError, "The conversation's previous reply is still being made"),
    429: EXHAUSTED_429,
}
START_EXAMPLE = {
    "messages": [{"role": "user", "content": "make a cozy cabin sticker and put it on a mug"}]
}

# --- requests -------------------------------------------------------------------------------------


def _start(request: HttpRequest, body: ChatIn) -> ChatTurn:
    """Find the conversation, start the turn; the turn's job is bound to an Idempotency-Key."""
    shop = request.shop  # type: ignore[attr-defined]
    history = [Message(m.role, m.text) for m in body.messages[:-1]]
    started: list[ChatTurn] = []

    def create() -> Job:
        turn = start_turn(
            shop,
            body.messages[-1].text,
            api_key=request.api_key,  # type: ignore[attr-defined]
            conversation=conversation,
            client_id=body.id or "",
            history=history,
            regenerate=TRIGGERS.get(body.trigger or "", False),
            source=SOURCE,
        )
        started.append(turn)
        assert turn.job is not None  # noqa: S101 - start_turn always creates it
        return turn.job

    try:
        conversation = find_conversation(
            shop,
            conversation_id=body.conversationId or "",
            client_id=body.id or "",
            history=history,
        )
        submit_bound(request, create)
    except ChatError as exc:
        raise ApiError(exc.status, str(exc)) from None
    except InsufficientCredits as exc:
        raise exhausted(exc) from None
    return started[0]


@operation(
    SEED_000,
    "POST",
    summary="Chat: start a turn",
    description="One natural-language request; the server chains the tools (generate art, "
    "remove the background, search the catalog, build a mockup). Returns at once: poll "
    "GET /ai-generations/chat/jobs/:jobId. Follow-ups: send the history back (or conversationId).",
    scope="ai:generate",
    body=ChatIn,
    body_example=START_EXAMPLE,
    idempotent=True,
    responses={200: Returns(ChatStarted, "The turn's job"), **CHAT_ERRORS},
)
def chat_start(request: HttpRequest, body: ChatIn) -> ChatStarted:
    turn = _start(request, body)
    return ChatStarted(jobId=str(turn.job_id), conversationId=str(turn.conversation_id))


@chat_start.resumes
def resume_chat_start(request: HttpRequest, job: Job, **_: Any) -> ChatStarted:
    turn = ChatTurn.objects.filter(job=job).first()
    if turn is None:
        raise ApiError(409, "This Idempotency-Key belongs to another kind of request.")
    return ChatStarted(jobId=str(job.id), conversationId=str(turn.conversation_id))


@operation(
    SEED_000,
    "GET",
    summary="Chat: poll a turn",
    description='{"status": "running", "stage": …} until {"status": "done", "response": {text, '
    "images, mockup, costCents}}; failed and canceled turns say why.",
    scope="ai:generate",
    responses={
        200: Returns(
            ChatJob,
            "The turn's status, or its reply",
            {"status": "running", "stage": "generating image"},
        ),
        404: Returns(SimpleError, "No such chat job in this shop"),
    },
)
def chat_job(request: HttpRequest, job_id: str) -> ChatJob:
    try:
        ident = uuid.UUID(str(job_id))
    except ValueError:
        raise ApiError(404, "Chat job not found.") from None
    turn = (
        ChatTurn.objects.select_related("job", "conversation")
        .filter(job_id=ident, conversation__shop=request.shop)  # type: ignore[attr-defined]
        .first()
    )
    if turn is None or turn.job is None:
        raise ApiError(404, "Chat job not found.")
    status = turn_status(turn)
    if status == "running":
        return ChatJob(status="running", stage=turn.job.stage or "queued")
    if status == "done":
        body = Presenter(request, request.shop).response(turn)  # type: ignore[attr-defined]
        return ChatJob(status="done", response=ChatResponse.model_validate(body))
    return ChatJob(
        status=status, stage=turn.job.stage, error=turn.job.error or turn.job.stage or status
    )


@operation(
    SEED_000,
    "POST",
    summary="Chat: stream a turn (AI SDK UI Message Stream)",
    description="The same request as chat/start (or the AI SDK's {id, messages: [{role, "
    "parts}], trigger}), answered as the AI SDK's UI Message Stream over SSE: start, "
    "data-stage parts, text parts, tool parts with input and output, file parts for the "
    "images and the mockup, data-mockup, finish, then data: [DONE]. useChat's "
    "DefaultChatTransport reads it directly. Closing the connection cancels the turn.",
    scope="ai:generate",
    body=ChatIn,
    body_example=START_EXAMPLE,
    responses={
        200: Returns(
            None,
            "Server-Sent Events: one UI message chunk (JSON) per `data:` line",
            media_type=CONTENT_TYPE,
            headers={
                "x-vercel-ai-ui-message-stream": "v1 (the protocol version)",
                "Cache-Control": "no-cache",
                "x-accel-buffering": "no (proxies must not buffer the stream)",
            },
        ),
        **CHAT_ERRORS,
    },
)
def chat_stream(request: HttpRequest, body: ChatIn) -> HttpResponse:
    turn = _start(request, body)
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


chat_start_view = route(chat_start)
chat_job_view = route(chat_job)
chat_stream_view = route(chat_stream)
