"""The library page: grid, search, filters, sort, keyset pagination and uploads."""

from __future__ import annotations

import base64
import re
import struct
import zlib
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from generations.models import Asset
from studio.models import LedgerEntry, Role
from tests.conftest import png_bytes
from tests.pagekit import make_asset, make_preset, media_files

pytestmark = pytest.mark.django_db

LIBRARY = reverse("library")
UPLOAD = reverse("upload")
ASSET_LINK = re.compile(r'href="/library/([0-9a-f-]{36})/"')
MORE_LINK = re.compile(r'<a class="button" href="\?([^"]*cursor=[^"]+)">More</a>')


def asset_ids(response) -> list[str]:
    return ASSET_LINK.findall(response.content.decode())


def next_query(response) -> str | None:
    match = MORE_LINK.search(response.content.decode())
    return match.group(1).replace("&amp;", "&") if match else None


def walk(client, query: str = "", htmx: bool = False) -> list[str]:
    """Follow the "More" link from the first page to the last, collecting asset ids."""
    seen, url = [], f"{LIBRARY}?{query}"
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    first = True
    while url:
        # The first page is a full page; later pages come as HTMX fragments when htmx=True.
        response = client.get(url, **(headers if not first else {}))
        assert response.status_code == 200
        seen += asset_ids(response)
        nxt = next_query(response)
        url = f"{LIBRARY}?{nxt}" if nxt else None
        first = False
    return seen


@pytest.mark.parametrize("role", [Role.OWNER, Role.DESIGNER, Role.VIEWER])
def test_it_handles_the_library_for_each_role(role, shop, user, add_member, client_for):
    make_asset(shop, user, prompt="an orange lighthouse")
    member = add_member(shop, role)
    response = client_for(member, shop).get(LIBRARY)
    html = response.content.decode()
    assert response.status_code == 200
    assert "an orange lighthouse" in html and 'loading="lazy"' in html
    assert 'alt="an orange lighthouse"' in html
    assert ('action="/library/upload/"' in html) is (role != Role.VIEWER)


