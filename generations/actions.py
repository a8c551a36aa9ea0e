"""Job lifecycle and generation: submit, claim, report progress, complete, fail, cancel, sweep.

The Job row is the source of truth. `submit_job` validates, creates the job, charges and enqueues
after commit; the Celery task claims it with a conditional update and a lease.
"""

from __future__ import annotations

import dataclasses
import io
import logging
import re
import secrets
import time
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from PIL import Image

from generations.engines import registry
from generations.engines.base import (
    Capability,
    EngineError,
    EngineImage,
    GenerationRequest,
    JobCanceled,
    UnknownModel,
    upstream_sink,
)
from generations.library import files_removed_on_error, store_asset
from generations.loader import ImageRejected, LoadedImage, load_image, made_image
from generations.models import Asset, Job, JobAttempt, Preset
from generations.presets import PresetError, parse_variables, render_template
from generations.pricing import price_per_output
from generations.signals import job_finish_written, job_finished
from studio import audit
from studio.actions import InsufficientCredits, StaffActionError, charge, refund
from studio.models import Shop

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

log = logging.getLogger(__name__)

# Seed 002's aspect ratios (a superset of seeds 000, 003 and 004).
ASPECT_RATIOS = (
    "1:1",
    "1:2",
    "1:4",
    "1:8",
    "2:1",
    "2:3",
    "3:2",
    "3:4",
    "4:1",
    "4:3",
    "4:5",
    "5:4",
    "8:1",
    "9:16",
    "9:19.5",
    "16:9",
    "19.5:9",
    "21:9",
)
RESOLUTION_LONG_SIDE = {"low": 512, "standard": 1024, "high": 2048, "4k": 4096}
MIN_SIDE, MAX_SIDE = 64, 4096
MAX_COUNT = 4


class JobError(ValueError):
    """A request for work is invalid; nothing was created or charged. Message is for the user."""

    def __init__(self, message: str, *, field: str = "") -> None:
        super().__init__(message)
        self.field = field


def size_for(aspect_ratio: str, long_side: int = 1024) -> tuple[int, int]:
    if aspect_ratio not in ASPECT_RATIOS:
        raise JobError(
            f"Unknown aspect ratio {aspect_ratio!r}. Use one of: {', '.join(ASPECT_RATIOS)}.",
            field="aspect_ratio",
        )
    a, b = (float(x) for x in aspect_ratio.split(":"))
    if a >= b:
        w, h = long_side, long_side * b / a
    else:
        w, h = long_side * a / b, long_side
    return max(MIN_SIDE, round(w / 8) * 8), max(MIN_SIDE, round(h / 8) * 8)


# --- submitting ---------------------------------------------------------------------------------------


SUBMIT_KEY = re.compile(r"[A-Za-z0-9_-]{8,64}")


def clean_submit_key(value: Any) -> str:
    """A page form's one-time token, or "" when it is missing or malformed (then no dedupe)."""
    value = str(value or "").strip()
    return value if SUBMIT_KEY.fullmatch(value) else ""


def submitted_job(shop: Shop, submit_key: str) -> Job | None:
    """The job a form submission with this token already made (a double click, a resend)."""
    if not submit_key:
        return None
    job = Job.objects.filter(shop=shop, submit_key=submit_key).first()
    if job is not None:
        job.replayed = True  # type: ignore[attr-defined]
    return job


def submit_job(
    shop: Shop,
    *,
    kind: str,
    params: dict[str, Any],
    cost_cents: int,
    user: AbstractBaseUser | None = None,
    engine: str = "",
    model: str = "",
    source: str = "web",
    preset: Preset | None = None,
    input_asset: Asset | None = None,
    memo: str = "",
    submit_key: str = "",
) -> Job:
    """Create a queued job, charge it, and enqueue it once the transaction commits.

    With a `submit_key` (a page form's one-time token) a second submission returns the first
    job, marked `replayed`, and charges nothing: the database holds one job per shop and key.
    Raises studio.actions.InsufficientCredits (nothing created) when the shop cannot pay.
    """
    from generations.tasks import run_job

    submit_key = clean_submit_key(submit_key)
    earlier = submitted_job(shop, submit_key)
    if earlier is not None:
        return earlier
    try:
        with transaction.atomic():
            job = Job.objects.create(
                shop=shop,
                created_by=user,
                kind=kind,
                params=params,
                cost_cents=cost_cents,
                engine=engine,
                model=model,
                source=source,
                preset=preset,
                input_asset=input_asset,
                max_attempts=settings.JOB_MAX_ATTEMPTS,
                enqueued_at=timezone.now(),
                submit_key=submit_key,
            )
            charge(shop, cost_cents, job=job, memo=memo or f"{kind} {model}".strip())
            run_job.delay_on_commit(str(job.id))
    except IntegrityError:
        # Two submissions with one token raced: the other one's job stands, this one rolled back.
        earlier = submitted_job(shop, submit_key)
        if earlier is None:
            raise
        return earlier
    return job


