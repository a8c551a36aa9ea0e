"""Staff review in the admin: shops, members, credits, API keys and the audit trail.

The admin is a door like any other: actions with consequences call the domain (studio/actions.py,
studio/suspension.py, studio/staff.py) with a reason typed next to the action menu, and every one
is written to the audit trail. Money rows and the audit trail are read-only here. The shared
pieces (filters, links, the reason form, the audited base class) are imported by the other apps'
admin modules. See docs/admin.md.
"""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import NoReverseMatch, path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.utils.safestring import mark_safe

from studio import actions as studio_actions
from studio import audit, staff, suspension
from studio.models import (
    ApiKey,
    AuditEntry,
    IdempotencyRecord,
    Invitation,
    LedgerEntry,
    Membership,
    SandboxClaim,
    Shop,
)

# --- shared pieces ---------------------------------------------------------------------------------


def change_url(obj: models.Model | None) -> str:
    if obj is None or obj.pk is None:
        return ""
    try:
        return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])
    except NoReverseMatch:
        return ""


def link(obj: models.Model | None, label: Any = None) -> str:
    """A link to the object's admin page (plain text if it has none)."""
    if obj is None:
        return "-"
    url = change_url(obj)
    text = obj if label is None else label
    return format_html('<a href="{}">{}</a>', url, text) if url else format_html("{}", text)


def list_link(model: type[models.Model], label: Any, **params: Any) -> str:
    """A link to a changelist filtered by `params` (e.g. shop=<slug>)."""
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    return format_html('<a href="{}?{}">{}</a>', url, urlencode(params), label)


def pretty_json(value: Any) -> str:
    if value in (None, {}, []):
        return "-"
    text = json.dumps(value, indent=2, sort_keys=True, default=str, ensure_ascii=False)
    return format_html('<pre class="studio-json">{}</pre>', text)


def cents(value: int | None) -> str:
    if value is None:
        return "-"
    sign = "-" if value < 0 else ""
    return f"{sign}${abs(value) / 100:,.2f}"


class ReasonActionForm(ActionForm):
    """The action bar with the reason every consequential action needs (and an amount for the
    money and rate-limit actions)."""

    reason = forms.CharField(
        required=False,
        max_length=1000,
        label="Reason",
        widget=forms.TextInput(attrs={"size": 40, "placeholder": "why (kept in the audit trail)"}),
    )
    amount = forms.IntegerField(
        required=False,
        label="Amount",
        widget=forms.NumberInput(attrs={"style": "width:7em", "placeholder": "¢ or /min"}),
    )


def action_reason(request: HttpRequest) -> str:
    return (request.POST.get("reason") or "").strip()


def action_amount(request: HttpRequest) -> int | None:
    try:
        return int((request.POST.get("amount") or "").strip())
    except ValueError:
        return None


class InputFilter(admin.SimpleListFilter):
    """A sidebar filter that is a text box (shops and users are too many to list)."""

    template = "admin/studio/input_filter.html"
    placeholder = ""

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("", "")]  # one dummy choice: SimpleListFilter shows itself only with choices

    def choices(self, changelist: Any) -> Any:
        others = [
            (k, v)
            for k, values in changelist.get_filters_params().items()
            if k != self.parameter_name
            for v in values
        ]
        yield {
            "value": self.value() or "",
            "parameter_name": self.parameter_name,
            "placeholder": self.placeholder,
            "others": others,
            "clear_url": changelist.get_query_string(remove=[self.parameter_name]),
        }


class ShopFilter(InputFilter):
    """?shop=<slug, id or part of the name>."""

    title = "shop"
    parameter_name = "shop"
    placeholder = "slug, id or name"
    field = "shop"

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = (self.value() or "").strip()
        if not value:
            return queryset
        match = Q(**{f"{self.field}__slug": value}) | Q(**{f"{self.field}__name__icontains": value})
        if value.isdigit():
            match |= Q(**{f"{self.field}__id": int(value)})
        return queryset.filter(match)


