"""Throttles on people-facing doors (studio/throttle.py): log-in, sign-up, password reset,
invitation links, public orders and invalid API keys. Each answers 429 with Retry-After once
over its limit, and none reveals whether an email address has an account."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from studio import throttle

pytestmark = pytest.mark.django_db


@pytest.fixture
def rates(settings: Any) -> Any:
    """Small limits so a test reaches them in a few requests."""

    def set_rate(name: str, limit: int, window: int = 600, lockout: int = 0) -> None:
        settings.THROTTLE_RATES = {
            **settings.THROTTLE_RATES,
            name: {"limit": limit, "window": window, "lockout": lockout},
        }

    return set_rate


def log_in(client: Client, password: str, username: str = "owner@example.com") -> Any:
    return client.post(reverse("login"), {"username": username, "password": password})


def test_it_locks_an_account_after_failed_log_ins_even_for_the_right_password(user, rates):
    """GIVEN 5 wrong passwords for one account WHEN the right one comes next (from anywhere)
    THEN it is refused with a lockout message and 429 until the lockout ends."""
    rates("login-account", 5, lockout=900)
    for _ in range(4):
        assert log_in(Client(REMOTE_ADDR="10.0.0.1"), "wrong").status_code == 200
    locked = log_in(Client(REMOTE_ADDR="10.0.0.2"), "wrong")
    assert (
        locked.status_code == 429 and "Too many failed log-in attempts" in locked.content.decode()
    )
    response = log_in(Client(REMOTE_ADDR="10.0.0.3"), "correct-horse-battery")
    assert response.status_code == 429
    assert 800 < int(response["Retry-After"]) <= 900
    assert "_auth_user_id" not in response.client.session


def test_it_locks_an_address_trying_many_accounts(user, rates):
    rates("login-address", 3)
    client = Client(REMOTE_ADDR="10.9.9.9")
    for n in range(2):
        assert log_in(client, "x", username=f"nobody{n}@example.com").status_code == 200
    assert log_in(client, "x", username="nobody9@example.com").status_code == 429
    # Another address still logs in.
    assert log_in(Client(REMOTE_ADDR="10.9.9.10"), "correct-horse-battery").status_code == 302


def test_it_locks_unknown_accounts_the_same_way(rates):
    """A lockout never tells whether the account exists: an unknown one locks the same."""
    rates("login-account", 2)
    first = log_in(Client(), "x", username="ghost@example.com")
    second = log_in(Client(), "x", username="ghost@example.com")
    assert (first.status_code, second.status_code) == (200, 429)


def test_a_successful_log_in_clears_the_accounts_count(user, rates):
    rates("login-account", 3)
    log_in(Client(), "wrong")
    log_in(Client(), "wrong")
    assert log_in(Client(), "correct-horse-battery").status_code == 302
    log_in(Client(), "wrong")
    log_in(Client(), "wrong")
    assert log_in(Client(), "correct-horse-battery").status_code == 302


def test_an_empty_password_does_not_clear_the_count(user, rates):
    rates("login-account", 3)
    log_in(Client(), "wrong")
    log_in(Client(), "wrong")
    assert log_in(Client(), "").status_code == 200  # a form error, not an attempt
    assert log_in(Client(), "wrong").status_code == 429


def test_it_throttles_sign_ups_per_address_and_mails_per_email(rates):
    """GIVEN a client signing up repeatedly WHEN over the per-address limit THEN 429; and one
    email address gets at most `signup-email` mails however many addresses ask."""
    rates("signup-address", 3)
    rates("signup-email", 2)
    client = Client(REMOTE_ADDR="10.1.1.1")
    for _ in range(3):
        assert client.post(reverse("signup"), {"email": "a@example.com"}).status_code == 200
    response = client.post(reverse("signup"), {"email": "b@example.com"})
    assert response.status_code == 429 and int(response["Retry-After"]) > 0
    assert "Too many sign-ups" in response.content.decode()
    assert len(mail.outbox) == 2  # a@ got two mails; the third request sent none
    page = Client(REMOTE_ADDR="10.1.1.2").post(reverse("signup"), {"email": "a@example.com"})
    assert page.status_code == 200 and "Check your email" in page.content.decode()
    assert len(mail.outbox) == 2


def test_it_throttles_password_reset_per_address_and_per_email(user, rates):
    rates("password-reset-address", 3)
    rates("password-reset-email", 1)
    client = Client(REMOTE_ADDR="10.2.2.2")
    for email in ("owner@example.com", "owner@example.com", "nobody@example.com"):
        response = client.post(reverse("password_reset"), {"email": email})
        assert response.status_code == 302  # the same answer for known and unknown emails
    assert len(mail.outbox) == 1  # one reset mail an hour for owner@
    response = client.post(reverse("password_reset"), {"email": "owner@example.com"})
    assert response.status_code == 429 and "Too many reset requests" in response.content.decode()


def test_it_throttles_made_up_invitation_links_per_address(rates):
    rates("invite-address", 3)
    client = Client(REMOTE_ADDR="10.3.3.3")
    for n in range(3):
        assert client.get(f"/invite/made-up-{n}/").status_code == 410
    response = client.get("/invite/made-up-9/")
    assert response.status_code == 429 and "Too many invitation links" in response.content.decode()
    assert Client(REMOTE_ADDR="10.3.3.4").get("/invite/made-up-1/").status_code == 410


def test_it_throttles_public_orders_per_address(owner_client, shop, rates):
    from mockups.models import Order
    from tests.pagekit import make_asset, make_listing

    make_listing(owner_client, shop, make_asset(shop))
    from mockups.models import Listing

    listing = Listing.objects.get(shop=shop)
    rates("order-address", 2)
    buyer = Client(REMOTE_ADDR="10.4.4.4")
    order = {"name": "B", "email": "b@example.com", "variant": "black", "size": "M", "quantity": 1}
    for _ in range(2):
        assert buyer.post(f"/buy/{listing.token}/", order).status_code == 201
    response = buyer.post(f"/buy/{listing.token}/", order)
    assert response.status_code == 429 and "Too many orders" in response.content.decode()
    assert Order.objects.count() == 2
    assert Client(REMOTE_ADDR="10.4.4.5").post(f"/buy/{listing.token}/", order).status_code == 201


def test_it_throttles_public_orders_per_shop(owner_client, shop, rates):
    from mockups.models import Listing
    from tests.pagekit import make_asset, make_listing

    make_listing(owner_client, shop, make_asset(shop))
    listing = Listing.objects.get(shop=shop)
    rates("order-shop", 3)
    order = {"name": "B", "email": "b@example.com", "variant": "black", "size": "M", "quantity": 1}
    codes = [
        Client(REMOTE_ADDR=f"10.5.5.{n}").post(f"/buy/{listing.token}/", order).status_code
        for n in range(4)
    ]
    assert codes == [201, 201, 201, 429]


def test_it_answers_bad_api_keys_with_429_after_the_limit(rates, shop):
    from studio import apikeys
    from tests.api.conftest import ApiClient

    rates("api-bad-key", 3)
    guesser = ApiClient("sk_live_" + "x" * 43)
    guesser.client = Client(REMOTE_ADDR="10.6.6.6")
    codes = [guesser.get("/v0/usage").status_code for _ in range(4)]
    assert codes == [401, 401, 401, 429]
    response = guesser.get("/v0/usage")
    assert response.status_code == 429 and int(response["Retry-After"]) > 0
    assert "invalid API keys" in response.json()["error"]
    # A valid key from the same address still works; so does a bad key from elsewhere.
    good = ApiClient(apikeys.create_api_key(shop, scopes=["library:read"], name="k").raw)
    good.client = Client(REMOTE_ADDR="10.6.6.6")
    assert good.get("/v0/usage").status_code == 200
    other = ApiClient("sk_live_" + "y" * 43)
    other.client = Client(REMOTE_ADDR="10.6.6.7")
    assert other.get("/v0/usage").status_code == 401
    # No key at all is not a guess.
    nokey = ApiClient("")
    nokey.client = Client(REMOTE_ADDR="10.6.6.6")
    assert nokey.get("/v0/usage").status_code == 401


def test_throttles_allow_when_the_cache_is_down(monkeypatch, user):
    """With the cache unreachable every throttle allows (and logs): an outage of Redis must not
    lock everyone out of logging in."""
    from django.core.cache import caches

    def down(*args, **kwargs):
        raise ConnectionError("redis is down")

    backend = type(caches["default"])
    for name in ("get", "add", "incr", "set", "delete_many"):
        monkeypatch.setattr(backend, name, down)
    rule = throttle.Rule("t", limit=1, window=60)
    assert throttle.hit(rule, "k").allowed and throttle.hit(rule, "k").allowed
    assert throttle.check(rule, "k").allowed
    assert log_in(Client(), "correct-horse-battery").status_code == 302


def test_a_rule_allows_its_limit_then_refuses_until_the_window_ends():
    rule = throttle.Rule("unit", limit=2, window=3600)
    assert [throttle.hit(rule, "k").allowed for _ in range(3)] == [True, True, False]
    verdict = throttle.check(rule, "k")
    assert not verdict.allowed and 0 < verdict.retry_after <= 3600
    assert throttle.check(rule, "other").allowed
    throttle.reset(rule, "k")
    assert throttle.check(rule, "k").allowed


def test_the_client_address_comes_from_trusted_proxies_only(settings, rf):
    request = rf.get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="1.2.3.4, 5.6.7.8")
    assert throttle.client_address(request) == "10.0.0.1"  # no proxies trusted
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    assert throttle.client_address(request) == "5.6.7.8"
    settings.TRUSTED_PROXIES = ["10.0.0.0/8", "5.6.7.8/32"]
    assert throttle.client_address(request) == "1.2.3.4"


def test_wait_words_read_naturally():
    assert throttle.Verdict(False, 1).wait_words == "1 second"
    assert throttle.Verdict(False, 300).wait_words == "5 minutes"
    assert throttle.Verdict(False, 7200).wait_words == "2 hours"
    assert re.match(r"\d+ seconds", throttle.Verdict(False, int(time.time()) % 60 + 2).wait_words)
