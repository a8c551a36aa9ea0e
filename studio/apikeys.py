"""API keys: minting (shown once), hashing at rest, constant-time checks, scopes, revocation.

A key looks like `sk_live_<43 url-safe chars>` (`sk_test_` for sandbox shops): 256 bits of
entropy, so a keyed hash (HMAC-SHA256 under SECRET_KEY) is enough at rest; no slow KDF needed.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from studio.models import ApiKey, Shop

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

# Every scope a key may carry, with what it opens.
SCOPES: dict[str, str] = {
    "ai:generate": "Generate images (/ai-generations/generate, /v0/images/generations, "
    "/v1/images/generations)",
    "ai:bg-remove": "Remove backgrounds (/ai-generations/remove-background, "
    "/v1/images/remove-background)",
    "ai:video": "Image to video (/ai-generations/generate-video)",
    "ai:edit": "Image edits and operations (/v1/images/*, /v1/tasks)",
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
    forget_key(key.key_hash)
    key.refresh_from_db(fields=["revoked_at"])
    return key


# --- authentication, with a short per-process cache of authenticated keys ------------------------
# Looking a key up with its shop through the ORM costs about 1.5 ms of CPU per request, most of
# it compiling SQL. An authenticated key's row and its shop's row are therefore kept in this
# process for API_KEY_CACHE_SECONDS (default 5), keyed by the key's hash; every request still
# gets its own fresh model instances. Revoking, saving or deleting a key (or saving its shop)
# forgets it in this process at once; other processes may accept a revoked key for at most that
# long. A failed lookup is never cached, so nothing is remembered about unknown or revoked keys.
# A local memo rather than Django's cache: a cache round trip would cost about what it saves.


@dataclass
class _CachedKey:
    expires: float  # on _clock
    shop_id: int
    key_row: tuple[Any, ...]  # ApiKey's concrete field values, in field order
    shop_row: tuple[Any, ...]
    db: str


_cache: dict[str, _CachedKey] = {}
_clock = time.monotonic  # tests replace it with a fake clock
_CACHE_MAX = 10_000
# Bumped by every forget: a lookup that raced with a revocation in another thread of this
# process does not store what it read before the revocation.
_generation = 0


def _cache_seconds() -> float:
    return float(getattr(settings, "API_KEY_CACHE_SECONDS", 5))


def _copied(values: Any) -> list[Any]:
    # JSON values (scopes, trusted_origins) are copied: a request must not change another's.
    return [copy.deepcopy(v) if isinstance(v, list | dict) else v for v in values]


def _row(instance: ApiKey | Shop) -> tuple[Any, ...]:
    return tuple(_copied(getattr(instance, f.attname) for f in instance._meta.concrete_fields))


def _fresh(model: type[Any], db: str, row: tuple[Any, ...]) -> Any:
    return model.from_db(db, None, _copied(row))


def forget_key(key_hash: str) -> None:
    """Drop a key from this process's cache (revoked, edited or deleted)."""
    global _generation
    _generation += 1
    _cache.pop(key_hash, None)


def forget_shop(shop_id: int) -> None:
    """Drop every cached key of a shop (its settings or its keys changed in bulk)."""
    global _generation
    _generation += 1
    for key_hash, entry in list(_cache.items()):
        if entry.shop_id == shop_id:
            _cache.pop(key_hash, None)


def clear_key_cache() -> None:
    global _generation
    _generation += 1
    _cache.clear()


def _remember(key: ApiKey, ttl: float, generation: int) -> None:
    now = _clock()
    if len(_cache) >= _CACHE_MAX:
        for key_hash, entry in list(_cache.items()):
            if entry.expires <= now:
                _cache.pop(key_hash, None)
        if len(_cache) >= _CACHE_MAX:
            _cache.clear()
    entry = _CachedKey(
        now + ttl, key.shop_id, _row(key), _row(key.shop), key._state.db or "default"
    )
    if generation == _generation:
        _cache[key.key_hash] = entry


