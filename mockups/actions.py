"""Mockup URLs end to end (parse, verify, resolve, cache, render) and listings with orders."""

from __future__ import annotations

import hashlib
import json
import math
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

from django.db import transaction
from django.db.models import ProtectedError
from django.http import HttpRequest

from generations.loader import ImageRejected, load_image
from generations.models import Asset
from generations.moderation import assets_taken_down
from mockups import designs, rendercache, signing, sources, trim
from mockups import render as renderer
from mockups.catalog import CATALOG
from mockups.errors import MockupError
from mockups.models import Listing, Order, ProductTemplate
from mockups.products import find_template, spec_for
from mockups.sample import sample_design
from studio import apikeys, throttle
from studio.models import Shop
from studio.suspension import shop_status_changed

PARAMS = frozenset(
    {"asset", "shop", "variant", "w", "fmt", "fit", "x", "y", "scale", "rotate", "bg", "h", "sig"}
)
IMMUTABLE = "public, max-age=31536000, immutable"


@dataclass
class MockupQuery:
    asset: str
    width: int
    fmt: str
    variant: str
    placement: renderer.Placement
    transparent: bool
    pin: str


@dataclass
class MockupResult:
    status: int  # 200 or 304
    data: bytes
    content_type: str
    etag: str
    cache_control: str
    hit: bool
    timings: dict[str, float] = field(default_factory=dict)  # name → milliseconds
    cost_cents: int = 0  # what this response cost the shop (a fresh render; hits are free)


def _number(params: dict[str, str], name: str, default: float, low: float, high: float) -> float:
    raw = params.get(name, "")
    if raw == "":
        return default
    try:
        value = float(raw)
    except ValueError as exc:
        raise MockupError(f"{name} must be a number.", 400, "invalid_parameter") from exc
    if not math.isfinite(value) or not (low <= value <= high):
        raise MockupError(f"{name} must be between {low:g} and {high:g}.", 400, "invalid_parameter")
    return value


def parse_query(params: dict[str, str], template: ProductTemplate) -> MockupQuery:
    unknown = sorted(set(params) - PARAMS)
    if unknown:
        raise MockupError(
            f"Unknown parameter(s): {', '.join(unknown)}. Allowed: {', '.join(sorted(PARAMS))}.",
            400,
            "invalid_parameter",
        )
    w_raw = params.get("w", "")
    if w_raw:
        if not w_raw.isdigit() or int(w_raw) not in template.widths:
            raise MockupError(
                f"w must be one of {', '.join(map(str, template.widths))}.", 400, "invalid_width"
            )
        width = int(w_raw)
    else:
        width = template.default_width
    fmt = params.get("fmt", "jpg").lower() or "jpg"
    fmt = renderer.FORMAT_ALIASES.get(fmt, fmt)
    if fmt not in renderer.FORMATS:
        raise MockupError(
            f"fmt must be one of {', '.join(renderer.FORMATS)}.", 400, "invalid_format"
        )
    fit = params.get("fit", "contain") or "contain"
    if fit not in renderer.FITS:
        raise MockupError(f"fit must be one of {', '.join(renderer.FITS)}.", 400, "invalid_fit")
    variant = params.get("variant", "") or template.default_variant
    keys = [v["key"] for v in template.variants or []]
    if variant and variant not in keys:
        raise MockupError(
            f"variant must be one of {', '.join(keys) or '(none)'}.", 400, "invalid_variant"
        )
    bg = params.get("bg", "")
    if bg not in ("", "transparent"):
        raise MockupError("bg may only be 'transparent'.", 400, "invalid_parameter")
    transparent = bg == "transparent"
    if transparent and (fmt not in ("png", "webp", "avif") or not template.transparent_background):
        raise MockupError(
            "A transparent background needs fmt=png, webp or avif and a template that allows it.",
            400,
            "invalid_parameter",
        )
    pin = params.get("h", "").lower()
    if pin and (len(pin) != 64 or any(c not in "0123456789abcdef" for c in pin)):
        raise MockupError("h must be the asset's sha256 in hex.", 400, "invalid_parameter")
    placement = renderer.Placement(
        fit=fit,
        x=_number(params, "x", 0.5, -1.0, 2.0),
        y=_number(params, "y", 0.5, -1.0, 2.0),
        scale=_number(params, "scale", 1.0, 0.05, 10.0),
        rotate=_number(params, "rotate", 0.0, -360.0, 360.0),
    )
    return MockupQuery(params.get("asset", ""), width, fmt, variant, placement, transparent, pin)


