"""Editor, sheet, shop templates, URL settings, listings, buy links and orders."""

from __future__ import annotations

import io
import json
import re

import pytest
from PIL import Image

from mockups import products
from mockups.models import Listing, Order, ProductTemplate
from studio.models import Membership, Role
from tests.mockups.conftest import checkerboard, encode
from tests.pagekit import make_listing


@pytest.fixture
def other_shop(make_user):
    other = make_user("rival@example.com")
    return Membership.objects.get(user=other).shop


def test_the_editor_shows_a_signed_preview_that_renders(owner_client, shop, store, client):
    asset = store()
    r = owner_client.get("/mockups/")
    assert r.status_code == 200
    html = r.content.decode()
    assert "Classic T-shirt" in html and "Ceramic mug" in html
    url = (
        re.search(r'id="mockup-url" readonly value="([^"]+)"', html).group(1).replace("&amp;", "&")
    )
    assert "sig=" in url and f"shop={shop.slug}" in url
    image = client.get(url.replace("http://testserver", ""))
    assert image.status_code == 200 and image["Content-Type"] == "image/jpeg"
    assert str(asset.id.hex) in url
    # The colour field is in the form once (the preview's out-of-band copy is for HTMX swaps only).
    assert html.count('id="variant-field"') == 1 and html.count('id="variant"') == 1


def test_the_preview_partial_follows_the_placement(owner_client, store):
    asset = store()
    r = owner_client.get(
        f"/mockups/preview/?asset={asset.id}&template=mug&x=0.3&scale=0.8&rotate=10",
        headers={"HX-Request": "true"},
    )
    html = r.content.decode()
    assert "x=0.3" in html and "scale=0.8" in html and "rotate=10" in html
    assert "<html" not in html  # a fragment
    assert 'hx-swap-oob="true"' in html


def test_the_product_search_filters_by_name_and_tags(owner_client, store):
    store()
    html = owner_client.get("/mockups/products/?q=drinkware").content.decode()
    assert "Ceramic mug" in html and "Classic T-shirt" not in html


def test_the_sheet_renders_one_asset_on_every_product(owner_client, store):
    asset = store()
    html = owner_client.get(f"/mockups/sheet/?asset={asset.id}").content.decode()
    for name in (
        "Classic T-shirt",
        "Pullover hoodie",
        "Ceramic mug",
        "Framed poster",
        "Die-cut sticker",
        "Phone case",
        "Gallery canvas",
        "Canvas tote",
    ):
        assert name in html


def test_the_sheet_refuses_another_shops_asset(owner_client, other_shop, store):
    theirs = store(in_shop=other_shop)
    assert owner_client.get(f"/mockups/sheet/?asset={theirs.id}").status_code == 404


def test_an_owner_uploads_a_template_and_sets_its_print_area(owner_client, shop):
    from django.core.files.uploadedfile import SimpleUploadedFile

    photo = SimpleUploadedFile("bag.png", encode(checkerboard(300, 6)), content_type="image/png")
    r = owner_client.post(
        "/mockups/templates/",
        {"name": "My bag", "tags": "bag", "photo": photo, "blend": "multiply"},
    )
    assert r.status_code == 302
    template = ProductTemplate.objects.get(shop=shop, name="My bag")
    assert template.slug == "my-bag" and template.version == 1
    page = owner_client.get(f"/mockups/templates/{template.id}/").content.decode()
    assert "printarea.js" in page and "data-printarea" in page
    preview = owner_client.get(
        f"/mockups/templates/{template.id}/preview",
        {"points": json.dumps([[10, 10], [290, 10], [290, 290], [10, 290]])},
    )
    assert preview.status_code == 200 and preview["Content-Type"] == "image/jpeg"
    # Counter-clockwise corners are accepted and stored clockwise; the version goes up.
    r = owner_client.post(
        f"/mockups/templates/{template.id}/",
        {
            "name": "My bag",
            "tags": "bag tote",
            "blend": "shade",
            "points": json.dumps([[20, 20], [20, 250], [250, 250], [250, 20]]),
        },
    )
    assert r.status_code == 302
    template.refresh_from_db()
    assert template.version == 2
    assert template.print_area["points"] == [[20, 20], [250, 20], [250, 250], [20, 250]]