@dataclass
class GenerationSpec:
    """What a door asks for; `submit_generation` validates every field."""

    prompt: str = ""
    negative_prompt: str = ""
    preset: Preset | None = None
    variables: dict[str, Any] = field(default_factory=dict)
    aspect_ratio: str = ""
    width: int | None = None
    height: int | None = None
    resolution: str = "standard"
    count: int = 1
    model: str = ""
    seed: int | None = None
    is_public: bool = False
    reference_asset_ids: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)  # door-specific params kept on the job


def _as_int(value: Any, name: str) -> int:
    if isinstance(value, bool):
        raise JobError(f"{name} must be a whole number.", field=name)
    try:
        return int(value)
    except (TypeError, ValueError):
        raise JobError(f"{name} must be a whole number.", field=name) from None


def prepare_generation(shop: Shop, spec: GenerationSpec) -> tuple[dict[str, Any], str, str, int]:
    """Validate a generation; returns (params, engine, model, cents per output)."""
    prompt = (spec.prompt or "").strip()
    negative = (spec.negative_prompt or "").strip()
    aspect = spec.aspect_ratio
    model = spec.model
    if spec.preset is not None:
        if spec.preset.shop_id != shop.id:
            raise JobError("Unknown preset.", field="preset")
        try:
            declared = parse_variables(spec.preset.variables)
            rendered = render_template(spec.preset.template, declared, spec.variables or {})
        except PresetError as exc:
            raise JobError(str(exc), field="variables") from exc
        prompt = f"{rendered} {prompt}".strip() if prompt else rendered
        negative = negative or spec.preset.negative_prompt
        aspect = aspect or spec.preset.aspect_ratio
        model = model or spec.preset.model
    if not prompt:
        raise JobError("A prompt is required.", field="prompt")
    if len(prompt) > 4000:
        raise JobError("The prompt is longer than 4000 characters.", field="prompt")
    count = _as_int(spec.count, "count")
    if not 1 <= count <= MAX_COUNT:
        raise JobError(f"count must be between 1 and {MAX_COUNT}.", field="count")
    if spec.resolution not in RESOLUTION_LONG_SIDE:
        raise JobError(
            f"resolution must be one of {', '.join(RESOLUTION_LONG_SIDE)}.", field="resolution"
        )
    if spec.width is not None or spec.height is not None:
        width = _as_int(spec.width if spec.width is not None else spec.height, "width")
        height = _as_int(spec.height if spec.height is not None else spec.width, "height")
        for name, value in (("width", width), ("height", height)):
            if not MIN_SIDE <= value <= MAX_SIDE:
                raise JobError(f"{name} must be between {MIN_SIDE} and {MAX_SIDE}.", field=name)
    else:
        width, height = size_for(aspect or "1:1", RESOLUTION_LONG_SIDE[spec.resolution])
    seed = None if spec.seed in (None, "") else _as_int(spec.seed, "seed")
    if seed is not None and not 0 <= seed < 2**31:
        raise JobError("seed must be between 0 and 2147483647.", field="seed")
    if seed is None:
        # No seed: a fresh one per submission, recorded on the job and its images, so asking
        # again makes new images (not paid duplicates) and any result can still be remade.
        seed = secrets.randbelow(2**31)
    model = model or registry.default_model_name(shop.default_model)
    try:
        model_spec, _engine = registry.resolve(model, Capability.TEXT_TO_IMAGE)
    except UnknownModel as exc:
        raise JobError(str(exc), field="model") from exc
    except EngineError as exc:
        raise JobError(str(exc), field="model") from exc
    if count > model_spec.max_count:
        raise JobError(
            f"{model} makes at most {model_spec.max_count} image(s) per request.", field="count"
        )
    refs = [str(r) for r in spec.reference_asset_ids]
    if refs and Asset.objects.filter(shop=shop, id__in=refs).count() != len(set(refs)):
        raise JobError("A reference image is not in this shop's library.", field="reference")
    params = {
        "prompt": prompt,
        "negative_prompt": negative,
        "width": width,
        "height": height,
        "count": count,
        "seed": seed,
        "aspect_ratio": aspect or "",
        "resolution": spec.resolution,
        "is_public": bool(spec.is_public),
        "variables": spec.variables or {},
        "user_prompt": (spec.prompt or "").strip(),
        "reference_asset_ids": refs,
        **spec.extra,
    }
    cents = price_per_output(
        engine=model_spec.engine, model=model, resolution=spec.resolution, kind="generate"
    )
    return params, model_spec.engine, model, cents