# Rows a hot mockup URL needs, kept for LOOKUP_TTL seconds so a cache hit costs no queries.
# Edits in this process drop them at once (`forget_lookups`); other processes see an edit, a
# revoked origin or a deleted asset within LOOKUP_TTL. A local memo, not Django's cache: a Redis
# round trip plus unpickling the rows costs what the queries it saves cost.
LOOKUP_TTL = 1.0
_lookups: dict[Any, tuple[float, Any]] = {}


def forget_lookups() -> None:
    _lookups.clear()


def _forget_on_takedown(sender: Any, **kwargs: Any) -> None:
    # A hidden asset or a suspended shop must stop rendering in this process at once, not after
    # LOOKUP_TTL (the remembered rows say what they were when looked up).
    forget_lookups()


assets_taken_down.connect(_forget_on_takedown, dispatch_uid="mockups-forget-hidden")
shop_status_changed.connect(_forget_on_takedown, dispatch_uid="mockups-forget-suspended")
SHOP_SUSPENDED = "This shop is suspended; its mockups and buy pages are unavailable."


def _remember(key: Any, compute: Any) -> Any:
    now = time.monotonic()
    hit = _lookups.get(key)
    if hit is not None and now - hit[0] < LOOKUP_TTL:
        return hit[1]
    value = compute()
    if len(_lookups) > 2048:
        _lookups.clear()
    _lookups[key] = (now, value)
    return value


def _shop_and_template(shop_slug: str, template_slug: str) -> tuple[Shop, ProductTemplate]:
    def compute() -> tuple[Shop, ProductTemplate]:
        shop = Shop.objects.filter(slug=shop_slug).order_by().first()
        if shop is None:
            raise MockupError(f"No shop {shop_slug!r}.", 404, "unknown_shop")
        return shop, find_template(shop, template_slug)

    return _remember(("template", shop_slug, template_slug), compute)


def _remembered_at(key: Any) -> float:
    hit = _lookups.get(key)
    return hit[0] if hit is not None else time.monotonic()


# A URL answered from the render cache is remembered under its exact host, path and query
# string, with what its answer needs (cache name, ETag, headers), until the oldest row it was
# built from expires: the next request for it skips parsing, the signature check and the cache
# key, yet sees a suspension, a hidden asset, a rotated secret or new URL settings exactly as
# soon as the full path would (the same LOOKUP_TTL, dropped together by `forget_lookups`).
@dataclass(frozen=True)
class _Hit:
    name: str
    path: str  # the render's local file, "" unless the storage is the local filesystem
    etag: str
    cache_control: str
    content_type: str


def _hit_key(request: HttpRequest, template_slug: str) -> tuple[str, ...]:
    # The raw headers `get_host()` reads (an entry is only made after it accepted them, so an
    # equal key was validated) and the scheme: which asset URLs are the shop's own depends on
    # both (storage_urls.site_origin).
    meta = request.META
    return (
        "hit",
        request.scheme,
        meta.get("HTTP_X_FORWARDED_HOST", ""),
        meta.get("HTTP_HOST", ""),
        meta.get("SERVER_NAME", ""),
        meta.get("SERVER_PORT", ""),
        template_slug,
        meta.get("QUERY_STRING", ""),
    )


