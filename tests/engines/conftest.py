"""Fixtures for engine tests: no real sleeping, credentials in the environment, small images."""

from __future__ import annotations

import base64
import io
from typing import Any

import pytest
from PIL import Image

from generations.engines.http import RetryPolicy


def png(width: int = 8, height: int = 8, colour: tuple[int, int, int] = (10, 120, 200)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buf, "PNG")
    return buf.getvalue()


def b64png(width: int = 8, height: int = 8, colour: tuple[int, int, int] = (10, 120, 200)) -> str:
    return base64.b64encode(png(width, height, colour)).decode()


class Sleeps(list):
    """A sleep function that records how long it was asked to wait."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def retry(sleeps: Sleeps) -> RetryPolicy:
    return RetryPolicy(attempts=3, base_delay=0.01, sleep=sleeps, jitter=False)


class Progress(list):
    def __call__(self, percent: int, stage: str) -> None:
        self.append((percent, stage))


@pytest.fixture
def progress() -> Progress:
    return Progress()


@pytest.fixture(autouse=True)
def _engine_env(monkeypatch: Any, settings: Any) -> None:
    # Engine tests never see the developer's real credentials, hosts or tuning (studio/settings.py
    # read them from the environment when the test process started).
    for name in (
        "OPENAI_API_KEY",
        "OPENAI_ORG_ID",
        "OPENAI_PROJECT_ID",
        "REPLICATE_API_TOKEN",
        "REPLICATE_BASE_URL",
        "FAL_KEY",
        "FAL_QUEUE_URL",
        "STABILITY_API_KEY",
        "STABILITY_BASE_URL",
        "A1111_URL",
        "A1111_AUTH",
        "COMFYUI_URL",
        "COMFYUI_WORKFLOW_DIR",
        "REMBG_MODEL_PATH",
        "DIFFUSERS_MODEL_DIR",
        "REPLICATE_WEBHOOK_URL",
    ):
        setattr(settings, name, "")
    settings.OPENAI_BASE_URL = "https://api.openai.com/v1"
    settings.ENGINE_JOB_TIMEOUT = 900.0
    settings.ENGINE_POLL_INTERVAL = 1.0
    settings.ENGINE_HEARTBEAT_SECONDS = 10.0
    # rembg reads its model home from the environment itself (generations/engines/local.py).
    monkeypatch.delenv("U2NET_HOME", raising=False)


def multipart(content_type: str, body: bytes) -> dict[str, list[tuple[str | None, bytes]]]:
    """Parts of a multipart/form-data body: name → [(filename, bytes)], in order."""
    from email.parser import BytesParser
    from email.policy import HTTP

    assert content_type.startswith("multipart/form-data"), content_type
    message = BytesParser(policy=HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + body
    )
    parts: dict[str, list[tuple[str | None, bytes]]] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        filename = part.get_param("filename", header="content-disposition")
        parts.setdefault(str(name), []).append((filename, part.get_payload(decode=True) or b""))
    return parts


# Hosts the engine tests' providers hand back output URLs on (respx answers for them). The
# SSRF-safe fetcher downloads those outputs, so the stub resolver must know them: a public
# documentation address, never contacted (respx intercepts before any connection).
CDN_HOSTS = ("cdn.example.test", "files.example.test", "replicate.delivery", "v3.fal.media")


@pytest.fixture(autouse=True)
def _cdn_names(stub_dns: Any) -> None:
    for host in CDN_HOSTS:
        stub_dns.add(host, "93.184.216.34")
