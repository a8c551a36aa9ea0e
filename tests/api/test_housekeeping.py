"""The beat's API housekeeping task: old Idempotency-Key records and rate-limit windows go."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from generations import tasks
from studio.models import IdempotencyRecord, RateLimitWindow, Shop

pytestmark = pytest.mark.django_db


def test_it_purges_expired_records_and_windows_only(shop: Shop, make_key: Any) -> None:
    key = make_key(shop).api_key
    now = timezone.now()
    old = IdempotencyRecord.objects.create(
        api_key=key, key="old", request_hash="h", created_at=now - timedelta(hours=25)
    )
    fresh = IdempotencyRecord.objects.create(api_key=key, key="fresh", request_hash="h")
    stale_window = RateLimitWindow.objects.create(bucket="b", window=int(time.time()) - 7200)
    live_window = RateLimitWindow.objects.create(bucket="b", window=int(time.time()) - 60)

    assert tasks.purge_idempotency_records() == 1

    assert list(IdempotencyRecord.objects.values_list("pk", flat=True)) == [fresh.pk]
    assert not IdempotencyRecord.objects.filter(pk=old.pk).exists()
    assert list(RateLimitWindow.objects.values_list("pk", flat=True)) == [live_window.pk]
    assert stale_window.pk != live_window.pk