def cached_mockup(
    request: HttpRequest, template_slug: str, *, if_none_match: str = ""
) -> MockupResult | None:
    """The answer to a mockup URL served from the render cache moments ago, or None (then
    `mockup` decides, as for any URL)."""
    started = time.perf_counter()
    key = _hit_key(request, template_slug)
    entry = _lookups.get(key)
    if entry is None or time.monotonic() - entry[0] >= LOOKUP_TTL:
        return None
    hit: _Hit = entry[1]
    if if_none_match and _matches(if_none_match, hit.etag):
        data, status = b"", 304
    else:
        read = rendercache.read_local(hit.path) if hit.path else rendercache.read(hit.name)
        data, status = read, 200
        if not data:  # evicted meanwhile: the full path renders it again
            return None
    timings = {"cache": (time.perf_counter() - started) * 1000}
    return MockupResult(status, data, hit.content_type, hit.etag, hit.cache_control, True, timings)


def _remember_hit(request: HttpRequest, template_slug: str, since: float, hit: _Hit) -> None:
    if len(_lookups) > 2048:
        _lookups.clear()
    _lookups[_hit_key(request, template_slug)] = (since, hit)


def _resolve(request: HttpRequest, shop: Shop, url: str, pin: str) -> sources.AssetRef:
    key = ("asset", shop.slug, request.scheme, request.get_host(), url)
    ref = _remember(key, lambda: sources.resolve(request, shop, url, ""))
    if ref.own is not None:  # library files never change: the remembered row is enough
        return ref
    return sources.resolve(request, shop, url, pin)  # external refs carry per-request state


def cache_key(template: ProductTemplate, asset_sha: str, query: MockupQuery) -> str:
    material = {
        "t": str(template.id),
        "v": template.version,
        # A built-in product's drawing is code: its version there invalidates renders too.
        "cv": CATALOG[template.builtin].version if template.builtin in CATALOG else 0,
        "a": asset_sha,
        "w": query.width,
        "f": query.fmt,
        "var": query.variant,
        "p": query.placement.normalised(),
        "bg": query.transparent,
        "trim": trim.TRIM_VERSION,
    }
    return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()


def _admit_unsigned(request: HttpRequest, shop: Shop) -> None:
    """Fresh work (a fetch or a render) for an UNSIGNED URL is rate limited per shop and per
    client address: anyone holding such a link can vary it."""
    for rule, key in (
        (throttle.rule("mockup-unsigned-shop"), shop.slug),
        (throttle.rule("mockup-unsigned-address"), throttle.client_address(request)),
    ):
        verdict = throttle.hit(rule, key)
        if not verdict.allowed:
            raise MockupError(
                f"Too many fresh renders of unsigned mockup URLs; retry in {verdict.wait_words} "
                "(signed URLs are not limited this way).",
                429,
                "rate_limited",
                retry_after=verdict.retry_after,
            )


def _etag(key: str) -> str:
    return f'"{key[:40]}"'


def _matches(if_none_match: str, etag: str) -> bool:
    tags = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
    return etag in tags or "*" in tags


