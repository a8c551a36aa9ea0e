"""The sync API's wait for a job: woken by the job's announcement on Redis, or polling at short
intervals without Redis; never missing a finish that lands between the subscription and the
first read of the row."""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

import pytest

from generations import job_events
from generations.actions import complete_job
from generations.models import Job
from tests.conftest import skip_or_fail

REDIS_URL = "redis://127.0.0.1:6379/11"  # not 7 (CI's)
# Channels are shared by every Redis database: ids no other run uses.
JOB_A, JOB_B, JOB_C = (str(uuid.uuid4()) for _ in range(3))


class Row:
    """A job row that a test finishes: read() returns the current state, counting reads."""

    def __init__(self) -> None:
        self.status = Job.Status.ACTIVE
        self.reads = 0
        self.on_first_read: Any = None

    def read(self) -> Job:
        self.reads += 1
        job = Job(status=self.status)
        if self.reads == 1 and self.on_first_read:
            self.on_first_read()
        return job


def _finish_later(row: Row, seconds: float, then: Any = None) -> threading.Thread:
    def run() -> None:
        time.sleep(seconds)
        row.status = Job.Status.COMPLETED
        if then:
            then()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


@pytest.fixture
def redis_broker(settings: Any) -> Any:
    try:
        import redis

        client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
        client.ping()
    except Exception:
        skip_or_fail("Redis is not reachable on 127.0.0.1:6379")
    settings.CELERY_BROKER_URL = REDIS_URL
    return client


def test_it_polls_at_short_intervals_without_redis(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No wall-clock bounds (a loaded machine stretches them): the sleeps it asks for are the
    figure. The old growing sleeps were 50 ms growing to 500 ms."""
    settings.CELERY_BROKER_URL = "filesystem://"
    row = Row()
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        if len(slept) == 12:
            row.status = Job.Status.COMPLETED

    monkeypatch.setattr(job_events.time, "sleep", sleep)
    job = job_events.wait_for_job("j", 60, row.read)
    assert job.status == Job.Status.COMPLETED
    assert row.reads == 13  # read, sleep, read … until the row says finished
    assert slept[0] == job_events.POLL_FIRST_SECONDS
    assert max(slept) == job_events.POLL_MAX_SECONDS == 0.05


def test_it_returns_the_latest_row_at_the_timeout(settings: Any) -> None:
    settings.CELERY_BROKER_URL = "filesystem://"
    row = Row()
    started = time.monotonic()
    job = job_events.wait_for_job("j", 0.15, row.read)
    assert job.status == Job.Status.ACTIVE
    assert time.monotonic() - started >= 0.15  # it waited the whole timeout, no less


@pytest.mark.django_db
def test_it_returns_a_finished_job_at_once(
    settings: Any, shop: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.CELERY_BROKER_URL = "filesystem://"
    job = Job.objects.create(shop=shop, kind="generate", status=Job.Status.COMPLETED)

    def sleep(seconds: float) -> None:
        raise AssertionError("a finished job needs no wait")

    monkeypatch.setattr(job_events.time, "sleep", sleep)
    assert job_events.wait_for_job(job.id, 5).status == Job.Status.COMPLETED


@pytest.mark.redis
def test_it_wakes_on_the_announcement(redis_broker: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(job_events, "RECHECK_SECONDS", 30)  # only the announcement can wake it
    row = Row()
    announce = lambda: redis_broker.publish(job_events.CHANNEL + JOB_A, "completed")  # noqa: E731
    started = time.monotonic()
    thread = _finish_later(row, 0.2, announce)
    job = job_events.wait_for_job(JOB_A, 10, row.read)
    elapsed = time.monotonic() - started
    thread.join()
    assert job.status == Job.Status.COMPLETED
    assert 0.2 <= elapsed < 5  # woken well before the 30 s re-check or the 10 s timeout
    assert row.reads == 2  # the first read, then the one the announcement woke


@pytest.mark.redis
def test_it_never_misses_a_finish_between_subscribing_and_reading(
    redis_broker: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GIVEN a job that finishes (and is announced) right after the waiter's first read saw it
    running, WHEN the waiter waits, THEN the announcement wakes it: it subscribed before reading."""
    monkeypatch.setattr(job_events, "RECHECK_SECONDS", 30)
    row = Row()

    def finish_now() -> None:
        row.status = Job.Status.COMPLETED
        redis_broker.publish(job_events.CHANNEL + JOB_B, "completed")

    row.on_first_read = finish_now
    started = time.monotonic()
    job = job_events.wait_for_job(JOB_B, 10, row.read)
    assert job.status == Job.Status.COMPLETED  # not the 10 s timeout's ACTIVE row
    assert time.monotonic() - started < 5


@pytest.mark.redis
def test_it_rechecks_the_row_when_an_announcement_is_lost(
    redis_broker: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(job_events, "RECHECK_SECONDS", 0.1)
    row = Row()
    thread = _finish_later(row, 0.15)  # finished, never announced
    started = time.monotonic()
    job = job_events.wait_for_job(JOB_C, 10, row.read)
    thread.join()
    assert job.status == Job.Status.COMPLETED
    assert row.reads >= 2 and time.monotonic() - started < 5


@pytest.mark.redis
@pytest.mark.django_db
def test_a_finished_job_is_announced_after_its_commit(
    redis_broker: Any, shop: Any, django_capture_on_commit_callbacks: Any
) -> None:
    job = Job.objects.create(shop=shop, kind="generate", status=Job.Status.ACTIVE)
    pubsub = redis_broker.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(job_events.CHANNEL + str(job.id))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        complete_job(job, [])
        assert pubsub.get_message(timeout=0.2) is None  # not before the commit
    for callback in callbacks:
        callback()
    message = pubsub.get_message(timeout=2)
    pubsub.close()
    assert message is not None and message["data"] == b"completed"


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("outcome", ["completed", "failed"])
def test_the_announcement_goes_out_at_the_commit_before_job_finished_receivers_run(
    redis_broker: Any, shop: Any, outcome: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GIVEN a waiter subscribed to a running job WHEN the worker finishes it (real commits)
    THEN the announcement is already out when job_finished's receivers start (the webhook
    endpoints' query, the refreshed row), so the waiter is not woken after them."""
    from generations import actions, webhooks

    job = Job.objects.create(shop=shop, kind="generate", status=Job.Status.ACTIVE, attempts=1)
    pubsub = redis_broker.pubsub()
    pubsub.subscribe(job_events.CHANNEL + str(job.id))
    assert pubsub.get_message(timeout=2)["type"] == "subscribe"
    heard: list[Any] = []

    def first_receiver(finished: Job) -> list[Any]:
        heard.append(pubsub.get_message(timeout=0.5))  # already published, or nothing
        return []

    monkeypatch.setattr(webhooks, "enqueue_job_webhooks", first_receiver)
    if outcome == "completed":
        actions.complete_job(job, [])
    else:
        actions.fail_job(job, "engine down", attempt=1)
    pubsub.close()
    assert len(heard) == 1 and heard[0] is not None
    assert heard[0]["data"] == outcome.encode()
