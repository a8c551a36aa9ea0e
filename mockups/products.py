"""Product templates: the built-in catalog rows, shop uploads, lookup, search and render specs."""

from __future__ import annotations

import hashlib
import io
import json
import math
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.text import slugify
from PIL import Image

from generations.loader import load_image
from mockups.catalog import CATALOG
from mockups.errors import MockupError
from mockups.layers import TemplateLayers, layers_from_photo
from mockups.models import DEFAULT_WIDTHS, ProductTemplate
from mockups.render import TemplateSpec
from studio.lazymodules import lazy_module
from studio.models import Shop

if TYPE_CHECKING:
    import numpy as np
else:  # loaded on first use (studio/lazymodules.py)
    np = lazy_module("numpy")

MAX_PHOTO_SIDE = 1600  # uploaded product photos are stored at most this wide/high


def ensure_catalog(slugs: list[str] | None = None) -> None:
    """Create the built-in catalog rows that are missing (idempotent, cheap when present)."""
    wanted = slugs if slugs is not None else list(CATALOG)
    wanted = [s for s in wanted if s in CATALOG]
    if not wanted:
        return
    present = set(
        ProductTemplate.objects.filter(shop=None, slug__in=wanted).values_list("slug", flat=True)
    )
    for slug in wanted:
        if slug not in present:
            _install(slug)


def _install(slug: str, refresh: bool = False) -> ProductTemplate:
    product = CATALOG[slug]
    fields: dict[str, Any] = {
        "name": product.name,
        "tags": product.tags,
        "builtin": slug,
        "kind": product.print_area["type"],
        "print_area": product.print_area,
        "variants": product.variants,
        "allowed_widths": DEFAULT_WIDTHS,
        "transparent_background": product.transparent_background,
        "width": 1200,
        "height": 1200,
    }
    try:
        with transaction.atomic():
            template, created = ProductTemplate.objects.get_or_create(
                shop=None, slug=slug, defaults={**fields, "version": product.version}
            )
    except IntegrityError:  # another process installed it first
        return ProductTemplate.objects.get(shop=None, slug=slug)
    if refresh and not created:
        ProductTemplate.objects.filter(pk=template.pk).update(
            **fields, version=F("version") + 1, updated_at=timezone.now()
        )
        template.refresh_from_db()
    return template


def install_catalog(refresh: bool = False) -> list[ProductTemplate]:
    return [_install(slug, refresh=refresh) for slug in CATALOG]


def find_template(shop: Shop, slug: str) -> ProductTemplate:
    """The shop's own template with this slug, else the catalog's; MockupError 404 otherwise."""
    # One query for both candidates; the shop's own template wins over the catalog's.
    rows = list(ProductTemplate.objects.filter(Q(shop=shop) | Q(shop=None), slug=slug).order_by())
    template = next((t for t in rows if t.shop_id == shop.id), rows[0] if rows else None)
    if template is None and slug in CATALOG:
        template = _install(slug)
    if template is None:
        raise MockupError(f"No product template {slug!r}.", 404, "unknown_template")
    return template


def visible_templates(shop: Shop, search: str = "") -> QuerySet[ProductTemplate]:
    ensure_catalog()
    qs = ProductTemplate.objects.filter(Q(shop=shop) | Q(shop=None))
    for word in search.lower().split()[:6]:
        qs = qs.filter(Q(name__icontains=word) | Q(tags__icontains=word) | Q(slug__icontains=word))
    return qs.order_by("shop_id", "name")


def spec_for(template: ProductTemplate) -> TemplateSpec:
    def load() -> TemplateLayers:
        if template.builtin:
            return CATALOG[template.builtin].draw()
        return _photo_layers(template)

    key = str(template.id)
    if template.builtin:
        # Built-in layers depend only on the code: share them across rows (and test databases).
        area = json.dumps([template.print_area, template.variants], sort_keys=True)
        key = f"catalog:{template.builtin}:{hashlib.sha256(area.encode()).hexdigest()[:12]}"
    return TemplateSpec(
        key=key,
        version=template.version,
        print_area=template.print_area,
        variants=template.variants or [],
        load_layers=load,
    )


def _photo_layers(template: ProductTemplate) -> TemplateLayers:
    with template.base_photo.open("rb") as fh:
        photo = load_image(fh.read()).image
    alpha = None
    if template.transparent_background and "A" in photo.getbands():
        alpha = np.asarray(photo.getchannel("A"), np.float32) / 255.0
    rgb = np.asarray(photo.convert("RGB"))
    mask = None
    if template.mask:
        with template.mask.open("rb") as fh:
            m = load_image(fh.read()).image.convert("L")
        if m.size != photo.size:
            m = m.resize(photo.size, Image.Resampling.BILINEAR)
        mask = np.asarray(m, np.float32) / 255.0
    points = template.print_area.get("points") or default_quad(template.width, template.height)
    return layers_from_photo(rgb, points, mask=mask, blend=template.blend, alpha=alpha)


