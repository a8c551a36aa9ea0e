"""Suspending a shop: its API keys, studio pages, mockup URLs and buy pages refuse, with a reason.

Nothing is deleted and no money moves: reinstating the shop brings everything back. Where each
door refuses (docs/admin.md): `apikeys.check` (API), `permissions.shop_required` (pages),
`mockups.actions.mockup` and `listing_unavailable` (public URLs), `moderation.gallery_assets`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.db import transaction
from django.dispatch import Signal
from django.utils import timezone

from studio import apikeys, audit
from studio.models import Shop

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

# Sent after commit with `shop_ids` when shops are suspended or reinstated: process-local caches
# that hold shop rows (mockup lookups) listen.
shop_status_changed = Signal()

_FIELDS = ("suspended_at", "suspension_reason")


class SuspensionError(ValueError):
    pass


def _apply(
    shops: Iterable[Shop], *, suspend: bool, by: AbstractBaseUser, reason: str
) -> list[Shop]:
    reason = (reason or "").strip()
    if not reason:
        raise SuspensionError("Give a reason: the shop's members see it.")
    done: list[Shop] = []
    now = timezone.now()
    with transaction.atomic():
        for shop in Shop.objects.select_for_update().filter(pk__in=[s.pk for s in shops]):
            if (shop.suspended_at is not None) == suspend:
                continue
            before = audit.snapshot(shop, _FIELDS)
            shop.suspended_at = now if suspend else None
            shop.suspension_reason = reason if suspend else ""
            # save() (not update()) so the API key cache forgets the shop (StudioConfig.ready).
            shop.save(update_fields=list(_FIELDS))
            audit.record(
                by,
                "shop.suspend" if suspend else "shop.reinstate",
                shop,
                before=before,
                after=audit.snapshot(shop, _FIELDS),
                reason=reason,
            )
            done.append(shop)
        if done:
            ids = [s.pk for s in done]
            # Now and again after commit: a lookup in between may cache the row from before.
            _after(ids)
            transaction.on_commit(lambda: _after(ids))
    return done


def _after(shop_ids: list[int]) -> None:
    for shop_id in shop_ids:
        apikeys.forget_shop(shop_id)
    shop_status_changed.send(sender=Shop, shop_ids=shop_ids)


def suspend_shops(shops: Iterable[Shop], *, by: AbstractBaseUser, reason: str) -> list[Shop]:
    """Suspend the shops not suspended yet; returns those that changed."""
    return _apply(shops, suspend=True, by=by, reason=reason)


def reinstate_shops(shops: Iterable[Shop], *, by: AbstractBaseUser, reason: str) -> list[Shop]:
    """Lift the suspension of the suspended ones; returns those that changed."""
    return _apply(shops, suspend=False, by=by, reason=reason)
