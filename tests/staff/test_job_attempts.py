"""The attempt log the job investigation page shows: one row per worker run with its outcome."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from generations import actions
from generations.models import Job, JobAttempt
from tests.pagekit import make_job

pytestmark = pytest.mark.django_db


def log(job):
    return list(JobAttempt.objects.filter(job=job).values_list("number", "outcome", "detail"))


def test_it_handles_a_lost_worker_then_a_completed_attempt(shop, user):
    job = make_job(shop, user, resolution="low")
    actions.claim_job(str(job.id))
    Job.objects.filter(id=job.id).update(lease_until=timezone.now() - timedelta(seconds=1))
    assert actions.sweep_jobs()["requeued"] == 1
    actions.execute_job(str(job.id))
    assert log(job) == [(1, "lost", "lease expired: re-queued"), (2, "completed", "")]
    finished = JobAttempt.objects.get(job=job, number=2)
    assert finished.finished_at >= finished.started_at


def test_it_handles_failures_cancels_and_stale_attempts(shop, user):
    failed = make_job(shop, user)
    claimed = actions.claim_job(str(failed.id))
    actions.fail_job(claimed, "engine said no", attempt=claimed.attempts)
    assert log(failed) == [(1, "failed", "engine said no")]

    canceled = make_job(shop, user)
    actions.claim_job(str(canceled.id))
    actions.cancel_job(canceled, reason="canceled by owner")
    assert log(canceled) == [(1, "canceled", "canceled by owner")]

    queued = make_job(shop, user)
    actions.cancel_job(queued)
    assert log(queued) == []  # no worker ever ran it

    # A stale attempt failing after a newer one took over changes nothing in the log.
    job = make_job(shop, user)
    first = actions.claim_job(str(job.id))
    Job.objects.filter(id=job.id).update(lease_until=timezone.now() - timedelta(seconds=1))
    actions.sweep_jobs()
    actions.claim_job(str(job.id))
    actions.fail_job(first, "late failure of attempt 1", attempt=1)
    assert log(job) == [(1, "lost", "lease expired: re-queued"), (2, "running", "")]
