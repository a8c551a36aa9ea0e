"""Staff review of the library and jobs: the moderation queue, reports, and investigation pages.

Generated files and jobs are read-only here; approve / reject / hide, retry / cancel and staff
refunds are domain actions (generations/moderation.py, generations/actions.py,
studio/actions.py) that take the reason typed next to the action menu and write the audit trail.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.db.models import Exists, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from generations import actions, model_configs, moderation
from generations.models import (
    Asset,
    AssetReport,
    Job,
    ModelConfig,
    ModerationItem,
    Post,
    Preset,
    PriceRule,
    WebhookDelivery,
    WebhookEndpoint,
)
from studio.actions import StaffActionError, refundable_cents, staff_refund
from studio.admin import (
    AuditedAdmin,
    ReadOnlyAdmin,
    ReasonActionForm,
    ShopFilter,
    UserFilter,
    action_amount,
    action_reason,
    audit_link,
    cents,
    link,
    list_link,
    money_visible,
    pretty_json,
    report_skipped,
)
from studio.audit import entries_for
from studio.models import LedgerEntry


class SubqueryCount(Subquery):
    """COUNT(*) of a correlated subquery (evaluated only for the rows a page shows)."""

    template = "(SELECT COUNT(*) FROM (%(subquery)s) _count)"
    output_field = IntegerField()


def _open_reports() -> SubqueryCount:
    return SubqueryCount(
        AssetReport.objects.filter(asset=OuterRef("pk"), status=AssetReport.Status.OPEN)
        .order_by()
        .values("pk")
    )


def _thumb_url(asset: Asset) -> str:
    if asset.thumbnail:
        return asset.thumbnail.url
    return "" if asset.is_video else asset.file.url


_STATE_STYLE = {
    "unreviewed": "",
    "pending": "warn",
    "approved": "ok",
    "rejected": "danger",
    "hidden": "danger",
}


def moderation_badge(asset: Asset) -> str:
    return format_html(
        '<span class="studio-badge {}">{}</span>{}',
        _STATE_STYLE.get(asset.moderation, ""),
        asset.get_moderation_display(),
        mark_safe(' <span class="studio-badge ok">in gallery</span>') if asset.is_public else "",
    )


class ModerationActionForm(ActionForm):
    reason = forms.CharField(
        required=False,
        max_length=1000,
        label="Reason",
        widget=forms.TextInput(
            attrs={
                "size": 50,
                "placeholder": "shown to the shop's owners (required to reject or hide)",
            }
        ),
    )


class ModerationActions(admin.ModelAdmin):
    """Approve / reject / hide, for the queue and the asset list (moderators only)."""

    action_form = ModerationActionForm

    def has_moderate_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("generations.moderate_asset")

    def _decide(self, request: HttpRequest, queryset: QuerySet, verb: str) -> None:
        fn = {"approve": moderation.approve, "reject": moderation.reject, "hide": moderation.hide}[
            verb
        ]
        try:
            decision = fn(list(queryset), by=request.user, reason=action_reason(request))
        except moderation.ModerationError as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return
        done = {"approve": "Approved", "reject": "Rejected", "hide": "Hid"}[verb]
        level = messages.WARNING if decision.skipped else messages.SUCCESS
        self.message_user(request, decision.summary(done), level)

    @admin.action(
        description="Approve: publish waiting images, dismiss reports", permissions=["moderate"]
    )
    def approve(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._decide(request, queryset, "approve")

    @admin.action(
        description="Reject for the gallery (reason shown to the owner)", permissions=["moderate"]
    )
    def reject(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._decide(request, queryset, "reject")

    @admin.action(
        description="Hide everywhere public: gallery, mockups, buy pages (reason)",
        permissions=["moderate"],
    )
    def hide(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._decide(request, queryset, "hide")


# --- the moderation queue -------------------------------------------------------------------------


class QueueFilter(admin.SimpleListFilter):
    title = "queue"
    parameter_name = "queue"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [
            ("review", "Needs a decision"),
            ("pending", "Waiting for review"),
            ("reported", "Reported"),
            ("hidden", "Hidden"),
            ("rejected", "Rejected"),
            ("public", "In the gallery"),
            ("all", "Everything"),
        ]

    def value(self) -> str:
        return super().value() or "review"

    def choices(self, changelist: Any) -> Any:
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.value() == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = self.value()
        if value == "review":
            return queryset.filter(
                Q(moderation=Asset.Moderation.PENDING) | Q(has_open_reports=True)
            )
        if value == "pending":
            return queryset.filter(moderation=Asset.Moderation.PENDING)
        if value == "reported":
            return queryset.filter(has_open_reports=True)
        if value in ("hidden", "rejected"):
            return queryset.filter(moderation=value)
        if value == "public":
            return queryset.filter(is_public=True)
        return queryset


@admin.register(ModerationItem)
class ModerationQueueAdmin(ModerationActions, ReadOnlyAdmin):
    """Pending and reported images, oldest first with reported ones on top; large previews, the
    prompt, the shop with its history, and the open reports, with bulk decisions."""

    list_display = ["preview", "details", "shop_history", "reports_column"]
    list_display_links = None
    list_filter = [QueueFilter, ShopFilter, "kind", "created_at"]
    search_fields = ["prompt", "shop__slug", "shop__name"]
    list_per_page = 25
    actions = ["approve", "reject", "hide"]
    change_list_template = "admin/generations/moderationitem/change_list.html"

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("generations.moderate_asset") or super().has_view_permission(
            request, obj
        )

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        shop = OuterRef("shop_id")
        # Built here rather than by super(): the ordering names annotations made below.
        return (
            self.model._default_manager.select_related("shop", "job", "created_by")
            .annotate(
                has_open_reports=Exists(
                    AssetReport.objects.filter(asset=OuterRef("pk"), status=AssetReport.Status.OPEN)
                ),
                open_reports=_open_reports(),
                shop_public=_shop_count(Asset.objects.filter(shop=shop, is_public=True)),
                shop_hidden=_shop_count(Asset.objects.filter(shop=shop, moderation="hidden")),
                shop_rejected=_shop_count(Asset.objects.filter(shop=shop, moderation="rejected")),
                shop_upheld=_shop_count(
                    AssetReport.objects.filter(asset__shop=shop, status=AssetReport.Status.UPHELD)
                ),
            )
            .prefetch_related(
                Prefetch(
                    "reports",
                    queryset=AssetReport.objects.filter(
                        status=AssetReport.Status.OPEN
                    ).select_related("reporter"),
                    to_attr="open_report_list",
                )
            )
            .order_by(*self.get_ordering(request))
        )

    def get_ordering(self, request: HttpRequest) -> list[str]:
        # Reported images first (most reports on top), then the longest-waiting.
        return ["-open_reports", "created_at"]

    @admin.display(description="Image")
    def preview(self, obj: Asset) -> str:
        src = _thumb_url(obj)
        if not src:
            return "(video)"
        return format_html(
            '<div class="queue-preview"><a href="{}" target="_blank" rel="noopener" title="Open the full image">'
            '<img src="{}" alt="{}" loading="lazy"></a></div>',
            obj.file.url,
            src,
            (obj.prompt or obj.get_kind_display())[:120],
        )

    @admin.display(description="Prompt")
    def details(self, obj: Asset) -> str:
        job = ""
        if obj.job_id and self._can(obj, "generations.view_job"):
            job = format_html(
                ' · <a href="{}">job</a>',
                reverse("admin:generations_job_change", args=[obj.job_id]),
            )
        return format_html(
            '<div class="queue-prompt"><p>{}</p><p class="queue-prompt-text">{}</p>{}<p class="quiet">{} · {} · {}×{} · {}{}</p>'
            '<p><a href="{}">asset details</a>{}</p></div>',
            self.state(obj),
            obj.prompt or "(no prompt: " + obj.get_kind_display().lower() + ")",
            format_html("<p><em>Negative:</em> {}</p>", obj.negative_prompt)
            if obj.negative_prompt
            else "",
            obj.get_kind_display(),
            obj.model or "no model",
            obj.width,
            obj.height,
            obj.created_at.strftime("%Y-%m-%d %H:%M"),
            f" by {obj.created_by.email}" if obj.created_by else "",
            reverse("admin:generations_asset_change", args=[obj.pk]),
            job,
        )

    def _can(self, obj: Any, perm: str) -> bool:
        request = getattr(self, "_request", None)
        return bool(request and request.user.has_perm(perm))

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> Any:
        self._request = request  # display columns link only where the viewer may go
        extra = {"title": "Moderation queue", "subtitle": None, **(extra_context or {})}
        return super().changelist_view(request, extra)

    @admin.display(description="Shop and its history")
    def shop_history(self, obj: Any) -> str:
        shop = obj.shop
        name = link(shop) if self._can(obj, "studio.view_shop") else shop.name
        flags = []
        if shop.suspended_at:
            flags.append(mark_safe('<span class="studio-badge danger">suspended</span>'))
        if shop.gallery_requires_review:
            flags.append(mark_safe('<span class="studio-badge warn">review required</span>'))
        history = format_html(
            "{} in the gallery · {} rejected · {} hidden · {} upheld report(s) · since {}",
            obj.shop_public,
            obj.shop_rejected,
            obj.shop_hidden,
            obj.shop_upheld,
            shop.created_at.strftime("%Y-%m-%d"),
        )
        trail = (
            format_html(" · {}", list_link(_audit_model(), "decisions", shop=shop.slug))
            if self._can(obj, "studio.view_auditentry")
            else ""
        )
        return format_html(
            '<div class="queue-shop"><strong>{}</strong> {}<br><small>{}{}</small></div>',
            name,
            format_html_join(" ", "{}", ((f,) for f in flags)),
            history,
            trail,
        )

    @admin.display(description="State")
    def state(self, obj: Asset) -> str:
        reason = (
            format_html("<br><small>{}</small>", obj.moderation_reason)
            if obj.moderation_reason
            else ""
        )
        return format_html("{}{}", moderation_badge(obj), reason)

    @admin.display(description="Reports")
    def reports_column(self, obj: Any) -> str:
        reports = getattr(obj, "open_report_list", [])
        if not reports:
            return "-"
        items = format_html_join(
            "",
            "<li><strong>{}</strong>{} <small>— {}, {}</small></li>",
            (
                (
                    r.get_reason_display(),
                    f": {r.note[:200]}" if r.note else "",
                    r.reporter.email if r.reporter else "deleted user",
                    r.created_at.strftime("%Y-%m-%d"),
                )
                for r in reports
            ),
        )
        return format_html('<div class="queue-reports"><ul>{}</ul></div>', items)


def _shop_count(qs: QuerySet) -> SubqueryCount:
    return SubqueryCount(qs.order_by().values("pk"))


def _audit_model() -> Any:
    from studio.models import AuditEntry

    return AuditEntry


# --- assets and reports ---------------------------------------------------------------------------


@admin.register(Asset)
class AssetAdmin(ModerationActions, ReadOnlyAdmin):
    """Generated and uploaded files are read-only: their bytes, prompt, seed and time are what
    was made. Staff decide on publication with the actions."""

    list_display = [
        "thumb",
        "prompt_short",
        "shop_link",
        "kind",
        "model",
        "state",
        "open_reports",
        "created_at",
    ]
    list_filter = [ShopFilter, UserFilter, "kind", "moderation", "is_public", "model", "created_at"]
    search_fields = ["prompt", "sha256", "shop__slug", "shop__name"]
    date_hierarchy = "created_at"
    list_select_related = ["shop"]
    list_per_page = 50
    actions = ["approve", "reject", "hide"]
    fieldsets = [
        (None, {"fields": ["preview_large", "state_detail", "reports_detail"]}),
        (
            "Content",
            {"fields": ["prompt", "negative_prompt", "model", "seed", "parameters_json", "preset"]},
        ),
        (
            "Where it comes from and where it is used",
            {
                "fields": [
                    "shop_link",
                    "created_by_link",
                    "job_link",
                    "parent_link",
                    "children_links",
                    "listings",
                    "audit",
                ]
            },
        ),
        (
            "File",
            {
                "fields": [
                    "kind",
                    "content_type",
                    "width",
                    "height",
                    "bytes",
                    "sha256",
                    "file",
                    "created_at",
                ]
            },
        ),
    ]
    readonly_fields = [
        "preview_large",
        "state_detail",
        "reports_detail",
        "prompt",
        "negative_prompt",
        "model",
        "seed",
        "parameters_json",
        "preset",
        "shop_link",
        "created_by_link",
        "job_link",
        "parent_link",
        "children_links",
        "listings",
        "audit",
        "kind",
        "content_type",
        "width",
        "height",
        "bytes",
        "sha256",
        "file",
        "created_at",
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Asset]:
        return super().get_queryset(request).annotate(open_report_count=_open_reports())

    @admin.display(description="Preview")
    def thumb(self, obj: Asset) -> str:
        src = _thumb_url(obj)
        return (
            format_html('<img src="{}" style="height:64px;border-radius:4px" alt="">', src)
            if src
            else "-"
        )

    @admin.display(description="Prompt")
    def prompt_short(self, obj: Asset) -> str:
        return (obj.prompt[:80] + "…") if len(obj.prompt) > 80 else (obj.prompt or "-")

    @admin.display(description="Shop", ordering="shop__name")
    def shop_link(self, obj: Asset) -> str:
        return link(obj.shop)

    @admin.display(description="State", ordering="moderation")
    def state(self, obj: Asset) -> str:
        return moderation_badge(obj)

    @admin.display(description="Open reports", ordering="open_report_count")
    def open_reports(self, obj: Asset) -> int:
        return getattr(obj, "open_report_count", 0)

    @admin.display(description="Preview")
    def preview_large(self, obj: Asset) -> str:
        if not obj.file:
            return "-"
        if obj.is_video:
            return format_html(
                '<video src="{}" controls style="max-height:480px"></video>', obj.file.url
            )
        return format_html(
            '<a href="{}" target="_blank" rel="noopener"><img src="{}" style="max-height:480px;max-width:100%" alt=""></a>',
            obj.file.url,
            obj.file.url,
        )

    @admin.display(description="Moderation")
    def state_detail(self, obj: Asset) -> str:
        who = ""
        if obj.moderated_at:
            who = format_html(
                "<br><small>{} by {}</small>",
                obj.moderated_at.strftime("%Y-%m-%d %H:%M"),
                obj.moderated_by.email if obj.moderated_by else "staff",
            )
        reason = (
            format_html("<br>Reason: {}", obj.moderation_reason) if obj.moderation_reason else ""
        )
        return format_html("{}{}{}", moderation_badge(obj), reason, who)

    @admin.display(description="Reports")
    def reports_detail(self, obj: Asset) -> str:
        reports = list(obj.reports.select_related("reporter", "resolved_by")[:50])
        if not reports:
            return "-"
        return format_html(
            '<table class="studio-table"><tbody>{}</tbody></table>',
            format_html_join(
                "",
                "<tr><td>{}</td><td><strong>{}</strong></td><td>{}</td><td>{}</td><td>{}</td></tr>",
                (
                    (
                        r.created_at.strftime("%Y-%m-%d %H:%M"),
                        r.get_reason_display(),
                        r.note[:300],
                        r.reporter.email if r.reporter else "deleted user",
                        r.get_status_display(),
                    )
                    for r in reports
                ),
            ),
        )

    @admin.display(description="Parameters")
    def parameters_json(self, obj: Asset) -> str:
        return pretty_json(obj.parameters)

    @admin.display(description="Made by")
    def created_by_link(self, obj: Asset) -> str:
        return link(obj.created_by, obj.created_by.email) if obj.created_by else "-"

    @admin.display(description="Job")
    def job_link(self, obj: Asset) -> str:
        return (
            link(obj.job, f"{obj.job.kind} {obj.job.get_status_display().lower()}")
            if obj.job
            else "-"
        )

    @admin.display(description="Source image")
    def parent_link(self, obj: Asset) -> str:
        return (
            link(obj.parent, f"{obj.parent.get_kind_display()} {obj.parent.id.hex[:8]}")
            if obj.parent
            else "-"
        )

    @admin.display(description="Derived images")
    def children_links(self, obj: Asset) -> str:
        children = list(obj.children.all()[:24])
        if not children:
            return "-"
        return format_html_join(
            ", ", "{}", ((link(c, c.parameters.get("operation", c.kind)),) for c in children)
        )

    @admin.display(description="Listings (buy pages)")
    def listings(self, obj: Asset) -> str:
        from mockups.models import Listing

        rows = list(Listing.objects.filter(asset=obj)[:20])
        if not rows:
            return "-"
        return format_html_join(
            ", ",
            "{} ({})",
            ((link(lst, lst.title), "open" if lst.is_active else "closed") for lst in rows),
        )

    @admin.display(description="Staff actions")
    def audit(self, obj: Asset) -> str:
        return audit_link(obj, f"{entries_for(obj).count()} audit entries")


@admin.register(AssetReport)
class AssetReportAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "asset_link",
        "reason",
        "note_short",
        "reporter_email",
        "status",
        "resolved_at",
        "resolved_by",
    ]
    list_filter = [
        type("ReportShopFilter", (ShopFilter,), {"field": "asset__shop"}),
        "status",
        "reason",
        "created_at",
    ]
    search_fields = ["note", "reporter__email", "asset__prompt"]
    list_select_related = ["asset", "reporter", "resolved_by"]
    date_hierarchy = "created_at"

    @admin.display(description="Image")
    def asset_link(self, obj: AssetReport) -> str:
        src = _thumb_url(obj.asset)
        url = reverse("admin:generations_asset_change", args=[obj.asset_id])
        return format_html(
            '<a href="{}"><img src="{}" style="height:48px;border-radius:4px" alt="reported image"></a>',
            url,
            src,
        )

    @admin.display(description="Note")
    def note_short(self, obj: AssetReport) -> str:
        return obj.note[:120]

    @admin.display(description="Reporter")
    def reporter_email(self, obj: AssetReport) -> str:
        return obj.reporter.email if obj.reporter else "deleted user"


# --- jobs ---------------------------------------------------------------------------------------------


def _span(start: Any, end: Any) -> str:
    if not start or not end:
        return "-"
    seconds = (end - start).total_seconds()
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 120:
        return f"{seconds:.1f} s"
    return str(timedelta(seconds=round(seconds)))


class EngineFilter(admin.SimpleListFilter):
    title = "engine"
    parameter_name = "engine__exact"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        engines = Job.objects.order_by().values_list("engine", flat=True).distinct()
        return [(e, e) for e in sorted(set(engines)) if e]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        return queryset.filter(engine=self.value()) if self.value() else queryset


@admin.register(Job)
class JobAdmin(ReadOnlyAdmin):
    """The investigation page of a job: parameters, attempts, timings, what the engine answered,
    the outputs, the money and the webhook deliveries. Retry, cancel and refund are actions."""

    list_display = [
        "short_id",
        "kind",
        "status",
        "shop_link",
        "user",
        "engine",
        "model",
        "cost",
        "attempts",
        "created_at",
        "took",
    ]
    list_filter = [ShopFilter, UserFilter, "status", "kind", EngineFilter, "source", "created_at"]
    search_fields = ["id", "shop__slug", "shop__name", "error", "model"]
    list_select_related = ["shop", "created_by"]
    date_hierarchy = "created_at"
    action_form = ReasonActionForm
    actions = ["retry_jobs", "cancel_jobs", "refund"]
    fieldsets = [
        (
            "Job",
            {
                "fields": [
                    "summary",
                    "shop_link",
                    "user",
                    "source",
                    "preset",
                    "input_link",
                    "error_text",
                ]
            },
        ),
        ("Attempts and timings", {"fields": ["timeline", "attempt_table"]}),
        ("Parameters", {"fields": ["params_json"]}),
        ("Engine response", {"fields": ["engine", "model", "upstream", "result_json"]}),
        ("Outputs", {"fields": ["output_previews"]}),
        ("Money, deliveries and staff actions", {"fields": ["money", "deliveries", "audit"]}),
    ]
    readonly_fields = [
        "summary",
        "shop_link",
        "user",
        "source",
        "preset",
        "input_link",
        "error_text",
        "timeline",
        "attempt_table",
        "params_json",
        "engine",
        "model",
        "upstream",
        "result_json",
        "output_previews",
        "money",
        "deliveries",
        "audit",
    ]

    def has_retry_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("generations.retry_job")

    def has_cancel_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("generations.cancel_job")

    def has_money_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("studio.grant_credits")

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict | None = None,
    ) -> Any:
        self._request = request
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.display(description="Job", ordering="id")
    def short_id(self, obj: Job) -> str:
        return str(obj.id)[:8]

    @admin.display(description="Shop", ordering="shop__name")
    def shop_link(self, obj: Job) -> str:
        return link(obj.shop)

    @admin.display(description="User")
    def user(self, obj: Job) -> str:
        return link(obj.created_by, obj.created_by.email) if obj.created_by else "-"

    @admin.display(description="Cost", ordering="cost_cents")
    def cost(self, obj: Job) -> str:
        return cents(obj.cost_cents)

    @admin.display(description="Took")
    def took(self, obj: Job) -> str:
        return _span(obj.started_at, obj.finished_at)

    @admin.display(description="Summary")
    def summary(self, obj: Job) -> str:
        return format_html(
            "<strong>{}</strong> · {} · {} · stage “{}” · {}% · attempt {} of {}<br><code>{}</code>",
            obj.kind,
            obj.get_status_display(),
            cents(obj.cost_cents),
            obj.stage or "-",
            obj.progress,
            obj.attempts,
            obj.max_attempts,
            obj.id,
        )

    @admin.display(description="Input image")
    def input_link(self, obj: Job) -> str:
        return (
            link(
                obj.input_asset,
                f"{obj.input_asset.get_kind_display()} {obj.input_asset.id.hex[:8]}",
            )
            if obj.input_asset
            else "-"
        )

    @admin.display(description="Error")
    def error_text(self, obj: Job) -> str:
        return format_html('<pre class="studio-json">{}</pre>', obj.error) if obj.error else "-"

    @admin.display(description="Timeline")
    def timeline(self, obj: Job) -> str:
        steps = [
            ("created", obj.created_at),
            ("enqueued", obj.enqueued_at),
            ("last started", obj.started_at),
            ("finished", obj.finished_at),
            ("lease until", obj.lease_until),
        ]
        rows = format_html_join(
            "",
            "<tr><th>{}</th><td>{}</td></tr>",
            ((n, t.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + " UTC") for n, t in steps if t),
        )
        return format_html(
            '<table class="studio-table"><tbody>{}</tbody></table><p>Waited in the queue {} · ran {} · {} in all.</p>',
            rows,
            _span(obj.enqueued_at or obj.created_at, obj.started_at),
            _span(obj.started_at, obj.finished_at),
            _span(obj.created_at, obj.finished_at),
        )

    @admin.display(description="Attempts")
    def attempt_table(self, obj: Job) -> str:
        attempts = list(obj.attempt_log.all())
        if not attempts:
            return "No worker has started it yet." if obj.status == Job.Status.QUEUED else "-"
        return format_html(
            '<table class="studio-table"><thead><tr><th>#</th><th>started</th><th>took</th><th>outcome</th><th>detail</th></tr></thead><tbody>{}</tbody></table>',
            format_html_join(
                "",
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                (
                    (
                        a.number,
                        a.started_at.strftime("%Y-%m-%d %H:%M:%S"),
                        _span(a.started_at, a.finished_at) if a.finished_at else "still running",
                        a.get_outcome_display(),
                        a.detail or "-",
                    )
                    for a in attempts
                ),
            ),
        )

    @admin.display(description="Parameters")
    def params_json(self, obj: Job) -> str:
        return pretty_json(obj.params)

    @admin.display(description="Upstream (provider's id)")
    def upstream(self, obj: Job) -> str:
        handle = (obj.result or {}).get("upstream")
        return pretty_json(handle) if handle else "-"

    @admin.display(description="Result")
    def result_json(self, obj: Job) -> str:
        result = {k: v for k, v in (obj.result or {}).items() if k != "upstream"}
        return pretty_json(result)

    @admin.display(description="Outputs")
    def output_previews(self, obj: Job) -> str:
        if obj.pk is None:
            return "-"
        figures = []
        for i, a in enumerate(obj.outputs.order_by("created_at", "id")[:12]):
            # What the engine added about this output (the job's own parameters are above).
            meta = {
                k: v
                for k, v in (a.parameters or {}).items()
                if k not in obj.params and k != "index"
            }
            figures.append(
                format_html(
                    '<figure><a href="{}"><img src="{}" alt="output {}"></a><figcaption>{} · {}×{} · seed {} {}</figcaption>{}</figure>',
                    reverse("admin:generations_asset_change", args=[a.pk]),
                    _thumb_url(a),
                    i + 1,
                    a.get_moderation_display(),
                    a.width,
                    a.height,
                    a.seed if a.seed is not None else "-",
                    a.content_type,
                    pretty_json(meta) if meta else "",
                )
            )
        if not figures:
            return "-"
        return format_html(
            '<div class="studio-outputs">{}</div>',
            format_html_join("", "{}", ((f,) for f in figures)),
        )

    @admin.display(description="Ledger")
    def money(self, obj: Job) -> str:
        request = getattr(self, "_request", None)
        if request is None or not money_visible(request):
            return "(not shown: needs the ledger permission)"
        entries = list(LedgerEntry.objects.filter(job=obj).order_by("created_at", "id"))
        if not entries:
            return "-"
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    link(e, e.created_at.strftime("%Y-%m-%d %H:%M:%S")),
                    e.get_kind_display(),
                    cents(e.amount_cents),
                    e.memo,
                )
                for e in entries
            ),
        )
        return format_html(
            '<table class="studio-table"><tbody>{}</tbody></table><p>Left to refund: {}</p>',
            rows,
            cents(refundable_cents(obj)),
        )

    @admin.display(description="Webhook deliveries")
    def deliveries(self, obj: Job) -> str:
        rows = list(WebhookDelivery.objects.filter(job=obj).select_related("endpoint")[:20])
        if not rows:
            return "-"
        return format_html(
            '<table class="studio-table"><tbody>{}</tbody></table>',
            format_html_join(
                "",
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{} attempt(s)</td><td>{}</td></tr>",
                (
                    (
                        link(d, d.event),
                        d.endpoint.url,
                        d.get_status_display(),
                        d.attempts,
                        d.last_status_code or d.last_error or "-",
                    )
                    for d in rows
                ),
            ),
        )

    @admin.display(description="Staff actions")
    def audit(self, obj: Job) -> str:
        return audit_link(obj, f"{entries_for(obj).count()} audit entries")

    @admin.action(
        description="Retry failed or canceled jobs as new jobs, charged again (reason)",
        permissions=["retry"],
    )
    def retry_jobs(self, request: HttpRequest, queryset: QuerySet[Job]) -> None:
        try:
            outcome = actions.retry_jobs(
                list(queryset), by=request.user, reason=action_reason(request)
            )
        except StaffActionError as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return
        self.message_user(request, f"Re-submitted {len(outcome.new_jobs)} job(s) as new jobs.")
        report_skipped(self, request, outcome.skipped)

    @admin.action(
        description="Cancel queued or running jobs, refunded (reason)", permissions=["cancel"]
    )
    def cancel_jobs(self, request: HttpRequest, queryset: QuerySet[Job]) -> None:
        try:
            outcome = actions.cancel_jobs(
                list(queryset), by=request.user, reason=action_reason(request)
            )
        except StaffActionError as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return
        self.message_user(request, f"Canceled {len(outcome.done)} job(s).")
        report_skipped(self, request, outcome.skipped)

    @admin.action(
        description="Staff refund to the wallet: amount in ¢ (reason)", permissions=["money"]
    )
    def refund(self, request: HttpRequest, queryset: QuerySet[Job]) -> None:
        amount = action_amount(request)
        if amount is None:
            self.message_user(request, "Type the amount to refund in cents.", messages.ERROR)
            return
        for job in queryset:
            try:
                staff_refund(job, amount, by=request.user, reason=action_reason(request))
            except StaffActionError as exc:
                self.message_user(request, f"{job}: {exc}", messages.ERROR)
            else:
                self.message_user(
                    request,
                    f"Refunded {cents(amount)} of job {str(job.id)[:8]} (a new ledger entry).",
                )


# --- settings-like rows (edited here, audited) ----------------------------------------------------


@admin.register(Preset)
class PresetAdmin(AuditedAdmin):
    list_display = ["name", "shop", "aspect_ratio", "model", "created_at"]
    list_filter = [ShopFilter, "aspect_ratio"]
    list_select_related = ["shop"]
    search_fields = ["name", "template", "shop__slug", "shop__name"]
    raw_id_fields = ["shop", "created_by"]


@admin.register(PriceRule)
class PriceRuleAdmin(AuditedAdmin):
    list_display = ["__str__", "engine", "model", "resolution", "kind", "cents_per_output"]
    list_editable = ["cents_per_output"]
    list_display_links = ["__str__"]


class ModelConfigForm(forms.ModelForm):
    class Meta:
        model = ModelConfig
        fields = [*model_configs.FIELDS, "price_cents"]  # the catalogue's fields, then the price

    def clean_engine(self) -> str:
        from generations.engines import registry
        from generations.engines.base import EngineError

        name = self.cleaned_data["engine"].strip()
        try:
            registry.engine(name)
        except EngineError as exc:
            raise forms.ValidationError(str(exc)) from exc
        return name

    def clean_capabilities(self) -> list[str]:
        from generations.engines.base import Capability

        value = self.cleaned_data.get("capabilities") or ["text-to-image"]
        valid = {c.value for c in Capability}
        if not isinstance(value, list) or any(c not in valid for c in value):
            raise forms.ValidationError(f"A list of capabilities from: {', '.join(sorted(valid))}.")
        return value


@admin.register(ModelConfig)
class ModelConfigAdmin(AuditedAdmin):
    """Public model names → engine + provider model; rows override the built-in catalogue."""

    form = ModelConfigForm

    list_display = ["name", "engine", "provider_model", "enabled", "price_cents", "available"]
    list_filter = ["engine", "enabled"]
    list_editable = ["enabled"]
    search_fields = ["name", "provider_model", "label"]

    @admin.display(boolean=True, description="Configured")
    def available(self, obj: ModelConfig) -> bool:
        from generations.engines import registry

        try:
            return registry.engine(obj.engine).is_configured()
        except Exception:
            return False

    def save_object(self, request: HttpRequest, obj: ModelConfig, form: Any, change: bool) -> None:
        from generations.model_configs import save_model_config

        save_model_config(obj)


# --- the HTTP API: webhooks and posts ------------------------------------------------------------


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(ReadOnlyAdmin):
    list_display = ["url", "shop_link", "is_active", "created_at", "delivery_links"]
    list_filter = [ShopFilter, "is_active", "created_at"]
    search_fields = ["url", "shop__slug", "shop__name"]
    list_select_related = ["shop"]
    exclude = ["secret"]  # the shop's signing secret is not staff's to read

    @admin.display(description="Shop", ordering="shop__name")
    def shop_link(self, obj: WebhookEndpoint) -> str:
        return link(obj.shop)

    @admin.display(description="Deliveries")
    def delivery_links(self, obj: WebhookEndpoint) -> str:
        return list_link(WebhookDelivery, "deliveries", endpoint__id__exact=obj.pk)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = [
        "event",
        "endpoint_link",
        "job_link",
        "status",
        "attempts",
        "last_status_code",
        "next_attempt_at",
        "created_at",
    ]
    list_filter = [
        type("DeliveryShopFilter", (ShopFilter,), {"field": "endpoint__shop"}),
        "status",
        "event",
        "created_at",
    ]
    search_fields = ["endpoint__url", "endpoint__shop__slug"]
    list_select_related = ["endpoint", "job"]
    date_hierarchy = "created_at"

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest | None = None) -> bool:
        return lookup == "endpoint__id__exact" or super().lookup_allowed(lookup, value, request)

    @admin.display(description="Endpoint")
    def endpoint_link(self, obj: WebhookDelivery) -> str:
        return link(obj.endpoint, obj.endpoint.url)

    @admin.display(description="Job")
    def job_link(self, obj: WebhookDelivery) -> str:
        return link(obj.job, str(obj.job_id)[:8]) if obj.job_id else "-"


@admin.register(Post)
class PostAdmin(ReadOnlyAdmin):
    list_display = ["id", "shop", "source", "created_at"]
    list_filter = [ShopFilter, "source", "created_at"]
    search_fields = ["text", "shop__slug"]
    list_select_related = ["shop"]
