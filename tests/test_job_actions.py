"""The job lifecycle: submit, claim, complete, fail, cancel, refund, sweep."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from generations import actions
from generations.engines.base import EngineError
from generations.models import Asset, Job, PriceRule
from studio.actions import InsufficientCredits, charge
from studio.models import LedgerEntry

pytestmark = pytest.mark.django_db


def submit(shop, user=None, **kw):
    spec = actions.GenerationSpec(prompt=kw.pop("prompt", "a red circle on navy"), **kw)
    return actions.submit_generation(shop, spec, user=user)


def test_it_submits_charges_and_enqueues_after_commit(
    shop, user, django_capture_on_commit_callbacks
):
    PriceRule.objects.create(model="builtin:procedural", cents_per_output=3)
    with (
        mock.patch("generations.tasks.run_job.delay") as delay,
        django_capture_on_commit_callbacks(execute=True) as callbacks,
    ):
        job = submit(shop, user, count=2)
    assert job.status == Job.Status.QUEUED
    assert job.cost_cents == 6
    assert len(callbacks) == 1
    delay.assert_called_once_with(str(job.id))
    entry = LedgerEntry.objects.get(job=job)
    assert entry.kind == "charge" and entry.amount_cents == -6
    shop.refresh_from_db()
    assert shop.plan_used_cents == 6


def test_it_claims_once(shop, user):
    job = submit(shop, user)
    first = actions.claim_job(str(job.id))
    second = actions.claim_job(str(job.id))
    assert first is not None and first.status == Job.Status.ACTIVE and first.attempts == 1
    assert first.lease_until > timezone.now()
    assert second is None


def test_a_claim_whose_attempt_cannot_be_written_leaves_the_job_queued(shop, user):
    """The claim and its attempt row commit together (one commit per claim, not two): if the
    attempt row fails, the job is still queued for the next worker, not active and orphaned."""
    from generations.models import JobAttempt

    job = submit(shop, user)
    with (
        mock.patch.object(JobAttempt.objects, "create", side_effect=IntegrityError("boom")),
        pytest.raises(IntegrityError),
    ):
        actions.claim_job(str(job.id))
    job.refresh_from_db()
    assert job.status == Job.Status.QUEUED and job.attempts == 0 and job.started_at is None
    claimed = actions.claim_job(str(job.id))
    assert claimed is not None and claimed.attempts == 1
    assert JobAttempt.objects.get(job=job).number == 1


def test_it_runs_a_generation_to_completion(shop, user):
    job = submit(shop, user, count=2, width=96, height=64, seed=7)
    done = actions.execute_job(str(job.id))
    assert done.status == Job.Status.COMPLETED and done.progress == 100
    outputs = list(done.outputs.order_by("parameters__index"))
    assert len(outputs) == 2
    assert {(a.width, a.height) for a in outputs} == {(96, 64)}
    assert outputs[0].seed == 7 and outputs[1].seed == 8
    assert all(a.kind == Asset.Kind.GENERATED and a.thumbnail for a in outputs)
    assert outputs[0].sha256 != outputs[1].sha256
    assert not LedgerEntry.objects.filter(job=job, kind="refund").exists()


def test_it_refunds_undelivered_outputs(shop, user):
    PriceRule.objects.create(cents_per_output=5)
    job = submit(shop, user, count=4, width=64, height=64)
    claimed = actions.claim_job(str(job.id))
    one = actions.Output(data=_png(), content_type="image/png")
    actions.complete_job(claimed, [one])
    entry = LedgerEntry.objects.get(job=job, kind="refund")
    assert entry.amount_cents == 15
    shop.refresh_from_db()
    assert shop.plan_used_cents == 5


def test_it_fails_with_the_reason_and_refunds_in_full(shop, user):
    job = submit(shop, user)
    with mock.patch(
        "generations.engines.builtin.ProceduralEngine.generate",
        side_effect=EngineError("content policy: nope"),
    ):
        done = actions.execute_job(str(job.id))
    assert done.status == Job.Status.FAILED
    assert "content policy" in done.error
    refund = LedgerEntry.objects.get(job=job, kind="refund")
    assert refund.amount_cents == job.cost_cents
    shop.refresh_from_db()
    assert shop.plan_used_cents == 0
    assert not Asset.objects.filter(job=job).exists()


def test_it_requeues_a_retryable_error(shop, user):
    job = submit(shop, user)
    with mock.patch(
        "generations.engines.builtin.ProceduralEngine.generate",
        side_effect=EngineError("busy", retryable=True),
    ):
        done = actions.execute_job(str(job.id))
    assert done.status == Job.Status.QUEUED and "retrying" in done.stage


def test_it_records_a_crash_as_a_failure(shop, user):
    job = submit(shop, user)
    with mock.patch(
        "generations.engines.builtin.ProceduralEngine.generate", side_effect=ZeroDivisionError
    ):
        done = actions.execute_job(str(job.id))
    assert done.status == Job.Status.FAILED and "ZeroDivisionError" in done.error


def test_it_cancels_a_queued_job_and_refunds(shop, user):
    job = submit(shop, user)
    actions.cancel_job(job)
    job.refresh_from_db()
    assert job.status == Job.Status.CANCELED
    assert LedgerEntry.objects.filter(job=job, kind="refund").count() == 1
    assert actions.claim_job(str(job.id)) is None
    with pytest.raises(actions.CancelError):
        actions.cancel_job(job)


def test_a_running_job_stops_at_its_next_progress_report_after_cancel(shop, user):
    job = submit(shop, user, count=3, width=64, height=64)
    real = actions.ProgressReporter.__call__
    calls = {"n": 0}

    def cancel_midway(self, percent, stage):
        calls["n"] += 1
        if calls["n"] == 3:
            actions.cancel_job(Job.objects.get(id=job.id))
        self._last = 0  # no throttling in this test
        return real(self, percent, stage)

    with mock.patch.object(actions.ProgressReporter, "__call__", cancel_midway):
        done = actions.execute_job(str(job.id))
    assert done.status == Job.Status.CANCELED
    assert not Asset.objects.filter(job=job).exists()
    assert LedgerEntry.objects.filter(job=job, kind="refund").count() == 1


def test_the_sweeper_requeues_expired_leases_and_fails_exhausted_ones(shop, user):
    a, b = submit(shop, user), submit(shop, user)
    for job in (a, b):
        actions.claim_job(str(job.id))
    past = timezone.now() - timedelta(seconds=5)
    Job.objects.filter(id=a.id).update(lease_until=past)
    Job.objects.filter(id=b.id).update(lease_until=past, attempts=3)
    with mock.patch("generations.tasks.run_job.delay"):
        counts = actions.sweep_jobs()
    assert counts["requeued"] == 1 and counts["failed"] == 1
    a.refresh_from_db()
    b.refresh_from_db()
    assert a.status == Job.Status.QUEUED
    assert b.status == Job.Status.FAILED and "attempts" in b.error
    assert LedgerEntry.objects.filter(job=b, kind="refund").count() == 1
    assert LedgerEntry.objects.filter(job=a, kind="charge").count() == 1


def test_the_database_allows_one_charge_and_one_refund_per_job(shop, user):
    job = submit(shop, user)
    with pytest.raises(IntegrityError), transaction.atomic():
        charge(shop, 1, job=job)
    actions.fail_job(job, "x")
    actions.fail_job(job, "again")
    assert LedgerEntry.objects.filter(job=job, kind="refund").count() == 1


def test_it_refuses_work_the_shop_cannot_pay_for(shop, user):
    shop.plan_budget_cents = 2
    shop.save()
    PriceRule.objects.create(cents_per_output=1)
    with pytest.raises(InsufficientCredits):
        submit(shop, user, count=3)
    assert not Job.objects.exists()
    assert not LedgerEntry.objects.exists()


def test_it_stores_reference_images_with_the_job(shop, user, make_user):
    """GIVEN one of the shop's assets and two new images WHEN a generation is submitted with them
    THEN the new ones are stored as uploads and the job names all three, in the order given."""
    from generations.library import upload_asset
    from tests.conftest import png_bytes

    own = upload_asset(shop, png_bytes(colour=(0, 0, 255)), user=user)
    spec = actions.GenerationSpec(prompt="a poster like these")
    job = actions.submit_generation(
        shop,
        spec,
        references=[
            actions.ReferenceImage(png_bytes(), "first.png"),
            own,
            actions.ReferenceImage(png_bytes(colour=(0, 255, 0)), "second.png"),
        ],
    )
    ids = job.params["reference_asset_ids"]
    assert len(ids) == 3 and ids[1] == str(own.id)
    stored = [Asset.objects.get(id=i) for i in (ids[0], ids[2])]
    assert [a.parameters["filename"] for a in stored] == ["first.png", "second.png"]
    assert {a.kind for a in stored} == {Asset.Kind.UPLOAD}
    assert all(a.shop_id == shop.id for a in stored)


def test_it_keeps_no_reference_images_for_work_the_shop_cannot_pay(shop, user, settings):
    """GIVEN a shop short of credits WHEN a generation with a new reference image is submitted
    THEN InsufficientCredits is raised and neither the upload's row nor its files remain."""
    from pathlib import Path

    from tests.conftest import png_bytes

    shop.plan_budget_cents = 0
    shop.save()
    PriceRule.objects.create(cents_per_output=1)
    with pytest.raises(InsufficientCredits):
        actions.submit_generation(
            shop,
            actions.GenerationSpec(prompt="a poster"),
            references=[actions.ReferenceImage(png_bytes(), "ref.png")],
        )
    assert not Asset.objects.exists()
    assert not Job.objects.exists()
    media = Path(settings.MEDIA_ROOT)
    assert not media.exists() or not [p for p in media.rglob("*") if p.is_file()]


