"""Verbs on shops, members and credits. Each owns its transaction."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
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
SIGNUP_TTL = timedelta(days=2)
SIGNUP_SALT = "studio.signup.confirm"


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


class SignUpError(Exception):
    """A sign-up link or form that cannot create an account; the message is for the user."""


def site_url(request_origin: str = "") -> str:
    """The site's public origin for links that leave a request (emails): SITE_URL when it is
    configured, otherwise the origin the request came in on (scheme + host)."""
    if settings.SITE_URL_IS_SET or not request_origin:
        return settings.SITE_URL
    return request_origin.rstrip("/")


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
def sign_up(
    email: str, password: str, shop_name: str = "", *, with_shop: bool = True
) -> AbstractBaseUser:
    """Create a user (the email is the username) and, unless `with_shop` is False, a shop they
    own with the new-shop credits. Callers vouch for the address: the sign-up page comes here
    only from the emailed confirmation link (`confirm_sign_up`) or an invitation."""
    User = get_user_model()
    email = User.objects.normalize_email(email).lower()
    user = User.objects.create_user(username=email, email=email, password=password)
    if with_shop:
        create_shop(shop_name or f"{email.split('@')[0]}'s shop", owner=user)
    return user


def email_taken(email: str) -> bool:
    return get_user_model().objects.filter(username__iexact=email.strip()).exists()


def request_sign_up(email: str, shop_name: str = "", *, origin: str = "") -> None:
    """Send the sign-up mail. The same thing happens whether or not the address has an account
    (the page says the same either way): a new address gets a link that creates the account
    (and grants the shop's credits) once opened, a known one a note with log-in and reset links.
    No row is written before the link is opened, so nobody can hold an address they do not
    read."""
    email = get_user_model().objects.normalize_email(email).lower()
    base = site_url(origin)
    if email_taken(email):
        send_mail(
            "Your studio account",
            "Someone (perhaps you) asked to create a studio account with this address, which "
            f"already has one.\n\nLog in: {base}{reverse('login')}\n"
            f"Forgot the password? {base}{reverse('password_reset')}\n\n"
            "If it was not you, nothing changed and you can ignore this message.\n",
            None,
            [email],
        )
        return
    token = signing.dumps({"e": email, "s": shop_name[:120]}, salt=SIGNUP_SALT, compress=True)
    url = base + reverse("signup_confirm", args=[token])
    days = SIGNUP_TTL.days
    send_mail(
        "Confirm your email to create your studio",
        f"Open this link within {days} days to choose a password and create your studio:\n"
        f"{url}\n\nIf you did not ask for this, ignore this message: no account exists yet.\n",
        None,
        [email],
    )


@dataclass(frozen=True)
class PendingSignUp:
    email: str
    shop_name: str


def read_sign_up_token(token: str) -> PendingSignUp:
    """What a confirmation link carries. Raises SignUpError for a bad, expired or used link."""
    try:
        data = signing.loads(token, salt=SIGNUP_SALT, max_age=SIGNUP_TTL)
    except signing.SignatureExpired:
        raise SignUpError("This confirmation link has expired; sign up again.") from None
    except signing.BadSignature:
        raise SignUpError("This confirmation link is not valid.") from None
    pending = PendingSignUp(str(data.get("e", "")), str(data.get("s", "")))
    if not pending.email or email_taken(pending.email):
        raise SignUpError(
            "This confirmation link was already used: log in, or reset your password."
        )
    return pending


def confirm_sign_up(token: str, password: str) -> AbstractBaseUser:
    """Create the account a confirmation link asked for: the address is now verified, so the
    shop gets its credits. Raises SignUpError (link bad, expired or already used)."""
    pending = read_sign_up_token(token)
    try:
        return sign_up(pending.email, password, pending.shop_name)
    except IntegrityError:  # the same link opened twice at once
        raise SignUpError(
            "This confirmation link was already used: log in, or reset your password."
        ) from None


def sign_up_invited(token: str, password: str) -> Membership:
    """Create an account for an invitation's address and join its shop, with no shop of its
    own. The invitation link was mailed to that address, which verifies it. Raises
    InvitationError when the invitation cannot be used or the address already has an account."""
    with transaction.atomic():
        invitation = open_invitation(token)
        if email_taken(invitation.email):
            raise InvitationError(
                "This address already has an account: log in to accept the invitation."
            )
        try:
            with transaction.atomic():
                user = sign_up(invitation.email, password, with_shop=False)
        except IntegrityError:
            raise InvitationError(
                "This address already has an account: log in to accept the invitation."
            ) from None
        return accept_invitation(token, user)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class SentInvitation:
    invitation: Invitation
    url: str


def invite_member(
    shop: Shop, *, email: str, role: str, invited_by: AbstractBaseUser, origin: str = ""
) -> SentInvitation:
    """Invite `email`; the link is built on SITE_URL, or on `origin` (the request's own scheme
    and host) when SITE_URL is not configured."""
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
    url = site_url(origin) + reverse("accept_invite", args=[token])
    # Robust: with the mail server down the invitation still exists and the owner is shown its
    # link (the failure is logged), instead of a 500 after the row was committed.
    transaction.on_commit(
        lambda: send_mail(
            f"You are invited to {shop.name}",
            f"{invited_by} invited you to join {shop.name} as {role}.\n\nOpen this link once to accept "
            f"(valid for 7 days):\n{url}\n",
            None,
            [invitation.email],
        ),
        robust=True,
    )
    return SentInvitation(invitation, url)


def lookup_invitation(token: str) -> Invitation | None:
    """The invitation a link's token belongs to (used or not), for showing it before accepting."""
    return Invitation.objects.select_related("shop").filter(token_hash=_token_hash(token)).first()


def open_invitation(token: str) -> Invitation:
    """The invitation behind `token` if it can still be accepted, else InvitationError."""
    invitation = lookup_invitation(token)
    if invitation is None or invitation.accepted_at is not None:
        raise InvitationError("This invitation link is not valid or was already used.")
    if invitation.expires_at < timezone.now():
        raise InvitationError("This invitation link has expired; ask the owner for a new one.")
    return invitation


@transaction.atomic
def revoke_invitation(invitation: Invitation) -> None:
    """Delete a pending invitation: its link stops working, since the token's hash is gone."""
    invitation.delete()


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


@transaction.atomic
def update_shop_settings(
    shop: Shop, *, name: str, default_model: str, api_rate_limit_per_minute: int
) -> Shop:
    """The owner's settings: name, default model ("" = the server's) and API requests per minute
    per key (0 = the server default)."""
    from studio.apikeys import forget_shop

    shop.name = name
    shop.default_model = default_model
    shop.api_rate_limit_per_minute = api_rate_limit_per_minute
    shop.save(update_fields=["name", "default_model", "api_rate_limit_per_minute"])
    # Saving forgets the shop's cached API keys at once (a signal); again after commit, since a
    # lookup in between may have cached the old limit.
    transaction.on_commit(lambda: forget_shop(shop.pk))
    return shop


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
