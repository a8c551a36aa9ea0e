"""Seed 001: the /v1/images/* routes (and their legacy paths), OpenAI-compatible in shape.

Each route translates the seed's form fields into one image operation
(`generations.operations.submit_operation`) or one text-to-image generation
(`common.submit_api_generation`), waits for its job like the other sync routes, and answers in
the seed's shapes; edit-flux and try-on answer a task at once (`generations/api/v1_tasks.py`).
The model behind each route is a setting (`V1_IMAGES_MODELS`, defaults in `DEFAULT_MODELS`);
the answer names the model that ran. Errors are OpenAI's error object, since the seed calls
itself OpenAI-compatible and leaves its ErrorResponse undefined.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import dataclasses
import time
import uuid
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.http import HttpRequest
from django.utils.datastructures import MultiValueDict
from pydantic import BeforeValidator, Field, field_validator

from generations import operations
from generations.actions import GenerationSpec, JobError
from generations.api import common
from generations.api.common import (
    asset_for_url,
    family_price,
    job_outputs,
    submit_api_generation,
    sync_timeout,
)
from generations.api.edge import (
    ApiError,
    Family,
    Files,
    In,
    Operation,
    Out,
    Returns,
    omitted,
    operation,
    route,
)
from generations.api.idempotency import submit_bound
from generations.engines import registry
from generations.engines.base import EngineError, UnknownModel
from generations.engines.registry import ModelSpec
from generations.imageops.catalog import OPERATIONS
from generations.library import AssetInUse, delete_assets, upload_asset
from generations.loader import ImageRejected, load_image
from generations.models import Asset, Job
from generations.storage_urls import FileUrls, named_asset
from studio.actions import InsufficientCredits

# --- the family: OpenAI's error object -----------------------------------------------------------

ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    405: "invalid_request_error",
    409: "conflict_error",
    413: "invalid_request_error",
    429: "rate_limit_error",
    500: "api_error",
    502: "api_error",
    503: "api_error",
    504: "timeout_error",
}


class ErrorDetail(Out):
    message: str = Field(description="What went wrong, for people.")
    type: str = Field(description="OpenAI's error type, e.g. invalid_request_error.")
    code: str | None = Field(description="A stable machine-readable code.")
    param: str | None = Field(description="The request field at fault, if one is.")
    task_id: str | None = omitted("The task that keeps running: poll GET /v1/tasks/{task_id}.")
    setting: str | None = omitted("The setting that chooses this route's model.")
    required: int | None = omitted("Credits the request needs (insufficient credits).")
    available: int | None = omitted("Credits the shop has (insufficient credits).")


class ErrorResponse(Out):
    """{"error": {"message", "type", "code", "param"}}, as OpenAI answers errors."""

    error: ErrorDetail


def openai_error(request: HttpRequest, err: ApiError) -> dict[str, Any]:
    code = err.code if err.code and err.code != "error" else None
    detail: dict[str, Any] = {
        "message": err.message,
        "type": "insufficient_quota"
        if code == "insufficient_credits"
        else ERROR_TYPES.get(err.status, "api_error"),
        "code": code,
        "param": (err.details or {}).get("field"),
    }
    detail.update(err.extra)
    return {"error": detail}


SEED_001 = Family(
    "001",
    "Images (/v1/images, /v1/tasks, /v1/health)",
    openai_error,
    ErrorResponse,
    "api:v1-images",
)

EDIT_SCOPES = ("ai:edit",)
BG_SCOPES = ("ai:bg-remove", "ai:edit")
GENERATE_SCOPES = ("ai:generate",)

# --- the model behind each route, and its price ----------------------------------------------------

# Route key → public model name ("" = the first configured model with the capability).
# V1_IMAGES_MODELS (settings) overrides any of them.
DEFAULT_MODELS: dict[str, str] = {
    "detect-objects": "builtin:detect",
    "detect-text": "builtin:detect",
    "detect-wires": "builtin:detect",
    "remove-objects:normal": "builtin:erase",
    "remove-objects:super": "builtin:erase",
    "remove-objects:ultra": "builtin:erase",
    "remove-text": "builtin:erase",
    "remove-watermark": "builtin:erase",
    "remove-wires": "builtin:erase",
    "remove-background": "builtin:remove-bg",
    "enhance": "builtin:upscale",
    "enhance-art": "builtin:enhance",
    "restore": "builtin:enhance",
    "colorize": "builtin:enhance",
    "generate-art": "",
    "generate-art:builtin": "builtin:restyle",
    "generations": "builtin:procedural",
    "generations-qwen": "qwen-image",
    "edits:editing": "qwen-image-edit",
    "edits:headshot": "qwen-image-edit",
    "edits:cartoon": "qwen-image-edit",
    "edits:inpaint": "",
    "edits:light_restore": "builtin:enhance",
    "edits:restore": "builtin:enhance",
    "edits:colorize": "builtin:enhance",
    "edits-multi": "gpt-image-1",
    "edit-flux": "flux-kontext",
    "retouch-skin": "builtin:restyle",
    "transfer-makeup": "",
    "hairstyle": "",
    "try-on": "",
    "outpaint": "builtin:outpaint",
    "pose-suggest": "",
}

# The seed's credits (1 credit = 1 US cent of the shop's balance). A PriceRule naming the
# operation or the model that runs takes precedence, as for the other families.
CREDITS: dict[str, int] = {
    "detect-objects": 1,
    "detect-text": 4,
    "detect-wires": 4,
    "remove-objects:normal": 3,
    "remove-objects:super": 4,
    "remove-objects:ultra": 13,
    "remove-text": 4,
    "remove-watermark": 5,
    "remove-wires": 4,
    "remove-background": 1,
    "enhance:2": 6,
    "enhance:4": 11,
    "enhance-art": 2,
    "restore": 1,
    "colorize": 1,
    "generate-art": 6,
    "generations": 9,
    "generations-qwen": 9,
    "edits:editing": 13,
    "edits:restore": 13,
    "edits:colorize": 13,
    "edits:inpaint": 13,
    "edits:headshot": 21,
    "edits:cartoon": 21,
    "edits:light_restore": 21,
    "edits-multi": 26,
    "edit-flux": 18,
    "retouch-skin": 2,
    "transfer-makeup": 1,
    "hairstyle": 6,
    "try-on": 17,
    "outpaint": 15,
    "pose-suggest": 28,
}


def setting_name(key: str) -> str:
    return f'V1_IMAGES_MODELS["{key}"]'


def route_model(key: str) -> str:
    return str(settings.V1_IMAGES_MODELS.get(key, DEFAULT_MODELS[key]))


def _runs(key: str) -> str:
    """How a route key runs by default, for the reference (OpenAPI descriptions, docs)."""
    model = DEFAULT_MODELS[key]
    if model.startswith("builtin:"):
        return f"{model}, offline"
    if model:
        return f"{model}, needs its engine configured"
    return "the first configured model with the capability, none offline"


def _model_note(*keys: str) -> str:
    return (
        "Model (setting → default): "
        + "; ".join(f"{setting_name(k)} → {_runs(k)}" for k in keys)
        + "."
    )


# --- ids ------------------------------------------------------------------------------------------


def session_ref(ident: uuid.UUID) -> str:
    return f"sess_{ident.hex}"


def image_ref(ident: uuid.UUID) -> str:
    return f"img_{ident.hex}"


def task_ref(ident: uuid.UUID) -> str:
    return f"task_{ident.hex}"


def parse_ref(value: str, prefixes: tuple[str, ...]) -> uuid.UUID | None:
    """An id as we hand it out (`sess_<hex>`, `img_<hex>`, `task_<hex>`) or a bare UUID."""
    text = value.strip()
    for prefix in prefixes:
        if text.startswith(prefix):
            text = text[len(prefix) :]
            break
    try:
        return uuid.UUID(text)
    except ValueError:
        return None


# --- request models ---------------------------------------------------------------------------------


def _as_text(value: Any) -> Any:
    """Form values are text; JSON clients may send 2 or 2.0 for the seed's "2" (zoom_factor)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return value


