"""Soak: a bounded, mixed load on the production shape for a long while, watching for errors,
latency drift and memory growth.

gunicorn (studio/gunicorn.conf.py: gthread, 2 × 4 threads) + a prefork Celery worker with embedded beat, on PostgreSQL and Redis (broker,
cache, rate limits), local file storage. A load process paces a fixed mix at about RATE requests
a second (not a throughput test): logged-in pages (dashboard, library, search, jobs), public
pages (gallery, a buy link), API reads (library, usage, job status), signed mockup URLs (mostly
cache hits, some fresh renders, with a small per-shop render cache so eviction runs), and an
async API generation every JOB_EVERY seconds. Every SAMPLE seconds it records the resident
memory of the web processes and of the worker processes.

Reports: requests, server errors (5xx and failed connections) and unexpected 4xx, p50/p95 per
kind and per minute, jobs completed/failed, and memory over time (first vs last vs max sample).
Target: 0 errors, no upward memory trend after warm-up.

`python -m bench soak` runs 10 minutes; `python -m bench soak --seconds 120` (or
BENCH_SOAK_SECONDS) a shorter run. Environment: BENCH_PG (default postgres://postgres@127.0.0.1:5432),
BENCH_SOAK_DB (database, recreated; default studio_soak), BENCH_SOAK_REDIS (flushed; default
redis://127.0.0.1:6379/14), BENCH_SOAK_RATE (requests/s, default 20).
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from bench.support import migrate_and_seed

ROOT = Path(__file__).resolve().parent.parent
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432").rstrip("/")
DB_NAME = os.environ.get("BENCH_SOAK_DB", "studio_soak")
REDIS = os.environ.get("BENCH_SOAK_REDIS", "redis://127.0.0.1:6379/14")
SECONDS = float(os.environ.get("BENCH_SOAK_SECONDS", "600"))
RATE = float(os.environ.get("BENCH_SOAK_RATE", "20"))
THREADS = 6
JOB_EVERY = 4.0
SAMPLE = 15.0
# Memory is compared from a third of the run on: the per-process render caches (MOCKUP_CACHE_MB)
# and PostgreSQL connections fill up first, by design.
PASSWORD = "soak-password-2026"  # noqa: S105 - a throwaway account in a throwaway database

SEED_SCRIPT = r"""
import io, json, django
django.setup()
from PIL import Image, ImageDraw
from django.db import transaction
from generations.library import store_asset
from generations.models import Asset
from mockups.actions import create_listing
from mockups.products import find_template
from studio import actions, apikeys
from studio.models import Membership

user = actions.sign_up("soak@example.com", PASSWORD, "Soak shop")
shop = Membership.objects.get(user=user).shop
actions.grant_credits(shop, wallet_cents=10**8, memo="soak")
shop.api_rate_limit_per_minute = 10**6
shop.save(update_fields=["api_rate_limit_per_minute"])
key = apikeys.create_api_key(shop, scopes=["ai:generate", "library:read"]).raw
words = ["harbour", "fox", "lantern", "meadow", "comet", "tide", "orchard", "beacon"]
assets = []
with transaction.atomic():
    for i in range(120):
        img = Image.new("RGB", (256, 256), (i * 7 % 255, 90, 200 - i % 150))
        ImageDraw.Draw(img).ellipse((40, 40, 216, 216), fill=(250, 200, 40))
        buf = io.BytesIO(); img.save(buf, "PNG")
        assets.append(store_asset(shop, buf.getvalue(), kind=Asset.Kind.GENERATED,
                                  prompt=f"a {words[i % 8]} poster {i}", user=user,
                                  model="builtin:procedural", is_public=i % 3 == 0))
template = find_template(shop, "tshirt")
listing = create_listing(shop, template=template, asset=assets[0], variant="", placement={},
                         title="Soak tee", price_cents=2500, sizes=["S", "M"])
