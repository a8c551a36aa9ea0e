"""The library: storing assets (with thumbnails), uploads, deletion, and keyset listing."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import F, ProtectedError, Q, QuerySet
from PIL import Image

from generations.loader import LoadedImage, load_image
from generations.models import Asset, Job, LibraryCount, Preset
from generations.moderation import (
    PublishOutcome,
    PublishRefused,
    initial_publication,
    set_publication,
)
from studio.models import Shop

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

THUMB_SIZE = 384
EXTENSIONS = {
    "image/png": "png",
    "image/jpeg": "jpg",
    "image/webp": "webp",
    "image/gif": "gif",
    "video/mp4": "mp4",
}


def make_thumbnail(image: Image.Image) -> bytes:
    thumb = image.copy()
    thumb.thumbnail((THUMB_SIZE, THUMB_SIZE), Image.Resampling.BILINEAR, reducing_gap=2.0)
    if thumb.mode not in ("RGB", "RGBA"):
        thumb = thumb.convert("RGBA" if "A" in thumb.getbands() or thumb.mode == "P" else "RGB")
    buf = io.BytesIO()
    thumb.save(buf, "WEBP", quality=80, method=0)
    return buf.getvalue()


def store_asset(
    shop: Shop,
    data: bytes,
    *,
    kind: str,
    content_type: str | None = None,
    loaded: LoadedImage | None = None,
    width: int | None = None,
    height: int | None = None,
    poster: Image.Image | None = None,
    user: AbstractBaseUser | None = None,
    job: Job | None = None,
    parent: Asset | None = None,
    preset: Preset | None = None,
    prompt: str = "",
    negative_prompt: str = "",
    model: str = "",
    seed: int | None = None,
    parameters: dict[str, Any] | None = None,
    is_public: bool = False,
) -> Asset:
    """Write bytes to storage and record the Asset. Images are validated by the loader.

    Videos pass content_type, width, height and a poster image (for the thumbnail).
    If the database write fails, the files written are removed again.
    """
    if content_type is None or content_type.startswith("image/"):
        loaded = loaded or load_image(data)
        content_type, width, height = loaded.content_type, loaded.width, loaded.height
        thumb_source = loaded.image
    else:
        thumb_source = poster
    if not width or not height:
        raise ValueError("store_asset needs width and height for non-image content")
    # `is_public` is what the maker asked for; the shop's or the site's policy may send it to
    # staff review first (generations/moderation.py).
    sha256 = hashlib.sha256(data).hexdigest()
    is_public, moderation = initial_publication(
        shop, is_public, sha256=sha256, parent_id=parent.pk if parent is not None else None
    )
    asset = Asset(
        shop=shop,
        kind=kind,
        content_type=content_type,
        width=width,
        height=height,
        bytes=len(data),
        sha256=sha256,
        prompt=prompt,
        negative_prompt=negative_prompt,
        model=model,
        seed=seed,
        parameters=parameters or {},
        preset=preset,
        parent=parent,
        job=job,
        is_public=is_public,
        moderation=moderation,
        created_by=user,
        search_text=search_text(prompt, preset, parameters or {}),
    )
    ext = EXTENSIONS.get(content_type, "bin")
    asset.file.save(f"original.{ext}", ContentFile(data), save=False)
    try:
        if thumb_source is not None:
            asset.thumbnail.save(
                "thumb.webp", ContentFile(make_thumbnail(thumb_source)), save=False
            )
        asset.save()
    except BaseException:
        _delete_files(asset)
        raise
    written = _WRITTEN.get()
    if written is not None:
        written.append(asset)
    return asset


def search_text(prompt: str, preset: Preset | None, parameters: dict[str, Any]) -> str:
    """The words library search matches: the prompt, the preset's name, and for a derived image
    its operation and its source's prompt."""
    words = [
        prompt,
        preset.name if preset else "",
        str(parameters.get("operation_label", "")),
        str(parameters.get("source_prompt", "")),
    ]
    return " ".join(w.lower() for w in words if w)


def _delete_files(asset: Asset) -> None:
    for field in (asset.file, asset.thumbnail):
        if field and field.name:
            field.storage.delete(field.name)


_WRITTEN: ContextVar[list[Asset] | None] = ContextVar("studio_written_assets", default=None)


