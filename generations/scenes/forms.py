"""The Product photos form: a product (picked from the library or uploaded), a preset or a
description of the scene, and how many variants at which aspect ratio."""

from __future__ import annotations

from typing import Any

from django import forms

from generations.models import Asset
from generations.scenes.actions import MAX_IMAGES, MAX_PROMPT, available_scene_models, scene_price
from generations.scenes.models import ASPECT_RATIOS
from generations.scenes.presets import PresetChoice, presets_for
from generations.scenes.spec import LIGHT_CHOICES, SURFACES

PRODUCT_CHOICES = 24  # recent library images offered as the product


def product_assets(shop: Any) -> list[Asset]:
    return list(
        Asset.objects.filter(shop=shop, content_type__startswith="image/")
        .select_related("shop")
        .only("id", "file", "thumbnail", "width", "height", "prompt", "kind", "shop__slug")[
            :PRODUCT_CHOICES
        ]
    )


class ScenePhotoForm(forms.Form):
    asset = forms.ChoiceField(
        label="Product from the library", required=False, widget=forms.RadioSelect
    )
    upload = forms.ImageField(
        label="…or upload a product photo",
        required=False,
        help_text="One product on a plain backdrop, or a cut-out PNG with transparency.",
    )
    preset = forms.ChoiceField(label="Preset", required=False)
    prompt = forms.CharField(
        label="Describe the scene",
        required=False,
        max_length=MAX_PROMPT,
        widget=forms.Textarea(
            attrs={"rows": 3, "placeholder": "on a marble table with soft natural lighting"}
        ),
        help_text="Surfaces, colours, props (podium, spheres, blocks, pebbles, arch), light "
        "(soft, natural, dramatic, backlit, golden hour, leaf shadows) and camera (low, high, "
        "flat lay).",
    )
    surface = forms.ChoiceField(
        required=False,
        choices=[("", "From the description")] + [(k, s.label) for k, s in SURFACES.items()],
    )
    light = forms.ChoiceField(
        required=False,
        choices=[("", "From the description")] + [(k, k.capitalize()) for k in LIGHT_CHOICES],
    )
    model = forms.ChoiceField(label="Model")
    num_images = forms.IntegerField(label="Variants", min_value=1, max_value=MAX_IMAGES, initial=2)
    aspect_ratio = forms.ChoiceField(
        label="Aspect ratio",
        required=False,
        choices=[("", "Preset’s, else 1:1")] + [(a, a) for a in ASPECT_RATIOS],
    )

    def __init__(
        self, *args: Any, shop: Any = None, assets: list[Asset] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.assets = assets if assets is not None else product_assets(shop)
        self.fields["asset"].choices = [(str(a.id), str(a.id)) for a in self.assets]
        self.presets: list[PresetChoice] = presets_for(shop)
        self.fields["preset"].choices = [("", "— none —")] + [
            (p.id, p.name + ("" if p.builtin else " (yours)")) for p in self.presets
        ]
        self.fields["model"].choices = [
            (m.name, f"{m.label or m.name} · {scene_price(m)}¢/image")
            for m in available_scene_models()
        ]
        self.fields["model"].initial = "builtin:scene"

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if not data.get("asset") and not data.get("upload"):
            self.add_error("asset", "Pick a product from the library or upload a photo.")
        if not (data.get("prompt") or "").strip() and not data.get("preset"):
            self.add_error("prompt", "Describe the scene or choose a preset.")
        return data

    def preset_choice(self) -> PresetChoice | None:
        wanted = self.cleaned_data.get("preset")
        return next((p for p in self.presets if p.id == wanted), None)


class ScenePresetForm(forms.Form):
    name = forms.CharField(max_length=80)
    prompt = forms.CharField(
        label="Scene", max_length=MAX_PROMPT, widget=forms.Textarea(attrs={"rows": 2})
    )
    surface = forms.ChoiceField(
        required=False, choices=ScenePhotoForm.base_fields["surface"].choices
    )
    light = forms.ChoiceField(required=False, choices=ScenePhotoForm.base_fields["light"].choices)
    aspect_ratio = forms.ChoiceField(label="Aspect ratio", choices=[(a, a) for a in ASPECT_RATIOS])
