"""The one small interface every engine implements, and the errors engines raise."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar


class Capability(StrEnum):
    TEXT_TO_IMAGE = "text-to-image"
    IMAGE_TO_IMAGE = "image-to-image"
    INPAINT = "inpaint"  # prompt-driven edit of a masked region
    BACKGROUND_REMOVAL = "background-removal"
    UPSCALE = "upscale"
    VIDEO = "video"


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
class EngineImage:
    data: bytes
    content_type: str
    width: int
    height: int
    seed: int | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


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

    @abstractmethod
    def generate(self, request: GenerationRequest, progress: ProgressFn) -> list[EngineImage]:
        """Produce `request.count` images, calling progress() as work advances."""

    def cancel(self, handle: dict[str, Any]) -> None:  # noqa: B027 - optional hook
        """Cancel upstream work recorded in `handle` (provider ids), where the provider allows."""