def mockup(
    request: HttpRequest,
    template_slug: str,
    query_items: list[tuple[str, str]],
    *,
    if_none_match: str = "",
) -> MockupResult:
    """Serve one mockup URL. Order matters: the signature is checked before any fetch."""
    t = time.perf_counter()
    timings: dict[str, float] = {}

    def lap(name: str) -> None:
        nonlocal t
        now = time.perf_counter()
        timings[name] = timings.get(name, 0.0) + (now - t) * 1000
        t = now

    params: dict[str, str] = {}
    for key, value in query_items:
        if key in params:
            raise MockupError(f"Parameter {key} is given more than once.", 400, "invalid_parameter")
        params[key] = value
    shop_slug = params.get("shop", "")
    if not shop_slug:
        raise MockupError("The shop parameter is required.", 400, "missing_shop")
    shop, template = _shop_and_template(shop_slug, template_slug)
    if shop.suspended_at is not None:
        raise MockupError(SHOP_SUSPENDED, 403, "shop_suspended")
    sig = params.get("sig", "")
    if sig:
        if not signing.verify(shop, request.path, query_items, sig):
            raise MockupError(
                "The signature does not match this URL's parameters.", 403, "invalid_signature"
            )
    elif shop.require_signed_urls:
        raise MockupError("This shop requires signed mockup URLs.", 403, "signature_required")
    query = parse_query(params, template)
    ref = _resolve(request, shop, query.asset, query.pin)
    lap("lookup")
    admitted = bool(sig)

    def admit() -> None:
        nonlocal admitted
        if not admitted:
            _admit_unsigned(request, shop)
            admitted = True

    data = b""
    if not ref.sha256:  # unpinned external asset not seen lately: fetch to learn its hash
        admit()
        data = sources.read(ref)
        lap("fetch")
    key_sha = ref.sha256
    key = cache_key(template, key_sha, query)
    etag = _etag(key)
    cache_control = IMMUTABLE if ref.immutable else f"public, max-age={sources.EXTERNAL_MAX_AGE}"
    content_type = renderer.FORMATS[query.fmt]
    name = rendercache.cache_name(shop, key, query.fmt)
    # Library assets only: an external asset's key rests on a hash remembered for minutes.
    since = (
        min(
            _remembered_at(("template", shop_slug, template_slug)),
            _remembered_at(("asset", shop.slug, request.scheme, request.get_host(), query.asset)),
        )
        if ref.own is not None
        else None
    )
    if if_none_match and _matches(if_none_match, etag):
        lap("cache")
        return MockupResult(304, b"", content_type, etag, cache_control, True, timings)
    cached = rendercache.read(name)
    lap("cache")
    if cached:
        if since is not None:
            _remember_hit(
                request,
                template_slug,
                since,
                _Hit(name, rendercache.local_path(name), etag, cache_control, content_type),
            )
        return MockupResult(200, cached, content_type, etag, cache_control, True, timings)
    # A fresh render: admitted (unsigned URLs are rate limited) and paid for (seed 000).
    admit()
    cents = rendercache.render_price(template)
    rendercache.check_balance(shop, cents)
    lap("price")
    spec = spec_for(template)
    source = _warm_source(ref, spec, query)
    if source is None and ref.immutable:
        source = _prepared_source(shop, ref.sha256, spec, query)
        lap("design")
    if source is None:
        if not data:
            data = sources.read(ref)
            lap("fetch")
            if ref.sha256 != key_sha:  # an external file changed since its hash was remembered
                key_sha = ref.sha256
                key = cache_key(template, key_sha, query)
                etag, name = _etag(key), rendercache.cache_name(shop, key, query.fmt)
        source = load_source(
            data,
            spec=spec,
            query=query,
            sha256=ref.sha256,
            keep_for=shop if ref.immutable else None,
        )
        lap("decode")
    pixels = renderer.compose(
        spec,
        source,
        width=query.width,
        variant=query.variant,
        placement=query.placement,
        transparent=query.transparent,
    )
    lap("render")
    out, content_type = renderer.encode(pixels, query.fmt)
    lap("encode")
    stored = rendercache.store(
        shop, name, out, cents=cents, memo=f"Mockup render: {template.name} ({query.width} px)"
    )
    lap("store")
    return MockupResult(
        200, out, content_type, etag, cache_control, False, timings, cost_cents=stored.cents
    )


def _source_key(sha256: str, scale: float) -> tuple[str, float]:
    return (sha256, round(min(scale * 1.25, 1.0), 3))


def _warm_source(ref: sources.AssetRef, spec: renderer.TemplateSpec, query: MockupQuery) -> Any:
    """A recently decoded, already downscaled copy of a library asset (editor tweaks hit this)."""
    if ref.own is None or not ref.sha256:
        return None
    prepared = renderer.prepare(spec, query.width)
    size = trim.known_size(ref.sha256, (ref.own.width, ref.own.height))
    scale = renderer.source_scale(query.placement, size, prepared.flat)
    # Downscaled copies keep the aspect ratio, and the placement uses their own size.
    return renderer.SOURCES.get(_source_key(ref.sha256, scale))


def _prepared_source(
    shop: Shop, sha256: str, spec: renderer.TemplateSpec, query: MockupQuery
) -> Any:
    """The design from the shop's prepared copy (mockups/designs.py), downscaled for this
    render, or None when there is none or it holds fewer pixels than this render needs."""
    design = designs.read(shop, sha256)
    if design is None:
        return None
    prepared = renderer.prepare(spec, query.width)
    scale = renderer.source_scale(query.placement, design.full_size, prepared.flat)
    h, w = design.pixels.shape[:2]
    size = renderer.source_size((w, h), min(scale * 1.25, 1.0), design.full_size)
    if not design.covers(size):
        return None
    trim.remember(sha256, design.full_size)
    source = renderer.source_array(design.pixels, size, prefiltered=True)
    renderer.SOURCES.put(_source_key(sha256, scale), source)
    return source


