from __future__ import annotations

from django.contrib import admin

from studio.models import Invitation, LedgerEntry, Membership, Shop


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    raw_id_fields = ["user"]


@admin.register(Shop)
class ShopAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "slug",
        "is_sandbox",
        "plan_budget_cents",
        "plan_used_cents",
        "wallet_cents",
        "created_at",
    ]
    list_filter = ["is_sandbox"]
    search_fields = ["name", "slug"]
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "shop", "role", "created_at"]
    list_filter = ["role"]
    search_fields = ["user__username", "shop__name", "shop__slug"]
    raw_id_fields = ["user", "shop"]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["email", "shop", "role", "created_at", "expires_at", "accepted_at"]
    exclude = ["token_hash"]
    raw_id_fields = ["shop", "invited_by", "accepted_by"]


@admin.register(LedgerEntry)
class LedgerEntryAdmin(admin.ModelAdmin):
    list_display = [
        "created_at",
        "shop",
        "kind",
        "amount_cents",
        "plan_cents",
        "wallet_cents",
        "job",
        "memo",
    ]
    list_filter = ["kind", "period"]
    search_fields = ["shop__slug", "memo"]
    raw_id_fields = ["shop", "job"]
    date_hierarchy = "created_at"

    def has_change_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False  # the ledger is append-only
