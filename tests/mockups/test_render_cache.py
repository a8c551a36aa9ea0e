"""The render cache: content-addressed hits, ETag and 304, template edits change the output."""

from __future__ import annotations

import io
import json
from urllib.parse import urlencode

import numpy as np
import pytest
from django.core.files.storage import default_storage

from mockups import products
from tests.mockups.conftest import asset_url, checkerboard, encode


def get(client, template, headers=None, **params):
    return client.get(f"/m/{template}?" + urlencode(params), headers=headers or {})


@pytest.mark.django_db
def test_the_second_request_is_a_cache_hit_with_the_same_bytes(client, shop, store):
    asset = store()
    first = get(client, "tshirt", asset=asset_url(asset), shop=shop.slug, w=256)
    second = get(client, "tshirt", asset=asset_url(asset), shop=shop.slug, w=256)
    assert first["X-Mockup-Cache"] == "miss" and second["X-Mockup-Cache"] == "hit"
    assert first.content == second.content
    assert first["ETag"] == second["ETag"]
    assert "render;dur=" not in second["Server-Timing"] and "cache;dur=" in second["Server-Timing"]
    shards, _ = default_storage.listdir(f"mockup-cache/{shop.slug}")
    assert len(shards) == 1


@pytest.mark.django_db
def test_if_none_match_gives_304(client, shop, store):
    asset = store()
    first = get(client, "mug", asset=asset_url(asset), shop=shop.slug, w=256)
    r = get(
        client,
        "mug",
        headers={"If-None-Match": first["ETag"]},
        asset=asset_url(asset),
        shop=shop.slug,
        w=256,
    )
    assert r.status_code == 304 and r.content == b""
    assert r["ETag"] == first["ETag"]
    r = get(
        client,
        "mug",
        headers={"If-None-Match": '"other"'},
        asset=asset_url(asset),
        shop=shop.slug,
        w=256,
    )
    assert r.status_code == 200


@pytest.mark.django_db
def test_parameters_change_the_cache_key(client, shop, store):
    asset = store()
    a = get(client, "tshirt", asset=asset_url(asset), shop=shop.slug, w=256)
    b = get(client, "tshirt", asset=asset_url(asset), shop=shop.slug, w=256, x=0.3)
    c = get(client, "tshirt", asset=asset_url(asset), shop=shop.slug, w=256, variant="black")
    assert len({a["ETag"], b["ETag"], c["ETag"]}) == 3
    assert b["X-Mockup-Cache"] == "miss" and c["X-Mockup-Cache"] == "miss"


@pytest.mark.django_db
def test_editing_a_template_changes_its_urls_output(client, owner_client, shop, store):
    photo = encode(checkerboard(200, 4))
    template = products.create_shop_template(shop, name="Board", tags="", photo=photo)
    asset = store(checkerboard(64, 2))
    params = {"asset": asset_url(asset), "shop": shop.slug, "w": 256}
    before = get(client, template.slug, **params)
    assert before.status_code == 200
    assert get(client, template.slug, **params)["X-Mockup-Cache"] == "hit"
    r = owner_client.post(
        f"/mockups/templates/{template.id}/",
        {
            "name": "Board",
            "tags": "",
            "blend": "normal",
            "points": json.dumps([[10, 10], [190, 20], [180, 190], [20, 180]]),
        },
    )
    assert r.status_code == 302
    after = get(client, template.slug, **params)
    assert after["X-Mockup-Cache"] == "miss"
    assert after["ETag"] != before["ETag"]
    assert after.content != before.content


@pytest.mark.django_db
def test_errors_are_not_cached(client, shop):
    r = get(client, "tshirt", asset="https://nope.example/x.png", shop=shop.slug)
    assert r.status_code == 403
    assert r["Cache-Control"] == "no-store"
    assert "ETag" not in r


@pytest.mark.django_db
def test_a_changed_external_file_is_rendered_anew_after_its_hash_expires(
    client, shop, recorder, monkeypatch
):
    import httpx

    from mockups import sources

    shop.trusted_origins = ["https://cdn.example.com"]
    shop.save()
    params = {"asset": "https://cdn.example.com/a.png", "shop": shop.slug, "w": 256}
    recorder.responses.append(httpx.Response(200, content=encode(checkerboard(64, 2))))
    first = get(client, "mug", **params)
    second = get(client, "mug", **params)  # the remembered hash: a hit, no fetch
    assert second["X-Mockup-Cache"] == "hit" and len(recorder.requests) == 1
    # The file changes behind the same URL; once the remembered hash expires, it is re-fetched.
    monkeypatch.setattr(sources, "EXTERNAL_MAX_AGE", 0)
    recorder.responses.append(httpx.Response(200, content=encode(checkerboard(64, 4))))
    third = get(client, "mug", **params)
    assert len(recorder.requests) == 2
    assert third["ETag"] != first["ETag"] and third.content != first.content


@pytest.mark.django_db
def test_a_large_jpeg_decoded_reduced_renders_like_its_png(client, shop, user, decodes):
    """GIVEN the same 1600×1200 design stored as a JPEG (decoded reduced by the loader) and a PNG
    WHEN both are rendered on the T-shirt at 512 px
    THEN the mockups match: the reduced decode changes neither placement nor colours."""
    from PIL import Image

    from generations.library import upload_asset
    from mockups import render as renderer

    board = checkerboard(1600, 8).resize((1600, 1200))
    outputs = []
    for fmt in ("JPEG", "PNG"):
        renderer.SOURCES.clear()
        asset = upload_asset(shop, encode(board, fmt), user=user)
        r = get(client, "tshirt", asset=asset_url(asset), shop=shop.slug, w=512, fmt="png")
        assert r.status_code == 200
        outputs.append(np.asarray(Image.open(io.BytesIO(r.content)).convert("RGB"), np.int16))
    assert decodes == [(200, 150), (1600, 1200)]
    diff = np.abs(outputs[0] - outputs[1])
    assert diff.mean() < 0.5 and np.percentile(diff, 99) < 8


def test_the_in_process_caches_are_bounded_by_bytes_as_well_as_entries():
    import numpy as np

    from mockups.render import LRU, nbytes

    cache = LRU(10, max_bytes=3_000)
    for i in range(5):
        cache.put(i, np.zeros(1_000, np.uint8))
    assert list(cache.data) == [2, 3, 4] and cache.total_bytes() == 3_000
    # A value that grew after it was cached counts at the next put.
    grown = {"a": np.zeros(1_000, np.uint8)}
    cache.put("grown", grown)
    grown["b"] = np.zeros(1_500, np.uint8)
    cache.put("new", np.zeros(10, np.uint8))
    assert cache.total_bytes() <= 3_000 and "new" in cache.data
    # One entry larger than the budget is still kept: the render that made it needs it.
    cache.put("huge", np.zeros(10_000, np.uint8))
    assert list(cache.data) == ["huge"]
    assert nbytes({"x": [np.zeros(4, np.float32), b"12"]}) == 18


@pytest.mark.django_db
def test_a_prepared_width_reports_its_memory(client, shop, store):
    from mockups.render import PREPARED, nbytes

    PREPARED.clear()
    response = get(client, "mug", asset=asset_url(store()), shop=shop.slug, w=256)
    assert response.status_code == 200
    [prepared] = PREPARED.data.values()
    assert nbytes(prepared) >= prepared.width * prepared.height * 3  # at least the base photo
