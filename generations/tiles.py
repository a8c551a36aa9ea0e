"""What a library or gallery tile shows, worked out once per asset in Python.

The grid is the largest part of the library page: 40 tiles, each with three truncated
captions, two links, a thumbnail URL and two dates. Through template filters and `{% url %}`
tags that was most of the page's CPU time; here each link is one reversed pattern with the id
put in, a caption is truncated only when it is long, and a date is formatted directly, so the
template only prints (and escapes) the values.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from django.urls import reverse
from django.utils import timezone
from django.utils.dates import MONTHS_3
from django.utils.text import Truncator

from generations.models import Asset

_PLACEHOLDER = uuid.UUID(int=0)

STATES = {
    Asset.Moderation.PENDING: " · in review",
    Asset.Moderation.HIDDEN: " · hidden by staff",
    Asset.Moderation.REJECTED: " · not approved",
}


@dataclass(frozen=True)
class Tile:
    id: str
    href: str
    image: str
    caption: str  # at most 80 characters
    alt: str  # at most 100
    pick_label: str  # at most 60
    meta: str  # "Generated · public"
    iso: str
    day: str  # "Dec 3"
    mockup_href: str  # "" for a video


def _linker(name: str) -> tuple[str, str]:
    url = reverse(name, args=[_PLACEHOLDER])
    head, _, tail = url.partition(str(_PLACEHOLDER))
    return head, tail


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else Truncator(text).chars(limit)


def tiles(assets: Iterable[Asset], *, gallery: bool = False) -> list[Tile]:
    detail = _linker("gallery_detail" if gallery else "asset_detail")
    thumb = _linker("public_asset_thumb") if gallery else None
    mockups = reverse("mockup_editor") + "?asset="
    kinds = dict(Asset.Kind.choices)
    months = {n: str(name).title() for n, name in MONTHS_3.items()}  # the date filter's "M"
    made = []
    for a in assets:
        ident = str(a.id)
        if thumb is not None:
            image = thumb[0] + ident + thumb[1]
        else:
            image = a.thumbnail.url if a.thumbnail else a.file.url
        caption = a.caption
        meta = str(kinds.get(a.kind, a.kind))
        if not gallery:
            meta += " · public" if a.is_public else STATES.get(a.moderation, "")
        local = timezone.localtime(a.created_at)
        made.append(
            Tile(
                id=ident,
                href=detail[0] + ident + detail[1],
                image=image,
                caption=_short(caption, 80),
                alt=_short(caption, 100),
                pick_label=_short(caption, 60),
                meta=meta,
                iso=local.isoformat(),  # the date filter's "c"
                day=f"{months[local.month]} {local.day}",  # "M j"
                mockup_href="" if gallery or a.is_video else mockups + ident,
            )
        )
    return made
