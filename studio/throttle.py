"""Throttles for people-facing doors, on Django's cache: one implementation for all of them.

A `Rule` allows `limit` events per `window` seconds for one key (an account, a client address,
an email address, a shop); going over locks the key for `lockout` seconds (default: the rest
of the window). Counters are fixed windows: `cache.add` then `cache.incr`, which Redis does
atomically; the local file cache may undercount under concurrency, never overcount.

Keys are hashed before they reach the cache, so emails and addresses are not stored in it.
When the cache cannot be reached every check allows (fail open, logged): a throttle must not
turn a cache outage into a site outage. The limits are in `settings.THROTTLE_RATES`.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Rule:
    name: str
    limit: int
    window: int  # seconds
    lockout: int = 0  # seconds a key stays refused once over the limit (0: rest of the window)


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int = 0  # seconds until the key is allowed again (when refused)
    count: int = 0

    @property
    def wait_words(self) -> str:
        """'12 seconds' / '3 minutes' / '1 hour', for messages."""
        seconds = max(self.retry_after, 1)
        if seconds < 90:
            return f"{seconds} second{'s' * (seconds != 1)}"
        minutes = math.ceil(seconds / 60)
        if minutes < 90:
            return f"{minutes} minutes"
        hours = math.ceil(minutes / 60)
        return f"{hours} hour{'s' * (hours != 1)}"


ALLOW = Verdict(True)


def rule(name: str) -> Rule:
    """The configured rule `name` from THROTTLE_RATES ({"limit", "window", "lockout"?})."""
    conf = settings.THROTTLE_RATES[name]
    return Rule(name, int(conf["limit"]), int(conf["window"]), int(conf.get("lockout", 0)))


def _digest(key: str) -> str:
    return hashlib.sha256(key.strip().lower().encode("utf-8", "replace")).hexdigest()[:32]


def _keys(r: Rule, key: str, now: float) -> tuple[str, str, int]:
    digest = _digest(key)
    start = int(now) // r.window * r.window
    return f"throttle:{r.name}:{digest}:{start}", f"throttle-lock:{r.name}:{digest}", start


def check(r: Rule, key: str) -> Verdict:
    """Whether `key` may act now, without counting anything."""
    now = time.time()
    counter, lock, start = _keys(r, key, now)
    try:
        until = cache.get(lock)
        if until is not None and until > now:
            return Verdict(False, math.ceil(until - now))
        count = cache.get(counter) or 0
    except Exception:
        log.warning("throttle %s: cache unavailable, allowing", r.name)
        return ALLOW
    if count >= r.limit:
        return Verdict(False, max(1, math.ceil(start + r.window - now)), count)
    return Verdict(True, 0, count)


def hit(r: Rule, key: str) -> Verdict:
    """Count one event for `key`. The first `limit` events in a window are allowed; the one
    that reaches the limit also locks the key (for `lockout`, or the rest of the window), so
    the next is refused without being counted."""
    now = time.time()
    counter, lock, start = _keys(r, key, now)
    try:
        until = cache.get(lock)
        if until is not None and until > now:
            return Verdict(False, math.ceil(until - now))
        cache.add(counter, 0, timeout=r.window + 5)
        try:
            count = cache.incr(counter)
        except ValueError:  # expired between add and incr
            cache.add(counter, 1, timeout=r.window + 5)
            count = 1
        if count >= r.limit:
            locked_for = r.lockout or max(1, math.ceil(start + r.window - now))
            cache.add(lock, now + locked_for, timeout=locked_for + 5)
    except Exception:
        log.warning("throttle %s: cache unavailable, allowing", r.name)
        return ALLOW
    if count <= r.limit:
        return Verdict(True, 0, count)
    return check(r, key)


def reset(r: Rule, key: str) -> None:
    """Forget `key`'s count and lock (e.g. after a successful log-in)."""
    counter, lock, _ = _keys(r, key, time.time())
    try:
        cache.delete_many([counter, lock])
    except Exception:
        log.warning("throttle %s: cache unavailable, not reset", r.name)


# --- who is asking --------------------------------------------------------------------------------


def client_address(request: HttpRequest) -> str:
    """The client's IP address. Behind reverse proxies listed in TRUSTED_PROXIES (CIDRs), the
    nearest address in X-Forwarded-For that is not one of them; otherwise REMOTE_ADDR."""
    remote = request.META.get("REMOTE_ADDR", "") or "unknown"
    trusted = getattr(settings, "TRUSTED_PROXIES", [])
    if not trusted or not _in_networks(remote, trusted):
        return remote
    forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    for address in reversed([a for a in forwarded if a]):
        if not _in_networks(address, trusted):
            return address
    return remote


def _in_networks(address: str, networks: list[str]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(n, strict=False) for n in networks)


# --- the doors' throttles ---------------------------------------------------------------------------


def login_blocked(request: HttpRequest, username: str) -> Verdict:
    """Refused while the account or the address is locked out after failed log-ins."""
    for r, key in (
        (rule("login-account"), username),
        (rule("login-address"), client_address(request)),
    ):
        verdict = check(r, key)
        if not verdict.allowed:
            return verdict
    return ALLOW


def login_failed(request: HttpRequest, username: str) -> Verdict:
    """Count a failed log-in for the account and the address; then whether they are locked
    (the failure that reaches a limit locks at once, so its page already says so)."""
    hit(rule("login-account"), username)
    hit(rule("login-address"), client_address(request))
    return login_blocked(request, username)


def login_succeeded(username: str) -> None:
    reset(rule("login-account"), username)


def bad_api_key(request: HttpRequest) -> int | None:
    """Count a request with an invalid API key for its client address. Returns the seconds to
    put in Retry-After when the address is over its limit (answer 429), else None."""
    verdict = hit(rule("api-bad-key"), client_address(request))
    return None if verdict.allowed else verdict.retry_after
