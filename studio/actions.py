"""Verbs on shops, members and credits. Each owns its transaction."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from studio import audit
from studio.models import ApiKey, Invitation, LedgerEntry, Membership, Role, Shop

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

    from generations.models import Job

INVITE_TTL = timedelta(days=7)


class InsufficientCredits(Exception):
    """The shop's plan budget and wallet together cannot pay for the work."""

    def __init__(self, required_cents: int, available_cents: int) -> None:
        self.required_cents = required_cents
        self.available_cents = available_cents
        super().__init__(
            f"Not enough credits: this costs {required_cents}¢ but the shop has "
            f"{available_cents}¢ left (plan budget and wallet)."
        )


class InvitationError(Exception):
    pass


class StaffActionError(ValueError):
    """A staff action cannot be done as asked; the message says why (shown in the admin)."""


def current_period() -> str:
    return timezone.now().strftime("%Y-%m")


# --- shops and members ------------------------------------------------------------------------------


@transaction.atomic
def create_shop(
    name: str,
    *,
    owner: AbstractBaseUser | None = None,
    is_sandbox: bool = False,
    plan_budget_cents: int | None = None,
    wallet_cents: int | None = None,
) -> Shop:
    shop = Shop.objects.create(
        name=name[:120] or "My shop",
        is_sandbox=is_sandbox,
        plan_budget_cents=settings.NEW_SHOP_PLAN_BUDGET_CENTS
        if plan_budget_cents is None
        else plan_budget_cents,
        wallet_cents=settings.NEW_SHOP_WALLET_CENTS if wallet_cents is None else wallet_cents,
        plan_period=current_period(),
    )
    if owner is not None:
        Membership.objects.create(shop=shop, user=owner, role=Role.OWNER)
    return shop


@transaction.atomic
def sign_up(email: str, password: str, shop_name: str = "") -> AbstractBaseUser:
    """Create a user (the email is the username) and a shop they own."""
    User = get_user_model()
    email = User.objects.normalize_email(email).lower()
    user = User.objects.create_user(username=email, email=email, password=password)
    create_shop(shop_name or f"{email.split('@')[0]}'s shop", owner=user)
    return user


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class SentInvitation:
    invitation: Invitation
    url: str


def invite_member(
    shop: Shop, *, email: str, role: str, invited_by: AbstractBaseUser
) -> SentInvitation:
    if role not in Role.values:
        raise InvitationError(f"Unknown role {role!r}.")
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        invitation = Invitation.objects.create(
            shop=shop,
            email=email.lower(),
            role=role,
            token_hash=_token_hash(token),
            invited_by=invited_by,
            expires_at=timezone.now() + INVITE_TTL,
        )
    url = settings.SITE_URL + reverse("accept_invite", args=[token])
    transaction.on_commit(
        lambda: send_mail(
            f"You are invited to {shop.name}",
            f"{invited_by} invited you to join {shop.name} as {role}.\n\nOpen this link once to accept "
            f"(valid for 7 days):\n{url}\n",
            None,
            [invitation.email],
        )
    )
    return SentInvitation(invitation, url)


def lookup_invitation(token: str) -> Invitation | None:
    """The invitation a link's token belongs to (used or not), for showing it before accepting."""
    return Invitation.objects.select_related("shop").filter(token_hash=_token_hash(token)).first()


@transaction.atomic
def accept_invitation(token: str, user: AbstractBaseUser) -> Membership:
    invitation = (
        Invitation.objects.select_for_update().filter(token_hash=_token_hash(token)).first()
    )
    if invitation is None or invitation.accepted_at is not None:
        raise InvitationError("This invitation link is not valid or was already used.")
    if invitation.expires_at < timezone.now():
        raise InvitationError("This invitation link has expired; ask the owner for a new one.")
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    membership, _created = Membership.objects.get_or_create(
        shop=invitation.shop, user=user, defaults={"role": invitation.role}
    )
    return membership


