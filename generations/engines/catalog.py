"""The catalogue of public model names served by the remote and local engines.

Each default name lists the providers that serve the same model, in order of preference; the
first whose credentials are configured serves it (the same model from another host, never a
different model). With none configured the name resolves to the first provider, so using it is a
clear "set FAL_KEY to enable it" error. Staff override or add names with ModelConfig rows in the
admin; STUDIO_MODELS (settings / env JSON) overrides both.

Engines import no models: staff's rows reach the catalogue as plain StaffModel values from a
source the domain registers at start-up (generations.model_configs, via GenerationsConfig.ready).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from generations.engines import registry
from generations.engines.base import Capability
from generations.engines.registry import ModelSpec

log = logging.getLogger(__name__)

T2I = Capability.TEXT_TO_IMAGE
I2I = Capability.IMAGE_TO_IMAGE
INPAINT = Capability.INPAINT
SCENE = Capability.PRODUCT_SCENE  # seed 004's /v1/generate: an image edit with the product photo


@dataclass(frozen=True)
class CatalogEntry:
    name: str
    label: str
    candidates: tuple[tuple[str, str], ...]  # (engine, provider model), preferred first
    capabilities: frozenset[Capability] = frozenset({T2I})
    description: str = ""
    max_count: int = 4


def _nano(fal: str, replicate: str) -> tuple[tuple[str, str], ...]:
    return (
        ("fal", f"{fal}?_size=aspect_ratio&_edit_model={fal}/edit&_image_field=image_urls"),
        ("replicate", f"{replicate}?_image_field=image_input"),
    )


NANO_BANANA_PRO = _nano("fal-ai/nano-banana-pro", "google/nano-banana-pro")
KONTEXT_PRO = (
    (
        "fal",
        "fal-ai/flux-pro/kontext/text-to-image?_size=aspect_ratio"
        "&_edit_model=fal-ai/flux-pro/kontext&_image_field=image_url",
    ),
    ("replicate", "black-forest-labs/flux-kontext-pro?_image_field=input_image"),
)
KONTEXT_MAX = (
    (
        "fal",
        "fal-ai/flux-pro/kontext/max/text-to-image?_size=aspect_ratio"
        "&_edit_model=fal-ai/flux-pro/kontext/max&_image_field=image_url",
    ),
    ("replicate", "black-forest-labs/flux-kontext-max?_image_field=input_image"),
)

DEFAULTS: list[CatalogEntry] = [
    # OpenAI Images
    CatalogEntry(
        "gpt-image-1",
        "GPT Image 1 (OpenAI)",
        (("openai", "gpt-image-1"),),
        frozenset({T2I, I2I, INPAINT}),
    ),
    CatalogEntry(
        "gpt-high",
        "GPT Image 1, high quality (OpenAI)",
        (("openai", "gpt-image-1?quality=high"),),
        frozenset({T2I, I2I, INPAINT, SCENE}),
    ),
    CatalogEntry(
        "gpt-image-1.5",
        "GPT Image 1.5 (OpenAI)",
        (("openai", "gpt-image-1.5"),),
        frozenset({T2I, I2I, INPAINT}),
    ),
    CatalogEntry(
        "gpt-image-1-mini",
        "GPT Image 1 mini (OpenAI)",
        (("openai", "gpt-image-1-mini"),),
        frozenset({T2I, I2I, INPAINT}),
    ),
    CatalogEntry("dall-e-3", "DALL·E 3 (OpenAI)", (("openai", "dall-e-3"),)),
    # FLUX
    CatalogEntry(
        "fal-ai/flux/dev",
        "FLUX.1 [dev]",
        (("fal", "fal-ai/flux/dev"), ("replicate", "black-forest-labs/flux-dev")),
    ),
    CatalogEntry(
        "flux-schnell",
        "FLUX.1 [schnell] (fast drafts)",
        (("fal", "fal-ai/flux/schnell"), ("replicate", "black-forest-labs/flux-schnell")),
    ),
    CatalogEntry("kontext-pro", "FLUX.1 Kontext [pro]", KONTEXT_PRO, frozenset({T2I, I2I, SCENE})),
    CatalogEntry("kontext-max", "FLUX.1 Kontext [max]", KONTEXT_MAX, frozenset({T2I, I2I, SCENE})),
    # Google's Gemini image models (Nano Banana), served through fal or Replicate
    CatalogEntry(
        "nano-banana-pro",
        "Nano Banana Pro (Gemini 3 Pro Image)",
        NANO_BANANA_PRO,
        frozenset({T2I, I2I}),
    ),
    CatalogEntry(
        "gemini-3-pro-image-preview",
        "Gemini 3 Pro Image (Nano Banana Pro)",
        NANO_BANANA_PRO,
        frozenset({T2I, I2I}),
    ),
    CatalogEntry(
        "gemini-3-pro",
        "Gemini 3 Pro Image (Nano Banana Pro)",
        NANO_BANANA_PRO,
        frozenset({T2I, I2I}),
    ),
    CatalogEntry(
        "google:4@2", "Nano Banana Pro (reference-guided)", NANO_BANANA_PRO, frozenset({T2I, I2I})
    ),
    CatalogEntry("nanobananapro", "Nano Banana Pro", NANO_BANANA_PRO, frozenset({T2I, I2I, SCENE})),
    CatalogEntry(
        "nanobanana2",
        "Nano Banana 2 (Gemini 3.1 Flash Image)",
        _nano("fal-ai/nano-banana-2", "google/nano-banana-2"),
        frozenset({T2I, I2I, SCENE}),
    ),
    CatalogEntry(
        "nanobanana",
        "Nano Banana (Gemini 2.5 Flash Image)",
        _nano("fal-ai/nano-banana", "google/nano-banana"),
        frozenset({T2I, I2I, SCENE}),
    ),
    # Others the seeds name
    CatalogEntry(
        "ideogram-v2",
        "Ideogram v2 (text in images)",
        (
            ("replicate", "ideogram-ai/ideogram-v2"),
            ("fal", "fal-ai/ideogram/v2?_size=aspect_ratio"),
        ),
    ),
    CatalogEntry(
        "seedream",
        "Seedream 4 (ByteDance)",
        (
            (
                "fal",
                "fal-ai/bytedance/seedream/v4/text-to-image"
                "?_edit_model=fal-ai/bytedance/seedream/v4/edit&_image_field=image_urls",
            ),
            ("replicate", "bytedance/seedream-4?_image_field=image_input"),
        ),
        frozenset({T2I, I2I, SCENE}),
    ),
    # Seed 001's own models (Qwen-Image, Qwen-Image-Edit, FLUX.1 Kontext [dev] edits), as the
    # /v1/images routes name them by default (generations/api/v1_images.py).
    CatalogEntry(
        "qwen-image",
        "Qwen-Image",
        (("fal", "fal-ai/qwen-image"), ("replicate", "qwen/qwen-image")),
    ),
    CatalogEntry(
        "qwen-image-edit",
        "Qwen-Image-Edit (prompt edits)",
        (("fal", "fal-ai/qwen-image-edit"), ("replicate", "qwen/qwen-image-edit")),
        frozenset({I2I}),
        max_count=1,
    ),
    CatalogEntry(
        "flux-kontext",
        "FLUX.1 Kontext [dev] (prompt edits)",
        (
            ("fal", "fal-ai/flux-kontext/dev"),
            ("replicate", "black-forest-labs/flux-kontext-dev?_image_field=input_image"),
        ),
        frozenset({I2I}),
        max_count=1,
    ),
    # Stability AI
    CatalogEntry("stable-image-core", "Stable Image Core", (("stability", "core"),)),
    CatalogEntry("stable-image-ultra", "Stable Image Ultra", (("stability", "ultra"),)),
    CatalogEntry(
        "sd3.5-large",
        "Stable Diffusion 3.5 Large",
        (("stability", "sd3?model=sd3.5-large"),),
        frozenset({T2I, I2I}),
    ),
    # Your own GPU
    CatalogEntry(
        "automatic1111",
        "AUTOMATIC1111 (current checkpoint)",
        (("automatic1111", ""),),
        frozenset({T2I, I2I, INPAINT, Capability.UPSCALE}),
    ),
    CatalogEntry(
        "comfyui",
        "ComfyUI (COMFYUI_CHECKPOINT)",
        (("comfyui", ""),),
        frozenset({T2I, I2I, INPAINT}),
    ),
    CatalogEntry("diffusers:local", "Local diffusers pipeline", (("diffusers", ""),)),
    # Image operations
    CatalogEntry(
        "rembg",
        "rembg (local background removal)",
        (("rembg", ""),),
        frozenset({Capability.BACKGROUND_REMOVAL}),
    ),
    CatalogEntry(
        "birefnet",
        "BiRefNet background removal",
        (("fal", "fal-ai/birefnet"), ("replicate", "men1scus/birefnet")),
        frozenset({Capability.BACKGROUND_REMOVAL}),
    ),
    CatalogEntry(
        "stability-remove-background",
        "Stability background removal",
        (("stability", ""),),
        frozenset({Capability.BACKGROUND_REMOVAL}),
    ),
    CatalogEntry(
        "real-esrgan",
        "Real-ESRGAN upscale",
        (("fal", "fal-ai/esrgan"), ("replicate", "nightmareai/real-esrgan")),
        frozenset({Capability.UPSCALE}),
    ),
    CatalogEntry(
        "stability-upscale-fast",
        "Stability fast upscale",
        (("stability", ""),),
        frozenset({Capability.UPSCALE}),
    ),
    CatalogEntry(
        "stability-edit",
        "Stability inpaint / erase / outpaint",
        (("stability", ""),),
        frozenset({INPAINT, Capability.ERASE, Capability.OUTPAINT}),
    ),
    CatalogEntry(
        "kling-video",
        "Kling image-to-video",
        (
            ("fal", "fal-ai/kling-video/v1.6/standard/image-to-video"),
            ("replicate", "kwaivgi/kling-v1.6-standard?_image_field=start_image"),
        ),
        frozenset({Capability.VIDEO}),
        max_count=1,
    ),
]


# Seed 004's price per image in credits (= cents) for its models; a PriceRule naming the model
# (or the "scene" job kind) overrides it. See generations/scenes/actions.py:scene_price.
SEED_004_CREDITS: dict[str, int] = {
    "nanobanana2": 5,
    "nanobananapro": 8,
    "nanobanana": 3,
    "kontext-pro": 3,
    "kontext-max": 3,
    "seedream": 3,
    "gpt-high": 8,
}


def candidate_engines(capability: Capability) -> list[str]:
    """Every engine that some default name could use for a capability (not only the first)."""
    return [
        engine_name
        for entry in DEFAULTS
        if capability in entry.capabilities
        for engine_name, _ in entry.candidates
    ]


registry.add_engine_source(candidate_engines)


def _configured(engine_name: str) -> bool:
    try:
        return registry.engine(engine_name).is_configured()
    except Exception:
        return False


def default_specs() -> dict[str, ModelSpec]:
    specs = {}
    for entry in DEFAULTS:
        engine_name, provider_model = next(
            (c for c in entry.candidates if _configured(c[0])), entry.candidates[0]
        )
        specs[entry.name] = ModelSpec(
            name=entry.name,
            engine=engine_name,
            provider_model=provider_model,
            capabilities=entry.capabilities,
            label=entry.label,
            description=entry.description,
            max_count=entry.max_count,
        )
    return specs


@dataclass(frozen=True)
class StaffModel:
    """A model name as staff set it in the admin (a ModelConfig row's values)."""

    name: str
    engine: str
    provider_model: str = ""
    capabilities: tuple[str, ...] = ()  # Capability values; empty means text-to-image
    label: str = ""
    description: str = ""
    enabled: bool = True
    max_count: int = 1


def _no_staff_models() -> list[StaffModel]:
    return []


# Where staff's rows come from: replaced at start-up by the domain (use_staff_models).
_staff_models: list[Callable[[], Iterable[StaffModel]]] = [_no_staff_models]


def use_staff_models(source: Callable[[], Iterable[StaffModel]]) -> None:
    """Read staff's model rows from `source` (called on every catalogue read, so it caches)."""
    _staff_models[0] = source


def spec_from_staff(row: StaffModel) -> ModelSpec:
    """A ModelSpec from staff's values; ValueError for an unknown capability."""
    capabilities = frozenset(Capability(c) for c in (row.capabilities or ["text-to-image"]))
    return ModelSpec(
        name=row.name,
        engine=row.engine,
        provider_model=row.provider_model,
        capabilities=capabilities,
        label=row.label or row.name,
        description=row.description,
        max_count=row.max_count or 1,
    )


def catalog_models() -> list[ModelSpec]:
    """The defaults, with staff's rows applied on top (disabled rows hide names)."""
    specs = default_specs()
    for row in _staff_models[0]():
        if not row.enabled:
            specs.pop(row.name, None)
            continue
        try:
            specs[row.name] = spec_from_staff(row)
        except ValueError:
            log.warning("model config %s names an unknown capability; ignored", row.name)
    return list(specs.values())


registry.add_model_source(catalog_models)
