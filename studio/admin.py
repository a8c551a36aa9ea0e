from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from studio.actions import grant_credits
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
    # Balances move only through the credit actions, so the ledger always explains them.
    readonly_fields = ["plan_used_cents", "plan_period", "wallet_cents"]
    actions = ["top_up_10", "top_up_50"]

    def _top_up(self, request: HttpRequest, queryset: QuerySet[Shop], cents: int) -> None:
        for shop in queryset:
            grant_credits(shop, wallet_cents=cents, memo=f"top-up by staff {request.user}")
        self.message_user(request, f"Added {cents}¢ to {queryset.count()} wallet(s).")

    @admin.action(description="Top up the wallet by $10 (ledger entry)")
    def top_up_10(self, request: HttpRequest, queryset: QuerySet[Shop]) -> None:
        self._top_up(request, queryset, 1000)

    @admin.action(description="Top up the wallet by $50 (ledger entry)")
    def top_up_50(self, request: HttpRequest, queryset: QuerySet[Shop]) -> None:
        self._top_up(request, queryset, 5000)


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "shop", "role", "created_at"]
    list_filter = ["role"]
    list_select_related = ["user", "shop"]
    search_fields = ["user__username", "shop__name", "shop__slug"]
    raw_id_fields = ["user", "shop"]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["email", "shop", "role", "created_at", "expires_at", "accepted_at"]
    list_filter = ["role"]
    search_fields = ["email", "shop__slug", "shop__name"]
    list_select_related = ["shop"]
    exclude = ["token_hash"]

    def has_add_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False  # invitations are made by owners (they need a token and an email)

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
    list_select_related = ["shop", "job"]

    # The ledger is append-only and written by the credit actions, which also move the shop's
    # balance; a row added or edited here would disagree with it.
    def has_add_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False


# --- the HTTP API ------------------------------------------------------------------------------
from studio.models import ApiKey, IdempotencyRecord, SandboxClaim  # noqa: E402


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = [
        "prefix",
        "name",
        "shop",
        "is_sandbox",
        "created_at",
        "last_used_at",
        "revoked_at",
    ]
    list_filter = ["is_sandbox", "revoked_at"]
    search_fields = ["prefix", "name", "shop__slug"]
    raw_id_fields = ["shop", "created_by"]
    # The hash is useless to a reader and the raw key is never stored: nothing to edit here.
    readonly_fields = ["prefix", "key_hash", "created_at", "last_used_at"]


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(admin.ModelAdmin):
    list_display = ["key", "api_key", "completed", "status_code", "created_at"]
    raw_id_fields = ["api_key"]
    readonly_fields = ["request_hash", "body"]


@admin.register(SandboxClaim)
class SandboxClaimAdmin(admin.ModelAdmin):
    list_display = ["shop", "created_ip", "created_at", "claimed_at", "claimed_by"]
    raw_id_fields = ["shop", "claimed_by"]
    readonly_fields = ["token_hash"]