def test_it_rejects_a_reference_image_that_is_not_an_image(shop, user):
    with pytest.raises(actions.JobError, match="refImageUrls: "):
        actions.submit_generation(
            shop,
            actions.GenerationSpec(prompt="a poster"),
            references=[actions.ReferenceImage(b"not an image", named_as="refImageUrls")],
        )
    assert not Asset.objects.exists() and not Job.objects.exists()


def test_it_rejects_another_shops_asset_as_a_reference(shop, user, make_user):
    from generations.library import upload_asset
    from studio.models import Membership
    from tests.conftest import png_bytes

    other = Membership.objects.get(user=make_user("other@example.com")).shop
    theirs = upload_asset(other, png_bytes(), user=None)
    with pytest.raises(actions.JobError, match="not in this shop's library"):
        actions.submit_generation(
            shop, actions.GenerationSpec(prompt="a poster"), references=[theirs]
        )
    assert not Job.objects.exists()


def test_it_charges_the_plan_first_then_the_wallet(shop, user):
    shop.plan_budget_cents, shop.wallet_cents = 3, 10
    shop.save()
    PriceRule.objects.create(cents_per_output=2)
    job = submit(shop, user, count=2)
    entry = LedgerEntry.objects.get(job=job, kind="charge")
    assert (entry.plan_cents, entry.wallet_cents) == (-3, -1)
    actions.fail_job(job, "x")
    shop.refresh_from_db()
    assert (shop.plan_used_cents, shop.wallet_cents) == (0, 10)


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"count": 0}, "count"),
        ({"count": -1}, "count"),
        ({"count": 5}, "count"),
        ({"count": "many"}, "count"),
        ({"model": "no-such-model"}, "model"),
        ({"prompt": "   "}, "prompt"),
        ({"aspect_ratio": "7:3"}, "aspect_ratio"),
        ({"width": 10}, "width"),
        ({"seed": -4}, "seed"),
        ({"resolution": "8k"}, "resolution"),
    ],
)
def test_it_rejects_bad_generation_requests(shop, user, kw, field):
    with pytest.raises(actions.JobError) as err:
        submit(shop, user, **kw)
    assert err.value.field == field
    assert not Job.objects.exists() and not LedgerEntry.objects.exists()


def test_unknown_model_lists_what_is_available(shop, user):
    with pytest.raises(actions.JobError, match="builtin:procedural"):
        submit(shop, user, model="no-such-model")


def test_size_for_covers_every_aspect_ratio():
    for ratio in actions.ASPECT_RATIOS:
        w, h = actions.size_for(ratio, 1024)
        a, b = (float(x) for x in ratio.split(":"))
        assert max(w, h) == 1024 or min(w, h) == actions.MIN_SIDE
        assert abs(w / h - a / b) < 0.1 * (a / b) or min(w, h) == actions.MIN_SIDE


def _png():
    from tests.conftest import png_bytes

    return png_bytes(64, 64)
