"""The Celery application; configuration comes from Django settings (CELERY_* names).

Shutdown: SIGTERM starts Celery's warm shutdown, which waits for running tasks. The prefork
pool bounds them by the soft time limit, but the solo pool cannot interrupt a task, and an
embedded beat only notices at its next tick. So a warm shutdown is given
CELERY_WORKER_SHUTDOWN_SECONDS (default: the soft time limit). Past that, a job still running
in the worker's main thread (solo pool) is interrupted with a retryable engine error, which
puts it back in the queue for another worker; if the worker still has not stopped, it escalates
to a cold shutdown (SIGQUIT to itself) and finally exits. Nothing is lost either way: an
interrupted job's row stays active until its lease expires and the sweeper re-queues it.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from typing import Any

from celery import Celery
from celery.contrib.django.task import DjangoTask
from celery.signals import task_postrun, task_prerun, worker_shutting_down
from django.db import transaction

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studio.settings")


class StudioTask(DjangoTask):
    """Enqueue after commit without failing the request when the broker is unreachable: the
    row is committed, so the error is logged and the sweepers re-send the work once the broker
    is back (queued jobs older than a lease, due webhook deliveries)."""

    def delay_on_commit(self, *args: Any, **kwargs: Any) -> None:
        self._on_commit(self.delay, args, kwargs)

    def apply_async_on_commit(self, *args: Any, **kwargs: Any) -> None:
        self._on_commit(self.apply_async, args, kwargs)

    def _on_commit(self, method: Any, args: Any, kwargs: Any) -> None:
        def send() -> None:  # robust: an error is logged (with this name), not raised
            method(*args, **kwargs)

        send.__qualname__ = f"enqueue {self.name}"
        transaction.on_commit(send, robust=True)


app = Celery("studio", task_cls=StudioTask)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

log = logging.getLogger(__name__)
GRACE_SECONDS = 15.0  # between the steps of escalation
_armed = threading.Event()
_main_task = threading.Event()  # a task is running in this process's main thread (solo pool)


@task_prerun.connect
def _task_started(**_: Any) -> None:
    if threading.current_thread() is threading.main_thread():
        _main_task.set()


@task_postrun.connect
def _task_finished(**_: Any) -> None:
    if threading.current_thread() is threading.main_thread():
        _main_task.clear()


def _interrupt_main_task(signum: int, frame: Any) -> None:
    from generations.engines.base import EngineError

    if _main_task.is_set():
        raise EngineError(
            "The worker was shut down; the job continues on another worker.",
            retryable=True,
            retry_after=1.0,
        )


def _watchdog(seconds: float, pid: int) -> None:
    time.sleep(seconds)
    if _main_task.is_set():
        log.warning(
            "a job is still running %.0f s after the shutdown signal: re-queueing it", seconds
        )
        os.kill(pid, signal.SIGALRM)
        time.sleep(GRACE_SECONDS)
    log.warning("worker still running after the shutdown signal: cold shutdown")
    os.kill(pid, signal.SIGQUIT)
    time.sleep(GRACE_SECONDS)
    log.error("worker did not stop after a cold shutdown; exiting")
    os._exit(1)


@worker_shutting_down.connect
def bound_the_shutdown(sig: Any = None, how: str = "", exitcode: Any = None, **_: Any) -> None:
    """Arm the watchdog once, on the first (warm) shutdown signal of the worker's main process.
    Runs in the main thread (inside Celery's signal handler), where handlers can be installed."""
    if how != "Warm" or _armed.is_set():
        return
    _armed.set()
    from django.conf import settings

    signal.signal(signal.SIGALRM, _interrupt_main_task)
    seconds = float(
        getattr(settings, "CELERY_WORKER_SHUTDOWN_SECONDS", 0)
        or settings.CELERY_TASK_SOFT_TIME_LIMIT
    )
    threading.Thread(
        target=_watchdog, args=(seconds, os.getpid()), name="shutdown-watchdog", daemon=True
    ).start()
