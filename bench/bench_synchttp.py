"""Synchronous API routes over HTTP against the job's own time (issue 18, goals 2 and 3).

The production layout, for real: gunicorn with studio/gunicorn.conf.py (gthread) and a real
`celery worker` subprocess (prefork, concurrency 1) on a Redis broker and PostgreSQL. A client in
this process sends, one at a time, (1) POST /ai-generations/generate (seed 000, one 1024²
builtin image) and (2) POST /v1/images/remove-background (seed 001, an uploaded 1024² product
photo from bench/bgset.py), and reads each request's Job row (created_at, started_at,
finished_at) from the database. Background removal is also timed in this process on the same
photos, once per round of requests (generations.imageops.background.remove_background, the
function; and with the cut-out's PNG encoding, as the job does it).

Goal 2: HTTP − job (started_at → finished_at) ≤ 10 ms p50. Goal 3: background removal over HTTP
≤ 1.3× the function, p50. Baselines served side by side in the same run, each by its own
gunicorn (bench/synchttp_wsgi.py), requests rotating between them: `poll` (the waiter's
no-Redis short polling) and `growing_poll` (the wait before issue 18).
Per request the time is split at the row's timestamps (one machine, one clock): before the row
exists (HTTP parsing, auth, upload), created → started (commit, broker, worker pickup, claim),
the job, finished → answer (commit, announcement, wake-up, the answer's reads and encoding).

Environment: BENCH_PG (postgres://postgres@127.0.0.1:5432), BENCH_SYNCHTTP_DB (syncbench_bench,
kept and migrated), BENCH_SYNCHTTP_REDIS (redis://127.0.0.1:6379/10, flushed),
BENCH_SYNCHTTP_RUNS (30 per route and wait), BENCH_SYNCHTTP_WARMUP (3),
BENCH_SYNCHTTP_WAITS (pubsub,poll,growing_poll).
"""

from __future__ import annotations

import io
import logging
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.support import migrate_and_seed, percentile

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "studio" / "gunicorn.conf.py"
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432").rstrip("/")
DB_NAME = os.environ.get("BENCH_SYNCHTTP_DB", "syncbench_bench")
REDIS = os.environ.get("BENCH_SYNCHTTP_REDIS", "redis://127.0.0.1:6379/10")
RUNS = int(os.environ.get("BENCH_SYNCHTTP_RUNS", "30"))
WARMUP = int(os.environ.get("BENCH_SYNCHTTP_WARMUP", "3"))
WAITS = os.environ.get("BENCH_SYNCHTTP_WAITS", "pubsub,poll,growing_poll").split(",")
SHOTS = 3  # product photos cycled through (bgset.make_shot 0..2 at 1024²)
SIZE = 1024
GOAL2_MS = 10.0
GOAL3_RATIO = 1.3

SEED_SCRIPT = r"""
import json, django
django.setup()
from studio import apikeys
from studio.actions import create_shop

shop = create_shop("Bench sync HTTP", plan_budget_cents=10**9)
shop.api_rate_limit_per_minute = 10**9
shop.save(update_fields=["api_rate_limit_per_minute"])
key = apikeys.create_api_key(shop, scopes=["ai:generate", "ai:bg-remove"], name="bench").raw
print("SEED " + json.dumps({"key": key, "shop": str(shop.pk)}))
"""

JOB_ROW = (
    "SELECT id, status, created_at, started_at, finished_at, error FROM generations_job "
    "WHERE shop_id = %s ORDER BY created_at DESC LIMIT 1"
)


def _skip(reason: str) -> dict[str, Any]:
    print(f"SKIP synchttp: {reason}")
    return {"skipped": reason}


def _services() -> str:
    try:
        import psycopg

        with psycopg.connect(f"{PG}/postgres", autocommit=True, connect_timeout=3) as conn:
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (DB_NAME,)
            ).fetchone()
            if not exists:
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


