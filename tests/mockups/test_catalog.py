"""The built-in catalog: every product installs, renders a design where its print area is, and
its colour variants really change the product."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from mockups.catalog import CATALOG
from mockups.models import ProductTemplate
from mockups.products import ensure_catalog, spec_for
from mockups.render import Placement, compose, prepare_source
from mockups.sample import sample_design


@pytest.mark.django_db
def test_the_catalog_installs_once():
    ensure_catalog()
    ensure_catalog()
    assert ProductTemplate.objects.filter(shop=None).count() == len(CATALOG) >= 8
    kinds = dict(ProductTemplate.objects.filter(shop=None).values_list("slug", "kind"))
    assert kinds["mug"] == "cylinder" and kinds["poster-framed"] == "quad"


@pytest.mark.django_db
@pytest.mark.parametrize("slug", list(CATALOG))
def test_every_product_shows_the_design_in_its_print_area(slug):
    ensure_catalog([slug])
    template = ProductTemplate.objects.get(shop=None, slug=slug)
    spec = spec_for(template)
    design = prepare_source(sample_design(256), 1.0)
    blank = prepare_source(Image.new("RGBA", (256, 256), (0, 0, 0, 0)), 1.0)
    with_design = compose(spec, design, width=256, placement=Placement()).astype(int)
    without = compose(spec, blank, width=256, placement=Placement()).astype(int)
    changed = np.abs(with_design - without).max(axis=2) > 40
    assert changed.mean() > 0.015, "the design barely shows"
    # Shaded, not flat: the product photo has real tonal range.
    assert without.std() > 8
    ys, xs = np.nonzero(changed)
    x0, y0, x1, y1 = xs.min(), ys.min(), xs.max(), ys.max()
    assert 0 < x0 < x1 < 255 and 0 < y0 < y1 < 255  # the design stays on the product


@pytest.mark.django_db
@pytest.mark.parametrize("slug", [s for s, p in CATALOG.items() if p.variants])
def test_colour_variants_change_the_product(slug):
    ensure_catalog([slug])
    template = ProductTemplate.objects.get(shop=None, slug=slug)
    spec = spec_for(template)
    design = prepare_source(sample_design(128), 1.0)
    keys = [v["key"] for v in template.variants]
    first = compose(spec, design, width=256, variant=keys[0]).astype(int)
    second = compose(spec, design, width=256, variant=keys[1]).astype(int)
    assert (np.abs(first - second).max(axis=2) > 60).mean() > 0.01


def test_the_framed_posters_written_out_print_area_matches_its_frame():
    """POSTER_QUAD is written out so that importing the catalogue needs no OpenCV; it must stay
    what the frame's geometry gives."""
    from mockups import catalog

    assert catalog._flat_rect(catalog._poster_h(), 64.0) == catalog.POSTER_QUAD
