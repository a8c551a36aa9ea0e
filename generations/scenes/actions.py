"""Actions for product photos in a scene: validate and price a request, submit it as a `scene`
job through the shared pipeline (charge, enqueue on commit, refund on failure), estimate how
long it takes, and keep a shop's scene presets.

Every check happens before the job exists: a bad request stores nothing and charges nothing.
"""

from __future__ import annotations

import secrets
import statistics
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from generations.actions import JobError, size_for, submit_job
from generations.engines import registry
from generations.engines.base import Capability, EngineError, EngineNotConfigured, UnknownModel
from generations.engines.catalog import DEFAULTS, SEED_004_CREDITS
from generations.engines.registry import ModelSpec
from generations.loader import FORMAT_CONTENT_TYPES
from generations.models import Asset, Job, PriceRule
from generations.scenes.engine import MODEL_NAME
from generations.scenes.models import ASPECT_RATIOS, ScenePreset
from generations.scenes.presets import PresetChoice
from generations.scenes.spec import (
    CAMERAS,
    LIGHT_CHOICES,
    SURFACE_WORDS,
    SURFACES,
    parse_scene,
)
from studio.models import Shop

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

KIND = "scene"
MAX_IMAGES = 4
MAX_PROMPT = 2000
LONG_SIDE = 1024
BUILTIN_CREDITS = 1  # the offline compositor: about a second of CPU per image
IMAGE_TYPES = frozenset(FORMAT_CONTENT_TYPES.values())
# What the remote image-edit models are told besides the scene: keep the product as it is.
KEEP_PRODUCT = (
    "Keep the product exactly as it is (shape, label, text, colours); change only its "
    "surroundings and light, with a natural contact shadow."
)
# Estimates before there is any history (seconds): a cut-out, then per image.
FIRST_GUESS = {"builtin-scene": (2.0, 1.5)}
REMOTE_GUESS = (4.0, 12.0)


@dataclass
class SceneRequest:
    """What a door asks for; `prepare_scene` validates every field."""

    asset: Asset | None
    model: str = MODEL_NAME
    prompt: str = ""
    preset: PresetChoice | None = None
    count: int = 1
    aspect_ratio: str = ""  # blank: the preset's, else 1:1
    webhook_url: str = ""
    seed: int | None = None
    overrides: dict[str, str] = field(default_factory=dict)  # surface / light / camera


@dataclass
class Prepared:
    params: dict[str, Any]
    spec: ModelSpec
    cents_per_image: int

    @property
    def total_cents(self) -> int:
        return self.cents_per_image * int(self.params["count"])


def scene_models() -> list[ModelSpec]:
    """Every model that can place a product in a scene, configured or not (for forms and docs)."""
    return [s for s in registry.all_models() if Capability.PRODUCT_SCENE in s.capabilities]


def available_scene_models() -> list[ModelSpec]:
    return registry.available_models(Capability.PRODUCT_SCENE)


def _enabling_settings(model: str) -> str:
    """ "FAL_KEY or REPLICATE_API_TOKEN" for a catalogue name served by either provider."""
    names: list[str] = []
    for entry in DEFAULTS:
        if entry.name != model:
            continue
        for engine_name, _provider_model in entry.candidates:
            try:
                setting = registry.engine(engine_name).required_setting
            except EngineError:
                continue
            if setting and setting not in names:
                names.append(setting)
    return " or ".join(names)


def resolve_scene_model(name: str) -> ModelSpec:
    """The model spec for `name`, or a JobError saying which models exist and, for a known but
    unconfigured one, which setting enables it."""
    try:
        spec, _engine = registry.resolve(name, Capability.PRODUCT_SCENE)
    except UnknownModel as exc:
        known = [s.name for s in scene_models()]
        raise JobError(
            f"Unknown model {name!r}. Models for product scenes: {', '.join(known)}.", field="model"
        ) from exc
    except EngineNotConfigured as exc:
        setting = _enabling_settings(name) or exc.setting
        available = [s.name for s in available_scene_models()]
        raise JobError(
            f"The model {name!r} is not configured on this server: set {setting} to enable it. "
            f"Models this server can serve now: {', '.join(available) or 'none'}.",
            field="model",
        ) from exc
    except EngineError as exc:
        raise JobError(str(exc), field="model") from exc
    return spec


def scene_price(spec: ModelSpec) -> int:
    """Credits (cents) per image: a PriceRule naming the model, or the `scene` kind, wins; then
    seed 004's table; the offline compositor costs BUILTIN_CREDITS."""
    rules = PriceRule.objects.filter(Q(kind=KIND) | Q(model=spec.name)).filter(
        engine__in=["", spec.engine], model__in=["", spec.name], kind__in=["", KIND]
    )
    best = max(rules, key=lambda r: r.specificity, default=None)
    if best is not None:
        return best.cents_per_output
    return SEED_004_CREDITS.get(spec.name, BUILTIN_CREDITS)