def _as_version(value: Any) -> Any:
    """predict_mode "2.0" / "3.0": 2, 2.0 and "2" mean "2.0"."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return f"{float(value):.1f}"
    if isinstance(value, str) and value.strip() in ("2", "3"):
        return f"{value.strip()}.0"
    return value


Zoom = Annotated[Literal["2", "4"], BeforeValidator(_as_text)]
Url = Field(
    None,
    max_length=4000,
    description="The image as an http(s) URL (or send a file under this name).",
)
ImageId = Field(
    None,
    max_length=100,
    description="The session_id or image_id of an earlier answer: reuses that image of the "
    "shop's library instead of uploading it again.",
)


class ImageIn(In):
    input_image: str | None = Url
    image_id: str | None = ImageId
    session_id: str | None = Field(None, max_length=100, description="Same as image_id.")


class DetectObjectsIn(ImageIn):
    lang: str | None = Field(
        None, max_length=10, description="Language of object names: en (default) or vi."
    )


class ObjectIn(In):
    bbox: list[float] = Field(min_length=4, max_length=4, description="[x1, y1, x2, y2]")
    mask: str | None = Field(
        None, max_length=20_000_000, description="Base64 RGBG mask (bbox size)."
    )


MaskUrl = Field(
    None,
    max_length=20_000_000,
    description="The mask as an http(s) URL, a data: URL or base64 PNG (or send a file under "
    "this name): white marks the region.",
)
EraseMode = Literal["normal", "super", "ultra"]


class RemoveObjectsIn(ImageIn):
    original_session_id: str | None = Field(
        None, max_length=100, description="session_id from detect-objects: the image to erase from."
    )
    input_mask: str | None = MaskUrl
    mask_objects: list[ObjectIn] | None = Field(
        None, max_length=100, description="Detected objects to erase (from detect-objects)."
    )
    erase_mode: EraseMode = "normal"


class RemoveTextIn(ImageIn):
    input_mask: str | None = MaskUrl
    erase_mode: EraseMode = "normal"


class RemoveWatermarkIn(ImageIn):
    input_mask: str | None = MaskUrl
    predict_mode: Annotated[Literal["2.0", "3.0"], BeforeValidator(_as_version)] = "2.0"


class MaskedImageIn(ImageIn):
    input_mask: str | None = MaskUrl


class EnhanceIn(ImageIn):
    zoom_factor: Zoom = "2"
    enhance_faces: bool = True
    face_model_ids: str = Field("0,1,2", max_length=20, description="Comma-separated: 0, 1, 2.")

    @field_validator("face_model_ids")
    @classmethod
    def _face_ids(cls, value: str) -> str:
        ids = [p.strip() for p in value.split(",") if p.strip()]
        if not ids or any(p not in ("0", "1", "2") for p in ids):
            raise ValueError("use a comma-separated list of 0, 1 and 2")
        return ",".join(ids)


class EnhanceArtIn(ImageIn):
    zoom_factor: Zoom = "2"


OFFLINE_STYLES: dict[str, tuple[str, dict[str, Any]]] = {
    # Our own style ids, served offline by builtin:restyle (not the seed's style catalogue).
    "builtin_cartoon": ("cartoon", {}),
    "builtin_sticker": ("cartoon", {"sticker": True}),
    "builtin_sketch": ("sketch", {}),
    "builtin_color_sketch": ("sketch", {"colour": True}),
    "builtin_watercolor": ("stylize", {}),
}


class GenerateArtIn(ImageIn):
    style: str = Field(
        "special_effect_fire",
        max_length=64,
        pattern=r"^[A-Za-z0-9_\-]+$",
        description="Style id. The seed's styles need an image-to-image model; "
        + ", ".join(OFFLINE_STYLES)
        + " run offline.",
    )


SeedAspect = Literal["1:1", "3:2", "2:3", "4:3", "3:4", "16:9", "9:16"]


class GenerationsIn(In):
    prompt: str = Field("", max_length=4000, description="What to draw.")
    aspect_ratio: SeedAspect = Field(
        "1:1", description="height:width, as the seed documents it (3:4 is 4 wide, 3 tall)."
    )
    model: str | None = Field(
        None,
        max_length=200,
        description="OpenAI: a model this server serves (default: the route's).",
    )
    n: int = Field(1, ge=1, le=4, description="OpenAI: how many images.")
    size: str | None = Field(
        None, max_length=20, description="OpenAI: WIDTHxHEIGHT (overrides aspect_ratio) or auto."
    )
    response_format: Literal["url", "b64_json"] = Field("url", description="OpenAI.")


EditMode = Literal[
    "editing", "headshot", "cartoon", "light_restore", "restore", "colorize", "inpaint"
]


class EditKnobs(In):
    strength: float = Field(1.0, ge=0.0, le=1.0)
    guidance_scale: float = Field(1.0, ge=0.0, le=30.0)
    inference_steps: int = Field(4, ge=1, le=100)


class EditsIn(ImageIn, EditKnobs):
    prompt: str = Field("", max_length=4000)
    mode: EditMode = "editing"
    input_mask: str | None = MaskUrl
    model: str | None = Field(None, max_length=200, description="OpenAI: the model to edit with.")
    n: int = Field(1, ge=1, le=1, description="OpenAI: one image per edit.")
    size: str | None = Field(None, max_length=20, description="OpenAI: accepted, not used.")
    response_format: Literal["url", "b64_json"] = "url"


class EditsMultiIn(EditKnobs):
    input_image_0: str | None = Url
    input_image_1: str | None = Url
    input_image_2: str | None = Url
    prompt: str = Field("", max_length=4000)
    mode: Literal["editing"] = "editing"


class EditFluxIn(ImageIn):
    prompt: str = Field("", max_length=4000, description="Required: the edit to make.")
    mode: Literal["editing"] = "editing"
    strength: float = Field(1.0, ge=0.0, le=1.0)
    guidance_scale: float = Field(3.5, ge=0.0, le=30.0)
    inference_steps: int = Field(8, ge=1, le=100)
    run_fast: bool = False


class StyleIn(ImageIn):
    style: str | None = Field(None, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")


class MakeupIn(ImageIn):
    style: str = Field("camdao", max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")


class TryOnIn(In):
    model_image: str | None = Url
    model_image_id: str | None = ImageId
    cloth_image: str | None = Url
    cloth_image_id: str | None = ImageId
    lower_cloth_image: str | None = Url
    lower_cloth_image_id: str | None = ImageId
    cloth_type: Literal["upper", "lower", "full"] | None = None


class PoseIn(ImageIn):
    num_models: int = Field(1, ge=1, le=4)
    gender: Literal["female", "male"] = "female"


# --- response models ----------------------------------------------------------------------------------


class ImageItem(Out):
    url: str | None = omitted("The result (absent with response_format=b64_json).")
    b64_json: str | None = omitted("The result's bytes (response_format=b64_json).")
    image_id: str = Field(description="This result: pass as image_id to keep working on it.")
    session_id: str = Field(description="The input image: pass as image_id to reuse it.")


class SingleImageResponse(Out):
    created: int = Field(description="Unix time of the answer.")
    data: list[ImageItem]
    session_id: str = Field(description="The input image; pass as image_id to reuse it.")
    image_id: str = Field(description="The (first) result; pass as image_id to keep working on it.")
    output_image_url: str = Field(description="The (first) result's URL, as data[0].url.")
    model: str = Field(description="The model that ran.")
    unrecognized_words: list[str] | None = omitted(
        "Generations: prompt words the engine had no subject for (drawn without them)."
    )


class RemoveBackgroundResponse(Out):
    output_image_url: str = Field(description="RGBA PNG with a transparent background.")
    box: list[int] | None = Field(description="[x1, y1, x2, y2] of the foreground, or null.")
    session_id: str
    image_id: str
    model: str


class DetectedObject(Out):
    bbox: list[int] = Field(description="[x1, y1, x2, y2]")
    mask: str = Field(description="Base64 RGBG mask PNG, the size of bbox.")
    accuracy: float
    object_type: str
    object_description: str


class DetectionResponse(Out):
    session_id: str = Field(description="The image; pass as original_session_id to erase.")
    detected_objects: list[DetectedObject]
    model: str


class SimpleDetectionResponse(Out):
    detected: bool
    mask: str | None = Field(description="Base64 RGBG mask PNG (image size), null if none.")
    session_id: str
    model: str


class TaskCreatedResponse(Out):
    task_id: str = Field(description="Poll GET /v1/tasks/{task_id}.")
    status: Literal["CREATED"]
    created_at: int
    model: str


# --- examples (the seed's, plus the fields we add) ------------------------------------------------------

IMG_EXAMPLE = {
    "created": 1745827200,
    "data": [
        {
            "url": "https://shop.storage.example.com/media/shops/shop/assets/…/result.png",
            "image_id": "img_abc123",
            "session_id": "sess_abc123",
        }
    ],
    "session_id": "sess_abc123",
    "image_id": "img_abc123",
    "output_image_url": "https://shop.storage.example.com/media/shops/shop/assets/…/result.png",
    "model": "builtin:erase",
}
TASK_EXAMPLE = {
    "task_id": "task_abc123",
    "status": "CREATED",
    "created_at": 1745827200,
    "model": "flux-kontext",
}
ERROR_EXAMPLE_400 = {
    "error": {
        "message": "Missing required image input: send input_image (a file or an image URL) "
        "or image_id.",
        "type": "invalid_request_error",
        "code": "missing_image",
        "param": "input_image",
    }
}
ERROR_EXAMPLE_429 = {
    "error": {
        "message": "Insufficient credits: this request costs 6 credits and the shop has 2.",
        "type": "insufficient_quota",
        "code": "insufficient_credits",
        "param": None,
        "required": 6,
        "available": 2,
    }
}

ERRORS: dict[int, Returns] = {
    400: Returns(
        ErrorResponse,
        "Missing required image input, an invalid field, or no engine for the route's model "
        "(code model_not_configured, naming the setting)",
        ERROR_EXAMPLE_400,
    ),
    429: Returns(
        ErrorResponse,
        "Rate limit exceeded (60 requests/minute per key; Retry-After) or insufficient credits "
        "(type insufficient_quota; x-should-retry: false)",
        ERROR_EXAMPLE_429,
        headers={
            "Retry-After": "Seconds to wait (rate limit)",
            "x-should-retry": "false for insufficient credits (tells OpenAI SDKs not to retry)",
        },
    ),
    502: Returns(ErrorResponse, "The operation failed; it was refunded (task_id names it)"),
    504: Returns(ErrorResponse, "Still running after the sync wait: poll GET /v1/tasks/{task_id}"),
}
TASK_ERRORS = {400: ERRORS[400], 429: ERRORS[429]}

# --- inputs: files, URLs, ids -------------------------------------------------------------------------------


@dataclass
class ImageSource:
    """Where a request's image comes from: a file, a URL, or the id of an earlier image."""

    field: str
    file: UploadedFile | None = None
    url: str = ""
    ids: tuple[tuple[str, str | None], ...] = ()

    def given(self) -> bool:
        return self.file is not None or bool(self.url.strip()) or any(v for _, v in self.ids)

    def names(self) -> str:
        alternatives = [name for name, _ in self.ids]
        text = f"{self.field} (a file or an image URL)"
        return " or ".join([text, *alternatives]) if alternatives else text


