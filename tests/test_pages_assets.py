"""Asset detail, download, delete, the public toggle and the public gallery."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from generations.models import Asset
from studio.models import Role
from tests.pagekit import make_asset, media_files

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("role", [Role.OWNER, Role.DESIGNER, Role.VIEWER])
def test_it_handles_asset_detail_for_each_role(role, shop, user, add_member, client_for):
    asset = make_asset(shop, user, prompt="a lime kite", seed=77)
    member = add_member(shop, role)
    response = client_for(member, shop).get(reverse("asset_detail", args=[asset.id]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "a lime kite" in html and ">77<" in html and "builtin:procedural" in html
    assert 'alt="a lime kite"' in html
    assert reverse("asset_download", args=[asset.id]) in html
    # Only the owner manages an item the owner made; remix needs the generate permission.
    assert (reverse("asset_delete", args=[asset.id]) in html) is (role == Role.OWNER)
    assert ("?remix=" in html) is (role != Role.VIEWER)


def test_it_handles_download_headers(owner_client, shop, user):
    asset = make_asset(shop, user, prompt="Red Fox: poster!")
    response = owner_client.get(reverse("asset_download", args=[asset.id]))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"] == (
        f'attachment; filename="red-fox-poster-{asset.id.hex[:8]}.png"'
    )
    assert response["Content-Length"] == str(asset.bytes)
    assert response["X-Content-Type-Options"] == "nosniff"
    body = b"".join(response.streaming_content)
    assert len(body) == asset.bytes and body.startswith(b"\x89PNG")


def test_it_handles_delete_by_the_owner(owner_client, shop, user):
    asset = make_asset(shop, user)
    assert len(media_files()) == 2
    response = owner_client.post(reverse("asset_delete", args=[asset.id]))
    assert response.status_code == 302 and response["Location"] == reverse("library")
    assert not Asset.objects.exists() and media_files() == []


def test_it_handles_a_designer_deleting_their_own_asset(shop, add_member, client_for):
    designer = add_member(shop, Role.DESIGNER)
    asset = make_asset(shop, designer)
    response = client_for(designer, shop).post(reverse("asset_delete", args=[asset.id]))
    assert response.status_code == 302 and not Asset.objects.exists()


def test_it_rejects_a_designer_deleting_another_members_asset(shop, user, add_member, client_for):
    asset = make_asset(shop, user)
    designer = add_member(shop, Role.DESIGNER)
    client = client_for(designer, shop)
    response = client.post(reverse("asset_delete", args=[asset.id]))
    assert response.status_code == 403
    assert "only the items they made" in response.content.decode()
    assert (
        client.post(reverse("asset_public", args=[asset.id]), {"is_public": "1"}).status_code == 403
    )
    asset.refresh_from_db()
    assert not asset.is_public and len(media_files()) == 2


def test_it_rejects_a_viewer_deleting_or_publishing(shop, add_member, client_for):
    viewer = add_member(shop, Role.VIEWER)
    asset = make_asset(shop, viewer)
    client = client_for(viewer, shop)
    assert client.post(reverse("asset_delete", args=[asset.id])).status_code == 403
    assert (
        client.post(reverse("asset_public", args=[asset.id]), {"is_public": "1"}).status_code == 403
    )
    assert Asset.objects.filter(is_public=False).count() == 1


def test_it_rejects_get_on_delete(owner_client, shop, user):
    asset = make_asset(shop, user)
    assert owner_client.get(reverse("asset_delete", args=[asset.id])).status_code == 405
    assert Asset.objects.exists()


def test_it_handles_the_public_toggle(owner_client, shop, user):
    asset = make_asset(shop, user)
    url = reverse("asset_public", args=[asset.id])
    response = owner_client.post(url, {"is_public": "1"})
    assert response.status_code == 302
    asset.refresh_from_db()
    assert asset.is_public
    fragment = owner_client.post(url, {"is_public": "0"}, HTTP_HX_REQUEST="true")
    assert (
        "<html" not in fragment.content.decode()
        and "Publish to the gallery" in fragment.content.decode()
    )
    asset.refresh_from_db()
    assert not asset.is_public


# --- the public gallery ----------------------------------------------------------------------------


def test_it_handles_the_gallery_for_a_logged_out_visitor(shop, user, make_user):
    other_user = make_user("other@example.com")
    mine = make_asset(shop, user, prompt="public mine", is_public=True)
    theirs = make_asset(
        other_user.memberships.get().shop, other_user, prompt="public theirs", is_public=True
    )
    private = make_asset(shop, user, prompt="secret sketch")
    visitor = Client()
    response = visitor.get(reverse("gallery"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "public mine" in html and "public theirs" in html and "secret sketch" not in html
    # Tiles point at routes a visitor can load.
    for asset in (mine, theirs):
        thumb = visitor.get(reverse("public_asset_thumb", args=[asset.id]))
        assert thumb.status_code == 200 and thumb["Content-Type"] == "image/webp"
        assert reverse("public_asset_thumb", args=[asset.id]) in html
        assert visitor.get(reverse("gallery_detail", args=[asset.id])).status_code == 200
        full = visitor.get(reverse("public_asset_file", args=[asset.id]))
        assert full.status_code == 200 and full["Content-Type"] == "image/png"
    for name in ("public_asset_thumb", "public_asset_file", "gallery_detail"):
        assert visitor.get(reverse(name, args=[private.id])).status_code == 404


def test_it_handles_media_urls_for_a_logged_out_visitor(shop, user):
    """Files under /media/ are served (capability URLs: shop slug + random asset id)."""
    asset = make_asset(shop, user, is_public=True)
    response = Client().get(asset.thumbnail.url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content)[:4] == b"RIFF"


def test_it_handles_gallery_search(shop, user):
    make_asset(shop, user, prompt="a public walrus", is_public=True)
    make_asset(shop, user, prompt="a public heron", is_public=True)
    html = Client().get(reverse("gallery"), {"q": "walrus"}).content.decode()
    assert "walrus" in html and "heron" not in html


def test_it_handles_use_this_prompt_from_the_gallery(owner_client, user, make_user):
    other_user = make_user("other@example.com")
    theirs = make_asset(
        other_user.memberships.get().shop,
        other_user,
        prompt="a violet moth",
        seed=99,
        is_public=True,
        parameters={"aspect_ratio": "4:5"},
    )
    html = owner_client.get(reverse("gallery_detail", args=[theirs.id])).content.decode()
    link = (
        re.search(r'href="(/\?prompt=[^"]+)">.*?Use this prompt', html)
        .group(1)
        .replace("&amp;", "&")
    )
    form = owner_client.get(link).context["form"]
    assert form["prompt"].value() == "a violet moth"
    assert form["seed"].value() == "99" and form["aspect_ratio"].value() == "4:5"
    # Logged out, the page shows no such link.
    assert (
        "Use this prompt"
        not in Client().get(reverse("gallery_detail", args=[theirs.id])).content.decode()
    )
