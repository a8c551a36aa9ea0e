"""A cached mockup URL is answered ahead of the page middleware (mockups/middleware.py) and, once
served from the render cache, from a remembered answer for LOOKUP_TTL: the same bytes and
headers, and every refusal (hidden asset, suspended shop, bad signature) as soon as before."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.core.files.storage import default_storage
from django.test import Client

from generations import moderation
from mockups import actions, signing
from studio.models import Shop
from studio.staff import MODERATORS
from tests.mockups.conftest import asset_url

pytestmark = pytest.mark.django_db


@pytest.fixture
def moderator(django_user_model):
    user = django_user_model.objects.create_user("mod@example.com", "mod@example.com", "x" * 12)
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    user.groups.add(Group.objects.get(name=MODERATORS))
    return user


def signed(shop, asset, **extra):
    params = {"asset": asset_url(asset), "shop": shop.slug, "w": 256, **extra}
    return "/m/tshirt?" + signing.signed_query(shop, "/m/tshirt", params)


def test_it_answers_mockup_urls_without_the_page_middleware(shop, store):
    url = signed(shop, store())
    first = Client().get(url)
    hit = Client().get(url)
    assert first.status_code == hit.status_code == 200
    assert first["X-Mockup-Cache"] == "miss" and hit["X-Mockup-Cache"] == "hit"
    # No session, user or current shop was made for it, and no cookie is set.
    assert not hasattr(hit.wsgi_request, "session") and not hasattr(hit.wsgi_request, "user")
    assert not hit.cookies
    # What the skipped middleware added before, and the view's own headers, are all there.
    for response in (first, hit):
        assert response["X-Frame-Options"] == "DENY"
        assert response["X-Content-Type-Options"] == "nosniff"  # SecurityMiddleware
        assert response["Content-Length"] == str(len(response.content))
        assert response["Access-Control-Allow-Origin"] == "*"
        assert response["Cache-Control"] == actions.IMMUTABLE
        assert response["Content-Type"] == "image/jpeg"
    assert hit["ETag"] == first["ETag"] and hit.content == first.content
    assert hit["X-Cost-Cents"] == "0" and first["X-Cost-Cents"] == "1"


def test_it_refuses_other_methods_as_before(shop, store):
    response = Client().post(signed(shop, store()))
    assert response.status_code == 405


def test_a_remembered_hit_serves_the_same_bytes_and_304s(shop, store):
    url = signed(shop, store())
    client = Client()
    first = client.get(url)
    client.get(url)  # served from the render cache: remembered
    assert any(k[0] == "hit" for k in actions._lookups)
    again = client.get(url)
    assert again.content == first.content and again["ETag"] == first["ETag"]
    assert "cache;dur=" in again["Server-Timing"]
    revalidated = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    assert revalidated.status_code == 304 and revalidated.content == b""
    assert revalidated["ETag"] == first["ETag"]


def test_it_refuses_a_hidden_asset_at_once_after_a_remembered_hit(shop, store, moderator):
    asset = store()
    url = signed(shop, asset)
    for _ in range(3):
        assert Client().get(url).status_code == 200
    moderation.hide([asset], by=moderator, reason="Counterfeit logo.")
    gone = Client().get(url)
    assert gone.status_code == 410 and gone["Cache-Control"] == "no-store"


def test_it_refuses_a_suspended_shop_once_the_remembered_rows_expire(shop, store, monkeypatch):
    url = signed(shop, store())
    for _ in range(3):
        assert Client().get(url).status_code == 200
    # Another process suspends the shop: no signal here, so the answer holds for LOOKUP_TTL.
    Shop.objects.filter(pk=shop.pk).update(suspended_at="2026-01-01T00:00:00Z")
    monkeypatch.setattr(actions, "LOOKUP_TTL", 0.0)
    refused = Client().get(url)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "shop_suspended"


def test_a_changed_signature_is_checked_even_when_the_url_was_remembered(shop, store):
    url = signed(shop, store())
    Client().get(url)
    Client().get(url)
    tampered = url[:-4] + ("0000" if not url.endswith("0000") else "1111")
    response = Client().get(tampered)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "invalid_signature"


def test_an_evicted_render_is_rendered_and_charged_again(shop, store):
    url = signed(shop, store())
    first = Client().get(url)
    Client().get(url)
    for name in list(default_storage.listdir(f"mockup-cache/{shop.slug}")[0]):
        for file in default_storage.listdir(f"mockup-cache/{shop.slug}/{name}")[1]:
            default_storage.delete(f"mockup-cache/{shop.slug}/{name}/{file}")
    again = Client().get(url)
    assert again.status_code == 200 and again["X-Mockup-Cache"] == "miss"
    assert again["X-Cost-Cents"] == "1" and again["ETag"] == first["ETag"]


def test_another_host_is_not_served_from_the_remembered_answer(shop, store, settings):
    settings.ALLOWED_HOSTS = ["testserver", "other.example"]
    url = signed(shop, store())
    Client().get(url)
    Client().get(url)
    # The asset URL names testserver's storage; on another host it is not the shop's library.
    response = Client(HTTP_HOST="other.example").get(url)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "untrusted_origin"


def test_an_https_request_is_not_served_from_an_http_ones_answer(shop, store):
    url = signed(shop, store())  # the asset URL is http://testserver/...
    Client().get(url)
    Client().get(url)
    response = Client().get(url, secure=True)
    # Over https the http asset URL is not the site's own storage: refused as before, even
    # within the second the http request's rows are remembered.
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "untrusted_origin"
