"""Reconcile stored files with the rows that own them: files nobody owns are removed.

Storage is not transactional. A worker killed between writing an asset's files and committing
its row (or a rolled-back transaction whose clean-up never ran) leaves a folder
`shops/<shop>/assets/<asset>/` with no Asset row; an evicted or failed render can leave a file
under `mockup-cache/` with no RenderCacheEntry. `sweep_orphans` (a periodic task) deletes such
files once they are older than ORPHAN_GRACE_SECONDS, so files of a row still being written (its
transaction not yet committed) are never touched. Rows are never deleted here.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.files.storage import Storage, default_storage
from django.utils import timezone

from generations.models import Asset

log = logging.getLogger(__name__)
BATCH = 500


def _listdir(storage: Storage, path: str) -> tuple[list[str], list[str]]:
    try:
        dirs, files = storage.listdir(path)
    except (FileNotFoundError, NotADirectoryError):
        return [], []
    return list(dirs), list(files)


def _older_than(storage: Storage, names: list[str], cutoff: datetime) -> bool:
    """Every file is older than `cutoff` (a file that vanished meanwhile counts as old)."""
    for name in names:
        try:
            modified = storage.get_modified_time(name)
        except (FileNotFoundError, OSError):
            continue
        if timezone.is_naive(modified):
            modified = timezone.make_aware(modified, timezone.get_default_timezone())
        if modified >= cutoff:
            return False
    return True


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def sweep_orphans(*, grace_seconds: float | None = None) -> dict[str, int]:
    """Delete unowned asset folders and renders older than the grace period. Returns counts."""
    from mockups.models import RenderCacheEntry
    from mockups.rendercache import PREFIX as RENDER_PREFIX

    grace = grace_seconds if grace_seconds is not None else settings.ORPHAN_GRACE_SECONDS
    cutoff = timezone.now() - timedelta(seconds=grace)
    storage = Asset._meta.get_field("file").storage
    counts = {"asset_folders": 0, "asset_files": 0, "renders": 0, "young": 0}

    shop_dirs, _ = _listdir(storage, "shops")
    for slug in shop_dirs:
        base = f"shops/{slug}/assets"
        folders, _ = _listdir(storage, base)
        for chunk in _chunks(folders, BATCH):
            ids = {}
            for folder in chunk:
                try:
                    ids[folder] = uuid.UUID(hex=folder)
                except ValueError:
                    continue  # not ours to judge
            owned = {
                a.hex
                for a in Asset.objects.filter(id__in=ids.values()).values_list("id", flat=True)
            }
            for folder in ids:
                if folder in owned:
                    continue
                _, files = _listdir(storage, f"{base}/{folder}")
                names = [f"{base}/{folder}/{f}" for f in files]
                if not _older_than(storage, names, cutoff):
                    counts["young"] += 1
                    continue
                for name in names:
                    storage.delete(name)
                counts["asset_folders"] += 1
                counts["asset_files"] += len(names)
                log.warning(
                    "removed orphaned asset folder %s/%s (%d files)", base, folder, len(names)
                )

    render_storage = default_storage
    render_shops, _ = _listdir(render_storage, RENDER_PREFIX)
    for slug in render_shops:
        shards, _ = _listdir(render_storage, f"{RENDER_PREFIX}/{slug}")
        for shard in shards:
            _, files = _listdir(render_storage, f"{RENDER_PREFIX}/{slug}/{shard}")
            names = [f"{RENDER_PREFIX}/{slug}/{shard}/{f}" for f in files]
            for chunk in _chunks(names, BATCH):
                indexed = set(
                    RenderCacheEntry.objects.filter(name__in=chunk).values_list("name", flat=True)
                )
                for name in chunk:
                    if name in indexed:
                        continue
                    if not _older_than(render_storage, [name], cutoff):
                        counts["young"] += 1
                        continue
                    render_storage.delete(name)
                    counts["renders"] += 1
    if counts["asset_folders"] or counts["renders"]:
        log.info("orphan sweep: %s", counts)
    return counts