class UserFilter(InputFilter):
    """?user=<part of an email or username>."""

    title = "user"
    parameter_name = "user"
    placeholder = "email"
    field = "created_by"

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = (self.value() or "").strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(**{f"{self.field}__email__icontains": value})
            | Q(**{f"{self.field}__username__icontains": value})
        )


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows written only by the domain: staff look, never add, edit or delete."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class AuditedAdmin(admin.ModelAdmin):
    """Plain edits in the admin (settings-like rows) are staff actions too: each add, change and
    delete writes an audit row with the changed fields before and after."""

    def save_object(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        obj.save()

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        before: dict[str, Any] = {}
        if change and obj.pk is not None:
            old = type(obj)._default_manager.filter(pk=obj.pk).first()
            before = audit.snapshot(old) if old is not None else {}
        self.save_object(request, obj, form, change)
        obj.refresh_from_db()
        after = audit.snapshot(obj)
        if change:
            before, after = audit.changed(before, after)
        audit.record(
            request.user,
            f"admin.{'change' if change else 'add'}",
            obj,
            before=before,
            after=after,
            reason="edited in the admin",
        )

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        before = audit.snapshot(obj)
        audit.record(
            request.user, "admin.delete", obj, before=before, reason="deleted in the admin"
        )
        super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        for obj in queryset:
            audit.record(
                request.user,
                "admin.delete",
                obj,
                before=audit.snapshot(obj),
                reason="deleted in the admin",
            )
        super().delete_queryset(request, queryset)


def report_skipped(
    admin_obj: admin.ModelAdmin, request: HttpRequest, skipped: list[tuple[Any, str]]
) -> None:
    """One warning line per object an action left alone, with the reason."""
    for obj, why in skipped[:20]:
        admin_obj.message_user(request, f"Not done for {obj}: {why}", messages.WARNING)
    if len(skipped) > 20:
        admin_obj.message_user(
            request, f"…and {len(skipped) - 20} more not done.", messages.WARNING
        )


# --- shops -------------------------------------------------------------------------------------------


class SuspendedFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "suspended"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "Suspended"), ("no", "Active")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() == "yes":
            return queryset.filter(suspended_at__isnull=False)
        if self.value() == "no":
            return queryset.filter(suspended_at__isnull=True)
        return queryset


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    fields = ["user_link", "role", "created_at"]
    readonly_fields = ["user_link", "role", "created_at"]
    can_delete = False
    show_change_link = True

    @admin.display(description="User")
    def user_link(self, obj: Membership) -> str:
        return link(obj.user, obj.user.email or obj.user.get_username())

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def money_visible(request: HttpRequest) -> bool:
    return request.user.has_perm("studio.view_ledgerentry")


