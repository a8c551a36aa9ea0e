"""Fixtures for mockup tests: stored assets, URL helpers, a recording fetch transport."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import httpx
import numpy as np
import pytest
from PIL import Image

from generations.library import upload_asset
from generations.loader import load_image
from mockups import actions, sources


def checkerboard(size: int = 64, cells: int = 8, alpha: bool = False) -> Image.Image:
    """Black/white checks with unique corner cells: red TL, green TR, blue BR, yellow BL."""
    cell = size // cells
    yy, xx = np.mgrid[0:size, 0:size]
    board = (((yy // cell) + (xx // cell)) % 2 * 255).astype(np.uint8)
    rgb = np.dstack([board] * 3)
    last = size - cell
    rgb[:cell, :cell] = (255, 0, 0)
    rgb[:cell, last:] = (0, 255, 0)
    rgb[last:, last:] = (0, 0, 255)
    rgb[last:, :cell] = (255, 255, 0)
    image = Image.fromarray(rgb, "RGB")
    return image.convert("RGBA") if alpha else image


def encode(image: Image.Image, fmt: str = "PNG") -> bytes:
    buf = io.BytesIO()
    image.save(buf, fmt)
    return buf.getvalue()


@pytest.fixture
def shop(shop: Any) -> Any:
    """The owner's shop with unsigned mockup URLs allowed: most tests here exercise unsigned
    URLs. New shops require signatures (tests/mockups/test_billing_and_limits.py checks that)."""
    shop.require_signed_urls = False
    shop.save(update_fields=["require_signed_urls"])
    return shop


@pytest.fixture
def store(shop: Any, user: Any) -> Callable[..., Any]:
    def make(image: Image.Image | None = None, *, in_shop: Any = None) -> Any:
        image = image or checkerboard(96)
        return upload_asset(in_shop or shop, encode(image), user=user, filename="design.png")

    return make


def asset_url(asset: Any) -> str:
    return "http://testserver" + asset.file.url


@pytest.fixture
def mockup_url() -> Callable[..., str]:
    def make(template: str, **params: Any) -> str:
        return f"/m/{template}?" + urlencode(params)

    return make


class Recorder(httpx.BaseTransport):
    """Records requests instead of connecting; answers with canned responses."""

    def __init__(self, responses: list[httpx.Response] | None = None) -> None:
        self.requests: list[httpx.Request] = []
        self.responses = responses or []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.responses:
            return self.responses.pop(0)
        return httpx.Response(
            200, content=encode(checkerboard(64)), headers={"content-type": "image/png"}
        )


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> Recorder:
    """Every external fetch goes to this transport; names resolve to a public address."""
    transport = Recorder()
    monkeypatch.setattr(
        sources,
        "FETCH_OPTIONS",
        {"transport": transport, "resolver": lambda host, port: ["93.184.216.34"]},
    )
    sources.forget_external_hashes()
    return transport


@pytest.fixture(autouse=True)
def _fast_passwords(settings: Any) -> None:
    # Users are created in nearly every test here; the default hasher is deliberately slow.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_lookups() -> None:
    # Hot mockup URLs remember their rows for a second; each test starts without them.
    from mockups.actions import forget_lookups

    forget_lookups()


@pytest.fixture
def decodes(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    """The sizes of the originals decoded for renders (mockups.actions' loader, spied on)."""
    seen: list[tuple[int, int]] = []

    def spy(data: bytes, **kwargs: Any) -> Any:
        loaded = load_image(data, **kwargs)
        seen.append(loaded.image.size)
        return loaded

    monkeypatch.setattr(actions, "load_image", spy)
    return seen
