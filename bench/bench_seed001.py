"""Seed 001's detect → erase → enhance chain, as a client drives it: latency per step.

POST /v1/images/detect-objects (upload) → POST /v1/images/remove-objects (original_session_id +
the top detected object, no re-upload) → POST /v1/images/enhance (image_id of the erase result,
2×), on generated 1024² product shots (bench/bgset.py). Requests go through the whole API edge
(key, rate limit, validation, idempotency, response model) with Django's test client in this
process; the job of each sync route runs inside its request (as a worker would run it, without
the broker hop), so a step's time is parsing + storing the input + the operation + the answer.
Reported per step: wall and CPU time (one core: OpenCV/BLAS threads = 1), the job's own wall
(started → finished) and CPU time, and the CPU the API adds around the job (step − job). Uses the benchmark database
(bench/support.py). Environment: BENCH_SEED001_RUNS (default 6), BENCH_SEED001_SIZE (1024).
"""

from __future__ import annotations

import io
import json
import os
import statistics
import time
from typing import Any

import cv2
from PIL import Image

from bench import bgset
from bench.support import use_bench_database

RUNS = int(os.environ.get("BENCH_SEED001_RUNS", "6"))
SIZE = int(os.environ.get("BENCH_SEED001_SIZE", "1024"))
STEPS = ("detect-objects", "remove-objects", "enhance")


def _loadavg() -> str:
    try:
        with open("/proc/loadavg") as fh:
            return " ".join(fh.read().split()[:3])
    except OSError:
        return "n/a"


def _png(array: Any) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(array).save(buf, "PNG")
    return buf.getvalue()


def run() -> dict:
    cv2.setNumThreads(1)
    use_bench_database()
    from django.conf import settings
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test import Client

    from generations import actions
    from generations.api import common
    from generations.models import Job
    from studio import apikeys
    from studio.actions import create_shop

    settings.API_CHECK_RESPONSES = False
    settings.ALLOWED_HOSTS = ["*"]
    shop = create_shop("Seed 001 bench", plan_budget_cents=10**8)
    shop.api_rate_limit_per_minute = 10**6
    shop.save(update_fields=["api_rate_limit_per_minute"])
    key = apikeys.create_api_key(shop, scopes=["ai:edit"]).raw
    client = Client(headers={"api-key": key})

    job_cpu: list[float] = []

    def inline_wait(job_id: Any, timeout: float) -> Job:
        started = time.process_time()
        actions.execute_job(str(job_id))
        job_cpu.append(time.process_time() - started)
        return Job.objects.get(id=job_id)

    common.wait_for_job = inline_wait  # the sync wait runs the job, as a worker would

    def step(path: str, fields: dict[str, Any]) -> tuple[dict, float, float, float, float]:
        job_cpu.clear()
        wall, cpu = time.perf_counter(), time.process_time()
        response = client.post(path, fields)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        if response.status_code != 200:
            raise RuntimeError(f"{path}: {response.status_code} {response.content[:300]!r}")
        job = Job.objects.filter(shop=shop).order_by("-created_at").first()
        operation = (job.finished_at - job.started_at).total_seconds()
        return response.json(), wall * 1000, cpu * 1000, operation * 1000, sum(job_cpu) * 1000

    timings: dict[str, dict[str, list[float]]] = {
        s: {"wall": [], "cpu": [], "op": [], "job_cpu": []} for s in STEPS
    }
    load_before = _loadavg()
    for i in range(RUNS + 1):  # the first chain warms caches and is not counted
        shot = bgset.make_shot(i, size=SIZE)
        upload = SimpleUploadedFile("shot.png", _png(shot.image), content_type="image/png")
        detected, *t1 = step("/v1/images/detect-objects", {"input_image": upload})
        if not detected["detected_objects"]:
            raise RuntimeError(f"shot {i}: nothing detected")
        erased, *t2 = step(
            "/v1/images/remove-objects",
            {
                "original_session_id": detected["session_id"],
                "mask_objects": json.dumps(detected["detected_objects"][:1]),
            },
        )
        _enhanced, *t3 = step(
            "/v1/images/enhance", {"image_id": erased["image_id"], "zoom_factor": "2"}
        )
        if i == 0:
            continue
        for name, (wall, cpu, op, jcpu) in zip(STEPS, (t1, t2, t3), strict=True):
            timings[name]["wall"].append(wall)
            timings[name]["cpu"].append(cpu)
            timings[name]["op"].append(op)
            timings[name]["job_cpu"].append(jcpu)
    load_after = _loadavg()

    print(
        f"{RUNS} chains on {SIZE}×{SIZE} product shots; load average {load_before} → {load_after}"
    )
    print(
        f"{'step':<16}{'wall median':>12}{'wall max':>10}{'CPU median':>12}"
        f"{'job wall':>10}{'job CPU':>9}{'API CPU':>9}"
    )
    results: dict[str, Any] = {"runs": RUNS, "size": SIZE, "load": [load_before, load_after]}
    total = 0.0
    for name in STEPS:
        t = timings[name]
        wall, cpu, op, jcpu = (statistics.median(t[k]) for k in ("wall", "cpu", "op", "job_cpu"))
        # What the API adds around the job: decoding and storing the upload, the answer.
        api_cpu = statistics.median(c - j for c, j in zip(t["cpu"], t["job_cpu"], strict=True))
        total += wall
        print(
            f"{name:<16}{wall:>10.0f}ms{max(t['wall']):>8.0f}ms{cpu:>10.0f}ms"
            f"{op:>8.0f}ms{jcpu:>7.0f}ms{api_cpu:>7.0f}ms"
        )
        results[name] = {
            "wall_median_ms": round(wall, 1),
            "wall_max_ms": round(max(t["wall"]), 1),
            "cpu_median_ms": round(cpu, 1),
            "job_wall_median_ms": round(op, 1),
            "job_cpu_median_ms": round(jcpu, 1),
            "api_cpu_median_ms": round(api_cpu, 1),
        }
    print(f"{'chain':<16}{total:>10.0f}ms (sum of the step medians)")
    results["chain_wall_median_ms"] = round(total, 1)
    return results
