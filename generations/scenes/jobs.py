"""The `scene` job: its runner (the builtin compositor or a remote image-edit model, both as an
engine's generate() with the product as init_image) and the job_finished receiver that delivers a
request's webhook_url."""

from __future__ import annotations

import logging
from typing import Any

from generations.actions import Output, ProgressReporter, runner
from generations.engines import registry
from generations.engines.base import Capability, EngineError, GenerationRequest
from generations.models import Asset, Job
from generations.scenes.actions import KEEP_PRODUCT, KIND, remaining_seconds
from generations.scenes.documents import job_document
from generations.scenes.engine import ENGINE_NAME, OVERRIDES

log = logging.getLogger(__name__)


def remote_prompt(params: dict[str, Any]) -> str:
    """What an image-edit model is told: the scene as described, and to keep the product."""
    scene = params.get("prompt", "")
    if not scene.lower().startswith(("place", "put", "show", "photograph")):
        scene = f"Place the product {scene}"
    return f"{scene.rstrip('. ')}. {KEEP_PRODUCT}"


@runner(KIND)
def run_scene(job: Job, progress: ProgressReporter) -> tuple[list[Output], dict[str, Any]]:
    p = job.params
    asset = job.input_asset
    if asset is None:
        raise EngineError("The product image was deleted before the job ran.")
    try:
        with asset.file.open("rb") as fh:
            product = fh.read()
    except OSError as exc:
        raise EngineError(f"The product image could not be read ({exc}).") from exc
    spec, engine = registry.resolve(job.model, Capability.PRODUCT_SCENE)
    builtin = spec.engine == ENGINE_NAME
    request = GenerationRequest(
        prompt=p["prompt"] if builtin else remote_prompt(p),
        width=int(p["width"]),
        height=int(p["height"]),
        count=int(p["count"]),
        seed=p.get("seed"),
        model=job.model,
        provider_model=spec.provider_model,
        params={k: p[k] for k in OVERRIDES if p.get(k)} | {"aspect_ratio": p.get("aspect_ratio")},
        init_image=product,
    )

    def scaled(percent: int, stage: str) -> None:
        progress(2 + int(percent * 0.95), stage)

    images = engine.generate(request, scaled)
    result: dict[str, Any] = {"scene": p.get("scene", "")}
    outputs = []
    for img in images:
        meta = dict(img.metadata)
        for key in ("understood", "ignored"):
            if key in meta:
                result[key] = meta.pop(key)
        outputs.append(Output(img.data, img.content_type, img.width, img.height, img.seed, meta))
    return outputs, result


def deliver_webhook_url(job: Job) -> None:
    """A scene job submitted with a webhook_url gets its final state POSTed there."""
    url = (job.params or {}).get("webhook_url") if job.kind == KIND else None
    if not url:
        return
    from generations.job_results import charged_cents
    from generations.storage_urls import file_url
    from generations.webhooks import enqueue_url_webhook

    images = [
        {
            "id": str(a.id),
            "url": file_url(job.shop, a.file),
            "width": a.width,
            "height": a.height,
            "content_type": a.content_type,
        }
        for a in Asset.objects.filter(job=job).order_by("created_at", "id")
    ]
    body = job_document(
        job, images, credits_charged=charged_cents(job), remaining_seconds=remaining_seconds(job)
    )
    enqueue_url_webhook(job, url, f"job.{body['status']}", body)


def on_job_finished(sender: Any, job: Job, **kwargs: Any) -> None:
    """Receiver of `generations.signals.job_finished` (connected in ScenesConfig.ready)."""
    deliver_webhook_url(job)
