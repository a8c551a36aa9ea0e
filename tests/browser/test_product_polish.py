"""The studio as its users meet it: people's words (no setting or engine names, no seed-document
numbers), a login that asks for the email, a favicon, a demo shop with a library, a navigation
that folds away on a phone, pages that fit a phone, and a design system with light and dark.

Every page is also photographed at 1280 and 390 px (tests/browser/screenshots/).
"""

from __future__ import annotations

import re

import pytest
from django.core.management import call_command
from django.utils import timezone

from generations.library import upload_asset
from generations.models import Job
from mockups.models import Listing
from studio import actions as studio_actions
from studio.models import Membership, Role
from tests.browser.conftest import no_horizontal_overflow, shot
from tests.mockups.conftest import checkerboard, encode
from tests.pagekit import make_preset

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ENV_NAME = re.compile(r"\b[A-Z][A-Z0-9]*_[A-Z0-9_]{2,}\b")  # OPENAI_API_KEY, A1111_URL, …
SEED_WORDS = re.compile(r"\bseeds?\s+(documents?\s+)?0\d\d", re.IGNORECASE)


@pytest.fixture
def owner(make_user):
    user = make_user("words@example.com")
    return user, Membership.objects.get(user=user).shop


def visible_text(page) -> str:
    return page.evaluate("() => document.body.innerText")


def test_it_shows_people_words_instead_of_settings_and_engine_names(signed_in, owner):
    """GIVEN an owner (not staff) WHEN they open an image, the library filters and the API page
    THEN no environment-variable names, raw engine ids or seed-document numbers are shown."""
    user, shop = owner
    asset = upload_asset(shop, encode(checkerboard(96, 4)), user=user, filename="b.png")
    job = Job.objects.create(
        shop=shop, kind="remove-background", model="builtin:remove-bg", cost_cents=1,
        status=Job.Status.COMPLETED, input_asset=asset, finished_at=timezone.now(),
    )  # fmt: skip
    derived = upload_asset(shop, encode(checkerboard(96, 8)), user=user, filename="c.png")
    type(derived).objects.filter(pk=derived.pk).update(model="builtin:remove-bg", job=job)
    page = signed_in(user)
    page.goto(f"/library/{asset.id}/")
    page.get_by_text("More with an AI provider").click()
    text = visible_text(page)
    assert not ENV_NAME.findall(text), ENV_NAME.findall(text)
    assert "builtin:" not in text
    assert "Not set up" in text
    page.goto("/library/")
    page.get_by_text("Filters and sort").click()
    options = page.locator("#model option").all_inner_texts()
    assert "Background removal (offline)" in options
    assert not [o for o in options if "builtin:" in o]
    page.goto("/api/docs")
    text = visible_text(page)
    assert not SEED_WORDS.findall(text), SEED_WORDS.findall(text)
    assert "AI generations" in text
    shot(page, "api-docs")


def test_it_shows_engine_reasons_to_staff(signed_in, owner):
    user, shop = owner
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    asset = upload_asset(shop, encode(checkerboard(96, 4)), user=user, filename="b.png")
    page = signed_in(user)
    page.goto(f"/library/{asset.id}/")
    page.get_by_text("More with an AI provider").click()
    assert page.locator(".unavailable small").count() >= 1


def test_it_handles_the_login_the_favicon_and_a_missing_page(browser, live_server, make_user):
    """The login form asks for the email; every page links a favicon that exists; a wrong URL
    answers with the studio's own 404 page."""
    make_user("login@example.com", password="a-long-passphrase-42")
    page = browser.new_page(viewport={"width": 390, "height": 844}, base_url=live_server.url)
    favicon_misses = []
    page.on(
        "response",
        lambda r: favicon_misses.append(r.url) if "favicon" in r.url and r.status >= 400 else None,
    )
    page.goto("/accounts/login/")
    assert page.get_by_label("Email").is_visible()
    assert page.get_by_label("Username").count() == 0
    shot(page, "login-phone")
    page.get_by_label("Email").fill("login@example.com")
    page.get_by_label("Password").fill("a-long-passphrase-42")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}/")
    icon = page.locator("link[rel=icon]").get_attribute("href")
    assert page.request.get(icon).status == 200
    response = page.request.get("/favicon.ico")
    assert response.status == 200 and response.headers["content-type"].startswith("image/")
    missing = page.goto("/no/such/page/")
    assert missing.status == 404
    assert page.get_by_role("heading", name="Not found").is_visible()
    assert "URLconf" not in visible_text(page)
    assert not favicon_misses


