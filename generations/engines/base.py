"""The one small interface every engine implements, and the errors engines raise."""

from __future__ import annotations

from abc import ABC
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar


class Capability(StrEnum):
    TEXT_TO_IMAGE = "text-to-image"
    IMAGE_TO_IMAGE = "image-to-image"  # prompt-driven edit of a whole image
    INPAINT = "inpaint"  # prompt-driven edit of a masked region
    BACKGROUND_REMOVAL = "background-removal"
    DETECT = "detect"  # objects, text, wires
    ERASE = "erase"  # remove masked content, filling it plausibly (no prompt)
    UPSCALE = "upscale"
    ENHANCE = "enhance"  # enhance-art, restore, light restore, colorize
    RESTYLE = "restyle"  # cartoon, sketch, stylize, skin retouch
    OUTPAINT = "outpaint"
    VIDEO = "video"  # image to video
    PRODUCT_SCENE = "product-scene"  # a product photo placed in a described scene (seed 004)
    # Capabilities that only a generative model can honestly provide.
    HEADSHOT = "headshot"
    HAIRSTYLE = "hairstyle"
    MAKEUP = "makeup"
    TRY_ON = "try-on"
    POSE = "pose"


# progress(percent 0-100, stage text). Raises JobCanceled when the job was canceled meanwhile.
ProgressFn = Callable[[int, str], None]


@dataclass
class GenerationRequest:
    prompt: str
    width: int = 1024
    height: int = 1024
    count: int = 1
    seed: int | None = None
    negative_prompt: str = ""
    model: str = ""  # the public model name
    provider_model: str = ""  # the engine's own name for it
    params: dict[str, Any] = field(default_factory=dict)
    reference_images: list[bytes] = field(default_factory=list)
    # For image-to-image / inpaint engines.
    init_image: bytes | None = None
    mask_image: bytes | None = None


@dataclass
class OperationRequest:
    """An operation on an existing image (background removal, erase, upscale, video, ...)."""

    capability: Capability
    operation: str  # the specific operation, e.g. "remove-background", "upscale", "erase-text"
    image: bytes
    mask: bytes | None = None  # white = the region to act on (seed 001's convention)
    prompt: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    model: str = ""
    provider_model: str = ""
    extra_images: list[bytes] = field(default_factory=list)  # e.g. try-on garments
    # `image` as the loader decoded it (generations.loader.LoadedImage), when the job already
    # did: an engine that works on pixels uses it instead of decoding again, and must not
    # modify it (the job compares the output with it). None: decode `image` yourself.
    loaded: Any = field(default=None, repr=False, compare=False)


@dataclass
class EngineImage:
    data: bytes
    content_type: str
    width: int
    height: int
    seed: int | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    # The Pillow image `data` decodes to, when the engine encoded it itself, losslessly, from
    # these pixels: the job stores it and checks it without decoding its own output again.
    # Bytes from anywhere else (a provider's answer) leave it None, and the loader checks them.
    decoded: Any = field(default=None, repr=False, compare=False)


class EngineError(Exception):
    """An engine could not produce output. `retryable` says whether trying again can help."""

    def __init__(
        self, message: str, *, retryable: bool = False, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.retry_after = retry_after


class EngineNotConfigured(EngineError):
    """No engine is set up for a model or capability; names the setting that enables one."""

    def __init__(self, what: str, setting: str) -> None:
        super().__init__(f"No engine configured for {what}: set {setting} to enable it.")
        self.what = what
        self.setting = setting


class UnknownModel(EngineError):
    def __init__(self, name: str, available: list[str]) -> None:
        super().__init__(
            f"Unknown model {name!r}. Models this server can serve: {', '.join(available) or 'none'}."
        )
        self.name = name
        self.available = available


class JobCanceled(Exception):
    """Raised from a progress callback when the job was canceled while running."""


class Engine(ABC):
    """A source of images. Engines are stateless; one instance may serve many jobs."""

    name: ClassVar[str]
    capabilities: ClassVar[frozenset[Capability]]
    # Environment variable (or setting) that must be set for this engine to work; "" = always on.
    required_setting: ClassVar[str] = ""

    def is_configured(self) -> bool:
        return True

    def generate(self, request: GenerationRequest, progress: ProgressFn) -> list[EngineImage]:
        """Produce `request.count` images, calling progress() as work advances."""
        raise EngineNotConfigured(
            f"{Capability.TEXT_TO_IMAGE} on engine {self.name!r}", "a text-to-image model"
        )

    def run_operation(self, request: OperationRequest, progress: ProgressFn) -> list[EngineImage]:
        """Perform an image operation. Outputs may be images or video (see content_type);
        operation results that are not pixels (a bounding box, detections) go in metadata."""
        raise EngineNotConfigured(
            f"{request.capability} on engine {self.name!r}", "a model with that capability"
        )

    def cancel(self, handle: dict[str, Any]) -> None:  # noqa: B027 - optional hook
        """Cancel upstream work recorded in `handle` (provider ids), where the provider allows."""


# --- upstream handles -----------------------------------------------------------------------------
# A remote engine records the provider's id for the work it started (prediction id, request id,
# prompt id) so that cancelling the job can cancel upstream too. The job runner installs a sink
# for the duration of a job; outside a job, recording is a no-op.
_UPSTREAM_SINK: ContextVar[Callable[[dict[str, Any]], None] | None] = ContextVar(
    "upstream_sink", default=None
)


def record_upstream(handle: dict[str, Any]) -> None:
    """Remember `handle` (must include "engine") on the running job. May raise JobCanceled when
    the job was canceled meanwhile: the caller then cancels the upstream work itself."""
    sink = _UPSTREAM_SINK.get()
    if sink is not None:
        sink(handle)


@contextmanager
def upstream_sink(sink: Callable[[dict[str, Any]], None]) -> Iterator[None]:
    token = _UPSTREAM_SINK.set(sink)
    try:
        yield
    finally:
        _UPSTREAM_SINK.reset(token)
