"""What happens when a service is down (docs/operations.md, "When a service is down"): the API
rate limiter counts in the database while Redis is unreachable, and the people-facing throttles
and fetch slots let requests through."""

from __future__ import annotations

import socket
from typing import Any

import pytest

from studio import apikeys, ratelimit
from tests.api.conftest import ApiClient

pytestmark = pytest.mark.django_db


@pytest.fixture
def dead_redis(settings: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    """A Redis URL on a port where nothing listens (connections are refused at once)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"redis://127.0.0.1:{port}/0"
    settings.RATELIMIT_REDIS_URL = url
    ratelimit._redis_client.cache_clear()
    monkeypatch.setattr(ratelimit, "_redis_down_until", 0.0)
    return url


def test_the_rate_limiter_counts_in_the_database_when_redis_is_down(dead_redis):
    decisions = [ratelimit.hit("down-test", 3) for _ in range(4)]
    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert decisions[-1].retry_after > 0


def test_api_requests_keep_working_and_limited_when_redis_is_down(dead_redis, shop):
    shop.api_rate_limit_per_minute = 2
    shop.save()
    api = ApiClient(apikeys.create_api_key(shop, scopes=["library:read"], name="k").raw)
    codes = [api.get("/v0/usage").status_code for _ in range(3)]
    assert codes == [200, 200, 429]


def test_a_submit_succeeds_when_the_broker_is_down_and_the_sweeper_resends(
    owner_client, shop, monkeypatch, django_capture_on_commit_callbacks, caplog, settings
):
    """GIVEN an unreachable broker WHEN a job is submitted from the page THEN the page answers
    as usual (the row is committed and charged; the failed enqueue is logged, not a 500), and
    once the broker is back the sweeper re-sends the job."""
    from datetime import timedelta

    from django.utils import timezone
    from kombu.exceptions import OperationalError

    from generations import actions
    from generations.models import Job
    from generations.tasks import run_job

    def down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(run_job, "apply_async", down)
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post("/generate/", {"prompt": "a calm lake", "count": "1"})
    assert response.status_code in (200, 201, 302)
    job = Job.objects.get(shop=shop)
    assert job.status == Job.Status.QUEUED
    assert "Connection refused" in caplog.text

    sent = []
    monkeypatch.setattr(run_job, "apply_async", lambda *a, **k: sent.append(a))
    Job.objects.filter(pk=job.pk).update(
        enqueued_at=timezone.now() - timedelta(seconds=settings.JOB_LEASE_SECONDS + 5)
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert actions.sweep_jobs()["reenqueued"] == 1
    assert sent and str(job.id) in str(sent[0])


@pytest.fixture
def smtp_down(monkeypatch: pytest.MonkeyPatch) -> None:
    import smtplib

    from django.core.mail.backends.locmem import EmailBackend

    def refuse(self, messages):
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")

    monkeypatch.setattr(EmailBackend, "send_messages", refuse)


def test_sign_up_says_the_mail_could_not_be_sent_when_smtp_is_down(smtp_down, client, user, caplog):
    response = client.post("/accounts/signup/", {"email": "new@example.com"})
    assert response.status_code == 503 and "could not send" in response.content.decode()
    response = client.post("/accounts/signup/", {"email": "owner@example.com"})  # the same
    assert response.status_code == 503 and "could not send" in response.content.decode()
    # Password reset answers as always (Django logs the failed mail): it never tells whether an
    # address has an account.
    response = client.post("/accounts/password_reset/", {"email": "owner@example.com"})
    assert response.status_code == 302
    assert "Failed to send password reset email" in caplog.text


def test_an_invitation_is_made_and_its_link_shown_when_smtp_is_down(
    smtp_down, owner_client, shop, django_capture_on_commit_callbacks
):
    from studio.models import Invitation

    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(
            "/members/invite/", {"email": "a@example.com", "role": "viewer"}, follow=True
        )
    assert response.status_code == 200
    assert Invitation.objects.filter(shop=shop, email="a@example.com").exists()
    assert "/invite/" in response.content.decode()