def load_source(
    data: bytes,
    *,
    spec: renderer.TemplateSpec,
    query: MockupQuery,
    sha256: str = "",
    keep_for: Shop | None = None,
) -> Any:
    """Decode through the one loader, then downscale early to the size the print area shows.

    The loader is told the fraction it will be shown at, so that a JPEG decodes reduced. With
    `keep_for` (immutable bytes: a library asset or a pinned URL), the decoded design is also
    kept as that shop's prepared copy, at the size step above this render's need, and the
    render starts from that copy, as the next ones will.
    """
    prepared = renderer.prepare(spec, query.width)

    def shown(width: int, height: int) -> float:
        return min(
            renderer.source_scale(query.placement, (width, height), prepared.flat) * 1.25, 1.0
        )

    try:
        loaded = load_image(data, scale=shown)
    except ImageRejected as exc:
        raise MockupError(f"The asset is not a usable image: {exc}", 422, "invalid_image") from exc
    image, box = trim.trim(loaded.image)
    full_size = (loaded.width, loaded.height)
    if box is not None:
        # The box is in decoded pixels; the placement works in the design's full-size pixels.
        ratio = loaded.width / loaded.image.width
        full_size = (max(round(image.width * ratio), 1), max(round(image.height * ratio), 1))
        trim.remember(sha256, full_size)
    scale = renderer.source_scale(query.placement, full_size, prepared.flat)
    if keep_for is not None and sha256:
        size = renderer.source_size(image.size, min(scale * 1.25, 1.0), full_size)
        step = designs.step_for(size, image.size)
        kept = renderer.source_array(renderer.reduced_array(image, step), step, rgba=False)
        designs.keep(keep_for, sha256, kept, full_size)
        source = renderer.source_array(kept, size, prefiltered=True)
    else:
        source = renderer.prepare_source(image, min(scale * 1.25, 1.0), full_size)
    if sha256:
        renderer.SOURCES.put(_source_key(sha256, scale), source)
    return source


# --- links ---------------------------------------------------------------------------------------------


def mockup_path(template_slug: str) -> str:
    return f"/m/{template_slug}"


def mockup_url(
    request: HttpRequest,
    shop: Shop,
    template: ProductTemplate,
    asset_url: str,
    params: dict[str, Any] | None = None,
    *,
    sign: bool = True,
) -> str:
    """An absolute mockup URL, signed by default (signing costs nothing and survives
    `require_signed_urls`); `sign=False` leaves it unsigned for a shop that does not require it."""
    path = mockup_path(template.slug)
    items = {"asset": asset_url, "shop": shop.slug}
    for k, v in (params or {}).items():
        if v not in (None, "") and k in PARAMS:
            items[k] = _fmt_param(v)
    if not sign and not shop.require_signed_urls:
        query = urlencode(sorted(items.items()), quote_via=quote, safe="-_.~")
        return request.build_absolute_uri(path) + "?" + query
    return request.build_absolute_uri(path) + "?" + signing.signed_query(shop, path, items)


@dataclass(frozen=True)
class Prerendered:
    name: str  # the render cache name
    cents: int  # what the render was charged (0 when it was already cached)


