"""API throughput and latency under gunicorn with PostgreSQL and Redis, plus the per-request cost
of authentication + rate limiting.

Targets: GET /v0/images/generations/:jobId and GET /v0/images/library with auth and rate limiting
on: >= 500 requests/s and p95 <= 30 ms on this 2-core machine; auth + rate limit <= 1 ms/request.
Issue 18: those reads and GET /v0/usage at >= 0.35x the requests/s of bare Django (bench/bare_wsgi.py)
served by the same gunicorn command line in the same run.

It uses its own database (studio_bench or BENCH_DB, recreated each run) and Redis db 14, starts
the studio and the baseline side by side, each under the production gunicorn layout
(studio/gunicorn.conf.py: gthread, its workers, threads and access log), on 127.0.0.1, and drives
them with a bounded keep-alive load generator (asyncio, a separate process, 127.0.0.1 only).
The routes and the baseline take turns in short rounds, so that both sides of each ratio see
the same machine; a ratio is the median over the rounds of route ÷ the baseline's round next to
it. Skips with a message when PostgreSQL or Redis is not reachable.
Environment: BENCH_PG (default postgres://postgres@127.0.0.1:5432), BENCH_DB (database name,
default studio_bench; recreated, so give concurrent runs different names), BENCH_REDIS (default
redis://127.0.0.1:6379/14), BENCH_API_ROUNDS (default 4) of BENCH_SECONDS each (default 3),
BENCH_CONCURRENCY (default 8), WEB_CONCURRENCY / GUNICORN_THREADS (as in production).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.support import migrate_and_seed, services_cpu_s, workers_cpu_s

ROOT = Path(__file__).resolve().parent.parent
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432").rstrip("/")
REDIS = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/14")
DB_NAME = os.environ.get("BENCH_DB", "studio_bench")
SECONDS = float(os.environ.get("BENCH_SECONDS", "3"))
ROUNDS = int(os.environ.get("BENCH_API_ROUNDS", "4"))
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "8"))
CONFIG = ROOT / "studio" / "gunicorn.conf.py"
TARGET_RPS, TARGET_P95_MS, TARGET_OVERHEAD_MS = 500, 30.0, 1.0
TARGET_WORKER_MB = 120  # issue 18: a web worker's peak resident memory
TARGET_VS_BARE = 0.35  # issue 18: cheap authenticated reads ≥ 0.35× bare Django's req/s

SEED_SCRIPT = r"""
import json, io, time, django
django.setup()
from PIL import Image
from django.db import transaction
from generations.library import store_asset
from generations.models import Asset, Job
from studio import apikeys, ratelimit
from studio.actions import create_shop

shop = create_shop("Bench shop", plan_budget_cents=10**6)
shop.api_rate_limit_per_minute = 10**9  # counted on every request, never reached
shop.save(update_fields=["api_rate_limit_per_minute"])
key = apikeys.create_api_key(shop, scopes=["ai:generate", "library:read"]).raw
buf = io.BytesIO(); Image.new("RGB", (16, 16), (200, 30, 30)).save(buf, "PNG"); png = buf.getvalue()
job = Job.objects.create(shop=shop, kind="generate", status="completed", model="builtin:procedural",
                         params={"count": 4}, cost_cents=4)
with transaction.atomic():
    for i in range(4):
        store_asset(shop, png, kind=Asset.Kind.GENERATED, job=job, prompt=f"bench image {i}",
                    model="builtin:procedural")
    for i in range(300):
        store_asset(shop, png, kind=Asset.Kind.GENERATED, prompt=f"library image {i}",
                    model="builtin:procedural")

# Micro-benchmark: authentication (one indexed query, then the per-process key cache) + rate
# limiting (one Redis round trip) + the last-used check, per request.
record = apikeys.authenticate(key)
for _ in range(200):
    apikeys.authenticate(key); ratelimit.hit("bench-warm", 10**9)
n = 3000
started = time.perf_counter()
for _ in range(n):
    k = apikeys.authenticate(key)
    ratelimit.hit(f"key:{k.pk}", ratelimit.key_limit(k.shop.api_rate_limit_per_minute))
    apikeys.touch(k)
per_request_ms = (time.perf_counter() - started) * 1000 / n
print("SEED " + json.dumps({"key": key, "job": str(job.id), "overhead_ms": per_request_ms,
                            "redis": ratelimit.redis_url()}))
