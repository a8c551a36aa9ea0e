"""The stored render cache of mockup URLs: files in storage, indexed by `RenderCacheEntry` rows,
bounded per shop, and the billing of fresh renders.

A render is stored once under `mockup-cache/<shop>/<key[:2]>/<key>.<fmt>` and served from there
while it lasts (hits are free). Each shop's renders are kept under
MOCKUP_RENDER_CACHE_MB_PER_SHOP: once over, the oldest are evicted (first written, first out)
down to 90% of it, so a flood of distinct URLs cannot fill the storage. A fresh render is
charged to the shop like any other work (seed 000: plan budget, then wallet, then 429).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, default_storage
from django.db import transaction
from django.db.models import Sum

from generations.models import PriceRule
from mockups.errors import MockupError
from mockups.models import ProductTemplate, RenderCacheEntry
from studio import actions as studio_actions
from studio.models import Shop

log = logging.getLogger(__name__)
PREFIX = "mockup-cache"
PRICE_KIND = "mockup"


def cache_name(shop: Shop, key: str, fmt: str) -> str:
    return f"{PREFIX}/{shop.slug}/{key[:2]}/{key}.{fmt}"


def read(name: str) -> bytes:
    """The stored render, or b"" for a miss (however the storage says it: S3 has its own)."""
    try:
        with default_storage.open(name, "rb") as fh:
            return fh.read()
    except Exception:
        return b""


def local_path(name: str) -> str:
    """The file's path on this machine when the storage is the local filesystem, else ""."""
    if isinstance(default_storage, FileSystemStorage):
        return default_storage.path(name)
    return ""


def read_local(path: str) -> bytes:
    """A stored render read straight from its local path (a remembered hit: no storage layer,
    whose name checks were made when the path was found), or b"" once it is gone."""
    try:
        with open(path, "rb") as fh:
            return fh.read()
    except OSError:
        return b""


def render_price(template: ProductTemplate) -> int:
    """Cents for one fresh render: the most specific PriceRule of kind "mockup" (its model may
    name a template slug, its engine "mockups"), else MOCKUP_RENDER_PRICE_CENTS."""
    rules = PriceRule.objects.filter(
        kind=PRICE_KIND, engine__in=["", "mockups"], model__in=["", template.slug]
    )
    best = max(rules, key=lambda r: r.specificity, default=None)
    return best.cents_per_output if best else int(settings.MOCKUP_RENDER_PRICE_CENTS)


def quota_exceeded(required: int, available: int) -> MockupError:
    return MockupError(
        f"Shop quota exceeded: API credits exhausted and no wallet balance (a fresh render "
        f"costs {required}¢, {available}¢ left).",
        429,
        "quota_exceeded",
    )


def check_balance(shop: Shop, cents: int) -> None:
    """Refuse before rendering when the shop cannot pay (a fresh read of its balance)."""
    if cents <= 0:
        return
    fresh = Shop.objects.only(
        "plan_budget_cents", "plan_used_cents", "plan_period", "wallet_cents"
    ).get(pk=shop.pk)
    if fresh.balance_cents < cents:
        raise quota_exceeded(cents, fresh.balance_cents)


@dataclass(frozen=True)
class Stored:
    cents: int  # what the render was charged


def store(shop: Shop, name: str, data: bytes, *, cents: int, memo: str) -> Stored:
    """Keep a fresh render and charge it, together: the file first (storage is not
    transactional), then the charge and the index row in one transaction; a failed charge
    removes the file again. Raises MockupError 429 when the shop cannot pay."""
    written = False
    if not default_storage.exists(name):
        saved = default_storage.save(name, ContentFile(data))
        written = True
        if saved != name:  # another process stored the same render meanwhile
            default_storage.delete(saved)
            written = False
    try:
        with transaction.atomic():
            if cents > 0:
                studio_actions.charge(shop, cents, memo=memo)
            # One INSERT that leaves an existing row (the same render stored meanwhile) alone.
            RenderCacheEntry.objects.bulk_create(
                [RenderCacheEntry(name=name, shop=shop, bytes=len(data))], ignore_conflicts=True
            )
    except studio_actions.InsufficientCredits as exc:
        if written:
            default_storage.delete(name)
        raise quota_exceeded(exc.required_cents, exc.available_cents) from None
    except BaseException:
        if written:
            default_storage.delete(name)
        raise
    evict(shop)
    return Stored(cents)


def evict(shop: Shop, *, budget_bytes: int | None = None) -> int:
    """Delete the shop's oldest renders while its cache is over budget, down to 90% of it.
    Returns how many were evicted."""
    budget = (
        budget_bytes
        if budget_bytes is not None
        else int(float(settings.MOCKUP_RENDER_CACHE_MB_PER_SHOP) * 1024 * 1024)
    )
    entries = RenderCacheEntry.objects.filter(shop=shop)
    total = entries.aggregate(total=Sum("bytes"))["total"] or 0
    if total <= budget:
        return 0
    target = int(budget * 0.9)
    evicted = 0
    for entry in entries.order_by("created_at", "id").iterator(chunk_size=200):
        if total <= target:
            break
        # The row goes first: a request that still finds the file serves it, one that does
        # not re-renders; a file without a row is what the orphan sweeper removes.
        if RenderCacheEntry.objects.filter(pk=entry.pk).delete()[0]:
            try:
                default_storage.delete(entry.name)
            except Exception:
                log.warning("render cache: could not delete %s (left to the sweeper)", entry.name)
            total -= entry.bytes
            evicted += 1
    return evicted
