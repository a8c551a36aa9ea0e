"""Where a mockup's design comes from: the shop's own storage, or an allow-listed origin.

A URL on the shop's storage (generations/storage_urls.py decides which URLs those are) is
resolved to that shop's stored Asset and read from storage (no HTTP). A URL on an origin the
owner allow-listed is fetched through the one SSRF-safe fetcher (`studio.fetch`). Anything else is refused before any connection is made.
"""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.http import HttpRequest

from generations import storage_urls
from generations.models import Asset
from generations.storage_urls import normalise_origin
from mockups.errors import MockupError
from studio import fetch as fetcher
from studio.models import Shop

EXTERNAL_MAX_AGE = 300  # seconds an unpinned external asset's hash (and our response) is trusted
# Keyword arguments for studio.fetch.fetch; tests put a recording transport and resolver here.
FETCH_OPTIONS: dict[str, Any] = {}


SourceError = MockupError
ASSET_HIDDEN = "Staff removed this image from public view; its mockups are no longer available."


@dataclass
class AssetRef:
    """A resolved asset URL: enough to build a cache key without reading the bytes, if known."""

    url: str
    own: Asset | None  # set for our own storage
    sha256: str  # "" when not known yet (external, not pinned and not memoised)
    immutable: bool  # True when the bytes behind the URL can never change
    pinned_sha: str = ""  # the `h` parameter, for external assets
    trusted: frozenset[str] = frozenset()  # the shop's trusted origins, for redirects
    shop_id: int | None = None  # whose concurrent-fetch cap an external fetch counts against


def resolve(request: HttpRequest, shop: Shop, url: str, pinned_sha: str = "") -> AssetRef:
    """Classify `url` for `shop`; raises SourceError for untrusted or foreign assets."""
    if not url:
        raise SourceError("The asset parameter is required.", 400, "missing_asset")
    if url.startswith("/") and not url.startswith("//"):
        url = request.build_absolute_uri(url)
    origin = normalise_origin(url)
    if not origin:
        raise SourceError("The asset must be an http(s) URL.", 400, "invalid_asset_url")
    named = storage_urls.named_file(shop, url, request)
    if named is not None:
        return _own_asset(shop, url, named)
    trusted = {normalise_origin(o) for o in shop.trusted_origins or []} - {""}
    if origin not in trusted:
        raise SourceError(
            f"The asset's origin {origin} is not trusted by this shop. Use an image from the "
            "shop's library or add the origin to the shop's trusted origins.",
            403,
            "untrusted_origin",
        )
    sha = pinned_sha or _memo_get(url)
    return AssetRef(
        url,
        None,
        sha,
        immutable=bool(pinned_sha),
        pinned_sha=pinned_sha,
        trusted=frozenset(trusted),
        shop_id=shop.pk,
    )


def _own_asset(shop: Shop, url: str, named: storage_urls.NamedFile) -> AssetRef:
    if named.asset_id is None:
        raise SourceError("The asset URL is not a library file.", 404, "asset_not_found")
    if named.shop_slug != shop.slug:
        raise SourceError("The asset belongs to another shop.", 403, "foreign_asset")
    fields = ("id", "shop_id", "file", "sha256", "content_type", "moderation")
    asset = storage_urls.asset_of(shop, named, only=fields)
    if asset is None or not asset.content_type.startswith("image/"):
        raise SourceError("No such image in this shop's library.", 404, "asset_not_found")
    if asset.is_hidden:
        raise SourceError(ASSET_HIDDEN, 410, "asset_hidden")
    return AssetRef(url, asset, asset.sha256, immutable=True)


def read(ref: AssetRef) -> bytes:
    """The asset's bytes: from storage for our own, through the SSRF-safe fetcher otherwise."""
    if ref.own is not None:
        try:
            with ref.own.file.open("rb") as fh:
                return fh.read()
        except OSError as exc:
            raise SourceError(
                "The asset file is missing from storage.", 404, "asset_not_found"
            ) from exc
    try:
        # The deadline is FETCH_DEADLINE_SECONDS; the shop's fetches share its concurrency cap.
        result = fetcher.fetch(
            ref.url, max_bytes=settings.IMAGE_MAX_BYTES, shop=ref.shop_id, **FETCH_OPTIONS
        )
    except fetcher.FetchError as exc:
        if exc.blocked:
            raise SourceError(str(exc), 403, "blocked_address") from exc
        raise SourceError(str(exc), 502, "fetch_failed") from exc
    if normalise_origin(result.url) not in ref.trusted:
        # A redirect may not launder an untrusted origin's image into the shop's mockups.
        raise SourceError(
            f"The asset redirected to {normalise_origin(result.url)}, which this shop does not trust.",
            403,
            "untrusted_origin",
        )
    if result.status != 200:
        raise SourceError(f"The asset's server answered {result.status}.", 502, "fetch_failed")
    sha = hashlib.sha256(result.content).hexdigest()
    if ref.pinned_sha and sha != ref.pinned_sha:
        raise SourceError(
            "The asset's content does not match the h (sha256) parameter.", 409, "hash_mismatch"
        )
    ref.sha256 = sha
    _memo_put(ref.url, sha)
    return result.content


_memo: dict[str, tuple[float, str]] = {}
_memo_lock = threading.Lock()


def _memo_get(url: str) -> str:
    with _memo_lock:
        hit = _memo.get(url)
    if hit and time.monotonic() - hit[0] < EXTERNAL_MAX_AGE:
        return hit[1]
    return ""


def _memo_put(url: str, sha: str) -> None:
    with _memo_lock:
        if len(_memo) > 4096:
            _memo.clear()
        _memo[url] = (time.monotonic(), sha)


def forget_external_hashes() -> None:
    with _memo_lock:
        _memo.clear()