def test_it_opens_the_demo_shop_with_a_library_presets_and_mockups(browser, live_server):
    """GIVEN `load_demo` (what `make run` runs) WHEN the demo user logs in THEN the library has
    designs and cut-outs, there are presets and listings, and the editor shows a mockup."""
    call_command("load_demo")
    page = browser.new_page(viewport={"width": 1280, "height": 900}, base_url=live_server.url)
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill("demo@example.com")
    page.get_by_label("Password").fill("demo-studio-2026")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}/")
    assert page.locator("#jobs .job-card").count() >= 5
    page.goto("/library/")
    assert page.locator("#asset-grid .tile").count() >= 9
    assert page.get_by_text("Remove background: a teal cat under a moon").count() == 1
    page.goto("/presets/")
    assert page.locator(".preset-card").count() == 3
    page.goto("/mockups/listings/")
    assert page.locator("tbody tr").count() == Listing.objects.count() >= 4
    page.goto("/mockups/")
    page.wait_for_function("() => document.querySelector('#mockup-preview').naturalWidth > 0")
    # Running it again changes nothing.
    call_command("load_demo")
    assert Listing.objects.count() == 4


def test_it_folds_the_navigation_away_on_a_phone(signed_in, owner):
    user, _shop = owner
    page = signed_in(user, "phone")
    page.goto("/library/")
    nav = page.get_by_role("navigation", name="Main")
    menu = page.get_by_role("button", name="Menu")
    assert menu.is_visible() and not nav.is_visible()
    menu.click()
    assert nav.is_visible() and menu.get_attribute("aria-expanded") == "true"
    shot(page, "phone-menu-open", full_page=False)
    nav.get_by_role("link", name="Presets").click()
    page.wait_for_url(re.compile(r".*/presets/$"))
    assert not nav.is_visible()
    wide = signed_in(user, "desktop")
    wide.goto("/library/")
    assert wide.get_by_role("navigation", name="Main").is_visible()
    assert not wide.get_by_role("button", name="Menu").is_visible()


@pytest.fixture
def busy_shop(owner, add_member):
    """A shop with something on every page: images, a preset, jobs, members, a ledger."""
    user, shop = owner
    asset = upload_asset(shop, encode(checkerboard(128, 4)), user=user, filename="board.png")
    make_preset(shop)
    for i in range(3):
        add_member(shop, Role.DESIGNER, email=f"a-rather-long-member-name-{i}@studio-example.com")
    studio_actions.grant_credits(shop, wallet_cents=1234, memo="a top-up with a long memo " * 3)
    from generations import actions

    job = actions.submit_generation(
        shop, actions.GenerationSpec(prompt="a teal cat under a moon", count=2), user=user
    )
    actions.execute_job(str(job.id))
    return user, shop, asset


