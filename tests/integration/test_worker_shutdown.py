"""A REAL worker with an embedded beat stops on SIGTERM within its shutdown bound, and the job
it was running is handed back to the queue, not lost or failed."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import pytest

from generations import actions
from generations.models import Job
from studio.models import LedgerEntry
from tests.support.slow_engine import MODEL as SLOW_MODEL
from tests.support.worker_fixtures import wait_for, wait_for_job

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

SHUTDOWN_SECONDS = 3


def _slow_job(shop, user, seconds: float) -> Job:
    spec = actions.GenerationSpec(
        prompt="a very slow tide",
        model=SLOW_MODEL,
        width=64,
        height=64,
        count=1,
        seed=3,
        extra={"slow_seconds": seconds},
    )
    return actions.submit_generation(shop, spec, user=user)


def _alive_in_group(pgid: int) -> list[int]:
    """Processes of the group that are still running (zombies are dead: a container's init may
    be slow to reap what the worker left to it)."""
    alive = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        state, group = fields[0], int(fields[2])
        if group == pgid and state not in ("Z", "X"):
            alive.append(int(entry.name))
    return alive


def _exit_code(proc: subprocess.Popen, worker) -> int:
    try:
        return proc.wait(timeout=SHUTDOWN_SECONDS + 45)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"the worker did not stop after SIGTERM:\n{worker.tail()}") from None


@pytest.mark.parametrize("pool", ["solo", "prefork"])
def test_it_handles_sigterm_with_embedded_beat_while_a_job_runs(
    start_worker, shop, user, pool, tmp_path: Path
):
    """GIVEN a worker with an embedded beat running a job far longer than its shutdown bound
    WHEN it gets SIGTERM THEN it stops by itself (no SIGKILL), beat included, leaves no
    process behind, and the job is back in the queue with its one charge and no refund."""
    worker = start_worker(
        pool,
        beat=True,
        extra_env={
            "CELERY_WORKER_SHUTDOWN_SECONDS": str(SHUTDOWN_SECONDS),
            "CELERY_TASK_SOFT_TIME_LIMIT": "600",
        },
    )
    job = _slow_job(shop, user, seconds=120)
    wait_for(
        lambda: Job.objects.get(id=job.id).progress >= 2,
        timeout=60,
        what="the slow job to be running",
        worker=worker,
    )
    os.kill(worker.proc.pid, signal.SIGTERM)
    code = _exit_code(worker.proc, worker)
    log = worker.log()
    assert code == 0, worker.tail()
    # Beat's own "Shutting down" line is not asserted: under a cold shutdown the beat process may
    # be stopped before it flushes its log. What matters is that nothing is left running.
    assert _alive_in_group(worker.proc.pid) == []  # no pool child or beat process left
    if pool == "solo":
        # Interrupted in the worker's own thread: re-queued at once for another worker.
        wait_for_job(job, (Job.Status.QUEUED,), timeout=10, worker=worker)
        assert "re-queueing it" in log
    else:
        # A pool child is not interrupted: its row stays active until the lease expires and
        # the sweeper re-queues it (the worker fixture's lease is 3 s).
        wait_for(
            lambda: actions.sweep_jobs()["requeued"] == 1,
            timeout=30,
            what="the sweeper to re-queue the job",
        )
        final = Job.objects.get(id=job.id)
        assert final.status == Job.Status.QUEUED
    entries = LedgerEntry.objects.filter(job=job)
    assert (entries.filter(kind="charge").count(), entries.filter(kind="refund").count()) == (1, 0)