def _check_asset(shop: Shop, asset: Asset | None) -> Asset:
    if asset is None or asset.shop_id != shop.id:
        raise JobError("Choose a product image from this shop's library.", field="asset")
    if asset.content_type not in IMAGE_TYPES:
        raise JobError(
            f"The product must be an image; this asset is {asset.content_type}.", field="asset"
        )
    if (
        asset.width * asset.height > settings.IMAGE_MAX_PIXELS
        or asset.bytes > settings.IMAGE_MAX_BYTES
    ):
        raise JobError(
            f"The image is {asset.width}×{asset.height} ({asset.bytes:,} bytes); the limits are "
            f"{settings.IMAGE_MAX_PIXELS:,} pixels and {settings.IMAGE_MAX_BYTES:,} bytes.",
            field="asset",
        )
    return asset


def _overrides(req: SceneRequest) -> dict[str, str]:
    """The preset's pinned choices, unless the prompt itself names that kind of thing (words the
    user typed win over the preset), then the door's explicit choices."""
    out: dict[str, str] = {}
    if req.preset is not None:
        words = set(req.prompt.lower().split())
        for name, value in req.preset.overrides().items():
            if name == "surface" and words & set(SURFACE_WORDS):
                continue
            out[name] = value
    allowed = {"surface": SURFACES, "light": LIGHT_CHOICES, "camera": CAMERAS}
    for name, value in req.overrides.items():
        if not value:
            continue
        if name not in allowed or value not in allowed[name]:
            choices = ", ".join(allowed.get(name, ()))
            raise JobError(f"{name} must be one of: {choices}.", field=name)
        out[name] = value
    return out


def prepare_scene(shop: Shop, req: SceneRequest) -> Prepared:
    """Validate a request completely; returns the job's params, model and price."""
    _check_asset(shop, req.asset)
    prompt = (req.prompt or "").strip()
    if len(prompt) > MAX_PROMPT:
        raise JobError(f"The prompt is longer than {MAX_PROMPT} characters.", field="prompt")
    if not prompt and req.preset is None:
        raise JobError("Describe the scene or choose a preset.", field="prompt")
    scene_prompt = " ".join(p for p in (prompt, req.preset.prompt if req.preset else "") if p)
    if isinstance(req.count, bool) or not isinstance(req.count, int):
        raise JobError("num_images must be a whole number.", field="num_images")
    if not 1 <= req.count <= MAX_IMAGES:
        raise JobError(f"num_images must be between 1 and {MAX_IMAGES}.", field="num_images")
    aspect = req.aspect_ratio or (req.preset.aspect_ratio if req.preset else "") or "1:1"
    if aspect not in ASPECT_RATIOS:
        raise JobError(
            f"aspect_ratio must be one of: {', '.join(ASPECT_RATIOS)}.", field="aspect_ratio"
        )
    spec = resolve_scene_model(req.model or MODEL_NAME)
    if req.count > spec.max_count:
        raise JobError(
            f"{spec.name} makes at most {spec.max_count} image(s) per request.", field="num_images"
        )
    overrides = _overrides(req)
    try:
        understood = parse_scene(scene_prompt, **overrides)
    except ValueError as exc:
        raise JobError(str(exc), field="preset") from exc
    webhook_url = (req.webhook_url or "").strip()
    if webhook_url:
        from generations.webhooks import WebhookError, check_endpoint_url

        try:
            check_endpoint_url(webhook_url)
        except WebhookError as exc:
            raise JobError(f"webhook_url: {exc}", field="webhook_url") from exc
    width, height = size_for(aspect, LONG_SIDE)
    seed = req.seed if req.seed is not None else secrets.randbelow(2**31)
    params: dict[str, Any] = {
        "prompt": scene_prompt,
        "user_prompt": prompt,
        "preset_id": req.preset.id if req.preset else "",
        "preset_name": req.preset.name if req.preset else "",
        "count": req.count,
        "aspect_ratio": aspect,
        "width": width,
        "height": height,
        "seed": seed,
        "scene": understood.summary(),
        "webhook_url": webhook_url,
        **overrides,
    }
    return Prepared(params, spec, scene_price(spec))


def submit_scene(
    shop: Shop,
    req: SceneRequest,
    *,
    user: AbstractBaseUser | None = None,
    source: str = "web",
    prepared: Prepared | None = None,
) -> Job:
    """Validate, then create the job, charge it and enqueue it (after commit). Raises JobError
    (nothing created) or studio.actions.InsufficientCredits (nothing created)."""
    prepared = prepared or prepare_scene(shop, req)
    params = prepared.params
    return submit_job(
        shop,
        kind=KIND,
        params=params,
        cost_cents=prepared.total_cents,
        user=user,
        engine=prepared.spec.engine,
        model=prepared.spec.name,
        source=source,
        input_asset=req.asset,
        memo=f"{params['count']} × {prepared.spec.name} scene",
    )


