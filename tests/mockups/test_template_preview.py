"""preview_print_area: the template editor's live preview, rendered through the mockups action."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from mockups import actions
from mockups.models import ProductTemplate
from mockups.products import find_template

pytestmark = pytest.mark.django_db


def test_it_renders_the_unsaved_corners_and_saves_nothing(shop):
    template = find_template(shop, "mug")
    saved = ProductTemplate.objects.get(pk=template.pk)
    w, h = template.width, template.height
    small = [[w * 0.4, h * 0.4], [w * 0.6, h * 0.4], [w * 0.6, h * 0.6], [w * 0.4, h * 0.6]]
    large = [[w * 0.1, h * 0.1], [w * 0.9, h * 0.1], [w * 0.9, h * 0.9], [w * 0.1, h * 0.9]]

    first = actions.preview_print_area(template, small, template.blend)
    second = actions.preview_print_area(template, large, template.blend)

    assert first.content_type == "image/jpeg"
    assert Image.open(io.BytesIO(first.data)).width == 640
    assert first.data != second.data  # the corners given, not the stored ones, were used
    fresh = ProductTemplate.objects.get(pk=template.pk)
    assert fresh.print_area == saved.print_area and fresh.version == saved.version
