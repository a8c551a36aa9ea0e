"""create_preset / update_preset / delete_preset: the one place presets are written."""

from __future__ import annotations

import pytest

from generations.library import store_asset
from generations.models import Asset, Preset
from generations.presets import (
    PresetError,
    PresetFields,
    create_preset,
    delete_preset,
    update_preset,
)
from tests.conftest import png_bytes

pytestmark = pytest.mark.django_db


def fields(**over):
    base = {
        "name": "Sticker",
        "template": "a {{style}} sticker of {{subject}}",
        "variables": [{"key": "style", "label": "Style", "default": "flat", "type": "text"}],
        "negative_prompt": "blurry",
        "aspect_ratio": "1:1",
        "model": "",
    }
    base.update(over)
    return PresetFields(**base)


def test_it_creates_a_preset_with_undeclared_placeholders_as_required_variables(shop, user):
    preset = create_preset(shop, fields(), by=user)
    preset.refresh_from_db()
    assert preset.shop == shop
    assert preset.created_by == user
    assert [v["key"] for v in preset.variables] == ["style", "subject"]
    subject = preset.variables[1]
    assert subject["required"] is True
    assert subject["label"] == "Subject"
    assert preset.negative_prompt == "blurry"


def test_it_updates_fields_and_keeps_shop_and_author(shop, user, make_user):
    preset = create_preset(shop, fields(), by=user)
    other = make_user("other@example.com")
    update_preset(preset, fields(name="Poster", template="a poster of {{thing}}", variables=[]))
    preset.refresh_from_db()
    assert preset.name == "Poster"
    assert [v["key"] for v in preset.variables] == ["thing"]
    assert preset.created_by == user != other
    assert preset.shop == shop


def test_it_rejects_invalid_variables_and_writes_nothing(shop, user):
    bad = fields(variables=[{"key": "1bad", "label": "Bad"}])
    with pytest.raises(PresetError):
        create_preset(shop, bad, by=user)
    assert not Preset.objects.filter(shop=shop).exists()

    preset = create_preset(shop, fields(), by=user)
    with pytest.raises(PresetError):
        update_preset(preset, fields(name="Changed", variables=[{"key": "x"}, {"key": "x"}]))
    preset.refresh_from_db()
    assert preset.name == "Sticker"


def test_it_deletes_a_preset_and_keeps_its_assets(shop, user):
    preset = create_preset(shop, fields(), by=user)
    asset = store_asset(shop, png_bytes(), kind=Asset.Kind.UPLOAD, user=user, preset=preset)
    delete_preset(preset)
    assert not Preset.objects.filter(id=preset.id).exists()
    asset.refresh_from_db()
    assert asset.preset_id is None


def test_the_demo_presets_are_created_through_the_action(shop, user):
    from studio.management.commands.load_demo import DEMO_PRESETS

    for raw in DEMO_PRESETS:
        create_preset(shop, PresetFields(**raw), by=user)
    assert sorted(Preset.objects.filter(shop=shop).values_list("name", flat=True)) == sorted(
        p["name"] for p in DEMO_PRESETS
    )
