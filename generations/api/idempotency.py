"""Idempotency-Key for POSTs that create work, bound to the job the request creates.

A request claims (API key, Idempotency-Key) with a token and a lease. When it creates a job, the
job's id is written onto the record in the job's own transaction (`submit_bound`), so there is
never a job (or a charge) the record does not know about. A retry with the same key and body:
- the first request finished with a final answer → that answer is replayed;
- a job exists (still running, or finished after a 504) → the route's `resume` answers from that
  job: the result once done, the family's 504 with the job id while it runs; never a second job;
- no job yet and the lease is live → 409 (the first request is still reading its input);
- no job and the lease has passed (its process died) → the retry takes the record over with a
  conditional update, and a late first request then loses its bind and rolls its job back.
Another body under the same key is a 409. Records are kept 24 hours (IdempotencyRecord.TTL).
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from generations.api.edge import ApiError
from generations.models import Job
from studio.models import IdempotencyRecord

if TYPE_CHECKING:
    from generations.api.edge import Operation

HEADER = "HTTP_IDEMPOTENCY_KEY"
T = TypeVar("T")


@dataclass
class Claim:
    record_id: int
    token: str
    job_id: Any = None


@dataclass
class Resume:
    job: Job


def lease() -> timedelta:
    return timedelta(seconds=settings.API_IDEMPOTENCY_LEASE_SECONDS)


def request_fingerprint(request: HttpRequest) -> str:
    h = hashlib.sha256()
    h.update(f"{request.method} {request.path}?{request.META.get('QUERY_STRING', '')}\n".encode())
    ctype = request.content_type or ""
    if ctype.startswith("multipart/"):
        # The boundary changes between retries; hash the parsed fields and file contents.
        for name, values in sorted(request.POST.lists()):
            h.update(json.dumps([name, values]).encode())
        for name, files in sorted(request.FILES.lists()):
            for f in files:
                h.update(name.encode())
                for chunk in f.chunks():
                    h.update(chunk)
                f.seek(0)
    else:
        h.update(ctype.encode() + b"\n")
        h.update(request.body)
    return h.hexdigest()


def _replay(record: IdempotencyRecord) -> HttpResponse:
    response = HttpResponse(
        bytes(record.body),
        status=record.status_code or 200,
        content_type=record.content_type or "application/json",
    )
    response["Idempotent-Replayed"] = "true"
    return response


def begin(request: HttpRequest, op: Operation) -> Claim | Resume | HttpResponse | None:
    """Claim the request's Idempotency-Key, or say how to answer a retry. None: no header."""
    idem = request.META.get(HEADER, "").strip()
    if not idem:
        return None
    if len(idem) > 255:
        raise ApiError(400, "Idempotency-Key must be at most 255 characters.")
    fingerprint = request_fingerprint(request)
    key = request.api_key  # type: ignore[attr-defined]
    token = secrets.token_hex(8)
    for _ in range(3):
        now = timezone.now()
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(
                    api_key=key,
                    key=idem,
                    request_hash=fingerprint,
                    claim_token=token,
                    lease_until=now + lease(),
                )
        except IntegrityError:
            existing = IdempotencyRecord.objects.filter(api_key=key, key=idem).first()
            if existing is None:
                continue
            if existing.created_at < now - IdempotencyRecord.TTL:
                IdempotencyRecord.objects.filter(
                    pk=existing.pk, created_at=existing.created_at
                ).delete()
                continue
            if existing.request_hash != fingerprint:
                raise ApiError(
                    409,
                    "This Idempotency-Key was already used with a different request body.",
                    code="idempotency_key_reused",
                ) from None
            if existing.completed:
                return _replay(existing)
            if existing.job_id is not None and op.resume is not None:
                job = Job.objects.filter(id=existing.job_id, shop=key.shop).first()
                if job is not None:
                    return Resume(job)
            if existing.lease_until is not None and existing.lease_until > now:
                raise ApiError(
                    409,
                    "A request with this Idempotency-Key is still being processed; retry later.",
                    code="idempotency_in_progress",
                ) from None
            # The request that held it died before creating anything: take it over.
            taken = IdempotencyRecord.objects.filter(
                pk=existing.pk, claim_token=existing.claim_token, completed=False
            ).update(claim_token=token, lease_until=now + lease(), job_id=None)
            if taken == 1:
                claim = Claim(existing.pk, token)
                request.idempotency_claim = claim  # type: ignore[attr-defined]
                return claim
            continue
        claim = Claim(record.pk, token)
        request.idempotency_claim = claim  # type: ignore[attr-defined]
        return claim
    raise ApiError(409, "Idempotency-Key conflict; retry.", code="conflict")


def submit_bound(request: HttpRequest, create: Callable[[], T]) -> T:
    """Run `create` (which submits a job and returns it, or something with `.id`) and bind its
    job to the request's Idempotency-Key in the same transaction."""
    claim: Claim | None = getattr(request, "idempotency_claim", None)
    if claim is None:
        return create()
    with transaction.atomic():
        created = create()
        bound = IdempotencyRecord.objects.filter(
            pk=claim.record_id, claim_token=claim.token, job_id__isnull=True, completed=False
        ).update(job_id=created.id)  # type: ignore[attr-defined]
        if bound != 1:
            # A retry took the key over after our lease passed: undo this job and its charge.
            raise ApiError(
                409,
                "Another request with this Idempotency-Key took it over; retry to get its result.",
                code="idempotency_in_progress",
            )
    claim.job_id = created.id  # type: ignore[attr-defined]
    return created


def finish(claim: Claim, response: HttpResponse) -> None:
    """Keep a final answer for replay. A 504 (the job still runs) or a server error is not final:
    with a job the record stays bound to it (retries resume that job), without one it is
    released so the client can retry for real."""
    status = response.status_code
    final = not response.streaming and (status < 500 or status == 502)
    records = IdempotencyRecord.objects.filter(pk=claim.record_id, claim_token=claim.token)
    if final:
        records.update(
            completed=True,
            status_code=status,
            content_type=response.get("Content-Type", "application/json")[:100],
            body=bytes(response.content),
            lease_until=None,
        )
    else:
        abandon(claim)


def abandon(claim: Claim) -> None:
    records = IdempotencyRecord.objects.filter(pk=claim.record_id, claim_token=claim.token)
    if claim.job_id is not None:
        records.update(lease_until=timezone.now())
    else:
        records.delete()


def purge_expired() -> int:
    """Delete records older than IdempotencyRecord.TTL (24 hours); beat runs it hourly."""
    deleted, _ = IdempotencyRecord.objects.filter(
        created_at__lt=timezone.now() - IdempotencyRecord.TTL
    ).delete()
    return deleted
