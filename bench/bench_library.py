"""Library page with 100,000 assets in one shop on PostgreSQL: first page and a deep page.

Target (issue 2): p95 ≤ 50 ms server time for the first page and for a deep page reached by a
keyset cursor. Times the whole Django request (middleware, session, view, template) through the
test client; the rows are bulk-created once into the benchmark database (no files needed) and
kept for later runs. A prompt-word search and an HTMX scroll page are measured for information.
"""

from __future__ import annotations

import os
import random
import time
import uuid
from datetime import timedelta
from typing import Any

from bench.support import (
    Skip,
    machine_load,
    require_postgres,
    summary,
    test_client,
    use_bench_database,
    verdict,
)

ASSETS = int(os.environ.get("BENCH_LIBRARY_ASSETS", "100000"))
RUNS = int(os.environ.get("BENCH_LIBRARY_RUNS", "60"))
BATCH = 5000
WORDS = [
    "teal",
    "gold",
    "navy",
    "coral",
    "sunset",
    "mountain",
    "wave",
    "sticker",
    "poster",
    "badge",
    "retro",
    "minimal",
    "bold",
    "neon",
    "forest",
    "ocean",
    "desert",
    "city",
    "night",
    "morning",
    "cat",
    "fox",
    "owl",
    "whale",
    "rose",
    "fern",
    "citrus",
    "coffee",
]
MODELS = ("builtin:procedural", "gpt-image-1", "fal-ai/flux/dev", "stability/sdxl")


def _seed(shop: Any, user: Any, have: int) -> None:
    from django.utils import timezone

    from generations.models import Asset

    rng = random.Random(have)
    now = timezone.now()
    prefix = shop.storage_prefix
    todo = ASSETS - have
    print(f"creating {todo:,} assets …", flush=True)
    while todo > 0:
        rows = []
        for _ in range(min(BATCH, todo)):
            ident = uuid.uuid4()
            prompt = " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 9)))
            rows.append(
                Asset(
                    id=ident,
                    shop=shop,
                    kind=rng.choice(("generated", "generated", "generated", "upload", "derived")),
                    file=f"{prefix}assets/{ident.hex}/original.png",
                    thumbnail=f"{prefix}assets/{ident.hex}/thumb-thumb.webp",
                    content_type="image/png",
                    width=1024,
                    height=1024,
                    bytes=rng.randint(50_000, 3_000_000),
                    sha256=ident.hex * 2,
                    prompt=prompt,
                    model=rng.choice(MODELS),
                    seed=rng.randint(0, 2**31 - 1),
                    parameters={"width": 1024, "height": 1024, "count": 1},
                    created_by=user,
                    created_at=now - timedelta(seconds=rng.uniform(0, 365 * 86400)),
                    search_text=prompt,
                )
            )
        Asset.objects.bulk_create(rows, batch_size=1000)
        todo -= len(rows)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE generations_asset")


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
    from studio.models import Membership

    db_name = use_bench_database()
    email = "bench-library@example.com"
    user = get_user_model().objects.filter(username=email).first() or studio_actions.sign_up(
        email, "bench-library-password", "Bench library"
    )
    shop = Membership.objects.get(user=user).shop
    have = Asset.objects.filter(shop=shop).count()
    if have < ASSETS:
        started = time.perf_counter()
        _seed(shop, user, have)
        print(f"seeded in {time.perf_counter() - started:.1f} s")

    client = test_client()
    client.force_login(user)
    session = client.session
    session["current_shop_id"] = shop.id
    session.save()

    ordered = Asset.objects.filter(shop=shop).order_by("-created_at", "-id")
    deep_cursor = encode_cursor(ordered[ASSETS - 100])  # 100 rows from the oldest end
    mid_cursor = encode_cursor(ordered[ASSETS // 2])
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
        verdict("library first page p95", result["first_page"]["p95_ms"], 50),
        verdict("library deep page p95", result["deep_page"]["p95_ms"], 50),
    ]
    return result
