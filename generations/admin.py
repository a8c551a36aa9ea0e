from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from generations import actions
from generations.models import Asset, Job, ModelConfig, Preset, PriceRule


@admin.register(Asset)
class AssetAdmin(admin.ModelAdmin):
    list_display = [
        "preview",
        "kind",
        "shop",
        "model",
        "width",
        "height",
        "is_public",
        "created_at",
    ]
    list_filter = ["kind", "is_public", "model", "created_at"]
    search_fields = ["prompt", "shop__slug", "sha256"]
    raw_id_fields = ["shop", "preset", "parent", "job", "created_by"]
    readonly_fields = ["preview_large", "sha256", "bytes", "width", "height", "content_type"]
    date_hierarchy = "created_at"
    list_select_related = ["shop"]
    list_per_page = 50

    @admin.display(description="Preview")
    def preview(self, obj: Asset) -> str:
        src = obj.thumbnail.url if obj.thumbnail else (obj.file.url if not obj.is_video else "")
        return (
            format_html('<img src="{}" style="height:48px;border-radius:4px" alt="">', src)
            if src
            else "-"
        )

    @admin.display(description="Preview")
    def preview_large(self, obj: Asset) -> str:
        if not obj.file:
            return "-"
        return format_html(
            '<img src="{}" style="max-height:320px" alt="">',
            obj.thumbnail.url if obj.thumbnail else obj.file.url,
        )


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "kind",
        "status",
        "progress",
        "shop",
        "engine",
        "model",
        "cost_cents",
        "attempts",
        "created_at",
    ]
    list_filter = ["status", "kind", "engine", "source", "created_at"]
    search_fields = ["id", "shop__slug", "shop__name", "error"]
    raw_id_fields = ["shop", "created_by", "preset", "input_asset"]
    list_select_related = ["shop"]
    readonly_fields = [
        "output_previews",
        "created_at",
        "enqueued_at",
        "started_at",
        "finished_at",
        "lease_until",
        "attempts",
    ]
    actions = ["retry_jobs", "cancel_jobs"]
    date_hierarchy = "created_at"

    @admin.display(description="Outputs")
    def output_previews(self, obj: Job) -> str:
        if obj.pk is None:
            return "-"
        tags = [
            format_html(
                '<a href="{}"><img src="{}" style="height:96px;border-radius:4px;margin-right:4px" alt="output {}"></a>',
                reverse("admin:generations_asset_change", args=[a.pk]),
                a.thumbnail.url if a.thumbnail else a.file.url,
                i + 1,
            )
            for i, a in enumerate(obj.outputs.all()[:12])
        ]
        return format_html_join("", "{}", ((t,) for t in tags)) if tags else "-"

    @admin.action(description="Retry selected failed/canceled jobs (charged again)")
    def retry_jobs(self, request: HttpRequest, queryset: QuerySet[Job]) -> None:
        retried = 0
        for job in queryset.filter(status__in=[Job.Status.FAILED, Job.Status.CANCELED]):
            try:
                actions.submit_job(
                    job.shop,
                    kind=job.kind,
                    params=job.params,
                    cost_cents=job.cost_cents,
                    user=job.created_by,
                    engine=job.engine,
                    model=job.model,
                    source="admin-retry",
                    preset=job.preset,
                    input_asset=job.input_asset,
                )
                retried += 1
            except Exception as exc:  # each job reports its own problem
                self.message_user(request, f"{job.id}: {exc}", messages.ERROR)
        self.message_user(request, f"Re-submitted {retried} job(s) as new jobs.")

    @admin.action(description="Cancel selected queued/active jobs (refunded)")
    def cancel_jobs(self, request: HttpRequest, queryset: QuerySet[Job]) -> None:
        done = 0
        for job in queryset.filter(status__in=[Job.Status.QUEUED, Job.Status.ACTIVE]):
            actions.cancel_job(job, reason=f"canceled by staff {request.user}")
            done += 1
        self.message_user(request, f"Canceled {done} job(s).")


@admin.register(Preset)
class PresetAdmin(admin.ModelAdmin):
    list_display = ["name", "shop", "aspect_ratio", "model", "created_at"]
    list_filter = ["aspect_ratio"]
    list_select_related = ["shop"]
    search_fields = ["name", "template", "shop__slug", "shop__name"]
    raw_id_fields = ["shop", "created_by"]


@admin.register(PriceRule)
class PriceRuleAdmin(admin.ModelAdmin):
    list_display = ["__str__", "engine", "model", "resolution", "kind", "cents_per_output"]
    list_editable = ["cents_per_output"]
    list_display_links = ["__str__"]


class ModelConfigForm(forms.ModelForm):
    class Meta:
        model = ModelConfig
        fields = [
            "name",
            "engine",
            "provider_model",
            "capabilities",
            "label",
            "description",
            "enabled",
            "max_count",
            "price_cents",
        ]

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
class ModelConfigAdmin(admin.ModelAdmin):
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

    def save_model(self, request: HttpRequest, obj: ModelConfig, form: Any, change: bool) -> None:
        from generations.engines.catalog import save_model_config

        save_model_config(obj)


# --- the HTTP API: webhooks and posts ------------------------------------------------------------
from generations.models import Post, WebhookDelivery, WebhookEndpoint  # noqa: E402


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    list_display = ["url", "shop", "is_active", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["url", "shop__slug"]
    raw_id_fields = ["shop"]


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = [
        "event",
        "endpoint",
        "status",
        "attempts",
        "last_status_code",
        "next_attempt_at",
        "created_at",
    ]
    list_filter = ["status", "event"]
    search_fields = ["endpoint__url", "endpoint__shop__slug"]
    raw_id_fields = ["endpoint", "job"]
    readonly_fields = ["body", "response_excerpt", "last_error"]


@admin.register(Post)
class PostAdmin(admin.ModelAdmin):
    list_display = ["id", "shop", "source", "created_at"]
    search_fields = ["text", "shop__slug"]
    raw_id_fields = ["shop"]
    filter_horizontal = ["media"]