def test_it_handles_keyset_pagination_returning_every_asset_once(owner_client, shop, user):
    """GIVEN 95 assets, some sharing a timestamp WHEN following "More" THEN each appears once."""
    now = timezone.now()
    made = []
    for i in range(95):
        # Groups of five share created_at: the id breaks the tie.
        made.append(
            make_asset(shop, user, prompt=f"item {i}", created_at=now - timedelta(minutes=i // 5))
        )
    expected = [
        str(a.id) for a in sorted(made, key=lambda a: (a.created_at, a.id.hex), reverse=True)
    ]
    newest = walk(owner_client)
    assert newest == expected
    oldest = walk(owner_client, "sort=oldest", htmx=True)
    assert oldest == list(reversed(expected))


def test_it_handles_the_htmx_infinite_scroll_fragment(owner_client, shop, user):
    for i in range(45):
        make_asset(shop, user, prompt=f"tile {i}")
    first = owner_client.get(LIBRARY)
    nxt = next_query(first)
    assert nxt and 'hx-trigger="revealed"' in first.content.decode()
    fragment = owner_client.get(f"{LIBRARY}?{nxt}", HTTP_HX_REQUEST="true")
    html = fragment.content.decode()
    assert "<html" not in html and html.count('class="tile"') == 5


def test_it_handles_search_by_prompt_words(owner_client, shop, user):
    fox = make_asset(shop, user, prompt="A Teal FOX on a poster")
    make_asset(shop, user, prompt="a teal whale")
    assert asset_ids(owner_client.get(LIBRARY, {"q": "fox teal"})) == [str(fox.id)]
    assert len(asset_ids(owner_client.get(LIBRARY, {"q": "teal"}))) == 2
    response = owner_client.get(LIBRARY, {"q": "zebra"})
    assert (
        asset_ids(response) == [] and "Nothing matches these filters." in response.content.decode()
    )


def test_it_handles_filters(owner_client, shop, user):
    preset = make_preset(shop)
    now = timezone.now()
    generated = make_asset(shop, user, prompt="gen", preset=preset)
    upload = make_asset(shop, user, prompt="", kind=Asset.Kind.UPLOAD)
    old = make_asset(
        shop, user, prompt="old", model="other:model", created_at=now - timedelta(days=10)
    )

    def ids(**params):
        return set(asset_ids(owner_client.get(LIBRARY, params)))

    assert ids(kind="upload") == {str(upload.id)}
    assert ids(kind="generated") == {str(generated.id), str(old.id)}
    assert ids(model="other:model") == {str(old.id)}
    assert ids(preset=str(preset.id)) == {str(generated.id)}
    day = (now - timedelta(days=10)).date().isoformat()
    assert ids(**{"from": day, "to": day}) == {str(old.id)}
    assert ids(**{"from": (now - timedelta(days=1)).date().isoformat()}) == {
        str(generated.id),
        str(upload.id),
    }
    # Junk filter values are ignored, not errors.
    assert len(ids(kind="nope", preset="junk", **{"from": "yesterday"}, cursor="%%%")) == 3


def test_it_handles_htmx_filter_requests_with_a_fragment(owner_client, shop, user):
    make_asset(shop, user, prompt="a fox")
    response = owner_client.get(LIBRARY, {"q": "fox"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert "<html" not in html and 'id="asset-grid"' in html


# --- uploads -------------------------------------------------------------------------------------


def upload(client, data: bytes, name: str = "x.png", content_type: str = "image/png"):
    return client.post(UPLOAD, {"file": SimpleUploadedFile(name, data, content_type=content_type)})


def nothing_stored() -> bool:
    return not Asset.objects.exists() and media_files() == [] and not LedgerEntry.objects.exists()


def test_it_handles_an_upload(owner_client, shop):
    response = upload(owner_client, png_bytes(40, 30), name="logo.png")
    asset = Asset.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "asset_detail", args=[asset.id]
    )
    assert (asset.kind, asset.width, asset.height, asset.shop) == ("upload", 40, 30, shop)
    assert asset.parameters["filename"] == "logo.png"
    assert len(media_files()) == 2  # original + thumbnail


def test_it_rejects_a_corrupt_upload(owner_client):
    data = png_bytes(64, 64)
    response = upload(owner_client, data[: len(data) // 2])
    assert response.status_code == 422
    assert "Upload refused: The image is corrupt or truncated" in response.content.decode()
    assert nothing_stored()


def test_it_rejects_a_non_image_upload(owner_client):
    response = upload(
        owner_client, b"%PDF-1.7 not an image", name="doc.pdf", content_type="application/pdf"
    )
    assert response.status_code == 422
    assert (
        "This is not an image in an accepted format (JPEG, PNG, WEBP)." in response.content.decode()
    )
    assert nothing_stored()


def test_it_rejects_an_oversized_upload(owner_client, settings):
    settings.IMAGE_MAX_BYTES = 2_000
    data = b"\x89PNG" + b"\0" * 5_000
    response = upload(owner_client, data)
    assert response.status_code == 422
    assert "the limit is 2,000 bytes" in response.content.decode()
    assert nothing_stored()


def png_header_only(width: int, height: int) -> bytes:
    """A valid PNG signature and IHDR declaring width×height, with one tiny IDAT."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1-bit greyscale
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize(
    ("side", "message"),
    [
        # Over IMAGE_MAX_PIXELS (40M): the loader's own check on the header's size.
        (7_000, "The image is 7000×7000 (49,000,000 pixels); the limit is 40,000,000 pixels."),
        # Far over: Pillow's bomb guard fires while reading the header.
        (40_000, "The image is too large to decode safely."),
    ],
)
def test_it_rejects_a_decompression_bomb(owner_client, side, message):
    """A tiny PNG whose header declares huge dimensions is refused before decoding."""
    response = upload(owner_client, png_header_only(side, side))
    assert response.status_code == 422
    assert f"Upload refused: {message}" in response.content.decode()
    assert nothing_stored()


def test_it_rejects_an_empty_upload_form(owner_client):
    response = owner_client.post(UPLOAD, {})
    assert response.status_code == 422
    assert "This field is required." in response.content.decode()
    assert nothing_stored()


def test_it_rejects_an_upload_by_a_viewer(shop, add_member, client_for):
    viewer = add_member(shop, Role.VIEWER)
    assert upload(client_for(viewer, shop), png_bytes()).status_code == 403
    assert nothing_stored()


@pytest.mark.parametrize(
    "raw",
    [
        '["2024-01-01T00:00:00+00:00", "zz"]',  # not a UUID: was a 500 (ValidationError)
        '["2024-01-01", 5]',
        '{"a": 1}',
        "[null, null]",
        "not json",
    ],
)
def test_it_rejects_tampered_cursors_with_the_first_page(owner_client, shop, user, raw):
    asset = make_asset(shop, user)
    cursor = base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")
    for url in (LIBRARY, reverse("gallery")):
        response = owner_client.get(url, {"cursor": cursor})
        assert response.status_code == 200
    assert asset_ids(owner_client.get(LIBRARY, {"cursor": cursor})) == [str(asset.id)]


def test_it_handles_junk_query_parameters(owner_client):
    for url in (
        "/?preset=junk",
        "/?count=abc&seed=-5&model=zzz&aspect_ratio=7:7",
        "/library/?from=2024-13-45&to=x&sort=zz&kind=<b>",
        "/usage/?page=-1",
        "/gallery/?q=" + "a " * 500,
        "/generate/preset-fields/?preset=",
    ):
        assert owner_client.get(url).status_code == 200, url


def test_it_reads_the_users_memberships_once_per_page(shop, user, client_for):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    make_asset(shop, user, prompt="an orange lighthouse")
    client = client_for(user, shop)
    client.get(LIBRARY)
    with CaptureQueriesContext(connection) as queries:
        html = client.get(LIBRARY).content.decode()
    assert "an orange lighthouse" in html
    membership_reads = [q for q in queries.captured_queries if "studio_membership" in q["sql"]]
    assert len(membership_reads) == 1  # the middleware's; the shop switcher reuses it