def default_quad(width: int, height: int) -> list[list[float]]:
    return [
        [width * 0.3, height * 0.3],
        [width * 0.7, height * 0.3],
        [width * 0.7, height * 0.7],
        [width * 0.3, height * 0.7],
    ]


def validate_quad(points: Any, width: int, height: int) -> list[list[float]]:
    """Four finite corners inside the photo, clockwise from top-left, convex, not degenerate."""
    try:
        quad = [[float(p[0]), float(p[1])] for p in points]
    except (TypeError, ValueError, IndexError, KeyError) as exc:
        raise MockupError("The print area needs four [x, y] corners.") from exc
    if len(quad) != 4 or not all(np.isfinite(quad).flatten()):
        raise MockupError("The print area needs four [x, y] corners.")
    for x, y in quad:
        if not (-0.5 <= x <= width + 0.5 and -0.5 <= y <= height + 0.5):
            raise MockupError("Every print-area corner must lie on the photo.")
    p = np.array(quad)

    def turn(i: int) -> float:
        a, b = p[(i + 1) % 4] - p[i], p[(i + 2) % 4] - p[(i + 1) % 4]
        return float(a[0] * b[1] - a[1] * b[0])

    crosses = [turn(i) for i in range(4)]
    if not (all(c > 0 for c in crosses) or all(c < 0 for c in crosses)):
        raise MockupError("The print area must be a convex four-sided shape.")
    area = 0.5 * abs(
        sum(p[i, 0] * p[(i + 1) % 4, 1] - p[(i + 1) % 4, 0] * p[i, 1] for i in range(4))
    )
    if area < 16 * 16:
        raise MockupError("The print area is too small.")
    if crosses[0] < 0:  # counter-clockwise on screen: put it in the order the renderer expects
        quad = [quad[0], quad[3], quad[2], quad[1]]
    return [[round(x, 2), round(y, 2)] for x, y in quad]


def _unique_slug(shop: Shop, name: str) -> str:
    base = slugify(name)[:50] or "product"
    slug, n = base, 1
    while (
        ProductTemplate.objects.filter(shop=shop, slug=slug).exists()
        or ProductTemplate.objects.filter(shop=None, slug=slug).exists()
    ):
        n += 1
        slug = f"{base}-{n}"
    return slug


def _photo_file(data: bytes) -> tuple[bytes, str, int, int]:
    loaded = load_image(data)
    image = loaded.image
    if max(image.size) > MAX_PHOTO_SIDE:
        image = image.copy()
        image.thumbnail((MAX_PHOTO_SIDE, MAX_PHOTO_SIDE), Image.Resampling.LANCZOS)
    keep_alpha = "A" in image.getbands() or image.mode == "P"
    image = image.convert("RGBA" if keep_alpha else "RGB")
    buf = io.BytesIO()
    if keep_alpha:
        image.save(buf, "PNG")
        ext = "png"
    else:
        image.save(buf, "JPEG", quality=92)
        ext = "jpg"
    return buf.getvalue(), ext, image.width, image.height


def create_shop_template(
    shop: Shop, *, name: str, tags: str, photo: bytes, blend: str = "multiply"
) -> ProductTemplate:
    data, ext, width, height = _photo_file(photo)  # ImageRejected before anything is written
    template = ProductTemplate(
        shop=shop,
        name=name,
        slug=_unique_slug(shop, name),
        tags=tags,
        width=width,
        height=height,
        kind=ProductTemplate.Kind.QUAD,
        print_area={"type": "quad", "points": default_quad(width, height)},
        blend=blend,
        allowed_widths=DEFAULT_WIDTHS,
        transparent_background=ext == "png",
    )
    template.base_photo.save(f"photo.{ext}", ContentFile(data), save=False)
    try:
        with transaction.atomic():
            template.save()
    except BaseException:
        template.base_photo.storage.delete(template.base_photo.name)
        raise
    return template


