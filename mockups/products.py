"""Product templates: the built-in catalog rows, shop uploads, lookup, search and render specs."""

from __future__ import annotations

import hashlib
import io
import json
from typing import Any

import numpy as np
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
from studio.models import Shop

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