@contextmanager
def files_removed_on_error() -> Iterator[None]:
    """Wrap a transaction that stores assets: if it fails, the files it wrote are deleted.

    Storage is not transactional, so without this a rolled-back row would leave its file behind.
    """
    written: list[Asset] = []
    token = _WRITTEN.set(written)
    try:
        yield
    except BaseException:
        for asset in written:
            _delete_files(asset)
        raise
    finally:
        _WRITTEN.reset(token)


def upload_asset(
    shop: Shop, data: bytes, *, user: AbstractBaseUser | None, filename: str = ""
) -> Asset:
    loaded = load_image(data)  # raises ImageRejected before anything is written
    with files_removed_on_error(), transaction.atomic():
        return store_asset(
            shop,
            data,
            kind=Asset.Kind.UPLOAD,
            loaded=loaded,
            user=user,
            parameters={"filename": filename[:200]} if filename else {},
        )


class AssetInUse(Exception):
    """The asset is still used by something that cannot lose it (a listing's product)."""


def delete_asset(asset: Asset) -> None:
    delete_assets([asset])


def delete_assets(assets: list[Asset]) -> None:
    """Delete the rows in one transaction, then their files; all or nothing on the rows.

    Raises AssetInUse (and deletes nothing) when a listing still sells one of them.
    """
    if not assets:
        return
    try:
        with transaction.atomic():
            Asset.objects.filter(pk__in=[a.pk for a in assets]).delete()
    except ProtectedError as exc:
        used = sorted({str(getattr(obj, "title", obj)) for obj in exc.protected_objects})
        raise AssetInUse(
            "A listing uses "
            + ("this image" if len(assets) == 1 else "some of these images")
            + f" ({', '.join(used[:5])}): delete the listing first (Mockups → Listings);"
            " a listing with orders keeps its image for fulfilment."
        ) from exc
    for asset in assets:
        _delete_files(asset)


BULK_ACTIONS = ("delete", "public", "private")
BULK_LIMIT = 200


@dataclass
class BulkOutcome:
    """What a bulk change did: `changed` the items acted on, `skipped` how many of the chosen
    items the member may not manage (made by others) and were left alone."""

    changed: list[Asset]
    skipped: int
    publication: PublishOutcome | None = None  # for "public" / "private"


def bulk_change(
    shop: Shop,
    ids: list[uuid.UUID],
    action: str,
    *,
    by: AbstractBaseUser,
    manage_all: bool,
) -> BulkOutcome:
    """Delete, publish or unpublish the shop's assets among `ids`. Members who may manage every
    item (`manage_all`) act on all of them, others only on the items they made. Another shop's
    ids are ignored. Raises AssetInUse (nothing deleted) when a listing sells one of them."""
    if action not in BULK_ACTIONS:
        raise ValueError(f"Unknown bulk action {action!r}.")
    if len(ids) > BULK_LIMIT:
        raise ValueError(f"At most {BULK_LIMIT} items at a time.")
    found = list(Asset.objects.filter(shop=shop, id__in=ids))
    mine = [a for a in found if manage_all or a.created_by_id == by.pk]
    outcome = BulkOutcome(changed=mine, skipped=len(found) - len(mine))
    if not mine:
        return outcome
    if action == "delete":
        delete_assets(mine)
    else:
        outcome.publication = set_publication(mine, action == "public", by=by)
    return outcome


def set_public(asset: Asset, is_public: bool) -> Asset:
    """Publish (through staff review when required) or unpublish one asset.

    Raises moderation.PublishRefused when staff rejected or hid it.
    """
    outcome = set_publication([asset], is_public)
    if outcome.refused:
        raise PublishRefused(outcome.refused[0][1])
    return asset


# --- the shop's count of generated assets -----------------------------------------------------------
# Kept by signal receivers (connected in apps.py) rather than in store_asset/delete_assets, so that
# every path that creates or deletes an asset (a shop's cascade, the admin, factories) keeps it:
# each runs in the transaction of the save or delete it counts.


def asset_saved(sender: type[Asset], instance: Asset, created: bool, raw: bool, **_: Any) -> None:
    if created and not raw and instance.kind == Asset.Kind.GENERATED:
        _add_generated(instance.shop_id, 1)


def asset_deleted(sender: type[Asset], instance: Asset, **_: Any) -> None:
    if instance.kind == Asset.Kind.GENERATED:
        _add_generated(instance.shop_id, -1)


def shop_saved(sender: type[Shop], instance: Shop, created: bool, raw: bool, **_: Any) -> None:
    if created and not raw:
        LibraryCount.objects.get_or_create(shop_id=instance.pk)


