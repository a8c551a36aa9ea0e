"""A turn while it runs in a worker: the planners call tools, say things and set the stage
through a TurnRun, which writes the turn's event log, its tool-call rows and the job's stage.

Priced tools run their own jobs inline (execute_job in this process) while this turn's job
mirrors their progress, so one worker serves a whole turn and a cancel reaches both. A retried
attempt reuses the tool calls an earlier attempt finished (or the job it left running), so a
lost worker never charges a tool twice.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db.models import Max
from django.utils import timezone

from generations.actions import CancelError, ProgressReporter, cancel_job, execute_job
from generations.chat.models import ChatEvent, ChatToolCall, ChatTurn
from generations.chat.tools import TOOLS, ToolError, ToolInputError, validate
from generations.engines.base import JobCanceled
from generations.models import Job

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

    from studio.models import Shop

log = logging.getLogger(__name__)

# Priced tool calls (generations, background removals) one turn may make: the planners need two;
# a model that keeps calling them is stopped before it spends the shop's credits.
MAX_PRICED_CALLS = 4


def canonical(arguments: dict[str, Any]) -> str:
    return json.dumps(arguments, sort_keys=True, separators=(",", ":"), default=str)


@dataclass
class ToolResult:
    call_id: str
    name: str
    ok: bool
    output: dict[str, Any] = field(default_factory=dict)
    error: str = ""

    def for_model(self) -> dict[str, Any]:
        """What a language model reads back: the output, or the error."""
        return self.output if self.ok else {"error": self.error}


class EventLog:
    """Appends to a turn's ordered log (one writer per turn: the attempt that owns its job)."""

    def __init__(self, turn: ChatTurn) -> None:
        self.turn = turn
        self.seq = ChatEvent.objects.filter(turn=turn).aggregate(m=Max("seq"))["m"] or 0

    def append(self, kind: str, data: dict[str, Any] | None = None) -> ChatEvent:
        self.seq += 1
        return ChatEvent.objects.create(turn=self.turn, seq=self.seq, kind=kind, data=data or {})


class TextPart:
    """One streamed text part (text-start, deltas, text-end); deltas are batched a little so a
    fast stream of tokens does not become a row per token."""

    FLUSH_SECONDS = 0.05

    def __init__(self, run: TurnRun) -> None:
        self.run = run
        self.id = f"text-{uuid.uuid4().hex[:12]}"
        self.buffer = ""
        self.text = ""
        self.started = False
        self.last_flush = 0.0

    def delta(self, text: str) -> None:
        if not text:
            return
        if not self.started:
            self.run.log.append("text-start", {"id": self.id})
            self.started = True
        self.buffer += text
        self.text += text
        if time.monotonic() - self.last_flush >= self.FLUSH_SECONDS:
            self.flush()

    def flush(self) -> None:
        if self.buffer:
            self.run.log.append("text-delta", {"id": self.id, "delta": self.buffer})
            self.buffer = ""
            self.last_flush = time.monotonic()

    def end(self) -> None:
        if self.started:
            self.flush()
            self.run.log.append("text-end", {"id": self.id})
            self.run.texts.append(self.text)
            self.started = False


