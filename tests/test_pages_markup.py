"""Accessible markup on every page: labelled controls, alt text, one main and one h1, landmarks."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django.test import Client
from django.urls import reverse

from generations import actions
from studio.models import Role
from tests.pagekit import make_asset, make_job, make_preset

pytestmark = pytest.mark.django_db


class Audit(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.labels_for: set[str] = set()
        self.controls: list[dict[str, str]] = []
        self.images: list[dict[str, str]] = []
        self.counts = {"main": 0, "h1": 0, "nav": 0, "header": 0}
        self.html_lang = ""
        self._label_depth = 0

    def handle_starttag(self, tag, attrs):
        a = {k: v or "" for k, v in attrs}
        if tag == "html":
            self.html_lang = a.get("lang", "")
        if tag in self.counts:
            self.counts[tag] += 1
        if tag == "label":
            self._label_depth += 1
            if a.get("for"):
                self.labels_for.add(a["for"])
        if tag in ("input", "select", "textarea") and a.get("type") not in (
            "hidden",
            "submit",
            "button",
        ):
            self.controls.append({**a, "_tag": tag, "_wrapped": str(self._label_depth > 0)})
        if tag == "img":
            self.images.append(a)

    def handle_endtag(self, tag):
        if tag == "label":
            self._label_depth -= 1


def audit(html: str) -> Audit:
    parser = Audit()
    parser.feed(html)
    return parser


def assert_accessible(html: str, url: str) -> None:
    page = audit(html)
    assert page.html_lang == "en", url
    assert page.counts["main"] == 1 and page.counts["h1"] == 1, (url, page.counts)
    assert page.counts["nav"] >= 1, url
    for control in page.controls:
        labelled = (
            control.get("id") in page.labels_for
            or control.get("aria-label")
            or control["_wrapped"] == "True"
        )
        assert labelled, (url, control)
    for image in page.images:
        assert "alt" in image, (url, image)


@pytest.fixture
def populated(shop, user):
    asset = make_asset(shop, user, prompt="a coral reef", is_public=True)
    job = make_job(shop, user)
    done = make_job(shop, user, width=64, height=64)
    from generations.models import Job

    Job.objects.filter(id=done.id).update(status="queued")
    actions.execute_job(str(done.id))
    preset = make_preset(shop)
    return {"asset": asset, "job": job, "preset": preset}


def test_it_handles_accessible_markup_on_member_pages(owner_client, populated):
    urls = [
        reverse("dashboard"),
        reverse("dashboard") + f"?preset={populated['preset'].id}",
        reverse("library"),
        reverse("asset_detail", args=[populated["asset"].id]),
        reverse("job_list"),
        reverse("job_detail", args=[populated["job"].id]),
        reverse("preset_list"),
        reverse("preset_new"),
        reverse("preset_edit", args=[populated["preset"].id]),
        reverse("members"),
        reverse("usage"),
        reverse("gallery"),
        reverse("gallery_detail", args=[populated["asset"].id]),
        reverse("password_change"),
        reverse("shop_create"),
        "/no-such-page/",
    ]
    for url in urls:
        response = owner_client.get(url)
        assert response.status_code in (200, 404), url
        assert_accessible(response.content.decode(), url)


def test_it_handles_accessible_markup_on_public_pages(shop, user):
    make_asset(shop, user, prompt="a coral reef", is_public=True)
    client = Client()
    for url in (
        reverse("login"),
        reverse("signup"),
        reverse("password_reset"),
        reverse("password_reset_done"),
        reverse("gallery"),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert_accessible(response.content.decode(), url)


def test_it_handles_accessible_markup_on_the_403_page(shop, add_member, client_for):
    viewer = client_for(add_member(shop, Role.VIEWER), shop)
    response = viewer.get(reverse("preset_new"))
    assert response.status_code == 403
    assert_accessible(response.content.decode(), "403")


def test_it_rejects_unlabelled_controls_and_missing_alt_text():
    """The audit itself catches what it is meant to catch."""
    base = '<html lang="en"><nav></nav><main><h1>x</h1>{}</main></html>'
    assert_accessible(base.format('<label for="a">A</label><input id="a"><img alt="">'), "ok")
    for bad in ('<input id="b">', '<img src="x.png">', "<h1>second</h1>", "<select></select>"):
        with pytest.raises(AssertionError):
            assert_accessible(base.format(bad), "bad")
