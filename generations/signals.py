"""Domain events that other parts connect to instead of being called by the code that causes
them (dependencies point one way: the job lifecycle does not know who listens)."""

from __future__ import annotations

from django.dispatch import Signal

# Sent once a job reached a final state (completed, failed or canceled) and that change was
# written; `job` is the refreshed Job. Receivers run in the caller's thread, each isolated: one
# that raises is logged and the others still run. Connected in AppConfig.ready (webhook endpoints
# in generations/apps.py, a scene request's webhook_url in generations/scenes/apps.py).
job_finished = Signal()