def image_source(
    files: MultiValueDict | None,
    field_name: str,
    url: str | None,
    *ids: tuple[str, str | None],
    file_names: tuple[str, ...] = (),
) -> ImageSource:
    upload = None
    for name in (field_name, *file_names):
        if files and files.get(name) is not None:
            upload = files.get(name)
            break
    return ImageSource(field_name, upload, (url or "").strip(), tuple(ids))


@dataclass
class MaskSource:
    field: str
    file: UploadedFile | None = None
    text: str = ""  # an http(s) URL, a data: URL, or base64 PNG
    transparent_marks: bool = False  # OpenAI's `mask`: transparent pixels mark the area

    def given(self) -> bool:
        return self.file is not None or bool(self.text.strip())


def mask_source(
    files: MultiValueDict | None, text: str | None, *, openai_mask: bool = False
) -> MaskSource | None:
    if files and files.get("input_mask") is not None:
        return MaskSource("input_mask", files.get("input_mask"))
    if openai_mask and files and files.get("mask") is not None:  # images.edit(mask=...)
        return MaskSource("mask", files.get("mask"), transparent_marks=True)
    if text and text.strip():
        return MaskSource("input_mask", text=text.strip())
    return None


def _read_upload(upload: UploadedFile, field_name: str) -> bytes:
    if upload.size is not None and upload.size > settings.IMAGE_MAX_BYTES:
        raise ApiError(
            413,
            f"{field_name} is larger than {settings.IMAGE_MAX_BYTES:,} bytes.",
            code="payload_too_large",
            details={"field": field_name},
        )
    return upload.read()


def missing_image(src: ImageSource) -> ApiError:
    return ApiError(
        400,
        f"Missing required image input: send {src.names()}.",
        code="missing_image",
        details={"field": src.field},
    )


class Inputs:
    """The shop's assets a request names or brings. Images it uploads are deleted again when the
    request fails, so a refused request leaves nothing behind."""

    def __init__(self, request: HttpRequest) -> None:
        self.request = request
        self.shop = request.shop  # type: ignore[attr-defined]
        self.created: list[Asset] = []

    def image(self, src: ImageSource) -> Asset:
        if src.file is not None:
            data = _read_upload(src.file, src.field)
            try:
                asset = upload_asset(self.shop, data, user=None, filename=src.file.name or "")
            except ImageRejected as exc:
                raise ApiError(400, f"{src.field}: {exc}", details={"field": src.field}) from None
            self.created.append(asset)
            return asset
        if src.url:
            own = named_asset(self.shop, src.url, self.request)
            if own is not None:
                return own
            asset = asset_for_url(self.shop, src.url, self.request, field_name=src.field)
            self.created.append(asset)
            return asset
        for name, value in src.ids:
            if not value:
                continue
            ident = parse_ref(value, ("sess_", "img_"))
            asset = Asset.objects.filter(shop=self.shop, id=ident).first() if ident else None
            if asset is None:
                raise ApiError(
                    400,
                    f"{name} does not name an image of this shop.",
                    code="image_not_found",
                    details={"field": name},
                )
            return asset
        raise missing_image(src)

    def mask(self, src: MaskSource | None) -> bytes | None:
        if src is None:
            return None
        data = _read_upload(src.file, src.field) if src.file is not None else self._mask_text(src)
        if src.transparent_marks:
            data = _transparent_to_white(data, src.field)
        return data

    def _mask_text(self, src: MaskSource) -> bytes:
        text = src.text
        if text.startswith(("http://", "https://")):
            own = named_asset(self.shop, text, self.request)
            if own is not None:
                with own.file.open("rb") as fh:
                    return fh.read()
            from studio.fetch import FetchError, fetch

            try:
                result = fetch(text, max_bytes=settings.IMAGE_MAX_BYTES, timeout=15)
            except FetchError as exc:
                raise ApiError(400, f"{src.field}: {exc}", details={"field": src.field}) from None
            if result.status != 200:
                raise ApiError(
                    400,
                    f"{src.field}: the URL answered HTTP {result.status}.",
                    details={"field": src.field},
                )
            return result.content
        payload = text.split(",", 1)[1] if text.startswith("data:") else text
        try:
            return base64.b64decode(payload, validate=True)
        except (binascii.Error, ValueError):
            raise ApiError(
                400,
                f"{src.field} must be a file, an http(s) URL, a data: URL or base64 PNG.",
                details={"field": src.field},
            ) from None

    def discard(self) -> None:
        if self.created:
            # A listing that already uses an upload makes it the shop's to keep.
            with contextlib.suppress(AssetInUse):
                delete_assets(self.created)
            self.created = []


def _transparent_to_white(data: bytes, field_name: str) -> bytes:
    """OpenAI's mask convention (fully transparent = the area to edit) as ours (white = the area).
    A mask without transparency is taken as ours already."""
    import numpy as np

    from generations.imageops.common import alpha_of, encode_mask_png

    try:
        loaded = load_image(data, formats=frozenset({"PNG", "WEBP", "GIF"}))
    except ImageRejected as exc:
        raise ApiError(400, f"{field_name}: {exc}", details={"field": field_name}) from None
    alpha = alpha_of(loaded.image)
    if alpha is None or bool((alpha >= 128).all()):
        return data
    return encode_mask_png(np.asarray(alpha) < 128)


