"""Product templates (built-in catalog and shop uploads), listings with buy links, and orders."""

from __future__ import annotations

import secrets
import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone

from studio.models import Shop

DEFAULT_WIDTHS = [256, 400, 512, 640, 800, 1024, 1200]


def template_upload_to(template: ProductTemplate, filename: str) -> str:
    owner = template.shop.storage_prefix if template.shop_id else "catalog/"
    return f"{owner}templates/{template.id.hex}/{filename}"


class ProductTemplate(models.Model):
    """A product photo with a print area. `shop` None = the built-in catalog (drawn by code)."""

    class Kind(models.TextChoices):
        QUAD = "quad", "Flat or perspective (four corners)"
        CYLINDER = "cylinder", "Cylinder wrap (mugs, tumblers)"

    class Blend(models.TextChoices):
        MULTIPLY = "multiply", "Multiply shading + screen highlights"
        SHADE = "shade", "Multiply shading only"
        NORMAL = "normal", "Normal (flat print, no shading)"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    shop = models.ForeignKey(
        Shop, on_delete=models.CASCADE, null=True, blank=True, related_name="product_templates"
    )
    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=60)
    tags = models.CharField(max_length=300, blank=True, help_text="Words the catalog search finds")
    # The built-in drawing this row renders with (mockups.catalog.CATALOG key); "" for uploads.
    builtin = models.CharField(max_length=40, blank=True)
    base_photo = models.FileField(upload_to=template_upload_to, max_length=300, blank=True)
    mask = models.FileField(
        upload_to=template_upload_to,
        max_length=300,
        blank=True,
        help_text="Optional greyscale image: white = printable",
    )
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.QUAD)
    # {"type": "quad", "points": [[x, y] × 4 clockwise from top-left]} or
    # {"type": "cylinder", "cx", "radius", "top", "bottom", "ry", "span_deg"}; canonical pixels.
    print_area = models.JSONField(default=dict)
    blend = models.CharField(max_length=12, choices=Blend.choices, default=Blend.MULTIPLY)
    variants = models.JSONField(default=list, blank=True)  # [{"key","name","color":"#rrggbb"}]
    allowed_widths = models.JSONField(default=list, blank=True)
    transparent_background = models.BooleanField(default=False)
    version = models.PositiveIntegerField(default=1, help_text="Bumped on every edit")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["shop", "slug"], name="template_slug_per_shop"),
            models.UniqueConstraint(
                fields=["slug"], condition=Q(shop__isnull=True), name="catalog_slug_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.slug})"

    @property
    def widths(self) -> list[int]:
        return sorted(self.allowed_widths or DEFAULT_WIDTHS)

    @property
    def default_width(self) -> int:
        widths = self.widths
        return 800 if 800 in widths else widths[-1]

    @property
    def default_variant(self) -> str:
        return self.variants[0]["key"] if self.variants else ""


def new_listing_token() -> str:
    return secrets.token_urlsafe(9)


class Listing(models.Model):
    """A product for sale: template + variant + asset + placement, behind a shareable buy link."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="listings")
    template = models.ForeignKey(ProductTemplate, on_delete=models.PROTECT, related_name="+")
    asset = models.ForeignKey("generations.Asset", on_delete=models.PROTECT, related_name="+")
    variant = models.CharField(max_length=40, blank=True)
    placement = models.JSONField(default=dict, blank=True)
    title = models.CharField(max_length=160)
    description = models.TextField(blank=True)
    price_cents = models.PositiveIntegerField()
    currency = models.CharField(max_length=3, default="USD")
    sizes = models.JSONField(default=list, blank=True)
    token = models.CharField(max_length=20, unique=True, default=new_listing_token)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.title

    @property
    def price(self) -> str:
        return f"{self.price_cents / 100:.2f} {self.currency}"


class Order(models.Model):
    """A buyer's order from a listing page. Payment happens outside the studio."""

    class Status(models.TextChoices):
        NEW = "new", "New"
        FULFILLED = "fulfilled", "Fulfilled"
        CANCELED = "canceled", "Canceled"

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="orders")
    listing = models.ForeignKey(Listing, on_delete=models.PROTECT, related_name="orders")
    name = models.CharField(max_length=120)
    email = models.EmailField()
    variant = models.CharField(max_length=40, blank=True)
    size = models.CharField(max_length=20, blank=True)
    quantity = models.PositiveSmallIntegerField(default=1)
    unit_price_cents = models.PositiveIntegerField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.NEW)
    note = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.quantity}× {self.listing} for {self.email}"

    @property
    def total_cents(self) -> int:
        return self.unit_price_cents * self.quantity


class RenderCacheEntry(models.Model):
    """One stored render of a mockup URL (mockups/rendercache.py). The rows are the cache's
    index: its size per shop is kept under MOCKUP_RENDER_CACHE_MB_PER_SHOP by evicting the
    oldest renders first, and the orphan sweeper removes stored renders without a row."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=300, unique=True, help_text="Storage key of the render")
    bytes = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["shop", "created_at"], name="render_cache_shop_age")]

    def __str__(self) -> str:
        return self.name
