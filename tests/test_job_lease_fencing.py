"""A worker whose lease expired and whose job another worker re-claimed must stop, not finish.

The sweeper re-queues a job whose lease ran out (its worker looks dead); if that worker was only
slow, its attempt is stale. Progress, completion and failure are fenced by the attempt number.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from unittest import mock

import pytest
from django.utils import timezone

from generations import actions
from generations.engines.base import JobCanceled
from generations.models import Asset, Job
from studio.models import LedgerEntry
from tests.conftest import png_bytes

pytestmark = pytest.mark.django_db


def _take_over(job: Job) -> Job:
    """Expire the job's lease, sweep, and claim it again as a second worker would."""
    Job.objects.filter(id=job.id).update(lease_until=timezone.now() - timedelta(seconds=1))
    with mock.patch("generations.tasks.run_job.delay"):
        assert actions.sweep_jobs()["requeued"] == 1
    second = actions.claim_job(str(job.id))
    assert second is not None and second.attempts == job.attempts + 1
    return second


def _submit(shop, user, kind="generate"):
    spec = actions.GenerationSpec(prompt="fenced teal", width=64, height=64, count=1)
    if kind == "generate":
        return actions.submit_generation(shop, spec, user=user)
    return actions.submit_job(shop, kind=kind, params={"count": 1}, cost_cents=2, user=user)


def test_it_stops_a_stale_attempt_and_lets_the_new_one_finish(shop, user, settings):
    job = _submit(shop, user)
    first = actions.claim_job(str(job.id))
    stale = actions.ProgressReporter(first, interval=0)
    stale(10, "working")  # while it owns the job, progress is fine

    second = _take_over(first)

    with pytest.raises(JobCanceled):
        stale(50, "still working")
    with pytest.raises(JobCanceled):
        actions.complete_job(first, [actions.Output(png_bytes(64, 64))])
    actions.fail_job(first, "the stale attempt crashed", attempt=first.attempts)
    after = Job.objects.get(id=job.id)
    assert after.status == Job.Status.ACTIVE and after.attempts == 2
    assert not Asset.objects.filter(job=job).exists()
    written = [p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file()]
    assert written == []  # the stale attempt's files were removed with its rolled-back rows

    done = actions.complete_job(second, [actions.Output(png_bytes(64, 64))])
    assert done.status == Job.Status.COMPLETED
    assert Asset.objects.filter(job=job).count() == 1
    assert LedgerEntry.objects.filter(job=job, kind="charge").count() == 1
    assert not LedgerEntry.objects.filter(job=job, kind="refund").exists()


def test_a_run_overtaken_midway_stores_nothing(shop, user):
    job = _submit(shop, user, kind="test-fence")
    seen = {}

    def slow_runner(job, progress):
        seen["second"] = _take_over(job)  # the sweeper and a new worker act meanwhile
        return [actions.Output(png_bytes(32, 32))], {}

    with mock.patch.dict(actions.RUNNERS, {"test-fence": slow_runner}):
        result = actions.execute_job(str(job.id))
    assert result.status == Job.Status.ACTIVE and result.attempts == 2
    assert not Asset.objects.filter(job=job).exists()
    assert not LedgerEntry.objects.filter(job=job, kind="refund").exists()


def test_a_failure_of_a_stale_attempt_does_not_fail_the_job(shop, user):
    job = _submit(shop, user, kind="test-fence")

    def crashing_runner(job, progress):
        _take_over(job)
        raise RuntimeError("stale worker blew up")

    with mock.patch.dict(actions.RUNNERS, {"test-fence": crashing_runner}):
        result = actions.execute_job(str(job.id))
    assert result.status == Job.Status.ACTIVE and result.attempts == 2
    assert not LedgerEntry.objects.filter(job=job, kind="refund").exists()