# --- submitting ----------------------------------------------------------------------------------------------

# Names submit_operation gives fields, as the seed names them.
FIELD_NAMES = {"mask": "input_mask", "objects": "mask_objects", "model": "model"}


@dataclass
class Plan:
    """One operation a route asks for."""

    key: str  # the route key: model setting and price
    label: str  # e.g. "POST /v1/images/remove-objects", for messages
    operation: str  # generations.imageops.catalog name
    image: ImageSource
    options: dict[str, Any] = field(default_factory=dict)
    prompt: str = ""
    mask: MaskSource | None = None
    objects: list[dict[str, Any]] | None = None
    model: str = ""  # a model the request names itself (OpenAI's `model`)
    price_key: str = ""  # CREDITS key when it differs from `key`
    extra_images: list[ImageSource] = field(default_factory=list)
    # The option that takes the first extra image's asset id (the catalog's try-on garment).
    garment_option: str = ""
    record: dict[str, Any] = field(default_factory=dict)  # the seed's parameters, kept on the job


def insufficient(required: int, available: int) -> ApiError:
    return ApiError(
        429,
        f"Insufficient credits: this request costs {required} credits and the shop has "
        f"{available}.",
        code="insufficient_credits",
        extra={"required": required, "available": available},
        headers={"x-should-retry": "false"},
    )


def resolve_model(plan: Plan) -> ModelSpec:
    """The model that will run, or the family's 400 naming the setting that would enable it."""
    capability = OPERATIONS[plan.operation].capability
    requested = bool(plan.model)
    model = plan.model or route_model(plan.key)
    setting = setting_name(plan.key)
    try:
        spec, _engine = registry.resolve_operation(capability, model)
    except UnknownModel as exc:
        if requested:
            raise ApiError(
                400, str(exc), code="model_not_found", details={"field": "model"}
            ) from None
        raise ApiError(
            400,
            f"{plan.label}: {setting} names {model!r}, which this server does not know. {exc}",
            code="model_not_configured",
            extra={"setting": setting},
        ) from None
    except EngineError as exc:
        chosen = f"{model!r}" if model else "the first configured model"
        raise ApiError(
            400,
            f"{plan.label} needs a model with the {capability.value} capability and none can "
            f"run here: {exc} "
            f"The route's model is {chosen}, chosen by {setting}.",
            code="model_not_configured",
            details={"field": "model"} if requested else None,
            extra={"setting": setting},
        ) from None
    return spec


def submit(request: HttpRequest, plan: Plan) -> Job:
    """Check everything that can be checked before anything is stored or charged, then store
    the inputs and submit the operation's job (bound to the request's Idempotency-Key)."""
    spec = OPERATIONS[plan.operation]
    if not plan.image.given():
        raise missing_image(plan.image)
    if spec.prompt == "required" and not plan.prompt.strip():
        raise ApiError(400, f"prompt is required for {plan.label}.", details={"field": "prompt"})
    if spec.mask == "required" and not (plan.mask and plan.mask.given()) and not plan.objects:
        raise ApiError(
            400,
            f"{plan.label} needs the region: send input_mask (white = the region)"
            + (" or mask_objects." if plan.operation == "erase" else "."),
            code="missing_mask",
            details={"field": "input_mask"},
        )
    model_spec = resolve_model(plan)
    model = model_spec.name
    shop = request.shop  # type: ignore[attr-defined]
    price = CREDITS[plan.price_key or plan.key]
    try:
        cleaned = operations.clean_options(spec, plan.options)
    except JobError as exc:
        raise ApiError(400, str(exc), details={"field": exc.field or None}) from None
    cents = operations.operation_price(spec, model_spec.engine, model, cleaned, price)
    shop.refresh_from_db()
    if shop.balance_cents < cents:  # don't store inputs for work that cannot be paid
        raise insufficient(cents, shop.balance_cents)
    inputs = Inputs(request)
    try:
        asset = inputs.image(plan.image)
        extras = [inputs.image(src) for src in plan.extra_images]
        mask = inputs.mask(plan.mask)
        options = dict(plan.options)
        if plan.garment_option and extras:
            options[plan.garment_option] = str(extras[0].id)
            extras = extras[1:]
        return submit_bound(
            request,
            lambda: operations.submit_operation(
                shop,
                asset,
                plan.operation,
                options,
                user=None,
                source=SEED_001.source,
                mask_bytes=mask,
                prompt=plan.prompt,
                model=model,
                objects=plan.objects,
                default_price=price,
                extra_assets=extras,
                extra_params={"family": "v1-images", "route": plan.key, **plan.record},
            ),
        )
    except InsufficientCredits as exc:
        inputs.discard()
        raise insufficient(exc.required_cents, exc.available_cents) from None
    except JobError as exc:
        inputs.discard()
        name = FIELD_NAMES.get(exc.field, plan.image.field if exc.field == "asset" else exc.field)
        raise ApiError(400, str(exc), details={"field": name} if name else None) from None
    except BaseException:
        inputs.discard()
        raise


def finished(job: Job) -> Job:
    job = common.wait_for_job(job.id, sync_timeout())
    ref = task_ref(job.id)
    if not job.is_finished:
        raise ApiError(
            504,
            f"Still running after {sync_timeout():g}s: poll GET /v1/tasks/{ref}.",
            code="timeout",
            extra={"task_id": ref},
        )
    if job.status != Job.Status.COMPLETED:
        raise ApiError(
            502,
            (job.error or "The operation failed.") + " It was refunded.",
            code="operation_failed",
            extra={"task_id": ref},
        )
    return job


# --- answers ----------------------------------------------------------------------------------------------------


def image_response(
    request: HttpRequest, job: Job, response_format: str = "url"
) -> SingleImageResponse:
    job = finished(job)
    outputs = job_outputs(job)
    if not outputs:
        raise ApiError(502, "The operation produced no image.", extra={"task_id": task_ref(job.id)})
    urls = FileUrls(request.shop, request)  # type: ignore[attr-defined]
    session = job.input_asset_id or outputs[0].id
    items = []
    for out in outputs:
        item = ImageItem(image_id=image_ref(out.id), session_id=session_ref(session))
        if response_format == "b64_json":
            with out.file.open("rb") as fh:
                item.b64_json = base64.b64encode(fh.read()).decode()
        else:
            item.url = urls(out.file.name)
        items.append(item)
    return SingleImageResponse(
        created=int(time.time()),
        data=items,
        session_id=session_ref(session),
        image_id=image_ref(outputs[0].id),
        output_image_url=urls(outputs[0].file.name),
        model=job.model,
        unrecognized_words=(job.result or {}).get("unrecognized_words") or None,
    )


def resume_image(request: HttpRequest, job: Job, *, body: Any = None, **_: Any) -> Any:
    return image_response(request, job, getattr(body, "response_format", "url"))


def resume_task(request: HttpRequest, job: Job, **_: Any) -> TaskCreatedResponse:
    return TaskCreatedResponse(
        task_id=task_ref(job.id),
        status="CREATED",
        created_at=int(job.created_at.timestamp()),
        model=job.model,
    )


def rgbg_mask(b64_png: str) -> str:
    """Our masks (greyscale PNG, white = the region) in the seed's RGBG encoding: the same grey
    in the R, G and B channels of a base64 PNG."""
    import io

    loaded = load_image(base64.b64decode(b64_png), formats=frozenset({"PNG"}))
    buf = io.BytesIO()
    loaded.image.convert("L").convert("RGB").save(buf, "PNG")
    return base64.b64encode(buf.getvalue()).decode()


OBJECT_NAMES = {
    "en": ("object", "salient region"),
    "vi": ("vật thể", "vùng nổi bật"),
}


def _image_plan(
    key: str, operation_name: str, body: ImageIn, files: MultiValueDict | None, **kw: Any
) -> Plan:
    return Plan(
        key=key,
        label=f"POST /v1/images/{key.split(':')[0]}",
        operation=operation_name,
        image=image_source(
            files,
            "input_image",
            body.input_image,
            ("image_id", body.image_id),
            ("session_id", body.session_id),
        ),
        **kw,
    )


# --- Detection --------------------------------------------------------------------------------------------------

