"""API keys: minting (shown once), hashing at rest, constant-time checks, scopes, revocation.

A key looks like `sk_live_<43 url-safe chars>` (`sk_test_` for sandbox shops): 256 bits of
entropy, so a keyed hash (HMAC-SHA256 under SECRET_KEY) is enough at rest; no slow KDF needed.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from studio.models import ApiKey, Shop

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

# Every scope a key may carry, with what it opens.
SCOPES: dict[str, str] = {
    "ai:generate": "Generate images (/ai-generations/generate, /v0/images/generations)",
    "ai:bg-remove": "Remove backgrounds (/ai-generations/remove-background)",
    "ai:video": "Image to video (/ai-generations/generate-video)",
    "ai:edit": "Image edits and operations",
    "ai": "Generate images into the media library and create posts (/ai/*, /v1/posts)",
    "uploads:write": "Upload images (/uploads)",
    "mockups": "Render and sign mockups",
    "library:read": "Read the library and usage (/v0/images/library, /v0/usage)",
}
SANDBOX_SCOPES = ["ai:generate", "ai:bg-remove", "uploads:write", "mockups"]
PREFIX_LEN = 12
LAST_USED_RESOLUTION = timedelta(minutes=1)


class ApiKeyError(ValueError):
    pass


def hash_key(raw: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), raw.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class MintedKey:
    api_key: ApiKey
    raw: str  # shown to the owner once, never stored


def create_api_key(
    shop: Shop,
    *,
    scopes: list[str],
    name: str = "",
    user: AbstractBaseUser | None = None,
    is_sandbox: bool = False,
) -> MintedKey:
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown:
        raise ApiKeyError(f"Unknown scope(s): {', '.join(unknown)}.")
    if not scopes:
        raise ApiKeyError("Choose at least one scope.")
    raw = ("sk_test_" if is_sandbox or shop.is_sandbox else "sk_live_") + secrets.token_urlsafe(32)
    with transaction.atomic():
        key = ApiKey.objects.create(
            shop=shop,
            name=name[:120],
            prefix=raw[:PREFIX_LEN],
            key_hash=hash_key(raw),
            scopes=[s for s in SCOPES if s in scopes],
            is_sandbox=is_sandbox,
            created_by=user,
        )
    return MintedKey(key, raw)


def revoke_api_key(key: ApiKey) -> ApiKey:
    ApiKey.objects.filter(pk=key.pk, revoked_at=None).update(revoked_at=timezone.now())
    key.refresh_from_db(fields=["revoked_at"])
    return key


def authenticate(raw: str) -> ApiKey | None:
    """The active key for a raw secret, or None. One indexed query (key + shop)."""
    if not raw or len(raw) > 200 or not raw.startswith(("sk_live_", "sk_test_")):
        return None
    digest = hash_key(raw)
    key = ApiKey.objects.select_related("shop").filter(key_hash=digest).order_by().first()
    # The lookup is by hash; compare_digest keeps the final check constant-time regardless.
    if key is None or not hmac.compare_digest(key.key_hash, digest) or key.revoked_at is not None:
        return None
    return key


def touch(key: ApiKey) -> None:
    """Record use at most once a minute per key (a conditional UPDATE, no read)."""
    now = timezone.now()
    if key.last_used_at is not None and now - key.last_used_at < LAST_USED_RESOLUTION:
        return
    ApiKey.objects.filter(pk=key.pk).filter(
        Q(last_used_at=None) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION)
    ).update(last_used_at=now)
    key.last_used_at = now


# --- sandbox shops ---------------------------------------------------------------------------


class ClaimError(ValueError):
    pass


@dataclass(frozen=True)
class SandboxMint:
    shop: Shop
    key: MintedKey
    claim_token: str


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def mint_sandbox_shop(*, client_ip: str | None = None) -> SandboxMint:
    """A new sandbox shop with a starting credit grant, a key with the sandbox scopes and a
    one-time claim token (only its hash is stored)."""
    from studio.actions import create_shop, grant_credits
    from studio.models import SandboxClaim

    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        shop = create_shop("Sandbox shop", is_sandbox=True, plan_budget_cents=0, wallet_cents=0)
        grant_credits(
            shop, plan_budget_cents=settings.SANDBOX_CREDIT_CENTS, memo="sandbox starting grant"
        )
        shop.refresh_from_db()
        minted = create_api_key(shop, scopes=SANDBOX_SCOPES, name="sandbox", is_sandbox=True)
        SandboxClaim.objects.create(shop=shop, token_hash=_token_hash(token), created_ip=client_ip)
    return SandboxMint(shop, minted, token)


def claim_sandbox_shop(token: str, user: AbstractBaseUser) -> Shop:
    """The user becomes the shop's owner; the sandbox key stops working."""
    from studio.models import Membership, Role, SandboxClaim

    with transaction.atomic():
        claim = (
            SandboxClaim.objects.select_for_update()
            .select_related("shop")
            .filter(token_hash=_token_hash(token))
            .first()
        )
        if claim is None or claim.claimed_at is not None:
            raise ClaimError("This claim link is not valid or the shop was already claimed.")
        now = timezone.now()
        claim.claimed_at, claim.claimed_by = now, user
        claim.save(update_fields=["claimed_at", "claimed_by"])
        shop = claim.shop
        Membership.objects.update_or_create(shop=shop, user=user, defaults={"role": Role.OWNER})
        ApiKey.objects.filter(shop=shop, is_sandbox=True, revoked_at=None).update(revoked_at=now)
        Shop.objects.filter(pk=shop.pk).update(is_sandbox=False)
        shop.is_sandbox = False
    return shop
