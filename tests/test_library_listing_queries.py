"""The library's listing queries: keyset pages over ties, and the model filter's choices."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from generations.library import LibraryQuery, keyset_page, library_models
from generations.models import Asset
from studio import actions as studio_actions

pytestmark = pytest.mark.django_db


def _assets(shop, n, *, model="builtin:procedural", same_time=False):
    now = timezone.now()
    rows = [
        Asset(
            id=uuid.uuid4(),
            shop=shop,
            kind="generated",
            file=f"x/{i}.png",
            content_type="image/png",
            width=8,
            height=8,
            bytes=1,
            sha256="0" * 64,
            model=model,
            prompt=f"item {i}",
            search_text=f"item {i}",
            created_at=now if same_time else now - timedelta(seconds=i // 3),
        )
        for i in range(n)
    ]
    return Asset.objects.bulk_create(rows)


@pytest.mark.parametrize("sort", ["newest", "oldest"])
@pytest.mark.parametrize("same_time", [False, True])
def test_it_pages_through_every_asset_exactly_once(shop, sort, same_time):
    made = _assets(shop, 23, same_time=same_time)
    query = LibraryQuery(sort=sort)
    seen, cursor, pages = [], "", 0
    while True:
        items, cursor = keyset_page(Asset.objects.filter(shop=shop), query, cursor, limit=5)
        seen += [a.id for a in items]
        pages += 1
        if not cursor:
            break
    assert pages == 5
    assert sorted(seen) == sorted(a.id for a in made) and len(seen) == len(set(seen))
    keys = [(a.created_at, a.id) for a in Asset.objects.filter(id__in=seen)]
    order = {a_id: i for i, a_id in enumerate(seen)}
    expected = sorted(keys, reverse=sort == "newest")
    assert [k[1] for k in expected] == sorted(seen, key=order.__getitem__)


def test_it_lists_the_distinct_models_of_one_shop_sorted(shop):
    _assets(shop, 3, model="gpt-image-1")
    _assets(shop, 2, model="builtin:procedural")
    _assets(shop, 2, model="")
    other = studio_actions.create_shop("Other shop")
    _assets(other, 2, model="fal-ai/flux/dev")
    assert library_models(shop) == ["builtin:procedural", "gpt-image-1"]
    assert library_models(other) == ["fal-ai/flux/dev"]


def test_it_offers_the_models_in_the_library_filter(owner_client, shop):
    _assets(shop, 2, model="gpt-image-1")
    html = owner_client.get("/library/").content.decode()
    # The option sends the model's name and shows its label (people's words, not the id).
    from generations.templatetags.library_format import model_label

    assert f'<option value="gpt-image-1" >{model_label("gpt-image-1")}</option>' in html


@pytest.mark.postgres
def test_prompt_search_has_a_trigram_index_on_postgresql():
    from django.db import connection

    from tests.conftest import skip_or_fail

    if connection.vendor != "postgresql":
        skip_or_fail("needs PostgreSQL (set DATABASE_URL=postgres://…)")
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'asset_search_trgm'")
        row = cursor.fetchone()
    assert row is not None and "gin_trgm_ops" in row[0]