DETECT_BODY = ("multipart/form-data", "application/json")
IMAGE_FILES = Files(names=("input_image",), description="The image file.")
MASKED_FILES = Files(names=("input_image", "input_mask"), description="The image / mask file.")


@operation(
    SEED_001,
    "POST",
    summary="Detect objects in image",
    description="Salient regions with their box and mask, sorted by confidence. No classifier "
    "runs offline, so every object_type is “object” (“vật thể” with lang=vi). Seed model "
    "object-detection; credits 1. " + _model_note("detect-objects"),
    scope=EDIT_SCOPES,
    body=DetectObjectsIn,
    body_media=DETECT_BODY,
    body_required=False,
    files=IMAGE_FILES,
    idempotent=True,
    responses={
        200: Returns(
            DetectionResponse,
            "Objects detected successfully",
            {
                "session_id": "sess_abc123",
                "detected_objects": [
                    {
                        "bbox": [120, 50, 300, 400],
                        "mask": "iVBORw0KGgo…",
                        "accuracy": 0.95,
                        "object_type": "object",
                        "object_description": "salient region",
                    }
                ],
                "model": "builtin:detect",
            },
        ),
        **ERRORS,
    },
)
def detect_objects(
    request: HttpRequest, body: DetectObjectsIn, files: MultiValueDict | None
) -> DetectionResponse:
    plan = _image_plan(
        "detect-objects", "detect-objects", body, files, record={"lang": body.lang or "en"}
    )
    return finish_detect_objects(request, submit(request, plan), body=body)


@detect_objects.resumes
def finish_detect_objects(
    request: HttpRequest, job: Job, *, body: Any = None, **_: Any
) -> DetectionResponse:
    job = finished(job)
    lang = (getattr(body, "lang", None) or "en").lower()
    kind, description = OBJECT_NAMES.get(lang, OBJECT_NAMES["en"])
    found = (job.result or {}).get("detected_objects") or []
    objects = sorted(found, key=lambda o: -float(o.get("accuracy", 0)))
    return DetectionResponse(
        session_id=session_ref(job.input_asset_id),
        detected_objects=[
            DetectedObject(
                bbox=[int(v) for v in o["bbox"]],
                mask=rgbg_mask(o["mask"]),
                accuracy=float(o.get("accuracy", 0)),
                object_type=kind,
                object_description=description,
            )
            for o in objects
        ],
        model=job.model,
    )


def _simple_detection(key: str, summary: str, what: str, credits: int) -> Operation:
    @operation(
        SEED_001,
        "POST",
        summary=summary,
        description=f"A mask of {what} to pass as input_mask to the matching erase route. "
        f"Seed model {'remove-text' if key == 'detect-text' else 'remove-wireline'}; "
        f"credits {credits}. " + _model_note(key),
        scope=EDIT_SCOPES,
        body=ImageIn,
        body_media=DETECT_BODY,
        body_required=False,
        files=IMAGE_FILES,
        idempotent=True,
        operation_id=key.replace("-", "_"),
        responses={
            200: Returns(
                SimpleDetectionResponse,
                f"{what.capitalize()} detected successfully",
                {
                    "detected": True,
                    "mask": "iVBORw0KGgo…",
                    "session_id": "sess_abc123",
                    "model": "builtin:detect",
                },
            ),
            **ERRORS,
        },
    )
    def handler(
        request: HttpRequest, body: ImageIn, files: MultiValueDict | None
    ) -> SimpleDetectionResponse:
        return finish(request, submit(request, _image_plan(key, key, body, files)))

    @handler.resumes
    def finish(request: HttpRequest, job: Job, **_: Any) -> SimpleDetectionResponse:
        job = finished(job)
        result = job.result or {}
        mask = result.get("mask")
        return SimpleDetectionResponse(
            detected=bool(result.get("detected")),
            mask=rgbg_mask(mask) if mask else None,
            session_id=session_ref(job.input_asset_id),
            model=job.model,
        )

    return handler


detect_text = _simple_detection("detect-text", "Detect text in image", "text", 4)
detect_wires = _simple_detection(
    "detect-wires", "Detect wires/lines in image", "wires and lines", 4
)


# --- Removal & erase -----------------------------------------------------------------------------------

ERASE_METHODS = {"normal": "auto", "super": "multiscale", "ultra": "multiscale"}


@operation(
    SEED_001,
    "POST",
    summary="Erase objects from image",
    description="Erase what input_mask (white = erase) or mask_objects (from detect-objects, "
    "with original_session_id) selects; the hole is filled from around it. erase_mode normal "
    "picks the fill by hole size, super and ultra always use the multi-scale texture fill. Seed "
    "models remove-object-gan / -sd / -qwen; credits 3 (normal), 4 (super), 13 (ultra). "
    + _model_note("remove-objects:normal", "remove-objects:super", "remove-objects:ultra"),
    scope=EDIT_SCOPES,
    body=RemoveObjectsIn,
    body_media=DETECT_BODY,
    body_required=False,
    files=MASKED_FILES,
    idempotent=True,
    responses={
        200: Returns(SingleImageResponse, "Objects erased successfully", IMG_EXAMPLE),
        **ERRORS,
    },
)
def remove_objects(
    request: HttpRequest, body: RemoveObjectsIn, files: MultiValueDict | None
) -> SingleImageResponse:
    key = f"remove-objects:{body.erase_mode}"
    objects = None
    if body.mask_objects:
        objects = [{"bbox": o.bbox, "mask": o.mask} for o in body.mask_objects]
    plan = Plan(
        key=key,
        label="POST /v1/images/remove-objects",
        operation="erase",
        image=image_source(
            files,
            "input_image",
            body.input_image,
            ("original_session_id", body.original_session_id),
            ("image_id", body.image_id),
            ("session_id", body.session_id),
        ),
        options={"method": ERASE_METHODS[body.erase_mode]},
        mask=mask_source(files, body.input_mask),
        objects=objects,
        record={"erase_mode": body.erase_mode},
    )
    return image_response(request, submit(request, plan))


remove_objects.resumes(resume_image)


def _erase_route(
    key: str, operation_name: str, summary: str, description: str, body_model: type[ImageIn]
) -> Operation:
    @operation(
        SEED_001,
        "POST",
        summary=summary,
        description=description + " " + _model_note(key),
        scope=EDIT_SCOPES,
        body=body_model,
        body_media=DETECT_BODY,
        body_required=False,
        files=MASKED_FILES,
        idempotent=True,
        operation_id=key.replace("-", "_"),
        responses={
            200: Returns(SingleImageResponse, f"{summary.split(' from')[0]} done", IMG_EXAMPLE),
            **ERRORS,
        },
    )
    def handler(request: HttpRequest, body: Any, files: MultiValueDict | None) -> Any:
        record = {
            name: getattr(body, name)
            for name in ("erase_mode", "predict_mode")
            if hasattr(body, name)
        }
        plan = _image_plan(
            key,
            operation_name,
            body,
            files,
            mask=mask_source(files, body.input_mask),
            record=record,
        )
        return image_response(request, submit(request, plan))

    handler.resumes(resume_image)
    return handler


remove_text = _erase_route(
    "remove-text",
    "erase-text",
    "Erase text from image",
    "Erase the text input_mask marks (white), e.g. the mask from detect-text; without a mask "
    "the text is found first. The fill does not depend on erase_mode (accepted, recorded). Seed "
    "model remove-text; credits 4.",
    RemoveTextIn,
)
remove_watermark = _erase_route(
    "remove-watermark",
    "erase-watermark",
    "Erase watermark and logo from image",
    "Erase the watermark input_mask marks; without a mask faint overlaid lettering is found "
    "first. predict_mode (2.0, 3.0) is accepted and recorded; the offline finder has one mode. "
    "Seed model remove-logo; credits 5.",
    RemoveWatermarkIn,
)
remove_wires = _erase_route(
    "remove-wires",
    "erase-wires",
    "Erase wires/lines from image",
    "Erase the wires input_mask marks (e.g. from detect-wires); without a mask long thin lines "
    "are found first. Seed model remove-wireline; credits 4.",
    MaskedImageIn,
)