@admin.register(Shop)
class ShopAdmin(AuditedAdmin):
    list_display = [
        "name",
        "slug",
        "state",
        "gallery_requires_review",
        "members",
        "is_sandbox",
        "created_at",
    ]
    money_columns = [
        "plan_budget_cents",
        "plan_used_cents",
        "wallet_cents",
        "api_rate_limit_per_minute",
    ]
    list_filter = [SuspendedFilter, "gallery_requires_review", "is_sandbox", "created_at"]
    search_fields = ["name", "slug", "memberships__user__email"]
    date_hierarchy = "created_at"
    inlines = [MembershipInline]
    action_form = ReasonActionForm
    actions = [
        "suspend",
        "reinstate",
        "grant_credit",
        "set_plan_budget",
        "override_rate_limit",
        "require_review",
        "stop_requiring_review",
    ]
    change_form_template = "admin/studio/shop/change_form.html"
    # Settings an owner could change themselves stay editable (audited); money, limits,
    # suspension and review policy move only through the actions above, with a reason.
    fields = [
        "name",
        "slug",
        "state",
        "is_sandbox",
        "created_at",
        "default_model",
        "require_signed_urls",
        "trusted_origins",
        "gallery_requires_review",
        "api_rate_limit_per_minute",
        "plan_budget_cents",
        "plan_used_cents",
        "plan_period",
        "wallet_cents",
    ]
    readonly_fields = [
        "slug",
        "state",
        "is_sandbox",
        "created_at",
        "gallery_requires_review",
        "api_rate_limit_per_minute",
        "plan_budget_cents",
        "plan_used_cents",
        "plan_period",
        "wallet_cents",
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Shop]:
        return super().get_queryset(request).annotate(member_count=Count("memberships"))

    def get_list_display(self, request: HttpRequest) -> list[str]:
        columns = list(self.list_display)
        return columns + self.money_columns if money_visible(request) else columns

    def get_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        money = {"plan_budget_cents", "plan_used_cents", "plan_period", "wallet_cents"}
        return [f for f in self.fields if money_visible(request) or f not in money]

    @admin.display(description="Status")
    def state(self, obj: Shop) -> str:
        if obj.suspended_at is None:
            return mark_safe('<span class="studio-badge ok">Active</span>')
        return format_html(
            '<span class="studio-badge danger" title="{}">Suspended {}</span>',
            obj.suspension_reason,
            obj.suspended_at.strftime("%Y-%m-%d"),
        )

    @admin.display(description="Members", ordering="member_count")
    def members(self, obj: Shop) -> int:
        return getattr(obj, "member_count", 0)

    # Permissions for the actions (Django looks up has_<name>_permission).
    def has_suspend_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("studio.suspend_shop")

    def has_money_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("studio.grant_credits")

    def has_rate_limit_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("studio.override_rate_limit")

    def has_review_policy_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("studio.set_gallery_review")

    def _guard(self, request: HttpRequest) -> str | None:
        reason = action_reason(request)
        if not reason:
            self.message_user(
                request, "Type a reason next to the action menu first.", messages.ERROR
            )
            return None
        return reason

    @admin.action(
        description="Suspend: keys, pages and mockup URLs refuse (reason)", permissions=["suspend"]
    )
    def suspend(self, request: HttpRequest, queryset: QuerySet[Shop]) -> None:
        reason = self._guard(request)
        if reason is None:
            return
        done = suspension.suspend_shops(list(queryset), by=request.user, reason=reason)
        self.message_user(
            request, f"Suspended {len(done)} shop(s); {queryset.count() - len(done)} already were."
        )

    @admin.action(description="Reinstate suspended shops (reason)", permissions=["suspend"])
    def reinstate(self, request: HttpRequest, queryset: QuerySet[Shop]) -> None:
        reason = self._guard(request)
        if reason is None:
            return
        done = suspension.reinstate_shops(list(queryset), by=request.user, reason=reason)
        self.message_user(request, f"Reinstated {len(done)} shop(s).")

    @admin.action(
        description="Grant wallet credit: amount in ¢, negative takes back (reason)",
        permissions=["money"],
    )
    def grant_credit(self, request: HttpRequest, queryset: QuerySet[Shop]) -> None:
        reason, amount = self._guard(request), action_amount(request)
        if reason is None:
            return
        if amount is None:
            self.message_user(request, "Type the amount in cents.", messages.ERROR)
            return
        for shop in queryset:
            try:
                studio_actions.staff_credit(shop, amount, by=request.user, reason=reason)
            except studio_actions.StaffActionError as exc:
                self.message_user(request, f"{shop}: {exc}", messages.ERROR)
            else:
                self.message_user(
                    request, f"{shop}: {cents(amount)} credited (a new ledger entry)."
                )

    @admin.action(
        description="Set the monthly plan budget: amount in ¢ (reason)", permissions=["money"]
    )
    def set_plan_budget(self, request: HttpRequest, queryset: QuerySet[Shop]) -> None:
        reason, amount = self._guard(request), action_amount(request)
        if reason is None:
            return
        if amount is None or amount < 0:
            self.message_user(
                request, "Type the new monthly budget in cents (0 or more).", messages.ERROR
            )
            return
        for shop in queryset:
            studio_actions.staff_set_plan_budget(shop, amount, by=request.user, reason=reason)
        self.message_user(
            request, f"Plan budget set to {cents(amount)} for {queryset.count()} shop(s)."
        )

    @admin.action(
        description="Override the API rate limit: amount = requests/min, 0 = default (reason)",
        permissions=["rate_limit"],
    )
    def override_rate_limit(self, request: HttpRequest, queryset: QuerySet[Shop]) -> None:
        reason, amount = self._guard(request), action_amount(request)
        if reason is None:
            return
        if amount is None:
            self.message_user(
                request, "Type the requests per minute (0 = server default).", messages.ERROR
            )
            return
        try:
            done = studio_actions.override_rate_limit(
                list(queryset), amount, by=request.user, reason=reason
            )
        except studio_actions.StaffActionError as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return
        self.message_user(
            request, f"API rate limit set to {amount or 'the default'} for {len(done)} shop(s)."
        )

    @admin.action(
        description="Require gallery review for these shops (reason)", permissions=["review_policy"]
    )
    def require_review(self, request: HttpRequest, queryset: QuerySet[Shop]) -> None:
        self._review(request, queryset, True)

    @admin.action(
        description="Stop requiring gallery review (reason)", permissions=["review_policy"]
    )
    def stop_requiring_review(self, request: HttpRequest, queryset: QuerySet[Shop]) -> None:
        self._review(request, queryset, False)

    def _review(self, request: HttpRequest, queryset: QuerySet[Shop], required: bool) -> None:
        from generations import moderation

        reason = self._guard(request)
        if reason is None:
            return
        done = moderation.set_review_policy(
            list(queryset), required, by=request.user, reason=reason
        )
        self.message_user(request, f"Changed the review policy of {len(done)} shop(s).")

    # --- the investigation page and view-as ---

    def get_urls(self) -> list[Any]:
        urls = [
            path(
                "<int:shop_id>/view-as/",
                self.admin_site.admin_view(self.view_as),
                name="studio_shop_view_as",
            ),
            path(
                "view-as/stop/",
                self.admin_site.admin_view(self.view_as_stop),
                name="studio_shop_view_as_stop",
            ),
        ]
        return urls + super().get_urls()

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict | None = None,
    ) -> HttpResponse:
        shop = Shop.objects.filter(pk=object_id).first() if str(object_id).isdigit() else None
        extra = dict(extra_context or {})
        if shop is not None:
            extra["investigate"] = self._investigate(request, shop)
            extra["may_view_as"] = staff.may_view_as(request.user)
            extra["recent_audit"] = (
                list(AuditEntry.objects.filter(shop=shop)[:10])
                if request.user.has_perm("studio.view_auditentry")
                else []
            )
        return super().change_view(request, object_id, form_url, extra)

    def _investigate(self, request: HttpRequest, shop: Shop) -> list[tuple[str, str]]:
        from generations.models import Asset, AssetReport, Job, WebhookEndpoint

        user = request.user
        rows: list[tuple[str, str]] = []

        def add(
            label: str, model: type[models.Model], count: int, perm: str, **params: Any
        ) -> None:
            if user.has_perm(perm):
                rows.append((label, list_link(model, f"{count:,}", **params)))

        add(
            "Members",
            Membership,
            shop.memberships.count(),
            "studio.view_membership",
            shop=shop.slug,
        )
        add("Library assets", Asset, shop.assets.count(), "generations.view_asset", shop=shop.slug)
        add(
            "Hidden or rejected",
            Asset,
            shop.assets.filter(moderation__in=["hidden", "rejected"]).count(),
            "generations.view_asset",
            shop=shop.slug,
            moderation__in="hidden,rejected",
        )
        add(
            "Reports (open)",
            AssetReport,
            AssetReport.objects.filter(asset__shop=shop, status="open").count(),
            "generations.view_assetreport",
            shop=shop.slug,
            status__exact="open",
        )
        add("Jobs", Job, shop.jobs.count(), "generations.view_job", shop=shop.slug)
        add(
            "Failed jobs",
            Job,
            shop.jobs.filter(status="failed").count(),
            "generations.view_job",
            shop=shop.slug,
            status__exact="failed",
        )
        add(
            "Ledger entries",
            LedgerEntry,
            shop.ledger.count(),
            "studio.view_ledgerentry",
            shop=shop.slug,
        )
        add(
            "API keys (active)",
            ApiKey,
            shop.api_keys.filter(revoked_at=None).count(),
            "studio.view_apikey",
            shop=shop.slug,
            active="yes",
        )
        add(
            "Webhook endpoints",
            WebhookEndpoint,
            WebhookEndpoint.objects.filter(shop=shop).count(),
            "generations.view_webhookendpoint",
            shop=shop.slug,
        )
        add(
            "Audit entries",
            AuditEntry,
            AuditEntry.objects.filter(shop=shop).count(),
            "studio.view_auditentry",
            shop=shop.slug,
        )
        return rows

    def view_as(self, request: HttpRequest, shop_id: int) -> HttpResponse:
        if request.method != "POST":
            return HttpResponseRedirect(reverse("admin:studio_shop_change", args=[shop_id]))
        shop = get_object_or_404(Shop, pk=shop_id)
        try:
            staff.start_view_as(
                request.session, request.user, shop, reason=request.POST.get("reason", "")
            )
        except staff.ViewAsError as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return HttpResponseRedirect(reverse("admin:studio_shop_change", args=[shop_id]))
        except PermissionDenied:
            raise
        return HttpResponseRedirect(reverse("dashboard"))

    def view_as_stop(self, request: HttpRequest) -> HttpResponse:
        if request.method != "POST":
            return HttpResponseRedirect(reverse("admin:index"))
        state = request.session.get(staff.VIEW_AS_KEY) or {}
        staff.stop_view_as(request.session, request.user)
        self.message_user(
            request,
            "Stopped viewing the studio as the shop; the pages you opened are in the audit trail.",
        )
        if state.get("shop"):
            return HttpResponseRedirect(reverse("admin:studio_shop_change", args=[state["shop"]]))
        return HttpResponseRedirect(reverse("admin:index"))


