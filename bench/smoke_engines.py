"""`make smoke-engines`: one real image per configured remote engine, with its timing.

Uses the credentials in the environment (OPENAI_API_KEY, REPLICATE_API_TOKEN, FAL_KEY,
STABILITY_API_KEY, A1111_URL, COMFYUI_URL, REMBG/DIFFUSERS paths). With none set it prints a
skip message and exits 0. Choose models with SMOKE_MODELS=name,name (public model names).
This spends real money on hosted providers: one small image each.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import django


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studio.settings")
    django.setup()
    from django.conf import settings

    from generations.engines import registry
    from generations.engines.base import Capability, EngineError, GenerationRequest

    available = registry.available_models(Capability.TEXT_TO_IMAGE)
    wanted = [n.strip() for n in os.environ.get("SMOKE_MODELS", "").split(",") if n.strip()]
    if wanted:
        by_name = {m.name: m for m in available}
        missing = [n for n in wanted if n not in by_name]
        if missing:
            print(f"not available (unknown or unconfigured): {', '.join(missing)}")
            return 2
        chosen = [by_name[n] for n in wanted]
    else:
        # One model per configured engine, skipping the offline procedural renderer.
        chosen, seen = [], set()
        for spec in available:
            if spec.engine != "builtin" and spec.engine not in seen:
                seen.add(spec.engine)
                chosen.append(spec)
    if not chosen:
        print(
            "SKIP smoke-engines: no engine credentials in the environment. Set one or more of "
            "OPENAI_API_KEY, REPLICATE_API_TOKEN, FAL_KEY, STABILITY_API_KEY, A1111_URL, "
            "COMFYUI_URL, DIFFUSERS_MODEL_DIR (see docs/engines.md)."
        )
        return 0
    out_dir = Path(settings.DATA_DIR) / "smoke"
    out_dir.mkdir(parents=True, exist_ok=True)
    failures = 0
    for spec in chosen:
        _, engine = registry.resolve(spec.name)
        request = GenerationRequest(
            prompt="a small red apple on a white table, studio photo",
            width=1024,
            height=1024,
            count=1,
            seed=1234,
            model=spec.name,
            provider_model=spec.provider_model,
            params={"resolution": "low"},
        )
        started = time.perf_counter()
        last = {"stage": ""}

        def progress(percent: int, stage: str, last: dict = last) -> None:
            if stage != last["stage"]:
                last["stage"] = stage
                print(f"  [{percent:3d}%] {stage}", flush=True)

        print(f"{spec.engine:14} {spec.name} ({spec.provider_model or 'default'})", flush=True)
        try:
            images = engine.generate(request, progress)
        except EngineError as exc:
            failures += 1
            print(f"  FAIL after {time.perf_counter() - started:.1f}s: {exc}")
            continue
        elapsed = time.perf_counter() - started
        for i, image in enumerate(images):
            ext = image.content_type.split("/")[-1]
            path = (
                out_dir / f"{spec.engine}-{spec.name.replace('/', '_').replace(':', '_')}-{i}.{ext}"
            )
            path.write_bytes(image.data)
            print(
                f"  OK {elapsed:.1f}s  {image.width}×{image.height} {len(image.data):,} bytes → {path}"
            )
    print(f"{len(chosen) - failures} of {len(chosen)} engines produced an image.")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
