"""Mockup URL rules: trusted origins, signatures (with rotation), SSRF refusals, bad input."""

from __future__ import annotations

import io
from urllib.parse import urlencode

import httpx
import pytest
from PIL import Image, features

from mockups import actions, signing
from mockups.models import ProductTemplate
from studio.models import Membership
from tests.mockups.conftest import asset_url, checkerboard, encode


def get(client, template, **params):
    return client.get(f"/m/{template}?" + urlencode(params))


def signed(owner, template, secret=None, /, **params):
    path = f"/m/{template}"
    items = sorted((k, str(v)) for k, v in params.items())
    sig = signing.signature(secret or owner.url_signing_secret, path, items)
    return path + "?" + urlencode([*items, ("sig", sig)])


@pytest.mark.django_db
def test_it_renders_an_asset_from_the_shops_own_storage(client, shop, store):
    asset = store()
    r = get(client, "tshirt", asset=asset_url(asset), shop=shop.slug, w=256)
    assert r.status_code == 200
    assert r["Content-Type"] == "image/jpeg"
    assert r["Cache-Control"] == "public, max-age=31536000, immutable"
    assert "render;dur=" in r["Server-Timing"] and "total;dur=" in r["Server-Timing"]
    image = Image.open(io.BytesIO(r.content))
    assert image.size == (256, 256)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fmt", "ctype", "pil"),
    [
        ("png", "image/png", "PNG"),
        ("webp", "image/webp", "WEBP"),
        ("jpeg", "image/jpeg", "JPEG"),
        pytest.param(
            "avif",
            "image/avif",
            "AVIF",
            marks=pytest.mark.skipif(not features.check("avif"), reason="Pillow without AVIF"),
        ),
    ],
)
def test_it_encodes_each_format(client, shop, store, fmt, ctype, pil):
    r = get(client, "poster-framed", asset=asset_url(store()), shop=shop.slug, w=256, fmt=fmt)
    assert r.status_code == 200 and r["Content-Type"] == ctype
    assert Image.open(io.BytesIO(r.content)).format == pil


@pytest.mark.django_db
def test_it_gives_a_transparent_sticker_png(client, shop, store):
    asset = store(checkerboard(96, alpha=True))
    r = get(
        client,
        "sticker",
        asset=asset_url(asset),
        shop=shop.slug,
        w=256,
        fmt="png",
        bg="transparent",
    )
    assert r.status_code == 200
    image = Image.open(io.BytesIO(r.content))
    assert image.mode == "RGBA"
    alpha = image.getchannel("A")
    assert alpha.getpixel((2, 2)) == 0  # the background is gone
    assert alpha.getpixel((128, 128)) == 255  # the sticker is not
    # A template that does not allow it refuses, and so does JPEG.
    r = get(client, "tshirt", asset=asset_url(asset), shop=shop.slug, fmt="png", bg="transparent")
    assert r.status_code == 400
    r = get(client, "sticker", asset=asset_url(asset), shop=shop.slug, bg="transparent")
    assert r.status_code == 400


@pytest.mark.django_db
def test_it_refuses_an_untrusted_origin_without_fetching(client, shop, recorder):
    r = get(client, "tshirt", asset="https://elsewhere.example/cat.png", shop=shop.slug)
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "untrusted_origin"
    assert r["Cache-Control"] == "no-store"
    assert "total;dur=" in r["Server-Timing"]
    assert recorder.requests == []


@pytest.mark.django_db
def test_it_fetches_an_allow_listed_origin_through_the_fetcher(client, shop, recorder):
    shop.trusted_origins = ["https://cdn.example.com"]
    shop.save()
    r = get(client, "mug", asset="https://cdn.example.com/art/cat.png", shop=shop.slug, w=256)
    assert r.status_code == 200, r.content
    assert len(recorder.requests) == 1
    sent = recorder.requests[0]
    # The request names the host; the fetcher pins the connection itself (tests/test_fetch.py).
    assert sent.headers["host"] == "cdn.example.com"
    assert r["Cache-Control"] == "public, max-age=300"  # external and not pinned: short