"""


def _skip(reason: str) -> dict[str, Any]:
    print(f"SKIP api: {reason}")
    return {"skipped": reason}


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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _client(
    port: int, paths: list[str], headers: str, deadline: float, out: list[float], errors: list[int]
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    i = 0
    try:
        while time.perf_counter() < deadline:
            path = paths[i % len(paths)]
            i += 1
            request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}\r\n"
            started = time.perf_counter()
            writer.write(request.encode())
            status_line = await reader.readline()
            if not status_line:
                # The server closed the keep-alive connection (a worker recycled after
                # max_requests, as in production): connect again and resend.
                writer.close()
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                i -= 1
                continue
            length = 0
            while True:
                line = await reader.readline()
                if line in (b"\r\n", b""):
                    break
                name, _, value = line.decode().partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            await reader.readexactly(length)
            out.append((time.perf_counter() - started) * 1000)
            status = int(status_line.split()[1])
            if status != 200:
                errors.append(status)
    finally:
        writer.close()


def _load(
    port: int, paths: list[str], key: str, seconds: float, concurrency: int, queue: Any
) -> None:
    async def main() -> tuple[list[float], list[int]]:
        latencies: list[float] = []
        errors: list[int] = []
        headers = f"x-api-key: {key}\r\n"
        deadline = time.perf_counter() + seconds
        await asyncio.gather(
            *(
                _client(port, paths, headers, deadline, latencies, errors)
                for _ in range(concurrency)
            )
        )
        return latencies, errors

    started = time.perf_counter()
    latencies, errors = asyncio.run(main())
    queue.put((latencies, errors, time.perf_counter() - started))


def _round(
    port: int, paths: list[str], key: str, seconds: float, master: int = 0
) -> tuple[list[float], list[int], float, float]:
    """One round of load: latencies, non-200 statuses, seconds, and the CPU seconds the
    server's side spent (the gunicorn's workers, PostgreSQL and Redis; not the load generator)."""
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_load, args=(port, paths, key, seconds, CONCURRENCY, queue))
    cpu = workers_cpu_s(master) + services_cpu_s() if master else 0.0
    proc.start()
    latencies, errors, elapsed = queue.get(timeout=seconds + 60)
    proc.join()
    cpu = workers_cpu_s(master) + services_cpu_s() - cpu if master else 0.0
    return latencies, errors, elapsed, cpu


def _summary(rounds: list[tuple[list[float], list[int], float, float]]) -> dict[str, Any]:
    latencies = sorted(x for r in rounds for x in r[0])
    elapsed = sum(r[2] for r in rounds)
    return {
        "requests": len(latencies),
        "rps": round(len(latencies) / elapsed, 1),
        "server_cpu_ms": round(sum(r[3] for r in rounds) * 1000 / max(len(latencies), 1), 3),
        "rounds_rps": [round(len(r[0]) / r[2], 1) for r in rounds],
        "p50_ms": round(statistics.median(latencies), 2),
        "p95_ms": round(latencies[int(len(latencies) * 0.95) - 1], 2),
        "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1], 2),
        "non_200": sum(len(r[1]) for r in rounds),
        "concurrency": CONCURRENCY,
    }


def _gunicorn(app: str, port: int, env: dict[str, str]) -> subprocess.Popen:
    """The studio, or the bare-Django baseline, under the production configuration; the access
    log (one line per request, as in production) goes to /dev/null."""
    return subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", str(CONFIG), "--log-level", "warning", app],
        cwd=ROOT,
        env={**env, "GUNICORN_BIND": f"127.0.0.1:{port}"},
        stdout=subprocess.DEVNULL,
    )


def _workers_peak_mb(master: subprocess.Popen) -> list[float]:
    """Peak resident memory (VmHWM) of each gunicorn worker, read before they are stopped."""
    try:
        pids = Path(f"/proc/{master.pid}/task/{master.pid}/children").read_text().split()
    except OSError:
        return []
    peaks = []
    for pid in pids:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        kb = next(int(x.split()[1]) for x in status.splitlines() if x.startswith("VmHWM:"))
        peaks.append(round(kb / 1024, 1))
    return peaks


def _wait_listening(port: int) -> None:
    for _ in range(100):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)


def run() -> dict[str, Any]:
    reason = _services()
    if reason:
        return _skip(reason)
    data_dir = tempfile.mkdtemp(prefix="studio-bench-api-")
    env = {
        **os.environ,
        "DATABASE_URL": f"{PG}/{DB_NAME}",
        "CELERY_BROKER_URL": REDIS,
        "CACHE_URL": REDIS,
        "DEBUG": "0",
        "SECRET_KEY": "bench-api-not-secret-" + "x" * 40,
        "ALLOWED_HOSTS": "127.0.0.1",
        "STUDIO_DATA_DIR": data_dir,
        "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "studio.settings",
        "PYTHONPATH": str(ROOT),
    }
    seed = migrate_and_seed(env, SEED_SCRIPT)
    port, bare_port = _free_port(), _free_port()
    gunicorn = _gunicorn("studio.wsgi", port, env)
    bare = _gunicorn("bench.bare_wsgi", bare_port, env)
    load_before = os.getloadavg()[0]
    results: dict[str, Any] = {
        "gunicorn": f"-c {CONFIG.relative_to(ROOT)}",
        "overhead_ms": round(seed["overhead_ms"], 3),
        "ratelimit_backend": "redis" if seed["redis"] else "db",
    }
    routes = {
        "job": (port, [f"/v0/images/generations/{seed['job']}"]),
        "library": (port, ["/v0/images/library", "/v0/images/library?page=2&limit=20"]),
        "usage": (port, ["/v0/usage"]),
    }
    timed: dict[str, list[Any]] = {name: [] for name in [*routes, "bare_django"]}
    ratios: dict[str, list[float]] = {name: [] for name in routes}
    try:
        _wait_listening(port)
        _wait_listening(bare_port)
        for target, paths in [*routes.values(), (bare_port, ["/ping"])]:
            _round(target, paths, seed["key"], 2.0)  # warm-up: connections, imports, caches
        for _ in range(ROUNDS):
            for name, (target, paths) in routes.items():
                measured = _round(target, paths, seed["key"], SECONDS, gunicorn.pid)
                baseline = _round(bare_port, ["/ping"], seed["key"], SECONDS, bare.pid)
                timed[name].append(measured)
                timed["bare_django"].append(baseline)
                ratios[name].append(
                    (len(measured[0]) / measured[2]) / (len(baseline[0]) / baseline[2])
                )
        results["worker_peak_rss_mb"] = _workers_peak_mb(gunicorn)
        results["bare_worker_peak_rss_mb"] = _workers_peak_mb(bare)
    finally:
        for server in (gunicorn, bare):
            server.terminate()
            server.wait(timeout=20)
    for name, rounds in timed.items():
        results[name] = _summary(rounds)
    results["loadavg_1m_before"] = round(load_before, 2)
    results["loadavg_1m_after"] = round(os.getloadavg()[0], 2)
    print(
        f"machine load average (1 min) before/after: {results['loadavg_1m_before']} / "
        f"{results['loadavg_1m_after']} on {os.cpu_count()} cores (other work on the machine "
        "competes with the server and the load generator)"
    )
    for name in ("job", "library"):
        r = results[name]
        ok = r["rps"] >= TARGET_RPS and r["p95_ms"] <= TARGET_P95_MS and r["non_200"] == 0
        print(
            f"{'PASS' if ok else 'MISS'} {name}: {r['rps']} req/s (target >= {TARGET_RPS}), "
            f"p50 {r['p50_ms']} ms, p95 {r['p95_ms']} ms (target <= {TARGET_P95_MS}), "
            f"p99 {r['p99_ms']} ms, {r['requests']} requests, {r['non_200']} non-200"
        )
    bare = results["bare_django"]
    print(
        f"bare Django (same gunicorn configuration, its rounds beside the routes'): "
        f"{bare['rps']} req/s ({', '.join(map(str, bare['rounds_rps']))}), p50 {bare['p50_ms']} ms"
    )
    for name in ("job", "library", "usage"):
        ratio = statistics.median(ratios[name])
        results[f"{name}_vs_bare"] = round(ratio, 3)
        results[f"{name}_vs_bare_rounds"] = [round(r, 3) for r in ratios[name]]
        cpu_ratio = bare["server_cpu_ms"] / max(results[name]["server_cpu_ms"], 1e-9)
        results[f"{name}_vs_bare_cpu"] = round(cpu_ratio, 3)
        print(
            f"{'PASS' if ratio >= TARGET_VS_BARE else 'MISS'} {name} vs bare Django: "
            f"×{ratio:.2f} median of {len(ratios[name])} rounds "
            f"({', '.join(f'×{r:.2f}' for r in ratios[name])}; {results[name]['rps']} req/s; "
            f"target ≥ ×{TARGET_VS_BARE}); server CPU per request "
            f"{results[name]['server_cpu_ms']} vs {bare['server_cpu_ms']} ms → ×{cpu_ratio:.2f}"
        )
    peaks = results["worker_peak_rss_mb"]
    if peaks:
        print(
            f"{'PASS' if max(peaks) <= TARGET_WORKER_MB else 'MISS'} gunicorn web workers' peak "
            f"RSS after the load: {', '.join(map(str, peaks))} MB (target ≤ {TARGET_WORKER_MB} "
            f"MB; bare Django's: {', '.join(map(str, results['bare_worker_peak_rss_mb']))} MB)"
        )
    ok = results["overhead_ms"] <= TARGET_OVERHEAD_MS
    print(
        f"{'PASS' if ok else 'MISS'} auth + rate limit ({results['ratelimit_backend']}): "
        f"{results['overhead_ms']} ms per request (target <= {TARGET_OVERHEAD_MS})"
    )
    return results
