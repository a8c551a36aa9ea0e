"""The chat page: conversations listed and kept, a conversation pane where each turn streams in
(stage, text, tool steps, images, the mockup) over SSE with htmx's sse extension, and degrades
to polling (no EventSource) or to reloading (no JavaScript). Keep, regenerate and refine.

Views parse and call generations.chat.actions; a turn is drawn from its event log (TurnView),
so the first render, a poll, the stream and the final swap all show the same thing.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import escape
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import push_url

from generations.chat.actions import (
    ChatError,
    cancel_turn,
    keep_image,
    start_turn,
    turn_status,
)
from generations.chat.events import FINAL, Entry, follow
from generations.chat.models import ChatEvent, ChatTurn, Conversation
from generations.chat.present import Presenter
from studio.actions import InsufficientCredits
from studio.permissions import shop_required

CONVERSATIONS = 40
MAX_MESSAGE = 4000
SUGGESTIONS = ("now on a hoodie", "make it blue", "try three versions", "as a sticker")
STEP_LABELS = {
    "generate_image": "Generate the art",
    "remove_background": "Cut out the background",
    "search_products": "Search the catalog",
    "build_mockup": "Build the mockup",
    "create_listing": "Create a listing",
}


# --- a turn, drawn from its log ------------------------------------------------------------------


@dataclass
class TurnView:
    """What a turn shows after the log entries applied so far."""

    turn: ChatTurn
    presenter: Presenter
    stage: str = "queued"
    texts: list[str] = field(default_factory=list)
    steps: dict[str, dict[str, Any]] = field(default_factory=dict)
    images: list[dict[str, Any]] = field(default_factory=list)
    mockup: dict[str, Any] | None = None
    listing: dict[str, Any] | None = None
    seq: int = 0
    ended: str = ""  # "", or the end: finish / end / timeout
    error: str = ""
    _open: dict[str, int] = field(default_factory=dict)

    @classmethod
    def replay(cls, turn: ChatTurn, presenter: Presenter, upto: int | None = None) -> TurnView:
        view = cls(turn, presenter)
        rows = ChatEvent.objects.filter(turn=turn).order_by("seq")
        if upto is not None:
            rows = rows.filter(seq__lte=upto)
        for seq, kind, data in rows.values_list("seq", "kind", "data"):
            view.apply(Entry(seq, kind, data or {}))
        return view

    def apply(self, entry: Entry) -> None:
        d = entry.data
        self.seq = max(self.seq, entry.seq)
        if entry.kind == "stage":
            self.stage = d.get("stage", "")
        elif entry.kind == "text-start" or (
            entry.kind == "text-delta" and d["id"] not in self._open
        ):
            self._open[d["id"]] = len(self.texts)
            self.texts.append("")
        if entry.kind == "text-delta":
            self.texts[self._open[d["id"]]] += d.get("delta", "")
        elif entry.kind == "tool-call":
            self.steps[d["toolCallId"]] = {
                "name": d["toolName"],
                "label": STEP_LABELS.get(d["toolName"], d["toolName"]),
                "status": "running",
                "detail": _detail(d["toolName"], d.get("input") or {}, None),
            }
        elif entry.kind in ("tool-result", "tool-error") and d["toolCallId"] in self.steps:
            step = self.steps[d["toolCallId"]]
            step["status"] = "done" if entry.kind == "tool-result" else "failed"
            step["error"] = d.get("errorText", "")
            if entry.kind == "tool-result":
                step["detail"] = _detail(step["name"], {}, d.get("output") or {}) or step["detail"]
        elif entry.kind == "tool-input-error":
            self.steps[d["toolCallId"]] = {
                "name": d["toolName"],
                "label": STEP_LABELS.get(d["toolName"], d["toolName"]),
                "status": "failed",
                "error": d.get("errorText", ""),
                "detail": "",
            }
        elif entry.kind == "image":
            image = self.presenter.image(d.get("imageId", ""))
            if image is not None:
                step = self.steps.get(d.get("toolCallId", ""), {})
                cutout = step.get("name") == "remove_background"
                versions = sum(1 for i in self.images if not i["cutout"])
                image["cutout"] = cutout
                image["caption"] = "Cut-out" if cutout else f"Version {versions + 1}"
                self.images.append(image)
        elif entry.kind == "mockup":
            self.mockup = self.presenter.mockup(d)
        elif entry.kind == "listing":
            self.listing = self.presenter.listing(d)
        elif entry.kind in FINAL:
            self.ended = entry.kind
            self.error = d.get("error", "") if entry.kind == "end" else ""

    @property
    def status(self) -> str:
        # The log's finish entry is written just before the job is marked completed.
        return "done" if self.ended == "finish" else turn_status(self.turn)

    @property
    def running(self) -> bool:
        return self.status == "running"

    @property
    def kept(self) -> str:
        return str((self.turn.conversation.state or {}).get("kept", ""))


def _detail(name: str, args: dict[str, Any], output: dict[str, Any] | None) -> str:
    if output:
        if name == "search_products":
            names = [p.get("name", "") for p in output.get("products", [])[:3]]
            return ", ".join(names) or "nothing matched"
        if name == "build_mockup":
            variant = f" ({output['variant']})" if output.get("variant") else ""
            return f"{output.get('productName', '')}{variant}"
        if name == "generate_image":
            count = len(output.get("images", []))
            return f"{count} image{'s' if count != 1 else ''} · {output.get('costCents', 0)}¢"
        if name == "remove_background":
            return f"{output.get('costCents', 0)}¢"
        return ""
    if name == "generate_image":
        return str(args.get("prompt", ""))
    if name == "search_products":
        return str(args.get("query", "")) or "by what suits the design"
    if name == "build_mockup":
        return str(args.get("product", ""))
    return ""


# --- lookups and shared rendering ---------------------------------------------------------------------


def _conversation(request: HttpRequest, conversation_id: Any) -> Conversation:
    try:
        ident = uuid.UUID(str(conversation_id))
    except ValueError:
        raise Http404 from None
    return get_object_or_404(Conversation, id=ident, shop=request.shop)


def _turn(request: HttpRequest, turn_id: Any) -> ChatTurn:
    try:
        ident = uuid.UUID(str(turn_id))
    except ValueError:
        raise Http404 from None
    return get_object_or_404(
        ChatTurn.objects.select_related("job", "conversation"),
        id=ident,
        conversation__shop=request.shop,
    )


def _views(request: HttpRequest, conversation: Conversation) -> list[TurnView]:
    presenter = Presenter(request, request.shop)
    turns = conversation.turns.select_related("job", "conversation").order_by("position")
    return [TurnView.replay(t, presenter) for t in turns]


def _page(
    request: HttpRequest,
    conversation: Conversation | None,
    *,
    error: str = "",
    text: str = "",
    status: int = 200,
) -> HttpResponse:
    views = _views(request, conversation) if conversation is not None else []
    context = {
        "conversation": conversation,
        "conversations": Conversation.objects.filter(shop=request.shop)[:CONVERSATIONS],
        "views": views,
        "busy": any(v.running for v in views),
        "error": error,
        "text": text,
        "suggestions": SUGGESTIONS if views else (),
    }
    return render(request, "generations/chat.html", context, status=status)


def _turn_html(request: HttpRequest, view: TurnView) -> str:
    return render_to_string("generations/partials/chat_turn.html", {"view": view}, request)


# --- pages ---------------------------------------------------------------------------------------------


@shop_required()
@require_GET
def chat(request: HttpRequest) -> HttpResponse:
    return _page(request, None)


@shop_required()
@require_GET
def chat_conversation(request: HttpRequest, conversation_id: Any) -> HttpResponse:
    return _page(request, _conversation(request, conversation_id))


@shop_required("generate")
@require_POST
def chat_send(request: HttpRequest) -> HttpResponse:
    """A message: to the conversation named in the form, or the first of a new one."""
    conversation_id = request.POST.get("conversation", "")
    conversation = _conversation(request, conversation_id) if conversation_id else None
    # A suggestion button sends its words; otherwise the typed message.
    text = (request.POST.get("suggestion") or request.POST.get("message") or "").strip()
    return _start(request, conversation, text, regenerate=False)


@shop_required("generate")
@require_POST
def chat_regenerate(request: HttpRequest, turn_id: Any) -> HttpResponse:
    turn = _turn(request, turn_id)
    return _start(request, turn.conversation, turn.request, regenerate=True)


def _start(
    request: HttpRequest, conversation: Conversation | None, text: str, *, regenerate: bool
) -> HttpResponse:
    try:
        turn = start_turn(
            request.shop,
            text[: MAX_MESSAGE + 1],
            user=request.user,
            conversation=conversation,
            regenerate=regenerate,
            source="chat",
        )
    except (ChatError, InsufficientCredits) as exc:
        status = exc.status if isinstance(exc, ChatError) else 402
        if request.htmx:
            html = render_to_string(
                "generations/partials/chat_error.html", {"error": str(exc)}, request
            )
            response = HttpResponse(html, status=422)
            response["HX-Retarget"] = "#chat-error"
            response["HX-Reswap"] = "outerHTML"
            return response
        return _page(request, conversation, error=str(exc), text=text, status=status)
    url = reverse("chat_conversation", args=[turn.conversation_id])
    if not request.htmx:
        return redirect(f"{url}#turn-{turn.id}")
    view = TurnView.replay(
        ChatTurn.objects.select_related("job", "conversation").get(id=turn.id),
        Presenter(request, request.shop),
    )
    html = _turn_html(request, view)
    html += render_to_string("generations/partials/chat_error.html", {"oob": True}, request)
    html += render_to_string(
        "generations/partials/chat_suggestions.html",
        {"suggestions": SUGGESTIONS, "oob": True},
        request,
    )
    if conversation is None:
        # The first message of a new conversation: the page becomes that conversation's (the
        # form's conversation id, the list, the title and the address).
        context = {
            "conversations": Conversation.objects.filter(shop=request.shop)[:CONVERSATIONS],
            "conversation": turn.conversation,
            "oob": True,
        }
        for partial in ("chat_list", "chat_conversation_id", "chat_title"):
            html += render_to_string(f"generations/partials/{partial}.html", context, request)
        return push_url(HttpResponse(html), url)
    return HttpResponse(html)


@shop_required()
@require_GET
def chat_turn(request: HttpRequest, turn_id: Any) -> HttpResponse:
    """One turn, drawn from its log so far: what the page polls without EventSource."""
    view = TurnView.replay(_turn(request, turn_id), Presenter(request, request.shop))
    return HttpResponse(_turn_html(request, view))


@shop_required()
@require_GET
def chat_turn_events(request: HttpRequest, turn_id: Any) -> HttpResponse:
    """Server-Sent Events for htmx's sse extension: named events carrying HTML, ids = log
    positions (a reconnect resumes after Last-Event-ID), and `done` with the finished turn."""
    turn = _turn(request, turn_id)
    raw = request.headers.get("Last-Event-ID") or request.GET.get("after") or "0"
    after = int(raw) if raw.isdigit() else 0
    view = TurnView.replay(turn, Presenter(request, request.shop), upto=after)
    response = StreamingHttpResponse(
        _page_events(request, view, after), content_type="text/event-stream"
    )
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"
    return response


def _event(name: str, html: str, seq: int) -> str:
    lines = "\n".join(f"data: {line}" for line in html.split("\n"))
    return f"id: {seq}\nevent: {name}\n{lines}\n\n"


def _page_events(request: HttpRequest, view: TurnView, after: int) -> Iterator[str]:
    turn = view.turn
    if turn.job is None:
        return
    for entry in follow(turn.id, turn.job_id, after=after):
        if entry.kind == "heartbeat":
            yield ": keep-alive\n\n"
            continue
        view.apply(entry)
        kind, d = entry.kind, entry.data
        if kind == "stage":
            yield _event("stage", escape(str(d.get("stage", "")).capitalize()), entry.seq)
        elif kind == "text-delta":
            yield _event("text", f"<span>{escape(d.get('delta', ''))}</span>", entry.seq)
        elif kind == "text-end":
            yield _event("text", '<span class="part-end"></span>', entry.seq)
        elif kind.startswith("tool-"):
            html = render_to_string("generations/partials/chat_steps.html", {"view": view})
            yield _event("steps", html, entry.seq)
        elif kind == "image":
            html = render_to_string(
                "generations/partials/chat_images.html", {"view": view}, request
            )
            yield _event("images", html, entry.seq)
        elif kind in ("mockup", "listing"):
            html = render_to_string(
                "generations/partials/chat_mockup.html", {"view": view}, request
            )
            yield _event("mockup", html, entry.seq)
    final = TurnView.replay(
        ChatTurn.objects.select_related("job", "conversation").get(id=turn.id),
        view.presenter,
    )
    yield _event("done", _turn_html(request, final), final.seq + 1)


@shop_required("generate")
@require_POST
def chat_keep(request: HttpRequest, turn_id: Any) -> HttpResponse:
    turn = _turn(request, turn_id)
    try:
        keep_image(turn.conversation, request.POST.get("image", ""))
    except ChatError as exc:
        if request.htmx:
            return HttpResponse(escape(str(exc)), status=exc.status)
        messages.error(request, str(exc))
    else:
        if not request.htmx:
            messages.success(request, "Kept: follow-ups now change this version.")
    url = reverse("chat_conversation", args=[turn.conversation_id])
    if not request.htmx:
        return redirect(f"{url}#turn-{turn.id}")
    # Every turn of the conversation shows which image is kept now.
    return HttpResponse(
        "".join(
            render_to_string(
                "generations/partials/chat_turn.html",
                {"view": v, "oob": v.turn.id != turn.id},
                request,
            )
            for v in _views(request, turn.conversation)
        )
    )


@shop_required("generate")
@require_POST
def chat_cancel(request: HttpRequest, turn_id: Any) -> HttpResponse:
    turn = _turn(request, turn_id)
    cancel_turn(turn, reason="canceled in the studio")
    if not request.htmx:
        return redirect(reverse("chat_conversation", args=[turn.conversation_id]))
    turn = ChatTurn.objects.select_related("job", "conversation").get(id=turn.id)
    return HttpResponse(
        _turn_html(request, TurnView.replay(turn, Presenter(request, request.shop)))
    )