PAGES = [
    ("create", "/"),
    ("library", "/library/"),
    ("asset", "/library/{asset}/"),
    ("mockups", "/mockups/?asset={asset}"),
    ("jobs", "/jobs/"),
    ("presets", "/presets/"),
    ("preset-new", "/presets/new/"),
    ("members", "/members/"),
    ("usage", "/usage/"),
    ("api-keys", "/api-keys/"),
    ("webhooks", "/webhooks/"),
    ("gallery", "/gallery/"),
    ("listings", "/mockups/listings/"),
    ("orders", "/mockups/orders/"),
    ("products", "/mockups/templates/"),
]


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_it_fits_every_page_on_the_screen(signed_in, busy_shop, size):
    """GIVEN a shop with something on every page WHEN each page opens at 390 and 1280 px THEN
    nothing is wider than the screen (tables used to overflow on a phone); each is photographed."""
    user, _shop, asset = busy_shop
    page = signed_in(user, size)
    overflowing = []
    for name, url in PAGES:
        page.goto(url.format(asset=asset.id))
        page.wait_for_load_state("networkidle")
        if not no_horizontal_overflow(page):
            overflowing.append(name)
        shot(page, f"{size}-{name}")
    assert not overflowing, overflowing


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_it_styles_pages_from_design_tokens_in_light_and_dark(signed_in, owner, scheme):
    """The stylesheet is a small design system: colour, type, spacing, radius and elevation
    tokens, a dark scheme, and cards, buttons and headings drawn from them on every page."""
    user, _shop = owner
    page = signed_in(user, color_scheme=scheme)
    page.goto("/library/")
    tokens = page.evaluate(
        """() => { const s = getComputedStyle(document.documentElement);
          return ['--c-bg', '--c-accent', '--fs-md', '--sp-4', '--r-lg', '--e-2', '--font-sans']
            .map(t => [t, s.getPropertyValue(t).trim()]); }"""
    )
    assert all(value for _t, value in tokens), tokens
    background = page.evaluate("() => getComputedStyle(document.body).backgroundColor")
    level = sum(int(v) for v in re.findall(r"\d+", background)[:3]) / 3
    assert (level < 40) if scheme == "dark" else (level > 220), background
    looks = set()
    for url in ("/", "/library/", "/presets/new/", "/members/", "/api-keys/"):
        page.goto(url)
        looks.add(
            page.evaluate(
                """() => { const c = document.querySelector('.card'),
                  p = document.querySelector('main button.primary, main .btn.primary');
                  return [getComputedStyle(c).borderRadius, getComputedStyle(c).boxShadow,
                          getComputedStyle(p).backgroundColor,
                          getComputedStyle(document.querySelector('h1')).fontFamily].join('|'); }"""
            )
        )
    assert len(looks) == 1, looks
    shot(page, f"members-{scheme}")


def test_it_asks_before_deleting_in_a_dialog_of_its_own(signed_in, owner):
    user, shop = owner
    asset = upload_asset(shop, encode(checkerboard(96, 4)), user=user, filename="b.png")
    page = signed_in(user)
    page.goto(f"/library/{asset.id}/")
    page.get_by_role("button", name="Delete from the library").click()
    dialog = page.get_by_role("dialog")
    assert "cannot be undone" in dialog.inner_text()
    shot(page, "asset-delete-dialog", full_page=False)
    dialog.get_by_role("button", name="Cancel").click()
    assert not dialog.is_visible() and type(asset).objects.filter(pk=asset.pk).exists()
    page.get_by_role("button", name="Delete from the library").click()
    dialog.get_by_role("button", name="Delete image").click()
    page.wait_for_url(re.compile(r".*/library/$"))
    assert not type(asset).objects.filter(pk=asset.pk).exists()


def test_it_teaches_with_empty_states(signed_in, make_user):
    user = make_user("new@example.com")
    page = signed_in(user, "phone")
    for url, heading, action in (
        ("/library/", "The library is empty", "Generate an image"),
        ("/presets/", "No presets yet", "Create a preset"),
        ("/jobs/", "No jobs yet", "Generate something"),
        ("/mockups/", "Your library is empty", "Generate a design"),
        ("/mockups/listings/", "No listings yet", "Open the editor"),
    ):
        page.goto(url)
        state = page.locator(".empty-state")
        assert state.get_by_role("heading", name=heading).is_visible()
        assert state.get_by_role("link", name=action).is_visible()
    shot(page, "phone-empty-library")