@transaction.atomic
def change_role(membership: Membership, role: str) -> Membership:
    if role not in Role.values:
        raise InvitationError(f"Unknown role {role!r}.")
    if membership.role == Role.OWNER and role != Role.OWNER:
        owners = Membership.objects.select_for_update().filter(
            shop=membership.shop, role=Role.OWNER
        )
        if owners.count() <= 1:
            raise InvitationError("A shop needs at least one owner.")
    membership.role = role
    membership.save(update_fields=["role"])
    return membership


@transaction.atomic
def remove_member(membership: Membership) -> None:
    if membership.role == Role.OWNER:
        owners = Membership.objects.select_for_update().filter(
            shop=membership.shop, role=Role.OWNER
        )
        if owners.count() <= 1:
            raise InvitationError("A shop needs at least one owner.")
    membership.delete()


# --- credits -------------------------------------------------------------------------------------------


def charge(shop: Shop, cents: int, *, job: Job | None = None, memo: str = "") -> LedgerEntry:
    """Take `cents` from the plan budget first, then the wallet. Must run inside a transaction.

    Raises InsufficientCredits (and changes nothing) when both together fall short.
    """
    if cents < 0:
        raise ValueError("charge amount must be >= 0")
    period = current_period()
    locked = Shop.objects.select_for_update().get(pk=shop.pk)
    if locked.plan_period != period:
        locked.plan_period, locked.plan_used_cents = period, 0
    plan_left = locked.plan_remaining_cents(period)
    if plan_left + locked.wallet_cents < cents:
        raise InsufficientCredits(cents, plan_left + locked.wallet_cents)
    from_plan = min(plan_left, cents)
    from_wallet = cents - from_plan
    locked.plan_used_cents += from_plan
    locked.wallet_cents -= from_wallet
    locked.save(update_fields=["plan_period", "plan_used_cents", "wallet_cents"])
    shop.plan_period, shop.plan_used_cents, shop.wallet_cents = (
        locked.plan_period,
        locked.plan_used_cents,
        locked.wallet_cents,
    )
    return LedgerEntry.objects.create(
        shop=locked,
        kind=LedgerEntry.Kind.CHARGE,
        job=job,
        plan_cents=-from_plan,
        wallet_cents=-from_wallet,
        amount_cents=-cents,
        period=period,
        memo=memo[:200],
    )


def refund(job: Job, cents: int, *, memo: str = "") -> LedgerEntry | None:
    """Give back up to `cents` of a job's charge, once. Must run inside a transaction.

    Money goes back where it came from: wallet first, then the plan budget if the charge's
    month is still current (an expired month's budget is gone, so that part goes to the wallet).
    """
    charge_entry = LedgerEntry.objects.filter(job=job, kind=LedgerEntry.Kind.CHARGE).first()
    if charge_entry is None or cents <= 0:
        return None
    if LedgerEntry.objects.filter(job=job, kind=LedgerEntry.Kind.REFUND).exists():
        return None
    cents = min(cents, -charge_entry.amount_cents)
    to_wallet = min(cents, -charge_entry.wallet_cents)
    to_plan = cents - to_wallet
    locked = Shop.objects.select_for_update().get(pk=job.shop_id)
    if to_plan and locked.plan_period == charge_entry.period:
        locked.plan_used_cents = max(locked.plan_used_cents - to_plan, 0)
    else:
        to_wallet, to_plan = to_wallet + to_plan, 0
    locked.wallet_cents += to_wallet
    try:
        with transaction.atomic():
            entry = LedgerEntry.objects.create(
                shop=locked,
                kind=LedgerEntry.Kind.REFUND,
                job=job,
                plan_cents=to_plan,
                wallet_cents=to_wallet,
                amount_cents=cents,
                period=charge_entry.period,
                memo=memo[:200],
            )
    except IntegrityError:
        return None  # refunded concurrently: the constraint keeps it to one
    locked.save(update_fields=["plan_used_cents", "wallet_cents"])
    return entry


