"""API fixtures: keys with scopes, a client that sends them, and jobs run inline by the sync wait."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from generations import actions
from generations.api import common
from generations.models import Job
from studio import apikeys
from studio.models import Shop

ALL_SCOPES = list(apikeys.SCOPES)
REAL_WAIT = common.wait_for_job  # the production wait (polls the Job row), before any patch


class ApiClient:
    """A test client that sends the key like a real client (x-api-key by default)."""

    def __init__(self, raw_key: str, header: str = "x-api-key") -> None:
        self.raw = raw_key
        self.header = header
        self.client = Client()

    def _headers(self, extra: dict[str, str] | None) -> dict[str, str]:
        headers = dict(extra or {})
        if self.header == "bearer":
            headers.setdefault("Authorization", f"Bearer {self.raw}")
        elif self.raw:
            headers.setdefault(self.header, self.raw)
        return headers

    def get(self, path: str, headers: dict[str, str] | None = None, **kw: Any) -> Any:
        return self.client.get(path, headers=self._headers(headers), **kw)

    def post(
        self, path: str, data: Any = None, headers: dict[str, str] | None = None, **kw: Any
    ) -> Any:
        if kw.pop("multipart", False):
            kw.pop("content_type", None)
        else:
            kw.setdefault("content_type", "application/json")
        return self.client.post(path, data=data, headers=self._headers(headers), **kw)


@pytest.fixture
def make_key(db: Any) -> Callable[..., apikeys.MintedKey]:
    def make(shop: Shop, scopes: list[str] | None = None) -> apikeys.MintedKey:
        return apikeys.create_api_key(shop, scopes=scopes or ALL_SCOPES, name="test")

    return make


@pytest.fixture
def api(shop: Shop, make_key: Callable[..., apikeys.MintedKey]) -> ApiClient:
    return ApiClient(make_key(shop).raw)


@pytest.fixture
def api_for(make_key: Callable[..., apikeys.MintedKey]) -> Callable[..., ApiClient]:
    def make(shop: Shop, scopes: list[str] | None = None, header: str = "x-api-key") -> ApiClient:
        return ApiClient(make_key(shop, scopes).raw, header)

    return make


@pytest.fixture(autouse=True)
def _run_jobs_inline(monkeypatch: pytest.MonkeyPatch, settings: Any) -> list[str]:
    """The sync doors wait on the Job row; here the wait runs the job itself (as a worker would)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast setup
    settings.API_RATE_LIMIT_PER_MINUTE = 1000
    settings.RATELIMIT_REDIS_URL = ""
    settings.CACHE_URL = ""
    # No worker runs here: a chat stream (fuzzed too) follows its queued turn this long, not 15 min.
    settings.CHAT_STREAM_TIMEOUT_SECONDS = 1
    ran: list[str] = []

    def wait(job_id: Any, timeout: float) -> Job:
        ran.append(str(job_id))
        actions.execute_job(str(job_id))
        return Job.objects.get(id=job_id)

    monkeypatch.setattr(common, "wait_for_job", wait)
    return ran