@operation(
    SEED_001,
    "POST",
    summary="Remove background from image",
    description="A transparent PNG cut-out and the foreground's box. Seed model "
    "remove-background; credits 1. " + _model_note("remove-background"),
    scope=BG_SCOPES,
    body=ImageIn,
    body_media=DETECT_BODY,
    body_required=False,
    files=IMAGE_FILES,
    idempotent=True,
    responses={
        200: Returns(
            RemoveBackgroundResponse,
            "Background removed successfully",
            {
                "output_image_url": "https://shop.storage.example.com/media/…/cutout.png",
                "box": [10, 20, 300, 400],
                "session_id": "sess_abc123",
                "image_id": "img_abc123",
                "model": "builtin:remove-bg",
            },
        ),
        **ERRORS,
    },
)
def remove_background(
    request: HttpRequest, body: ImageIn, files: MultiValueDict | None
) -> RemoveBackgroundResponse:
    plan = _image_plan("remove-background", "remove-background", body, files)
    return finish_remove_background(request, submit(request, plan))


@remove_background.resumes
def finish_remove_background(request: HttpRequest, job: Job, **_: Any) -> RemoveBackgroundResponse:
    job = finished(job)
    outputs = job_outputs(job)
    if not outputs:
        raise ApiError(502, "The operation produced no image.", extra={"task_id": task_ref(job.id)})
    box = (job.result or {}).get("box")
    return RemoveBackgroundResponse(
        output_image_url=FileUrls(request.shop, request)(outputs[0].file.name),  # type: ignore[attr-defined]
        box=[int(v) for v in box] if box else None,
        session_id=session_ref(job.input_asset_id),
        image_id=image_ref(outputs[0].id),
        model=job.model,
    )


# --- Enhance & restore ------------------------------------------------------------------------------------


def _single_route(
    key: str,
    operation_name: str,
    summary: str,
    description: str,
    body_model: type[ImageIn],
    plan_kw: Any = None,
    *,
    scope: tuple[str, ...] = EDIT_SCOPES,
    done: str = "",
) -> Operation:
    """A route that runs one operation on one image and answers SingleImageResponse."""

    @operation(
        SEED_001,
        "POST",
        summary=summary,
        description=description + " " + _model_note(key),
        scope=scope,
        body=body_model,
        body_media=DETECT_BODY,
        body_required=False,
        files=IMAGE_FILES,
        idempotent=True,
        operation_id=key.replace("-", "_"),
        responses={200: Returns(SingleImageResponse, done or "Done", IMG_EXAMPLE), **ERRORS},
    )
    def handler(request: HttpRequest, body: Any, files: MultiValueDict | None) -> Any:
        extra = plan_kw(body) if plan_kw else {}
        plan = _image_plan(key, operation_name, body, files, **extra)
        return image_response(request, submit(request, plan))

    handler.resumes(resume_image)
    return handler


enhance = _single_route(
    "enhance",
    "upscale",
    "Enhance and upscale image (Pro)",
    "2× or 4× enlargement. enhance_faces and face_model_ids are accepted and recorded; the "
    "offline upscaler has no face model (a remote upscaler can be set). Seed model "
    "enhance-upscale-image; credits 6 (2×), 11 (4×).",
    EnhanceIn,
    lambda b: {
        "options": {"zoom_factor": int(b.zoom_factor)},
        "price_key": f"enhance:{b.zoom_factor}",
        "record": {"enhance_faces": b.enhance_faces, "face_model_ids": b.face_model_ids},
    },
    done="Image enhanced successfully",
)
enhance_art = _single_route(
    "enhance-art",
    "enhance-art",
    "Enhance art/cartoon image (Pro)",
    "Cleans and enlarges flat artwork 2× or 4×. Seed model enhance-art-image; credits 2.",
    EnhanceArtIn,
    lambda b: {"options": {"zoom_factor": int(b.zoom_factor)}},
    done="Image enhanced successfully",
)
restore = _single_route(
    "restore",
    "restore",
    "Restore old images (Normal)",
    "Removes scratches and noise. Seed model restore-image; credits 1.",
    ImageIn,
    done="Image restored successfully",
)
colorize = _single_route(
    "colorize",
    "colorize",
    "Colorize old images (Normal)",
    "Offline this is a sepia gradient map of the picture's tones, not a prediction of its true "
    "colours. Seed model colorize-image; credits 1.",
    ImageIn,
    done="Image colorized successfully",
)
retouch_skin = _single_route(
    "retouch-skin",
    "retouch-skin",
    "Skin retouching",
    "Smooths skin (found by colour) and leaves eyes, hair and edges alone. Seed model "
    "skin-natural-retouch; credits 2.",
    ImageIn,
    done="Skin beauty applied successfully",
)
transfer_makeup = _single_route(
    "transfer-makeup",
    "makeup",
    "Makeup transfer",
    "Needs a model with the makeup capability (none runs offline). Seed model makeup-transfer; "
    "credits 1.",
    MakeupIn,
    lambda b: {"options": {"style": b.style}},
    done="Makeup applied successfully",
)
hairstyle = _single_route(
    "hairstyle",
    "hairstyle",
    "Generate hairstyle transformation",
    "Needs a model with the hairstyle capability (none runs offline). Pass the same image_id "
    "to try several styles without uploading again. Seed model "
    "hairstyle-generation-lora-of-sd-1-5; credits 6.",
    StyleIn,
    lambda b: {"options": {"style": b.style or ""}},
    done="Hairstyle generated successfully",
)
pose_suggest = _single_route(
    "pose-suggest",
    "pose",
    "Get pose suggestions",
    "Needs a model with the pose capability (none runs offline). Seed model "
    "pose-suggestion-lora-of-qwen-image-edit-2509; credits 28.",
    PoseIn,
    lambda b: {"options": {"num_models": b.num_models, "gender": b.gender}},
    done="Pose suggestions generated successfully",
)


@operation(
    SEED_001,
    "POST",
    summary="Expand image (outpaint)",
    description="input_image is the original placed on its larger canvas; input_mask (required) "
    "is white where the canvas is new. The new area is filled from the picture. Seed model "
    "expand-image-outpaint; credits 15. " + _model_note("outpaint"),
    scope=EDIT_SCOPES,
    body=MaskedImageIn,
    body_media=DETECT_BODY,
    body_required=False,
    files=MASKED_FILES,
    idempotent=True,
    responses={
        200: Returns(SingleImageResponse, "Image outpainted successfully", IMG_EXAMPLE),
        **ERRORS,
    },
)
def outpaint(
    request: HttpRequest, body: MaskedImageIn, files: MultiValueDict | None
) -> SingleImageResponse:
    mask = mask_source(files, body.input_mask)
    if mask is None:
        raise ApiError(
            400,
            "input_mask is required: a mask the size of input_image, white where the canvas is "
            "new and black over the original.",
            code="missing_mask",
            details={"field": "input_mask"},
        )
    plan = _image_plan("outpaint", "outpaint", body, files, mask=mask)
    return image_response(request, submit(request, plan))


outpaint.resumes(resume_image)


# --- Generation -----------------------------------------------------------------------------------------------


@operation(
    SEED_001,
    "POST",
    summary="Generate AI art from photo",
    description="Transforms the photo in a style. The seed's style ids (default "
    "special_effect_fire) run on an image-to-image model with the style as the prompt; our own "
    f"style ids {', '.join(OFFLINE_STYLES)} run offline on builtin:restyle. Pass image_id to "
    "try several styles on one upload. Seed model fairy-ai-art-gen; credits 6. "
    + _model_note("generate-art", "generate-art:builtin"),
    scope=EDIT_SCOPES,
    body=GenerateArtIn,
    body_media=DETECT_BODY,
    body_required=False,
    files=IMAGE_FILES,
    idempotent=True,
    responses={
        200: Returns(SingleImageResponse, "Art image generated successfully", IMG_EXAMPLE),
        **ERRORS,
    },
)
def generate_art(
    request: HttpRequest, body: GenerateArtIn, files: MultiValueDict | None
) -> SingleImageResponse:
    offline = OFFLINE_STYLES.get(body.style)
    if offline is not None:
        operation_name, options = offline
        plan = _image_plan(
            "generate-art:builtin",
            operation_name,
            body,
            files,
            options=options,
            price_key="generate-art",
            record={"style": body.style},
        )
    else:
        words = body.style.replace("_", " ").replace("-", " ")
        plan = _image_plan(
            "generate-art",
            "edit",
            body,
            files,
            prompt=f"Transform this photo into AI art in the style “{words}”.",
            record={"style": body.style},
        )
    return image_response(request, submit(request, plan))


