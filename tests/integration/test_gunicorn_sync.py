"""Synchronous API routes under the production server: real gunicorn with the shipped
configuration (studio/gunicorn.conf.py), a real Celery worker, and a job slower than the wait.

The sync wait gives up before the job finishes: the client gets the family's documented 504 JSON
with the job id (not an HTML 500 from a killed worker), a retry with the same Idempotency-Key
while the job runs answers from that job, and once it completes the retry gets the result. One
job, one charge, whatever the retries.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from django.conf import settings

from generations.models import Job
from studio import apikeys
from studio.models import LedgerEntry, Shop
from tests.support import workers
from tests.support.slow_engine import MODEL as SLOW_MODEL
from tests.support.worker_fixtures import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]

BASE_DIR = Path(settings.BASE_DIR)
CONFIG = BASE_DIR / "studio" / "gunicorn.conf.py"
SYNC_WAIT = "1.5"  # seconds; the slow engine takes 4 s


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def gunicorn(start_worker: Callable[..., Any], tmp_path: Path) -> Iterator[str]:
    """A real Celery worker and gunicorn with the shipped config, on the test's database."""
    start_worker()
    port = _free_port()
    log = (tmp_path / "gunicorn.log").open("wb")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "studio.settings",
        "DATABASE_URL": workers.database_url(),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "CELERY_TASK_DEFAULT_QUEUE": settings.CELERY_TASK_DEFAULT_QUEUE,
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "STUDIO_EXTRA_ENGINES": "tests.support.slow_engine",
        "STUDIO_SLOW_ENGINE": "1",
        "API_SYNC_TIMEOUT_SECONDS": SYNC_WAIT,
        "API_CHECK_RESPONSES": "1",  # the server checks its answers against the document too
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "1",
        "GUNICORN_THREADS": "4",
        "PYTHONPATH": str(BASE_DIR),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", str(CONFIG), "studio.wsgi:application"],
        cwd=BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(
            lambda: _up(base),
            timeout=60,
            what=f"gunicorn on {base}\n{(tmp_path / 'gunicorn.log').read_text()}",
        )
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def _up(base: str) -> bool:
    try:
        return httpx.get(f"{base}/api/openapi.json", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def test_it_answers_504_with_the_job_then_the_result_on_retry(gunicorn: str, shop: Shop) -> None:
    """GIVEN gunicorn as shipped and a job slower than the sync wait WHEN the client posts THEN it
    gets seed 002's 504 JSON with the job id; a retry with the same Idempotency-Key while the job
    runs answers from the same job; after the job completes the retry returns the images."""
    key = apikeys.create_api_key(shop, scopes=["ai:generate"], name="t").raw
    headers = {"x-api-key": key, "Idempotency-Key": "order-42"}
    body = {"prompt": "slow teal waves", "modelVersion": SLOW_MODEL, "resolution": "low"}
    url = f"{gunicorn}/v0/images/generations"

    first = httpx.post(url, json=body, headers=headers, timeout=30)
    assert first.status_code == 504, first.text
    assert first.headers["content-type"].startswith("application/json")
    timeout_body = first.json()
    job_id = timeout_body["jobId"]
    assert timeout_body["error"] == f"Generation timed out after {SYNC_WAIT}s"
    assert timeout_body["hint"] == f"GET /v0/images/generations/{job_id} to check status"

    second = httpx.post(url, json=body, headers=headers, timeout=30)
    if second.status_code == 504:  # still running: the same job, not a new one
        assert second.json()["jobId"] == job_id

    job = Job.objects.get(id=job_id)
    wait_for(
        lambda: Job.objects.get(id=job_id).status == Job.Status.COMPLETED,
        timeout=60,
        what="the slow job to complete",
    )
    done = httpx.post(url, json=body, headers=headers, timeout=30)
    assert done.status_code == 200, done.text
    data = done.json()["data"]
    assert data["id"] == job_id and data["status"] == "completed"
    assert len(data["data"]) == 1 and data["data"][0]["url"].startswith("http")

    assert Job.objects.filter(shop=shop).count() == 1
    charges = LedgerEntry.objects.filter(job=job, kind=LedgerEntry.Kind.CHARGE).count()
    assert charges == 1


def test_seed_000_generate_answers_504_with_the_generation_id(gunicorn: str, shop: Shop) -> None:
    key = apikeys.create_api_key(shop, scopes=["ai:generate"], name="t").raw
    response = httpx.post(
        f"{gunicorn}/ai-generations/generate",
        json={"prompt": "slow teal waves", "model": SLOW_MODEL, "numberResults": 1},
        headers={"x-api-key": key},
        timeout=30,
    )
    assert response.status_code == 504, response.text
    body = response.json()
    assert Job.objects.filter(id=body["generationId"], shop=shop).exists()
    assert body["hint"] == f"GET /ai-generations/{body['generationId']} to check status"


def _cfg(worker: str, timeout: int, graceful: int) -> Any:
    return SimpleNamespace(worker_class_str=worker, timeout=timeout, graceful_timeout=graceful)


def test_the_config_refuses_a_timeout_shorter_than_the_sync_wait() -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("studio_gunicorn_conf", CONFIG)
    assert spec is not None and spec.loader is not None
    conf = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(conf)
    wait = conf.SYNC_WAIT
    assert conf.problems(_cfg("gthread", int(wait) + 30, int(wait) + 30)) == []
    assert conf.problems(_cfg("sync", int(wait) + 60, int(wait) + 60)) == []
    refused = conf.problems(_cfg("sync", 60, int(wait) + 30))
    assert len(refused) == 1 and "API_SYNC_TIMEOUT_SECONDS" in refused[0]
    assert len(conf.problems(_cfg("gthread", int(wait) + 30, 30))) == 1


def test_gunicorn_exits_with_the_reason_when_misconfigured(tmp_path: Path) -> None:
    env = {**os.environ, "API_SYNC_TIMEOUT_SECONDS": "180", "PYTHONPATH": str(BASE_DIR)}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-c",
            str(CONFIG),
            "--worker-class",
            "sync",
            "--threads",
            "1",
            "--timeout",
            "60",
            "--bind",
            f"127.0.0.1:{_free_port()}",
            "studio.wsgi:application",
        ],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        timeout=60,
    )
    assert result.returncode != 0
    output = (result.stdout + result.stderr).decode()
    assert "Refusing to start gunicorn" in output and "--timeout 60s" in output
