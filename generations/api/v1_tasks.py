"""Seed 001: GET / DELETE /v1/tasks/{task_id} (any job of the key's shop, as a task) and
GET /v1/health. Errors are seed 001's (OpenAI's error object)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from django.conf import settings
from django.db import connection
from django.http import HttpRequest
from django.utils import timezone
from pydantic import Field

from generations.actions import CancelError, cancel_job, resend_if_stuck
from generations.api.common import job_output_rows
from generations.api.edge import ApiError, Out, Reply, Returns, omitted, operation, route
from generations.api.v1_images import (
    SEED_001,
    ErrorResponse,
    parse_ref,
    task_ref,
)
from generations.models import Job
from generations.storage_urls import FileUrls

TASK_SCOPES = ("ai:edit", "ai:generate", "ai:bg-remove")

STATUSES = {
    Job.Status.QUEUED: "CREATED",
    Job.Status.ACTIVE: "PROCESSING",
    Job.Status.COMPLETED: "COMPLETED",
    Job.Status.FAILED: "FAILED",
    Job.Status.CANCELED: "CANCELLED",
}
TaskStatus = Literal["CREATED", "PROCESSING", "COMPLETED", "FAILED", "CANCELLED"]


class TaskStatusResponse(Out):
    task_id: str
    status: TaskStatus
    progress: int = Field(description="0-100.")
    output_image_url: str | None = omitted("The result image (COMPLETED, when it made one).")
    error_msg: str | None = omitted("Why it failed or was cancelled (FAILED, CANCELLED).")
    created_at: int
    started_at: int | None = omitted("Unix time the work started.")
    completed_at: int | None = omitted("Unix time it finished (any final status).")
    model: str = Field(description="The model that runs the task.")


class TaskCancelledResponse(Out):
    message: str


def _unix(moment: datetime | None) -> int | None:
    return int(moment.timestamp()) if moment else None


def _shop_job(request: HttpRequest, task_id: str) -> Job:
    ident = parse_ref(task_id, ("task_",))
    job = (
        Job.objects.filter(shop=request.shop, id=ident).first()  # type: ignore[attr-defined]
        if ident
        else None
    )
    if job is None:
        raise ApiError(404, "Task not found.", code="task_not_found", details={"field": "task_id"})
    return job


TASK_EXAMPLE = {
    "task_id": "task_abc123",
    "status": "COMPLETED",
    "progress": 100,
    "output_image_url": "https://shop.storage.example.com/media/shops/shop/assets/…/result.png",
    "created_at": 1745827200,
    "started_at": 1745827201,
    "completed_at": 1745827209,
    "model": "flux-kontext",
}


@operation(
    SEED_001,
    "GET",
    summary="Get task status",
    description="Any job of the key's shop by its task_id (edit-flux and try-on answer one; "
    "every sync route's 504 names one). A task still CREATED "
    "V1_TASK_RESEND_SECONDS (120) after it was sent to the workers is sent again when polled "
    "(the seed: “CREATED status older than 120 seconds”).",
    scope=TASK_SCOPES,
    responses={
        200: Returns(TaskStatusResponse, "Task status retrieved", TASK_EXAMPLE),
        404: Returns(ErrorResponse, "Task not found (or not this shop's)"),
    },
)
def get_task(request: HttpRequest, task_id: str) -> TaskStatusResponse:
    job = _shop_job(request, task_id)
    resend_if_stuck(job)
    status = STATUSES[Job.Status(job.status)]
    body = TaskStatusResponse(
        task_id=task_ref(job.id),
        status=status,
        progress=job.progress if job.status != Job.Status.QUEUED else 0,
        created_at=int(job.created_at.timestamp()),
        started_at=_unix(job.started_at),
        completed_at=_unix(job.finished_at),
        model=job.model,
    )
    if job.status == Job.Status.COMPLETED:
        rows = job_output_rows(job.id)
        if rows:
            body.output_image_url = FileUrls(request.shop, request)(rows[0][1])  # type: ignore[attr-defined]
    elif job.status == Job.Status.FAILED:
        body.error_msg = job.error or "The task failed."
    elif job.status == Job.Status.CANCELED:
        body.error_msg = job.stage or "cancelled"
    return body


@operation(
    SEED_001,
    "DELETE",
    summary="Cancel task",
    description="Cancels a CREATED or PROCESSING task and refunds it in full.",
    scope=TASK_SCOPES,
    responses={
        200: Returns(TaskCancelledResponse, "Task cancelled", {"message": "task abc123 cancelled"}),
        404: Returns(ErrorResponse, "Task not found (or not this shop's)"),
        409: Returns(ErrorResponse, "The task already finished"),
    },
)
def cancel_task(request: HttpRequest, task_id: str) -> TaskCancelledResponse:
    job = _shop_job(request, task_id)
    try:
        cancel_job(job, reason="cancelled through the API")
    except CancelError:
        raise ApiError(
            409,
            f"task {job.id.hex} is already {STATUSES[Job.Status(job.status)]}"
            if job.status in STATUSES
            else "The task already finished.",
            code="task_finished",
        ) from None
    return TaskCancelledResponse(message=f"task {job.id.hex} cancelled")


# --- health ---------------------------------------------------------------------------------------


class Checks(Out):
    worker: str = Field(description="ok, or stalled when jobs wait past a lease for a worker.")
    upstream: str = Field(description="ok when the offline engines behind the routes resolve.")
    backend: str = Field(description="ok when the database and the file storage answer.")
    kv: str = Field(description="ok when the rate-limit store (Redis, else the database) answers.")


class Health(Out):
    status: Literal["healthy", "degraded"]
    checks: Checks
    timestamp: str


def _check(fn: Any) -> str:
    try:
        return fn() or "ok"
    except Exception as exc:  # a health check reports failures, it does not raise them
        return f"error: {type(exc).__name__}"


def _backend() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    from django.core.files.storage import default_storage

    default_storage.exists("health-probe")
    return "ok"


def _kv() -> str:
    from studio import ratelimit

    url = ratelimit.redis_url()
    if url:
        import redis

        redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1).ping()
        return "ok"
    from studio.models import RateLimitWindow

    RateLimitWindow.objects.order_by().values_list("pk").first()
    return "ok"


def _worker() -> str:
    stale = timezone.now() - timedelta(seconds=settings.JOB_LEASE_SECONDS)
    waiting = Job.objects.filter(status=Job.Status.QUEUED, enqueued_at__lt=stale).exists()
    lost = Job.objects.filter(status=Job.Status.ACTIVE, lease_until__lt=timezone.now()).exists()
    return "stalled" if waiting or lost else "ok"


def _upstream() -> str:
    from generations.api.v1_images import DEFAULT_MODELS, route_model
    from generations.engines import registry
    from generations.engines.base import Capability
    from generations.imageops.engine import MODELS

    for key, default in DEFAULT_MODELS.items():
        model = route_model(key)
        if default.startswith("builtin:") and model in MODELS:
            registry.resolve(model, MODELS[model][0])
    registry.resolve(route_model("generations"), Capability.TEXT_TO_IMAGE)
    return "ok"


@operation(
    SEED_001,
    "GET",
    summary="Health check",
    description="worker: the job queue is being worked; upstream: the engines of the offline "
    "routes; backend: database and file storage; kv: the rate-limit store. 503 when any is not "
    "ok.",
    scope=(),
    responses={
        200: Returns(
            Health,
            "All services healthy",
            {
                "status": "healthy",
                "checks": {"worker": "ok", "upstream": "ok", "backend": "ok", "kv": "ok"},
                "timestamp": "2026-04-28T10:00:00Z",
            },
        ),
        503: Returns(Health, "Some check is not ok"),
    },
)
def health(request: HttpRequest) -> Reply:
    checks = Checks(
        worker=_check(_worker),
        upstream=_check(_upstream),
        backend=_check(_backend),
        kv=_check(_kv),
    )
    healthy = all(v == "ok" for v in checks.model_dump().values())
    body = Health(
        status="healthy" if healthy else "degraded",
        checks=checks,
        timestamp=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    )
    return Reply(body, 200 if healthy else 503)


task_view = route(get_task, cancel_task)
health_view = route(health)