def _model_label(name: str) -> str:
    """The model's name as people read it, for ledger memos ("Procedural (offline)")."""
    return next((m.label for m in registry.all_models() if m.name == name and m.label), name)


@dataclass(frozen=True)
class ReferenceImage:
    """An image a request brings to guide a generation; stored as an upload with its job."""

    data: bytes
    filename: str = ""
    # What the request called it (e.g. "refImageUrls"), so a rejection names the field.
    named_as: str = ""


PriceFn = Callable[[str, str, str, int], int]  # (engine, model, resolution, cents) -> cents


def submit_generation(
    shop: Shop,
    spec: GenerationSpec,
    *,
    user: AbstractBaseUser | None = None,
    source: str = "web",
    submit_key: str = "",
    references: Sequence[Asset | ReferenceImage] = (),
    price: PriceFn | None = None,
) -> Job:
    """Validate, price and submit a generation; raises JobError (nothing stored or charged).

    `references` follow `spec.reference_asset_ids` on the job, in order: the shop's own assets
    as they are, new images stored as uploads in the job's transaction, so work the shop cannot
    pay for (InsufficientCredits from the one balance check, in `charge`) keeps none of them.
    `price` lets a door with its own price table adjust the per-output price.
    """
    # A resent form finds its job before anything is validated or charged again.
    earlier = submitted_job(shop, clean_submit_key(submit_key))
    if earlier is not None:
        return earlier
    params, engine, model, cents = prepare_generation(shop, spec)
    if price is not None:
        cents = price(engine, model, params["resolution"], cents)
    loaded: list[tuple[ReferenceImage, LoadedImage]] = []
    for ref in references:
        if isinstance(ref, Asset):
            if ref.shop_id != shop.id:
                raise JobError(
                    "A reference image is not in this shop's library.", field="reference"
                )
            continue
        try:
            loaded.append((ref, load_image(ref.data)))
        except ImageRejected as exc:
            prefix = ref.named_as or "A reference image was rejected"
            raise JobError(f"{prefix}: {exc}") from None
    memo = f"{params['count']} × {_model_label(model)}"
    if source.startswith("api"):
        memo += " (API)"
    # Storing images needs one transaction around them and the job; without any, submit_job's
    # own is enough (and a page submission spends no savepoint on it).
    with files_removed_on_error(), transaction.atomic() if loaded else nullcontext():
        stored = iter(
            [
                store_asset(
                    shop,
                    ref.data,
                    kind=Asset.Kind.UPLOAD,
                    loaded=image,
                    parameters={"filename": ref.filename[:200]} if ref.filename else {},
                )
                for ref, image in loaded
            ]
        )
        for ref in references:
            asset = ref if isinstance(ref, Asset) else next(stored)
            params["reference_asset_ids"].append(str(asset.id))
        return submit_job(
            shop,
            kind="generate",
            params=params,
            cost_cents=cents * params["count"],
            user=user,
            engine=engine,
            model=model,
            source=source,
            preset=spec.preset,
            memo=memo,
            submit_key=submit_key,
        )


# --- running --------------------------------------------------------------------------------------------


