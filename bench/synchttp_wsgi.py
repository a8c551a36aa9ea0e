"""The studio's WSGI application with its sync wait swapped for a baseline, for bench_synchttp
only: BENCH_SYNC_WAIT=poll makes the web process poll the Job row as it does without Redis
(generations.job_events' short polling); BENCH_SYNC_WAIT=growing_poll puts back the wait before
issue 18 (sleeps growing from 50 ms by 1.5×, bench_syncwait's baseline). Anything else serves
the studio unchanged (Redis pub/sub)."""

from __future__ import annotations

import os

from studio.wsgi import application

from generations import job_events  # isort: skip

MODE = os.environ.get("BENCH_SYNC_WAIT", "pubsub")
if MODE == "poll":
    # Only this process's waits: the worker still announces, nobody here listens.
    job_events.redis_url = lambda: ""
elif MODE == "growing_poll":
    from bench.bench_syncwait import _old_wait

    job_events.wait_for_job = lambda job_id, timeout, read=None: _old_wait(job_id, timeout)

__all__ = ["application"]
