"""Tenancy and credits: shops, their members and invitations, and the credit ledger."""

from __future__ import annotations

import secrets
import string
from datetime import timedelta

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.utils import timezone

SLUG_ALPHABET = string.ascii_lowercase + string.digits


def new_shop_slug() -> str:
    return "shop-" + "".join(secrets.choice(SLUG_ALPHABET) for _ in range(10))


def new_signing_secret() -> str:
    return "scsec_" + secrets.token_urlsafe(32)


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    DESIGNER = "designer", "Designer"
    VIEWER = "viewer", "Viewer"


# What each role may do; checked by `Membership.can`.
ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    Role.OWNER: frozenset({"browse", "generate", "edit", "manage_own", "manage_all", "admin"}),
    Role.DESIGNER: frozenset({"browse", "generate", "edit", "manage_own"}),
    Role.VIEWER: frozenset({"browse"}),
}


class Shop(models.Model):
    """A tenant. Everything a user makes belongs to exactly one shop."""

    slug = models.SlugField(
        max_length=40,
        unique=True,
        default=new_shop_slug,
        help_text="Public id used in storage keys, mockup URLs and the API.",
    )
    name = models.CharField(max_length=120)
    is_sandbox = models.BooleanField(default=False)
    # Credits, in cents. The plan budget renews each calendar month; the wallet does not.
    plan_budget_cents = models.PositiveIntegerField(default=0)
    plan_used_cents = models.PositiveIntegerField(default=0)
    plan_period = models.CharField(max_length=7, blank=True, help_text="YYYY-MM of plan_used_cents")
    wallet_cents = models.PositiveIntegerField(default=0)
    default_model = models.CharField(max_length=120, blank=True)
    # Mockup URLs: HMAC signing secrets (scsec_…); the previous one stays valid during rotation.
    url_signing_secret = models.CharField(max_length=80, default=new_signing_secret)
    url_signing_secret_previous = models.CharField(max_length=80, blank=True)
    # New shops accept only signed mockup URLs; an owner may allow unsigned ones (anyone with a
    # link can then vary it and make the shop pay for fresh renders, within rate limits).
    require_signed_urls = models.BooleanField(default=True)
    # Extra origins (scheme://host[:port]) whose images this shop may use as mockup assets.
    trusted_origins = models.JSONField(default=list, blank=True)
    # API requests per minute per key; 0 means the server default.
    api_rate_limit_per_minute = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    # Staff moderation (docs/admin.md): publishing to the public gallery waits for review, and a
    # suspended shop's keys, pages, mockup URLs and buy pages refuse with the reason.
    gallery_requires_review = models.BooleanField(
        default=False, help_text="Images this shop publishes wait for staff review"
    )
    suspended_at = models.DateTimeField(null=True, blank=True)
    suspension_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]
        permissions = [
            ("suspend_shop", "Can suspend and reinstate shops"),
            ("view_shop_as", "Can view the studio as a shop (read-only)"),
            ("override_rate_limit", "Can override a shop's API rate limit"),
            ("set_gallery_review", "Can require gallery review for a shop"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.slug})"

    def plan_used_in(self, period: str | None = None) -> int:
        """Plan credits spent in `period` (YYYY-MM, this month by default): the one definition
        the usage page, `/v0/usage` and charging share. A new month starts at 0 before its
        first charge resets the stored amount. May exceed the budget if staff lowered it."""
        period = period or timezone.now().strftime("%Y-%m")
        return self.plan_used_cents if self.plan_period == period else 0

    def plan_remaining_cents(self, period: str | None = None) -> int:
        return max(self.plan_budget_cents - self.plan_used_in(period), 0)

    @property
    def is_suspended(self) -> bool:
        return self.suspended_at is not None

    def suspension_message(self) -> str:
        """What the shop's own members and API clients are told while it is suspended."""
        reason = f" Reason: {self.suspension_reason}" if self.suspension_reason else ""
        return (
            f"The shop {self.name} is suspended by staff.{reason} "
            "Contact support to have it reinstated."
        )

    @property
    def balance_cents(self) -> int:
        return self.plan_remaining_cents() + self.wallet_cents

    @property
    def storage_prefix(self) -> str:
        return f"shops/{self.slug}/"


class Membership(models.Model):
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.DESIGNER)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["shop", "user"], name="one_membership_per_user")
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.shop.slug} as {self.role}"

    def can(self, permission: str) -> bool:
        return permission in ROLE_PERMISSIONS.get(self.role, frozenset())