@pytest.mark.django_db
def test_a_hash_pin_makes_external_assets_immutable_and_is_checked(client, shop, recorder):
    import hashlib

    shop.trusted_origins = ["https://cdn.example.com"]
    shop.save()
    body = encode(checkerboard(64))
    good = hashlib.sha256(body).hexdigest()
    r = get(client, "mug", asset="https://cdn.example.com/a.png", shop=shop.slug, w=256, h=good)
    assert r.status_code == 200 and "immutable" in r["Cache-Control"]
    r = get(client, "mug", asset="https://cdn.example.com/b.png", shop=shop.slug, w=256, h="0" * 64)
    assert r.status_code == 409


SSRF_ORIGINS = [
    "http://127.0.0.1",
    "http://0.0.0.0",
    "http://169.254.169.254",
    "http://[::1]",
    "http://[::ffff:127.0.0.1]",
    "http://2130706433",
    "http://0x7f000001",
]


@pytest.mark.django_db
@pytest.mark.parametrize("origin", SSRF_ORIGINS)
def test_it_refuses_private_targets_even_when_allow_listed(client, shop, recorder, origin):
    """GIVEN an owner allow-listed a private origin WHEN a mockup uses it THEN no connection."""
    shop.trusted_origins = [origin]
    shop.save()
    r = get(client, "tshirt", asset=f"{origin}/latest/meta-data.png", shop=shop.slug)
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "blocked_address"
    assert recorder.requests == []


@pytest.mark.django_db
def test_it_refuses_a_name_that_resolves_to_a_private_address(client, shop, monkeypatch):
    from mockups import sources
    from tests.mockups.conftest import Recorder

    transport = Recorder()
    monkeypatch.setattr(
        sources, "FETCH_OPTIONS", {"transport": transport, "resolver": lambda h, p: ["10.0.0.7"]}
    )
    shop.trusted_origins = ["https://internal.example.com"]
    shop.save()
    r = get(client, "tshirt", asset="https://internal.example.com/x.png", shop=shop.slug)
    assert r.status_code == 403
    assert transport.requests == []


@pytest.mark.django_db
def test_it_refuses_a_redirect_to_a_private_address(client, shop, recorder):
    recorder.responses.append(
        httpx.Response(302, headers={"location": "http://127.0.0.1/admin.png"})
    )
    shop.trusted_origins = ["https://cdn.example.com"]
    shop.save()
    r = get(client, "tshirt", asset="https://cdn.example.com/x.png", shop=shop.slug)
    assert r.status_code == 403
    assert [str(req.url) for req in recorder.requests] == ["https://cdn.example.com/x.png"]


@pytest.mark.django_db
def test_it_accepts_a_valid_signature_and_rejects_one_over_other_parameters(client, shop, store):
    asset = store()
    params = {"asset": asset_url(asset), "shop": shop.slug, "w": 256}
    assert client.get(signed(shop, "tshirt", None, **params)).status_code == 200
    # A signature made for w=256 does not sign w=512.
    url = signed(shop, "tshirt", None, **params).replace("w=256", "w=512")
    r = client.get(url)
    assert r.status_code == 403 and r.json()["error"]["code"] == "invalid_signature"
    # Nor does it sign an added parameter.
    r = client.get(signed(shop, "tshirt", None, **params) + "&x=0.3")
    assert r.status_code == 403


@pytest.mark.django_db
def test_a_bad_signature_is_refused_before_any_fetch(client, shop, recorder):
    shop.trusted_origins = ["https://cdn.example.com"]
    shop.save()
    r = get(client, "tshirt", asset="https://cdn.example.com/x.png", shop=shop.slug, sig="00" * 32)
    assert r.status_code == 403
    assert recorder.requests == []


