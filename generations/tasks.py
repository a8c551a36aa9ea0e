"""Celery tasks: thin wrappers that take ids and call actions."""

from __future__ import annotations

from celery import shared_task

from generations import actions


@shared_task(name="generations.tasks.run_job", acks_late=True, reject_on_worker_lost=True)
def run_job(job_id: str) -> str:
    job = actions.execute_job(job_id)
    return job.status if job else "skipped"


@shared_task(name="generations.tasks.sweep_jobs")
def sweep_jobs() -> dict[str, int]:
    return actions.sweep_jobs()


@shared_task(name="generations.tasks.sweep_orphans", ignore_result=True)
def sweep_orphans() -> dict[str, int]:
    from generations import orphans

    return orphans.sweep_orphans()
