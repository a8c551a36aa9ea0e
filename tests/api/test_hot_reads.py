"""The two hottest API reads, the job poll and the library page, run precompiled SQL
(studio/compiled.py) and build URLs without FieldFiles: the same responses as the ORM-built
ones they replaced (computed here the old way, as an oracle), in a bounded number of queries."""

from __future__ import annotations

import base64
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from generations.api.common import with_refunds
from generations.api.edge import iso
from generations.library import store_asset
from generations.models import Asset, Job, Preset
from generations.storage_urls import asset_url, file_url
from studio.actions import create_shop
from studio.models import LedgerEntry, Shop
from tests.conftest import png_bytes

pytestmark = pytest.mark.django_db


def _old_library(shop: Shop, request_host: str, params: dict[str, str]) -> dict[str, Any]:
    """The library page as the ORM-based view built it before the SQL was precompiled."""
    page, limit = int(params.get("page", 1)), int(params.get("limit", 20))
    qs = Asset.objects.filter(shop=shop, kind=Asset.Kind.GENERATED)
    preset_id = params.get("presetId", "")
    if preset_id:
        try:
            import uuid

            qs = qs.filter(preset_id=uuid.UUID(preset_id))
        except ValueError:
            qs = qs.none()
    search = params.get("search", "").strip().lower()
    if search:
        qs = qs.filter(search_text__contains=search[:200])
    total = qs.count()
    offset = (page - 1) * limit
    items = (
        list(qs.order_by("-created_at", "-id")[offset : offset + limit]) if offset < total else []
    )

    class Req:  # what the storage URLs read from a request
        scheme = "http"

        def get_host(self) -> str:
            return request_host

    req: Any = Req()
    images = [
        {
            "id": str(a.id),
            "url": asset_url(a, req),
            "thumbnailUrl": file_url(a.shop, a.thumbnail, req) or asset_url(a, req),
            "width": a.width,
            "height": a.height,
            "presetId": str(a.preset_id) if a.preset_id else None,
            "modelVersion": a.model or None,
            "userPrompt": a.parameters.get("user_prompt", a.prompt),
            "isPublic": a.is_public,
            "createdAt": iso(a.created_at),
        }
        for a in items
    ]
    return {"data": {"images": images, "total": total, "page": page, "limit": limit}}


@pytest.fixture
def library(shop: Shop) -> dict[str, Any]:
    """13 generated images (one without a thumbnail, some from a preset, odd names and prompts),
    an upload (never listed) and another shop's image (never listed)."""
    preset = Preset.objects.create(shop=shop, name="Lakes_100%", template="a lake at {{time}}")
    png = png_bytes(8, 8)
    base = timezone.now()
    prompts = ["a mountain lake", "50% off_sale", "Ünïcode café", "back\\slash", "plain"]
    made = []
    for i in range(12):
        asset = store_asset(
            shop,
            png,
            kind=Asset.Kind.GENERATED,
            prompt=prompts[i % len(prompts)],
            model="builtin:procedural" if i % 3 else "",
            preset=preset if i % 4 == 0 else None,
            parameters={"user_prompt": f"user {i}"} if i % 2 else {},
            is_public=i % 5 == 0,
        )
        made.append(asset)
    # Two images created at the same instant: the id breaks the tie.
    Asset.objects.filter(pk__in=[made[3].pk, made[4].pk]).update(created_at=base)
    bare = store_asset(shop, png, kind=Asset.Kind.GENERATED, prompt="no thumbnail")
    bare.thumbnail.delete(save=True)
    store_asset(shop, png, kind=Asset.Kind.UPLOAD, prompt="an upload")
    store_asset(create_shop("Other"), png, kind=Asset.Kind.GENERATED, prompt="a mountain lake")
    Asset.objects.filter(pk=made[7].pk).update(created_at=base - timedelta(days=3))
    return {"preset": preset}


QUERIES = [
    {},
    {"page": "2", "limit": "5"},
    {"page": "3", "limit": "5"},
    {"page": "9", "limit": "5"},
    {"limit": "100"},
    {"search": "  MOUNTAIN "},
    {"search": "50%"},
    {"search": "off_sale"},
    {"search": "f_s"},
    {"search": "n_l"},  # `_` is literal, not a wildcard ("mountain lake")
    {"search": "%"},
    {"search": "back\\slash"},
    {"search": "café"},
    {"search": "lakes_100"},  # the preset's name
    {"search": "nothing like it"},
    {"presetId": "not-a-uuid"},
    {"presetId": "00000000-0000-0000-0000-000000000000"},
]


