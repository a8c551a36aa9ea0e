"""Shared fixtures: users, shops, members, an isolated media root, and service gates."""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from PIL import Image

from studio import actions as studio_actions
from studio import apikeys, ratelimit
from studio.models import Membership, Role, Shop
from tests.support.dns import StubDNS

# CI sets STUDIO_REQUIRE_SERVICES=1: a test that would skip for a missing service fails instead.
REQUIRE_SERVICES = os.environ.get("STUDIO_REQUIRE_SERVICES") == "1"


def skip_or_fail(reason: str) -> None:
    if REQUIRE_SERVICES:
        pytest.fail(f"{reason} (STUDIO_REQUIRE_SERVICES=1 turns this skip into a failure)")
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def _media_root(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path / "media", "base_url": "/media/"},
        },
    }


@pytest.fixture(autouse=True)
def stub_dns(monkeypatch: pytest.MonkeyPatch) -> StubDNS:
    """Every test resolves names through a stub (tests/support/dns.py), never the real DNS."""
    import socket

    from studio import fetch

    stub = StubDNS()
    monkeypatch.setattr(fetch, "default_resolver", stub)
    monkeypatch.setattr(socket, "getaddrinfo", stub.guard(socket.getaddrinfo))
    return stub


@pytest.fixture(autouse=True)
def _private_cache(settings: Any) -> None:
    # Django's cache holds throttle counters and fetch slots: each test starts with its own,
    # in memory (the live server of browser tests runs in this process and shares it).
    import uuid

    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"test-{uuid.uuid4().hex}",
        }
    }


@pytest.fixture(autouse=True)
def _fresh_api_key_cache() -> None:
    # The per-process key cache and rate-limit batches outlive a test's database rollback;
    # start each test without them.
    apikeys.clear_key_cache()
    ratelimit.forget_leases()


@pytest.fixture(autouse=True)
def _check_api_responses(settings: Any) -> None:
    # Every API response the suite produces is checked against the generated OpenAPI document
    # (generations/api/conformance.py): an undocumented status, media type or field fails.
    settings.API_CHECK_RESPONSES = True


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    # PBKDF2's real cost (about a second per user here) would dominate the suite's run time.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def make_user(db: Any) -> Callable[..., Any]:
    counter = {"n": 0}

    def make(email: str | None = None, password: str = "correct-horse-battery") -> Any:
        counter["n"] += 1
        email = email or f"user{counter['n']}@example.com"
        return studio_actions.sign_up(email, password)

    return make


@pytest.fixture
def user(make_user: Callable[..., Any]) -> Any:
    return make_user("owner@example.com")


@pytest.fixture
def shop(user: Any) -> Shop:
    return Membership.objects.get(user=user).shop


@pytest.fixture
def add_member(db: Any, make_user: Callable[..., Any]) -> Callable[..., Any]:
    def add(shop: Shop, role: str = Role.DESIGNER, email: str | None = None) -> Any:
        member = make_user(email)
        Membership.objects.create(shop=shop, user=member, role=role)
        return member

    return add


@pytest.fixture
def client_for() -> Callable[..., Client]:
    def make(user: Any, shop: Shop | None = None) -> Client:
        c = Client()
        c.force_login(user)
        if shop is not None:
            session = c.session
            session["current_shop_id"] = shop.id
            session.save()
        return c

    return make


@pytest.fixture
def owner_client(client_for: Callable[..., Client], user: Any, shop: Shop) -> Client:
    return client_for(user, shop)


def png_bytes(
    width: int = 64,
    height: int = 48,
    colour: tuple[int, int, int] = (200, 40, 40),
    fmt: str = "PNG",
) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buf, fmt)
    return buf.getvalue()


@pytest.fixture
def image_bytes() -> Callable[..., bytes]:
    return png_bytes


@pytest.fixture
def busy_shop(shop: Shop, user: Any) -> dict[str, Any]:
    """A shop with a library, finished jobs, presets, prices and staff model rows: enough rows
    that a per-row query shows in a query budget (tests/test_query_budgets.py)."""
    from generations import actions, operations
    from generations.models import Asset, ModelConfig, PriceRule
    from tests.pagekit import make_asset, make_job, make_preset

    PriceRule.objects.create(cents_per_output=2)
    PriceRule.objects.create(kind="remove-background", cents_per_output=3)
    PriceRule.objects.create(model="builtin:procedural", resolution="high", cents_per_output=4)
    ModelConfig.objects.create(name="house-model", engine="replicate", provider_model="me/x")
    ModelConfig.objects.create(name="ideogram-v2", engine="replicate", enabled=False)
    for n in range(3):
        make_preset(shop, name=f"Preset {n}")
    jobs = []
    for n in range(4):
        job = make_job(shop, user, prompt=f"a kite number {n}", count=2)
        actions.execute_job(str(job.id))
        jobs.append(job)
    assets = [make_asset(shop, user, prompt=f"design {n}") for n in range(6)]
    asset = assets[0]
    for name in ("remove-background", "upscale", "detect-objects"):
        job = operations.submit_operation(shop, asset, name, {}, user)
        actions.execute_job(str(job.id))
    children = Asset.objects.filter(parent=asset)
    assert children.exists()
    return {"asset": asset, "jobs": jobs, "child": children.first()}


# Shared fixtures for real worker subprocesses (imported last: they use skip_or_fail above).
from tests.support.worker_fixtures import start_worker  # noqa: E402, F401
