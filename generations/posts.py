"""Posts (seed 003): text plus media from the shop's library, stored for later publishing."""

from __future__ import annotations

import uuid
from typing import Any

from django.db import transaction

from generations.models import Asset, Post
from studio.models import Shop


class PostError(ValueError):
    """A post that cannot be stored; nothing was written. Message is for the user."""

    def __init__(self, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.details = details


def create_post(shop: Shop, *, text: str, media_ids: list[str], source: str = "web") -> Post:
    """Store a post whose media are all assets of `shop` (in the order given, duplicates once)."""
    if not text.strip() and not media_ids:
        raise PostError("A post needs text or media_ids.")
    ids: list[str] = []
    for mid in media_ids:
        try:
            ids.append(str(uuid.UUID(mid)))
        except ValueError:
            raise PostError(f"media_ids: {mid[:60]!r} is not a media id.") from None
    ids = list(dict.fromkeys(ids))
    found = {str(a.id): a for a in Asset.objects.filter(shop=shop, id__in=ids)}
    missing = [m for m in ids if m not in found]
    if missing:
        raise PostError(
            f"media_ids not found in your media library: {', '.join(missing)}",
            details={"missing_media_ids": missing},
        )
    with transaction.atomic():
        post = Post.objects.create(shop=shop, text=text, media_ids=ids, source=source)
        post.media.set(found.values())
    return post
