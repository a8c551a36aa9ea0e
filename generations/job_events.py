"""Waking a synchronous API request the moment its job finishes.

A finished job is announced on Redis pub/sub (the broker's Redis, when the broker is Redis) as
the finishing transaction commits; a waiter subscribes first and then reads the row, so a job that
finishes in between is seen by the read, and one that finishes after it wakes the subscription.
Without Redis (SQLite, the filesystem broker) the waiter polls the row at short intervals.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from functools import cache
from typing import Any

from django.conf import settings
from django.db import transaction

from generations.models import Job

log = logging.getLogger(__name__)

CHANNEL = "studio:job-finished:"
# How often a subscribed waiter reads the row anyway: a lost announcement (a Redis hiccup,
# a worker using another Redis) costs at most this much.
RECHECK_SECONDS = 1.0
# Polling without Redis: the first read after this, then growing to POLL_MAX_SECONDS.
POLL_FIRST_SECONDS = 0.005
POLL_MAX_SECONDS = 0.05


def redis_url() -> str:
    url = str(getattr(settings, "CELERY_BROKER_URL", "") or "")
    return url if url.startswith(("redis://", "rediss://", "unix://")) else ""


@cache
def _client(url: str) -> Any:
    import redis

    return redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)


def announce_finished(sender: Any, job_id: Any, status: str, **kwargs: Any) -> None:
    """Receiver of `generations.signals.job_finish_written` (connected in
    GenerationsConfig.ready), called inside the transaction that finished the job: publish the
    job's id the moment it commits."""
    url = redis_url()
    if not url:
        return
    job_id, status = str(job_id), str(status)

    def publish() -> None:
        try:
            _client(url).publish(CHANNEL + job_id, status)
        except Exception:  # a waiter falls back to its periodic read
            log.warning("could not announce the end of job %s", job_id, exc_info=True)

    transaction.on_commit(publish)


def wait_for_job(job_id: Any, timeout: float, read: Callable[[], Job] | None = None) -> Job:
    """The job once it has finished, or its latest row when `timeout` seconds have passed."""
    read = read or (lambda: Job.objects.get(id=job_id))
    deadline = time.monotonic() + timeout
    url = redis_url()
    if url:
        try:
            pubsub = _client(url).pubsub()
            pubsub.subscribe(CHANNEL + str(job_id))
            _confirmed(pubsub, deadline)
        except Exception:
            log.warning("job %s: Redis unavailable, polling instead", job_id, exc_info=True)
        else:
            try:
                return _wait_subscribed(pubsub, read, deadline)
            finally:
                try:
                    pubsub.close()
                except Exception:
                    log.debug("closing a pub/sub connection failed", exc_info=True)
    return _poll(read, deadline)


def _confirmed(pubsub: Any, deadline: float) -> None:
    """Wait for Redis to confirm the subscription: only then is a later announcement ours."""
    while True:
        message = pubsub.get_message(timeout=max(deadline - time.monotonic(), 0.001))
        if message is not None and message.get("type") == "subscribe":
            return
        if time.monotonic() >= deadline:
            raise TimeoutError("no subscription confirmation from Redis")


def _wait_subscribed(pubsub: Any, read: Callable[[], Job], deadline: float) -> Job:
    # Subscribed before this read: a finish after it is announced to us.
    job = read()
    while not job.is_finished:
        left = deadline - time.monotonic()
        if left <= 0:
            return job
        try:
            pubsub.get_message(timeout=min(left, RECHECK_SECONDS))
        except Exception:
            log.warning("lost the pub/sub connection; polling the job", exc_info=True)
            return _poll(read, deadline)
        job = read()  # announced, or the periodic re-check
    return job


def _poll(read: Callable[[], Job], deadline: float) -> Job:
    delay = POLL_FIRST_SECONDS
    while True:
        job = read()
        left = deadline - time.monotonic()
        if job.is_finished or left <= 0:
            return job
        time.sleep(min(delay, left))
        delay = min(delay * 1.5, POLL_MAX_SECONDS)
