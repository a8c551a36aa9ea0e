"""Conversations and their turns; each turn's tool calls and the ordered event log that the
doors (the API stream, the poll route, the studio page) read while a worker writes it."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from generations.models import Job
from studio.models import ApiKey, Shop


class Conversation(models.Model):
    """A designer's (or an API client's) chat with the studio, scoped to one shop."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="conversations")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    api_key = models.ForeignKey(
        ApiKey, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The client's own id for the chat (the AI SDK sends `id`), so its follow-ups find us again.
    client_id = models.CharField(max_length=200, blank=True)
    title = models.CharField(max_length=160, blank=True)
    source = models.CharField(max_length=40, default="studio")
    # What follow-ups build on: the current design, its images, product and mockup (see
    # generations.chat.state). Updated when a turn finishes and when a designer keeps an image.
    state = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-updated_at", "-id"]
        indexes = [models.Index(fields=["shop", "-updated_at"], name="conversation_shop_recent")]
        constraints = [
            models.UniqueConstraint(
                fields=["shop", "client_id"],
                condition=~Q(client_id=""),
                name="conversation_client_id_per_shop",
            )
        ]

    def __str__(self) -> str:
        return self.title or f"conversation {self.id}"


class ChatTurn(models.Model):
    """One request and the studio's reply to it. Its id is the reply's message id."""

    class Trigger(models.TextChoices):
        SUBMIT = "submit", "Submit"
        REGENERATE = "regenerate", "Regenerate"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="turns")
    position = models.PositiveIntegerField()
    request = models.TextField()
    trigger = models.CharField(max_length=12, choices=Trigger.choices, default=Trigger.SUBMIT)
    job = models.OneToOneField(
        Job, on_delete=models.SET_NULL, null=True, blank=True, related_name="chat_turn"
    )
    planner = models.CharField(max_length=200, blank=True)
    reply = models.TextField(blank=True)
    # What this turn produced (design, images, product, mockup, listing), for the poll route
    # and for follow-ups.
    state = models.JSONField(default=dict, blank=True)
    cost_cents = models.PositiveIntegerField(default=0)
    # sha256 of the transcript up to and including this reply: a client that resends the whole
    # history without an id (the start/poll pair) is matched to its conversation by it.
    history_hash = models.CharField(max_length=64, blank=True, db_index=True)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["conversation", "position"], name="one_turn_position")
        ]

    def __str__(self) -> str:
        return f"turn {self.position} of {self.conversation_id}"


class ChatToolCall(models.Model):
    """One call of a tool in a turn, with the job it ran as (when the tool is priced work)."""

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    turn = models.ForeignKey(ChatTurn, on_delete=models.CASCADE, related_name="tool_calls")
    position = models.PositiveIntegerField()
    name = models.CharField(max_length=60)
    arguments = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.RUNNING)
    output = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    job = models.ForeignKey(Job, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    cost_cents = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["turn", "position"], name="one_tool_call_position")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.status})"


class ChatEvent(models.Model):
    """An entry of a turn's append-only log: stage, text, tool input/output, image, mockup, end.

    Written by the worker as the turn runs; the doors read `seq > last seen` to stream it."""

    turn = models.ForeignKey(ChatTurn, on_delete=models.CASCADE, related_name="events")
    seq = models.PositiveIntegerField()
    kind = models.CharField(max_length=30)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["seq"]
        constraints = [models.UniqueConstraint(fields=["turn", "seq"], name="one_chat_event_seq")]

    def __str__(self) -> str:
        return f"{self.kind} #{self.seq}"
