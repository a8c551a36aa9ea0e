"""Designs in every mode the loader accepts render on products, large ones included."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from tests.mockups.conftest import asset_url, checkerboard
from tests.mockups.test_mockup_urls import signed

pytestmark = pytest.mark.django_db


def big(mode: str) -> Image.Image:
    """A 2400×2000 design (4.8 MP: over the size where the renderer reduces before converting)."""
    image = checkerboard(96).resize((2400, 2000), Image.Resampling.NEAREST)
    if mode == "I;16":
        grey = (np.asarray(image.convert("L"), np.uint16) * 257).astype("<u2")
        return Image.frombytes("I;16", image.size, grey.tobytes())
    return image.convert(mode)


@pytest.mark.parametrize("mode", ["P", "1", "I;16", "LA", "L"])
def test_it_renders_large_designs_in_every_accepted_mode(client, shop, store, mode):
    asset = store(big(mode))
    r = client.get(signed(shop, "tshirt", asset=asset_url(asset), shop=shop.slug, w=256))
    assert r.status_code == 200, r.content[:300]
    assert Image.open(io.BytesIO(r.content)).size == (256, 256)
