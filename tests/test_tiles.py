"""Library and gallery tiles: the values worked out in Python are what the template's filters and
{% url %} tags made of the same asset."""

from __future__ import annotations

from typing import Any

import pytest
from django.template import Context, Template

from generations.library import store_asset
from generations.models import Asset
from generations.tiles import tiles
from studio.models import Shop
from tests.conftest import png_bytes

pytestmark = pytest.mark.django_db

REFERENCE = Template(
    "{% if gallery %}{% url 'gallery_detail' a.id %}{% else %}{% url 'asset_detail' a.id %}"
    "{% endif %}|{{ a.caption|truncatechars:80 }}|{{ a.caption|truncatechars:100 }}"
    "|{{ a.caption|truncatechars:60 }}|{{ a.created_at|date:'c' }}|{{ a.created_at|date:'M j' }}"
    "|{% if gallery %}{% url 'public_asset_thumb' a.id %}{% elif a.thumbnail %}"
    "{{ a.thumbnail.url }}{% else %}{{ a.file.url }}{% endif %}"
)


def _made(shop: Shop) -> list[Asset]:
    png = png_bytes(4, 4)
    prompts = ["a fox", "é" * 79 + "ü" * 3, "x" * 200, "<b>tags & 'quotes'</b>" * 6]
    made = [store_asset(shop, png, kind=Asset.Kind.GENERATED, prompt=p) for p in prompts]
    Asset.objects.filter(pk=made[1].pk).update(moderation=Asset.Moderation.PENDING)
    Asset.objects.filter(pk=made[2].pk).update(is_public=True)
    Asset.objects.filter(pk=made[3].pk).update(content_type="video/mp4")
    return list(Asset.objects.filter(shop=shop).order_by("created_at"))


@pytest.mark.parametrize("gallery", [False, True])
def test_tiles_show_what_the_template_filters_showed(
    shop: Shop, gallery: bool, settings: Any
) -> None:
    settings.TIME_ZONE = "America/New_York"  # dates are in the site's time zone, as the filter's
    assets = _made(shop)
    made = tiles(assets, gallery=gallery)
    for a, t in zip(assets, made, strict=True):
        expected = REFERENCE.render(Context({"a": a, "gallery": gallery}, autoescape=False))
        got = "|".join([t.href, t.caption, t.alt, t.pick_label, t.iso, t.day, t.image])
        assert got == expected
    if not gallery:
        assert [t.meta for t in made] == [
            "Generated",
            "Generated · in review",
            "Generated · public",
            "Generated",
        ]
        assert made[0].mockup_href.endswith(f"?asset={assets[0].id}")
        assert made[3].mockup_href == ""  # a video
    else:
        assert {t.meta for t in made} == {"Generated"} and {t.mockup_href for t in made} == {""}