@transaction.atomic
def grant_credits(
    shop: Shop, *, wallet_cents: int = 0, plan_budget_cents: int | None = None, memo: str = ""
) -> LedgerEntry:
    locked = Shop.objects.select_for_update().get(pk=shop.pk)
    locked.wallet_cents += wallet_cents
    if plan_budget_cents is not None:
        locked.plan_budget_cents = plan_budget_cents
    locked.save(update_fields=["wallet_cents", "plan_budget_cents"])
    return LedgerEntry.objects.create(
        shop=locked,
        kind=LedgerEntry.Kind.TOPUP if wallet_cents else LedgerEntry.Kind.GRANT,
        wallet_cents=wallet_cents,
        amount_cents=wallet_cents,
        period=current_period(),
        memo=memo[:200],
    )


# --- staff corrections and actions with consequences (audited; docs/admin.md) ----------------------
# Ledger rows are never edited: a correction is a new entry with the reason in its memo, and an
# audit row says who made it.

STAFF_CENTS_LIMIT = 10_000_000  # $100,000: a typo guard, not a policy


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise StaffActionError("Give a reason; it is kept in the audit trail.")
    return reason


@transaction.atomic
def staff_credit(shop: Shop, cents: int, *, by: AbstractBaseUser, reason: str) -> LedgerEntry:
    """Add `cents` to the shop's wallet (negative takes it back, never below zero)."""
    reason = _reason(reason)
    if cents == 0 or abs(cents) > STAFF_CENTS_LIMIT:
        raise StaffActionError(
            f"The amount must be a non-zero number of cents up to {STAFF_CENTS_LIMIT:,}."
        )
    locked = Shop.objects.select_for_update().get(pk=shop.pk)
    before = audit.snapshot(locked, ["wallet_cents"])
    if locked.wallet_cents + cents < 0:
        raise StaffActionError(
            f"{shop.name}'s wallet holds {locked.wallet_cents}¢; taking {-cents}¢ would make it "
            "negative."
        )
    locked.wallet_cents += cents
    locked.save(update_fields=["wallet_cents"])
    shop.wallet_cents = locked.wallet_cents
    entry = LedgerEntry.objects.create(
        shop=locked,
        kind=LedgerEntry.Kind.STAFF_CREDIT,
        wallet_cents=cents,
        amount_cents=cents,
        period=current_period(),
        memo=f"staff: {reason}"[:200],
    )
    audit.record(
        by,
        "ledger.staff_credit",
        locked,
        before=before,
        after={**audit.snapshot(locked, ["wallet_cents"]), "ledger_entry": entry.pk},
        reason=reason,
    )
    return entry


@transaction.atomic
def staff_set_plan_budget(
    shop: Shop, cents: int, *, by: AbstractBaseUser, reason: str
) -> LedgerEntry:
    """Change the monthly plan budget (a grant entry records it; no money moves now)."""
    reason = _reason(reason)
    if not 0 <= cents <= STAFF_CENTS_LIMIT:
        raise StaffActionError(f"The budget must be between 0 and {STAFF_CENTS_LIMIT:,} cents.")
    before = audit.snapshot(Shop.objects.get(pk=shop.pk), ["plan_budget_cents"])
    entry = grant_credits(
        shop, plan_budget_cents=cents, memo=f"staff: plan budget {cents}¢: {reason}"
    )
    shop.plan_budget_cents = cents
    audit.record(
        by,
        "shop.plan_budget",
        shop,
        before=before,
        after={"plan_budget_cents": cents, "ledger_entry": entry.pk},
        reason=reason,
    )
    return entry


def refundable_cents(job: Job) -> int:
    """What is left of a job's charge after its refunds (automatic and staff)."""
    rows = LedgerEntry.objects.filter(job=job)
    charged = -sum(e.amount_cents for e in rows if e.kind == LedgerEntry.Kind.CHARGE)
    returned = sum(
        e.amount_cents
        for e in rows
        if e.kind in (LedgerEntry.Kind.REFUND, LedgerEntry.Kind.STAFF_REFUND)
    )
    return max(charged - returned, 0)


