"""Image operations on library assets as jobs: validate everything, price, submit; and the
runner that performs them through the engine registry.

Every check happens before the job exists, so a bad request stores nothing and charges nothing.
A failure while running fails the job with its reason and refunds it (generations.actions).
"""

from __future__ import annotations

import base64
import binascii
import uuid
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from generations.actions import (
    JobError,
    Output,
    ProgressReporter,
    clean_submit_key,
    runner,
    submit_job,
    submitted_job,
)
from generations.engines import registry
from generations.engines.base import EngineError, OperationRequest, UnknownModel
from generations.imageops.catalog import OPERATIONS, VIDEO_PRICES, OperationSpec, Option
from generations.imageops.common import (
    OperationInputError,
    changed_pixels,
    encode_mask_png,
    mask_from_image,
    no_op_threshold,
)
from generations.loader import FORMAT_CONTENT_TYPES, ImageRejected, LoadedImage, load_image
from generations.models import Asset, Job
from generations.pricing import best_rule
from studio.lazymodules import lazy_module
from studio.models import Shop

if TYPE_CHECKING:
    import numpy as np
else:  # loaded on first use (studio/lazymodules.py)
    np = lazy_module("numpy")

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser
    from PIL import Image

MAX_PROMPT = 4000
IMAGE_TYPES = frozenset(FORMAT_CONTENT_TYPES.values())


# --- options -------------------------------------------------------------------------------------------


