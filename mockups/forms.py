"""Forms for shop templates, URL settings, listings and the public order form."""

from __future__ import annotations

import json
from typing import Any

from django import forms

from mockups.models import Listing, ProductTemplate


class ShopTemplateForm(forms.Form):
    name = forms.CharField(max_length=120)
    tags = forms.CharField(max_length=300, required=False)
    photo = forms.ImageField(help_text="A product photo (PNG with transparency keeps it).")
    blend = forms.ChoiceField(choices=ProductTemplate.Blend.choices)


class TemplateEditForm(forms.Form):
    name = forms.CharField(max_length=120)
    tags = forms.CharField(max_length=300, required=False)
    points = forms.CharField(
        label="Corners (JSON, clockwise from top-left, photo pixels)",
        widget=forms.TextInput(attrs={"spellcheck": "false"}),
    )
    blend = forms.ChoiceField(choices=ProductTemplate.Blend.choices)
    mask = forms.ImageField(required=False, help_text="Greyscale: white prints, black does not.")
    clear_mask = forms.BooleanField(required=False, label="Remove the mask")

    def clean_points(self) -> Any:
        try:
            return json.loads(self.cleaned_data["points"])
        except ValueError as exc:
            raise forms.ValidationError("The print-area corners are not valid.") from exc


class UrlSettingsForm(forms.Form):
    trusted_origins = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        help_text="One origin per line, e.g. https://cdn.example.com",
    )
    require_signed_urls = forms.BooleanField(
        required=False,
        label="Require signed mockup URLs",
        help_text="Recommended. When off, anyone with a mockup or buy link can change its "
        "parameters and make this shop pay for fresh renders (rate limited per visitor).",
    )


class ListingForm(forms.Form):
    title = forms.CharField(max_length=160)
    price = forms.DecimalField(min_value=0, max_digits=9, decimal_places=2)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    sizes = forms.CharField(required=False, help_text="Comma-separated, e.g. S, M, L, XL")

    def __init__(self, *args: Any, template: ProductTemplate | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if template is not None and template.variants and not self.initial.get("sizes"):
            self.initial.setdefault(
                "sizes",
                "S, M, L, XL" if "shirt" in template.tags or "hoodie" in template.tags else "",
            )

    def clean_sizes(self) -> list[str]:
        return [s.strip()[:20] for s in self.cleaned_data["sizes"].split(",") if s.strip()][:20]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("price") is not None:
            data["price_cents"] = round(data["price"] * 100)
        return data


class OrderForm(forms.Form):
    name = forms.CharField(max_length=120)
    email = forms.EmailField()
    variant = forms.ChoiceField(required=False, label="Colour")
    size = forms.ChoiceField(required=False)
    quantity = forms.IntegerField(min_value=1, max_value=100, initial=1)
    note = forms.CharField(max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, listing: Listing, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        variants = listing.template.variants or []
        self.fields["variant"].choices = [(v["key"], v["name"]) for v in variants]
        if not variants:
            del self.fields["variant"]
        self.fields["size"].choices = [(s, s) for s in listing.sizes]
        if listing.sizes:
            self.fields["size"].required = True
        else:
            del self.fields["size"]
