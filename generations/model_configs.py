"""Staff's ModelConfig rows (admin-edited model names) as plain values for the engine catalogue.

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

from generations.models import ModelConfig

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


def forget_model_configs() -> None:
    cache.delete(_key())


@receiver(post_save, sender=ModelConfig, dispatch_uid="model-configs-forget-on-save")
@receiver(post_delete, sender=ModelConfig, dispatch_uid="model-configs-forget-on-delete")
def _model_config_changed(**_: Any) -> None:
    forget_model_configs()
    transaction.on_commit(forget_model_configs)
