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
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.core.cache import cache
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
from studio.compiled import CompiledQuery, Param
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
    """Write bytes to storage and record the Asset. Images are validated by the loader, unless
    the caller passes `loaded`: what it decoded itself (an upload, checked before any write) or
    what our own code encoded losslessly (loader.made_image, an operation's output).

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


# --- page numbers at depth --------------------------------------------------------------------------
# A page number deep in a large library would otherwise skip (page-1)*limit index entries. The
# position of a row counted from the OLDEST end does not move when newer assets arrive, so every
# ANCHOR_EVERY-th (created_at, id) oldest-first is kept in the cache, taken by a worker task; a
# page then skips fewer than ANCHOR_EVERY (+ rows added since) entries from its anchor. The
# anchors are trusted only while the rows newer than the newest one number exactly what they did
# plus the growth of the shop's counter since (a deletion, or a row committed out of order,
# breaks that). Without usable anchors a position is found from the nearer end of the index (up
# to half of it) and the task is asked to take them again.

ANCHOR_EVERY = 1000
ANCHORS_TTL = 3600  # seconds; also bounds how long a rare undetected shift could last
ANCHOR_SLACK = 2000  # rows added since the anchors were taken before they are taken again
ANCHORS_ASKED_TTL = 120  # at most one request for new anchors per shop in this many seconds
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class _Anchors:
    total: int  # rows when they were taken
    micros: tuple[int, ...]  # created_at of rows 0, every, 2*every … oldest-first (µs since 1970)
    ids: bytes  # their ids, 16 bytes each
    every: int = ANCHOR_EVERY

    def key(self, i: int) -> tuple[datetime, uuid.UUID]:
        at = _EPOCH + timedelta(microseconds=self.micros[i])
        return at, uuid.UUID(bytes=self.ids[16 * i : 16 * i + 16])


def _key_params() -> dict[str, Any]:
    return {
        "shop": Param("shop", Asset._meta.get_field("shop")),
        "at": Param("at", Asset._meta.get_field("created_at")),
        "id": Param("id", Asset._meta.pk),
    }


def _generated_of(shop: Any) -> QuerySet[Asset]:
    return Asset.objects.filter(shop=shop, kind=Asset.Kind.GENERATED)


def _from_key_oldest_first() -> QuerySet[Any]:
    p = _key_params()
    qs = _generated_of(p["shop"]).filter(created_at__gte=p["at"])
    qs = qs.filter(Q(created_at__gt=p["at"]) | Q(created_at=p["at"], id__gte=p["id"]))
    return qs.order_by("created_at", "id").values_list("created_at", "id")


def _newer_than_key() -> QuerySet[Any]:
    p = _key_params()
    qs = _generated_of(p["shop"]).filter(created_at__gte=p["at"])
    return qs.filter(Q(created_at__gt=p["at"]) | Q(created_at=p["at"], id__gt=p["id"])).values_list(
        "id"
    )


# Compiled once (studio.compiled): the key `offset` rows on from a key (inclusive), oldest-first;
# how many rows are newer than a key, up to `cap`; and the key at `offset` from either end.
FROM_KEY = CompiledQuery(_from_key_oldest_first, paged=True)
NEWER_THAN = CompiledQuery(_newer_than_key, capped=True)
FROM_END = {
    newest_first: CompiledQuery(
        lambda newest_first=newest_first: (
            _generated_of(_key_params()["shop"])
            .order_by(*(("-created_at", "-id") if newest_first else ("created_at", "id")))
            .values_list("created_at", "id")
        ),
        paged=True,
    )
    for newest_first in (True, False)
}


def _anchors_key(shop_id: Any) -> str:
    return f"library-anchors:{shop_id}"


def _micros(at: datetime) -> int:
    delta = at - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def take_anchors(shop_id: Any) -> int:
    """Walk the shop's index oldest-first, keeping every ANCHOR_EVERY-th key (one short query per
    anchor, each skipping ANCHOR_EVERY index entries), and cache them. Returns how many."""
    every = ANCHOR_EVERY
    first = FROM_END[False].rows(shop=shop_id, limit=1, offset=0)
    if not first:
        cache.delete(_anchors_key(shop_id))
        return 0
    keys = [first[0]]
    while True:
        at, ident = keys[-1]
        step = FROM_KEY.rows(shop=shop_id, at=at, id=ident, limit=1, offset=every)
        if not step:
            break
        keys.append(step[0])
    at, ident = keys[-1]
    tail = NEWER_THAN.value(shop=shop_id, at=at, id=ident, cap=every)
    anchors = _Anchors(
        total=(len(keys) - 1) * every + 1 + tail,
        micros=tuple(_micros(at) for at, _ in keys),
        ids=b"".join(ident.bytes for _, ident in keys),
        every=every,
    )
    cache.set(_anchors_key(shop_id), anchors, ANCHORS_TTL)
    return len(keys)


def _usable_anchors(shop_id: Any, total: int) -> _Anchors | None:
    anchors = cache.get(_anchors_key(shop_id))
    if not isinstance(anchors, _Anchors) or not anchors.micros or anchors.every != ANCHOR_EVERY:
        return None
    grown = total - anchors.total
    if not 0 <= grown <= ANCHOR_SLACK:
        return None
    last = len(anchors.micros) - 1
    # Rows newer than the newest anchor: those it was taken with, plus the growth since.
    expected = anchors.total - 1 - last * anchors.every + grown
    at, ident = anchors.key(last)
    if NEWER_THAN.value(shop=shop_id, at=at, id=ident, cap=expected + 1) != expected:
        return None
    return anchors


def _ask_for_anchors(shop_id: Any) -> None:
    if cache.add(f"library-anchors-asked:{shop_id}", 1, ANCHORS_ASKED_TTL):
        from generations.tasks import take_library_anchors

        take_library_anchors.delay_on_commit(str(shop_id))


def position_key(shop_id: Any, total: int, rank: int) -> tuple[datetime, uuid.UUID] | None:
    """The (created_at, id) of the shop's generated asset at `rank` (0-based) oldest-first,
    given its counter `total`; None when there is no such row (deleted meanwhile)."""
    if not 0 <= rank < total:
        return None
    anchors = _usable_anchors(shop_id, total)
    if anchors is None:
        _ask_for_anchors(shop_id)
        # From the nearer end of the index: up to half of the shop's entries.
        newest_first = rank >= total // 2
        skip = total - 1 - rank if newest_first else rank
        found = FROM_END[newest_first].rows(shop=shop_id, limit=1, offset=skip)
    else:
        step = min(rank // anchors.every, len(anchors.micros) - 1)
        at, ident = anchors.key(step)
        skip = rank - step * anchors.every
        found = FROM_KEY.rows(shop=shop_id, at=at, id=ident, limit=1, offset=skip)
    return found[0] if found else None


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


# What a listed asset shows (a library or gallery tile, a design in the mockup picker: caption,
# thumbnail, kind and state, date) and its cursor: the rest of the row (search text, moderation
# notes, sizes, hashes) stays in the database.
LISTED_FIELDS = (
    "id",
    "shop_id",
    "kind",
    "file",
    "thumbnail",
    "content_type",
    "prompt",
    "parameters",
    "is_public",
    "moderation",
    "created_at",
)


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
    items = list(qs.only(*LISTED_FIELDS)[: limit + 1])
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
