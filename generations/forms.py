"""Forms for the prompt, uploads and presets. Every page form works without JavaScript."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.urls import reverse

from generations.actions import ASPECT_RATIOS, MAX_COUNT
from generations.engines import registry
from generations.models import Preset
from generations.presets import (
    KEY_PATTERN,
    VARIABLE_TYPES,
    PresetError,
    parse_variables,
)

COUNT_MESSAGE = f"Count must be a whole number from 1 to {MAX_COUNT}."


def model_choices(blank_label: str) -> list[tuple[str, str]]:
    # Only configured models are offered, each with its price per image.
    return [("", blank_label)] + [
        (m.name, f"{m.label or m.name} · {model_price(m)}¢/image")
        for m in registry.available_models()
    ]


class PromptForm(forms.Form):
    prompt = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": 'a teal cat under a moon, "HELLO"'}),
        required=False,
        max_length=4000,
        help_text='Colour words set the palette; text in "quotes" is set as type.',
    )
    negative_prompt = forms.CharField(
        label="Negative prompt",
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=2000,
        help_text="Colours and motifs to avoid.",
    )
    preset = forms.ModelChoiceField(
        queryset=Preset.objects.none(),
        required=False,
        empty_label="— none —",
    )
    aspect_ratio = forms.ChoiceField(
        label="Aspect ratio",
        choices=[("", "Auto")] + [(r, r) for r in ASPECT_RATIOS],
        help_text="Auto: the preset’s, else square.",
        required=False,
    )
    count = forms.IntegerField(
        min_value=1,
        max_value=MAX_COUNT,
        initial=2,
        error_messages={
            "min_value": COUNT_MESSAGE,
            "max_value": COUNT_MESSAGE,
            "invalid": COUNT_MESSAGE,
            "required": COUNT_MESSAGE,
        },
    )
    model = forms.ChoiceField(required=False)
    seed = forms.IntegerField(
        required=False,
        min_value=0,
        max_value=2**31 - 1,
        help_text="Blank: random. Same seed + prompt, same image.",
    )

    def __init__(self, *args: Any, shop: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        preset_field = self.fields["preset"]
        preset_field.queryset = (  # type: ignore[attr-defined]
            Preset.objects.filter(shop=shop) if shop is not None else Preset.objects.none()
        )
        # With JavaScript, choosing a preset swaps in its variable fields.
        preset_field.widget.attrs.update(
            {
                "hx-get": reverse("preset_fields"),
                "hx-target": "#preset-fields",
                "hx-trigger": "change",
                "hx-include": "#prompt-form [name^='var_']",
            }
        )
        default = registry.default_model_name(getattr(shop, "default_model", ""))
        label = next(
            (m.label for m in registry.all_models() if m.name == default and m.label), default
        )
        self.fields["model"].choices = model_choices(f"Auto · {label}")
        self.fields["model"].error_messages["invalid_choice"] = (
            "Unknown model %(value)s: choose one of the listed models."
        )


def model_price(spec: registry.ModelSpec) -> int:
    from generations.pricing import price_per_output

    return price_per_output(engine=spec.engine, model=spec.name, kind="generate")


class UploadForm(forms.Form):
    file = forms.FileField(
        label="Upload an image",
        help_text="PNG, JPEG or WebP.",
        widget=forms.ClearableFileInput(attrs={"accept": "image/png,image/jpeg,image/webp"}),
    )

    def clean_file(self) -> Any:
        uploaded = self.cleaned_data["file"]
        if uploaded.size > settings.IMAGE_MAX_BYTES:
            # Refuse before reading it into memory.
            raise forms.ValidationError(
                f"The file is {uploaded.size:,} bytes; the limit is {settings.IMAGE_MAX_BYTES:,} bytes."
            )
        return uploaded


class PresetForm(forms.ModelForm):
    class Meta:
        model = Preset
        fields = ["name", "template", "negative_prompt", "aspect_ratio", "model"]
        labels = {"template": "Prompt template", "negative_prompt": "Default negative prompt"}
        help_texts = {
            "template": "Write {{name}} where a variable goes, e.g. a sticker of {{subject}}.",
        }
        widgets = {
            "template": forms.Textarea(attrs={"rows": 3}),
            "negative_prompt": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["aspect_ratio"] = forms.ChoiceField(
            label="Aspect ratio", choices=[(r, r) for r in ASPECT_RATIOS], initial="1:1"
        )
        self.fields["model"] = forms.ChoiceField(
            required=False, choices=model_choices("— shop default —")
        )


class VariableForm(forms.Form):
    """One row of the preset variables editor."""

    key = forms.CharField(
        max_length=40,
        required=False,
        help_text="As written in the template: {{key}}",
        widget=forms.TextInput(attrs={"autocapitalize": "off", "spellcheck": "false"}),
    )
    label = forms.CharField(max_length=80, required=False)
    type = forms.ChoiceField(
        choices=[(t, "Image from library" if t == "file" else "Text") for t in VARIABLE_TYPES],
        initial="text",
        required=False,  # a blank row stays blank; a missing type means text
    )
    required = forms.BooleanField(required=False)
    default = forms.CharField(max_length=400, required=False)

    def clean_key(self) -> str:
        key = self.cleaned_data["key"].strip()
        if key and not KEY_PATTERN.match(key):
            raise forms.ValidationError(
                "Use letters, digits or _ and start with a letter (at most 40)."
            )
        return key


class BaseVariableFormSet(forms.BaseFormSet):
    def variables(self) -> list[dict[str, Any]]:
        out = []
        for form in self.forms:
            data = getattr(form, "cleaned_data", None) or {}
            if not data.get("key") or data.get("DELETE"):
                continue
            out.append(
                {
                    "key": data["key"],
                    "label": data.get("label") or data["key"].replace("_", " ").capitalize(),
                    "required": bool(data.get("required")),
                    "default": data.get("default", ""),
                    "type": data.get("type") or "text",
                }
            )
        return out

    def clean(self) -> None:
        if any(self.errors):
            return
        try:
            parse_variables(self.variables())
        except PresetError as exc:
            raise forms.ValidationError(str(exc)) from exc


VariableFormSet = forms.formset_factory(
    VariableForm,
    formset=BaseVariableFormSet,
    extra=2,
    can_delete=True,
    max_num=30,
    absolute_max=30,  # a tampered TOTAL_FORMS cannot make the page build thousands of rows
)