@pytest.mark.parametrize(
    "points",
    [
        [[0, 0], [10, 0], [10, 10]],
        [[0, 0], [100, 0], [0, 100], [100, 100]],  # self-intersecting
        [[0, 0], [9000, 0], [9000, 9000], [0, 9000]],  # off the photo
        "not json",
    ],
)
def test_it_rejects_a_bad_print_area(owner_client, shop, points):
    template = products.create_shop_template(
        shop, name="T", tags="", photo=encode(checkerboard(200, 4))
    )
    r = owner_client.post(
        f"/mockups/templates/{template.id}/",
        {
            "name": "T",
            "tags": "",
            "blend": "multiply",
            "points": points if isinstance(points, str) else json.dumps(points),
        },
    )
    assert r.status_code == 422
    template.refresh_from_db()
    assert template.version == 1


def test_a_corrupt_template_photo_is_a_form_error(owner_client, shop):
    from django.core.files.uploadedfile import SimpleUploadedFile

    bad = SimpleUploadedFile("x.png", b"\x89PNG\r\n\x1a\ngarbage", content_type="image/png")
    r = owner_client.post("/mockups/templates/", {"name": "X", "photo": bad, "blend": "multiply"})
    assert r.status_code == 422
    assert not ProductTemplate.objects.filter(shop=shop).exists()


def test_another_shops_template_pages_are_404(owner_client, other_shop):
    theirs = products.create_shop_template(
        other_shop, name="Theirs", tags="", photo=encode(checkerboard(100, 4))
    )
    for url in (
        f"/mockups/templates/{theirs.id}/",
        f"/mockups/templates/{theirs.id}/preview?points=[]",
        f"/mockups/templates/{theirs.id}/photo",
    ):
        assert owner_client.get(url).status_code == 404
    assert owner_client.post(f"/mockups/templates/{theirs.id}/delete/").status_code == 404
    assert ProductTemplate.objects.filter(id=theirs.id).exists()


def test_a_viewer_cannot_edit_templates(client_for, shop, add_member):
    viewer = add_member(shop, Role.VIEWER)
    template = products.create_shop_template(
        shop, name="T", tags="", photo=encode(checkerboard(100, 4))
    )
    c = client_for(viewer, shop)
    assert c.get(f"/mockups/templates/{template.id}/").status_code == 403


def test_the_owner_edits_trusted_origins_and_signing(owner_client, shop):
    r = owner_client.post(
        "/mockups/settings/",
        {
            "trusted_origins": "https://CDN.example.com\nhttp://img.example.org:8080",
            "require_signed_urls": "on",
        },
    )
    assert r.status_code == 302
    shop.refresh_from_db()
    assert shop.trusted_origins == ["http://img.example.org:8080", "https://cdn.example.com"]
    assert shop.require_signed_urls
    r = owner_client.post("/mockups/settings/", {"trusted_origins": "https://cdn.example.com/path"})
    assert r.status_code == 200 and "not an origin" in r.content.decode()
    old = shop.url_signing_secret
    owner_client.post("/mockups/settings/", {"action": "rotate"})
    shop.refresh_from_db()
    assert shop.url_signing_secret != old and shop.url_signing_secret_previous == old


def test_a_designer_cannot_change_url_settings(client_for, shop, add_member):
    designer = add_member(shop, Role.DESIGNER)
    assert client_for(designer, shop).get("/mockups/settings/").status_code == 403