# --- how long it takes ------------------------------------------------------------------------------


def _recent_seconds(model: str) -> tuple[float, float] | None:
    """(fixed seconds per job, seconds per image) from this model's recent completed jobs."""
    since = timezone.now() - timedelta(days=7)
    rows = list(
        Job.objects.filter(
            kind=KIND, model=model, status=Job.Status.COMPLETED, finished_at__gte=since
        )
        .exclude(started_at=None)
        .order_by("-finished_at")
        .values_list("started_at", "finished_at", "params")[:20]
    )
    if len(rows) < 3:
        return None
    per_image = [
        (done - start).total_seconds() / max(int((p or {}).get("count", 1) or 1), 1)
        for start, done, p in rows
    ]
    return 0.0, statistics.median(per_image)


def estimate_seconds(
    model: str, engine: str, count: int, *, exclude: Job | None = None, memo: dict | None = None
) -> int:
    """Seconds until a job of `count` images is likely done: the jobs waiting ahead of it, then
    its own run time, both from the recent history of completed jobs (a first guess per engine
    until there is any). `memo` shares the history queries between the jobs of one answer."""
    memo = memo if memo is not None else {}
    if ("model", model) not in memo:
        memo[("model", model)] = _recent_seconds(model)
    history = memo[("model", model)]
    fixed, per_image = history or FIRST_GUESS.get(engine, REMOTE_GUESS)
    own = fixed + per_image * count
    if "ahead" not in memo:
        memo["ahead"] = Job.objects.filter(
            status__in=[Job.Status.QUEUED, Job.Status.ACTIVE]
        ).count()
        memo["typical"] = _typical_job_seconds()
    ahead = memo["ahead"] - (1 if exclude is not None and not exclude.is_finished else 0)
    # The jobs ahead (any kind) at a typical job's time each, shared by the workers.
    return max(1, round(own + max(ahead, 0) * memo["typical"] / max(settings.JOB_CONCURRENCY, 1)))


def _typical_job_seconds() -> float:
    rows = list(
        Job.objects.filter(status=Job.Status.COMPLETED)
        .exclude(started_at=None)
        .order_by("-finished_at")
        .values_list("started_at", "finished_at")[:20]
    )
    if not rows:
        return 3.0
    return statistics.median((done - start).total_seconds() for start, done in rows)


def remaining_seconds(job: Job, memo: dict | None = None) -> int | None:
    """For a running or waiting job: about how long until it is done; None once finished."""
    if job.is_finished:
        return None
    count = int(job.params.get("count", 1) or 1)
    total = estimate_seconds(job.model, job.engine, count, exclude=job, memo=memo)
    if job.status == Job.Status.ACTIVE and job.progress:
        return max(1, round(total * (100 - job.progress) / 100))
    return total


# --- presets -------------------------------------------------------------------------------------------


class PresetError(ValueError):
    def __init__(self, message: str, *, field: str = "") -> None:
        super().__init__(message)
        self.field = field


def save_preset(
    shop: Shop,
    *,
    name: str,
    prompt: str,
    surface: str = "",
    light: str = "",
    camera: str = "",
    aspect_ratio: str = "1:1",
    user: AbstractBaseUser | None = None,
    preset: ScenePreset | None = None,
) -> ScenePreset:
    """Create (or update) a shop's scene preset."""
    name, prompt = name.strip(), prompt.strip()
    if not name:
        raise PresetError("Give the preset a name.", field="name")
    if len(name) > 80:
        raise PresetError("The name is longer than 80 characters.", field="name")
    if not prompt:
        raise PresetError("Describe the scene.", field="prompt")
    if len(prompt) > MAX_PROMPT:
        raise PresetError(f"The scene is longer than {MAX_PROMPT} characters.", field="prompt")
    for value, allowed, label in (
        (surface, SURFACES, "surface"),
        (light, LIGHT_CHOICES, "light"),
        (camera, CAMERAS, "camera"),
    ):
        if value and value not in allowed:
            raise PresetError(f"Unknown {label} {value!r}.", field=label)
    if aspect_ratio not in ASPECT_RATIOS:
        raise PresetError(
            f"aspect_ratio must be one of: {', '.join(ASPECT_RATIOS)}.", field="aspect_ratio"
        )
    row = preset or ScenePreset(shop=shop, created_by=user)
    if row.shop_id != shop.id:
        raise PresetError("Unknown preset.")
    row.name, row.prompt, row.surface, row.light, row.camera = name, prompt, surface, light, camera
    row.aspect_ratio = aspect_ratio
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError:
        raise PresetError("This shop already has a preset with that name.", field="name") from None
    return row


def delete_preset(shop: Shop, preset: ScenePreset) -> None:
    if preset.shop_id != shop.id:
        raise PresetError("Unknown preset.")
    preset.delete()