def prerender_mockup(
    shop: Shop, template: ProductTemplate, asset: Asset, params: dict[str, Any] | None = None
) -> Prerendered:
    """Render a library image on a template into the render cache now, without a request, so
    that its mockup URL (any host, signed or not) is a cache hit.

    The same checks as a URL (parse_query), the same cache key, and the same price: a fresh
    render is charged like one a URL asks for (seed 000), a cached one is free. Raises
    MockupError (429 quota_exceeded when the shop cannot pay)."""
    if asset.shop_id != shop.id:
        raise MockupError("The asset is not in this shop's library.", 404, "asset_not_found")
    if not asset.content_type.startswith("image/"):
        raise MockupError("A mockup needs an image.", 422, "invalid_image")
    items = {k: _fmt_param(v) for k, v in (params or {}).items() if v not in (None, "")}
    query = parse_query({**items, "asset": "-", "shop": shop.slug}, template)
    key = cache_key(template, asset.sha256, query)
    name = rendercache.cache_name(shop, key, query.fmt)
    if rendercache.read(name):
        return Prerendered(name, 0)
    cents = rendercache.render_price(template)
    rendercache.check_balance(shop, cents)
    spec = spec_for(template)
    source = _prepared_source(shop, asset.sha256, spec, query)
    if source is None:
        try:
            with asset.file.open("rb") as fh:
                data = fh.read()
        except OSError as exc:
            raise MockupError(
                "The asset file is missing from storage.", 404, "asset_not_found"
            ) from exc
        source = load_source(data, spec=spec, query=query, sha256=asset.sha256, keep_for=shop)
    pixels = renderer.compose(
        spec,
        source,
        width=query.width,
        variant=query.variant,
        placement=query.placement,
        transparent=query.transparent,
    )
    out, _content_type = renderer.encode(pixels, query.fmt)
    stored = rendercache.store(
        shop, name, out, cents=cents, memo=f"Mockup render: {template.name} ({query.width} px)"
    )
    return Prerendered(name, stored.cents)


def _fmt_param(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)


def placement_params(placement: dict[str, Any]) -> dict[str, Any]:
    """Only the non-default placement values, so URLs stay short."""
    defaults = {"fit": "contain", "x": 0.5, "y": 0.5, "scale": 1.0, "rotate": 0.0}
    return {k: v for k, v in placement.items() if k in defaults and v != defaults[k]}


def preview_print_area(
    template: ProductTemplate, points: list[list[float]], blend: str
) -> renderer.Rendered:
    """The sample design on `template` with an unsaved print area (validated corners) and blend,
    for the template editor's live preview. Nothing is saved; the template instance is changed
    in memory only."""
    template.print_area = {"type": "quad", "points": points}
    template.blend = blend
    spec = spec_for(template)
    # Its own layer-cache key per corners and blend, so a preview never evicts the real template.
    digest = hashlib.sha256(json.dumps([points, blend]).encode()).hexdigest()[:16]
    spec = renderer.TemplateSpec(
        f"{spec.key}:preview:{digest}",
        spec.version,
        spec.print_area,
        spec.variants,
        spec.load_layers,
    )
    source = renderer.prepare_source(sample_design(), 1.0)
    return renderer.render(spec, source, width=640, fmt="jpg")


# --- listings and orders --------------------------------------------------------------------------------


def create_listing(
    shop: Shop,
    *,
    template: ProductTemplate,
    asset: Asset,
    variant: str,
    placement: dict[str, Any],
    title: str,
    price_cents: int,
    description: str = "",
    sizes: list[str] | None = None,
) -> Listing:
    if asset.shop_id != shop.id:
        raise MockupError("The asset is not in this shop's library.", 404, "asset_not_found")
    if asset.is_hidden:
        raise MockupError(
            "Staff hid this image from public view, so it cannot be sold on a buy page.",
            409,
            "asset_hidden",
        )
    if template.shop_id not in (None, shop.id):
        raise MockupError("No such template.", 404, "unknown_template")
    parse_query(  # the same rules as a mockup URL, so a listing always renders
        {k: _fmt_param(v) for k, v in {**placement_params(placement), "variant": variant}.items()},
        template,
    )
    with transaction.atomic():
        return Listing.objects.create(
            shop=shop,
            template=template,
            asset=asset,
            variant=variant or template.default_variant,
            placement=placement_params(placement),
            title=title,
            description=description,
            price_cents=price_cents,
            sizes=sizes or [],
        )


class ListingHasOrders(MockupError):
    """A listing with orders is kept for fulfilment; it can be closed, not deleted."""


