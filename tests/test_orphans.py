"""The orphan sweeper: stored files without their row are removed once old enough; files of
rows still being written, and every owned file, stay."""

from __future__ import annotations

import os
import time
import uuid

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction

from generations.library import store_asset
from generations.models import Asset
from generations.orphans import sweep_orphans
from tests.conftest import png_bytes

pytestmark = pytest.mark.django_db


def _age(name: str, hours: float) -> None:
    path = default_storage.path(name)
    old = time.time() - hours * 3600
    os.utime(path, (old, old))


def test_it_removes_an_old_folder_left_by_a_killed_write_and_keeps_owned_files(shop, settings):
    """GIVEN an asset folder whose row was never committed (a worker killed mid-write) WHEN the
    sweeper runs after the grace period THEN the folder's files are gone; a real asset's stay."""
    settings.ORPHAN_GRACE_SECONDS = 3600
    owned = store_asset(shop, png_bytes(), kind=Asset.Kind.UPLOAD)
    orphan = f"{shop.storage_prefix}assets/{uuid.uuid4().hex}"
    names = [
        default_storage.save(f"{orphan}/original.png", ContentFile(png_bytes())),
        default_storage.save(f"{orphan}/thumb-thumb.webp", ContentFile(b"webp")),
    ]
    for name in [*names, owned.file.name, owned.thumbnail.name]:
        _age(name, 2)
    counts = sweep_orphans()
    assert counts["asset_folders"] == 1 and counts["asset_files"] == 2
    assert not any(default_storage.exists(n) for n in names)
    assert default_storage.exists(owned.file.name) and default_storage.exists(owned.thumbnail.name)


def test_it_leaves_files_of_a_row_still_being_written(shop, settings):
    """Files younger than the grace period may belong to a transaction that has not committed
    yet: the sweeper leaves them, even while the row is invisible to it."""
    settings.ORPHAN_GRACE_SECONDS = 3600
    with transaction.atomic():
        asset = store_asset(shop, png_bytes(), kind=Asset.Kind.UPLOAD)
        # Another connection would not see this row yet; the sweeper judges by file age.
        Asset.objects.filter(pk=asset.pk).delete()
        counts = sweep_orphans()
        assert counts["asset_folders"] == 0 and counts["young"] == 1
        assert default_storage.exists(asset.file.name)


def test_it_removes_unindexed_renders_and_keeps_indexed_ones(shop, settings):
    from mockups.models import RenderCacheEntry

    settings.ORPHAN_GRACE_SECONDS = 60
    kept = default_storage.save(f"mockup-cache/{shop.slug}/ab/abkept.jpg", ContentFile(b"j"))
    RenderCacheEntry.objects.create(shop=shop, name=kept, bytes=1)
    stray = default_storage.save(f"mockup-cache/{shop.slug}/cd/cdstray.jpg", ContentFile(b"j"))
    fresh = default_storage.save(f"mockup-cache/{shop.slug}/ef/effresh.jpg", ContentFile(b"j"))
    _age(kept, 1)
    _age(stray, 1)
    counts = sweep_orphans()
    assert counts["renders"] == 1
    assert default_storage.exists(kept) and default_storage.exists(fresh)
    assert not default_storage.exists(stray)


def test_the_sweeper_is_scheduled(settings):
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "generations.tasks.sweep_orphans" in tasks