def _cached(digest: str) -> ApiKey | None:
    entry = _cache.get(digest)
    if entry is None:
        return None
    if entry.expires <= _clock():
        _cache.pop(digest, None)
        return None
    key = _fresh(ApiKey, entry.db, entry.key_row)
    key.shop = _fresh(Shop, entry.db, entry.shop_row)
    return key


def _active_key(raw: str) -> ApiKey | None:
    if not raw or len(raw) > 200 or not raw.startswith(("sk_live_", "sk_test_")):
        return None
    digest = hash_key(raw)
    ttl = _cache_seconds()
    if ttl > 0:
        cached = _cached(digest)
        if cached is not None:
            return cached
    generation = _generation
    key = ApiKey.objects.select_related("shop").filter(key_hash=digest).order_by().first()
    # The lookup is by hash; compare_digest keeps the final check constant-time regardless.
    if key is None or not hmac.compare_digest(key.key_hash, digest) or key.revoked_at is not None:
        return None
    if ttl > 0:
        _remember(key, ttl, generation)
    return key


@dataclass(frozen=True)
class KeyCheck:
    """The outcome of checking a raw key: the key, or why it is refused (for the envelope)."""

    key: ApiKey | None
    status: int = 401
    code: str = "unauthorized"
    message: str = "Invalid or revoked API key."


def check(raw: str) -> KeyCheck:
    """Like `authenticate`, but says why a key is refused: a valid key of a suspended shop is
    403 `shop_suspended` with the staff's reason; anything else unknown or revoked is 401."""
    key = _active_key(raw)
    if key is None:
        return KeyCheck(None)
    if key.shop.suspended_at is not None:
        return KeyCheck(None, 403, "shop_suspended", key.shop.suspension_message())
    return KeyCheck(key, 200, "", "")


def authenticate(raw: str) -> ApiKey | None:
    """The active key (with its shop) for a raw secret, or None (also for a suspended shop: use
    `check` for the reason). One indexed query (key + shop), or none while the key is in this
    process's cache."""
    return check(raw).key


_LAST_USED_INDEX = [f.attname for f in ApiKey._meta.concrete_fields].index("last_used_at")


def _remember_use(key_hash: str, when: datetime) -> None:
    entry = _cache.get(key_hash)
    if entry is not None:
        row = list(entry.key_row)
        row[_LAST_USED_INDEX] = when
        entry.key_row = tuple(row)


def touch(key: ApiKey) -> None:
    """Record use at most once a minute per key (a conditional UPDATE, no read)."""
    now = timezone.now()
    if key.last_used_at is not None and now - key.last_used_at < LAST_USED_RESOLUTION:
        return
    ApiKey.objects.filter(pk=key.pk).filter(
        Q(last_used_at=None) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION)
    ).update(last_used_at=now)
    key.last_used_at = now
    # Without this, cached copies would carry the old time and re-run the UPDATE per request.
    _remember_use(key.key_hash, now)


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
    forget_shop(shop.pk)
    return shop


# --- cache invalidation on model changes (connected in StudioConfig.ready) -------------------


def key_changed(sender: type[ApiKey], instance: ApiKey, **kwargs: Any) -> None:
    forget_key(instance.key_hash)


# What studio.actions.charge and refund save on every job: the cached shop's balances may be a
# few seconds old anyway (a worker's refund never reached this process's cache), and nothing reads
# them from a cached shop without a fresh read or a charge that updates the instance. Forgetting
# the shop's keys on these saves made the next request of a shop that had just submitted a job
# look its key up again (~1.5 ms), i.e. every synchronous generate.
BALANCE_FIELDS = frozenset({"plan_period", "plan_used_cents", "wallet_cents"})


def shop_changed(
    sender: type[Shop], instance: Shop, update_fields: Any = None, **kwargs: Any
) -> None:
    if update_fields and BALANCE_FIELDS.issuperset(update_fields):
        return
    forget_shop(instance.pk)
