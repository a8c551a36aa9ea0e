"""The chat's verbs: start a turn (find or create the conversation, create the turn and its
`chat` job), run it (the job runner), cancel it, keep an image. Doors call these; the API and
the studio page share them.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from generations.actions import (
    CancelError,
    Output,
    ProgressReporter,
    cancel_job,
    runner,
    submit_job,
)
from generations.chat import offline, state
from generations.chat.intent import read_request
from generations.chat.models import ChatEvent, ChatToolCall, ChatTurn, Conversation
from generations.chat.tools import cost_cents
from generations.chat.turn import TurnRun
from generations.models import Asset, Job
from studio.actions import InsufficientCredits

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

    from studio.models import ApiKey, Shop

log = logging.getLogger(__name__)

MAX_REQUEST_CHARS = 4000
MAX_HISTORY = 200


class ChatError(ValueError):
    """A chat request that cannot be served; `status` is the HTTP status a door should use."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Message:
    role: str  # "user" | "assistant" | "system"
    text: str


def llm_configured() -> bool:
    return bool(settings.CHAT_MODEL)


def _normal(text: str) -> str:
    return "".join(text.split())


def transcript_hash(messages: Sequence[Message]) -> str:
    """A fingerprint of a conversation's user and assistant texts (whitespace ignored, so a
    client that joins text parts differently still matches)."""
    h = hashlib.sha256()
    for m in messages:
        if m.role in ("user", "assistant"):
            h.update(f"{m.role}\x1f{_normal(m.text)}\x1e".encode())
    return h.hexdigest()


# --- starting a turn ---------------------------------------------------------------------------------


def find_conversation(
    shop: Shop, *, conversation_id: str = "", client_id: str = "", history: Sequence[Message] = ()
) -> Conversation | None:
    """The conversation a request continues: by our id, by the client's own chat id, or by the
    transcript it resends (a client that keeps no id). None: start a new one."""
    if conversation_id:
        try:
            ident = uuid.UUID(str(conversation_id))
        except ValueError:
            raise ChatError("Conversation not found.", 404) from None
        found = Conversation.objects.filter(shop=shop, id=ident).first()
        if found is None:
            raise ChatError("Conversation not found.", 404)
        return found
    if client_id:
        return Conversation.objects.filter(shop=shop, client_id=client_id).first()
    if any(m.role == "assistant" for m in history):
        digest = transcript_hash(history)
        turn = (
            ChatTurn.objects.filter(conversation__shop=shop, history_hash=digest)
            .select_related("conversation")
            .order_by("-created_at")
            .first()
        )
        return turn.conversation if turn is not None else None
    return None


def estimate_cents(shop: Shop, request: str, conversation_state: dict[str, Any]) -> int:
    """What the offline reading of a request would cost: the door refuses a turn the shop
    cannot pay for before anything runs. An estimate from the price table by model and job
    kind (no engine lookup, which costs more than the rest of the start): each tool is still
    priced and charged exactly when it runs."""
    from generations.engines import registry
    from generations.imageops.catalog import OPERATIONS
    from generations.operations import operation_price
    from generations.pricing import price_per_output

    plan = offline.decide(read_request(request), conversation_state)
    cents = 0
    if plan.brief is not None:
        model = registry.default_model_name(shop.default_model)
        cents += plan.count * price_per_output(model=model, resolution="standard", kind="generate")
    if plan.remove_background:
        cents += operation_price(OPERATIONS["remove-background"], "", "", {})
    return cents