def claim_job(job_id: str) -> Job | None:
    """queued → active with a lease, or None if someone else has it / it is finished.

    The claim and its attempt row commit together: one commit (an fsync on PostgreSQL) fewer
    per job, and no active job without its attempt if the second write fails."""
    now = timezone.now()
    lease = now + timedelta(seconds=settings.JOB_LEASE_SECONDS)
    with transaction.atomic():
        claimed = Job.objects.filter(id=job_id, status=Job.Status.QUEUED).update(
            status=Job.Status.ACTIVE,
            lease_until=lease,
            attempts=F("attempts") + 1,
            started_at=now,
            stage="starting",
            progress=0,
        )
        if claimed != 1:
            return None
        job = Job.objects.select_related("shop", "preset", "input_asset", "created_by").get(
            id=job_id
        )
        # The attempt log is what staff read to see why a job took several tries (the admin's
        # job page). The conditional update above gave this claim its own attempt number, so
        # the row is new.
        JobAttempt.objects.create(job=job, number=job.attempts, started_at=now)
    return job


def _end_attempt(job_id: Any, outcome: str, detail: str = "", number: int | None = None) -> None:
    """Close the job's running attempt (or only attempt `number`) with its outcome."""
    running = JobAttempt.objects.filter(job_id=job_id, outcome=JobAttempt.Outcome.RUNNING)
    if number is not None:
        running = running.filter(number=number)
    running.update(outcome=outcome, detail=detail[:2000], finished_at=timezone.now())


class ProgressReporter:
    """The progress callback handed to engines: writes stage/progress, renews the lease.

    Writes at most every `interval` seconds (and always on a stage change) so a chatty engine
    does not hammer the database. Raises JobCanceled if the job is no longer active.
    """

    def __init__(
        self,
        job: Job,
        interval: float = 0.25,
        on_progress: Callable[[int, str], None] | None = None,
    ) -> None:
        self.job = job
        self.interval = interval
        # Told of every report this job writes (a chat turn running this job as one of its
        # tools mirrors the stage and renews its own lease); may raise JobCanceled.
        self.on_progress = on_progress
        self._last = 0.0
        self._stage = ""

    def __call__(self, percent: int, stage: str) -> None:
        now = time.monotonic()
        if stage == self._stage and now - self._last < self.interval and percent < 100:
            return
        self._last, self._stage = now, stage
        percent = max(0, min(100, int(percent)))
        # Fenced by the attempt: once the sweeper re-queued this job (our lease expired) and
        # another worker claimed it, this stale attempt stops instead of running alongside.
        updated = Job.objects.filter(
            id=self.job.id, status=Job.Status.ACTIVE, attempts=self.job.attempts
        ).update(
            progress=percent,
            stage=stage[:200],
            lease_until=timezone.now() + timedelta(seconds=settings.JOB_LEASE_SECONDS),
        )
        if updated != 1:
            raise JobCanceled(str(self.job.id))
        self.job.progress, self.job.stage = percent, stage
        if self.on_progress is not None:
            self.on_progress(percent, stage)

    def record_upstream(self, handle: dict[str, Any]) -> None:
        """Keep the provider's id for this job's work on the row, so cancel_job can reach it."""
        result = {**(self.job.result or {}), "upstream": handle}
        updated = Job.objects.filter(id=self.job.id, status=Job.Status.ACTIVE).update(result=result)
        if updated != 1:
            raise JobCanceled(str(self.job.id))
        self.job.result = result


@dataclass
class Output:
    """One thing a job made, before it is stored."""

    data: bytes
    content_type: str = "image/png"
    width: int | None = None
    height: int | None = None
    seed: int | None = None
    parameters: dict[str, Any] = field(default_factory=dict)
    poster: Any = None  # PIL image for video thumbnails
    # The PIL image `data` decodes to, when our own engine encoded it losslessly from it
    # (EngineImage.decoded): stored without decoding `data` again. None: the loader checks it.
    decoded: Any = None


# A runner does the work of one job kind: (job, progress) -> (outputs, result dict).
Runner = Callable[[Job, ProgressReporter], tuple[list[Output], dict[str, Any]]]
RUNNERS: dict[str, Runner] = {}


def runner(kind: str) -> Callable[[Runner], Runner]:
    def register(fn: Runner) -> Runner:
        RUNNERS[kind] = fn
        return fn

    return register


