"""Jobs through a REAL Celery worker: the page flow, a SIGKILLed worker, and cancel while running.

Run against whatever is configured: SQLite + the filesystem broker locally, PostgreSQL + Redis in
CI. Workers are subprocesses started by the `start_worker` fixture (tests/integration/conftest.py).
"""

from __future__ import annotations

import os
import signal
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from generations import actions
from generations.models import Asset, Job, PriceRule
from generations.tasks import run_job
from studio.models import LedgerEntry, Shop
from tests.support.slow_engine import MODEL as SLOW_MODEL
from tests.support.worker_fixtures import wait_for, wait_for_job

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]


def _slow_job(shop: Shop, user, run_log: Path, *, seconds: float, count: int = 2) -> Job:
    spec = actions.GenerationSpec(
        prompt="slow teal waves",
        model=SLOW_MODEL,
        width=64,
        height=64,
        count=count,
        seed=5,
        extra={"slow_seconds": seconds, "run_log": str(run_log)},
    )
    return actions.submit_generation(shop, spec, user=user)


def _runs(run_log: Path) -> int:
    return len(run_log.read_text().splitlines()) if run_log.exists() else 0


def _ledger(job: Job) -> tuple[int, int]:
    entries = LedgerEntry.objects.filter(job=job)
    return entries.filter(kind="charge").count(), entries.filter(kind="refund").count()


def test_it_completes_a_generation_submitted_from_the_page_and_lists_it(
    start_worker, owner_client, shop
):
    """GIVEN a worker WHEN the prompt form is posted THEN the job completes via the worker and
    its images are found in the library by a word of the prompt."""
    worker = start_worker()
    response = owner_client.post(
        "/generate/",
        {
            "prompt": 'a teal lighthouse poster, "harbour"',
            "negative_prompt": "",
            "aspect_ratio": "1:1",
            "count": 2,
            "model": "builtin:procedural",
            "seed": 11,
        },
    )
    assert response.status_code == 302, response.content[:500]
    job = Job.objects.get(shop=shop)
    assert response["Location"] == f"/jobs/{job.id}/"

    done = wait_for_job(job, Job.FINISHED, worker=worker)
    assert done.status == Job.Status.COMPLETED, done.error
    assert done.attempts == 1 and done.progress == 100
    assert done.started_at >= done.enqueued_at
    outputs = list(Asset.objects.filter(job=job))
    assert len(outputs) == 2
    for asset in outputs:
        assert asset.kind == Asset.Kind.GENERATED and asset.shop_id == shop.id
        assert (asset.width, asset.height) == (1024, 1024)
        # The worker wrote the files where this process reads them.
        assert asset.file.storage.exists(asset.file.name)
        assert asset.thumbnail and asset.thumbnail.storage.exists(asset.thumbnail.name)

    page = owner_client.get("/library/", {"q": "lighthouse"})
    assert page.status_code == 200
    html = page.content.decode()
    for asset in outputs:
        assert f"/library/{asset.id}/" in html
        assert asset.thumbnail.url in html

    miss = owner_client.get("/library/", {"q": "zeppelin"}).content.decode()
    assert not any(f"/library/{a.id}/" in miss for a in outputs)

    card = owner_client.get(f"/jobs/{job.id}/", headers={"HX-Request": "true"})
    assert card.status_code == 200
    assert all(str(a.id) in card.content.decode() for a in outputs)


