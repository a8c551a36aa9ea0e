"""Sign up, log in, log out, password change and reset, and the error pages."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client
from django.urls import reverse

from studio.models import Membership, Role

pytestmark = pytest.mark.django_db


def test_it_handles_sign_up_with_a_shop_of_ones_own(client):
    response = client.post(
        reverse("signup"),
        {"email": "New@Example.com", "password": "a-long-passphrase-42", "shop_name": "Owl & Co"},
    )
    assert response.status_code == 302 and response["Location"] == reverse("dashboard")
    membership = Membership.objects.get(user__email="new@example.com")
    assert (membership.shop.name, membership.role) == ("Owl & Co", Role.OWNER)
    assert client.get(reverse("dashboard")).status_code == 200


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"email": "owner@example.com", "password": "a-long-passphrase-42"}, "already exists"),
        ({"email": "x@example.com", "password": "short"}, "at least 8 characters"),
        ({"email": "x@example.com", "password": "password123"}, "too common"),
        ({"email": "not-an-email", "password": "a-long-passphrase-42"}, "valid email"),
    ],
)
def test_it_rejects_bad_sign_ups(client, user, data, message):
    response = client.post(reverse("signup"), data)
    assert response.status_code == 422
    assert message in response.content.decode()
    assert get_user_model().objects.count() == 1


def test_it_rejects_an_offsite_next_after_sign_up(client):
    response = client.post(
        f"{reverse('signup')}?next=https://evil.example/",
        {"email": "n@example.com", "password": "a-long-passphrase-42"},
    )
    assert response["Location"] == reverse("dashboard")


def test_it_handles_log_in_and_log_out(client, user):
    page = client.get(reverse("login")).content.decode()
    assert '<label for="id_username">' in page and '<label for="id_password">' in page
    response = client.post(
        reverse("login"), {"username": "owner@example.com", "password": "correct-horse-battery"}
    )
    assert response.status_code == 302 and response["Location"] == reverse("dashboard")
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert client.get(reverse("dashboard")).status_code == 302


def test_it_rejects_a_wrong_password(client, user):
    response = client.post(reverse("login"), {"username": "owner@example.com", "password": "nope"})
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()


def test_it_handles_password_change(owner_client, user):
    assert owner_client.get(reverse("password_change")).status_code == 200
    response = owner_client.post(
        reverse("password_change"),
        {
            "old_password": "correct-horse-battery",
            "new_password1": "an-even-longer-phrase-7",
            "new_password2": "an-even-longer-phrase-7",
        },
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("an-even-longer-phrase-7")
    assert "Password changed" in owner_client.get(response["Location"]).content.decode()


def test_it_handles_password_reset_by_email(client, user):
    response = client.post(reverse("password_reset"), {"email": "owner@example.com"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    link = re.search(r"https?://[^/]+(/accounts/reset/\S+/)", mail.outbox[0].body).group(1)
    page = client.get(link, follow=True)
    assert "Choose a new password" in page.content.decode()
    set_url = page.redirect_chain[-1][0]
    response = client.post(
        set_url, {"new_password1": "reset-phrase-9911", "new_password2": "reset-phrase-9911"}
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("reset-phrase-9911")
    # The link works once.
    assert "invalid or was already used" in Client().get(link, follow=True).content.decode()


def test_it_handles_404_and_403_pages_that_look_like_the_site(
    owner_client, shop, add_member, client_for
):
    response = owner_client.get("/library/00000000-0000-0000-0000-000000000000/")
    html = response.content.decode()
    assert response.status_code == 404
    assert "Not found" in html and 'class="sidebar"' in html and "studio.css" in html
    viewer = client_for(add_member(shop, Role.VIEWER), shop)
    response = viewer.post(reverse("generate"), {"prompt": "x", "count": "1"})
    html = response.content.decode()
    assert response.status_code == 403
    assert "Not allowed" in html and 'class="sidebar"' in html and "You are viewer" in html
    assert Client().get("/no/such/page/").status_code == 404


def test_it_rejects_a_post_without_csrf_token_with_a_page_that_looks_like_the_site(user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    response = client.post(reverse("generate"), {"prompt": "x", "count": "1"})
    html = response.content.decode()
    assert response.status_code == 403
    assert "This form expired" in html and 'class="sidebar"' in html
