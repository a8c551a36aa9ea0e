"""Submit → completed for one 1024×1024 builtin image, one idle worker on Redis.

Targets (issue 2): end-to-end p50 ≤ 300 ms, queue latency (enqueued_at → started_at) p50 ≤ 100 ms.
A real `celery worker` subprocess (prefork, concurrency 1, as `make run`/production run it)
consumes a private queue; this process submits through the same action the pages use and polls the
Job row until it is completed, as a client watching the job card would.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from django.conf import settings

from bench.support import (
    Skip,
    require_redis_broker,
    summary,
    use_bench_database,
    verdict,
)

RUNS = int(os.environ.get("BENCH_JOBS_RUNS", "30"))
WARMUP = 3
POLL_SECONDS = 0.002


def _ms(delta: Any) -> float:
    return delta.total_seconds() * 1000


def run() -> dict[str, Any]:
    try:
        require_redis_broker()
    except Skip as exc:
        print(f"SKIP jobs: {exc}")
        return {"skipped": str(exc)}

    from generations import actions
    from generations.models import Job
    from studio import actions as studio_actions
    from studio.models import Membership
    from tests.support import workers

    db_name = use_bench_database()
    email = "bench-jobs@example.com"
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.filter(username=email).first() or studio_actions.sign_up(
        email, "bench-jobs-password", "Bench jobs"
    )
    shop = Membership.objects.get(user=user).shop
    studio_actions.grant_credits(shop, wallet_cents=RUNS + WARMUP + 10, memo="bench")

    media = Path(tempfile.mkdtemp(prefix="bench-media-"))
    queue = workers.private_queue("studio-bench")
    settings.CELERY_TASK_DEFAULT_QUEUE = queue  # Celery reads this live (routes our enqueues)
    log_path = media / "worker.log"
    worker = workers.start_worker(
        queue=queue, log_path=log_path, pool="prefork", env={"MEDIA_ROOT": str(media)}
    )
    end_to_end: list[float] = []
    server: list[float] = []
    queue_latency: list[float] = []
    running: list[float] = []
    try:
        for i in range(WARMUP + RUNS):
            spec = actions.GenerationSpec(
                prompt=f'teal and gold waves poster, "bench {i}"',
                width=1024,
                height=1024,
                count=1,
                seed=i,
            )
            started = time.perf_counter()
            job = actions.submit_generation(shop, spec, source="bench")
            while True:
                fresh = Job.objects.get(id=job.id)
                if fresh.is_finished:
                    break
                if time.perf_counter() - started > 30:
                    raise RuntimeError(f"job {job.id} not finished after 30 s:\n{worker.tail()}")
                time.sleep(POLL_SECONDS)
            elapsed = (time.perf_counter() - started) * 1000
            if fresh.status != Job.Status.COMPLETED:
                raise RuntimeError(f"job {job.id} {fresh.status}: {fresh.error}")
            if i < WARMUP:
                continue
            end_to_end.append(elapsed)
            server.append(_ms(fresh.finished_at - fresh.created_at))
            queue_latency.append(_ms(fresh.started_at - fresh.enqueued_at))
            running.append(_ms(fresh.finished_at - fresh.started_at))
    finally:
        worker.stop()
        shutil.rmtree(media, ignore_errors=True)

    result = {
        "database": f"{settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]} ({db_name})",
        "broker": settings.CELERY_BROKER_URL.split("@")[-1],
        "end_to_end": summary(end_to_end),
        "server_created_to_finished": summary(server),
        "queue_latency": summary(queue_latency),
        "run_time": summary(running),
    }
    for key in ("end_to_end", "server_created_to_finished", "queue_latency", "run_time"):
        s = result[key]
        print(
            f"{key:28s} p50 {s['p50_ms']:7.1f} ms   p95 {s['p95_ms']:7.1f} ms   max {s['max_ms']:7.1f} ms"
        )
    result["verdicts"] = [
        verdict("submit → completed p50", result["end_to_end"]["p50_ms"], 300),
        verdict("queue latency p50", result["queue_latency"]["p50_ms"], 100),
    ]
    return result
