"""Fixed-window request counters: Redis (one round trip) when configured, the database otherwise.

`hit(bucket, limit, window)` counts one request and says whether it is allowed, how many remain
and when the window resets. Both backends are atomic across processes.

Large limits are counted in batches: a process reserves up to LEASE_SHARE of a window's limit
(at most LEASE_MAX requests) in one increment and admits that many from memory before asking
again, so a busy key costs a round trip per batch instead of per request. Nothing is admitted
beyond the limit (a batch is only what the shared counter granted); a process's unused part of a
batch is lost when the window ends, so a key with several processes may be refused up to
LEASE_SHARE of its limit early per process. Limits below 1 / LEASE_SHARE are counted one by one,
exactly, as before; `Remaining` is this process's view (others may have used some since).

When Redis cannot be reached, counting falls back to the database for REDIS_RETRY_SECONDS
before Redis is tried again: limits keep holding (per window, counted afresh in the table),
requests do not fail, and a Redis outage costs at most one connection time-out per process
every REDIS_RETRY_SECONDS.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.conf import settings
from django.db import IntegrityError, OperationalError, connection, transaction

from studio.models import RateLimitWindow

DEFAULT_PER_MINUTE = 60
# A process reserves at most this share of a window's limit, and at most LEASE_MAX, per round
# trip (see the module's docstring).
LEASE_SHARE = 0.005
LEASE_MAX = 64
REDIS_RETRY_SECONDS = 30.0
log = logging.getLogger(__name__)
_redis_down_until = 0.0


@dataclass(frozen=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    reset_at: int  # unix seconds when the window ends

    @property
    def retry_after(self) -> int:
        return max(1, math.ceil(self.reset_at - time.time()))

    def headers(self) -> dict[str, str]:
        reset_in = max(0, self.reset_at - int(time.time()))
        values = {
            "x-ratelimit-limit-requests": str(self.limit),
            "x-ratelimit-remaining-requests": str(self.remaining),
            "x-ratelimit-reset-requests": f"{reset_in}s",
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset_at),
        }
        if not self.allowed:
            values["Retry-After"] = str(self.retry_after)
        return values


def redis_url() -> str:
    url = getattr(settings, "RATELIMIT_REDIS_URL", "") or getattr(settings, "CACHE_URL", "")
    return url if url.startswith(("redis://", "rediss://", "unix://")) else ""


@cache  # one connection pool per URL and process, not cached data
def _redis_client(url: str) -> Any:
    import redis

    return redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)


def _count_redis(url: str, key: str, window: int, n: int = 1) -> int:
    # Both commands in one write and one round trip. No MULTI/EXEC: Redis runs the two in order
    # as they arrive, and another client's INCRBY in between changes nothing (the expiry is only
    # ever set once per key); MULTI, QUEUED and EXEC were two more replies to parse.
    pipe = _redis_client(url).pipeline(transaction=False)
    pipe.incrby(key, n)
    pipe.expire(key, window + 5, nx=True)
    count, _ = pipe.execute()
    return int(count)


def _increment_sql() -> str:
    table = RateLimitWindow._meta.db_table
    q = connection.ops.quote_name
    # Identifiers are constants quoted by the backend; values travel as parameters.
    sql = "UPDATE {t} SET {c} = {c} + %s WHERE {b} = %s AND {w} = %s RETURNING {c}"
    return sql.format(t=q(table), c=q("count"), b=q("bucket"), w=q("window"))


def _execute_retrying(sql: str, params: list[Any]) -> tuple[Any, ...] | None:
    # SQLite's shared-cache databases (the test database) report table locks immediately
    # instead of waiting out busy_timeout; a short retry covers them.
    for attempt in range(100):
        try:
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                return cursor.fetchone()
        except OperationalError as exc:
            if "locked" not in str(exc) or attempt == 99:
                raise
            time.sleep(0.005)
    return None


def _count_db(bucket: str, start: int, n: int = 1) -> int:
    # UPDATE ... RETURNING (PostgreSQL, SQLite >= 3.35): the increment and the read are one
    # atomic statement, so concurrent processes each see their own count.
    sql = _increment_sql()
    for _ in range(20):
        row = _execute_retrying(sql, [n, bucket, start])
        if row is not None:
            return int(row[0])
        try:
            with transaction.atomic():
                RateLimitWindow.objects.create(bucket=bucket, window=start, count=n)
        except IntegrityError:
            continue  # another process created the row first: increment it
        except OperationalError as exc:
            if "locked" not in str(exc):
                raise
            time.sleep(0.005)
            continue
        if start % 17 == 0:  # now and then, drop windows that ended long ago
            RateLimitWindow.objects.filter(window__lt=start - 3600).delete()
        return n
    raise RuntimeError("rate limit window could not be counted")


@dataclass
class _Lease:
    """Counts this process reserved in a window: `next` up to `last` are its to admit."""

    window: tuple[int, int]  # (start, limit)
    next: int
    last: int
    lock: threading.Lock


_leases: dict[str, _Lease] = {}
_leases_lock = threading.Lock()


def lease_size(limit: int) -> int:
    return max(1, min(LEASE_MAX, int(limit * LEASE_SHARE)))


def hit(bucket: str, limit: int, window: int = 60, *, now: float | None = None) -> Decision:
    now = time.time() if now is None else now
    start = int(now) // window * window
    n = lease_size(limit)
    if n == 1:
        count = _count(redis_url(), bucket, start, window)
    else:
        count = _leased(bucket, limit, start, window, n)
    return Decision(count <= limit, limit, max(limit - count, 0), start + window)


def _leased(bucket: str, limit: int, start: int, window: int, n: int) -> int:
    """This request's count in the window, from this process's batch or a new one."""
    with _leases_lock:
        lease = _leases.get(bucket)
        if lease is None or lease.window != (start, limit):
            if len(_leases) > 10_000:  # buckets of past windows and gone keys
                _leases.clear()
            lease = _leases[bucket] = _Lease((start, limit), 1, 0, threading.Lock())
    with lease.lock:
        if lease.next > lease.last:
            # One round trip reserves counts last-n+1 … last; those past the limit are refused
            # here and by every process, as they would be one by one.
            last = _count(redis_url(), bucket, start, window, n)
            lease.next, lease.last = last - n + 1, last
        count = lease.next
        lease.next += 1
        return count


def forget_leases() -> None:
    with _leases_lock:
        _leases.clear()


def _count(url: str, bucket: str, start: int, window: int, n: int = 1) -> int:
    global _redis_down_until
    if url and time.monotonic() >= _redis_down_until:
        import redis

        try:
            return _count_redis(url, f"rl:{bucket}:{start}", window, n)
        except (redis.RedisError, OSError) as exc:
            _redis_down_until = time.monotonic() + REDIS_RETRY_SECONDS
            log.warning("rate limits: Redis unreachable (%s); counting in the database", exc)
    return _count_db(bucket, start, n)


def key_limit(per_minute: int) -> int:
    return per_minute or getattr(settings, "API_RATE_LIMIT_PER_MINUTE", DEFAULT_PER_MINUTE)


def purge_windows() -> int:
    """Forget database fallback windows older than an hour (beat, with the idempotency purge)."""
    deleted, _ = RateLimitWindow.objects.filter(window__lt=int(time.time()) - 3600).delete()
    return deleted
