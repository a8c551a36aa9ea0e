"""How late a synchronous API request notices its job's end (issue 18, goal 2): a job row is
finished by another thread after JOB_MS (as a worker would: the row update, then the finish
announcement after commit) while generations.job_events.wait_for_job waits for it.

Reported per waiter: p50/p95 of (wait returned − job finished). Baseline: the growing-sleep poll
it replaced (0, 50, 125, 237, 406 ms …), timed in the same run. Target: ≤ 10 ms p50 late with
Redis (pub/sub); the polling fallback (no Redis broker) is reported for information.
Environment: BENCH_REDIS (default redis://127.0.0.1:6379/14), BENCH_SYNCWAIT_RUNS (default 30).
"""

from __future__ import annotations

import os
import threading
import time
from typing import Any

from bench.support import machine_load, summary, use_bench_database, verdict

REDIS = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/14")
RUNS = int(os.environ.get("BENCH_SYNCWAIT_RUNS", "30"))
JOB_MS = (40, 70, 110, 160)  # job lengths cycled through, so no waiter is tuned to one


def _old_wait(job_id: Any, timeout: float) -> Any:
    """The wait before issue 18: poll the row with sleeps growing from 50 ms by 1.5× to 500 ms."""
    from generations.models import Job

    deadline = time.monotonic() + timeout
    delay = 0.05
    while True:
        job = Job.objects.get(id=job_id)
        if job.is_finished or time.monotonic() >= deadline:
            return job
        time.sleep(min(delay, max(deadline - time.monotonic(), 0.01)))
        delay = min(delay * 1.5, 0.5)


def _late_ms(shop: Any, wait: Any, job_ms: float) -> float:
    from django.db import connection
    from django.utils import timezone

    from generations.job_events import announce_finished
    from generations.models import Job

    job = Job.objects.create(shop=shop, kind="generate", status=Job.Status.ACTIVE)
    finished: list[float] = []

    def worker() -> None:
        time.sleep(job_ms / 1000)
        Job.objects.filter(id=job.id).update(
            status=Job.Status.COMPLETED, finished_at=timezone.now()
        )
        job.status = Job.Status.COMPLETED
        finished.append(time.perf_counter())
        # The job_finish_written receiver; autocommit: announced at once, as at a commit.
        announce_finished(sender=Job, job_id=job.id, status=job.status)
        connection.close()

    thread = threading.Thread(target=worker)
    thread.start()
    done = wait(job.id, 10)
    returned = time.perf_counter()
    thread.join()
    if not done.is_finished:
        raise RuntimeError("the wait gave up on a finished job")
    return (returned - finished[0]) * 1000


def run() -> dict[str, Any]:
    from django.conf import settings

    from generations import job_events
    from studio.actions import create_shop
    from studio.models import Shop

    use_bench_database()
    shop = Shop.objects.filter(name="Bench sync wait").first() or create_shop("Bench sync wait")
    waiters: dict[str, tuple[str, Any]] = {
        "baseline_growing_poll": ("filesystem://", _old_wait),
        "short_poll_no_redis": ("filesystem://", job_events.wait_for_job),
    }
    try:
        import redis

        redis.Redis.from_url(REDIS, socket_connect_timeout=1).ping()
        waiters["redis_pubsub"] = (REDIS, job_events.wait_for_job)
    except Exception as exc:
        print(f"(no Redis at {REDIS}: {exc}; the pub/sub waiter is not measured)")
    result: dict[str, Any] = {}
    broker = settings.CELERY_BROKER_URL
    try:
        for name, (url, wait) in waiters.items():
            settings.CELERY_BROKER_URL = url
            late = [_late_ms(shop, wait, JOB_MS[i % len(JOB_MS)]) for i in range(RUNS)]
            s = result[name] = summary(late)
            print(f"  {name:24s} late p50 {s['p50_ms']:6.1f} ms   p95 {s['p95_ms']:6.1f} ms")
    finally:
        settings.CELERY_BROKER_URL = broker
    result["machine"] = machine_load()
    print(result["machine"])
    if "redis_pubsub" in result:
        result["verdicts"] = [
            verdict("sync wait late p50 (Redis)", result["redis_pubsub"]["p50_ms"], 10)
        ]
    return result