def _truthy(value: Any, name: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off", ""):
        return False
    raise JobError(f"{name} must be true or false.", field=name)


def _coerce(option: Option, value: Any) -> Any:
    name = option.name
    if option.kind == "bool":
        return _truthy(value, name)
    if option.kind == "choice":
        for choice in option.choices:
            if str(choice) == str(value).strip():
                return choice
        shown = ", ".join(str(c) for c in option.choices if c != "")
        raise JobError(f"{name} must be one of: {shown}.", field=name)
    if option.kind in ("float", "int"):
        try:
            number = float(value) if option.kind == "float" else int(str(value).strip() or 0)
        except (TypeError, ValueError):
            raise JobError(f"{name} must be a number.", field=name) from None
        if isinstance(value, bool) or not np.isfinite(number):
            raise JobError(f"{name} must be a number.", field=name)
        lo, hi = option.minimum, option.maximum
        if (lo is not None and number < lo) or (hi is not None and number > hi):
            raise JobError(f"{name} must be between {lo:g} and {hi:g}.", field=name)
        return number
    text = str(value).strip()
    if len(text) > 200:
        raise JobError(f"{name} is longer than 200 characters.", field=name)
    return text


def clean_options(spec: OperationSpec, options: dict[str, Any]) -> dict[str, Any]:
    known = {o.name: o for o in spec.options}
    unknown = sorted(set(options) - set(known))
    if unknown:
        raise JobError(
            f"Unknown option(s) for {spec.name}: {', '.join(unknown)}. "
            f"It takes: {', '.join(known) or 'no options'}.",
            field=unknown[0],
        )
    cleaned = {}
    for name, option in known.items():
        raw = options.get(name, option.default)
        cleaned[name] = option.default if raw is None else _coerce(option, raw)
    return cleaned


# --- masks ---------------------------------------------------------------------------------------------


def _decode_mask(mask_bytes: bytes) -> np.ndarray:
    try:
        loaded = load_image(mask_bytes, formats=frozenset({"PNG", "WEBP", "GIF", "JPEG"}))
        return mask_from_image(loaded.image)
    except ImageRejected as exc:
        raise JobError(f"The mask is not usable: {exc}", field="mask") from exc
    except OperationInputError as exc:
        raise JobError(str(exc), field="mask") from exc


def mask_from_objects(objects: list[Any], width: int, height: int) -> np.ndarray:
    """A full-size mask from detected objects ({bbox, mask?}) as detect-objects returns them."""
    mask = np.zeros((height, width), bool)
    if not isinstance(objects, list) or not objects:
        raise JobError("Choose at least one detected object.", field="objects")
    for obj in objects[:100]:
        try:
            x1, y1, x2, y2 = (int(v) for v in obj["bbox"])
        except (KeyError, TypeError, ValueError):
            raise JobError("Each object needs a bbox [x1, y1, x2, y2].", field="objects") from None
        x1, y1, x2, y2 = max(0, x1), max(0, y1), min(width, x2), min(height, y2)
        if x2 <= x1 or y2 <= y1:
            raise JobError("An object's bbox lies outside the image.", field="objects")
        region = np.ones((y2 - y1, x2 - x1), bool)
        if obj.get("mask"):
            try:
                crop = _decode_mask(base64.b64decode(obj["mask"], validate=True))
            except (binascii.Error, ValueError):
                raise JobError("An object's mask is not base64 PNG.", field="objects") from None
            if crop.shape == region.shape:
                region = crop
        mask[y1:y2, x1:x2] |= region
    return mask


def _output_pixels(spec: OperationSpec, options: dict[str, Any], asset: Asset) -> int:
    w, h = asset.width, asset.height
    if "zoom_factor" in options:
        f = int(options["zoom_factor"])
        return w * h * f * f
    if spec.name == "outpaint":
        if options.get("aspect_ratio"):
            from generations.imageops.outpaint import margins_for_ratio

            t, r, b, left = margins_for_ratio(w, h, options["aspect_ratio"])
        else:
            t, r, b, left = (int(options.get(k) or 0) for k in ("top", "right", "bottom", "left"))
        return (w + left + r) * (h + t + b)
    return w * h


# --- prices ----------------------------------------------------------------------------------------------


def operation_price(
    spec: OperationSpec,
    engine: str,
    model: str,
    options: dict[str, Any],
    default: int | None = None,
) -> int:
    """A PriceRule that names this operation (kind) or its model wins, most specific first;
    otherwise `default` (a route family's own table, e.g. seed 001's credits) or the catalog's
    default (seed 000: background removal 1¢, video 25¢ / 43¢)."""
    resolution = ""
    if spec.name == "video":
        resolution = f"{options['resolution']}p"
    elif "zoom_factor" in options:
        resolution = f"{options['zoom_factor']}x"
    best = best_rule(
        engine=engine,
        model=model,
        resolution=resolution,
        kind=spec.name,
        # Only a rule naming this operation or this model: the general image price is not one.
        among=lambda r: r.kind == spec.name or bool(model and r.model == model),
    )
    if best is not None:
        return best.cents_per_output
    if default is not None:
        return default
    if spec.name == "video":
        return VIDEO_PRICES[int(options["resolution"])]
    if options.get("zoom_factor") == 4:
        return spec.price_cents * 2
    return spec.price_cents


# --- submitting -------------------------------------------------------------------------------------------


def submit_operation(
    shop: Shop,
    asset: Asset,
    operation: str,
    options: dict[str, Any] | None = None,
    user: AbstractBaseUser | None = None,
    source: str = "web",
    mask_bytes: bytes | None = None,
    *,
    prompt: str = "",
    model: str = "",
    objects: list[Any] | None = None,
    default_price: int | None = None,
    extra_assets: list[Asset] | None = None,
    extra_params: dict[str, Any] | None = None,
    submit_key: str = "",
) -> Job:
    """Validate an operation on `asset` completely, then create, charge and enqueue its job.

    `default_price` replaces the catalog's price when no PriceRule names the operation or model
    (a route family's own table); `extra_assets` are further input images of the shop (a second
    garment); `extra_params` are kept on the job as params["api"] (what the door was asked).
    A `submit_key` already used in this shop returns that job (a double click or a resent form).
    Raises JobError (nothing created) or studio.actions.InsufficientCredits.
    """
    earlier = submitted_job(shop, clean_submit_key(submit_key))
    if earlier is not None:
        return earlier
    spec = OPERATIONS.get(operation)
    if spec is None:
        raise JobError(
            f"Unknown operation {operation!r}. Operations: {', '.join(OPERATIONS)}.",
            field="operation",
        )
    if asset.shop_id != shop.id:
        raise JobError("Unknown asset.", field="asset")
    if asset.content_type not in IMAGE_TYPES:
        raise JobError(
            f"{spec.label} works on images; this asset is {asset.content_type}.", field="asset"
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
    cleaned = clean_options(spec, dict(options or {}))
    prompt = (prompt or "").strip()
    if spec.prompt == "required" and not prompt:
        raise JobError(f"{spec.label} needs a prompt.", field="prompt")
    if spec.prompt == "none":
        prompt = ""
    if len(prompt) > MAX_PROMPT:
        raise JobError(f"The prompt is longer than {MAX_PROMPT} characters.", field="prompt")
    out_pixels = _output_pixels(spec, cleaned, asset)
    if out_pixels > settings.IMAGE_MAX_PIXELS:
        raise JobError(
            f"The result would have {out_pixels:,} pixels; the limit is "
            f"{settings.IMAGE_MAX_PIXELS:,}. Use a smaller image or factor.",
            field="options",
        )
    if spec.name == "outpaint" and mask_bytes is None:
        if not cleaned["aspect_ratio"] and not any(
            cleaned[k] for k in ("top", "right", "bottom", "left")
        ):
            raise JobError("Choose an aspect ratio or margins to expand by.", field="aspect_ratio")
        if out_pixels == asset.width * asset.height:
            raise JobError("The picture already has that aspect ratio.", field="aspect_ratio")

    mask: np.ndarray | None = None
    if objects is not None:
        if spec.mask == "none":
            raise JobError(f"{spec.label} does not take objects or a mask.", field="objects")
        mask = mask_from_objects(objects, asset.width, asset.height)
    if mask_bytes is not None:
        if spec.mask == "none":
            raise JobError(f"{spec.label} does not take a mask.", field="mask")
        painted = _decode_mask(mask_bytes)
        if painted.shape != (asset.height, asset.width):
            raise JobError(
                f"The mask is {painted.shape[1]}×{painted.shape[0]}; the image is "
                f"{asset.width}×{asset.height}. They must be the same size.",
                field="mask",
            )
        mask = painted if mask is None else (mask | painted)
    if mask is not None and not mask.any():
        raise JobError("The mask is empty: paint (in white) the region to act on.", field="mask")
    if mask is not None and mask.all() and spec.name in ("erase", "inpaint", "outpaint"):
        raise JobError(
            "The mask covers the whole image; nothing is left to fill from.", field="mask"
        )
    if spec.mask == "required" and mask is None:
        raise JobError(f"{spec.label} needs a mask: paint the region first.", field="mask")

    extra_ids: list[str] = []
    if spec.extra_asset:
        ident = cleaned.get(spec.extra_asset) or ""
        try:
            extra = Asset.objects.get(shop=shop, id=uuid.UUID(str(ident)))
        except (ValueError, Asset.DoesNotExist):
            raise JobError(
                "Choose an image from this shop's library.", field=spec.extra_asset
            ) from None
        if extra.content_type not in IMAGE_TYPES:
            raise JobError("The second image must be an image.", field=spec.extra_asset)
        extra_ids.append(str(extra.id))
    for extra in extra_assets or []:
        if extra.shop_id != shop.id:
            raise JobError("Choose an image from this shop's library.", field="extra")
        if extra.content_type not in IMAGE_TYPES:
            raise JobError("Every extra input must be an image.", field="extra")
        extra_ids.append(str(extra.id))

    try:
        model_spec, _engine = registry.resolve_operation(spec.capability, model)
    except UnknownModel as exc:
        raise JobError(str(exc), field="model") from exc
    except EngineError as exc:
        raise JobError(str(exc), field="operation") from exc
    cents = operation_price(spec, model_spec.engine, model_spec.name, cleaned, default_price)

    mask_path = ""
    if mask is not None:
        mask_path = default_storage.save(
            f"{shop.storage_prefix}masks/{uuid.uuid4().hex}.png",
            ContentFile(encode_mask_png(mask)),
        )
    params = {
        "operation": spec.name,
        "options": cleaned,
        "prompt": prompt,
        "mask_path": mask_path,
        "extra_asset_ids": extra_ids,
    }
    if extra_params:
        params["api"] = extra_params
    try:
        return submit_job(
            shop,
            kind=spec.name,
            params=params,
            cost_cents=cents,
            user=user,
            engine=model_spec.engine,
            model=model_spec.name,
            source=source,
            input_asset=asset,
            memo=spec.label,
            submit_key=submit_key,
        )
    except BaseException:
        if mask_path:
            default_storage.delete(mask_path)
        raise


def operation_availability() -> dict[str, str]:
    """Operation name → "" when an engine can run it, else the reason it cannot."""
    out = {}
    for name, spec in OPERATIONS.items():
        try:
            registry.resolve_operation(spec.capability)
            out[name] = ""
        except EngineError as exc:
            out[name] = str(exc)
    return out


# --- running ----------------------------------------------------------------------------------------------


def _read(asset: Asset) -> bytes:
    with asset.file.open("rb") as fh:
        return fh.read()


def run_operation_job(job: Job, progress: ProgressReporter) -> tuple[list[Output], dict[str, Any]]:
    spec = OPERATIONS[job.kind]
    p = job.params
    asset = job.input_asset
    if asset is None:
        raise EngineError("The input image was deleted before the job ran.")
    progress(2, "loading the image")
    try:
        image = _read(asset)
        mask = None
        if p.get("mask_path"):
            with default_storage.open(p["mask_path"], "rb") as fh:
                mask = fh.read()
    except OSError as exc:
        raise EngineError(f"The input could not be read from storage ({exc}).") from exc
    # Decoded once, here, for the engine and for the no-op check after it (each decoded it on
    # its own). Bytes the loader refuses go on as they are: the engine says why it cannot use
    # them, or sends them to a provider that can.
    try:
        loaded: LoadedImage | None = load_image(image)
    except ImageRejected:
        loaded = None
    # In the order they were given (a try-on's upper garment before its lower one).
    extra_ids = [str(i) for i in p.get("extra_asset_ids") or []]
    found = {str(a.id): a for a in Asset.objects.filter(shop=job.shop, id__in=extra_ids)}
    extra = [_read(found[i]) for i in extra_ids if i in found]
    model_spec, engine = registry.resolve_operation(spec.capability, job.model)
    request = OperationRequest(
        capability=spec.capability,
        operation=spec.name,
        image=image,
        mask=mask,
        prompt=p.get("prompt", ""),
        params=dict(p.get("options") or {}),
        model=job.model,
        provider_model=model_spec.provider_model,
        extra_images=extra,
        loaded=loaded,
    )

    def scaled(percent: int, stage: str) -> None:
        progress(3 + int(percent * 0.9), stage)

    images = engine.run_operation(request, scaled)
    outputs: list[Output] = []
    result: dict[str, Any] = {"operation": spec.name}
    # A derived image keeps what its source was, so the library can caption it and find it by
    # the source's words (a cut-out of "a teal cat" is still a teal cat).
    lineage = {
        "operation_label": spec.label,
        "source_prompt": asset.prompt
        or asset.parameters.get("source_prompt", "")
        or asset.parameters.get("filename", ""),
    }
    for img in images:
        meta = dict(img.metadata)
        poster = meta.pop("_poster", None)
        meta = {k: v for k, v in meta.items() if not k.startswith("_")}
        result.update(meta)
        if img.content_type == "application/json":
            continue
        outputs.append(
            Output(
                img.data,
                img.content_type,
                img.width,
                img.height,
                img.seed,
                {"operation": spec.name, **lineage, **meta},
                poster=poster,
                decoded=img.decoded,
            )
        )
    if spec.output != "none" and not outputs:
        raise EngineError(f"{engine.name} returned no output for {spec.name}.")
    _refuse_no_op(spec.name, loaded.image if loaded is not None else image, mask, outputs)
    return outputs, result


def _refuse_no_op(
    name: str, image: bytes | Image.Image, mask: bytes | None, outputs: list[Output]
) -> None:
    """An operation whose output is the input, give or take a few pixels, fails (and so is
    refunded in full): nobody pays for nothing. `image` is the input, decoded or not; each
    output is compared as the engine made it when it says so (Output.decoded)."""
    mask_pixels = None
    if mask:
        try:
            mask_pixels = int(mask_from_image(load_image(mask).image).sum())
        except (ImageRejected, OperationInputError):
            mask_pixels = None
    for out in outputs:
        changed = changed_pixels(image, out.decoded if out.decoded is not None else out.data)
        if changed is None:
            continue
        pixels = (out.width or 0) * (out.height or 0)
        if changed < no_op_threshold(pixels, mask_pixels):
            raise EngineError(
                f"{name} changed nothing visible ({changed} pixels), so no image was made and "
                "the charge was refunded."
            )


for _name in OPERATIONS:
    runner(_name)(run_operation_job)


def mask_png_from_data_url(value: str) -> bytes | None:
    """The mask painter posts `data:image/png;base64,...`; returns the bytes, or None if blank."""
    if not value:
        return None
    head, _, payload = value.partition(",")
    if not head.startswith("data:image/") or ";base64" not in head:
        raise JobError("The painted mask was not sent as a PNG data URL.", field="mask")
    try:
        return base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise JobError("The painted mask is not valid base64.", field="mask") from None