generate_art.resumes(resume_image)


def _size(body: GenerationsIn) -> tuple[int | None, int | None, str]:
    """(width, height, aspect w:h) from OpenAI's size or the seed's height:width aspect_ratio."""
    if body.size and body.size != "auto":
        w, sep, h = body.size.lower().partition("x")
        if not sep or not w.strip().isdigit() or not h.strip().isdigit():
            raise ApiError(
                400,
                "size must be WIDTHxHEIGHT (e.g. 1024x1024) or auto.",
                details={"field": "size"},
            )
        return int(w), int(h), ""
    height, width = body.aspect_ratio.split(":")
    return None, None, f"{width}:{height}"


SEED_T2I_MODELS = {
    "generations": ("generate-of-z-image",),
    "generations-qwen": ("generate-of-qwen-image",),
}


def _generate(request: HttpRequest, body: GenerationsIn, key: str) -> SingleImageResponse:
    width, height, aspect = _size(body)
    requested = (body.model or "").strip()
    if requested in SEED_T2I_MODELS[key]:
        requested = ""  # the seed's own name for this route's model
    model = requested or route_model(key)
    spec = GenerationSpec(
        prompt=body.prompt,
        width=width,
        height=height,
        aspect_ratio=aspect,
        count=body.n,
        model=model,
        extra={"api": {"family": "v1-images", "route": key, "aspect_ratio": body.aspect_ratio}},
    )

    def price(engine: str, model_name: str, resolution: str, cents: int) -> int:
        return family_price(
            engine=engine,
            model=model_name,
            resolution=resolution,
            table=CREDITS[key],
            fallback=cents,
        )

    try:
        job = submit_api_generation(request, spec, family=SEED_001, price=price)
    except InsufficientCredits as exc:
        raise insufficient(exc.required_cents, exc.available_cents) from None
    except ApiError as exc:
        if (exc.details or {}).get("field") == "model" and not requested:
            setting = setting_name(key)
            raise ApiError(
                400,
                f"POST /v1/images/{key} has no model that can run: {exc.message} The route's "
                f"model is {model!r}, chosen by {setting}.",
                code="model_not_configured",
                extra={"setting": setting},
            ) from None
        raise
    return image_response(request, job, body.response_format)


GENERATION_DOC = (
    "Form fields (the seed) or JSON (OpenAI's images.generate: model, prompt, n, size, "
    "response_format). aspect_ratio is height:width as the seed documents it; size (WIDTHxHEIGHT) "
    "overrides it. A model the request names is used if this server serves it (else a 400 listing "
    "those it can); the seed's own model name means the route's model."
)


@operation(
    SEED_001,
    "POST",
    summary="AI image generation (Z-Image)",
    description=GENERATION_DOC
    + " Seed model generate-of-z-image; credits 9 per image. "
    + _model_note("generations"),
    scope=GENERATE_SCOPES,
    body=GenerationsIn,
    body_media=("multipart/form-data", "application/json"),
    body_required=False,
    body_example={
        "prompt": "A professional headshot of a woman in a studio",
        "aspect_ratio": "3:4",
    },
    idempotent=True,
    responses={
        200: Returns(
            SingleImageResponse,
            "Image generated successfully",
            {**IMG_EXAMPLE, "model": "builtin:procedural"},
        ),
        **ERRORS,
    },
)
def generations(request: HttpRequest, body: GenerationsIn) -> SingleImageResponse:
    return _generate(request, body, "generations")


generations.resumes(resume_image)


@operation(
    SEED_001,
    "POST",
    summary="AI image generation (Qwen-Image)",
    description=GENERATION_DOC
    + " Seed model generate-of-qwen-image; credits 9 per image. "
    + _model_note("generations-qwen"),
    scope=GENERATE_SCOPES,
    body=GenerationsIn,
    body_media=("multipart/form-data", "application/json"),
    body_required=False,
    body_example={"prompt": "A lighthouse at dusk, oil painting", "aspect_ratio": "1:1"},
    idempotent=True,
    responses={
        200: Returns(SingleImageResponse, "Image generated successfully", IMG_EXAMPLE),
        **ERRORS,
    },
)
def generations_qwen(request: HttpRequest, body: GenerationsIn) -> SingleImageResponse:
    return _generate(request, body, "generations-qwen")


generations_qwen.resumes(resume_image)


# --- Editing -----------------------------------------------------------------------------------------------------

EDIT_OPERATIONS = {
    "editing": "edit",
    "headshot": "edit",
    "cartoon": "edit",
    "inpaint": "inpaint",
    "light_restore": "light-restore",
    "restore": "restore",
    "colorize": "colorize",
}
# The seed's names for the edit models: they mean "the route's model" (V1_IMAGES_MODELS).
SEED_EDIT_MODELS = frozenset(
    f"{name}-of-qwen-image-edit"
    for name in (
        "general-edit",
        "headshot-generation",
        "cartoon-sticker-generation",
        "light-restoration",
        "restore",
        "colorize",
        "inpaint",
    )
)
EDIT_FILES = Files(
    names=("input_image", "image", "image[]", "input_mask", "mask"),
    description="The image (input_image, or OpenAI's image / image[]) or the mask (input_mask: "
    "white = the region; OpenAI's mask: transparent = the region).",
)


@operation(
    SEED_001,
    "POST",
    summary="Edit image with AI prompt",
    description="Modes editing, headshot (add [FACE CROP] to the prompt) and cartoon are prompt "
    "edits; inpaint edits the region input_mask marks; light_restore, restore and colorize run "
    "offline and take no prompt. OpenAI's images.edit works too: multipart image (or image[]), "
    "mask (transparent = the area to edit, which makes it an inpaint), prompt, model, n=1. "
    "Seed models *-of-qwen-image-edit; credits 13 (editing, restore, colorize, inpaint), 21 "
    "(headshot, cartoon, light_restore). " + _model_note(*(f"edits:{m}" for m in EDIT_OPERATIONS)),
    scope=EDIT_SCOPES,
    body=EditsIn,
    body_media=DETECT_BODY,
    body_required=False,
    files=EDIT_FILES,
    idempotent=True,
    responses={
        200: Returns(SingleImageResponse, "Image edited successfully", IMG_EXAMPLE),
        **ERRORS,
    },
)
def edits(request: HttpRequest, body: EditsIn, files: MultiValueDict | None) -> SingleImageResponse:
    mask = mask_source(files, body.input_mask, openai_mask=True)
    requested = (body.model or "").strip()
    mode = body.mode
    if mask is not None and mode == "editing":
        mode = "inpaint"  # a region to edit was given (OpenAI's images.edit with a mask)
    operation_name = EDIT_OPERATIONS[mode]
    extra_files = files.getlist("image[]") if files else []
    main = image_source(
        files,
        "input_image",
        body.input_image,
        ("image_id", body.image_id),
        ("session_id", body.session_id),
        file_names=("image",),
    )
    if main.file is None and main.url == "" and extra_files and not any(v for _, v in main.ids):
        main.file, extra_files = extra_files[0], extra_files[1:]
    options: dict[str, Any] = {}
    if operation_name in ("edit", "light-restore"):
        options["strength"] = body.strength
    plan = Plan(
        key=f"edits:{mode}",
        label=f"POST /v1/images/edits (mode {mode})",
        operation=operation_name,
        image=main,
        options=options,
        prompt=body.prompt,
        mask=mask if operation_name == "inpaint" else None,
        model="" if requested in SEED_EDIT_MODELS else requested,
        extra_images=[ImageSource("image[]", f) for f in extra_files],
        record={
            "mode": body.mode,
            "guidance_scale": body.guidance_scale,
            "inference_steps": body.inference_steps,
        },
    )
    if mask is not None and operation_name != "inpaint":
        raise ApiError(
            400,
            f"mode {mode} takes no mask; use mode inpaint to edit a region.",
            details={"field": mask.field},
        )
    return image_response(request, submit(request, plan), body.response_format)


edits.resumes(resume_image)