def update_shop_template(
    template: ProductTemplate,
    *,
    name: str,
    tags: str,
    points: Any,
    blend: str,
    mask: bytes | None = None,
    clear_mask: bool = False,
) -> ProductTemplate:
    """Save an edit and bump the version, so every cached render of the old one is bypassed."""
    quad = validate_quad(points, template.width, template.height)
    old_mask = template.mask.name if template.mask else ""
    if mask is not None:
        m = load_image(mask).image.convert("L")
        buf = io.BytesIO()
        m.save(buf, "PNG")
        template.mask.save(
            f"mask-v{template.version + 1}.png", ContentFile(buf.getvalue()), save=False
        )
    elif clear_mask:
        template.mask = ""
    with transaction.atomic():
        ProductTemplate.objects.filter(pk=template.pk).update(
            name=name,
            tags=tags,
            print_area={"type": "quad", "points": quad},
            blend=blend,
            mask=template.mask.name if template.mask else "",
            version=F("version") + 1,
            updated_at=timezone.now(),
        )
    from mockups.actions import forget_lookups

    forget_lookups()
    if old_mask and (mask is not None or clear_mask):
        template.mask.storage.delete(old_mask)
    template.refresh_from_db()
    return template


def delete_shop_template(template: ProductTemplate) -> None:
    files = [f.name for f in (template.base_photo, template.mask) if f]
    with transaction.atomic():
        template.delete()
    from mockups.actions import forget_lookups

    forget_lookups()
    storage = ProductTemplate._meta.get_field("base_photo").storage
    for name in files:
        storage.delete(name)


# --- catalog search: by words and by what a design suits ------------------------------------------


@dataclass(frozen=True)
class DesignTraits:
    """What matters about a design when choosing a product for it (from its pixels)."""

    width: int
    height: int
    transparent: bool  # a cut-out (a meaningful share of transparent pixels)
    content_aspect: float  # width / height of the visible part
    luminance: float  # mean luminance of the visible pixels, 0 (black) … 1 (white)
    content_fraction: tuple[float, float] = (1.0, 1.0)  # visible part's share of width, height

    def fill_scale(self, most: float = 2.5, fill: float = 0.82) -> float:
        """The placement scale at which the visible part, not its transparent margin, takes
        `fill` of what `fit=contain` gives the whole image (1 for an opaque design): a little
        margin stays, so a design does not run into the print area's edges."""
        share = max(self.content_fraction)
        return round(min(most, fill / share), 3) if share < fill else 1.0


def design_traits(image: Image.Image) -> DesignTraits:
    """Traits of a decoded design; the image is looked at downscaled (≤ 256 px)."""
    small = image.copy()
    small.thumbnail((256, 256))
    rgba = np.asarray(small.convert("RGBA"), np.float32) / 255.0
    alpha = rgba[..., 3]
    visible = alpha >= 0.5
    transparent = bool((~visible).mean() > 0.05)
    if not visible.any():
        return DesignTraits(image.width, image.height, True, image.width / image.height, 0.5)
    ys, xs = np.nonzero(visible)
    box_w, box_h = xs.max() - xs.min() + 1, ys.max() - ys.min() + 1
    rgb = rgba[..., :3][visible]
    luminance = float((rgb @ np.array([0.2126, 0.7152, 0.0722], np.float32)).mean())
    fraction = (box_w / visible.shape[1], box_h / visible.shape[0])
    return DesignTraits(
        image.width, image.height, transparent, float(box_w / box_h), luminance, fraction
    )


@dataclass
class ProductMatch:
    template: ProductTemplate
    words: float  # how well the search words name this product
    suits: float  # how well the design suits it (0 without a design)
    variant: str  # the colour variant to show it in
    reasons: list[str] = field(default_factory=list)

    @property
    def score(self) -> float:
        return round(self.words * 10 + self.suits, 3)


def print_aspect(template: ProductTemplate) -> float:
    from mockups.render import flat_size

    width, height = flat_size(template.print_area)
    return width / height if height else 1.0


def _stem(word: str) -> str:
    return word[:-1] if word.endswith("s") and len(word) > 3 and not word.endswith("ss") else word


def _template_words(template: ProductTemplate) -> set[str]:
    text = f"{template.name} {template.tags} {template.slug.replace('-', ' ')} {template.slug}"
    return {_stem(w) for w in re.findall(r"[a-z0-9][a-z0-9-]*", text.lower())}


def _word_score(template: ProductTemplate, words: list[str]) -> float:
    names = _template_words(template)
    score = 0.0
    for word in words:
        if word in names or _stem(word) in names:
            score += 3
        elif len(word) >= 4 and any(name.startswith(word) for name in names):
            score += 1  # "phone" finds "phone-case"
    return score


