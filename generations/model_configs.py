"""Staff's ModelConfig rows (admin-edited model names) as plain values for the engine catalogue
(generations.engines.catalog.StaffModel; engines import no models), and saving one.

The catalogue is consulted many times per request (every model resolve), so the rows are read
once into Django's cache (shared by web and worker processes) and dropped whenever staff save or
delete a row, once more after the commit so a reader inside the writing transaction cannot put
the old rows back. A TTL backstops writes that send no signals (queryset.update). A database
error is not hidden: falling back to the built-in catalogue would re-enable models staff turned
off.
"""

from __future__ import annotations

from typing import Any

from django.core.cache import cache
from django.db import connection, transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from generations.engines.catalog import StaffModel
from generations.models import ModelConfig, PriceRule

CACHE_KEY = "catalog:model-configs:v1"


def _key() -> str:
    # Per database: processes sharing one cache (a file cache under .data/, one Redis) may
    # serve different databases (the dev server, test workers).
    return f"{CACHE_KEY}:{connection.settings_dict['NAME']}"


CACHE_SECONDS = 300
FIELDS = (
    "name",
    "engine",
    "provider_model",
    "capabilities",
    "label",
    "description",
    "enabled",
    "max_count",
)


def rows() -> list[dict[str, Any]]:
    """Every ModelConfig row as a dict of FIELDS, ordered by name (one query when cold)."""
    found = cache.get(_key())
    if found is None:
        found = list(ModelConfig.objects.order_by("name").values(*FIELDS))
        cache.set(_key(), found, CACHE_SECONDS)
    return found


def staff_models() -> list[StaffModel]:
    """The rows as the engine catalogue takes them (registered by GenerationsConfig.ready)."""
    return [
        StaffModel(
            name=row["name"],
            engine=row["engine"],
            provider_model=row["provider_model"],
            capabilities=tuple(row["capabilities"] or ()),
            label=row["label"],
            description=row["description"],
            enabled=row["enabled"],
            max_count=row["max_count"],
        )
        for row in rows()
    ]


def save_model_config(config: ModelConfig) -> None:
    """Save a ModelConfig and keep its price as the model's catch-all PriceRule."""
    with transaction.atomic():
        config.save()
        rule = PriceRule.objects.filter(engine="", model=config.name, resolution="", kind="")
        if config.price_cents is None:
            rule.delete()
        else:
            PriceRule.objects.update_or_create(
                engine="",
                model=config.name,
                resolution="",
                kind="",
                defaults={"cents_per_output": config.price_cents},
            )


def forget_model_configs() -> None:
    cache.delete(_key())


@receiver(post_save, sender=ModelConfig, dispatch_uid="model-configs-forget-on-save")
@receiver(post_delete, sender=ModelConfig, dispatch_uid="model-configs-forget-on-delete")
def _model_config_changed(**_: Any) -> None:
    forget_model_configs()
    transaction.on_commit(forget_model_configs)