def reference_images(job: Job) -> list[bytes]:
    ids = job.params.get("reference_asset_ids") or []
    out = []
    for asset in Asset.objects.filter(shop=job.shop, id__in=ids):
        with asset.file.open("rb") as fh:
            out.append(fh.read())
    return out


@runner("generate")
def run_generation(job: Job, progress: ProgressReporter) -> tuple[list[Output], dict[str, Any]]:
    p = job.params
    _spec, engine = registry.resolve(job.model, Capability.TEXT_TO_IMAGE)
    progress(2, f"generating with {_model_label(job.model)}")
    request = GenerationRequest(
        prompt=p["prompt"],
        negative_prompt=p.get("negative_prompt", ""),
        width=p["width"],
        height=p["height"],
        count=p["count"],
        seed=p.get("seed"),
        model=job.model,
        provider_model=_spec.provider_model,
        params=p,
        reference_images=reference_images(job),
    )

    def scaled(percent: int, stage: str) -> None:
        progress(2 + int(percent * 0.9), stage)

    if _spec.engine in LOCAL_DRAWING_ENGINES and request.count > 1:
        images = distinct_batch(engine, request, scaled)
    else:
        images = engine.generate(request, scaled)
    outputs = [
        Output(img.data, img.content_type, img.width, img.height, img.seed, img.metadata)
        for img in images
    ]
    # Prompt words the engine could not draw (the offline art engine reports them): kept on the
    # job so pages, API results and webhooks can say so instead of silently ignoring them.
    unrecognized = list(
        dict.fromkeys(w for img in images for w in img.metadata.get("unrecognized_words", []))
    )
    return outputs, ({"unrecognized_words": unrecognized} if unrecognized else {})


# Engines that draw locally for free, so a near-duplicate in a batch may be drawn again.
# (A remote engine bills every call, and its seeds already give distinct pictures.)
LOCAL_DRAWING_ENGINES = frozenset({"builtin"})
# Two images of a batch count as the same picture below this mean difference of their 48×48
# greyscale thumbnails (0–255); the retro poster prompt drew 1–3 at neighbouring seeds.
DISTINCT_MIN_DIFF = 10.0
DISTINCT_TRIES = 6


def _fingerprint(data: bytes) -> Any:
    import numpy as np

    with Image.open(io.BytesIO(data)) as im:
        small = im.convert("L").resize((48, 48), Image.Resampling.BILINEAR)
    return np.asarray(small, dtype=np.float32)


def distinct_batch(
    engine: Any, request: GenerationRequest, progress: Callable[[int, str], None]
) -> list[EngineImage]:
    """A batch whose images differ visibly: image i is drawn at seed + i as usual, and one that
    looks like an earlier image of the batch is redrawn at the next unused seeds (the most
    different try is kept). Deterministic: the same prompt and seed give the same batch, and each
    image records the seed that draws it on its own."""
    import numpy as np

    base = request.seed if request.seed is not None else 0
    count = request.count
    kept: list[EngineImage] = []
    prints: list[Any] = []
    spare = base + count  # seeds past the batch's own range, used for redraws
    for i in range(count):
        progress(int(100 * i / count), f"rendering image {i + 1} of {count}")
        best: tuple[float, EngineImage, Any] = (-1.0, EngineImage(b"", "", 0, 0), None)
        for attempt in range(DISTINCT_TRIES):
            if attempt == 0:
                seed = (base + i) % 2**31
            else:
                seed, spare = spare % 2**31, spare + 1
            one = dataclasses.replace(request, count=1, seed=seed)
            image = engine.generate(one, lambda _p, _s: None)[0]
            fp = _fingerprint(image.data)
            diff = min((float(np.abs(fp - other).mean()) for other in prints), default=255.0)
            if diff > best[0]:
                best = (diff, image, fp)
            if diff >= DISTINCT_MIN_DIFF:
                break
        kept.append(best[1])
        prints.append(best[2])
    progress(100, "rendered")
    return kept