def _add_generated(shop_id: Any, delta: int) -> None:
    # A missing row (a shop being deleted, whose row the cascade may have removed first) is left
    # missing: library_total recounts it on the next read.
    LibraryCount.objects.filter(shop_id=shop_id).update(generated=F("generated") + delta)


def recount_library(shop_id: Any) -> int:
    """Count the shop's generated assets and store the figure (a missing or suspect counter)."""
    with transaction.atomic():
        n = Asset.objects.filter(shop_id=shop_id, kind=Asset.Kind.GENERATED).count()
        try:
            with transaction.atomic():
                LibraryCount.objects.update_or_create(shop_id=shop_id, defaults={"generated": n})
        except IntegrityError:  # the shop is gone, or another request created the row first
            pass
    return n


def library_total(shop_id: Any) -> int:
    """The shop's number of generated assets, from its counter (recounted when missing)."""
    stored = LibraryCount.objects.filter(shop_id=shop_id).values_list("generated", flat=True)
    for n in stored:
        return n
    return recount_library(shop_id)


# --- listing ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LibraryQuery:
    search: str = ""
    kind: str = ""
    model: str = ""
    preset: str = ""
    date_from: datetime | None = None
    date_to: datetime | None = None
    sort: str = "newest"  # newest | oldest


def encode_cursor(asset: Asset) -> str:
    raw = json.dumps([asset.created_at.isoformat(), asset.id.hex])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str] | None:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        created, ident = json.loads(raw)
        moment = datetime.fromisoformat(created)
        if moment.tzinfo is None:
            return None
        # A tampered id must not reach the UUID column (a ValidationError there is a 500).
        return moment, uuid.UUID(str(ident)).hex
    except (ValueError, TypeError, UnicodeDecodeError):
        return None


def filter_assets(qs: QuerySet[Asset], query: LibraryQuery) -> QuerySet[Asset]:
    for word in query.search.lower().split()[:8]:
        qs = qs.filter(search_text__contains=word)
    if query.kind:
        qs = qs.filter(kind=query.kind)
    if query.model:
        qs = qs.filter(model=query.model)
    if query.preset:
        qs = qs.filter(preset_id=query.preset)
    if query.date_from:
        qs = qs.filter(created_at__gte=query.date_from)
    if query.date_to:
        qs = qs.filter(created_at__lt=query.date_to)
    return qs


def keyset_page(
    qs: QuerySet[Asset], query: LibraryQuery, cursor: str = "", limit: int = 40
) -> tuple[list[Asset], str]:
    """One page of assets after `cursor`, and the cursor for the next page ("" at the end)."""
    qs = filter_assets(qs, query)
    oldest = query.sort == "oldest"
    order = ("created_at", "id") if oldest else ("-created_at", "-id")
    qs = qs.order_by(*order)
    decoded = decode_cursor(cursor) if cursor else None
    if decoded:
        created, ident = decoded
        # The plain range on created_at is implied by the OR below; it is there so the database
        # starts the index scan at the cursor instead of filtering every newer row on the way.
        if oldest:
            qs = qs.filter(created_at__gte=created).filter(
                Q(created_at__gt=created) | Q(created_at=created, id__gt=ident)
            )
        else:
            qs = qs.filter(created_at__lte=created).filter(
                Q(created_at__lt=created) | Q(created_at=created, id__lt=ident)
            )
    items = list(qs.select_related("preset")[: limit + 1])
    next_cursor = encode_cursor(items[limit - 1]) if len(items) > limit else ""
    return items[:limit], next_cursor


def library_models(shop: Shop) -> list[str]:
    """The distinct model names in a shop's library, sorted (for the library's model filter).

    A loose index scan over (shop, model): one index probe per distinct model, so it stays fast
    at 100k+ assets where SELECT DISTINCT would read every row of the shop.
    """
    from django.db import connection

    table = Asset._meta.db_table
    sql = f"""
        WITH RECURSIVE found(model) AS (
            SELECT MIN(model) FROM {table} WHERE shop_id = %s AND model > ''
            UNION ALL
            SELECT (SELECT MIN(model) FROM {table} WHERE shop_id = %s AND model > found.model)
            FROM found WHERE found.model IS NOT NULL
        )
        SELECT model FROM found WHERE model IS NOT NULL
    """  # noqa: S608 - the table name is our own model's, the values are parameters
    with connection.cursor() as cursor:
        cursor.execute(sql, [shop.id, shop.id])
        return [row[0] for row in cursor.fetchall()]