# --- members, users, invitations --------------------------------------------------------------------


@admin.register(Membership)
class MembershipAdmin(ReadOnlyAdmin):
    list_display = ["user_link", "shop_link", "role", "created_at"]
    list_filter = [
        ShopFilter,
        type("MemberFilter", (UserFilter,), {"field": "user"}),
        "role",
        "created_at",
    ]
    list_select_related = ["user", "shop"]
    search_fields = ["user__username", "user__email", "shop__name", "shop__slug"]

    @admin.display(description="User", ordering="user__email")
    def user_link(self, obj: Membership) -> str:
        return link(obj.user, obj.user.email or obj.user.get_username())

    @admin.display(description="Shop", ordering="shop__name")
    def shop_link(self, obj: Membership) -> str:
        return link(obj.shop)


User = get_user_model()


class UserMembershipInline(MembershipInline):
    fk_name = "user"
    fields = ["shop_link", "role", "created_at"]
    readonly_fields = ["shop_link", "role", "created_at"]

    @admin.display(description="Shop")
    def shop_link(self, obj: Membership) -> str:
        return link(obj.shop)


if admin.site.is_registered(User):
    admin.site.unregister(User)


@admin.register(User)
class StudioUserAdmin(BaseUserAdmin):
    """Django's user admin with the shops each user belongs to."""

    inlines = [UserMembershipInline]
    list_display = ["username", "email", "is_staff", "is_active", "date_joined", "last_login"]
    list_filter = ["is_staff", "is_superuser", "is_active", "groups", "date_joined"]