def test_a_listing_gets_a_buy_link_that_records_orders(owner_client, shop, store, client):
    asset = store()
    assert make_listing(owner_client, shop, asset).status_code == 302
    listing = Listing.objects.get(shop=shop)
    assert listing.price_cents == 2450 and listing.sizes == ["S", "M", "L"]
    assert listing.placement == {"y": 0.4, "scale": 0.9}
    page = client.get(f"/buy/{listing.token}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Mountain tee" in html and "/m/tshirt?" in html and "variant=black" in html
    img = re.search(r'src="(http://testserver/m/[^"]+)"', html).group(1).replace("&amp;", "&")
    assert client.get(img.replace("http://testserver", "")).status_code == 200
    r = client.post(
        f"/buy/{listing.token}/",
        {
            "name": "Ada",
            "email": "ada@example.com",
            "variant": "white",
            "size": "M",
            "quantity": "2",
        },
    )
    assert r.status_code == 201
    order = Order.objects.get()
    assert (order.shop, order.variant, order.size, order.quantity, order.total_cents) == (
        shop,
        "white",
        "M",
        2,
        4900,
    )
    orders_page = owner_client.get("/mockups/orders/").content.decode()
    assert "ada@example.com" in orders_page


@pytest.mark.parametrize(
    "data",
    [
        {"name": "A", "email": "not-an-email", "size": "M", "quantity": "1"},
        {"name": "A", "email": "a@example.com", "size": "XXXL", "quantity": "1"},
        {"name": "A", "email": "a@example.com", "size": "M", "quantity": "0"},
        {"name": "A", "email": "a@example.com", "size": "M", "quantity": "1", "variant": "plaid"},
    ],
)
def test_a_bad_order_is_refused(owner_client, shop, store, client, data):
    make_listing(owner_client, shop, store())
    listing = Listing.objects.get(shop=shop)
    r = client.post(f"/buy/{listing.token}/", data)
    assert r.status_code == 200
    assert not Order.objects.exists()


def test_a_closed_listing_is_gone(owner_client, shop, store, client):
    make_listing(owner_client, shop, store())
    listing = Listing.objects.get(shop=shop)
    owner_client.post(f"/mockups/listings/{listing.id}/toggle/")
    assert client.get(f"/buy/{listing.token}/").status_code == 404


def test_listings_and_orders_are_shop_scoped(
    owner_client, shop, store, client_for, other_shop, client
):
    rival = Membership.objects.get(shop=other_shop).user
    rival_client = client_for(rival, other_shop)
    # The rival cannot list our asset...
    assert make_listing(rival_client, other_shop, store()).status_code == 404
    make_listing(owner_client, shop, store())
    listing = Listing.objects.get(shop=shop)
    client.post(
        f"/buy/{listing.token}/",
        {"name": "Bo", "email": "bo@example.com", "size": "S", "quantity": "1", "variant": "black"},
    )
    order = Order.objects.get()
    # ...nor see or touch our listings and orders.
    assert "Mountain tee" not in rival_client.get("/mockups/listings/").content.decode()
    assert "bo@example.com" not in rival_client.get("/mockups/orders/").content.decode()
    assert rival_client.post(f"/mockups/listings/{listing.id}/toggle/").status_code == 404
    assert (
        rival_client.post(f"/mockups/orders/{order.id}/status/", {"status": "canceled"}).status_code
        == 404
    )
    assert (
        owner_client.post(
            f"/mockups/orders/{order.id}/status/", {"status": "fulfilled"}
        ).status_code
        == 302
    )
    order.refresh_from_db()
    assert order.status == "fulfilled"


def test_staff_see_orders_in_the_admin(db, shop, store, owner_client, client, make_user):
    make_listing(owner_client, shop, store())
    listing = Listing.objects.get(shop=shop)
    client.post(
        f"/buy/{listing.token}/",
        {"name": "Cy", "email": "cy@example.com", "size": "L", "quantity": "1", "variant": "black"},
    )
    from django.contrib.auth import get_user_model

    admin = get_user_model().objects.create_superuser("root", "root@example.com", "pw-123456")
    client.force_login(admin)
    assert "cy@example.com" in client.get("/admin/mockups/order/").content.decode()


@pytest.mark.parametrize(
    "url",
    [
        "/mockups/?asset=garbage&template=nope&x=abc",
        "/mockups/preview/?asset=garbage",
        "/mockups/sheet/?asset=garbage",
    ],
)
def test_junk_editor_parameters_never_500(owner_client, store, url):
    store()
    assert owner_client.get(url).status_code in (200, 404)


def test_a_mask_limits_where_the_design_prints(owner_client, shop, store, client):
    from urllib.parse import urlencode

    import numpy as np
    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    photo = Image.new("RGB", (200, 200), (240, 240, 240))
    template = products.create_shop_template(
        shop, name="Plain", tags="", photo=encode(photo), blend="normal"
    )
    points = json.dumps([[0, 0], [200, 0], [200, 200], [0, 200]])
    asset = store(Image.new("RGB", (100, 100), (200, 0, 0)))
    url = f"/m/{template.slug}?" + urlencode(
        {
            "asset": "http://testserver" + asset.file.url,
            "shop": shop.slug,
            "w": 256,
            "fit": "stretch",
            "fmt": "png",
        }
    )
    owner_client.post(
        f"/mockups/templates/{template.id}/",
        {"name": "Plain", "tags": "", "blend": "normal", "points": points},
    )
    full = np.asarray(Image.open(io.BytesIO(client.get(url).content)).convert("RGB")).astype(int)
    mask = np.zeros((200, 200), np.uint8)
    mask[:, :100] = 255  # only the left half prints
    upload = SimpleUploadedFile("mask.png", encode(Image.fromarray(mask)), content_type="image/png")
    r = owner_client.post(
        f"/mockups/templates/{template.id}/",
        {"name": "Plain", "tags": "", "blend": "normal", "points": points, "mask": upload},
    )
    assert r.status_code == 302
    masked = np.asarray(Image.open(io.BytesIO(client.get(url).content)).convert("RGB")).astype(int)
    assert full[128, 200, 0] > 180 and full[128, 200, 1] < 40  # red on the right before
    assert masked[128, 200].min() > 200  # the photo shows there now
    assert masked[128, 50, 0] > 180 and masked[128, 50, 1] < 40  # still red on the left


def test_a_template_used_by_a_listing_cannot_be_deleted(owner_client, shop, store):
    template = products.create_shop_template(
        shop, name="Used", tags="", photo=encode(checkerboard(100, 4))
    )
    assert (
        make_listing(
            owner_client, shop, store(), template=template.slug, variant="", sizes=""
        ).status_code
        == 302
    )
    r = owner_client.post(f"/mockups/templates/{template.id}/delete/")
    assert r.status_code == 302
    assert ProductTemplate.objects.filter(id=template.id).exists()


def test_mockup_urls_answer_head(client, shop, store):
    from urllib.parse import urlencode

    asset = store()
    r = client.head(
        "/m/mug?"
        + urlencode({"asset": "http://testserver" + asset.file.url, "shop": shop.slug, "w": 256})
    )
    assert r.status_code == 200 and r["Content-Type"] == "image/jpeg"


@pytest.mark.parametrize("mode", ["P", "1", "I;16"])
def test_a_template_photo_in_any_accepted_mode_is_taken(owner_client, shop, mode):
    from django.core.files.uploadedfile import SimpleUploadedFile

    if mode == "I;16":
        image = Image.frombytes("I;16", (300, 200), bytes(300 * 200 * 2))
    else:
        image = checkerboard(300, 6).convert(mode)
    photo = SimpleUploadedFile("p.png", encode(image), content_type="image/png")
    r = owner_client.post("/mockups/templates/", {"name": "M", "photo": photo, "blend": "shade"})
    assert r.status_code == 302, r.content[:300]
    assert ProductTemplate.objects.filter(shop=shop, name="M").exists()