def execute_job(
    job_id: str, *, on_progress: Callable[[int, str], None] | None = None
) -> Job | None:
    """Claim and run a job to an outcome. Returns the job, or None if it was not ours to run.

    `on_progress` hears every progress report (see ProgressReporter)."""
    job = claim_job(job_id)
    if job is None:
        return None
    progress = ProgressReporter(job, on_progress=on_progress)
    try:
        fn = RUNNERS.get(job.kind)
        if fn is None:
            raise EngineError(f"No runner for job kind {job.kind!r}.")
        with upstream_sink(progress.record_upstream):
            outputs, result = fn(job, progress)
        progress(98, "saving")
        return complete_job(job, outputs, result)
    except JobCanceled:
        log.info("job %s canceled or taken over by a newer attempt while running", job_id)
        return Job.objects.get(id=job_id)
    except EngineError as exc:
        if exc.retryable and job.attempts < job.max_attempts:
            return requeue_job(
                job, str(exc), delay=exc.retry_after or 2.0**job.attempts, attempt=job.attempts
            )
        return fail_job(job, str(exc), attempt=job.attempts)
    except Exception as exc:
        log.exception("job %s crashed", job_id)
        return fail_job(
            job,
            f"Internal error while running the job ({type(exc).__name__}).",
            attempt=job.attempts,
        )


def complete_job(job: Job, outputs: list[Output], result: dict[str, Any] | None = None) -> Job:
    """Store outputs as assets and mark the job completed; refund outputs not delivered."""
    p = job.params
    expected = int(p.get("count", len(outputs)) or len(outputs))
    kind = Asset.Kind.GENERATED if job.kind == "generate" else Asset.Kind.DERIVED
    with files_removed_on_error(), transaction.atomic():
        # Lock the row: a cancel that raced us must win or lose cleanly.
        current = Job.objects.select_for_update().get(id=job.id)
        if current.status != Job.Status.ACTIVE or current.attempts != job.attempts:
            # Canceled meanwhile, or a newer attempt owns the job (this one lost its lease).
            raise JobCanceled(str(job.id))
        for i, out in enumerate(outputs):
            store_asset(
                job.shop,
                out.data,
                kind=kind,
                content_type=out.content_type,
                loaded=made_image(out.data, out.decoded, out.content_type)
                if out.decoded is not None
                else None,
                width=out.width,
                height=out.height,
                poster=out.poster,
                user=job.created_by,
                job=job,
                parent=job.input_asset,
                preset=job.preset,
                prompt=p.get("prompt", ""),
                negative_prompt=p.get("negative_prompt", ""),
                model=job.model,
                seed=out.seed,
                is_public=bool(p.get("is_public")),
                parameters={
                    **{k: v for k, v in p.items() if k not in ("prompt", "negative_prompt")},
                    **out.parameters,
                    "index": i,
                },
            )
        delivered = min(len(outputs), expected)
        if delivered < expected and job.cost_cents:
            undelivered = job.cost_cents * (expected - delivered) // max(expected, 1)
            refund(
                job, undelivered, memo=f"{expected - delivered} of {expected} outputs not delivered"
            )
        Job.objects.filter(id=job.id).update(
            status=Job.Status.COMPLETED,
            progress=100,
            stage="done",
            finished_at=timezone.now(),
            lease_until=None,
            result=result or {},
            error="",
        )
        _finish_written(job.id, Job.Status.COMPLETED)
        _end_attempt(job.id, JobAttempt.Outcome.COMPLETED, number=job.attempts)
    job.refresh_from_db()
    _after_finish(job)
    return job


def fail_job(job: Job, reason: str, *, attempt: int | None = None) -> Job:
    """Fail a queued or running job and refund it in full. With `attempt`, only if that attempt
    still owns the job (a worker whose lease was taken over must not fail the newer attempt)."""
    owned = {} if attempt is None else {"attempts": attempt}
    with transaction.atomic():
        updated = Job.objects.filter(
            id=job.id, status__in=[Job.Status.ACTIVE, Job.Status.QUEUED], **owned
        ).update(
            status=Job.Status.FAILED,
            error=reason[:2000],
            stage="failed",
            finished_at=timezone.now(),
            lease_until=None,
        )
        if updated:
            _finish_written(job.id, Job.Status.FAILED)
            refund(job, job.cost_cents, memo=f"failed: {reason[:150]}")
            _end_attempt(job.id, JobAttempt.Outcome.FAILED, reason, number=attempt)
    job.refresh_from_db()
    if updated:
        _after_finish(job)
    return job


