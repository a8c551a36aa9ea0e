"""Members: roles, invitations with one-time links, accepting, role changes, removal, switching."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from studio import actions
from studio.models import Invitation, Membership, Role

pytestmark = pytest.mark.django_db

LINK = re.compile(r"http://[^/\s]+(/invite/[^/\s]+/)")


def invite(client, email="new@example.com", role=Role.DESIGNER, capture=None):
    response = client.post(reverse("invite"), {"email": email, "role": role})
    assert response.status_code == 302
    return response


@pytest.fixture
def invite_path(owner_client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        invite(owner_client)
    assert len(mail.outbox) == 1
    return LINK.search(mail.outbox[0].body).group(1)


@pytest.mark.parametrize("role", [Role.OWNER, Role.DESIGNER, Role.VIEWER])
def test_it_handles_the_members_page_for_each_role(role, shop, user, add_member, client_for):
    member = add_member(shop, role, email="member@example.com")
    html = client_for(member, shop).get(reverse("members")).content.decode()
    assert "owner@example.com" in html and "member@example.com" in html
    is_owner = role == Role.OWNER
    assert ('action="/members/invite/"' in html) is is_owner
    assert ('name="action" value="remove"' in html) is is_owner


def test_it_handles_an_invitation_email_with_a_one_time_link(owner_client, invite_path, shop):
    invitation = Invitation.objects.get()
    assert (invitation.email, invitation.role, invitation.shop) == (
        "new@example.com",
        "designer",
        shop,
    )
    assert "You are invited to" in mail.outbox[0].subject
    assert invitation.token_hash not in invite_path  # only the hash is stored
    html = owner_client.get(reverse("members")).content.decode()
    assert "new@example.com as designer" in html


def test_it_handles_accepting_as_a_logged_out_user_who_signs_up(invite_path, shop):
    """GIVEN an invitation to new@example.com WHEN its receiver signs up from the link THEN they
    only choose a password (the mailed link verified the address), join the shop, and get no
    second, personal shop."""
    visitor = Client()
    page = visitor.get(invite_path)
    assert page.status_code == 200
    html = page.content.decode()
    signup_url = f"{reverse('signup')}?next={invite_path}"
    assert signup_url in html and "Join " in html
    form = visitor.get(signup_url).content.decode()
    assert f"Join {escape(shop.name)}" in form and "new@example.com" in form
    response = visitor.post(signup_url, {"password": "a-long-passphrase-42"})
    assert response.status_code == 302 and response["Location"] == reverse("dashboard")
    membership = Membership.objects.get(user__email="new@example.com")  # one shop only
    assert (membership.shop, membership.role) == (shop, Role.DESIGNER)
    assert Invitation.objects.get().accepted_by == membership.user
    # The new member now works in the invited shop.
    assert visitor.session["current_shop_id"] == shop.id
    html = visitor.get(reverse("dashboard")).content.decode()
    assert escape(shop.name) in html
    # The invitation is used up: its sign-up page is the ordinary one again.
    assert "Create your studio" in Client().get(signup_url).content.decode()


def test_it_rejects_an_invited_sign_up_for_an_address_with_an_account(invite_path, make_user):
    make_user("new@example.com")
    response = Client().post(
        f"{reverse('signup')}?next={invite_path}", {"password": "a-long-passphrase-42"}
    )
    assert response.status_code == 422
    assert "log in to accept" in response.content.decode()


def test_it_builds_invitation_links_on_the_requests_own_origin(
    owner_client, settings, django_capture_on_commit_callbacks
):
    settings.ALLOWED_HOSTS = ["studio.example.test"]
    settings.SITE_URL_IS_SET = False
    with django_capture_on_commit_callbacks(execute=True):
        owner_client.post(
            reverse("invite"),
            {"email": "a@example.com", "role": Role.VIEWER},
            HTTP_HOST="studio.example.test:8443",
        )
    assert "http://studio.example.test:8443/invite/" in mail.outbox[-1].body
    settings.SITE_URL, settings.SITE_URL_IS_SET = "https://studio.example.com", True
    with django_capture_on_commit_callbacks(execute=True):
        owner_client.post(
            reverse("invite"),
            {"email": "b@example.com", "role": Role.VIEWER},
            HTTP_HOST="studio.example.test:8443",
        )
    assert "https://studio.example.com/invite/" in mail.outbox[-1].body


def test_it_handles_accepting_as_a_logged_out_user_who_logs_in(invite_path, shop, make_user):
    make_user("existing@example.com", password="a-long-passphrase-42")
    visitor = Client()
    response = visitor.post(
        f"{reverse('login')}?next={invite_path}",
        {
            "username": "existing@example.com",
            "password": "a-long-passphrase-42",
            "next": invite_path,
        },
    )
    assert response.status_code == 302 and response["Location"] == invite_path
    assert visitor.post(invite_path).status_code == 302
    assert Membership.objects.filter(shop=shop, user__email="existing@example.com").exists()


def test_it_handles_accepting_as_a_logged_in_user(invite_path, shop, make_user, client_for):
    member = make_user("someone@example.com")
    client = client_for(member)
    assert "Join the shop" in client.get(invite_path).content.decode()
    client.post(invite_path)
    assert Membership.objects.get(shop=shop, user=member).role == Role.DESIGNER
    assert client.session["current_shop_id"] == shop.id


def test_it_rejects_a_second_use_of_the_link(invite_path, make_user, client_for):
    first = client_for(make_user("a@example.com"))
    assert first.post(invite_path).status_code == 302
    second = client_for(make_user("b@example.com"))
    for response in (second.get(invite_path), second.post(invite_path)):
        assert response.status_code == 410
        assert "not valid or was already used" in response.content.decode()
    assert Membership.objects.filter(user__email="b@example.com").count() == 1  # their own shop


def test_it_rejects_an_expired_link(invite_path, make_user, client_for):
    Invitation.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    client = client_for(make_user("late@example.com"))
    response = client.post(invite_path)
    assert response.status_code == 410 and "has expired" in response.content.decode()
    assert Client().get(invite_path).status_code == 410
    assert Invitation.objects.get().accepted_at is None


def test_it_rejects_a_made_up_link(client):
    assert client.get("/invite/not-a-real-token/").status_code == 410


def test_it_rejects_invites_by_a_designer(shop, add_member, client_for):
    client = client_for(add_member(shop, Role.DESIGNER), shop)
    assert (
        client.post(reverse("invite"), {"email": "x@example.com", "role": "owner"}).status_code
        == 403
    )
    assert not Invitation.objects.exists()


def test_it_rejects_a_bad_invite_email(owner_client):
    response = owner_client.post(
        reverse("invite"), {"email": "nope", "role": "designer"}, follow=True
    )
    assert "Enter a valid email address and role." in response.content.decode()
    assert not Invitation.objects.exists()


def test_it_handles_role_change_and_removal(owner_client, shop, add_member):
    member = add_member(shop, Role.VIEWER)
    membership = Membership.objects.get(shop=shop, user=member)
    url = reverse("member_update", args=[membership.id])
    assert owner_client.post(url, {"role": "designer"}).status_code == 302
    membership.refresh_from_db()
    assert membership.role == Role.DESIGNER
    owner_client.post(url, {"action": "remove"})
    assert not Membership.objects.filter(id=membership.id).exists()


def test_it_rejects_removing_the_last_owner(owner_client, shop, user):
    own = Membership.objects.get(shop=shop, user=user)
    url = reverse("member_update", args=[own.id])
    response = owner_client.post(url, {"role": "viewer"}, follow=True)
    assert "A shop needs at least one owner." in response.content.decode()
    owner_client.post(url, {"action": "remove"})
    assert Membership.objects.get(id=own.id).role == Role.OWNER


def test_it_rejects_role_changes_by_a_designer(shop, user, add_member, client_for):
    client = client_for(add_member(shop, Role.DESIGNER), shop)
    own = Membership.objects.get(shop=shop, user=user)
    assert (
        client.post(reverse("member_update", args=[own.id]), {"role": "viewer"}).status_code == 403
    )
    assert Membership.objects.get(id=own.id).role == Role.OWNER


def test_it_handles_switching_the_current_shop(owner_client, shop, user):
    second = actions.create_shop("Second shop", owner=user)
    html = owner_client.get(reverse("members")).content.decode()
    assert 'id="topbar-shop"' in html and "Second shop" in html
    response = owner_client.post(reverse("shop_switch"), {"shop": second.id})
    assert response.status_code == 302
    assert owner_client.session["current_shop_id"] == second.id
    assert "Members of Second shop" in owner_client.get(reverse("members")).content.decode()
    assert owner_client.post(reverse("shop_switch"), {"shop": "junk"}).status_code == 302
    assert owner_client.session["current_shop_id"] == second.id


def test_it_handles_creating_another_shop(owner_client, user):
    response = owner_client.post(reverse("shop_create"), {"name": "Side project"})
    assert response.status_code == 302
    assert Membership.objects.get(user=user, shop__name="Side project").role == Role.OWNER
    assert owner_client.post(reverse("shop_create"), {"name": ""}).status_code == 422


def test_it_handles_revoking_an_invitation(owner_client, invite_path, make_user, client_for):
    invitation = Invitation.objects.get()
    response = owner_client.post(reverse("invitation_revoke", args=[invitation.id]))
    assert response.status_code == 302 and not Invitation.objects.exists()
    assert client_for(make_user("late@example.com")).post(invite_path).status_code == 410


def test_it_rejects_revoking_another_shops_invitation(owner_client, make_user):
    other = make_user("b@example.com")
    sent = actions.invite_member(
        other.memberships.get().shop, email="x@example.com", role="viewer", invited_by=other
    )
    response = owner_client.post(reverse("invitation_revoke", args=[sent.invitation.id]))
    assert response.status_code == 404 and Invitation.objects.exists()