@pytest.mark.django_db
def test_rotation_accepts_both_secrets_and_not_older_ones(client, shop, store):
    asset = store()
    params = {"asset": asset_url(asset), "shop": shop.slug, "w": 256}
    first = shop.url_signing_secret
    shop = actions.rotate_signing_secret(shop)
    second = shop.url_signing_secret
    assert client.get(signed(shop, "tshirt", first, **params)).status_code == 200
    assert client.get(signed(shop, "tshirt", second, **params)).status_code == 200
    shop = actions.rotate_signing_secret(shop)
    assert client.get(signed(shop, "tshirt", first, **params)).status_code == 403
    assert client.get(signed(shop, "tshirt", second, **params)).status_code == 200


@pytest.mark.django_db
def test_an_owner_can_require_signatures(client, shop, store):
    asset = store()
    shop.require_signed_urls = True
    shop.save()
    r = get(client, "tshirt", asset=asset_url(asset), shop=shop.slug)
    assert r.status_code == 403 and r.json()["error"]["code"] == "signature_required"
    assert (
        client.get(signed(shop, "tshirt", None, asset=asset_url(asset), shop=shop.slug)).status_code
        == 200
    )


def test_the_canonical_string_is_sorted_and_escaped():
    s = signing.canonical_string(
        "/m/mug", [("w", "512"), ("asset", "https://a.b/c d.png?x=1"), ("sig", "zz")]
    )
    assert s == "/m/mug?asset=https%3A%2F%2Fa.b%2Fc%20d.png%3Fx%3D1&w=512"


@pytest.mark.django_db
def test_another_shops_asset_is_refused(client, shop, store, make_user):
    other_user = make_user("other@example.com")
    other = Membership.objects.get(user=other_user).shop
    theirs = store(in_shop=other)
    r = get(client, "tshirt", asset=asset_url(theirs), shop=shop.slug)
    assert r.status_code == 403 and r.json()["error"]["code"] == "foreign_asset"
    # Their asset id under our prefix is not found either.
    forged = asset_url(theirs).replace(other.slug, shop.slug)
    assert get(client, "tshirt", asset=forged, shop=shop.slug).status_code == 404


@pytest.mark.django_db
def test_another_shops_template_is_not_visible(client, shop, make_user):
    other_user = make_user("other2@example.com")
    other = Membership.objects.get(user=other_user).shop
    ProductTemplate.objects.create(
        shop=other,
        name="Secret",
        slug="secret-tee",
        print_area={"type": "quad", "points": [[0, 0], [10, 0], [10, 10], [0, 10]]},
    )
    r = get(client, "secret-tee", asset="http://testserver/media/x.png", shop=shop.slug)
    assert r.status_code == 404 and r.json()["error"]["code"] == "unknown_template"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("params", "status", "code"),
    [
        ({"w": "333"}, 400, "invalid_width"),
        ({"w": "abc"}, 400, "invalid_width"),
        ({"fmt": "gif"}, 400, "invalid_format"),
        ({"fit": "squash"}, 400, "invalid_fit"),
        ({"x": "nan"}, 400, "invalid_parameter"),
        ({"scale": "1e9"}, 400, "invalid_parameter"),
        ({"variant": "plaid"}, 400, "invalid_variant"),
        ({"bg": "transparent"}, 400, "invalid_parameter"),
        ({"utm_source": "x"}, 400, "invalid_parameter"),
        ({"shop": "no-such-shop"}, 404, "unknown_shop"),
        ({"asset": "ftp://x/y.png"}, 400, "invalid_asset_url"),
        ({"asset": ""}, 400, "missing_asset"),
    ],
)
def test_it_rejects_bad_input(client, shop, store, params, status, code):
    base = {"asset": asset_url(store()), "shop": shop.slug}
    r = get(client, "tshirt", **{**base, **params})
    assert r.status_code == status, r.content
    assert r.json()["error"]["code"] == code
    assert r["Cache-Control"] == "no-store"


@pytest.mark.django_db
def test_unknown_template_is_404(client, shop):
    r = get(client, "spaceship", asset="http://testserver/media/x.png", shop=shop.slug)
    assert r.status_code == 404


