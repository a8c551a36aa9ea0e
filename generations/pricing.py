"""The price table: cents per output for an engine / model / resolution / job kind.

Every price in the studio is looked up here (`best_rule`, `price_per_output`); route families
and image operations only add their own fallbacks around it. The table is small and read on
every page that shows a price, so it is kept whole in Django's cache (shared by web and worker
processes) and dropped whenever a PriceRule is saved or deleted, once more after the commit so a
reader inside the writing transaction cannot put the old table back. A TTL backstops writes that
send no signals (queryset.update, data migrations).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from generations.models import PriceRule

CACHE_KEY = "pricing:rules:v1"


def _key() -> str:
    # Per database: processes sharing one cache (a file cache under .data/, one Redis) may
    # serve different databases (the dev server, test workers).
    return f"{CACHE_KEY}:{connection.settings_dict['NAME']}"


CACHE_SECONDS = 300


@dataclass(frozen=True)
class Rule:
    """One PriceRule row as a plain value (blank fields match anything)."""

    engine: str
    model: str
    resolution: str
    kind: str
    cents_per_output: int

    specificity = PriceRule.specificity  # the same order: model, engine, resolution, kind

    def matches(self, engine: str, model: str, resolution: str, kind: str) -> bool:
        return (
            self.engine in ("", engine)
            and self.model in ("", model)
            and self.resolution in ("", resolution)
            and self.kind in ("", kind)
        )


def rules() -> list[Rule]:
    """Every price rule, from the cache (one query when it is cold)."""
    table = cache.get(_key())
    if table is None:
        table = [
            Rule(*row)
            for row in PriceRule.objects.order_by().values_list(
                "engine", "model", "resolution", "kind", "cents_per_output"
            )
        ]
        cache.set(_key(), table, CACHE_SECONDS)
    return table


def best_rule(
    *,
    engine: str = "",
    model: str = "",
    resolution: str = "",
    kind: str = "",
    among: Callable[[Rule], bool] | None = None,
) -> Rule | None:
    """The most specific rule matching this work (optionally only rules `among` accepts)."""
    best: Rule | None = None
    for rule in rules():
        if not rule.matches(engine, model, resolution, kind):
            continue
        if among is not None and not among(rule):
            continue
        if best is None or rule.specificity > best.specificity:
            best = rule
    return best


def price_per_output(
    *, engine: str = "", model: str = "", resolution: str = "", kind: str = ""
) -> int:
    """Cents per output: the best rule, else DEFAULT_PRICE_CENTS_PER_IMAGE."""
    best = best_rule(engine=engine, model=model, resolution=resolution, kind=kind)
    return best.cents_per_output if best else settings.DEFAULT_PRICE_CENTS_PER_IMAGE


def forget_prices() -> None:
    cache.delete(_key())


@receiver(post_save, sender=PriceRule, dispatch_uid="pricing-forget-on-save")
@receiver(post_delete, sender=PriceRule, dispatch_uid="pricing-forget-on-delete")
def _price_rule_changed(**_: Any) -> None:
    forget_prices()
    transaction.on_commit(forget_prices)
