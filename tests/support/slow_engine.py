"""A deliberately slow test engine, `test:slow`, for killing and canceling workers mid-job.

Loaded by worker subprocesses through STUDIO_EXTRA_ENGINES=tests.support.slow_engine and imported
by the integration tests. It is only "configured" when STUDIO_SLOW_ENGINE=1, so it never shows up
in model lists outside the tests that ask for it.

It sleeps in small steps, reporting progress at each (which renews the job's lease), then draws a
small solid image per output. `params["slow_seconds"]` (else STUDIO_SLOW_ENGINE_SECONDS) sets the
duration (default 4 s). Each run appends a line to the file named by `params["run_log"]` (if
given), so a test can count how many times the engine really ran.
"""

from __future__ import annotations

import io
import os
import time
from pathlib import Path

from PIL import Image

import generations.engines.builtin  # noqa: F401 - keep the builtin engine registered first
from generations.engines.base import (
    Capability,
    Engine,
    EngineImage,
    GenerationRequest,
    ProgressFn,
)
from generations.engines.registry import ModelSpec, add_model_source, register_engine

MODEL = "test:slow"
STEP_SECONDS = 0.1


@register_engine
class SlowEngine(Engine):
    name = "test-slow"
    capabilities = frozenset({Capability.TEXT_TO_IMAGE})
    required_setting = "STUDIO_SLOW_ENGINE"

    def is_configured(self) -> bool:
        # A test harness switch, not a studio setting: the integration fixtures hand it to the
        # worker subprocesses they start (documented exception in studio/settings.py).
        return os.environ.get("STUDIO_SLOW_ENGINE") == "1"

    def generate(self, request: GenerationRequest, progress: ProgressFn) -> list[EngineImage]:
        seconds = float(
            request.params.get("slow_seconds", os.environ.get("STUDIO_SLOW_ENGINE_SECONDS", 4))
        )
        run_log = request.params.get("run_log")
        if run_log:
            with Path(run_log).open("a") as fh:
                fh.write(f"{os.getpid()}\n")
        steps = max(1, int(seconds / STEP_SECONDS))
        for step in range(steps):
            progress(int(100 * step / steps), f"slowly working ({step + 1}/{steps})")
            time.sleep(STEP_SECONDS)
        out = []
        for i in range(request.count):
            seed = (request.seed or 0) + i
            img = Image.new("RGB", (request.width, request.height), (seed * 37 % 256, 90, 160))
            buf = io.BytesIO()
            img.save(buf, "PNG", compress_level=1)
            out.append(EngineImage(buf.getvalue(), "image/png", img.width, img.height, seed=seed))
        progress(100, "done")
        return out


def _models() -> list[ModelSpec]:
    return [
        ModelSpec(
            name=MODEL,
            engine=SlowEngine.name,
            provider_model="slow",
            label="Slow test engine",
            description="Sleeps, then draws solid colours. Tests only.",
        )
    ]


add_model_source(_models)
