"""Input hygiene: NUL characters and unpaired surrogates are refused with 400, never a 500."""

from __future__ import annotations

import json

import pytest
from django.test import RequestFactory

from studio.hygiene import bad_text_reason

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "path",
    [
        "/gallery/?q=%00",
        "/gallery/?q%00=x",
        "/buy/%00/",
        "/accounts/login/?next=%00",
        "/invite/%00/",
    ],
)
def test_it_rejects_nul_in_public_pages_with_400(client, path):
    response = client.get(path)
    assert response.status_code == 400
    html = response.content.decode()
    assert "NUL" in html and "error-page" in html and "studio.css" in html  # the site's 400


def test_it_rejects_nul_in_a_mockup_url_with_a_json_400(client, shop):
    response = client.get(f"/m/tshirt?shop={shop.slug}%00&asset=x")
    assert response.status_code == 400
    body = response.json()
    assert body["error"]["code"] == "invalid_parameter" and "NUL" in body["error"]["message"]
    response = client.get("/m/tshirt?shop=%00")
    assert response.status_code == 400


def test_it_rejects_nul_in_page_forms(owner_client, client):
    response = owner_client.post("/generate/", {"prompt": "a fox\x00", "count": "1"})
    assert response.status_code == 400
    assert "prompt" in response.content.decode()
    response = client.post("/accounts/login/", {"username": "a\x00@example.com", "password": "x"})
    assert response.status_code == 400


def test_it_handles_clean_text_as_before(client, owner_client):
    assert client.get("/gallery/?q=caf%C3%A9").status_code == 200
    assert owner_client.get("/library/?q=%F0%9F%A6%8A").status_code == 200  # an emoji


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('{"prompt": "\\u0000"}', "NUL"),
        ('{"prompt": "a \\ud800 b"}', "surrogate"),
        ('{"items": [{"x": "\\udfff"}]}', "items[0].x"),
        ('{"\\ud83d": 1}', "JSON key"),
    ],
)
def test_bad_text_reason_walks_json_bodies(body, message):
    request = RequestFactory().post("/x", data=body, content_type="application/json")
    reason = bad_text_reason(request)
    assert reason is not None and message in reason


def test_bad_text_reason_accepts_paired_surrogates_and_leaves_bad_json_to_the_view():
    ok = json.dumps({"prompt": "a fox 🦊"})  # json.dumps escapes it as a surrogate PAIR
    assert "\\ud83e" in ok
    factory = RequestFactory()
    assert bad_text_reason(factory.post("/x", data=ok, content_type="application/json")) is None
    not_json = factory.post("/x", data="{nope", content_type="application/json")
    assert bad_text_reason(not_json) is None


def test_bad_text_reason_checks_query_strings_and_form_fields():
    factory = RequestFactory()
    assert "query parameter 'q'" in bad_text_reason(factory.get("/x", {"q": "a\x00"}))
    assert "form field 'name'" in bad_text_reason(factory.post("/x", {"name": "\x00"}))
    assert bad_text_reason(factory.post("/x", {"name": "Zoë"})) is None


def test_the_middleware_leaves_api_views_to_their_edge(settings):
    """A view with `api_family` (set by the API's endpoint wrapper) is not answered by the page
    middleware: the API edge answers in its own envelope."""
    from django.http import HttpResponse

    from studio.middleware import HygieneMiddleware

    def view(request):
        return HttpResponse("reached")

    view.api_family = object()
    middleware = HygieneMiddleware(lambda r: HttpResponse())
    request = RequestFactory().get("/x", {"q": "\x00"})
    assert middleware.process_view(request, view, (), {}) is None

    def page(request):
        return HttpResponse("reached")

    assert middleware.process_view(request, page, (), {}).status_code == 400


LONG_LABEL_URL = "https://" + "a" * 64 + ".example.com/x.png"


def test_it_rejects_a_host_label_over_63_characters_on_the_webhook_page(owner_client, shop):
    from generations.models import WebhookEndpoint

    response = owner_client.post("/webhooks/", {"url": LONG_LABEL_URL}, follow=True)
    assert response.status_code < 500
    assert "longer than 63" in response.content.decode()
    assert not WebhookEndpoint.objects.filter(shop=shop).exists()


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/uploads", {"url": LONG_LABEL_URL}),
        ("/ai-generations/remove-background", {"imageUrl": LONG_LABEL_URL}),
        ("/ai-generations/generate", {"prompt": "x", "referenceImageUrls": [LONG_LABEL_URL]}),
        ("/uploads", {"url": "https://user:pw@example.com/x.png"}),
        ("/uploads", {"url": "https://example.com\\@10.0.0.1/x.png"}),
    ],
)
def test_it_rejects_bad_host_names_and_userinfo_in_api_urls_with_400(shop, path, body):
    from generations.models import Asset
    from studio import apikeys
    from tests.api.conftest import ALL_SCOPES, ApiClient

    api = ApiClient(apikeys.create_api_key(shop, scopes=ALL_SCOPES, name="t").raw)
    response = api.post(path, body)
    assert response.status_code == 400, response.content
    assert not Asset.objects.filter(shop=shop).exists()
