"""Following a turn's event log while a worker writes it: what the streaming doors read.

`follow()` yields each new entry in order, a heartbeat when nothing arrived for a while (so a
door writes something and notices a client that went away), and ends once the turn's job is
finished and every entry was read: with the worker's own "finish" entry, or a synthetic "end"
that carries the failure or cancel reason when the job ended without one.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from generations.chat.models import ChatEvent
from generations.models import Job


@dataclass(frozen=True)
class Entry:
    seq: int
    kind: str
    data: dict[str, Any] = field(default_factory=dict)


HEARTBEAT = Entry(0, "heartbeat")
FINAL = frozenset({"finish", "end", "timeout"})


def follow(
    turn_id: Any,
    job_id: Any,
    *,
    after: int = 0,
    # A write to a client that went away fails only on the second attempt (the first draws the
    # reset): a beat a second notices a disconnect within about two.
    heartbeat: float = 1.0,
    poll: tuple[float, float] = (0.05, 0.25),
    timeout: float | None = None,
) -> Iterator[Entry]:
    """Every entry of the turn's log after `after`, as it is written (see the module doc)."""
    timeout = settings.CHAT_STREAM_TIMEOUT_SECONDS if timeout is None else timeout
    deadline = time.monotonic() + timeout
    last = after
    quiet_since = time.monotonic()
    delay = poll[0]
    while True:
        rows = list(
            ChatEvent.objects.filter(turn_id=turn_id, seq__gt=last)
            .order_by("seq")
            .values_list("seq", "kind", "data")[:500]
        )
        if rows:
            for seq, kind, data in rows:
                last = seq
                yield Entry(seq, kind, data or {})
                if kind in FINAL:
                    return
            quiet_since, delay = time.monotonic(), poll[0]
            continue
        status, error, stage = Job.objects.filter(id=job_id).values_list(
            "status", "error", "stage"
        ).first() or (Job.Status.FAILED, "The turn's job no longer exists.", "")
        if status in Job.FINISHED:
            # Entries written just before the job finished are read before the end.
            if ChatEvent.objects.filter(turn_id=turn_id, seq__gt=last).exists():
                continue
            yield Entry(last + 1, "end", {"status": status, "error": error or stage})
            return
        now = time.monotonic()
        if now >= deadline:
            yield Entry(last + 1, "timeout", {"status": status, "stage": stage})
            return
        if now - quiet_since >= heartbeat:
            quiet_since = now
            yield HEARTBEAT
        time.sleep(delay)
        delay = min(delay * 1.5, poll[1])