def set_listing_active(listing: Listing, active: bool) -> Listing:
    """Open or close a listing's buy page (a closed one refuses orders, see listing_unavailable)."""
    with transaction.atomic():
        Listing.objects.filter(pk=listing.pk).update(is_active=active)
    listing.is_active = active
    return listing


def delete_listing(listing: Listing) -> None:
    """Delete a listing without orders; its buy link is gone. ListingHasOrders otherwise."""
    try:
        with transaction.atomic():
            listing.delete()
    except ProtectedError:
        raise ListingHasOrders(
            f"“{listing.title}” has orders, which keep it (and its image) for fulfilment; "
            "close it instead.",
            409,
            "listing_has_orders",
        ) from None


def listing_unavailable(listing: Listing) -> MockupError | None:
    """Why a buy page must not show or sell this listing now, or None."""
    if listing.shop.suspended_at is not None:
        return MockupError(SHOP_SUSPENDED, 403, "shop_suspended")
    if listing.asset.is_hidden:
        return MockupError(
            "This product is no longer available: staff removed its image from public view.",
            410,
            "asset_hidden",
        )
    if not listing.is_active:
        return MockupError("This listing is no longer available.", 410, "listing_closed")
    return None


def place_order(
    listing: Listing,
    *,
    name: str,
    email: str,
    variant: str,
    size: str,
    quantity: int,
    note: str = "",
) -> Order:
    refusal = listing_unavailable(listing)
    if refusal is not None:
        raise refusal
    keys = [v["key"] for v in listing.template.variants or []]
    if variant and variant not in keys:
        raise MockupError("Pick one of the listed colours.", 400, "invalid_variant")
    if listing.sizes and size not in listing.sizes:
        raise MockupError("Pick one of the listed sizes.", 400, "invalid_size")
    if not (1 <= quantity <= 100):
        raise MockupError("Quantity must be between 1 and 100.", 400, "invalid_quantity")
    with transaction.atomic():
        return Order.objects.create(
            shop_id=listing.shop_id,
            listing=listing,
            name=name,
            email=email,
            variant=variant or listing.variant,
            size=size,
            quantity=quantity,
            unit_price_cents=listing.price_cents,
            note=note,
        )


def set_order_status(order: Order, status: str) -> Order:
    if status not in Order.Status.values:
        raise MockupError("Unknown order status.")
    Order.objects.filter(pk=order.pk).update(status=status)
    order.status = status
    return order


def update_shop_url_settings(
    shop: Shop, *, trusted_origins: list[str], require_signed_urls: bool
) -> Shop:
    cleaned: list[str] = []
    for raw in trusted_origins:
        raw = raw.strip()
        if not raw:
            continue
        origin = sources.normalise_origin(raw)
        if not origin or origin != raw.rstrip("/").lower():
            raise MockupError(
                f"{raw!r} is not an origin: write scheme://host[:port] with nothing after it."
            )
        cleaned.append(origin)
    with transaction.atomic():
        Shop.objects.filter(pk=shop.pk).update(
            trusted_origins=sorted(set(cleaned)), require_signed_urls=require_signed_urls
        )
        # Cached lookups and API keys hold the old settings: forgotten now and again once
        # committed (a lookup in between may have cached the rows as they were). A bare update
        # sends no post_save, so the key cache is told here.
        _forget_shop_settings(shop.pk)
        transaction.on_commit(lambda: _forget_shop_settings(shop.pk))
    shop.trusted_origins = sorted(set(cleaned))
    shop.require_signed_urls = require_signed_urls
    return shop


def _forget_shop_settings(shop_id: int) -> None:
    forget_lookups()
    apikeys.forget_shop(shop_id)


def rotate_signing_secret(shop: Shop) -> Shop:
    """The current secret becomes the previous one (still valid); a new one signs from now on."""
    from studio.models import new_signing_secret

    with transaction.atomic():
        locked = Shop.objects.select_for_update().get(pk=shop.pk)
        locked.url_signing_secret_previous = locked.url_signing_secret
        locked.url_signing_secret = new_signing_secret()
        locked.save(update_fields=["url_signing_secret", "url_signing_secret_previous"])
        forget_lookups()
        transaction.on_commit(forget_lookups)
    return locked