def start_turn(
    shop: Shop,
    text: str,
    *,
    user: AbstractBaseUser | None = None,
    api_key: ApiKey | None = None,
    conversation: Conversation | None = None,
    client_id: str = "",
    history: Sequence[Message] = (),
    regenerate: bool = False,
    source: str = "chat",
) -> ChatTurn:
    """Create the next turn of a conversation (a new one when none is given) and its `chat` job,
    enqueued after commit. Raises ChatError (nothing created) or InsufficientCredits."""
    text = (text or "").strip()
    if not text:
        raise ChatError("The message is empty: say what to design.")
    if len(text) > MAX_REQUEST_CHARS:
        raise ChatError(f"The message is longer than {MAX_REQUEST_CHARS} characters.")
    if conversation is not None and conversation.shop_id != shop.id:
        raise ChatError("Conversation not found.", 404)
    with transaction.atomic():
        if conversation is None and client_id:
            conversation = (
                Conversation.objects.select_for_update()
                .filter(shop=shop, client_id=client_id)
                .first()
            )
        if conversation is None:
            conversation = Conversation.objects.create(
                shop=shop,
                created_by=user,
                api_key=api_key,
                client_id=client_id[:200],
                title=_title(history, text),
                source=source,
            )
        else:
            # One turn at a time: the row lock orders concurrent requests.
            conversation = Conversation.objects.select_for_update().get(id=conversation.id)
        busy = ChatTurn.objects.filter(
            conversation=conversation, job__status__in=[Job.Status.QUEUED, Job.Status.ACTIVE]
        ).exists()
        if busy:
            raise ChatError("The previous reply is still being made; wait for it first.", 409)
        before = dict(conversation.state or {})
        needed = estimate_cents(shop, text, before)
        shop.refresh_from_db(
            fields=["plan_budget_cents", "plan_used_cents", "plan_period", "wallet_cents"]
        )
        if needed > shop.balance_cents:
            raise InsufficientCredits(needed, shop.balance_cents)
        last = conversation.turns.order_by("-position").values_list("position", flat=True).first()
        turn = ChatTurn.objects.create(
            conversation=conversation,
            position=(last or 0) + 1,
            request=text,
            trigger=ChatTurn.Trigger.REGENERATE if regenerate else ChatTurn.Trigger.SUBMIT,
            state={"before": before},
        )
        job = submit_job(
            shop,
            kind="chat",
            params={"turn": str(turn.id), "prompt": text[:500]},
            cost_cents=0,  # each tool call is its own charged job
            user=user,
            source=source,
            model=settings.CHAT_MODEL or "offline",
            engine="chat",
            memo="chat turn (tools are charged separately)",
        )
        turn.job = job
        if not llm_configured():
            # The offline plan is known now: its first sentence streams before a worker starts.
            plan = offline.decide(read_request(text), before, regenerate=regenerate)
            intro = plan.intro()
            turn.state["intro"] = intro
            _say(turn, intro)
        turn.save(update_fields=["job", "state"])
        Conversation.objects.filter(id=conversation.id).update(updated_at=timezone.now())
    return turn


def _title(history: Sequence[Message], text: str) -> str:
    first = next((m.text for m in history if m.role == "user" and m.text.strip()), text)
    first = " ".join(first.split())
    return first if len(first) <= 80 else first[:79] + "…"


def _say(turn: ChatTurn, text: str) -> None:
    part = f"text-{uuid.uuid4().hex[:12]}"
    entries = [
        ("stage", {"stage": "queued"}),
        ("text-start", {"id": part}),
        ("text-delta", {"id": part, "delta": text}),
        ("text-end", {"id": part}),
    ]
    ChatEvent.objects.bulk_create(
        ChatEvent(turn=turn, seq=seq, kind=kind, data=data)
        for seq, (kind, data) in enumerate(entries, start=1)
    )


# --- running a turn (the `chat` job) ---------------------------------------------------------------


@runner("chat")
def run_chat_turn(job: Job, progress: ProgressReporter) -> tuple[list[Output], dict[str, Any]]:
    turn = ChatTurn.objects.select_related("conversation").get(job=job)
    run = TurnRun(turn, job, progress)
    run.stage("planning", 5)
    if llm_configured():
        from generations.chat import agent

        agent.run_with_fallback(run)
    else:
        offline.run(run)
    finish_turn(run)
    return [], {"turn": str(turn.id), "costCents": turn_cost(turn)}


