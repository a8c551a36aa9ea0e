"""The procedural engine: deterministic, honours size, count, seed, palette and the negative prompt."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from generations.engines import builtin, registry
from generations.engines.base import Capability, GenerationRequest


def rgb(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"), dtype=np.int16)


def generate(**kw):
    req = GenerationRequest(**{"prompt": "blue circles", "width": 128, "height": 96, **kw})
    return builtin.ProceduralEngine().generate(req, lambda p, s: None)


def test_it_is_deterministic_for_prompt_size_and_seed():
    a, b = generate(seed=5), generate(seed=5)
    assert a[0].data == b[0].data
    assert generate(seed=6)[0].data != a[0].data


def test_it_honours_size_and_count():
    images = generate(count=3, width=200, height=120, seed=1)
    assert len(images) == 3
    assert all((i.width, i.height) == (200, 120) for i in images)
    assert Image.open(io.BytesIO(images[0].data)).size == (200, 120)
    assert len({i.data for i in images}) == 3


def test_colour_words_drive_the_palette():
    img = rgb(generate(prompt="red red red", seed=3)[0].data)
    r, g, b = img[..., 0].mean(), img[..., 1].mean(), img[..., 2].mean()
    assert r > g + 40 and r > b + 40


def test_the_negative_prompt_removes_a_named_colour():
    palette = builtin.palette_for("red and blue", "red", __import__("random").Random(1))
    assert builtin.COLOUR_WORDS["red"] not in palette
    assert builtin.COLOUR_WORDS["blue"] in palette


def test_the_negative_prompt_removes_a_named_motif():
    import random

    assert "stars" not in builtin.motifs_for("stars and waves", "stars", random.Random(1))
    assert "waves" in builtin.motifs_for("stars and waves", "stars", random.Random(1))


def test_quoted_text_is_set_as_type():
    plain = rgb(generate(prompt="minimal white", seed=2, width=256, height=256)[0].data)
    texted = rgb(generate(prompt='minimal white "SALE"', seed=2, width=256, height=256)[0].data)
    assert np.abs(plain - texted).mean() > 2
    assert builtin.quoted_text('a poster "Hello there" now') == "Hello there"


def test_it_is_registered_and_resolvable():
    spec, engine = registry.resolve("builtin:procedural", Capability.TEXT_TO_IMAGE)
    assert spec.engine == "builtin" and isinstance(engine, builtin.ProceduralEngine)


@pytest.mark.parametrize("size", [(64, 4096), (4096, 64)])
def test_extreme_aspect_ratios_render(size):
    (img,) = generate(width=size[0], height=size[1], seed=1)
    assert (img.width, img.height) == size
