"""Real Celery workers in subprocesses, sharing the test database and the broker with the test.

The worker is `celery -A studio worker` started with the test's environment plus:
- DATABASE_URL pointing at the test database pytest-django created (a FILE for SQLite, see
  studio/settings.py; `test_<name>` on PostgreSQL), so the worker sees the rows the test made;
- CELERY_TASK_DEFAULT_QUEUE set to a queue of this test alone, so a `make run` worker (or a
  parallel run on the same Redis) never takes these tasks, and leftovers never reach this test;
- MEDIA_ROOT set to the test's media directory, so the test can read the files the worker wrote;
- STUDIO_EXTRA_ENGINES=tests.support.slow_engine and JOB_LEASE_SECONDS small, for crash tests.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.conf import settings as django_settings
from django.db import connection

from generations.models import Job
from tests.conftest import skip_or_fail
from tests.support import slow_engine  # noqa: F401 - registers test:slow in this process too

LEASE_SECONDS = 3
WORKER_READY_TIMEOUT = 60
BASE_DIR = Path(django_settings.BASE_DIR)


def _check_broker() -> None:
    url = django_settings.CELERY_BROKER_URL
    if url.startswith("redis"):
        import redis

        try:
            redis.Redis.from_url(url, socket_connect_timeout=2).ping()
        except redis.RedisError as exc:
            skip_or_fail(f"Redis broker at {url} is not reachable: {exc}")


def database_url() -> str:
    """A DATABASE_URL for the test database this process is connected to."""
    conf = connection.settings_dict
    if connection.vendor == "sqlite":
        name = str(conf["NAME"])
        if name == ":memory:" or "mode=memory" in name:
            skip_or_fail("integration tests need a file SQLite test database (see settings)")
        return f"sqlite:///{Path(name).resolve()}"
    if connection.vendor == "postgresql":
        auth = quote(conf["USER"] or "", safe="")
        if conf.get("PASSWORD"):
            auth += ":" + quote(conf["PASSWORD"], safe="")
        host = conf.get("HOST") or "127.0.0.1"
        port = conf.get("PORT") or 5432
        return f"postgres://{auth}@{host}:{port}/{conf['NAME']}"
    skip_or_fail(f"no worker database URL for the {connection.vendor} backend")
    raise AssertionError("unreachable")


class Worker:
    """One `celery worker` subprocess (its own process group) and its log file."""

    def __init__(self, proc: subprocess.Popen[bytes], log_path: Path) -> None:
        self.proc = proc
        self.log_path = log_path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def tail(self, lines: int = 60) -> str:
        return "\n".join(self.log().splitlines()[-lines:])

    def wait_ready(self) -> None:
        deadline = time.monotonic() + WORKER_READY_TIMEOUT
        while time.monotonic() < deadline:
            if " ready." in self.log():
                return
            if self.proc.poll() is not None:
                raise AssertionError(f"worker exited with {self.proc.returncode}:\n{self.tail()}")
            time.sleep(0.1)
        raise AssertionError(f"worker not ready after {WORKER_READY_TIMEOUT}s:\n{self.tail()}")

    def pool_children(self) -> list[int]:
        path = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
        return [int(p) for p in path.read_text().split()] if path.exists() else []

    def kill(self) -> None:
        """SIGKILL the whole worker (main process and any pool children): no cleanup runs."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()
            except ProcessLookupError:
                pass
        else:
            # The main process is gone; make sure no orphaned pool child is left behind.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)

    def count(self, text: str) -> int:
        return self.log().count(text)


@pytest.fixture
def start_worker(
    transactional_db: Any, settings: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[..., Worker]]:
    """Start real workers: `start_worker(pool="solo"|"prefork")`. All are stopped afterwards."""
    _check_broker()
    queue = f"studio-test-{uuid.uuid4().hex[:12]}"
    # Celery reads its CELERY_* configuration through Django settings live, so this routes the
    # test's own enqueues (submit, sweeper) to the private queue.
    settings.CELERY_TASK_DEFAULT_QUEUE = queue
    monkeypatch.setenv("STUDIO_SLOW_ENGINE", "1")
    settings.JOB_LEASE_SECONDS = LEASE_SECONDS
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "studio.settings",
        "DATABASE_URL": database_url(),
        "CELERY_BROKER_URL": django_settings.CELERY_BROKER_URL,
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "STUDIO_EXTRA_ENGINES": "tests.support.slow_engine",
        "STUDIO_SLOW_ENGINE": "1",
        "JOB_LEASE_SECONDS": str(LEASE_SECONDS),
        "PYTHONPATH": str(BASE_DIR),
        "PYTHONUNBUFFERED": "1",
    }
    workers: list[Worker] = []

    def start(pool: str = "solo") -> Worker:
        log_path = tmp_path / f"worker-{len(workers) + 1}.log"
        cmd = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "studio",
            "worker",
            f"--pool={pool}",
            "--concurrency=1",
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            f"--hostname=test-{len(workers) + 1}-{queue}@%h",
        ]
        with log_path.open("wb") as log:
            proc = subprocess.Popen(
                cmd,
                cwd=BASE_DIR,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, so a kill reaches pool children
            )
        worker = Worker(proc, log_path)
        workers.append(worker)
        worker.wait_ready()
        return worker

    yield start
    for worker in workers:
        worker.stop()


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
