"""Small builders shared by the page tests (tests/test_pages_*.py)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from django.conf import settings

from generations import actions
from generations.library import store_asset
from generations.models import Asset, Job, Preset
from generations.presets import PresetFields, create_preset
from studio.models import Shop
from tests.conftest import png_bytes


def make_asset(
    shop: Shop,
    user: Any = None,
    *,
    prompt: str = "a red circle",
    kind: str = Asset.Kind.GENERATED,
    created_at: datetime | None = None,
    **kw: Any,
) -> Asset:
    asset = store_asset(
        shop,
        png_bytes(32, 24),
        kind=kind,
        user=user,
        prompt=prompt,
        model=kw.pop("model", "builtin:procedural" if kind == Asset.Kind.GENERATED else ""),
        **kw,
    )
    if created_at is not None:
        Asset.objects.filter(pk=asset.pk).update(created_at=created_at)
        asset.created_at = created_at
    return asset


def make_job(shop: Shop, user: Any = None, **kw: Any) -> Job:
    spec = actions.GenerationSpec(prompt=kw.pop("prompt", "a blue square"), **kw)
    return actions.submit_generation(shop, spec, user=user)


def make_preset(shop: Shop, **kw: Any) -> Preset:
    defaults: dict[str, Any] = {
        "name": "Sticker",
        "template": "a sticker of {{subject}} in {{style}}",
        "variables": [
            {"key": "subject", "label": "Subject", "required": True, "type": "text"},
            {"key": "style", "label": "Style", "default": "pastel", "type": "text"},
        ],
        "aspect_ratio": "2:3",
    }
    return create_preset(shop, PresetFields(**{**defaults, **kw}))


def media_files() -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def make_listing(owner_client: Any, shop: Shop, asset: Asset, **extra: Any) -> Any:
    """Create a listing through the listings page (a t-shirt by default)."""
    data = {
        "template": "tshirt",
        "asset": str(asset.id),
        "variant": "black",
        "x": "0.5",
        "y": "0.4",
        "scale": "0.9",
        "rotate": "0",
        "fit": "contain",
        "title": "Mountain tee",
        "price": "24.50",
        "sizes": "S, M, L",
    }
    data.update(extra)
    return owner_client.post("/mockups/listings/", data)
