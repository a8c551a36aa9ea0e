"""The price table: cents per output for an engine / model / resolution / job kind."""

from __future__ import annotations

from django.conf import settings

from generations.models import PriceRule


def price_per_output(
    *, engine: str = "", model: str = "", resolution: str = "", kind: str = ""
) -> int:
    rules = PriceRule.objects.filter(
        engine__in=["", engine],
        model__in=["", model],
        resolution__in=["", resolution],
        kind__in=["", kind],
    )
    best = max(rules, key=lambda r: r.specificity, default=None)
    return best.cents_per_output if best else settings.DEFAULT_PRICE_CENTS_PER_IMAGE