class TurnRun:
    """The running turn: what planners use. Created by generations.chat.actions.run_turn."""

    def __init__(self, turn: ChatTurn, job: Job, progress: ProgressReporter) -> None:
        self.turn = turn
        self.job = job
        self.progress = progress
        self.conversation = turn.conversation
        self.shop: Shop = job.shop
        self.user: AbstractBaseUser | None = job.created_by
        self.source = job.source
        self.request = turn.request
        self.regenerate = turn.trigger == ChatTurn.Trigger.REGENERATE
        self.previous: dict[str, Any] = dict(turn.state.get("before") or {})
        self.log = EventLog(turn)
        self.texts: list[str] = []
        self.produced: dict[str, Any] = {}
        self.tool_outputs: list[ToolResult] = []
        self._stage = ""
        self._percent = 5
        self._call: ChatToolCall | None = None
        self._child: Job | None = None
        self._planner = ""
        self._position = (
            ChatToolCall.objects.filter(turn=turn).aggregate(m=Max("position"))["m"] or 0
        )

    # --- identity -------------------------------------------------------------------------------

    @property
    def seed(self) -> int:
        """A seed of this turn's own: a regenerated or "another version" design differs."""
        digest = hashlib.sha256(str(self.turn.id).encode()).digest()
        return int.from_bytes(digest[:4], "big") % (2**31)

    @property
    def planned_offline(self) -> bool:
        return "offline" in self._planner

    def planner_name(self, name: str) -> None:
        self._planner = name if not self._planner else f"{self._planner}; {name}"
        ChatTurn.objects.filter(id=self.turn.id).update(planner=self._planner[:200])

    # --- stage, text, steps -----------------------------------------------------------------------

    def stage(self, stage: str, percent: int | None = None) -> None:
        """Set the stage clients show (the job's stage, and a stage event when it changes).
        Raises JobCanceled when the turn's job was canceled."""
        if percent is not None:
            self._percent = max(self._percent, min(int(percent), 97))
        self.progress(self._percent, stage)
        if stage != self._stage:
            self._stage = stage
            self.log.append("stage", {"stage": stage})

    def check(self) -> None:
        self.progress(self._percent, self._stage or "working")

    def text(self) -> TextPart:
        return TextPart(self)

    def say(self, text: str) -> None:
        if not text:
            return
        part = self.text()
        part.delta(text)
        part.end()

    def say_intro(self, text: str) -> None:
        """The opening sentence; skipped when the door already wrote it at submit."""
        if self.turn.state.get("intro"):
            self.texts.append(self.turn.state["intro"])
            return
        self.say(text)

    def step_start(self) -> None:
        self.log.append("start-step")

    def step_finish(self) -> None:
        self.log.append("finish-step")

    def cost_cents(self) -> int:
        return sum(int(r.output.get("costCents", 0) or 0) for r in self.tool_outputs if r.ok)

    # --- tools --------------------------------------------------------------------------------------

    def call(self, name: str, arguments: Any, **memo: Any) -> ToolResult:
        """Validate and run one tool call, logging its input and output. Tool failures come
        back as results (ok=False) for the planner to handle; JobCanceled and crashes (the job
        fails or retries) propagate after the call is recorded as failed."""
        self.check()
        try:
            args = validate(name, arguments)
        except ToolInputError as exc:
            call_id = str(uuid.uuid4())
            self.log.append(
                "tool-input-error",
                {
                    "toolCallId": call_id,
                    "toolName": name,
                    "input": arguments,
                    "errorText": str(exc),
                },
            )
            result = ToolResult(call_id, name, False, error=str(exc))
            self.tool_outputs.append(result)
            return result
        tool = TOOLS[name]
        clean = args.model_dump(exclude_none=True)
        previous = self._reusable(name, clean)
        if tool.priced and previous is None and self._priced_calls() >= MAX_PRICED_CALLS:
            # A model looping on paid tools stops here, whatever its step budget says.
            error = f"A turn makes at most {MAX_PRICED_CALLS} priced tool calls; ask again."
            call_id = str(uuid.uuid4())
            self.log.append(
                "tool-input-error",
                {"toolCallId": call_id, "toolName": name, "input": clean, "errorText": error},
            )
            result = ToolResult(call_id, name, False, error=error)
            self.tool_outputs.append(result)
            return result
        if previous is not None and previous.status == ChatToolCall.Status.DONE:
            # An earlier attempt finished it (and logged it): reuse, charge nothing again.
            result = ToolResult(str(previous.id), name, True, dict(previous.output))
            self._remember(name, result, memo, log=False)
            self.tool_outputs.append(result)
            return result
        if previous is not None:
            call = previous  # its job is still there: resume it
        else:
            self._position += 1
            call = ChatToolCall.objects.create(
                turn=self.turn, position=self._position, name=name, arguments=clean
            )
            self.log.append(
                "tool-call", {"toolCallId": str(call.id), "toolName": name, "input": clean}
            )
        self._call = call
        try:
            self.stage(tool.stage, self._percent + 3)
            output = tool.run(self, args, previous.job if previous is not None else None)
        except JobCanceled:
            self._cancel_child()
            self._fail_call(call, "canceled")
            raise
        except ToolError as exc:
            self._fail_call(call, str(exc))
            result = ToolResult(str(call.id), name, False, error=str(exc))
        except Exception as exc:
            self._fail_call(call, f"interrupted: {exc}")
            raise
        else:
            self._finish_call(call, ChatToolCall.Status.DONE, output, "")
            self.log.append("tool-result", {"toolCallId": str(call.id), "output": output})
            result = ToolResult(str(call.id), name, True, output)
            self._remember(name, result, memo)
        finally:
            self._call, self._child = None, None
        self.tool_outputs.append(result)
        self._percent = min(self._percent + 15, 90)
        return result

    def _priced_calls(self) -> int:
        priced = [n for n, t in TOOLS.items() if t.priced]
        return ChatToolCall.objects.filter(turn=self.turn, name__in=priced).count()

    def _fail_call(self, call: ChatToolCall, error: str) -> None:
        self._finish_call(call, ChatToolCall.Status.FAILED, {}, error)
        self.log.append("tool-error", {"toolCallId": str(call.id), "errorText": error})

    def _reusable(self, name: str, clean: dict[str, Any]) -> ChatToolCall | None:
        """The same call from an earlier attempt of this turn: done (reuse its output) or
        still holding a job (resume that job rather than submitting and charging again)."""
        if self.job.attempts <= 1:
            return None
        key = canonical(clean)
        for call in ChatToolCall.objects.filter(turn=self.turn, name=name).select_related("job"):
            if canonical(call.arguments) != key:
                continue
            if call.status == ChatToolCall.Status.DONE:
                return call
            if call.status == ChatToolCall.Status.RUNNING and call.job is not None:
                return call
        return None

    def _finish_call(
        self, call: ChatToolCall, status: str, output: dict[str, Any], error: str
    ) -> None:
        cost = int(output.get("costCents", 0) or 0)
        ChatToolCall.objects.filter(id=call.id).update(
            status=status, output=output, error=error[:2000], cost_cents=cost,
            finished_at=timezone.now(),
        )  # fmt: skip

    def _remember(
        self, name: str, result: ToolResult, memo: dict[str, Any], *, log: bool = True
    ) -> None:
        """Keep what follow-up turns build on (see generations.chat.state) and log what a
        client shows: images, the mockup, the listing."""
        from generations.chat.state import record

        record(self.produced, name, result.output, memo)
        if not log:
            return
        if result.ok and name in ("generate_image", "remove_background"):
            for image in result.output.get("images") or [result.output.get("image")]:
                if image:
                    self.log.append("image", {"imageId": image["id"], "toolCallId": result.call_id})
        elif result.ok and name == "build_mockup":
            self.log.append("mockup", {**result.output, "toolCallId": result.call_id})
        elif result.ok and name == "create_listing":
            self.log.append("listing", {**result.output, "toolCallId": result.call_id})

    # --- child jobs --------------------------------------------------------------------------------

    def attach_job(self, job: Job) -> None:
        """Record the job a tool call submitted before it runs (a retry then resumes it)."""
        self._child = job
        if self._call is not None:
            ChatToolCall.objects.filter(id=self._call.id).update(job=job)

    def run_job(self, job: Job) -> Job:
        """Run a tool's job here (or wait while another worker runs it) until it finishes,
        mirroring its progress into this turn's stage. Raises JobCanceled if this turn is."""
        self._child = job
        deadline = time.monotonic() + settings.CELERY_TASK_SOFT_TIME_LIMIT
        base, stage = self._percent, self._stage

        def mirror(percent: int, _stage: str) -> None:
            self._percent = max(self._percent, base + percent * 12 // 100)
            self.progress(self._percent, stage)

        while True:
            execute_job(str(job.id), on_progress=mirror)
            fresh = Job.objects.get(id=job.id)
            if fresh.is_finished:
                return fresh
            if time.monotonic() > deadline:
                raise ToolError(
                    "The job did not finish in time; it keeps running in the jobs list."
                )
            # Queued for a retry later, or another worker holds it: wait, renewing our lease.
            pause = 0.2 if fresh.status == Job.Status.ACTIVE else min(2.0**fresh.attempts, 10.0)
            waited = 0.0
            while waited < pause:
                self.check()
                time.sleep(0.2)
                waited += 0.2

    def _cancel_child(self) -> None:
        child = self._child
        if child is None:
            return
        try:
            cancel_job(child, reason="the chat turn was canceled")
        except CancelError:
            pass  # it finished meanwhile
        except Job.DoesNotExist:
            log.warning("child job %s vanished", child.id)