@admin.register(Invitation)
class InvitationAdmin(ReadOnlyAdmin):
    list_display = ["email", "shop", "role", "created_at", "expires_at", "accepted_at"]
    list_filter = [ShopFilter, "role", "created_at"]
    search_fields = ["email", "shop__slug", "shop__name"]
    list_select_related = ["shop"]
    exclude = ["token_hash"]


# --- credits -------------------------------------------------------------------------------------------


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    """Append-only: written by the credit actions, which also move the shop's balance. A staff
    correction is a new entry (Shops → grant credit, Jobs → staff refund), never an edit."""

    list_display = [
        "created_at",
        "shop_link",
        "kind",
        "amount",
        "plan",
        "wallet",
        "job_link",
        "memo",
    ]
    list_filter = [ShopFilter, "kind", "period", "created_at"]
    search_fields = ["shop__slug", "shop__name", "memo", "job__id"]
    date_hierarchy = "created_at"
    list_select_related = ["shop", "job"]

    @admin.display(description="Shop", ordering="shop__name")
    def shop_link(self, obj: LedgerEntry) -> str:
        return link(obj.shop)

    @admin.display(description="Job")
    def job_link(self, obj: LedgerEntry) -> str:
        return link(obj.job, f"{obj.job.kind} {str(obj.job.id)[:8]}") if obj.job else "-"

    @admin.display(description="Amount", ordering="amount_cents")
    def amount(self, obj: LedgerEntry) -> str:
        return cents(obj.amount_cents)

    @admin.display(description="Plan")
    def plan(self, obj: LedgerEntry) -> str:
        return cents(obj.plan_cents)

    @admin.display(description="Wallet")
    def wallet(self, obj: LedgerEntry) -> str:
        return cents(obj.wallet_cents)