def requeue_job(job: Job, reason: str, *, delay: float = 0, attempt: int | None = None) -> Job:
    from generations.tasks import run_job

    owned = {} if attempt is None else {"attempts": attempt}
    with transaction.atomic():
        updated = Job.objects.filter(id=job.id, status=Job.Status.ACTIVE, **owned).update(
            status=Job.Status.QUEUED,
            stage=f"retrying: {reason[:150]}",
            lease_until=None,
            enqueued_at=timezone.now(),
        )
        if updated:
            _end_attempt(job.id, JobAttempt.Outcome.RETRY, reason, number=attempt)
            transaction.on_commit(lambda: run_job.apply_async((str(job.id),), countdown=delay))
    job.refresh_from_db()
    return job


class CancelError(ValueError):
    pass


def cancel_job(job: Job, *, reason: str = "canceled by user") -> Job:
    """Cancel a queued or running job and refund what it did not deliver (all of it)."""
    with transaction.atomic():
        locked = Job.objects.select_for_update().get(id=job.id)
        if locked.status not in (Job.Status.QUEUED, Job.Status.ACTIVE):
            raise CancelError(f"This job is already {locked.status}.")
        Job.objects.filter(id=job.id).update(
            status=Job.Status.CANCELED,
            stage=reason[:200],
            finished_at=timezone.now(),
            lease_until=None,
        )
        _finish_written(job.id, Job.Status.CANCELED)
        refund(job, job.cost_cents, memo=reason)
        _end_attempt(job.id, JobAttempt.Outcome.CANCELED, reason)
    job.refresh_from_db()
    _cancel_upstream(locked)
    _after_finish(job)
    return job


def _cancel_upstream(job: Job) -> None:
    """Best effort: stop the provider's work for a running job (the worker also notices)."""
    handle = (job.result or {}).get("upstream")
    if job.status != Job.Status.ACTIVE or not isinstance(handle, dict):
        return
    try:
        registry.engine(str(handle.get("engine", job.engine))).cancel(handle)
    except Exception:
        log.warning("could not cancel upstream work of job %s", job.id, exc_info=True)


def sweep_jobs() -> dict[str, int]:
    """Re-queue jobs whose lease expired (a killed worker); fail those out of attempts.

    Also re-enqueues queued jobs whose message seems lost (queued longer than a lease):
    claiming is conditional, so a duplicate message is harmless.
    """
    from generations.tasks import run_job

    now = timezone.now()
    counts = {"requeued": 0, "failed": 0, "reenqueued": 0}
    expired = Job.objects.filter(status=Job.Status.ACTIVE, lease_until__lt=now)
    for job in expired.select_related("shop"):
        if job.attempts >= job.max_attempts:
            fail_job(job, f"The job did not finish after {job.attempts} attempts (worker lost).")
            counts["failed"] += 1
            continue
        with transaction.atomic():
            updated = Job.objects.filter(
                id=job.id, status=Job.Status.ACTIVE, lease_until__lt=now
            ).update(
                status=Job.Status.QUEUED,
                stage="re-queued after a lost worker",
                lease_until=None,
                enqueued_at=now,
            )
            if updated:
                _end_attempt(job.id, JobAttempt.Outcome.LOST, "lease expired: re-queued")
                run_job.delay_on_commit(str(job.id))
                counts["requeued"] += 1
    stale = now - timedelta(seconds=settings.JOB_LEASE_SECONDS)
    for job_id in Job.objects.filter(status=Job.Status.QUEUED, enqueued_at__lt=stale).values_list(
        "id", flat=True
    ):
        Job.objects.filter(id=job_id, status=Job.Status.QUEUED).update(enqueued_at=now)
        run_job.delay(str(job_id))
        counts["reenqueued"] += 1
    return counts


