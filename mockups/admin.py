"""Product templates, listings and orders in the admin (edits audited; orders read-only)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import F
from django.http import HttpRequest

from mockups.actions import forget_lookups
from mockups.models import Listing, Order, ProductTemplate
from studio.admin import AuditedAdmin, ReadOnlyAdmin, ShopFilter, link


@admin.register(ProductTemplate)
class ProductTemplateAdmin(AuditedAdmin):
    list_display = ("name", "slug", "shop", "kind", "version", "updated_at")
    list_filter = (ShopFilter, "kind")
    search_fields = ("name", "slug", "tags")
    readonly_fields = ("version",)

    def save_object(
        self, request: HttpRequest, obj: ProductTemplate, form: Any, change: bool
    ) -> None:
        obj.save()
        if change:  # every edit bumps the version, which is part of every render cache key
            ProductTemplate.objects.filter(pk=obj.pk).update(version=F("version") + 1)
        forget_lookups()


@admin.register(Listing)
class ListingAdmin(AuditedAdmin):
    list_display = (
        "title",
        "shop_link",
        "asset_link",
        "template",
        "price_cents",
        "is_active",
        "created_at",
    )
    list_filter = (ShopFilter, "is_active", "created_at")
    search_fields = ("title", "token", "shop__slug")
    list_select_related = ("shop", "asset", "template")
    raw_id_fields = ("asset",)

    @admin.display(description="Shop", ordering="shop__name")
    def shop_link(self, obj: Listing) -> str:
        return link(obj.shop)

    @admin.display(description="Image")
    def asset_link(self, obj: Listing) -> str:
        label = "hidden by staff" if obj.asset.is_hidden else obj.asset.id.hex[:8]
        return link(obj.asset, label)


@admin.register(Order)
class OrderAdmin(ReadOnlyAdmin):
    list_display = ("id", "shop", "listing", "name", "email", "quantity", "status", "created_at")
    list_filter = (ShopFilter, "status", "created_at")
    search_fields = ("email", "name")