# --- the HTTP API ------------------------------------------------------------------------------------


class KeyStateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "active"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "Active"), ("no", "Revoked")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() in ("yes", "no"):
            return queryset.filter(revoked_at__isnull=self.value() == "yes")
        return queryset


@admin.register(ApiKey)
class ApiKeyAdmin(ReadOnlyAdmin):
    list_display = [
        "prefix",
        "name",
        "shop_link",
        "scope_list",
        "state",
        "is_sandbox",
        "created_at",
        "last_used_at",
    ]
    list_filter = [ShopFilter, KeyStateFilter, "is_sandbox", "created_at"]
    search_fields = ["prefix", "name", "shop__slug", "shop__name"]
    list_select_related = ["shop"]
    # The hash is useless to a reader and the raw key is never stored.
    exclude = ["key_hash"]
    action_form = ReasonActionForm
    actions = ["revoke"]

    @admin.display(description="Shop", ordering="shop__name")
    def shop_link(self, obj: ApiKey) -> str:
        return link(obj.shop)

    @admin.display(description="Scopes")
    def scope_list(self, obj: ApiKey) -> str:
        return ", ".join(obj.scopes or [])

    @admin.display(description="State", ordering="revoked_at")
    def state(self, obj: ApiKey) -> str:
        if obj.revoked_at is None:
            return mark_safe('<span class="studio-badge ok">Active</span>')
        return format_html(
            '<span class="studio-badge">Revoked {}</span>',
            obj.revoked_at.strftime("%Y-%m-%d %H:%M"),
        )

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("studio.revoke_apikey")

    @admin.action(
        description="Revoke: the keys stop working at once (reason)", permissions=["revoke"]
    )
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        try:
            revoked, skipped = studio_actions.revoke_keys(
                list(queryset), by=request.user, reason=action_reason(request)
            )
        except studio_actions.StaffActionError as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return
        self.message_user(request, f"Revoked {len(revoked)} key(s).")
        report_skipped(self, request, skipped)


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(ReadOnlyAdmin):
    list_display = ["key", "api_key", "completed", "status_code", "created_at"]
    list_filter = ["completed", "created_at"]
    exclude = ["request_hash", "body"]


