"""S3-compatible storage end to end against a real S3 server process (moto): uploads, derived
files of a job, the mockup render cache, presigned file URLs and the orphan sweeper."""

from __future__ import annotations

import io
from urllib.parse import urlencode

import httpx
import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from generations import actions, operations
from generations.library import upload_asset
from generations.models import Asset, Job
from mockups import signing
from mockups.models import RenderCacheEntry
from tests.conftest import png_bytes
from tests.s3.conftest import keys_in

pytestmark = pytest.mark.django_db


def test_it_stores_an_upload_and_its_thumbnail_in_the_bucket(s3, owner_client, shop):
    upload = SimpleUploadedFile("a.png", png_bytes(120, 80), content_type="image/png")
    response = owner_client.post("/library/upload/", {"file": upload})
    assert response.status_code in (200, 201, 302)
    asset = Asset.objects.get(shop=shop)
    assert keys_in(s3, shop.storage_prefix) == sorted([asset.file.name, asset.thumbnail.name])
    body = s3.get_object(Bucket=s3.bucket, Key=asset.file.name)["Body"].read()
    assert Image.open(io.BytesIO(body)).size == (120, 80)
    # The asset page and the file's download go through the same storage.
    assert owner_client.get(f"/library/{asset.id}/").status_code == 200


def test_it_stores_derived_files_of_a_job_in_the_bucket(s3, shop, user):
    source = upload_asset(shop, png_bytes(64, 48), user=user, filename="s.png")
    job = operations.submit_operation(shop, source, "upscale", {"zoom_factor": 2}, user)
    done = actions.execute_job(str(job.id))
    assert done.status == Job.Status.COMPLETED, done.error
    derived = Asset.objects.get(job=done)
    assert derived.parent == source and (derived.width, derived.height) == (128, 96)
    assert derived.file.name in keys_in(s3, shop.storage_prefix)
    with default_storage.open(derived.file.name, "rb") as fh:
        assert Image.open(fh).size == (128, 96)


def test_it_renders_signed_mockups_of_bucket_assets_and_caches_them_in_the_bucket(
    s3, client, shop, user, settings
):
    asset = upload_asset(shop, png_bytes(96, 96), user=user, filename="d.png")
    asset_url = f"{settings.STORAGE_PUBLIC_ORIGIN}/{asset.file.name}"
    query = signing.signed_query(
        shop, "/m/tshirt", {"asset": asset_url, "shop": shop.slug, "w": "256"}
    )
    first = client.get(f"/m/tshirt?{query}")
    assert first.status_code == 200, first.content[:300]
    again = client.get(f"/m/tshirt?{query}")
    assert (first["X-Mockup-Cache"], again["X-Mockup-Cache"]) == ("miss", "hit")
    assert first.content == again.content
    # The render and the design's prepared copy (mockups/designs.py), both in the bucket.
    names = sorted(RenderCacheEntry.objects.filter(shop=shop).values_list("name", flat=True))
    assert [("/.designs/" in name) for name in names] == [True, False]
    assert set(names) <= set(keys_in(s3, "mockup-cache/"))
    # An unsigned URL is refused: a new shop requires signatures.
    unsigned = client.get("/m/tshirt?" + urlencode({"asset": asset_url, "shop": shop.slug}))
    assert unsigned.status_code == 403
    # Eviction deletes from the bucket too.
    from mockups import rendercache

    assert rendercache.evict(shop, budget_bytes=0) == 2
    assert keys_in(s3, "mockup-cache/") == []


def test_presigned_file_urls_serve_the_file(s3, shop, user, settings):
    """With querystring_auth (a private bucket), file URLs are presigned and fetchable."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            **settings.STORAGES["default"],
            "OPTIONS": {**settings.STORAGES["default"]["OPTIONS"], "querystring_auth": True},
        },
    }
    asset = upload_asset(shop, png_bytes(30, 20), user=user, filename="p.png")
    url = asset.file.url
    assert "X-Amz-Signature=" in url or "Signature=" in url
    response = httpx.get(url)
    assert response.status_code == 200
    assert Image.open(io.BytesIO(response.content)).size == (30, 20)


def test_the_orphan_sweeper_works_on_the_bucket(s3, shop, user):
    from generations.orphans import sweep_orphans

    owned = upload_asset(shop, png_bytes(), user=user, filename="o.png")
    orphan = f"{shop.storage_prefix}assets/{'0' * 32}/original.png"
    default_storage.save(orphan, ContentFile(png_bytes()))
    young = sweep_orphans(grace_seconds=3600)
    assert young["asset_folders"] == 0 and young["young"] == 1
    counts = sweep_orphans(grace_seconds=-60)  # everything counts as old
    assert counts["asset_folders"] == 1
    keys = keys_in(s3, shop.storage_prefix)
    assert orphan not in keys and owned.file.name in keys


def test_bucket_urls_are_the_shops_own_without_a_public_origin(s3, client, shop, user, settings):
    """With STORAGE_PUBLIC_ORIGIN unset, an asset's own S3 URL still counts as the shop's
    storage origin for mockups (no fetch, no trusted-origin entry needed)."""
    settings.STORAGE_PUBLIC_ORIGIN = ""
    asset = upload_asset(shop, png_bytes(96, 96), user=user, filename="d.png")
    query = signing.signed_query(
        shop, "/m/mug", {"asset": asset.file.url, "shop": shop.slug, "w": "256"}
    )
    response = client.get(f"/m/mug?{query}")
    assert response.status_code == 200, response.content[:300]
