"""The HTML library page in a shop of a million assets on PostgreSQL: first page, a deep page.

Targets: p95 ≤ 25 ms for the first page and for a deep page reached by a keyset cursor (issue 18,
at 1,000,000 assets; issue 2 asked ≤ 50 ms at 100,000). Times the whole Django request
(middleware, session, view, template) through the test client. The shop is bench_bigshop's
("Bench big shop <N>", the same rows: generated assets and every fifth an upload, inserted once
with executemany and kept), with the bench user added as a member. A prompt-word search and an
HTMX scroll page are measured for information.
Environment: BENCH_LIBRARY_ASSETS (default 1000000), BENCH_LIBRARY_RUNS (default 60).
"""

from __future__ import annotations

import os
import time
from typing import Any

from bench.bench_bigshop import _seed, _shop
from bench.support import (
    Skip,
    machine_load,
    require_postgres,
    summary,
    test_client,
    use_bench_database,
    verdict,
)

ASSETS = int(os.environ.get("BENCH_LIBRARY_ASSETS", "1000000"))
TARGET_MS = 25.0
RUNS = int(os.environ.get("BENCH_LIBRARY_RUNS", "60"))


def _time(
    client: Any, path: str, params: dict[str, str], headers: dict[str, str]
) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU milliseconds of this process per request (CPU time does not count
    waiting for PostgreSQL or for other processes on a busy machine)."""
    wall, cpu = [], []
    for i in range(RUNS + 5):
        started, cpu_started = time.perf_counter(), time.process_time()
        response = client.get(path, params, headers=headers)
        elapsed = (time.perf_counter() - started) * 1000
        cpu_elapsed = (time.process_time() - cpu_started) * 1000
        if response.status_code != 200:
            raise RuntimeError(f"{path} {params} answered {response.status_code}")
        if i >= 5:  # warm-up: first connection, template loading
            wall.append(elapsed)
            cpu.append(cpu_elapsed)
    return wall, cpu


def run() -> dict[str, Any]:
    try:
        require_postgres()
    except Skip as exc:
        print(f"SKIP library: {exc}")
        return {"skipped": str(exc)}

    from django.contrib.auth import get_user_model

    from generations.library import encode_cursor
    from generations.models import Asset
    from studio import actions as studio_actions
    from studio.models import Membership, Role

    db_name = use_bench_database()
    email = "bench-library@example.com"
    user = get_user_model().objects.filter(username=email).first() or studio_actions.sign_up(
        email, "bench-library-password", "Bench library"
    )
    shop, _key = _shop(f"Bench big shop {ASSETS}")
    Membership.objects.get_or_create(user=user, shop=shop, defaults={"role": Role.OWNER})
    _seed(shop, ASSETS)

    client = test_client()
    client.force_login(user)
    session = client.session
    session["current_shop_id"] = shop.id
    session.save()

    ordered = Asset.objects.filter(shop=shop).order_by("-created_at", "-id")
    count = ordered.count()
    deep_cursor = encode_cursor(ordered[count - 100])  # 100 rows from the oldest end
    mid_cursor = encode_cursor(ordered[count // 2])
    htmx = {"HX-Request": "true"}
    cases = {
        "first_page": ("/library/", {}, {}),
        "deep_page": ("/library/", {"cursor": deep_cursor}, {}),
        "deep_page_htmx_scroll": ("/library/", {"cursor": mid_cursor}, htmx),
        "search_word": ("/library/", {"q": "whale"}, {}),
        "search_word_no_match": ("/library/", {"q": "zeppelin"}, {}),
        "search_two_words_deep": ("/library/", {"q": "fox citrus", "cursor": mid_cursor}, {}),
        "filter_kind_model": ("/library/", {"kind": "upload", "model": "gpt-image-1"}, {}),
    }
    result: dict[str, Any] = {
        "database": f"postgresql ({db_name})",
        "assets_in_shop": Asset.objects.filter(shop=shop).count(),
    }
    for name, (path, params, headers) in cases.items():
        wall, cpu = _time(client, path, params, headers)
        result[name] = summary(wall)
        result[name]["cpu_p95_ms"] = summary(cpu)["p95_ms"]
        s = result[name]
        print(
            f"{name:24s} p50 {s['p50_ms']:6.1f} ms   p95 {s['p95_ms']:6.1f} ms   "
            f"max {s['max_ms']:6.1f} ms   (CPU p95 {s['cpu_p95_ms']:5.1f} ms)"
        )
    result["machine"] = machine_load()
    print(result["machine"])
    result["verdicts"] = [
        verdict(f"library first page p95 at {count:,}", result["first_page"]["p95_ms"], TARGET_MS),
        verdict(f"library deep page p95 at {count:,}", result["deep_page"]["p95_ms"], TARGET_MS),
    ]
    return result
