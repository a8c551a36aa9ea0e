"""Preset templates: declared variables, rendering, and clear errors."""

from __future__ import annotations

import pytest

from generations import actions
from generations.models import Job, Preset
from generations.presets import PresetError, parse_variables, placeholders, render_template

VARS = [
    {"key": "product", "label": "Product", "required": True, "type": "text"},
    {"key": "style", "label": "Style", "default": "flat", "type": "text"},
    {"key": "photo", "label": "Photo", "required": False, "type": "file"},
]


def test_it_fills_values_then_defaults():
    declared = parse_variables(VARS)
    out = render_template("a {{style}} shot of {{ product }}", declared, {"product": "mug"})
    assert out == "a flat shot of mug"


def test_it_reports_every_missing_required_variable_by_label():
    declared = parse_variables([*VARS, {"key": "colour", "label": "Colour", "required": True}])
    with pytest.raises(
        PresetError, match=r"Missing required variables: Product \(product\), Colour \(colour\)"
    ):
        render_template("{{product}} {{colour}}", declared, {"product": "  "})


def test_a_required_variable_with_a_default_is_satisfied():
    declared = parse_variables([{"key": "x", "label": "X", "required": True, "default": "d"}])
    assert render_template("[{{x}}]", declared, {}) == "[d]"


def test_file_variables_are_described_not_inlined():
    declared = parse_variables(VARS)
    out = render_template(
        "{{product}} next to {{photo}}", declared, {"product": "mug", "photo": "abc"}
    )
    assert out == "mug next to the photo"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"key": "x"}, "must be a list"),
        (["x"], "must be an object"),
        ([{"key": "1bad"}], "must be letters"),
        ([{"key": "a"}, {"key": "a"}], "declared twice"),
        ([{"key": "a", "type": "audio"}], "unknown type"),
    ],
)
def test_it_rejects_malformed_variable_declarations(raw, message):
    with pytest.raises(PresetError, match=message):
        parse_variables(raw)


def test_placeholders_lists_each_once_in_order():
    assert placeholders("{{b}} {{a}} {{ b }}") == ["b", "a"]


@pytest.mark.django_db
def test_a_generation_from_a_preset_uses_its_template_and_defaults(shop, user):
    preset = Preset.objects.create(
        shop=shop,
        name="Mug",
        template="{{style}} mug with {{motif}}",
        variables=[*VARS[1:2], {"key": "motif", "label": "Motif", "required": True}],
        negative_prompt="red",
        aspect_ratio="16:9",
    )
    job = actions.submit_generation(
        shop, actions.GenerationSpec(preset=preset, variables={"motif": "waves"}), user=user
    )
    assert job.params["prompt"] == "flat mug with waves"
    assert job.params["negative_prompt"] == "red"
    assert (job.params["width"], job.params["height"]) == (1024, 576)
    assert job.preset == preset


@pytest.mark.django_db
def test_a_missing_preset_variable_creates_nothing(shop, user):
    preset = Preset.objects.create(
        shop=shop,
        name="P",
        template="{{motif}}",
        variables=[{"key": "motif", "label": "Motif", "required": True}],
    )
    with pytest.raises(actions.JobError, match="Missing required variable: Motif"):
        actions.submit_generation(shop, actions.GenerationSpec(preset=preset), user=user)
    assert not Job.objects.exists()


@pytest.mark.django_db
def test_another_shops_preset_is_refused(shop, user, make_user):
    from studio.models import Membership

    other = Membership.objects.get(user=make_user("b@example.com")).shop
    preset = Preset.objects.create(shop=other, name="P", template="x")
    with pytest.raises(actions.JobError, match="Unknown preset"):
        actions.submit_generation(shop, actions.GenerationSpec(preset=preset), user=user)
