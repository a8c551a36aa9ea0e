"""The operations the studio offers on library assets: names (seed 001's vocabulary), the
capability that serves each, its options, whether it takes a mask or a prompt, and its default
price. The action layer validates against this table; engines dispatch on `name`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from generations.engines.base import Capability

ASPECT_CHOICES = ("1:1", "4:5", "5:4", "3:4", "4:3", "2:3", "3:2", "9:16", "16:9", "21:9")


@dataclass(frozen=True)
class Option:
    name: str
    kind: str  # "bool" | "choice" | "float" | "int" | "text"
    default: Any = None
    choices: tuple[Any, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    label: str = ""
    help: str = ""


@dataclass(frozen=True)
class OperationSpec:
    name: str
    label: str
    capability: Capability
    description: str
    options: tuple[Option, ...] = ()
    mask: str = "none"  # "none" | "optional" | "required"
    prompt: str = "none"  # "none" | "optional" | "required"
    output: str = "image"  # "image" | "video" | "none" (result only)
    price_cents: int = 1
    group: str = ""
    extra_asset: str = ""  # option name holding a second asset id (try-on garment)
    max_output_pixels_factor: int = 1  # output pixels = input pixels × this (upscale)

    @property
    def generative(self) -> bool:
        return self.capability in GENERATIVE


GENERATIVE = frozenset(
    {
        Capability.IMAGE_TO_IMAGE,
        Capability.INPAINT,
        Capability.HEADSHOT,
        Capability.HAIRSTYLE,
        Capability.MAKEUP,
        Capability.TRY_ON,
        Capability.POSE,
    }
)

ZOOM = Option("zoom_factor", "choice", 2, (2, 4), label="Scale")

_SPECS = [
    OperationSpec(
        "remove-background", "Remove background", Capability.BACKGROUND_REMOVAL,
        "Transparent PNG of the product plus its bounding box.",
        (
            Option("matting", "bool", True, label="Soft edges (matting)"),
            Option("mask_only", "bool", False, label="Mask only",
                   help="Return the black-and-white foreground mask instead of the cut-out."),
        ),
        price_cents=1, group="Cut out",
    ),
    OperationSpec(
        "detect-objects", "Detect objects", Capability.DETECT,
        "Salient regions with boxes and masks. No classifier runs, so every type is “object”.",
        output="none", price_cents=1, group="Detect",
    ),
    OperationSpec("detect-text", "Detect text", Capability.DETECT,
                  "A mask of lettering.", output="none", price_cents=1, group="Detect"),
    OperationSpec("detect-wires", "Detect wires", Capability.DETECT,
                  "A mask of long thin lines.", output="none", price_cents=1, group="Detect"),
    OperationSpec(
        "erase", "Erase", Capability.ERASE, "Paint over what should go; it is filled from around it.",
        (Option("method", "choice", "auto", ("auto", "telea", "navier-stokes", "multiscale"),
                label="Fill method"),),
        mask="required", price_cents=2, group="Erase",
    ),
    OperationSpec("erase-text", "Erase text", Capability.ERASE,
                  "Finds lettering (or uses your mask) and fills it.",
                  mask="optional", price_cents=2, group="Erase"),
    OperationSpec("erase-watermark", "Erase watermark", Capability.ERASE,
                  "Finds faint overlaid lettering (or uses your mask) and fills it.",
                  mask="optional", price_cents=2, group="Erase"),
    OperationSpec("erase-wires", "Erase wires", Capability.ERASE,
                  "Finds long thin lines (or uses your mask) and fills them.",
                  mask="optional", price_cents=2, group="Erase"),
    OperationSpec("upscale", "Upscale", Capability.UPSCALE,
                  "Edge-aware 2× or 4× enlargement (back-projection, no ringing).",
                  (ZOOM,), price_cents=2, group="Enhance", max_output_pixels_factor=16),
    OperationSpec("enhance-art", "Enhance art", Capability.ENHANCE,
                  "Cleans and enlarges flat artwork with crisp edges.",
                  (Option("zoom_factor", "choice", 2, (1, 2, 4), label="Scale"),),
                  price_cents=2, group="Enhance", max_output_pixels_factor=16),
    OperationSpec("restore", "Restore", Capability.ENHANCE, "Removes scratches and noise.",
                  (Option("scratches", "bool", True, label="Remove scratches"),
                   Option("denoise", "bool", True, label="Denoise")),
                  price_cents=1, group="Enhance"),
    OperationSpec("light-restore", "Light restore", Capability.ENHANCE,
                  "Fixes exposure and contrast.",
                  (Option("strength", "float", 1.0, minimum=0.0, maximum=1.0, label="Strength"),),
                  price_cents=1, group="Enhance"),
    OperationSpec("colorize", "Colorize (gradient map)", Capability.ENHANCE,
                  "Tints a greyscale picture with a gradient map; it does not guess true colours.",
                  (Option("palette", "choice", "sepia",
                          ("sepia", "warm", "cool", "teal-orange", "earth"), label="Palette"),),
                  price_cents=1, group="Enhance"),
    OperationSpec("cartoon", "Cartoon", Capability.RESTYLE, "Flat colours and ink lines.",
                  (Option("sticker", "bool", False, label="Sticker (cut out, white border)"),),
                  price_cents=1, group="Restyle"),
    OperationSpec("sketch", "Sketch", Capability.RESTYLE, "Pencil sketch.",
                  (Option("colour", "bool", False, label="Coloured pencil"),),
                  price_cents=1, group="Restyle"),
    OperationSpec("stylize", "Stylize", Capability.RESTYLE, "Painterly, watercolour-like look.",
                  (Option("strength", "float", 0.5, minimum=0.05, maximum=1.0, label="Strength"),),
                  price_cents=1, group="Restyle"),
    OperationSpec("retouch-skin", "Retouch skin", Capability.RESTYLE,
                  "Smooths skin (found by colour) and leaves eyes, hair and edges alone.",
                  (Option("strength", "float", 0.6, minimum=0.0, maximum=1.0, label="Strength"),),
                  price_cents=1, group="Restyle"),
    OperationSpec(
        "outpaint", "Expand (outpaint)", Capability.OUTPAINT,
        "Grows the picture to an aspect ratio or by margins and fills the new area.",
        (
            Option("aspect_ratio", "choice", "", ("", *ASPECT_CHOICES), label="Aspect ratio"),
            Option("top", "int", 0, minimum=0, maximum=4096, label="Top (px)"),
            Option("right", "int", 0, minimum=0, maximum=4096, label="Right (px)"),
            Option("bottom", "int", 0, minimum=0, maximum=4096, label="Bottom (px)"),
            Option("left", "int", 0, minimum=0, maximum=4096, label="Left (px)"),
        ),
        mask="optional", price_cents=3, group="Expand",
    ),
    OperationSpec(
        "video", "Image → video", Capability.VIDEO,
        "A 6-second MP4 with a camera move read from the prompt (zoom, pan, tilt, drift).",
        (Option("resolution", "choice", 720, (720, 1080), label="Resolution"),),
        prompt="optional", output="video", price_cents=25, group="Video",
    ),
    # Generative: no offline engine; available when a model with the capability is configured.
    OperationSpec("edit", "Edit with a prompt", Capability.IMAGE_TO_IMAGE,
                  "Prompt-driven edit of the whole picture.",
                  (Option("strength", "float", 1.0, minimum=0.0, maximum=1.0, label="Strength"),),
                  prompt="required", price_cents=13, group="Generative"),
    OperationSpec("inpaint", "Inpaint with a prompt", Capability.INPAINT,
                  "Repaints the masked region as the prompt describes.",
                  mask="required", prompt="required", price_cents=13, group="Generative"),
    OperationSpec("headshot", "Headshot", Capability.HEADSHOT,
                  "Professional portrait of the person.", prompt="optional", price_cents=21,
                  group="Generative"),
    OperationSpec("hairstyle", "Hairstyle", Capability.HAIRSTYLE, "New hairstyle.",
                  (Option("style", "text", "", label="Style"),), price_cents=6, group="Generative"),
    OperationSpec("makeup", "Makeup transfer", Capability.MAKEUP, "Applies a makeup style.",
                  (Option("style", "text", "camdao", label="Style"),), price_cents=1,
                  group="Generative"),
    OperationSpec("try-on", "Virtual try-on", Capability.TRY_ON,
                  "Dresses the person in a garment from the library.",
                  (Option("cloth_asset", "text", "", label="Garment asset id"),
                   Option("cloth_type", "choice", "upper", ("upper", "lower", "full"),
                          label="Garment type")),
                  price_cents=17, group="Generative", extra_asset="cloth_asset"),
    OperationSpec("pose", "Pose suggestions", Capability.POSE, "Suggested poses for models.",
                  (Option("num_models", "int", 1, minimum=1, maximum=4, label="People"),
                   Option("gender", "choice", "female", ("female", "male"), label="Gender")),
                  price_cents=28, group="Generative"),
]  # fmt: skip

OPERATIONS: dict[str, OperationSpec] = {spec.name: spec for spec in _SPECS}

# Video is priced by resolution (seed 000: $0.247 at 720p, $0.429 at 1080p).
VIDEO_PRICES = {720: 25, 1080: 43}


def operation(name: str) -> OperationSpec | None:
    return OPERATIONS.get(name)