@pytest.mark.parametrize("params", QUERIES)
def test_it_answers_the_library_as_before(
    api: Any, shop: Shop, library: dict[str, Any], params: dict[str, str]
) -> None:
    response = api.get("/v0/images/library", data=params)
    assert response.status_code == 200
    body = response.json()
    next_cursor = body["data"].pop("nextCursor", None)
    assert body == _old_library(shop, "testserver", params)
    # A next page is announced exactly when there is one, and the cursor leads to it.
    expected_next = _old_library(
        shop, "testserver", {**params, "page": str(body["data"]["page"] + 1)}
    )
    assert (next_cursor is not None) == bool(expected_next["data"]["images"])
    if next_cursor:
        following = api.get("/v0/images/library", data={**params, "cursor": next_cursor}).json()
        following["data"].pop("nextCursor", None)
        assert following == expected_next
    expected_totals = {"": 13, "50%": 3, "n_l": 0, "%": 6, "lakes_100": 3, "  MOUNTAIN ": 3}
    key = params.get("search", "") if not params.get("presetId") else None
    if key in expected_totals:
        assert response.json()["data"]["total"] == expected_totals[key]


def test_it_answers_the_library_as_before_with_a_preset_and_a_storage_origin(
    api: Any, shop: Shop, library: dict[str, Any], settings: Any
) -> None:
    settings.STORAGE_PUBLIC_ORIGIN = "https://{shop}.files.example"
    for params in (
        {"presetId": str(library["preset"].id)},
        {"presetId": str(library["preset"].id), "search": "lake", "limit": "2", "page": "2"},
    ):
        body = api.get("/v0/images/library", data=params).json()
        body["data"].pop("nextCursor", None)
        assert body == _old_library(shop, "testserver", params)
        assert body["data"]["images"][0]["url"].startswith(f"https://{shop.slug}.files.example/")


def test_the_library_page_runs_two_queries(
    api: Any, library: dict[str, Any], django_assert_max_num_queries: Any
) -> None:
    api.get("/v0/images/library")  # the key is cached and its last use recorded
    # The rate-limit counter (the database here, Redis in production), the page with the shop's
    # counted total.
    with django_assert_max_num_queries(2):
        assert api.get("/v0/images/library?page=2&limit=2").status_code == 200
    # A filtered page, then its capped count.
    with django_assert_max_num_queries(3):
        assert api.get("/v0/images/library?search=lake&page=2&limit=2").status_code == 200
    with django_assert_max_num_queries(3):
        assert api.get("/v0/images/library?search=nothing").json()["data"]["total"] == 0
    # A page past the end has no row to carry the total: the counter is read on its own.
    with django_assert_max_num_queries(3):
        assert api.get("/v0/images/library?page=50").json()["data"]["total"] == 13


def _old_job(job_id: Any, host: str, fmt: str = "url") -> dict[str, Any]:
    job = with_refunds(Job.objects.filter(id=job_id)).get()

    class Req:
        scheme = "http"

        def get_host(self) -> str:
            return host

    outputs = Asset.objects.filter(job=job).select_related("shop").order_by("created_at", "id")
    data = []
    for a in outputs:
        item: dict[str, Any] = {"id": str(a.id)}
        if fmt in ("url", "both"):
            item["url"] = asset_url(a, Req())  # type: ignore[arg-type]
        item.update(storageKey=a.file.name, width=a.width, height=a.height)
        if fmt in ("b64_json", "both"):
            with a.file.open("rb") as fh:
                item["b64_json"] = base64.b64encode(fh.read()).decode()
            item["mimeType"] = a.content_type
        data.append(item)
    return {
        "data": {
            "id": str(job.id),
            "status": "completed",
            "created": int(job.created_at.timestamp()),
            "model": job.model,
            "data": data,
            "usage": {"credits": max(job.cost_cents - job.refunded_cents, 0)},
        }
    }


