"""The design chat, end to end over HTTP: time from request to the first streamed token and to
the finished mockup, for the seed's request ("make a cozy cabin sticker and put it on a mug").

A gunicorn server (studio/gunicorn.conf.py, as in production) and a real `celery worker` (prefork, concurrency 1) share the
benchmark database and a media directory; this process is the client. Each run streams
POST /ai-generations/chat/stream (the AI SDK's UI Message Stream) and records when the response
headers, the first text delta, the mockup part and `finish` arrive, then fetches the mockup URL.
Runs after the first are the same request regenerated (a new seed each), so every run renders a
new image, cut-out and mockup instead of hitting a cache. A second phase plans with a language
model: the fake OpenAI-compatible server of the tests (tests/chat/fake_openai.py), streaming
with no think time, so the figure is the studio's own overhead on that path.

Environment: BENCH_CHAT_RUNS (default 8), BENCH_CHAT_MODEL_RUNS (default 4; 0 skips the model).
Any broker works (Redis delivers at once; the filesystem broker polls once a second, which shows
in the model path's first token); the figures print which.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
from django.conf import settings

from bench.support import machine_load, summary, use_bench_database

logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request drowns the figures

ROOT = Path(__file__).resolve().parent.parent
RUNS = int(os.environ.get("BENCH_CHAT_RUNS", "8"))
MODEL_RUNS = int(os.environ.get("BENCH_CHAT_MODEL_RUNS", "4"))
WARMUP = 1
SEED = "make a cozy cabin sticker and put it on a mug"
# Targets: what a designer should feel (first words at once; the mockup within seconds).
TARGET_FIRST_TOKEN_MS = 300.0
TARGET_MOCKUP_MS = 8000.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def _stream_once(base: str, key: str, chat_id: str, regenerate: bool) -> dict[str, float]:
    body = {
        "id": chat_id,
        "messages": [{"id": "u1", "role": "user", "parts": [{"type": "text", "text": SEED}]}],
        "trigger": "regenerate-message" if regenerate else "submit-message",
    }
    marks: dict[str, float] = {}
    mockup_url = ""
    started = time.perf_counter()
    with httpx.stream(
        "POST",
        f"{base}/ai-generations/chat/stream",
        json=body,
        headers={"x-api-key": key},
        timeout=httpx.Timeout(180, connect=10),
    ) as response:
        if response.status_code != 200:
            raise RuntimeError(f"stream answered {response.status_code}: {response.read()[:300]!r}")
        marks["headers"] = time.perf_counter() - started
        for line in response.iter_lines():
            if not line.startswith("data: {"):
                continue
            chunk = json.loads(line[6:])
            kind = chunk["type"]
            now = time.perf_counter() - started
            if kind == "text-delta":
                marks.setdefault("first_token", now)
            elif kind == "data-mockup":
                marks.setdefault("mockup", now)
                mockup_url = chunk["data"]["url"]
            elif kind == "error":
                raise RuntimeError(f"the turn failed: {chunk['errorText']}")
            elif kind == "finish":
                marks["finish"] = now
    if not mockup_url:
        raise RuntimeError("no mockup in the stream")
    image = httpx.get(mockup_url, timeout=60)
    if image.status_code != 200 or image.headers["content-type"] != "image/jpeg":
        raise RuntimeError(f"the mockup URL answered {image.status_code}")
    marks["mockup_fetched"] = time.perf_counter() - started
    return marks


def _poll_once(base: str, key: str) -> float:
    """Seconds from POST chat/start to a done poll (polling every 100 ms, as a client might)."""
    headers = {"x-api-key": key}
    # Regenerated (a seed of its own): a new image, cut-out and mockup, no cache hits.
    body = {"messages": [{"role": "user", "content": SEED}], "trigger": "regenerate-message"}
    started = time.perf_counter()
    job = httpx.post(f"{base}/ai-generations/chat/start", json=body, headers=headers).json()
    while time.perf_counter() - started < 180:
        state = httpx.get(f"{base}/ai-generations/chat/jobs/{job['jobId']}", headers=headers).json()
        if state["status"] == "done":
            return time.perf_counter() - started
        if state["status"] != "running":
            raise RuntimeError(f"the polled turn ended {state}")
        time.sleep(0.1)
    raise RuntimeError("the polled turn did not finish")


def _phase(name: str, base: str, key: str, runs: int, pids: list[int]) -> dict[str, Any]:
    chat_id = f"bench-{name}-{time.time_ns()}"
    collected: dict[str, list[float]] = {}
    cpu_before = 0.0
    for i in range(WARMUP + runs):
        if i == WARMUP:
            cpu_before = _cpu_seconds(pids)
        marks = _stream_once(base, key, f"{chat_id}-{i}", regenerate=i > 0)
        if i >= WARMUP:
            for mark, seconds in marks.items():
                collected.setdefault(mark, []).append(seconds * 1000)
    cpu = (_cpu_seconds(pids) - cpu_before) * 1000 / runs
    out = {mark: summary(values) for mark, values in collected.items()}
    out["server_cpu_ms_per_turn"] = round(cpu, 1)
    print(f"-- {name}: {runs} runs")
    for mark in ("headers", "first_token", "mockup", "finish", "mockup_fetched"):
        s = out[mark]
        print(
            f"   {mark:15} p50 {s['p50_ms']:8.1f} ms   p95 {s['p95_ms']:8.1f} ms   max {s['max_ms']:8.1f} ms"
        )
    print(f"   web + worker CPU per turn: {out['server_cpu_ms_per_turn']} ms")
    if name == "offline":
        polled = [_poll_once(base, key) * 1000 for _ in range(3)]
        out["poll_done"] = summary(polled)
        print(
            f"   start → poll done p50 {out['poll_done']['p50_ms']:.1f} ms (3 runs, 100 ms polling)"
        )
    return out


def _start_web(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    # The production web layout (studio/gunicorn.conf.py), its access log to /dev/null.
    config = ["-c", "studio/gunicorn.conf.py", "--log-level", "warning"]
    web = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", *config, "studio.wsgi"],
        cwd=ROOT,
        env={**env, "GUNICORN_BIND": f"127.0.0.1:{port}"},
        stdout=subprocess.DEVNULL,
    )
    for _ in range(200):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return web
        except OSError:
            time.sleep(0.1)
    web.terminate()
    raise RuntimeError("gunicorn did not start")


def run() -> dict[str, Any]:
    from django.contrib.auth import get_user_model

    from studio import actions as studio_actions
    from studio import apikeys
    from studio.models import Membership
    from tests.support import workers

    use_bench_database()
    email = "bench-chat@example.com"
    user = get_user_model().objects.filter(username=email).first() or studio_actions.sign_up(
        email, "bench-chat-password", "Bench chat"
    )
    shop = Membership.objects.get(user=user).shop
    studio_actions.grant_credits(shop, wallet_cents=10 * (RUNS + MODEL_RUNS + 4), memo="bench")
    shop.api_rate_limit_per_minute = 10**6
    shop.save(update_fields=["api_rate_limit_per_minute"])
    key = apikeys.create_api_key(shop, scopes=["ai:generate"], name="bench").raw

    media = Path(tempfile.mkdtemp(prefix="bench-chat-media-"))
    broker = settings.CELERY_BROKER_URL
    results: dict[str, Any] = {
        "broker": broker.split("://")[0],
        "database": workers.database_url().split("://")[0],
        "machine_before": machine_load(),
    }
    print(
        f"broker {results['broker']}, database {results['database']}; {results['machine_before']}"
    )
    phases = [("offline", {}, RUNS)]
    if MODEL_RUNS:
        phases.append(("model", {"CHAT_MODEL": "bench-fake-model"}, MODEL_RUNS))
    try:
        for name, extra, runs in phases:
            with ExitStack() as stack:
                if extra:
                    from tests.chat import fake_openai

                    base_url, _seen = stack.enter_context(
                        fake_openai.serve(fake_openai.design_model)
                    )
                    extra = {**extra, "OPENAI_BASE_URL": base_url, "OPENAI_API_KEY": "sk-bench"}
                queue = workers.private_queue("studio-bench-chat")
                settings.CELERY_TASK_DEFAULT_QUEUE = queue
                env = {
                    **os.environ,
                    "DATABASE_URL": workers.database_url(),
                    "CELERY_BROKER_URL": broker,
                    "CELERY_TASK_DEFAULT_QUEUE": queue,
                    "MEDIA_ROOT": str(media),
                    "DEBUG": "0",
                    "SECRET_KEY": settings.SECRET_KEY,  # API keys are HMACs under it
                    "ALLOWED_HOSTS": "127.0.0.1",
                    "LOG_LEVEL": "WARNING",
                    "DJANGO_SETTINGS_MODULE": "studio.settings",
                    "PYTHONPATH": str(ROOT),
                    **extra,
                }
                worker = workers.start_worker(
                    queue=queue,
                    log_path=media / f"worker-{name}.log",
                    pool="prefork",
                    env={"MEDIA_ROOT": str(media), **extra},
                )
                stack.callback(worker.stop)
                port = _free_port()
                web = _start_web(env, port)
                stack.callback(lambda web=web: (web.terminate(), web.wait(timeout=20)))
                pids = [worker.proc.pid, *worker.pool_children(), web.pid]
                try:
                    results[name] = _phase(name, f"http://127.0.0.1:{port}", key, runs, pids)
                except Exception:
                    print(worker.tail())
                    raise
    finally:
        shutil.rmtree(media, ignore_errors=True)
    results["machine_after"] = machine_load()
    print(f"{results['machine_after']}")
    offline = results["offline"]
    for label, value, target in (
        ("first token (offline)", offline["first_token"]["p50_ms"], TARGET_FIRST_TOKEN_MS),
        ("mockup ready (offline)", offline["mockup"]["p50_ms"], TARGET_MOCKUP_MS),
    ):
        print(
            f"{'PASS' if value <= target else 'MISS'} {label}: p50 {value:.1f} ms (target ≤ {target:g} ms)"
        )
    return results