def turn_cost(turn: ChatTurn) -> int:
    """What a turn's tools cost after refunds: the ledger of their jobs, plus what tools that run
    without a job charged directly (a fresh mockup render)."""
    calls = ChatToolCall.objects.filter(turn=turn)
    jobs = Job.objects.filter(id__in=calls.filter(job__isnull=False).values("job_id"))
    direct = calls.filter(job__isnull=True).values_list("cost_cents", flat=True)
    return sum(cost_cents(j) for j in jobs) + sum(direct)


def finish_turn(run: TurnRun) -> None:
    """Record the reply and what the turn produced, lay it over the conversation's state, and
    write the final event."""
    run.stage("writing the reply", 96)
    turn = run.turn
    reply = "\n\n".join(t.strip() for t in run.texts if t.strip())
    cost = turn_cost(turn)
    with transaction.atomic():
        conversation = Conversation.objects.select_for_update().get(id=turn.conversation_id)
        new_state = state.merge(run.previous, run.produced)
        earlier = [
            m
            for t in conversation.turns.filter(position__lt=turn.position).order_by("position")
            for m in (Message("user", t.request), Message("assistant", t.reply))
        ]
        digest = transcript_hash(
            [*earlier, Message("user", turn.request), Message("assistant", reply)]
        )
        ChatTurn.objects.filter(id=turn.id).update(
            reply=reply,
            state={**turn.state, "produced": run.produced},
            cost_cents=cost,
            history_hash=digest,
            finished_at=timezone.now(),
        )
        Conversation.objects.filter(id=conversation.id).update(
            state=new_state, updated_at=timezone.now()
        )
        run.log.append("finish", {"costCents": cost})
    turn.refresh_from_db()


# --- cancelling, keeping --------------------------------------------------------------------------------


def cancel_turn(turn: ChatTurn, *, reason: str = "canceled") -> None:
    """Stop a turn that is still running: its job and any tool job it started (refunded)."""
    jobs = [turn.job] if turn.job is not None else []
    jobs += [
        c.job
        for c in ChatToolCall.objects.filter(turn=turn, job__isnull=False).select_related("job")
        if c.job is not None
    ]
    for job in jobs:
        if job.status in (Job.Status.QUEUED, Job.Status.ACTIVE):
            with contextlib.suppress(CancelError):  # it finished meanwhile
                cancel_job(job, reason=reason)


def keep_image(conversation: Conversation, asset_id: str) -> Asset:
    """A designer keeps one image of the conversation: it becomes the design follow-ups change."""
    try:
        ident = uuid.UUID(str(asset_id))
    except ValueError:
        raise ChatError("Unknown image.", 404) from None
    asset = Asset.objects.filter(shop=conversation.shop, id=ident).first()
    if asset is None:
        raise ChatError("Unknown image.", 404)
    brief: dict[str, Any] = {}
    for turn in conversation.turns.order_by("-position"):
        produced = (turn.state or {}).get("produced") or {}
        if str(asset.id) in [*produced.get("images", []), *produced.get("cutouts", [])]:
            brief = (produced.get("design") or {}).get("brief") or {}
            break
    else:
        raise ChatError("That image was not made in this conversation.", 404)
    with transaction.atomic():
        locked = Conversation.objects.select_for_update().get(id=conversation.id)
        new_state = state.kept(locked.state or {}, str(asset.id), brief=brief, prompt=asset.prompt)
        new_state["design"]["cutout"] = asset.parameters.get("operation") == "remove-background"
        Conversation.objects.filter(id=locked.id).update(state=new_state, updated_at=timezone.now())
    conversation.state = new_state
    return asset


def turn_status(turn: ChatTurn) -> str:
    """running | done | failed | canceled (the poll route's words; queued counts as running)."""
    job = turn.job
    if job is None:
        return "failed"
    return {
        Job.Status.COMPLETED: "done",
        Job.Status.FAILED: "failed",
        Job.Status.CANCELED: "canceled",
    }.get(job.status, "running")
