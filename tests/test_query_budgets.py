"""Query budgets: the SQL statements each page and each API read may run, so an N+1 fails CI.

Each budget is a little above what the page measured (noted beside it) on a shop with enough
rows that a per-row query would show: a dozen images (one with a parent and derived children),
finished generation and operation jobs with outputs, presets, price rules and staff model rows.
The counts are for a warm process (the price table and staff's model rows come from Django's
cache after their first read), and include the session, user, membership and shop lookups.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db


# page: (path, budget). Measured on 2026-12-03 (warm cache) in the comment; the asset page ran
# 183 statements before the price table and staff's model rows were cached (issue 16).
PAGES: dict[str, tuple[Callable[[dict[str, Any]], str], int]] = {
    "dashboard": (lambda s: reverse("dashboard"), 10),  # measured 7 (was 14)
    "library": (lambda s: reverse("library"), 10),  # measured 7
    "asset": (lambda s: reverse("asset_detail", args=[s["asset"].id]), 12),  # measured 8 (was 183)
    "derived asset": (lambda s: reverse("asset_detail", args=[s["child"].id]), 12),  # measured 7
    "mockup editor": (lambda s: reverse("mockup_editor") + f"?asset={s['asset'].id}", 12),  # 9
    "jobs": (lambda s: reverse("job_list"), 11),  # measured 8
    "job": (lambda s: reverse("job_detail", args=[s["jobs"][0].id]), 9),  # measured 6
}


@pytest.mark.parametrize("page", list(PAGES))
def test_it_keeps_each_page_within_its_query_budget(
    page: str, busy_shop: dict[str, Any], owner_client: Client, django_assert_max_num_queries: Any
) -> None:
    path, budget = PAGES[page]
    url = path(busy_shop)
    assert owner_client.get(url).status_code == 200  # warm: prices and model rows are cached
    with django_assert_max_num_queries(budget):
        assert owner_client.get(url).status_code == 200


def test_the_asset_page_stays_within_twenty_with_a_cold_cache(
    busy_shop: dict[str, Any], owner_client: Client, django_assert_max_num_queries: Any
) -> None:
    """The first request after a price or model edit reads the price table and the model rows
    once each, not once per operation (it was 183 statements)."""
    from django.core.cache import cache

    url = reverse("asset_detail", args=[busy_shop["asset"].id])
    cache.clear()
    with django_assert_max_num_queries(20):  # measured 10
        assert owner_client.get(url).status_code == 200
