"""GET /v0/images/library in a large shop (issue 18): the first page, a deep page by number and by
cursor, and a prompt search, next to the listing it replaced (a COUNT of every matching row plus
OFFSET) timed in the same run on the same rows.

Target: every page p95 ≤ 20 ms, and flat: the same pages of a 1,000-asset shop are timed too
(the big shop's median within 2 ms of the small one's).
Requests go through the whole Django stack (API key auth, rate limit, view, JSON) with the test
client; the baseline is its SQL alone, so the comparison favours the baseline.

Runs on the configured database (SQLite by default; DATABASE_URL for PostgreSQL) in the kept
benchmark database (bench/support.py). Rows are inserted with executemany (no files, no signals;
the shop's counter is recounted after), once, and kept for later runs.
Environment: BENCH_BIGSHOP_ASSETS (default 1000000: about 5 minutes to insert the first time, on
SQLite or PostgreSQL), BENCH_BIGSHOP_RUNS (requests per case, default 40).
"""

from __future__ import annotations

import json
import os
import random
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.support import machine_load, summary, test_client, use_bench_database, verdict

ASSETS = int(os.environ.get("BENCH_BIGSHOP_ASSETS", "1000000"))
SMALL = 1000
RUNS = int(os.environ.get("BENCH_BIGSHOP_RUNS", "40"))
LIMIT = 20
TARGET_MS = 20.0
BATCH = 10_000
WORDS = ("teal", "gold", "navy", "coral", "sunset", "mountain", "wave", "retro", "neon", "forest")
WORDS += ("ocean", "desert", "city", "night", "cat", "fox", "owl", "whale", "rose", "fern")


def _shop(name: str) -> tuple[Any, str]:
    from studio import apikeys
    from studio.actions import create_shop
    from studio.models import Shop

    shop = Shop.objects.filter(name=name).first() or create_shop(name)
    shop.api_rate_limit_per_minute = 10**9  # counted on every request, never reached
    shop.save(update_fields=["api_rate_limit_per_minute"])
    key = apikeys.create_api_key(shop, scopes=["library:read"], name="bench").raw
    return shop, key


