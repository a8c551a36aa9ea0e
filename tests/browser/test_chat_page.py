"""Browser test of the chat page: a designer sends the seed's request and watches each step
stream in over SSE (stage, steps, images, the mockup), follows up, keeps a version and
regenerates; without EventSource the page polls instead; without JavaScript it reloads.

Chromium (/usr/bin/chromium) through Playwright, pytest-django's live server, and a real
Celery worker subprocess (`start_worker`) sharing the test database.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import skip_or_fail

pytestmark = [pytest.mark.browser, pytest.mark.integration]

CHROMIUM = "/usr/bin/chromium"
SEED = "make a cozy cabin sticker and put it on a mug"
PASSWORD = "a-long-passphrase-42"
# Every text the stage line shows, in order (the page replaces it as SSE events arrive).
WATCH_STAGES = """
window.__stages = [];
new MutationObserver(() => {
  for (const el of document.querySelectorAll('.turn .stage [sse-swap=stage]')) {
    const text = el.textContent.trim();
    if (text && window.__stages.at(-1) !== text) window.__stages.push(text);
  }
}).observe(document, {subtree: true, childList: true, characterData: true});
"""


@pytest.fixture
def browser(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    # Playwright's sync API runs an event loop in this thread; the ORM calls stay synchronous.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "1")
    if not Path(CHROMIUM).exists():
        skip_or_fail(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        skip_or_fail("playwright (Python) is not installed")
    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            yield b
        finally:
            b.close()


def log_in(context: Any, base: str, email: str) -> Any:
    page = context.new_page()
    page.set_default_timeout(90_000)
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base}/")
    return page


def loaded(locator: Any) -> bool:
    return bool(locator.evaluate("img => img.complete && img.naturalWidth > 0"))


def shoot(page: Any, name: str) -> None:
    if os.environ.get("STUDIO_SCREENSHOTS"):
        page.screenshot(path=f"{os.environ['STUDIO_SCREENSHOTS']}/{name}.png", full_page=True)


@pytest.mark.django_db(transaction=True)
def test_it_streams_a_conversation_in_the_browser(
    browser: Any, live_server: Any, start_worker: Any, make_user: Any
) -> None:
    """GIVEN a designer on the chat page WHEN they send the seed's request THEN the stage,
    the steps, the sticker and the mug mockup stream in; a follow-up reuses the design; a
    kept version is marked; regenerate adds a turn; the conversation is listed and kept."""
    from generations.chat.models import ChatToolCall, Conversation

    start_worker(pool="solo")
    make_user("designer@example.com", password=PASSWORD)
    base = live_server.url
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.add_init_script(WATCH_STAGES)
    page = log_in(context, base, "designer@example.com")
    streams: list[str] = []
    page.on("request", lambda r: streams.append(r.url) if "/events/" in r.url else None)

    page.get_by_role("link", name="Chat").click()
    page.get_by_label("Your request").fill(SEED)
    page.get_by_role("button", name="Send").click()
    turn = page.locator("#turns .turn").first
    turn.locator(".msg.assistant").get_by_text("I'll make a cozy cabin sticker").wait_for()
    page.locator('#turns .turn[data-status="done"]').first.wait_for()
    page.wait_for_url(re.compile(r".*/chat/[0-9a-f-]{36}/$"))
    assert streams, "the turn was followed over SSE"
    stages = page.evaluate("window.__stages")
    assert {"Generating image", "Removing background", "Building the mockup"} <= set(stages)

    steps = turn.locator(".steps li")
    assert steps.count() == 3
    assert steps.nth(0).inner_text().startswith("✓ Generate the art")
    images = turn.locator(".chat-images img")
    assert images.count() == 2 and all(loaded(images.nth(i)) for i in range(2))
    mockup = turn.locator(".chat-mockup img")
    assert loaded(mockup) and "/m/mug?" in mockup.get_attribute("src")
    assert mockup.evaluate("img => img.naturalWidth") == 800
    assert "This cost 3¢." in turn.locator(".reply").inner_text()
    shoot(page, "chat-1280")

    # A follow-up from the suggestions: the same design, now on a hoodie, nothing generated.
    page.get_by_role("button", name="now on a hoodie").click()
    second = page.locator('#turns .turn[data-status="done"]').nth(1)
    second.wait_for()
    assert second.locator(".steps li").count() == 1
    assert loaded(second.locator(".chat-mockup img"))
    assert "Pullover hoodie" in second.locator(".chat-mockup figcaption").inner_text()
    conversation = Conversation.objects.get()
    assert conversation.turns.count() == 2
    assert not ChatToolCall.objects.filter(turn__position=2, name="generate_image").exists()

    # Keep the cut-out, then regenerate the first request.
    turn.get_by_role("button", name="Keep").nth(1).click()
    turn.locator(".badge", has_text="Kept").wait_for()
    turn.get_by_role("button", name="Regenerate").click()
    page.locator('#turns .turn[data-status="done"]').nth(2).wait_for()
    assert conversation.turns.count() == 3

    page.reload()
    assert page.locator("#turns .turn").count() == 3
    assert page.locator("#chat-list a[aria-current=page]").inner_text().startswith("make a cozy")
    page.set_viewport_size({"width": 390, "height": 844})
    shoot(page, "chat-390")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, "the page scrolls sideways on a phone"


@pytest.mark.django_db(transaction=True)
def test_it_polls_without_event_source(
    browser: Any, live_server: Any, start_worker: Any, make_user: Any
) -> None:
    start_worker(pool="solo")
    make_user("poller@example.com", password=PASSWORD)
    context = browser.new_context()
    context.add_init_script("delete window.EventSource;")
    page = log_in(context, live_server.url, "poller@example.com")
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(f"{live_server.url}/chat/")
    page.get_by_label("Your request").fill(SEED)
    page.get_by_role("button", name="Send").click()
    page.locator('#turns .turn[data-status="done"]').wait_for()
    assert loaded(page.locator("#turns .chat-mockup img"))
    assert not [u for u in requests if "/events/" in u]
    assert [u for u in requests if re.search(r"/chat/turns/[0-9a-f-]{36}/$", u)], "it polled"


@pytest.mark.django_db(transaction=True)
def test_it_works_without_javascript(
    browser: Any, live_server: Any, start_worker: Any, make_user: Any
) -> None:
    start_worker(pool="solo")
    make_user("plain@example.com", password=PASSWORD)
    context = browser.new_context(java_script_enabled=False)
    page = log_in(context, live_server.url, "plain@example.com")
    page.goto(f"{live_server.url}/chat/")
    page.get_by_label("Your request").fill(SEED)
    page.get_by_role("button", name="Send").click()
    page.wait_for_url(re.compile(r".*/chat/[0-9a-f-]{36}/#turn-.*"))
    for _ in range(120):
        if page.locator('.turn[data-status="done"]').count():
            break
        page.get_by_role("link", name="Reload").click()
        page.wait_for_timeout(500)
    assert loaded(page.locator(".chat-mockup img"))