@pytest.mark.parametrize("pool", ["solo", "prefork"])
def test_it_recovers_a_job_whose_worker_was_killed(start_worker, shop, user, tmp_path, pool):
    """GIVEN a slow job running on a worker WHEN the worker is SIGKILLed mid-job THEN the sweeper
    re-queues it once its lease expires, a new worker completes it, and the shop is charged once.

    solo: the whole worker dies (the message is lost with it on the filesystem broker, or stays
    unacknowledged on Redis). prefork: only the pool child dies; the surviving worker re-delivers
    the message (task_reject_on_worker_lost) and must NOT run the job a second time meanwhile.
    """
    PriceRule.objects.create(model=SLOW_MODEL, cents_per_output=3)
    shop.refresh_from_db()
    used_before, wallet_before = shop.plan_used_cents, shop.wallet_cents
    run_log = tmp_path / "runs.log"
    worker = start_worker(pool)

    job = _slow_job(shop, user, run_log, seconds=2.5)
    assert job.cost_cents == 6
    running = wait_for(
        lambda: (
            (j := Job.objects.get(id=job.id)).status == Job.Status.ACTIVE and j.progress >= 10 and j
        ),
        timeout=60,
        what="the slow job to be running",
        worker=worker,
    )
    assert running.attempts == 1 and _runs(run_log) == 1

    if pool == "solo":
        worker.kill()
        survivor = None
    else:
        children = worker.pool_children()
        assert len(children) == 1, children
        os.kill(children[0], signal.SIGKILL)
        survivor = worker
        # The re-delivered message reaches a fresh pool child, which finds the job still leased
        # to the dead attempt and leaves it alone.
        wait_for(
            lambda: "'skipped'" in worker.log(),
            timeout=30,
            what="the re-delivered message to be skipped",
            worker=worker,
        )

    lost = Job.objects.get(id=job.id)
    assert lost.status == Job.Status.ACTIVE and lost.attempts == 1
    assert _runs(run_log) == 1  # nothing ran it a second time
    if pool == "solo":  # (the prefork re-delivery above takes longer than the lease)
        assert lost.lease_until > timezone.now()
        assert actions.sweep_jobs()["requeued"] == 0  # the sweeper respects a live lease

    wait_for(
        lambda: Job.objects.get(id=job.id).lease_until < timezone.now() - timedelta(seconds=0.1),
        timeout=10,
        what="the lease to expire",
    )
    counts = actions.sweep_jobs()
    assert counts["requeued"] == 1, counts
    requeued = Job.objects.get(id=job.id)
    assert requeued.status == Job.Status.QUEUED and requeued.lease_until is None

    finisher = survivor or start_worker(pool)
    done = wait_for_job(job, Job.FINISHED, worker=finisher)
    assert done.status == Job.Status.COMPLETED, done.error
    assert done.attempts == 2
    assert _runs(run_log) == 2  # the killed attempt and the one that finished
    assert Asset.objects.filter(job=job).count() == 2
    assert sorted(Asset.objects.filter(job=job).values_list("seed", flat=True)) == [5, 6]

    # A duplicate delivery after completion (e.g. Redis restoring the unacked message) is a no-op.
    skipped_before = finisher.count("'skipped'")
    run_job.delay(str(job.id))
    wait_for(
        lambda: finisher.count("'skipped'") > skipped_before,
        timeout=30,
        what="the duplicate message to be skipped",
        worker=finisher,
    )
    final = Job.objects.get(id=job.id)
    assert final.status == Job.Status.COMPLETED and final.attempts == 2
    assert Asset.objects.filter(job=job).count() == 2 and _runs(run_log) == 2

    assert _ledger(job) == (1, 0)  # one charge, no refund
    charge = LedgerEntry.objects.get(job=job, kind="charge")
    assert charge.amount_cents == -6
    shop.refresh_from_db()
    assert (shop.plan_used_cents, shop.wallet_cents) == (used_before + 6, wallet_before)
    assert actions.sweep_jobs() == {"requeued": 0, "failed": 0, "reenqueued": 0}


def test_it_stops_a_running_job_when_it_is_canceled_and_refunds(
    start_worker, owner_client, shop, user, tmp_path
):
    """GIVEN a slow job running on a worker WHEN the owner cancels it from the page THEN the
    worker stops at its next progress report, nothing is stored, and the charge is refunded."""
    PriceRule.objects.create(model=SLOW_MODEL, cents_per_output=4)
    shop.refresh_from_db()
    used_before = shop.plan_used_cents
    run_log = tmp_path / "runs.log"
    worker = start_worker()
    job = _slow_job(shop, user, run_log, seconds=20)
    wait_for(
        lambda: Job.objects.get(id=job.id).progress >= 5,
        timeout=60,
        what="the slow job to be running",
        worker=worker,
    )

    response = owner_client.post(f"/jobs/{job.id}/cancel/")
    assert response.status_code == 302
    wait_for(
        lambda: "'canceled'" in worker.log(),
        timeout=15,
        what="the worker to stop the canceled job",
        worker=worker,
    )
    final = Job.objects.get(id=job.id)
    # Stopped mid-way: the engine never got to its last step (no wall-clock bound needed).
    assert final.progress < 100 and "200/200" not in final.stage
    assert final.status == Job.Status.CANCELED and final.finished_at is not None
    assert Asset.objects.filter(job=job).count() == 0
    assert _runs(run_log) == 1
    assert _ledger(job) == (1, 1)
    assert LedgerEntry.objects.get(job=job, kind="refund").amount_cents == 8
    shop.refresh_from_db()
    assert shop.plan_used_cents == used_before
