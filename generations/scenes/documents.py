"""The seed 004 view of a `scene` job: what GET /v1/jobs/{job_id} answers and what a request's
webhook_url receives. Plain values in, a dict out (URLs are made by the caller)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from generations.models import Job

STATUS = {
    Job.Status.QUEUED: "pending",
    Job.Status.ACTIVE: "processing",
    Job.Status.COMPLETED: "completed",
    Job.Status.FAILED: "failed",
    Job.Status.CANCELED: "canceled",
}
PREFIX = "job_"


def public_id(job_id: uuid.UUID) -> str:
    return PREFIX + job_id.hex


def parse_public_id(text: str) -> uuid.UUID | None:
    """ "job_<32 hex>" (or a bare UUID) → UUID; None when it is neither."""
    raw = text[len(PREFIX) :] if text.startswith(PREFIX) else text
    try:
        return uuid.UUID(raw)
    except ValueError:
        return None


def iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def job_document(
    job: Job,
    images: list[dict[str, Any]],
    *,
    credits_charged: int,
    remaining_seconds: int | None,
) -> dict[str, Any]:
    p = job.params or {}
    body: dict[str, Any] = {
        "job_id": public_id(job.id),
        "status": STATUS.get(job.status, job.status),
        "created_at": iso(job.created_at),
        "started_at": iso(job.started_at),
        "completed_at": iso(job.finished_at),
        "model": job.model,
        "num_images": int(p.get("count", 1) or 1),
        "aspect_ratio": p.get("aspect_ratio", "1:1"),
        "prompt": p.get("user_prompt", ""),
        "preset_id": p.get("preset_id") or None,
        "progress": job.progress,
        "stage": job.stage,
        "estimated_time_seconds": remaining_seconds,
        "images": images,
        "credits_charged": credits_charged,
        "error": None,
    }
    if job.status == Job.Status.FAILED:
        body["error"] = {"code": "generation_failed", "message": job.error or "The job failed."}
    elif job.status == Job.Status.CANCELED:
        body["error"] = {"code": "canceled", "message": job.stage or "The job was canceled."}
    return body