class Invitation(models.Model):
    """A one-time link an owner sends by email; only a hash of its token is stored."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.DESIGNER)
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    def __str__(self) -> str:
        return f"invite {self.email} to {self.shop.slug}"


class LedgerEntry(models.Model):
    """One movement of a shop's credits. Amounts are cents; a charge is negative."""

    class Kind(models.TextChoices):
        CHARGE = "charge", "Charge"
        REFUND = "refund", "Refund"
        GRANT = "grant", "Grant"
        TOPUP = "topup", "Wallet top-up"
        # Corrections by staff are new entries with the reason in the memo (docs/admin.md).
        STAFF_CREDIT = "staff_credit", "Staff credit"
        STAFF_REFUND = "staff_refund", "Staff refund"

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="ledger")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    job = models.ForeignKey(
        "generations.Job",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="ledger_entries",
    )
    plan_cents = models.IntegerField(default=0, help_text="Signed change to the plan budget used")
    wallet_cents = models.IntegerField(default=0, help_text="Signed change to the wallet")
    amount_cents = models.IntegerField(help_text="Signed total: plan + wallet")
    period = models.CharField(max_length=7, blank=True)
    memo = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "ledger entries"
        permissions = [("grant_credits", "Can grant credits and make staff refunds")]
        constraints = [
            # One charge and at most one refund per job, whatever the code above tries.
            models.UniqueConstraint(
                fields=["job", "kind"],
                condition=Q(kind__in=["charge", "refund"]),
                name="one_charge_one_refund_per_job",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount_cents}c {self.shop.slug}"


# --- the HTTP API: keys, idempotency records, rate-limit windows (fallback), sandbox claims ---------


class ApiKey(models.Model):
    """A shop-scoped secret key. Only a display prefix and an HMAC of the key are stored."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=120, blank=True)
    prefix = models.CharField(max_length=24, help_text="First characters, for display only")
    key_hash = models.CharField(max_length=64, unique=True)
    scopes = models.JSONField(default=list)
    is_sandbox = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "API key"
        permissions = [("revoke_apikey", "Can revoke API keys")]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.shop.slug})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class IdempotencyRecord(models.Model):
    """A POST carrying an Idempotency-Key: who holds it (a claim with a lease), the job it created,
    and its final response, replayed for 24 hours (generations/api/idempotency.py)."""

    TTL = timedelta(hours=24)

    api_key = models.ForeignKey(ApiKey, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    completed = models.BooleanField(default=False)
    # The request working on it: a token and a lease. A request whose process died stops renewing
    # nothing; once the lease has passed, a retry takes the record over.
    claim_token = models.CharField(max_length=32, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    # The job the request created (bound in the job's own transaction): a retry answers with that
    # job's outcome instead of creating another. A plain id, not a foreign key: studio does not
    # depend on generations.
    job_id = models.UUIDField(null=True, blank=True)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    body = models.BinaryField(default=bytes)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["api_key", "key"], name="one_idempotency_record")
        ]

    def __str__(self) -> str:
        return f"{self.key} ({self.status_code or 'running'})"


class RateLimitWindow(models.Model):
    """Fallback request counter per (bucket, fixed window) when Redis is not configured."""

    bucket = models.CharField(max_length=80)
    window = models.BigIntegerField(help_text="Window start, unix seconds")
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["bucket", "window"], name="one_rate_limit_window")
        ]

    def __str__(self) -> str:
        return f"{self.bucket}@{self.window}: {self.count}"


class SandboxClaim(models.Model):
    """The one-time claim link of a sandbox shop; only a hash of its token is stored."""

    shop = models.OneToOneField(Shop, on_delete=models.CASCADE, related_name="sandbox_claim")
    token_hash = models.CharField(max_length=64, unique=True)
    created_ip = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    def __str__(self) -> str:
        return f"claim {self.shop.slug}"


# --- the audit trail of staff actions and moderation decisions (studio/audit.py writes it) ----------


class AuditEntryImmutable(Exception):
    """Audit entries are written once; nothing may change or delete one."""


class AuditEntry(models.Model):
    """Who did what to which object, when, with the state before and after and the reason."""

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Kept as text too: the trail must still say who it was after the user is deleted.
    actor_label = models.CharField(max_length=200, blank=True)
    action = models.CharField(max_length=60, db_index=True)
    shop = models.ForeignKey(
        Shop, on_delete=models.SET_NULL, null=True, blank=True, related_name="audit_entries"
    )
    target_type = models.CharField(max_length=60, help_text="app_label.model")
    target_id = models.CharField(max_length=64)
    target_label = models.CharField(max_length=200, blank=True)
    before = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    after = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "audit entry"
        verbose_name_plural = "audit trail"
        indexes = [
            models.Index(fields=["target_type", "target_id"], name="audit_target"),
            models.Index(fields=["shop", "-created_at"], name="audit_shop_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.target_label or self.target_id} by {self.actor_label}"

    def save(self, *args: object, **kwargs: object) -> None:
        if not self._state.adding:
            raise AuditEntryImmutable("Audit entries cannot be changed.")
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise AuditEntryImmutable("Audit entries cannot be deleted.")