def _seed(shop: Any, want: int) -> None:
    """Insert generated assets (and every fifth an upload, never listed) until the shop has
    `want` generated ones: raw executemany, ~10× faster than bulk_create."""
    from django.db import connection, transaction

    from generations.library import recount_library
    from generations.models import Asset

    have = Asset.objects.filter(shop=shop, kind="generated").count()
    if have >= want:
        return
    fields = list(Asset._meta.concrete_fields)
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    marks = ", ".join(["%s"] * len(fields))
    sql = f"INSERT INTO {Asset._meta.db_table} ({columns}) VALUES ({marks})"  # noqa: S608
    rng = random.Random(have)
    now = datetime.now(UTC)
    by_name = {f.attname: f for f in fields}
    params = by_name["parameters"].get_db_prep_save({"width": 1024, "count": 1}, connection)
    constant = {
        "content_type": "image/png",
        "width": 1024,
        "height": 1024,
        "bytes": 250_000,
        "negative_prompt": "",
        "parameters": params,
        "is_public": False,
        "moderation": "unreviewed",
        "moderation_reason": "",
        "model": "builtin:procedural",
    }
    todo = want - have
    print(f"inserting {todo:,} generated assets into {shop.name!r} …", flush=True)
    started = time.perf_counter()
    while todo > 0:
        rows = []
        n = min(BATCH, todo)
        for i in range(n + n // 4):
            ident = uuid.uuid4()
            prompt = " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 8)))
            values = {
                **constant,
                "id": by_name["id"].get_db_prep_save(ident, connection),
                "shop_id": shop.pk,
                "kind": "generated" if i < n else "upload",
                "file": f"{shop.storage_prefix}assets/{ident.hex}/original.png",
                "thumbnail": f"{shop.storage_prefix}assets/{ident.hex}/thumb.webp",
                "sha256": ident.hex * 2,
                "prompt": prompt,
                "search_text": prompt,
                "created_at": by_name["created_at"].get_db_prep_save(
                    now - timedelta(seconds=rng.uniform(0, 3 * 365 * 86400)), connection
                ),
            }
            rows.append([values.get(f.attname) for f in fields])
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(sql, rows)
        todo -= n
    # VACUUM on PostgreSQL sets the visibility map, as autovacuum would, so index-only scans work.
    analyze = "VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE"
    with connection.cursor() as cursor:
        cursor.execute(f"{analyze} {Asset._meta.db_table}")
    recount_library(shop.pk)
    print(f"inserted in {time.perf_counter() - started:.1f} s", flush=True)


def _old_page(shop: Any, page: int, search: str = "") -> list[Any]:
    """The listing before issue 18: every matching row counted (a scalar subquery riding along)
    and the page found by OFFSET over the full rows."""
    from django.db.models import Count, Subquery

    from generations.api.v0 import LIBRARY_FIELDS
    from generations.models import Asset

    qs = Asset.objects.filter(shop=shop, kind="generated")
    if search:
        qs = qs.filter(search_text__contains=search)
    total = qs.order_by().values("shop").annotate(n=Count("*")).values("n")
    offset = (page - 1) * LIMIT
    # The columns it read (the whole `parameters` JSON, not its user_prompt key).
    fields = ["parameters" if name == "user_prompt" else name for name in LIBRARY_FIELDS]
    return list(
        qs.order_by("-created_at", "-id")
        .annotate(total=Subquery(total))
        .values_list(*fields, "total")[offset : offset + LIMIT]
    )


def _time(call: Any, runs: int = RUNS) -> list[float]:
    times = []
    for i in range(runs + 3):
        started = time.perf_counter()
        call()
        if i >= 3:  # warm-up
            times.append((time.perf_counter() - started) * 1000)
    return times


def _cases(shop: Any, key: str, n: int) -> dict[str, Any]:

    client = test_client()
    headers = {"x-api-key": key}
    last = max(1, (n - 1) // LIMIT + 1)
    middle = max(1, last // 2)

    def get(params: dict[str, Any]) -> dict[str, Any]:
        response = client.get("/v0/images/library", params, headers=headers)
        if response.status_code != 200:
            raise RuntimeError(f"library {params} answered {response.status_code}")
        return json.loads(response.content)["data"]

    # A cursor to the middle and to the last page, as a client walking there would hold.
    from generations.api.v0 import LIBRARY_FIELDS, _encode_cursor
    from generations.models import Asset

    def cursor_to(page: int) -> str:
        at, ident = (
            Asset.objects.filter(shop=shop, kind="generated")
            .order_by("-created_at", "-id")
            .values_list("created_at", "id")[(page - 1) * LIMIT - 1]
        )
        row = [None] * len(LIBRARY_FIELDS)  # only the id and created_at are read
        row[0], row[LIBRARY_FIELDS.index("created_at")] = ident, at
        return _encode_cursor(tuple(row), page)

    mid_cursor, last_cursor = cursor_to(middle), cursor_to(last)

    from django.core.cache import cache

    from generations import library

    def forget() -> None:
        cache.delete(library._anchors_key(shop.pk))
        # As if already asked for: no task is sent (no worker runs here).
        cache.set(f"library-anchors-asked:{shop.pk}", 1, 60)

    # The worker task that takes the page anchors (generations.library.take_anchors), timed.
    took = []
    for _ in range(3):
        started = time.perf_counter()
        library.take_anchors(shop.pk)
        took.append((time.perf_counter() - started) * 1000)
    print(f"  taking the page anchors (worker)  p50 {sorted(took)[1]:7.1f} ms", flush=True)

    assert get({"cursor": last_cursor})["page"] == last
    cases = {
        "first_page": lambda: get({}),
        "deep_page_by_cursor": lambda: get({"cursor": last_cursor}),
        "middle_page_by_cursor": lambda: get({"cursor": mid_cursor}),
        "deep_page_by_number": lambda: get({"page": last}),
        "middle_page_by_number": lambda: get({"page": middle}),
        "search_first_page": lambda: get({"search": "whale"}),
        # Until the worker has taken the page anchors again after a change (a deletion, a
        # row out of order): the position from the nearer end of the index.
        "middle_page_by_number_without_anchors": lambda: (forget(), get({"page": middle})),
        "baseline_first_page_sql": lambda: _old_page(shop, 1),
        "baseline_deep_page_sql": lambda: _old_page(shop, last),
        "baseline_search_first_page_sql": lambda: _old_page(shop, 1, "whale"),
    }
    result: dict[str, Any] = {"assets": n, "last_page": last, "take_anchors_ms": sorted(took)[1]}
    for name, call in cases.items():
        # The baselines take seconds a page at 1M: a few runs show it.
        slow = name.startswith("baseline") or name.endswith("without_anchors")
        runs = min(RUNS, 8) if slow and n > 100_000 else RUNS
        s = result[name] = summary(_time(call, runs))
        print(f"  {name:32s} p50 {s['p50_ms']:7.1f} ms   p95 {s['p95_ms']:7.1f} ms", flush=True)
    return result


def run() -> dict[str, Any]:
    from django.db import connection

    db_name = use_bench_database()
    result: dict[str, Any] = {"database": f"{connection.vendor} ({db_name})"}
    for label, size in (("small", SMALL), ("big", ASSETS)):
        shop, key = _shop(f"Bench big shop {size}")
        _seed(shop, size)
        print(f"{label} shop: {size:,} generated assets ({connection.vendor})", flush=True)
        result[label] = _cases(shop, key, size)
    result["machine"] = machine_load()
    print(result["machine"])
    big, small = result["big"], result["small"]
    result["verdicts"] = [
        verdict(f"first page p95 at {ASSETS:,}", big["first_page"]["p95_ms"], TARGET_MS),
        verdict(f"deep page by cursor p95 at {ASSETS:,}", big["deep_page_by_cursor"]["p95_ms"], 20),
        verdict(f"deep page by number p95 at {ASSETS:,}", big["deep_page_by_number"]["p95_ms"], 20),
        verdict(
            f"middle page by number p95 at {ASSETS:,}", big["middle_page_by_number"]["p95_ms"], 20
        ),
        verdict(f"search first page p95 at {ASSETS:,}", big["search_first_page"]["p95_ms"], 20),
    ]
    for name in ("first_page", "deep_page_by_cursor"):
        # Flat: the big shop's median within 2 ms of the small one's (p95 on a shared 2-core
        # machine is mostly other processes).
        grew = big[name]["p50_ms"] - small[name]["p50_ms"]
        line = (
            f"{'PASS' if grew <= 2 else 'MISS'} {name} flat: p50 {small[name]['p50_ms']} ms at "
            f"{SMALL:,}, {big[name]['p50_ms']} ms at {ASSETS:,} (target: ≤ 2 ms more)"
        )
        print(line)
        result["verdicts"].append(line)
    return result