def resend_if_stuck(job: Job) -> bool:
    """A job still queued V1_TASK_RESEND_SECONDS (120) after it was sent to the workers is sent
    again, in case its message was lost (seed 001's task poll asks for this). Claiming a job is
    a conditional update, so a duplicate message is harmless; the conditional update here sends
    it once per period however many clients poll."""
    from generations.tasks import run_job

    if job.status != Job.Status.QUEUED:
        return False
    now = timezone.now()
    sent = job.enqueued_at or job.created_at
    if sent > now - timedelta(seconds=settings.V1_TASK_RESEND_SECONDS):
        return False
    with transaction.atomic():
        updated = Job.objects.filter(
            id=job.id, status=Job.Status.QUEUED, enqueued_at=job.enqueued_at
        ).update(enqueued_at=now)
        if updated:
            run_job.delay_on_commit(str(job.id))
    if updated:
        job.enqueued_at = now
    return bool(updated)


def _finish_written(job_id: Any, status: str) -> None:
    """Inside the finishing transaction: its listeners schedule work for the commit (a waiting
    API request is woken at the commit, not after the refresh and job_finished's receivers)."""
    for receiver, outcome in job_finish_written.send_robust(
        sender=Job, job_id=job_id, status=status
    ):
        if isinstance(outcome, Exception):
            log.error(
                "job_finish_written receiver %s failed for job %s",
                getattr(receiver, "__qualname__", receiver),
                job_id,
                exc_info=outcome,
            )


def _after_finish(job: Job) -> None:
    """Tell whoever listens (webhooks, a request's webhook_url) that the job reached its end."""
    for receiver, outcome in job_finished.send_robust(sender=Job, job=job):
        if isinstance(outcome, Exception):
            log.error(
                "job_finished receiver %s failed for job %s",
                getattr(receiver, "__qualname__", receiver),
                job.id,
                exc_info=outcome,
            )


# --- staff actions on jobs (the admin is one door; each outcome says why) --------------------------


@dataclass
class BulkJobOutcome:
    done: list[Job] = field(default_factory=list)
    new_jobs: list[Job] = field(default_factory=list)
    skipped: list[tuple[Job, str]] = field(default_factory=list)


def _staff_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise StaffActionError("Give a reason; it is kept in the audit trail.")
    return reason


def retry_jobs(jobs: list[Job], *, by: AbstractBaseUser, reason: str) -> BulkJobOutcome:
    """Submit failed or canceled jobs again as new jobs (charged again); the others, and those
    the shop cannot pay for, are reported with the reason."""
    reason = _staff_reason(reason)
    outcome = BulkJobOutcome()
    for job in Job.objects.select_related("shop", "preset", "input_asset", "created_by").filter(
        pk__in=[j.pk for j in jobs]
    ):
        if job.status not in (Job.Status.FAILED, Job.Status.CANCELED):
            outcome.skipped.append(
                (job, f"it is {job.status}; only failed or canceled jobs are retried")
            )
            continue
        if job.shop.suspended_at is not None:
            outcome.skipped.append((job, "its shop is suspended"))
            continue
        try:
            with transaction.atomic():
                new = submit_job(
                    job.shop,
                    kind=job.kind,
                    params=job.params,
                    cost_cents=job.cost_cents,
                    user=job.created_by,
                    engine=job.engine,
                    model=job.model,
                    source="admin-retry",
                    preset=job.preset,
                    input_asset=job.input_asset,
                    memo=f"staff retry of {job.id}",
                )
                audit.record(
                    by,
                    "job.retry",
                    job,
                    before={"status": job.status, "error": job.error},
                    after={"new_job": str(new.id), "charged_cents": job.cost_cents},
                    reason=reason,
                )
        except (InsufficientCredits, JobError) as exc:
            outcome.skipped.append((job, str(exc)))
            continue
        outcome.done.append(job)
        outcome.new_jobs.append(new)
    return outcome


def cancel_jobs(jobs: list[Job], *, by: AbstractBaseUser, reason: str) -> BulkJobOutcome:
    """Cancel queued or running jobs (refunded in full); finished ones are reported with why."""
    reason = _staff_reason(reason)
    outcome = BulkJobOutcome()
    for job in Job.objects.select_related("shop").filter(pk__in=[j.pk for j in jobs]):
        before = {"status": job.status, "stage": job.stage}
        try:
            cancel_job(job, reason=f"canceled by staff: {reason}")
        except CancelError as exc:
            outcome.skipped.append((job, str(exc)))
            continue
        with transaction.atomic():
            audit.record(
                by, "job.cancel", job, before=before, after={"status": job.status}, reason=reason
            )
        outcome.done.append(job)
    return outcome
