"""Fixtures for real Celery workers in subprocesses (tests/support/workers.py), sharing the test
database and the broker with the test, on a task queue of each test's own. Registered for all
tests by tests/conftest.py (integration and browser tests use them).

Each worker also gets MEDIA_ROOT = the test's media directory (so the test reads the files the
worker wrote), the slow test engine (tests/support/slow_engine.py) and a 3-second job lease.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from generations.models import Job
from tests.conftest import skip_or_fail
from tests.support import (
    slow_engine,  # noqa: F401 - registers test:slow in this process too
    workers,
)
from tests.support.workers import Worker

LEASE_SECONDS = 3


@pytest.fixture
def start_worker(
    transactional_db: Any, settings: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[..., Worker]]:
    """Start real workers: `start_worker(pool="solo"|"prefork")`. All are stopped afterwards."""
    try:
        workers.check_broker()
        workers.database_url()
    except workers.WorkerUnavailable as exc:
        skip_or_fail(str(exc))
    queue = workers.private_queue()
    # Celery reads its CELERY_* configuration through Django settings live, so this routes the
    # test's own enqueues (submit, sweeper) to the private queue.
    settings.CELERY_TASK_DEFAULT_QUEUE = queue
    settings.JOB_LEASE_SECONDS = LEASE_SECONDS
    monkeypatch.setenv("STUDIO_SLOW_ENGINE", "1")
    env = {
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "STUDIO_EXTRA_ENGINES": "tests.support.slow_engine",
        "STUDIO_SLOW_ENGINE": "1",
        "JOB_LEASE_SECONDS": str(LEASE_SECONDS),
    }
    started: list[Worker] = []

    def start(
        pool: str = "solo", *, beat: bool = False, extra_env: dict[str, str] | None = None
    ) -> Worker:
        log_path = tmp_path / f"worker{len(started) + 1}.log"
        worker = workers.start_worker(
            queue=queue, log_path=log_path, pool=pool, env={**env, **(extra_env or {})}, beat=beat
        )
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()
    control = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("control_folder")
    if control:  # the filesystem broker keeps one small binding file per queue
        (Path(control) / f"{queue}.exchange").unlink(missing_ok=True)


def wait_for(
    predicate: Callable[[], Any], *, timeout: float, what: str, worker: Worker | None = None
) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    log = f"\nworker log:\n{worker.tail()}" if worker else ""
    raise AssertionError(f"timed out after {timeout}s waiting for {what}{log}")


def wait_for_job(
    job: Job, statuses: tuple[str, ...], *, timeout: float = 60, worker: Worker | None = None
) -> Job:
    def check() -> Job | None:
        fresh = Job.objects.get(id=job.id)
        return fresh if fresh.status in statuses else None

    return wait_for(check, timeout=timeout, what=f"job {job.id} to be {statuses}", worker=worker)
