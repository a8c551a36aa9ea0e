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


@shared_task(name="generations.tasks.take_library_anchors", ignore_result=True)
def take_library_anchors(shop_id: str) -> int:
    """Page anchors of a shop's library (generations.library), asked for by a deep page."""
    from generations import library

    return library.take_anchors(shop_id)


# Webhook deliveries (generations/webhooks.py). The task names keep their old module so
# messages already queued, and the beat schedule, still find them.
@shared_task(name="generations.webhooks.deliver_webhook", ignore_result=True)
def deliver_webhook(delivery_id: str) -> None:
    from generations import webhooks

    webhooks.attempt_delivery(delivery_id)


@shared_task(name="generations.webhooks.sweep_webhooks", ignore_result=True)
def sweep_webhooks() -> int:
    from generations import webhooks

    return webhooks.sweep_deliveries()


@shared_task(name="generations.webhooks.purge_idempotency_records", ignore_result=True)
def purge_idempotency_records() -> int:
    """API housekeeping run by beat: Idempotency-Key records are kept 24 hours, rate-limit
    fallback windows an hour."""
    from generations.api import idempotency
    from studio import ratelimit

    deleted = idempotency.purge_expired()
    ratelimit.purge_windows()
    return deleted
