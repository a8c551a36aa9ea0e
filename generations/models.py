"""The library (Asset), prompt presets (Preset), units of work (Job) and the price table."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from studio.models import Shop


class Preset(models.Model):
    """A prompt template with `{{variable}}` placeholders and the defaults it generates with."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="presets")
    name = models.CharField(max_length=120)
    template = models.TextField(help_text="Prompt with {{variable}} placeholders")
    # [{"key": "product", "label": "Product", "required": true, "default": "", "type": "text"}]
    variables = models.JSONField(default=list, blank=True)
    negative_prompt = models.TextField(blank=True)
    aspect_ratio = models.CharField(max_length=8, default="1:1")
    model = models.CharField(max_length=120, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Job(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        ACTIVE = "active", "Active"
        COMPLETED = "completed", "Completed"
        FAILED = "failed", "Failed"
        CANCELED = "canceled", "Canceled"

    FINISHED = (Status.COMPLETED, Status.FAILED, Status.CANCELED)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="jobs")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    kind = models.CharField(max_length=40, default="generate", db_index=True)
    status = models.CharField(
        max_length=12, choices=Status.choices, default=Status.QUEUED, db_index=True
    )
    stage = models.CharField(max_length=200, blank=True)
    progress = models.PositiveSmallIntegerField(default=0)
    engine = models.CharField(max_length=60, blank=True)
    model = models.CharField(max_length=120, blank=True)
    params = models.JSONField(default=dict, blank=True)
    result = models.JSONField(
        default=dict, blank=True, help_text="Operation output that is not an asset"
    )
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    max_attempts = models.PositiveSmallIntegerField(default=3)
    lease_until = models.DateTimeField(null=True, blank=True)
    cost_cents = models.PositiveIntegerField(default=0)
    source = models.CharField(max_length=40, default="web", help_text="Which door submitted it")
    # A page form's one-time token: a double click or a resent form finds the job it already
    # made instead of making (and charging) another. Empty for doors that do not send one.
    submit_key = models.CharField(max_length=64, blank=True, default="")
    preset = models.ForeignKey(Preset, on_delete=models.SET_NULL, null=True, blank=True)
    input_asset = models.ForeignKey(
        "Asset", on_delete=models.SET_NULL, null=True, blank=True, related_name="operations"
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        permissions = [
            ("retry_job", "Can retry failed or canceled jobs"),
            ("cancel_job", "Can cancel queued or running jobs"),
        ]
        indexes = [
            models.Index(fields=["shop", "-created_at"], name="job_shop_recent"),
            models.Index(fields=["status", "lease_until"], name="job_status_lease"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["shop", "submit_key"],
                condition=~Q(submit_key=""),
                name="job_one_per_submit_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.id} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED


def asset_upload_to(asset: Asset, filename: str) -> str:
    return f"{asset.shop.storage_prefix}assets/{asset.id.hex}/{filename}"


def thumbnail_upload_to(asset: Asset, filename: str) -> str:
    return f"{asset.shop.storage_prefix}assets/{asset.id.hex}/thumb-{filename}"


class JobAttempt(models.Model):
    """One run of a job by a worker: when it started and ended, and how (for investigation)."""

    class Outcome(models.TextChoices):
        RUNNING = "running", "Running"
        COMPLETED = "completed", "Completed"
        FAILED = "failed", "Failed"
        RETRY = "retry", "Failed, retried"
        LOST = "lost", "Lease expired (worker lost)"
        CANCELED = "canceled", "Canceled"

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveSmallIntegerField()
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=12, choices=Outcome.choices, default=Outcome.RUNNING)
    detail = models.TextField(blank=True)

    class Meta:
        ordering = ["job", "number"]
        constraints = [
            models.UniqueConstraint(fields=["job", "number"], name="one_row_per_job_attempt")
        ]

    def __str__(self) -> str:
        return f"attempt {self.number} of {self.job_id} ({self.outcome})"


class Asset(models.Model):
    """An image or video in a shop's library."""

    class Kind(models.TextChoices):
        UPLOAD = "upload", "Upload"
        GENERATED = "generated", "Generated"
        DERIVED = "derived", "Derived"

    class Moderation(models.TextChoices):
        # generations/moderation.py owns the transitions; `is_public` is the result (in the
        # public gallery right now), so every gallery query stays `is_public=True`.
        UNREVIEWED = "unreviewed", "Not reviewed"
        PENDING = "pending", "Waiting for review"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected for the gallery"
        HIDDEN = "hidden", "Hidden by staff"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="assets")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    file = models.FileField(upload_to=asset_upload_to, max_length=300)
    content_type = models.CharField(max_length=100)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    bytes = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64, db_index=True)
    prompt = models.TextField(blank=True)
    negative_prompt = models.TextField(blank=True)
    model = models.CharField(max_length=120, blank=True, db_index=True)
    seed = models.BigIntegerField(null=True, blank=True)
    parameters = models.JSONField(default=dict, blank=True)
    preset = models.ForeignKey(
        Preset, on_delete=models.SET_NULL, null=True, blank=True, related_name="assets"
    )
    parent = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="children"
    )
    job = models.ForeignKey(
        Job, on_delete=models.SET_NULL, null=True, blank=True, related_name="outputs"
    )
    is_public = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField(default=timezone.now)
    thumbnail = models.ImageField(upload_to=thumbnail_upload_to, max_length=300, blank=True)
    # Lower-cased prompt + preset name, so word search is one indexed-friendly column.
    search_text = models.TextField(blank=True)
    moderation = models.CharField(
        max_length=12, choices=Moderation.choices, default=Moderation.UNREVIEWED
    )
    moderation_reason = models.TextField(blank=True, help_text="Shown to the shop's owners")
    moderated_at = models.DateTimeField(null=True, blank=True)
    moderated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [("moderate_asset", "Can approve, reject and hide images")]
        indexes = [
            # Keyset pagination: (shop, created_at, id) in both directions.
            models.Index(fields=["shop", "-created_at", "-id"], name="asset_shop_keyset"),
            # The API library (generated assets only): keyset pages and index-only OFFSET scans.
            models.Index(
                fields=["shop", "kind", "-created_at", "-id"], name="asset_shop_kind_keyset"
            ),
            # The model filter (ordered like the keyset) and its loose index scan (library_models).
            models.Index(fields=["shop", "model", "-created_at"], name="asset_shop_model"),
            models.Index(
                fields=["-created_at", "-id"],
                name="asset_public_keyset",
                condition=Q(is_public=True),
            ),
            # The moderation queue reads only the few rows that wait for review.
            models.Index(
                fields=["created_at"],
                name="asset_pending_review",
                condition=Q(moderation="pending"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.id}"

    @property
    def is_hidden(self) -> bool:
        return self.moderation == self.Moderation.HIDDEN

    @property
    def is_video(self) -> bool:
        return self.content_type.startswith("video/")

    @property
    def caption(self) -> str:
        """What a person calls this item: its prompt; for a derived image the operation and its
        source's prompt; for an upload its file name."""
        p = self.parameters or {}
        if self.kind == self.Kind.DERIVED:
            label = p.get("operation_label") or str(p.get("operation", "")).replace("-", " ")
            label = label[:1].upper() + label[1:] if label else "Edited"
            about = p.get("source_prompt") or self.prompt
            return f"{label}: {about}" if about else label
        if self.prompt:
            return self.prompt
        return p.get("filename") or self.get_kind_display()

    @property
    def extension(self) -> str:
        return self.file.name.rsplit(".", 1)[-1] if "." in self.file.name else "bin"

    @property
    def download_name(self) -> str:
        return f"{self.id.hex}.{self.extension}"


class ModerationItem(Asset):
    """The admin's moderation queue: assets waiting for review or reported (a proxy of Asset)."""

    class Meta:
        proxy = True
        verbose_name = "moderation queue item"
        verbose_name_plural = "moderation queue"


class AssetReport(models.Model):
    """A signed-in user's report of a public image, resolved by a moderation decision."""

    class Reason(models.TextChoices):
        SEXUAL = "sexual", "Sexual content"
        VIOLENCE = "violence", "Violence or gore"
        HATE = "hate", "Hate or harassment"
        ILLEGAL = "illegal", "Illegal content"
        COPYRIGHT = "copyright", "Copyright or trademark"
        SPAM = "spam", "Spam or scam"
        OTHER = "other", "Something else"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        UPHELD = "upheld", "Upheld (rejected or hidden)"
        DISMISSED = "dismissed", "Dismissed (approved)"

    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="reports")
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    reason = models.CharField(max_length=16, choices=Reason.choices)
    note = models.TextField(blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # A user's second report of the same image adds nothing for the moderators.
            models.UniqueConstraint(
                fields=["asset", "reporter"],
                condition=Q(status="open"),
                name="one_open_report_per_user",
            ),
        ]
        indexes = [
            models.Index(fields=["asset"], name="report_open", condition=Q(status="open")),
        ]

    def __str__(self) -> str:
        return f"report of {self.asset_id}: {self.reason} ({self.status})"


class PriceRule(models.Model):
    """Price per output for an engine/model/resolution; blank fields match anything.

    The most specific matching rule wins (model beats engine beats the catch-all).
    """

    engine = models.CharField(max_length=60, blank=True)
    model = models.CharField(max_length=120, blank=True)
    resolution = models.CharField(
        max_length=20, blank=True, help_text="low / standard / high / 4k, or blank"
    )
    kind = models.CharField(max_length=40, blank=True, help_text="Job kind, or blank for any")
    cents_per_output = models.PositiveIntegerField()

    class Meta:
        ordering = ["engine", "model", "resolution", "kind"]
        constraints = [
            models.UniqueConstraint(
                fields=["engine", "model", "resolution", "kind"], name="one_price_rule"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.engine or '*'}/{self.model or '*'}/{self.resolution or '*'}/{self.kind or '*'}: {self.cents_per_output}¢"

    @property
    def specificity(self) -> int:
        return (
            (8 if self.model else 0)
            + (4 if self.engine else 0)
            + (2 if self.resolution else 0)
            + (1 if self.kind else 0)
        )


class ModelConfig(models.Model):
    """A public model name served by an engine, editable by staff in the admin.

    Rows override the built-in catalogue (generations/engines/catalog.py) by name; a disabled row
    hides the name. `price_cents` is kept as the model's PriceRule (see catalog.save_model_config).
    """

    name = models.CharField(
        max_length=120, unique=True, help_text="Public model name, e.g. fal-ai/flux/dev"
    )
    engine = models.CharField(
        max_length=60,
        help_text="openai, replicate, fal, stability, automatic1111, comfyui, rembg, diffusers, builtin",
    )
    provider_model = models.CharField(
        max_length=300,
        blank=True,
        help_text="The engine's own name for the model; `?key=value` pins provider inputs",
    )
    capabilities = models.JSONField(
        default=list, blank=True, help_text='e.g. ["text-to-image", "image-to-image"]'
    )
    label = models.CharField(max_length=120, blank=True)
    description = models.TextField(blank=True)
    enabled = models.BooleanField(default=True)
    max_count = models.PositiveSmallIntegerField(default=4)
    price_cents = models.PositiveIntegerField(
        null=True, blank=True, help_text="Cents per output; blank keeps the price rules as they are"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "model"

    def __str__(self) -> str:
        return self.name


# --- the HTTP API: webhooks and posts ---------------------------------------------------------------


def new_webhook_secret() -> str:
    import secrets

    return "whsec_" + secrets.token_urlsafe(32)


class WebhookEndpoint(models.Model):
    """A URL a shop wants finished jobs POSTed to, signed with its own secret."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="webhook_endpoints")
    url = models.URLField(max_length=500)
    secret = models.CharField(max_length=80, default=new_webhook_secret)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.url} ({self.shop.slug})"


class WebhookSigningSecret(models.Model):
    """The shop's secret for webhooks sent to a URL given with a request (seed 004's
    `webhook_url`): those have no endpoint row, so no endpoint secret, but are signed the same way."""

    shop = models.OneToOneField(
        Shop, on_delete=models.CASCADE, related_name="webhook_signing_secret"
    )
    secret = models.CharField(max_length=80, default=new_webhook_secret)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"request webhook secret of {self.shop.slug}"


class WebhookDelivery(models.Model):
    """One event for one endpoint (or for a request's own webhook URL), with its attempts;
    retried with backoff for 24 hours."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries", null=True, blank=True
    )
    # A delivery to a URL the request named (no endpoint): its shop signs it.
    shop = models.ForeignKey(
        Shop, on_delete=models.CASCADE, related_name="webhook_deliveries", null=True, blank=True
    )
    url = models.URLField(max_length=500, blank=True)
    job = models.ForeignKey(Job, on_delete=models.SET_NULL, null=True, blank=True)
    event = models.CharField(max_length=40)
    body = models.TextField()
    status = models.CharField(
        max_length=12, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    response_excerpt = models.CharField(max_length=500, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "webhook deliveries"
        constraints = [
            models.CheckConstraint(
                condition=Q(endpoint__isnull=False) | (Q(shop__isnull=False) & ~Q(url="")),
                name="webhook_delivery_has_a_target",
            )
        ]

    def __str__(self) -> str:
        return f"{self.event} → {self.target_url} ({self.status})"

    @property
    def target_url(self) -> str:
        return self.endpoint.url if self.endpoint_id else self.url


class Post(models.Model):
    """A post (seed 003) with its text and the library media attached to it. Stored only:
    publishing to social networks is outside this server."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="posts")
    text = models.TextField(blank=True)
    media_ids = models.JSONField(default=list, help_text="Asset ids in the order given")
    media = models.ManyToManyField(Asset, blank=True, related_name="posts")
    source = models.CharField(max_length=40, default="api")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"post {self.id} ({self.shop.slug})"


# The design chat's models live with the chat (generations/chat/); importing them here registers
# them with this app.
from generations.chat.models import (  # noqa: E402, F401
    ChatEvent,
    ChatToolCall,
    ChatTurn,
    Conversation,
)


class LibraryCount(models.Model):
    """How many generated assets a shop has: the API library's unfiltered total without counting
    the shop's rows on every page. Kept by generations/library.py's signal receivers in the
    transaction that creates or deletes the asset; `recount_library` rebuilds it."""

    shop = models.OneToOneField(
        Shop, on_delete=models.CASCADE, primary_key=True, related_name="library_count"
    )
    generated = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.shop_id}: {self.generated} generated"
