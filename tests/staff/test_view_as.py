"""Read-only "view the studio as this shop": staff only, with a reason, visibly marked on every
page, refusing every change, and logged (start, the pages seen, the end) in the audit trail."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from generations.models import Job
from studio import staff
from studio.models import AuditEntry
from tests.pagekit import make_asset

pytestmark = pytest.mark.django_db


def start(client, shop, reason="Ticket 1234: images missing"):
    return client.post(reverse("admin:studio_shop_view_as", args=[shop.pk]), {"reason": reason})


def test_it_handles_viewing_a_shop_read_only(support_client, support, shop, user):
    make_asset(shop, user, prompt="the customer's sunflower")
    response = start(support_client, shop)
    assert response.status_code == 302 and response["Location"] == reverse("dashboard")
    library = support_client.get(reverse("library"))
    html = library.content.decode()
    assert library.status_code == 200 and "the customer&#x27;s sunflower" in html
    assert "Staff view of" in html and shop.slug in html and "every page you open is logged" in html
    assert "Stop viewing" in html
    # Viewer rights: pages that change things are not offered, and refused if tried.
    refused = support_client.post(reverse("generate"), {"prompt": "sneaky"})
    assert refused.status_code == 403 and "Read-only staff view" in refused.content.decode()
    assert not Job.objects.exists()
    upload = support_client.post(reverse("upload"), {})
    assert upload.status_code == 403
    started = AuditEntry.objects.get(action="shop.view_as.start")
    assert (started.actor, started.shop_id, started.reason) == (
        support,
        shop.pk,
        "Ticket 1234: images missing",
    )

    stop = support_client.post(reverse("admin:studio_shop_view_as_stop"))
    assert stop.status_code == 302
    ended = AuditEntry.objects.get(action="shop.view_as.end")
    assert any(p.endswith("GET /library/") for p in ended.after["pages"])
    assert "Staff view of" not in support_client.get(reverse("gallery")).content.decode()


def test_it_rejects_view_as_without_a_reason_or_permission(
    support_client, mod_client, shop, client_for, user
):
    response = start(support_client, shop, reason="  ")
    assert response.status_code == 302
    assert staff.VIEW_AS_KEY not in support_client.session
    assert start(mod_client, shop).status_code == 403  # moderators may not
    assert not AuditEntry.objects.exists()
    # A member with a hand-made session key gets nothing from it.
    member = client_for(user, shop)
    session = member.session
    session[staff.VIEW_AS_KEY] = {
        "shop": shop.pk,
        "expires": "2999-01-01T00:00:00+00:00",
        "pages": [],
    }
    session.save()
    assert "Staff view of" not in member.get(reverse("library")).content.decode()


def test_it_handles_a_view_that_expired(support_client, support, shop, settings):
    start(support_client, shop)
    session = support_client.session
    state = session[staff.VIEW_AS_KEY]
    state["expires"] = (timezone.now() - timedelta(seconds=1)).isoformat()
    session[staff.VIEW_AS_KEY] = state
    session.save()
    html = support_client.get(reverse("gallery")).content.decode()
    assert "Staff view of" not in html
    ended = AuditEntry.objects.get(action="shop.view_as.end")
    assert ended.reason == "ended: expired" and ended.actor == support


def test_it_handles_viewing_a_suspended_shop(support_client, support, shop, owner_client):
    from studio import suspension

    suspension.suspend_shops([shop], by=support, reason="Investigating fraud.")
    assert owner_client.get(reverse("library")).status_code == 403
    start(support_client, shop)
    assert support_client.get(reverse("library")).status_code == 200
