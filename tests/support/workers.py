"""Start real `celery worker` subprocesses that share this process's database and broker.

Used by the integration tests (tests/integration/conftest.py) and the job benchmark
(bench/bench_jobs.py). A worker gets this process's environment plus:
- DATABASE_URL for the database this process is connected to (the test database pytest-django
  made, a FILE for SQLite; `test_<name>` on PostgreSQL), so it sees the rows we create;
- CELERY_TASK_DEFAULT_QUEUE: a queue of the caller alone, so no other worker takes its tasks
  (a `make run` worker, a parallel run on the same Redis) and stale messages never reach it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.db import connection

BASE_DIR = Path(settings.BASE_DIR)
READY_TIMEOUT = 60


class WorkerUnavailable(Exception):
    """A service a worker needs (a file database, the broker) is not there."""


def database_url() -> str:
    """A DATABASE_URL for the database this process is connected to right now."""
    conf = connection.settings_dict
    if connection.vendor == "sqlite":
        name = str(conf["NAME"])
        if name == ":memory:" or "mode=memory" in name:
            raise WorkerUnavailable("a worker subprocess needs a FILE SQLite database")
        return f"sqlite:///{Path(name).resolve()}"
    if connection.vendor == "postgresql":
        auth = quote(conf["USER"] or "", safe="")
        if conf.get("PASSWORD"):
            auth += ":" + quote(conf["PASSWORD"], safe="")
        host = conf.get("HOST") or "127.0.0.1"
        port = conf.get("PORT") or 5432
        return f"postgres://{auth}@{host}:{port}/{conf['NAME']}"
    raise WorkerUnavailable(f"no worker database URL for the {connection.vendor} backend")


def check_broker() -> None:
    url = settings.CELERY_BROKER_URL
    if url.startswith("redis"):
        import redis

        try:
            redis.Redis.from_url(url, socket_connect_timeout=2).ping()
        except redis.RedisError as exc:
            raise WorkerUnavailable(f"Redis broker at {url} is not reachable: {exc}") from exc


def private_queue(prefix: str = "studio-test") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


class Worker:
    """One `celery worker` subprocess (in its own process group) and its log file."""

    def __init__(self, proc: subprocess.Popen[bytes], log_path: Path) -> None:
        self.proc = proc
        self.log_path = log_path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def tail(self, lines: int = 60) -> str:
        return "\n".join(self.log().splitlines()[-lines:])

    def count(self, text: str) -> int:
        return self.log().count(text)

    def wait_ready(self, timeout: float = READY_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if " ready." in self.log():
                return
            if self.proc.poll() is not None:
                raise AssertionError(f"worker exited with {self.proc.returncode}:\n{self.tail()}")
            time.sleep(0.05)
        raise AssertionError(f"worker not ready after {timeout}s:\n{self.tail()}")

    def pool_children(self) -> list[int]:
        path = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
        return [int(p) for p in path.read_text().split()] if path.exists() else []

    def kill(self) -> None:
        """SIGKILL the whole worker (main process and pool children): no cleanup runs."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)  # warm shutdown; nothing is running
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.kill()
            except ProcessLookupError:
                pass
        else:
            # The main process is gone; make sure no orphaned pool child is left behind.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)


def start_worker(
    *,
    queue: str,
    log_path: Path,
    pool: str = "solo",
    env: dict[str, str] | None = None,
    beat: bool = False,
) -> Worker:
    """Start a worker consuming `queue` and wait until it is ready (with `beat`, an embedded
    beat whose schedule file sits next to the log)."""
    full_env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "studio.settings",
        "DATABASE_URL": database_url(),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "PYTHONPATH": str(BASE_DIR),
        "PYTHONUNBUFFERED": "1",
        **(env or {}),
    }
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
        f"--hostname={log_path.stem}-{queue}@%h",
    ]
    if beat:
        cmd += ["--beat", f"--schedule={log_path.with_suffix('.beat')}"]
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            cmd,
            cwd=BASE_DIR,
            env=full_env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so a kill reaches pool children
        )
    worker = Worker(proc, log_path)
    try:
        worker.wait_ready()
    except BaseException:
        worker.stop()
        raise
    return worker