def _gunicorn(wait: str, port: int, env: dict[str, str], log: Path) -> subprocess.Popen:
    app = "studio.wsgi:application" if wait == "pubsub" else "bench.synchttp_wsgi:application"
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", str(CONFIG), app],
            cwd=ROOT,
            env={**env, "GUNICORN_BIND": f"127.0.0.1:{port}", "BENCH_SYNC_WAIT": wait},
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def _wait_up(base: str, proc: subprocess.Popen, log: Path) -> None:
    import httpx

    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            if httpx.get(f"{base}/api/openapi.json", timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn not up on {base}:\n{log.read_text(errors='replace')[-3000:]}")


def _png(array: Any) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(array).save(buf, "PNG", compress_level=3)
    return buf.getvalue()


def _ms(seconds: float) -> float:
    return seconds * 1000


class Sample:
    """One request: the client's wall time and the job row's timestamps (epoch seconds)."""

    def __init__(self, sent: float, http_ms: float, received: float, row: tuple) -> None:
        _id, _status, created, started, finished, _error = row
        self.http = http_ms
        self.job = _ms((finished - started).total_seconds())
        self.gap = http_ms - self.job
        self.front = _ms(created.timestamp() - sent)
        self.pickup = _ms((started - created).total_seconds())
        self.tail = _ms(received - finished.timestamp())


def _request(client: Any, cursor: Any, shop: str, send: Any) -> Sample:
    sent, started = time.time(), time.perf_counter()
    response = send(client)
    http_ms = _ms(time.perf_counter() - started)
    received = time.time()
    if response.status_code != 200:
        raise RuntimeError(f"{response.request.url}: {response.status_code} {response.text[:400]}")
    row = cursor.execute(JOB_ROW, (shop,)).fetchone()
    if row is None or row[1] != "completed":
        raise RuntimeError(f"job row {row!r}")
    return Sample(sent, http_ms, received, row)


def _stats(samples: list[Sample], field: str) -> dict[str, float]:
    values = [getattr(s, field) for s in samples]
    return {"p50": round(percentile(values, 50), 1), "p95": round(percentile(values, 95), 1)}


def _loop(
    bases: dict[str, str], key: str, cursor: Any, shop: str, send: Any, also: Any = None
) -> dict[str, list[Sample]]:
    """WARMUP + RUNS requests per wait, rotating between the waits (so load drifts on all);
    `also(i)` runs after each round's requests (the in-process function, timed alike)."""
    import httpx

    clients = {
        wait: httpx.Client(base_url=base, headers={"x-api-key": key}, timeout=200)
        for wait, base in bases.items()
    }
    samples: dict[str, list[Sample]] = {wait: [] for wait in bases}
    waits = list(bases)
    try:
        for i in range(WARMUP + RUNS):
            order = waits[i % len(waits) :] + waits[: i % len(waits)]
            for wait in order:
                sample = _request(clients[wait], cursor, shop, lambda c, i=i: send(c, i))
                if i >= WARMUP:
                    samples[wait].append(sample)
            if also is not None:
                also(i)
    finally:
        for client in clients.values():
            client.close()
    return samples


class FunctionTimes:
    """Background removal in this process on the request's photo, once per round of requests
    (so it sees the same machine load): the function, and the function plus the cut-out's PNG
    encoding (what the job runs between loading its image and storing the result)."""

    def __init__(self, shots: list[Any]) -> None:
        from generations.imageops.background import remove_background

        self.shots = shots
        self.function: list[float] = []
        self.with_png: list[float] = []
        remove_background(shots[0])  # warm-up (numba compilation of pymatting)

    def __call__(self, i: int) -> None:
        from generations.imageops.background import remove_background
        from generations.imageops.engine import encode_image

        if i < WARMUP:
            return
        started = time.perf_counter()
        result = remove_background(self.shots[i % len(self.shots)])
        self.function.append(_ms(time.perf_counter() - started))
        encode_image(result.rgba)
        self.with_png.append(_ms(time.perf_counter() - started))


def _print_route(name: str, samples: dict[str, list[Sample]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    print(f"\n{name}: p50 / p95 ms over {RUNS} requests each")
    head = ("wait", "HTTP", "job", "HTTP−job", "before row", "row→start", "finish→answer")
    print(f"  {head[0]:13s}" + "".join(f"{h:>17s}" for h in head[1:]))
    for wait, rows in samples.items():
        figures = {f: _stats(rows, f) for f in ("http", "job", "gap", "front", "pickup", "tail")}
        out[wait] = figures
        print(
            f"  {wait:13s}" + "".join(f"{v['p50']:8.1f} /{v['p95']:7.1f}" for v in figures.values())
        )
    return out


def run() -> dict[str, Any]:
    reason = _services()
    if reason:
        return _skip(reason)
    import psycopg

    from bench import bgset

    logging.getLogger("httpx").setLevel(logging.WARNING)  # a line per request otherwise
    from tests.support import workers

    data_dir = Path(tempfile.mkdtemp(prefix="bench-synchttp-"))
    media = data_dir / "media"
    env = {
        **os.environ,
        "DATABASE_URL": f"{PG}/{DB_NAME}",
        "CELERY_BROKER_URL": REDIS,
        "CACHE_URL": REDIS,
        "DEBUG": "0",
        "SECRET_KEY": "bench-synchttp-not-secret-" + "x" * 40,
        "ALLOWED_HOSTS": "127.0.0.1",
        "STUDIO_DATA_DIR": str(data_dir),
        "MEDIA_ROOT": str(media),
        "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "studio.settings",
        "PYTHONPATH": str(ROOT),
    }
    queue = workers.private_queue("studio-synchttp")
    env["CELERY_TASK_DEFAULT_QUEUE"] = queue
    seed = migrate_and_seed(env, SEED_SCRIPT)
    shots = [bgset.make_shot(i, size=SIZE).image for i in range(SHOTS)]
    pngs = [_png(shot) for shot in shots]
    in_process = FunctionTimes(shots)

    worker = workers.start_worker(
        queue=queue, log_path=data_dir / "worker.log", pool="prefork", env=env
    )
    servers: dict[str, subprocess.Popen] = {}
    bases: dict[str, str] = {}
    load_before = " ".join(f"{x:.2f}" for x in os.getloadavg())
    try:
        for wait in WAITS:
            port = _free_port()
            log = data_dir / f"gunicorn-{wait}.log"
            servers[wait] = _gunicorn(wait, port, env, log)
            bases[wait] = f"http://127.0.0.1:{port}"
        for wait, base in bases.items():
            _wait_up(base, servers[wait], data_dir / f"gunicorn-{wait}.log")
        with psycopg.connect(f"{PG}/{DB_NAME}", autocommit=True) as conn:
            cursor = conn.cursor()
            generate = _loop(
                bases,
                seed["key"],
                cursor,
                seed["shop"],
                lambda c, i: c.post(
                    "/ai-generations/generate",
                    json={
                        "prompt": f'teal and gold waves poster, "bench {i}"',
                        "numberResults": 1,
                        "width": SIZE,
                        "height": SIZE,
                        "model": "builtin:procedural",
                    },
                ),
            )
            cutout = _loop(
                bases,
                seed["key"],
                cursor,
                seed["shop"],
                lambda c, i: c.post(
                    "/v1/images/remove-background",
                    files={"input_image": ("shot.png", pngs[i % SHOTS], "image/png")},
                ),
                also=in_process,
            )
    finally:
        for proc in servers.values():
            proc.terminate()
        for proc in servers.values():
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        worker.stop()
    load_after = " ".join(f"{x:.2f}" for x in os.getloadavg())
    shutil.rmtree(data_dir, ignore_errors=True)
    function, with_png = in_process.function, in_process.with_png

    result: dict[str, Any] = {
        "runs": RUNS,
        "load_average": {"before": load_before, "after": load_after},
        "generate": _print_route(
            "POST /ai-generations/generate (1 builtin:procedural 1024² image)", generate
        ),
        "remove_background": _print_route(
            "POST /v1/images/remove-background (1024² product photo upload)", cutout
        ),
    }
    fn = {"p50": round(statistics.median(function), 1), "p95": round(percentile(function, 95), 1)}
    fn_png = {
        "p50": round(statistics.median(with_png), 1),
        "p95": round(percentile(with_png, 95), 1),
    }
    result["function"] = fn
    result["function_with_png"] = fn_png
    print(
        f"\nin process, same photos, between the requests: remove_background p50 {fn['p50']} / p95 {fn['p95']} ms; "
        f"with the cut-out's PNG encoding p50 {fn_png['p50']} / p95 {fn_png['p95']} ms"
    )
    print(f"load average (1, 5, 15 min) before {load_before}, after {load_after}")
    verdicts = []
    for wait in WAITS:
        for route in ("generate", "remove_background"):
            gap = result[route][wait]["gap"]["p50"]
            label = "" if wait == "pubsub" else f" [baseline: {wait}]"
            line = (
                f"{'PASS' if gap <= GOAL2_MS else 'MISS'} goal 2 {route} HTTP − job p50: "
                f"{gap:.1f} ms (target ≤ {GOAL2_MS:g} ms){label}"
            )
            verdicts.append(line)
            print(line)
    for wait in WAITS:
        http = result["remove_background"][wait]["http"]["p50"]
        ratio = http / fn["p50"]
        result["remove_background"][wait]["ratio_to_function"] = round(ratio, 2)
        label = "" if wait == "pubsub" else f" [baseline: {wait}]"
        line = (
            f"{'PASS' if ratio <= GOAL3_RATIO else 'MISS'} goal 3 remove-background HTTP / "
            f"function p50: ×{ratio:.2f} ({http:.1f} / {fn['p50']:.1f} ms; target ≤ "
            f"×{GOAL3_RATIO:g}; ×{http / fn_png['p50']:.2f} of function + PNG){label}"
        )
        verdicts.append(line)
        print(line)
    result["verdicts"] = verdicts
    return result
