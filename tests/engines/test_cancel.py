"""Cancelling a job reaches the provider: the upstream id is recorded on the running job, and
cancel_job (or the worker noticing the cancel) cancels the prediction upstream."""

from __future__ import annotations

import httpx
import pytest
import respx

from generations import actions
from generations.engines.base import JobCanceled, record_upstream
from generations.models import Job
from studio.models import LedgerEntry

from .conftest import png

pytestmark = pytest.mark.django_db

BASE = "https://api.replicate.com"


def prediction(status: str, **extra):
    return {"id": "p9", "status": status, "urls": {"get": f"{BASE}/v1/predictions/p9"}, **extra}


@pytest.fixture
def replicate_only(settings, monkeypatch):
    settings.REPLICATE_API_TOKEN = "r8_cancel"
    settings.ENGINE_POLL_INTERVAL = 0


def submit(shop, user):
    spec = actions.GenerationSpec(prompt="a quiet harbour", model="flux-schnell")
    return actions.submit_generation(shop, spec, user=user)


def test_the_running_job_records_its_upstream_id(shop, user, replicate_only):
    job = submit(shop, user)
    seen_while_running = []
    with respx.mock() as router:
        router.post(f"{BASE}/v1/models/black-forest-labs/flux-schnell/predictions").mock(
            return_value=httpx.Response(201, json=prediction("processing"))
        )

        def poll(request):
            seen_while_running.append(Job.objects.get(id=job.id).result)
            return httpx.Response(
                200, json=prediction("succeeded", output=["https://replicate.delivery/a.png"])
            )

        router.get(f"{BASE}/v1/predictions/p9").mock(side_effect=poll)
        router.get("https://replicate.delivery/a.png").mock(
            return_value=httpx.Response(200, content=png())
        )
        done = actions.execute_job(str(job.id))
    assert done.status == Job.Status.COMPLETED, done.error
    assert seen_while_running == [{"upstream": {"engine": "replicate", "id": "p9"}}]
    assert done.engine == "replicate"


def test_cancelling_a_running_job_cancels_the_prediction(shop, user, replicate_only):
    job = submit(shop, user)
    with respx.mock() as router:
        router.post(f"{BASE}/v1/models/black-forest-labs/flux-schnell/predictions").mock(
            return_value=httpx.Response(201, json=prediction("starting"))
        )
        cancel = router.post(f"{BASE}/v1/predictions/p9/cancel").mock(
            return_value=httpx.Response(200, json=prediction("canceled"))
        )

        def poll(request):
            # The user presses cancel while the prediction runs.
            actions.cancel_job(Job.objects.get(id=job.id), reason="canceled by user")
            return httpx.Response(200, json=prediction("processing", logs="10%|"))

        router.get(f"{BASE}/v1/predictions/p9").mock(side_effect=poll)
        done = actions.execute_job(str(job.id))
    assert done.status == Job.Status.CANCELED
    # cancel_job cancelled upstream at once; the worker then stopped and cancelled again.
    assert cancel.call_count >= 1
    assert cancel.calls[0].request.headers["Authorization"] == "Bearer r8_cancel"
    assert LedgerEntry.objects.filter(job=done, kind="refund").count() == 1
    assert not done.outputs.exists()


def test_cancel_job_calls_the_engines_cancel_with_the_recorded_handle(shop, user, replicate_only):
    job = submit(shop, user)
    claimed = actions.claim_job(str(job.id))
    actions.ProgressReporter(claimed).record_upstream({"engine": "replicate", "id": "p9"})
    with respx.mock() as router:
        cancel = router.post(f"{BASE}/v1/predictions/p9/cancel").mock(
            return_value=httpx.Response(200, json=prediction("canceled"))
        )
        actions.cancel_job(claimed)
    assert cancel.called


def test_an_upstream_cancel_failure_does_not_stop_the_local_cancel(shop, user, replicate_only):
    job = submit(shop, user)
    claimed = actions.claim_job(str(job.id))
    actions.ProgressReporter(claimed).record_upstream({"engine": "replicate", "id": "p9"})
    with respx.mock() as router:
        router.post(f"{BASE}/v1/predictions/p9/cancel").mock(side_effect=httpx.ConnectError("down"))
        canceled = actions.cancel_job(claimed)
    assert canceled.status == Job.Status.CANCELED


def test_a_queued_job_has_nothing_upstream_to_cancel(shop, user, replicate_only):
    job = submit(shop, user)
    with respx.mock() as router:  # any request would fail the test: no routes
        actions.cancel_job(job)
    assert not router.calls


def test_recording_on_a_canceled_job_raises_job_canceled(shop, user):
    job = submit_builtin = actions.submit_generation(
        shop, actions.GenerationSpec(prompt="x"), user=user
    )
    claimed = actions.claim_job(str(submit_builtin.id))
    actions.cancel_job(job)
    with pytest.raises(JobCanceled):
        actions.ProgressReporter(claimed).record_upstream({"engine": "builtin"})


def test_recording_outside_a_job_does_nothing():
    record_upstream({"engine": "replicate", "id": "x"})  # no sink installed: a no-op
