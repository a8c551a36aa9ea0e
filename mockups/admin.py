from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import F

from mockups.actions import forget_lookups
from mockups.models import Listing, Order, ProductTemplate


@admin.register(ProductTemplate)
class ProductTemplateAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "shop", "kind", "version", "updated_at")
    list_filter = ("kind",)
    search_fields = ("name", "slug", "tags")
    readonly_fields = ("version",)

    def save_model(self, request: Any, obj: ProductTemplate, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if change:  # every edit bumps the version, which is part of every render cache key
            ProductTemplate.objects.filter(pk=obj.pk).update(version=F("version") + 1)
        forget_lookups()


@admin.register(Listing)
class ListingAdmin(admin.ModelAdmin):
    list_display = ("title", "shop", "template", "price_cents", "is_active", "created_at")
    list_filter = ("is_active",)
    search_fields = ("title", "token")
    raw_id_fields = ("asset",)


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ("id", "shop", "listing", "name", "email", "quantity", "status", "created_at")
    list_filter = ("status",)
    search_fields = ("email", "name")
