"""generations.signals.job_finished: sent once per job end; webhooks and scenes listen to it."""

from __future__ import annotations

from typing import Any

import pytest

from generations import actions, webhooks
from generations.models import Job, WebhookDelivery
from generations.signals import job_finished
from tests.pagekit import make_job

pytestmark = pytest.mark.django_db


@pytest.fixture
def heard():
    seen: list[tuple[str, str]] = []

    def receiver(sender: Any, job: Job, **kwargs: Any) -> None:
        seen.append((str(job.id), job.status))

    job_finished.connect(receiver, dispatch_uid="test-heard")
    yield seen
    job_finished.disconnect(dispatch_uid="test-heard")


def test_it_is_sent_once_when_a_job_completes(shop, user, heard):
    job = make_job(shop, user)
    assert heard == []
    actions.execute_job(str(job.id))
    assert heard == [(str(job.id), Job.Status.COMPLETED)]


def test_it_is_sent_when_a_job_fails_or_is_canceled_but_not_twice(shop, user, heard):
    failed, canceled = make_job(shop, user), make_job(shop, user)
    actions.fail_job(failed, "engine exploded")
    actions.fail_job(failed, "again")  # already failed: nothing changes, nothing is sent
    actions.cancel_job(canceled)
    assert heard == [
        (str(failed.id), Job.Status.FAILED),
        (str(canceled.id), Job.Status.CANCELED),
    ]


def test_a_failing_receiver_does_not_stop_the_others(shop, user, heard, caplog):
    def broken(sender: Any, job: Job, **kwargs: Any) -> None:
        raise RuntimeError("listener bug")

    job_finished.connect(broken, dispatch_uid="test-broken")
    try:
        job = make_job(shop, user)
        actions.cancel_job(job)
    finally:
        job_finished.disconnect(dispatch_uid="test-broken")
    job.refresh_from_db()
    assert job.status == Job.Status.CANCELED
    assert heard == [(str(job.id), Job.Status.CANCELED)]
    assert "listener bug" in caplog.text


def test_webhook_endpoints_hear_it_through_the_signal(shop, user, stub_dns):
    stub_dns.add("hooks.example.com", "93.184.216.34")
    endpoint = webhooks.add_endpoint(shop, "https://hooks.example.com/studio")
    job = make_job(shop, user)
    actions.cancel_job(job)
    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    assert delivery.job_id == job.id and delivery.event == "job.canceled"
    # The same receiver, connected in GenerationsConfig.ready, is what created it.
    assert job_finished.disconnect(dispatch_uid="webhooks.endpoints")
    try:
        other = make_job(shop, user)
        actions.cancel_job(other)
        assert not WebhookDelivery.objects.filter(job=other).exists()
    finally:
        job_finished.connect(webhooks.on_job_finished, dispatch_uid="webhooks.endpoints")
