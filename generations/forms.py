"""Forms for the prompt, uploads and presets. Every page form works without JavaScript."""

from __future__ import annotations

import json
from typing import Any

from django import forms

from generations.actions import ASPECT_RATIOS, MAX_COUNT
from generations.engines import registry
from generations.models import Preset
from generations.presets import PresetError, parse_variables, placeholders


class PromptForm(forms.Form):
    prompt = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=4000
    )
    negative_prompt = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=2000
    )
    preset = forms.ChoiceField(required=False)
    aspect_ratio = forms.ChoiceField(choices=[(r, r) for r in ASPECT_RATIOS], initial="1:1")
    count = forms.IntegerField(min_value=1, max_value=MAX_COUNT, initial=2)
    model = forms.ChoiceField(required=False)
    seed = forms.IntegerField(required=False, min_value=0, max_value=2**31 - 1)

    def __init__(self, *args: Any, shop: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        presets = Preset.objects.filter(shop=shop) if shop else Preset.objects.none()
        self.fields["preset"].choices = [("", "— none —")] + [(str(p.id), p.name) for p in presets]
        models = registry.available_models()
        # Only configured models are offered, each with its price per image.
        self.fields["model"].choices = [
            (m.name, f"{m.label or m.name} · {model_price(m)}¢/image") for m in models
        ]
        self.fields["model"].initial = registry.default_model_name(
            getattr(shop, "default_model", "")
        )


def model_price(spec: registry.ModelSpec) -> int:
    from generations.pricing import price_per_output

    return price_per_output(engine=spec.engine, model=spec.name, kind="generate")


class UploadForm(forms.Form):
    file = forms.FileField()


class PresetForm(forms.ModelForm):
    variables_json = forms.CharField(
        label="Variables (JSON)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text='[{"key": "product", "label": "Product", "required": true, "default": "", "type": "text"}]',
    )

    class Meta:
        model = Preset
        fields = ["name", "template", "negative_prompt", "aspect_ratio", "model"]
        widgets = {
            "template": forms.Textarea(attrs={"rows": 3}),
            "negative_prompt": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["aspect_ratio"] = forms.ChoiceField(choices=[(r, r) for r in ASPECT_RATIOS])
        self.fields["model"] = forms.ChoiceField(
            required=False,
            choices=[("", "— shop default —")]
            + [(m.name, m.label or m.name) for m in registry.available_models()],
        )
        if self.instance and self.instance.pk and not self.is_bound:
            self.initial["variables_json"] = json.dumps(self.instance.variables, indent=2)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        raw = data.get("variables_json") or "[]"
        try:
            parsed = json.loads(raw)
            declared = parse_variables(parsed)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError({"variables_json": f"Not valid JSON: {exc}"}) from exc
        except PresetError as exc:
            raise forms.ValidationError({"variables_json": str(exc)}) from exc
        keys = {v.key for v in declared}
        unknown = [p for p in placeholders(data.get("template", "")) if p not in keys]
        if unknown:
            # An undeclared placeholder becomes a free text variable, required, so nothing is silent.
            parsed += [
                {"key": k, "label": k.replace("_", " ").title(), "required": True, "type": "text"}
                for k in unknown
            ]
        data["variables"] = parsed
        return data

    def save(self, commit: bool = True) -> Preset:
        self.instance.variables = self.cleaned_data["variables"]
        return super().save(commit=commit)