print("SEED " + json.dumps({
    "key": key, "shop": shop.slug, "secret": shop.url_signing_secret,
    "assets": [a.file.name for a in assets[:20]], "asset_ids": [str(a.id) for a in assets[:20]],
    "listing": listing.token,
}))
"""


# --- the load process -----------------------------------------------------------------------------


def _signed(seed: dict[str, Any], origin: str, name: str, **params: Any) -> str:
    """A signed mockup URL, made as a client would from the documented scheme
    (mockups/signing.py): HMAC-SHA256 of path + "?" + the sorted, RFC 3986-quoted parameters."""
    import hashlib
    import hmac
    from urllib.parse import quote, urlencode

    items = {"asset": f"{origin}/media/{name}", "shop": seed["shop"], **params}
    pairs = sorted((k, str(v)) for k, v in items.items())
    canonical = "/m/tshirt?" + "&".join(
        f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in pairs
    )
    sig = hmac.new(seed["secret"].encode(), canonical.encode(), hashlib.sha256).hexdigest()
    return "/m/tshirt?" + urlencode([*pairs, ("sig", sig)], quote_via=quote, safe="-_.~")


def _login(client: Any) -> None:
    page = client.get("/accounts/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    response = client.post(
        "/accounts/login/",
        data={"username": "soak@example.com", "password": PASSWORD, "csrfmiddlewaretoken": token},
        headers={"Referer": str(client.base_url) + "/accounts/login/"},
    )
    if response.status_code != 302:
        raise RuntimeError(f"soak log-in failed: {response.status_code}")


def _requests(seed: dict[str, Any], origin: str, rng: random.Random) -> tuple[str, str, dict]:
    """(kind, path, extra) of the next request in the mix."""
    roll = rng.random()
    api = {"x-api-key": seed["key"]}
    if roll < 0.30:
        path = rng.choice(
            ["/", "/library/", "/library/?q=fox", "/library/?q=harbour+poster", "/jobs/"]
            + [f"/library/{i}/" for i in seed["asset_ids"][:5]]
        )
        return "page", path, {"session": True}
    if roll < 0.40:
        return "public", rng.choice(["/gallery/", f"/buy/{seed['listing']}/"]), {}
    if roll < 0.65:
        path = rng.choice(["/v0/images/library", "/v0/images/library?limit=20", "/v0/usage"])
        return "api", path, {"headers": api}
    name = rng.choice(seed["assets"])
    if roll < 0.90:  # the same few URLs again and again: cache hits
        return "mockup-hit", _signed(seed, origin, name, w=400, x="0.5"), {}
    x = f"{rng.uniform(0.3, 0.7):.4f}"  # a fresh placement: a render (and a charge)
    return "mockup-render", _signed(seed, origin, name, w=400, x=x), {}


def _worker_thread(
    origin: str, seed: dict[str, Any], until: float, interval: float, n: int, out: list
) -> None:
    import httpx

    rng = random.Random(n)
    with (
        httpx.Client(base_url=origin, timeout=60) as session,
        httpx.Client(base_url=origin, timeout=60) as plain,
    ):
        _login(session)
        next_at = time.monotonic() + rng.uniform(0, interval)
        while True:
            now = time.monotonic()
            if now >= until:
                return
            if now < next_at:
                time.sleep(next_at - now)
            next_at += interval
            kind, path, extra = _requests(seed, origin, rng)
            client = session if extra.get("session") else plain
            started = time.perf_counter()
            try:
                response = client.get(path, headers=extra.get("headers"))
                status = response.status_code
            except httpx.HTTPError as exc:
                status = f"{type(exc).__name__}"
            out.append((time.time(), kind, (time.perf_counter() - started) * 1000, status))


def _jobs_thread(origin: str, seed: dict[str, Any], until: float, out: list, jobs: list) -> None:
    import httpx

    headers = {"x-api-key": seed["key"]}
    rng = random.Random(99)
    with httpx.Client(base_url=origin, timeout=60, headers=headers) as client:
        while time.monotonic() < until:
            started = time.perf_counter()
            body = {
                "prompt": f"a {rng.choice(['teal', 'amber', 'violet'])} comet over a quiet tide",
                "resolution": "low",
                "sampleCount": 1,
            }
            try:
                response = client.post("/v0/images/generations?async=true", json=body)
                status = response.status_code
                if status == 200:
                    jobs.append(response.json()["data"]["id"])
            except httpx.HTTPError as exc:
                status = type(exc).__name__
            out.append((time.time(), "job-submit", (time.perf_counter() - started) * 1000, status))
            if jobs:  # and poll an earlier one, as a client would
                job = jobs[max(0, len(jobs) - 3)]
                started = time.perf_counter()
                try:
                    status = client.get(f"/v0/images/generations/{job}").status_code
                except httpx.HTTPError as exc:
                    status = type(exc).__name__
                out.append(
                    (time.time(), "job-poll", (time.perf_counter() - started) * 1000, status)
                )
            time.sleep(JOB_EVERY)


def _load(origin: str, seed: dict[str, Any], seconds: float, queue: Any) -> None:
    until = time.monotonic() + seconds
    out: list = []
    jobs: list = []
    interval = THREADS / RATE
    threads = [
        threading.Thread(target=_worker_thread, args=(origin, seed, until, interval, n, out))
        for n in range(THREADS)
    ]
    threads.append(threading.Thread(target=_jobs_thread, args=(origin, seed, until, out, jobs)))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    queue.put((out, jobs))


# --- processes and memory -----------------------------------------------------------------------


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            found += [int(c) for c in (task / "children").read_text().split()]
    return found


def _tree(pid: int) -> list[int]:
    pids, todo = [], [pid]
    while todo:
        p = todo.pop()
        pids.append(p)
        todo += _children(p)
    return pids


def _rss_mb(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return round(total / 1024, 1)


def _cpu_s(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except OSError:
            pass
    return total / os.sysconf("SC_CLK_TCK")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _services() -> str:
    try:
        import psycopg

        with psycopg.connect(f"{PG}/postgres", autocommit=True, connect_timeout=3) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
            conn.execute(f"CREATE DATABASE {DB_NAME}")
    except Exception as exc:
        return f"PostgreSQL is not reachable at {PG} ({exc})"
    try:
        import redis

        client = redis.Redis.from_url(REDIS, socket_connect_timeout=2)
        client.ping()
        client.flushdb()
    except Exception as exc:
        return f"Redis is not reachable at {REDIS} ({exc})"
    return ""


def _p(values: list[float], pct: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(len(ordered) * pct / 100))], 1)


def _job_outcomes(env: dict[str, str], jobs: list[str]) -> dict[str, int]:
    script = (
        "import django, json, sys; django.setup()\n"
        "from generations.models import Job\n"
        "from django.db.models import Count\n"
        "rows = Job.objects.values('status').annotate(n=Count('id'))\n"
        "print('JOBS ' + json.dumps({r['status']: r['n'] for r in rows}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True
    )
    line = next((x for x in done.stdout.splitlines() if x.startswith("JOBS ")), "JOBS {}")
    return json.loads(line[5:])


def run() -> dict[str, Any]:
    reason = _services()
    if reason:
        print(f"SKIP soak: {reason}")
        return {"skipped": reason}
    data_dir = Path(tempfile.mkdtemp(prefix="studio-soak-"))
    port = _free_port()
    origin = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "DATABASE_URL": f"{PG}/{DB_NAME}",
        "CELERY_BROKER_URL": REDIS,
        "CACHE_URL": REDIS,
        "DEBUG": "0",
        "SECRET_KEY": "soak-not-secret-" + "x" * 40,
        "ALLOWED_HOSTS": "127.0.0.1",
        "STUDIO_DATA_DIR": str(data_dir),
        "MEDIA_ROOT": str(data_dir / "media"),
        "STORAGE_PUBLIC_ORIGIN": origin + "/media",
        "SESSION_COOKIE_SECURE": "0",
        "LOG_LEVEL": "WARNING",
        # Small enough that the soak's fresh renders make the cache evict.
        "MOCKUP_RENDER_CACHE_MB_PER_SHOP": "8",
        "DJANGO_SETTINGS_MODULE": "studio.settings",
        "PYTHONPATH": str(ROOT),
    }
    python = sys.executable
    seed = migrate_and_seed(env, f"PASSWORD = {PASSWORD!r}\n" + SEED_SCRIPT)
    # The shipped web configuration (studio/gunicorn.conf.py: gthread), 2 workers × 4 threads.
    web_log = (data_dir / "web.log").open("wb")
    web = subprocess.Popen(
        [python, "-m", "gunicorn", "-c", "studio/gunicorn.conf.py", "studio.wsgi:application"],
        cwd=ROOT,
        env={
            **env,
            "GUNICORN_BIND": f"127.0.0.1:{port}",
            "WEB_CONCURRENCY": "2",
            "GUNICORN_THREADS": "4",
        },
        stdout=web_log,
        stderr=subprocess.STDOUT,
    )
    worker_log = (data_dir / "worker.log").open("wb")
    worker = subprocess.Popen(
        [
            python,
            "-m",
            "celery",
            "-A",
            "studio",
            "worker",
            "--beat",
            f"--schedule={data_dir / 'beat-schedule'}",
            "--pool=prefork",
            "--concurrency=1",
            "--loglevel=WARNING",
        ],
        cwd=ROOT,
        env=env,
        stdout=worker_log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    samples: list[dict[str, Any]] = []
    try:
        for _ in range(200):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                time.sleep(0.1)
        ctx = multiprocessing.get_context("spawn")
        queue = ctx.Queue()
        load = ctx.Process(target=_load, args=(origin, seed, SECONDS, queue))
        started = time.monotonic()
        load.start()
        import queue as queues

        result = None
        while result is None and time.monotonic() - started < SECONDS + 120:
            web_pids, worker_pids = _tree(web.pid), _tree(worker.pid)
            samples.append(
                {
                    "t": round(time.monotonic() - started),
                    "web_rss_mb": _rss_mb(web_pids),
                    "worker_rss_mb": _rss_mb(worker_pids),
                    "web_cpu_s": round(_cpu_s(web_pids), 1),
                    "worker_cpu_s": round(_cpu_s(worker_pids), 1),
                    "load": round(os.getloadavg()[0], 2),
                }
            )
            # The load process can only exit once its results are read: wait on the queue.
            with contextlib.suppress(queues.Empty):
                result = queue.get(timeout=SAMPLE)
        if result is None:
            raise RuntimeError("the load process did not report back")
        out, jobs = result
        load.join()
        time.sleep(5)  # let the last jobs finish
        outcomes = _job_outcomes(env, jobs)
    finally:
        web.terminate()
        os.killpg(worker.pid, 15)
        web.wait(timeout=30)
        try:
            worker.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, 9)
        worker_log.close()
        web_log.close()
    return _report(out, samples, outcomes, data_dir)


def _report(
    out: list, samples: list[dict[str, Any]], outcomes: dict[str, int], data_dir: Path
) -> dict[str, Any]:
    t0 = min(r[0] for r in out)
    errors = [r for r in out if not isinstance(r[3], int) or r[3] >= 500]
    expected_4xx = {404}
    odd_4xx = [r for r in out if isinstance(r[3], int) and 400 <= r[3] < 500]
    odd_4xx = [r for r in odd_4xx if r[3] not in expected_4xx]
    kinds: dict[str, Any] = {}
    for kind in sorted({r[1] for r in out}):
        lat = [r[2] for r in out if r[1] == kind]
        kinds[kind] = {"n": len(lat), "p50_ms": _p(lat, 50), "p95_ms": _p(lat, 95)}
    minutes: list[dict[str, Any]] = []
    for m in range(int((max(r[0] for r in out) - t0) // 60) + 1):
        rows = [r for r in out if m * 60 <= r[0] - t0 < (m + 1) * 60]
        lat = [r[2] for r in rows]
        minutes.append(
            {
                "minute": m + 1,
                "requests": len(rows),
                "errors": sum(1 for r in rows if not isinstance(r[3], int) or r[3] >= 500),
                "p95_ms": _p(lat, 95),
            }
        )
    after = [s for s in samples if s["t"] >= SECONDS / 3] or samples
    result = {
        "seconds": SECONDS,
        "rate_target": RATE,
        "requests": len(out),
        "rps": round(len(out) / max(1.0, max(r[0] for r in out) - t0), 1),
        "errors": len(errors),
        "error_examples": [f"{r[1]} {r[3]}" for r in errors[:5]],
        "unexpected_4xx": len(odd_4xx),
        "unexpected_4xx_examples": [f"{r[1]} {r[3]}" for r in odd_4xx[:5]],
        "p50_ms": _p([r[2] for r in out], 50),
        "p95_ms": _p([r[2] for r in out], 95),
        "kinds": kinds,
        "minutes": minutes,
        "jobs": outcomes,
        "memory": {
            "web_first_mb": after[0]["web_rss_mb"],
            "web_last_mb": samples[-1]["web_rss_mb"],
            "web_max_mb": max(s["web_rss_mb"] for s in samples),
            "worker_first_mb": after[0]["worker_rss_mb"],
            "worker_last_mb": samples[-1]["worker_rss_mb"],
            "worker_max_mb": max(s["worker_rss_mb"] for s in samples),
        },
        "samples": samples,
        "load_avg": [s["load"] for s in samples],
        "data_dir": str(data_dir),
    }
    _print(result)
    return result


def _print(r: dict[str, Any]) -> None:
    print(
        f"soak: {r['requests']} requests in {r['seconds']:.0f} s ({r['rps']} req/s), "
        f"{r['errors']} errors, {r['unexpected_4xx']} unexpected 4xx, "
        f"p50 {r['p50_ms']} ms, p95 {r['p95_ms']} ms"
    )
    for kind, k in r["kinds"].items():
        print(f"  {kind:14} n={k['n']:6}  p50 {k['p50_ms']:7} ms  p95 {k['p95_ms']:7} ms")
    print("  minute  requests  errors  p95 ms")
    for m in r["minutes"]:
        print(f"  {m['minute']:6}  {m['requests']:8}  {m['errors']:6}  {m['p95_ms']:6}")
    print("  t(s)  web RSS MB  worker RSS MB  web CPU s  worker CPU s  load")
    for s in r["samples"]:
        print(
            f"  {s['t']:4}  {s['web_rss_mb']:10}  {s['worker_rss_mb']:13}  "
            f"{s['web_cpu_s']:9}  {s['worker_cpu_s']:12}  {s['load']}"
        )
    mem = r["memory"]
    print(
        f"memory from a third of the run to its end: web {mem['web_first_mb']} → {mem['web_last_mb']} MB "
        f"(max {mem['web_max_mb']}), worker {mem['worker_first_mb']} → {mem['worker_last_mb']} MB "
        f"(max {mem['worker_max_mb']})"
    )
    print(f"jobs: {r['jobs']}")
    flat = (
        mem["web_last_mb"] <= mem["web_first_mb"] * 1.15 + 10
        and mem["worker_last_mb"] <= mem["worker_first_mb"] * 1.15 + 10
    )
    ok = r["errors"] == 0 and flat
    print(
        f"{'PASS' if ok else 'MISS'} soak: 0 errors (have {r['errors']}), memory flat after "
        f"the first third ({'yes' if flat else 'no'}); load average {min(r['load_avg'] or [0])}–"
        f"{max(r['load_avg'] or [0])} on {os.cpu_count()} cores"
    )
    if statistics.mean([m["p95_ms"] for m in r["minutes"]] or [0]) == 0:
        print("(no latency recorded)")
