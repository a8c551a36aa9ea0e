"""The `builtin:procedural` engine: render a prompt at a size and seed, encode it, and serve
generation requests."""

from __future__ import annotations

import hashlib
import io
import random

from PIL import Image

from generations.engines.base import Capability, Engine, EngineImage, GenerationRequest, ProgressFn
from generations.engines.builtin import icons
from generations.engines.builtin.compositions import COMPOSERS, _compose_subjectless
from generations.engines.builtin.design import _avoid_subjects, _choose_composition, design_for
from generations.engines.builtin.finishing import _finish
from generations.engines.builtin.subjects import avoided_subjects, read_subjects
from generations.engines.registry import register_engine

WORK_LONG_SIDE = 4096  # the supersampled canvas never exceeds this; 4k outputs are drawn 1:1


def render(prompt: str, width: int, height: int, seed: int, negative: str = "") -> Image.Image:
    """Draw the design for `prompt` at width × height. Pure: same arguments, same pixels."""
    rng = random.Random(seed)
    d = design_for(prompt, negative, rng)
    if not d.subjects:
        d.subjects = ["abstract"] if "abstract" not in _avoid_subjects(d) else []
    composition = _choose_composition(d, rng)
    long_side = max(width, height)
    ss = 2 if long_side <= 1024 else 1
    scale = min(ss, WORK_LONG_SIDE / long_side)
    cw, ch = max(16, round(width * scale)), max(16, round(height * scale))
    d.ss = 2 if scale == 2 else 1
    if not d.subjects:  # everything was negated: typography and colour only
        d.subjects = []
        img = _compose_subjectless(cw, ch, d, rng)
    else:
        img = COMPOSERS[composition](cw, ch, d, rng)
    work = (max(1, round(cw / ss)), max(1, round(ch / ss))) if ss > 1 else (cw, ch)
    if img.size == (work[0] * 2, work[1] * 2):
        img = img.reduce(2)
    elif img.size != work:
        img = img.resize(work, Image.Resampling.LANCZOS)
    img = _finish(img, d, seed)
    if img.size != (width, height):
        img = img.resize((width, height), Image.Resampling.LANCZOS)
    return img


def prompt_report(prompt: str, negative: str = "") -> dict[str, list[str]]:
    """What the engine understood: the subjects the prompt named (as drawn) and the words that
    named nothing it can draw. Stored with each output (asset `parameters`), shown on the job card.
    """
    reading = read_subjects(prompt)
    avoid = avoided_subjects(negative)
    return {
        "subjects": [s.removeprefix(icons.PREFIX) for s in reading.subjects if s not in avoid],
        "unrecognized_words": list(reading.unrecognized),
    }


def seed_for(prompt: str, seed: int | None, index: int) -> int:
    if seed is None:
        seed = int.from_bytes(hashlib.sha256(prompt.encode()).digest()[:4], "big")
    return (seed + index) % (2**31)


def encode_png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG", optimize=False, compress_level=1)
    return buf.getvalue()


@register_engine
class ProceduralEngine(Engine):
    name = "builtin"
    capabilities = frozenset({Capability.TEXT_TO_IMAGE})

    def generate(self, request: GenerationRequest, progress: ProgressFn) -> list[EngineImage]:
        out = []
        for i in range(request.count):
            progress(int(100 * i / request.count), f"rendering image {i + 1} of {request.count}")
            seed = seed_for(request.prompt, request.seed, i)
            img = render(
                request.prompt, request.width, request.height, seed, request.negative_prompt
            )
            out.append(
                EngineImage(
                    encode_png(img),
                    "image/png",
                    img.width,
                    img.height,
                    seed=seed,
                    metadata=prompt_report(request.prompt, request.negative_prompt),
                )
            )
        progress(100, "rendered")
        return out
