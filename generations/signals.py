"""Domain events that other parts connect to instead of being called by the code that causes
them (dependencies point one way: the job lifecycle does not know who listens)."""

from __future__ import annotations

from django.dispatch import Signal

# Sent once a job reached a final state (completed, failed or canceled) and that change was
# written; `job` is the refreshed Job. Receivers run in the caller's thread, each isolated: one
# that raises is logged and the others still run. Connected in AppConfig.ready (webhook endpoints
# in generations/apps.py, a scene request's webhook_url in generations/scenes/apps.py).
job_finished = Signal()

# Sent inside the transaction that writes a job's final state, right after the write, with
# `job_id` and `status`. Receivers may only schedule work for the commit (transaction.on_commit):
# nothing they do may touch the database or fail that transaction. It exists for those who must
# hear of the end at the commit itself, before job_finished's receivers (webhooks, which query)
# have run: the synchronous API requests waiting for the job (generations/job_events.py).
job_finish_written = Signal()