@transaction.atomic
def staff_refund(job: Job, cents: int, *, by: AbstractBaseUser, reason: str) -> LedgerEntry:
    """Give back up to what is left of a job's charge, to the wallet, as a new ledger entry."""
    reason = _reason(reason)
    locked = Shop.objects.select_for_update().get(pk=job.shop_id)
    room = refundable_cents(job)
    if cents <= 0:
        raise StaffActionError("The refund must be a positive number of cents.")
    if cents > room:
        raise StaffActionError(
            f"Job {job.id} has {room}¢ of its charge left to refund; {cents}¢ is too much."
        )
    before = audit.snapshot(locked, ["wallet_cents"])
    locked.wallet_cents += cents
    locked.save(update_fields=["wallet_cents"])
    entry = LedgerEntry.objects.create(
        shop=locked,
        kind=LedgerEntry.Kind.STAFF_REFUND,
        job=job,
        wallet_cents=cents,
        amount_cents=cents,
        period=current_period(),
        memo=f"staff refund: {reason}"[:200],
    )
    audit.record(
        by,
        "ledger.staff_refund",
        job,
        before={**before, "refundable_cents": room},
        after={
            **audit.snapshot(locked, ["wallet_cents"]),
            "refundable_cents": room - cents,
            "ledger_entry": entry.pk,
        },
        reason=reason,
        shop=locked,
    )
    return entry


@transaction.atomic
def override_rate_limit(
    shops: list[Shop], per_minute: int, *, by: AbstractBaseUser, reason: str
) -> list[Shop]:
    """Set the shops' API requests per minute per key (0 = the server default)."""
    reason = _reason(reason)
    if not 0 <= per_minute <= 100_000:
        raise StaffActionError("The limit must be between 0 (server default) and 100000.")
    done = []
    for shop in Shop.objects.select_for_update().filter(pk__in=[s.pk for s in shops]):
        before = audit.snapshot(shop, ["api_rate_limit_per_minute"])
        if shop.api_rate_limit_per_minute == per_minute:
            continue
        shop.api_rate_limit_per_minute = per_minute
        shop.save(update_fields=["api_rate_limit_per_minute"])  # also forgets cached keys
        audit.record(
            by,
            "shop.rate_limit",
            shop,
            before=before,
            after=audit.snapshot(shop, ["api_rate_limit_per_minute"]),
            reason=reason,
        )
        done.append(shop)
    return done


def revoke_keys(
    keys: list[ApiKey], *, by: AbstractBaseUser, reason: str
) -> tuple[list[ApiKey], list[tuple[ApiKey, str]]]:
    """Revoke active keys at once (they stop working in every process within
    API_KEY_CACHE_SECONDS); returns (revoked, [(key, why not)])."""
    from studio.apikeys import forget_key

    reason = _reason(reason)
    revoked: list[ApiKey] = []
    skipped: list[tuple[ApiKey, str]] = []
    now = timezone.now()
    with transaction.atomic():
        for key in (
            ApiKey.objects.select_for_update()
            .select_related("shop")
            .filter(pk__in=[k.pk for k in keys])
        ):
            if key.revoked_at is not None:
                skipped.append((key, f"already revoked on {key.revoked_at:%Y-%m-%d %H:%M}"))
                continue
            ApiKey.objects.filter(pk=key.pk).update(revoked_at=now)
            key.revoked_at = now
            audit.record(
                by,
                "apikey.revoke",
                key,
                before={"revoked_at": None},
                after={"revoked_at": now},
                reason=reason,
            )
            revoked.append(key)
            forget_key(key.key_hash)
        # Again after commit: a lookup in between may have cached the row before the update.
        hashes = [k.key_hash for k in revoked]
        transaction.on_commit(lambda: [forget_key(h) for h in hashes])
    return revoked, skipped