@admin.register(SandboxClaim)
class SandboxClaimAdmin(ReadOnlyAdmin):
    list_display = ["shop", "created_ip", "created_at", "claimed_at", "claimed_by"]
    list_filter = ["created_at"]
    exclude = ["token_hash"]


# --- the audit trail -------------------------------------------------------------------------------


class ActorFilter(InputFilter):
    title = "staff member"
    parameter_name = "actor"
    placeholder = "email"

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = (self.value() or "").strip()
        return queryset.filter(actor_label__icontains=value) if value else queryset


class TargetFilter(InputFilter):
    """?target=<app_label.model>:<id> — the entries of one object (linked from object pages)."""

    title = "object"
    parameter_name = "target"
    placeholder = "generations.job:<id>"

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = (self.value() or "").strip()
        if ":" not in value:
            return queryset
        target_type, target_id = value.split(":", 1)
        return queryset.filter(target_type=target_type, target_id=target_id)


def audit_link(obj: models.Model, label: str = "Audit trail") -> str:
    return list_link(AuditEntry, label, target=f"{obj._meta.label_lower}:{obj.pk}")


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    """Every staff action and moderation decision: browsable and filterable, never editable."""

    list_display = ["created_at", "actor_label", "action", "target", "shop_link", "reason_text"]
    list_filter = ["action", ActorFilter, ShopFilter, TargetFilter, "created_at"]
    search_fields = ["target_id", "target_label", "reason", "actor_label"]
    date_hierarchy = "created_at"
    list_select_related = ["shop"]
    fields = [
        "created_at",
        "actor_label",
        "action",
        "target",
        "shop_link",
        "reason",
        "changes",
        "before_json",
        "after_json",
    ]
    readonly_fields = fields

    @admin.display(description="Object")
    def target(self, obj: AuditEntry) -> str:
        app_label, _, model_name = obj.target_type.partition(".")
        try:
            url = reverse(f"admin:{app_label}_{model_name}_change", args=[obj.target_id])
        except NoReverseMatch:
            url = ""
        label = obj.target_label or obj.target_id
        return format_html('<a href="{}">{}</a>', url, label) if url else label

    @admin.display(description="Shop")
    def shop_link(self, obj: AuditEntry) -> str:
        return link(obj.shop) if obj.shop_id else "-"

    @admin.display(description="Reason")
    def reason_text(self, obj: AuditEntry) -> str:
        return obj.reason[:120] + ("…" if len(obj.reason) > 120 else "")

    @admin.display(description="Changes")
    def changes(self, obj: AuditEntry) -> str:
        before, after = obj.before or {}, obj.after or {}
        keys = sorted({*before, *after})
        if not keys:
            return "-"
        rows = format_html_join(
            "",
            "<tr><th>{}</th><td>{}</td><td>{}</td></tr>",
            (
                (k, json.dumps(before.get(k), default=str), json.dumps(after.get(k), default=str))
                for k in keys
            ),
        )
        return format_html(
            '<table class="studio-diff"><thead><tr><th>field</th><th>before</th><th>after</th></tr></thead><tbody>{}</tbody></table>',
            rows,
        )

    @admin.display(description="Before (JSON)")
    def before_json(self, obj: AuditEntry) -> str:
        return pretty_json(obj.before)

    @admin.display(description="After (JSON)")
    def after_json(self, obj: AuditEntry) -> str:
        return pretty_json(obj.after)


admin.site.site_header = "Studio staff"
admin.site.site_title = "Studio staff"
admin.site.index_title = "Review and investigation"