@operation(
    SEED_001,
    "POST",
    summary="Edit based on multiple input images with AI prompt",
    description="input_image_0 (required), input_image_1 and input_image_2 (files or URLs) and a "
    "prompt (e.g. “Put the man and the dog in a stadium”). Seed model "
    "general-edit-multi-of-qwen-image-edit; credits 26. The default model sends every image "
    "(OpenAI image[]). " + _model_note("edits-multi"),
    scope=EDIT_SCOPES,
    body=EditsMultiIn,
    body_media=DETECT_BODY,
    body_required=False,
    files=Files(names=("input_image_0", "input_image_1", "input_image_2"), description="An image."),
    idempotent=True,
    responses={
        200: Returns(SingleImageResponse, "Image edited successfully", IMG_EXAMPLE),
        **ERRORS,
    },
)
def edits_multi(
    request: HttpRequest, body: EditsMultiIn, files: MultiValueDict | None
) -> SingleImageResponse:
    sources = [
        image_source(files, f"input_image_{i}", getattr(body, f"input_image_{i}")) for i in range(3)
    ]
    plan = Plan(
        key="edits-multi",
        label="POST /v1/images/edits/multi",
        operation="edit",
        image=sources[0],
        options={"strength": body.strength},
        prompt=body.prompt,
        extra_images=[s for s in sources[1:] if s.given()],
        record={
            "mode": body.mode,
            "guidance_scale": body.guidance_scale,
            "inference_steps": body.inference_steps,
        },
    )
    return image_response(request, submit(request, plan))


edits_multi.resumes(resume_image)


@operation(
    SEED_001,
    "POST",
    summary="Create image editing task (FLUX Kontext)",
    description="Answers a task at once; poll GET /v1/tasks/{task_id}. prompt is required. "
    "guidance_scale, inference_steps and run_fast are validated and recorded on the task. Seed "
    "model general-image-editing-of-flux-kontext; credits 18. " + _model_note("edit-flux"),
    scope=EDIT_SCOPES,
    body=EditFluxIn,
    body_media=DETECT_BODY,
    body_required=False,
    files=IMAGE_FILES,
    idempotent=True,
    responses={
        200: Returns(TaskCreatedResponse, "Image editing task created", TASK_EXAMPLE),
        **TASK_ERRORS,
    },
)
def edit_flux(
    request: HttpRequest, body: EditFluxIn, files: MultiValueDict | None
) -> TaskCreatedResponse:
    if not body.prompt.strip():
        raise ApiError(400, "prompt is required.", details={"field": "prompt"})
    plan = _image_plan(
        "edit-flux",
        "edit",
        body,
        files,
        options={"strength": body.strength},
        prompt=body.prompt,
        record={
            "mode": body.mode,
            "guidance_scale": body.guidance_scale,
            "inference_steps": body.inference_steps,
            "run_fast": body.run_fast,
        },
    )
    return resume_task(request, submit(request, plan))


edit_flux.resumes(resume_task)


# --- Virtual try-on ---------------------------------------------------------------------------------------------


@operation(
    SEED_001,
    "POST",
    summary="Create virtual try-on task",
    description="One garment (cloth_type upper, lower or full) or two (cloth_image as the upper "
    "and lower_cloth_image, cloth_type full). Images are files, URLs or *_id of earlier "
    "uploads. Answers a task at once; poll GET /v1/tasks/{task_id}. Needs a model with the "
    "try-on capability (none runs offline). Seed model virtual-tryon-clothes; credits 17. "
    + _model_note("try-on"),
    scope=EDIT_SCOPES,
    body=TryOnIn,
    body_media=DETECT_BODY,
    body_required=False,
    files=Files(names=("model_image", "cloth_image", "lower_cloth_image"), description="An image."),
    idempotent=True,
    responses={
        200: Returns(TaskCreatedResponse, "Try-on task created successfully", TASK_EXAMPLE),
        **TASK_ERRORS,
    },
)
def try_on(
    request: HttpRequest, body: TryOnIn, files: MultiValueDict | None
) -> TaskCreatedResponse:
    person = image_source(
        files, "model_image", body.model_image, ("model_image_id", body.model_image_id)
    )
    cloth = image_source(
        files, "cloth_image", body.cloth_image, ("cloth_image_id", body.cloth_image_id)
    )
    lower = image_source(
        files,
        "lower_cloth_image",
        body.lower_cloth_image,
        ("lower_cloth_image_id", body.lower_cloth_image_id),
    )
    if not cloth.given() and lower.given():
        # Only a lower garment: it is the one garment (of type lower unless told otherwise).
        cloth, lower = lower, ImageSource("lower_cloth_image")
        cloth_type = body.cloth_type or "lower"
    else:
        # Two garments are only valid as full, so full is what an absent cloth_type means then.
        cloth_type = body.cloth_type or ("full" if lower.given() else "upper")
    if not cloth.given():
        raise missing_image(cloth)
    if lower.given() and cloth_type != "full":
        raise ApiError(
            400,
            "cloth_type must be full when both cloth_image and lower_cloth_image are sent.",
            details={"field": "cloth_type"},
        )
    # The garments reach the engine as the operation's extra images, upper first.
    plan = Plan(
        key="try-on",
        label="POST /v1/images/try-on",
        operation="try-on",
        image=person,
        options={"cloth_type": cloth_type},
        extra_images=[cloth, *([lower] if lower.given() else [])],
        garment_option="cloth_asset",
        record={"cloth_type": cloth_type, "garments": 2 if lower.given() else 1},
    )
    return resume_task(request, submit(request, plan))


try_on.resumes(resume_task)


# --- legacy paths ---------------------------------------------------------------------------------------------


def legacy(op: Operation, path: str) -> Operation:
    """The same operation at the seed's legacy path (its own operationId in the document)."""
    return dataclasses.replace(
        op,
        operation_id=f"legacy_{op.operation_id}",
        summary=f"{op.summary} (legacy path)",
        description=f"Legacy path of POST /{path}: the same inputs and answers.\n\n"
        + op.description,
    )


# (path, legacy path, operation): urls.py serves both paths.
ROUTES: list[tuple[str, str, Operation]] = [
    ("v1/images/detect-objects", "api/object_removal/v5/ai_detection", detect_objects),
    ("v1/images/detect-text", "api/object_removal/v5/text_detection", detect_text),
    ("v1/images/detect-wires", "api/object_removal/v5/wire_detection", detect_wires),
    ("v1/images/remove-objects", "api/object_removal/v5/erase", remove_objects),
    ("v1/images/remove-text", "api/object_removal/v5/erase_text", remove_text),
    ("v1/images/remove-watermark", "api/object_removal/v5/erase_watermark", remove_watermark),
    ("v1/images/remove-wires", "api/object_removal/v5/erase_wire", remove_wires),
    ("v1/images/remove-background", "api/rmbg/v1/", remove_background),
    ("v1/images/enhance", "api/enhance/v1/pro", enhance),
    ("v1/images/enhance-art", "api/enhance/v1/cartoon/pro", enhance_art),
    ("v1/images/restore", "api/restore/v1/", restore),
    ("v1/images/colorize", "api/colorize/v1/", colorize),
    ("v1/images/generate-art", "api/fairyai/v1/gen_image", generate_art),
    ("v1/images/generations", "api/text-to-image/v1", generations),
    ("v1/images/generations-qwen", "api/text-to-image/v2", generations_qwen),
    ("v1/images/edits", "api/image-edit/v2", edits),
    ("v1/images/edits/multi", "api/image-edit/v2/multi", edits_multi),
    ("v1/images/edit-flux", "api/image-editing/v1/tasks", edit_flux),
    ("v1/images/retouch-skin", "api/skin_beauty/v1", retouch_skin),
    ("v1/images/transfer-makeup", "api/makeup/v1/transfer", transfer_makeup),
    ("v1/images/hairstyle", "api/hairstyler/v1", hairstyle),
    ("v1/images/try-on", "api/tryon/v2/tasks", try_on),
    ("v1/images/outpaint", "api/outpaint/v1/", outpaint),
    ("v1/images/pose-suggest", "api/recommendation/v1/pose", pose_suggest),
]

VIEWS = [(p, lp, route(op), route(legacy(op, p))) for p, lp, op in ROUTES]
