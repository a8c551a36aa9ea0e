"""Rate limits counted in batches (studio/ratelimit.py): a process reserves part of a large
limit in one increment of the shared counter and admits it from memory; small limits are
counted one by one. Nothing past the limit is ever admitted, whichever process asks."""

from __future__ import annotations

from typing import Any

import pytest

from studio import ratelimit
from studio.models import RateLimitWindow
from tests.conftest import skip_or_fail

NOW = 1_000_020.0  # inside the window starting at 1_000_020 // 60 * 60


@pytest.fixture
def in_the_database(settings: Any, db: Any) -> None:
    settings.RATELIMIT_REDIS_URL = ""
    settings.CACHE_URL = ""


def _shared_count(bucket: str) -> int:
    return RateLimitWindow.objects.get(bucket=bucket).count


def test_small_limits_are_counted_one_by_one(in_the_database: None) -> None:
    assert ratelimit.lease_size(60) == 1
    decisions = [ratelimit.hit("small", 60, now=NOW) for _ in range(7)]
    assert _shared_count("small") == 7
    assert [d.remaining for d in decisions] == list(range(59, 52, -1))


def test_a_large_limit_takes_one_increment_per_batch(in_the_database: None) -> None:
    assert ratelimit.lease_size(20_000) == ratelimit.LEASE_MAX == 64
    decisions = [ratelimit.hit("large", 20_000, now=NOW) for _ in range(70)]
    assert all(d.allowed for d in decisions)
    assert [d.remaining for d in decisions] == list(range(19_999, 19_929, -1))
    assert _shared_count("large") == 128  # two batches reserved for 70 requests


def test_processes_together_never_pass_the_limit(
    in_the_database: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    limit = 1000  # batches of 5
    processes: list[dict[str, Any]] = [{}, {}, {}]
    admitted = 0
    for i in range(1200):
        monkeypatch.setattr(ratelimit, "_leases", processes[i % 3])  # another process asks
        admitted += ratelimit.hit("shared", limit, now=NOW).allowed
    assert limit - 3 * ratelimit.lease_size(limit) <= admitted <= limit
    assert not ratelimit.hit("shared", limit, now=NOW).allowed


def test_a_new_window_or_a_changed_limit_starts_a_new_batch(in_the_database: None) -> None:
    first = ratelimit.hit("roll", 20_000, now=NOW)
    assert first.remaining == 19_999
    nxt = ratelimit.hit("roll", 20_000, now=NOW + 60)
    assert nxt.remaining == 19_999 and nxt.reset_at == first.reset_at + 60
    lowered = ratelimit.hit("roll", 3, now=NOW + 60)  # the shop's plan changed meanwhile
    assert not lowered.allowed  # 65 counted in this window already


def test_batches_in_redis(settings: Any) -> None:
    url = "redis://127.0.0.1:6379/13"
    try:
        import redis

        client = redis.Redis.from_url(url, socket_connect_timeout=1)
        client.ping()
    except Exception:
        skip_or_fail("Redis is not reachable on 127.0.0.1:6379")
    client.delete("rl:leased:1000020")
    settings.RATELIMIT_REDIS_URL = url
    decisions = [ratelimit.hit("leased", 10**9, now=NOW) for _ in range(65)]
    assert [d.remaining for d in decisions[:2]] == [10**9 - 1, 10**9 - 2]
    assert int(client.get("rl:leased:1000020")) == 128
    assert 60 < client.ttl("rl:leased:1000020") <= 65