@pytest.mark.django_db
def test_a_corrupt_external_asset_is_a_4xx(client, shop, recorder):
    recorder.responses.append(httpx.Response(200, content=b"\x89PNG\r\n\x1a\nnot really"))
    shop.trusted_origins = ["https://cdn.example.com"]
    shop.save()
    r = get(client, "tshirt", asset="https://cdn.example.com/broken.png", shop=shop.slug)
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_image"


@pytest.mark.django_db
def test_a_corrupt_stored_file_is_a_4xx(client, shop, store):
    from mockups.render import SOURCES

    SOURCES.clear()  # decoded copies are keyed by content hash; start without one
    asset = store()
    with open(asset.file.path, "wb") as fh:
        fh.write(b"garbage")
    r = get(client, "tshirt", asset=asset_url(asset), shop=shop.slug)
    assert r.status_code == 422


@pytest.mark.django_db
def test_a_huge_source_is_rejected_by_the_loader(client, shop, recorder, settings):
    settings.IMAGE_MAX_PIXELS = 10_000
    recorder.responses.append(httpx.Response(200, content=encode(Image.new("RGB", (200, 200)))))
    shop.trusted_origins = ["https://cdn.example.com"]
    shop.save()
    r = get(client, "tshirt", asset="https://cdn.example.com/huge.png", shop=shop.slug)
    assert r.status_code == 422 and "pixels" in r.json()["error"]["message"]


def test_signed_links_from_the_helper_verify(rf, db, user):
    shop = Membership.objects.get(user=user).shop
    template = ProductTemplate(slug="mug")
    url = actions.mockup_url(
        rf.get("/"), shop, template, "https://cdn.example.com/a b.png", {"w": 512, "x": 0.25}
    )
    from urllib.parse import parse_qsl, urlsplit

    parts = urlsplit(url)
    items = parse_qsl(parts.query)
    sig = dict(items)["sig"]
    assert signing.verify(shop, parts.path, items, sig)


@pytest.mark.django_db
def test_a_redirect_to_an_untrusted_public_origin_is_refused(client, shop, recorder):
    recorder.responses.append(
        httpx.Response(302, headers={"location": "https://elsewhere.example/cat.png"})
    )
    shop.trusted_origins = ["https://cdn.example.com"]
    shop.save()
    r = get(client, "tshirt", asset="https://cdn.example.com/x.png", shop=shop.slug)
    assert r.status_code == 403 and r.json()["error"]["code"] == "untrusted_origin"


@pytest.mark.django_db
def test_a_redirect_within_trusted_origins_is_followed(client, shop, recorder):
    recorder.responses.append(
        httpx.Response(301, headers={"location": "https://img.example.com/x.png"})
    )
    shop.trusted_origins = ["https://cdn.example.com", "https://img.example.com"]
    shop.save()
    r = get(client, "tshirt", asset="https://cdn.example.com/x.png", shop=shop.slug, w=256)
    assert r.status_code == 200
    assert [req.headers["host"] for req in recorder.requests] == [
        "cdn.example.com",
        "img.example.com",
    ]


@pytest.mark.django_db
def test_a_per_shop_storage_origin_is_trusted_and_read_from_storage(
    client, shop, store, recorder, settings, make_user
):
    """GIVEN STORAGE_PUBLIC_ORIGIN=https://{shop}.storage.example.com WHEN a generated image's
    URL on that host is used THEN it is read from storage, with no HTTP request."""
    settings.STORAGE_PUBLIC_ORIGIN = "https://{shop}.storage.example.com"
    asset = store()
    url = f"https://{shop.slug}.storage.example.com/{asset.file.name}"
    r = get(client, "mug", asset=url, shop=shop.slug, w=256)
    assert r.status_code == 200
    assert recorder.requests == []
    # Another shop's storage host is simply not one of this shop's origins.
    other = Membership.objects.get(user=make_user("o3@example.com")).shop
    r = get(
        client,
        "mug",
        asset=f"https://{other.slug}.storage.example.com/{asset.file.name}",
        shop=shop.slug,
    )
    assert r.status_code == 403 and r.json()["error"]["code"] == "untrusted_origin"