# What kind of print a product takes, from its tags (shop templates name their own).
FULL_BLEED_WORDS = {"poster", "print", "wall", "canvas", "case", "frame", "art", "decor"}
GARMENT_WORDS = {"apparel", "shirt", "tee", "hoodie", "sweatshirt", "bag", "tote", "cotton"}


def _rgb(colour: str) -> tuple[int, int, int] | None:
    from PIL import ImageColor

    try:
        return ImageColor.getrgb(colour)[:3]  # CSS names ("navy", "teal") and #rrggbb
    except ValueError:
        return None


def pick_variant(template: ProductTemplate, colour: str) -> str:
    """The variant a colour word names: its key, a word of its name, else the nearest colour.
    "" when the template has no variants; its default when no colour is asked for."""
    variants = template.variants or []
    if not variants:
        return ""
    colour = colour.strip().lower().replace("gray", "grey")
    if not colour:
        return template.default_variant
    for v in variants:
        if colour == v["key"] or colour in v.get("name", "").lower().split():
            return v["key"]
    wanted = _rgb(colour) or _rgb(colour.replace("grey", "gray"))
    if wanted is None:
        return template.default_variant

    def distance(v: dict[str, str]) -> float:
        have = _rgb(v.get("color", "")) or (255, 255, 255)
        return sum((a - b) ** 2 for a, b in zip(have, wanted, strict=True))

    return min(variants, key=distance)["key"]


def _luminance(hex_colour: str) -> float:
    rgb = _rgb(hex_colour) or (255, 255, 255)
    return (0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2]) / 255


def _suits(template: ProductTemplate, design: DesignTraits) -> tuple[float, list[str], str]:
    """(score 0…2, reasons, variant with the most contrast) for a design on a template."""
    reasons: list[str] = []
    ratio = design.content_aspect / max(print_aspect(template), 1e-6)
    fit = max(0.0, 1.0 - abs(math.log(ratio)) / math.log(4))
    if fit > 0.8:
        reasons.append("its print area has the design's proportions")
    score = fit
    die_cut = bool(template.print_area.get("die_cut"))
    words = _template_words(template)
    garment = bool(words & GARMENT_WORDS)
    full_bleed = bool(words & FULL_BLEED_WORDS) and not garment and not die_cut
    if design.transparent:
        if die_cut:
            score += 0.8
            reasons.append("a cut-out design becomes a die-cut sticker")
        elif garment or template.kind == ProductTemplate.Kind.CYLINDER:
            score += 0.4
            reasons.append("a cut-out prints cleanly on it")
    elif full_bleed:
        score += 0.5
        reasons.append("a full-bleed design fills its print")
    variant = template.default_variant
    if template.variants and (design.luminance > 0.7 or design.luminance < 0.3):
        # A light design reads on a dark product and the other way round.
        variant = max(
            template.variants,
            key=lambda v: abs(_luminance(v.get("color", "#ffffff")) - design.luminance),
        )["key"]
        if variant != template.default_variant:
            reasons.append(f"the {variant} colour contrasts with the design")
    return round(score, 3), reasons, variant


def search_products(
    shop: Shop,
    query: str = "",
    *,
    design: DesignTraits | None = None,
    colour: str = "",
    limit: int = 5,
) -> list[ProductMatch]:
    """The shop's templates and the built-in catalog, ranked by the query's words (name, tags,
    slug); products the words do not name are left out unless no product matches any word.
    A design ranks the rest by what suits it (proportions, cut-out or full-bleed) and picks the
    variant with the most contrast; a colour word picks the variant instead."""
    ensure_catalog()
    words = [w for w in re.findall(r"[a-z0-9][a-z0-9-]*", query.lower()) if len(w) > 1][:8]
    templates = list(ProductTemplate.objects.filter(Q(shop=shop) | Q(shop=None)).order_by("name"))
    # A shop's own template hides the catalog product with the same slug (as find_template does).
    own = {t.slug for t in templates if t.shop_id == shop.id}
    templates = [t for t in templates if t.shop_id == shop.id or t.slug not in own]
    matches = []
    for template in templates:
        word_score = _word_score(template, words) if words else 0.0
        suits, reasons, variant = (0.0, [], template.default_variant)
        if design is not None:
            suits, reasons, variant = _suits(template, design)
        if colour:
            variant = pick_variant(template, colour)
        if template.shop_id:
            reasons.append("one of the shop's own products")
        matches.append(ProductMatch(template, word_score, suits, variant, reasons))
    named = [m for m in matches if m.words > 0]
    pool = named or (matches if design is not None or not words else [])
    pool.sort(key=lambda m: (-m.score, m.template.shop_id is None, m.template.name))
    return pool[:limit]
