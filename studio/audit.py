"""The audit trail: one append-only row per staff action or moderation decision.

Actions call `record(...)` inside their own transaction, so a decision and its audit row commit
or roll back together. Rows are never edited: `AuditEntry.save` refuses updates, the admin shows
them read-only, and corrections are new actions with their own rows.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from uuid import UUID

from django.db import models

from studio.models import AuditEntry, Shop

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

log = logging.getLogger("studio.audit")


def actor_label(user: AbstractBaseUser | None) -> str:
    if user is None:
        return "system"
    email = getattr(user, "email", "") or ""
    name = user.get_username()
    return name if not email or email == name else f"{name} <{email}>"


def _plain(value: Any) -> Any:
    """A JSON-friendly copy of a field value (model instances become their primary key)."""
    if isinstance(value, models.Model):
        return _plain(value.pk)
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, models.fields.files.FieldFile):
        return value.name or ""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    return value


def snapshot(obj: models.Model, fields: Iterable[str] | None = None) -> dict[str, Any]:
    """The named (or all concrete, non-secret) fields of `obj` as plain values."""
    names = (
        list(fields)
        if fields is not None
        else [f.attname for f in obj._meta.concrete_fields if f.attname not in SECRET_FIELDS]
    )
    return {name: _plain(getattr(obj, name, None)) for name in names}


# Never copied into the trail: it is readable by more staff than the objects themselves.
SECRET_FIELDS = frozenset(
    {
        "key_hash",
        "token_hash",
        "secret",
        "url_signing_secret",
        "url_signing_secret_previous",
        "password",
    }
)


def changed(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Only the keys whose values differ, from both sides."""
    keys = [k for k in {**before, **after} if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after.get(k) for k in keys}


def _shop_of(target: models.Model) -> Shop | None:
    if isinstance(target, Shop):
        return target
    shop_id = getattr(target, "shop_id", None)
    if shop_id is not None:
        return Shop(pk=shop_id)
    return None


def record(
    actor: AbstractBaseUser | None,
    action: str,
    target: models.Model,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reason: str = "",
    shop: Shop | None = None,
) -> AuditEntry:
    """Append one row. `action` is a dotted verb such as `asset.hide` or `shop.suspend`."""
    shop = shop if shop is not None else _shop_of(target)
    entry = AuditEntry.objects.create(
        actor=actor if actor is not None and actor.pk else None,
        actor_label=actor_label(actor)[:200],
        action=action[:60],
        shop_id=shop.pk if shop is not None else None,
        target_type=target._meta.label_lower[:60],
        target_id=str(target.pk)[:64],
        target_label=str(target)[:200],
        before=_plain(before or {}),
        after=_plain(after or {}),
        reason=reason,
    )
    log.info(
        "audit %s %s %s by %s: %s",
        action,
        entry.target_type,
        entry.target_id,
        entry.actor_label,
        reason,
    )
    return entry


def entries_for(target: models.Model) -> models.QuerySet[AuditEntry]:
    return AuditEntry.objects.filter(
        target_type=target._meta.label_lower, target_id=str(target.pk)
    ).select_related("actor")