@pytest.fixture
def completed_job(shop: Shop) -> Job:
    job = Job.objects.create(
        shop=shop, kind="generate", status="completed", model="builtin:procedural", cost_cents=4
    )
    for i in range(3):
        store_asset(shop, png_bytes(8 + i, 8), kind=Asset.Kind.GENERATED, job=job)
    LedgerEntry.objects.create(shop=shop, kind="refund", job=job, amount_cents=1)
    return job


@pytest.mark.parametrize("fmt", ["url", "b64_json", "both"])
def test_it_answers_the_job_poll_as_before(api: Any, completed_job: Job, fmt: str) -> None:
    response = api.get(f"/v0/images/generations/{completed_job.id}?response_format={fmt}")
    assert response.json() == _old_job(completed_job.id, "testserver", fmt)
    assert response.json()["data"]["usage"] == {"credits": 3}


def test_the_job_poll_runs_three_queries(
    api: Any, completed_job: Job, django_assert_max_num_queries: Any
) -> None:
    api.get(f"/v0/images/generations/{completed_job.id}")
    # The rate-limit counter (the database here, Redis in production), the job, its outputs.
    with django_assert_max_num_queries(3):
        response = api.get(f"/v0/images/generations/{completed_job.id}")
    assert len(response.json()["data"]["data"]) == 3


def test_the_job_poll_of_another_shop_or_a_bad_id_is_404(api_for: Any, completed_job: Job) -> None:
    other = api_for(create_shop("Other"))
    assert other.get(f"/v0/images/generations/{completed_job.id}").status_code == 404
    assert other.get("/v0/images/generations/not-a-uuid").status_code == 404


NAMES = [
    "shops/shop-abc/assets/0123abcd/original.png",
    "shops/shop-abc/assets/0123abcd/thumb-thumb.webp",
    "odd name with spaces & ünïcode %41.png",
    "back\\slash/file.png",
    "/leading/slash.png",
    "dots/../../up.png",
    "./here.png",
    "colon:name?query#frag.png",
    "tilde~(star)*!'quote.png",
    "",
]


@pytest.mark.parametrize("base_url", ["/media/", "https://cdn.example/m/"])
@pytest.mark.parametrize("origin", ["", "https://{shop}.files.example", "https://cdn.example/f/"])
def test_file_urls_are_the_storage_urls_on_the_public_base(
    shop: Shop, settings: Any, base_url: str, origin: str
) -> None:
    """The fast per-request FileUrls equals what the storage says (absolute on the request's
    origin) or, with STORAGE_PUBLIC_ORIGIN, that base URL joined with the quoted name."""
    from urllib.parse import urljoin

    from django.db.models.fields.files import FieldFile
    from django.test import RequestFactory
    from django.utils.encoding import filepath_to_uri

    from generations.storage_urls import FileUrls, named_file

    settings.STORAGE_PUBLIC_ORIGIN = origin.rstrip("/")
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": settings.MEDIA_ROOT, "base_url": base_url},
        },
    }
    request = RequestFactory().get("/", HTTP_HOST="testserver:8443", secure=True)
    urls = FileUrls(shop, request)
    field = Asset._meta.get_field("file")
    public = origin.replace("{shop}", shop.slug).rstrip("/")
    for name in NAMES:
        if not name:
            expected = ""
        elif public:
            expected = urljoin(public + "/", filepath_to_uri(name).lstrip("/"))
        else:
            url = FieldFile(Asset(), field, name).url
            expected = url if url.startswith("https://") else "https://testserver:8443" + url
        assert urls(name) == expected, name
        assert file_url(shop, FieldFile(Asset(), field, name), request) == expected, name
        if name and "\\" not in name and "/." not in "/" + name and name[0] != "/":
            # ... and what FileUrls hands out, named_file reads back as the same stored name.
            named = named_file(shop, expected, request)
            assert named is not None and named.name == name, name


def test_usage_reads_fresh_balances_in_one_query(
    api: Any, shop: Shop, django_assert_max_num_queries: Any
) -> None:
    api.get("/v0/usage")  # the key (and its shop) are cached now
    Shop.objects.filter(pk=shop.pk).update(wallet_cents=1234)
    # The rate-limit counter (the database here), then the four balance columns.
    with django_assert_max_num_queries(2):
        credits = api.get("/v0/usage").json()["data"]["credits"]
    assert credits["wallet"] == 1234
    assert credits["remaining"] == credits["planRemaining"] + 1234
