"""Job pages: the live job card (HTMX polling), job detail and list, and cancel."""

from __future__ import annotations

import pytest
from django.urls import reverse

from generations import actions
from generations.models import Job
from studio.models import LedgerEntry, Role
from tests.pagekit import make_job

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("role", [Role.OWNER, Role.DESIGNER, Role.VIEWER])
def test_it_handles_job_pages_for_each_role(role, shop, user, add_member, client_for):
    job = make_job(shop, user, prompt="a mint cloud")
    member = add_member(shop, role)
    client = client_for(member, shop)
    for url in (reverse("job_list"), reverse("job_detail", args=[job.id])):
        response = client.get(url)
        html = response.content.decode()
        assert response.status_code == 200 and "a mint cloud" in html
        # Cancel is offered to those who can generate; viewers only watch.
        assert (reverse("job_cancel", args=[job.id]) in html) is (role != Role.VIEWER)


def test_it_handles_the_polling_card_until_the_job_finishes(owner_client, shop, user):
    job = make_job(shop, user, count=2, width=64, height=64)
    url = reverse("job_detail", args=[job.id])
    card = owner_client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert card.startswith("<article") and 'hx-trigger="every 1s"' in card
    assert "<progress" in card and "In line, starting soon" in card

    Job.objects.filter(id=job.id).update(status="active", progress=40, stage="drawing motifs")
    card = owner_client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert 'value="40"' in card and "Drawing motifs · 40%" in card

    Job.objects.filter(id=job.id).update(status="queued")
    done = actions.execute_job(str(job.id))
    assert done.status == "completed"
    card = owner_client.get(url, HTTP_HX_REQUEST="true").content.decode()
    # Finished: no more polling, and the images are shown.
    assert "hx-trigger" not in card and "<progress" not in card
    assert card.count('<img src="/media/') == 2
    for asset in done.outputs.all():
        assert reverse("asset_detail", args=[asset.id]) in card


def test_it_handles_the_no_js_job_page_refresh(owner_client, shop, user):
    job = make_job(shop, user)
    html = owner_client.get(reverse("job_detail", args=[job.id])).content.decode()
    assert '<meta http-equiv="refresh" content="2">' in html


def test_it_handles_a_failed_job_card(owner_client, shop, user):
    job = make_job(shop, user)
    actions.fail_job(job, "The engine exploded.")
    html = owner_client.get(reverse("job_detail", args=[job.id])).content.decode()
    assert "The engine exploded." in html and "refunded" in html


def test_it_handles_cancel_by_a_designer(shop, user, add_member, client_for):
    job = make_job(shop, user)
    designer = add_member(shop, Role.DESIGNER)
    response = client_for(designer, shop).post(reverse("job_cancel", args=[job.id]))
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == Job.Status.CANCELED
    refund = LedgerEntry.objects.get(job=job, kind="refund")
    assert refund.amount_cents == job.cost_cents


def test_it_handles_cancel_with_htmx(owner_client, shop, user):
    job = make_job(shop, user)
    response = owner_client.post(reverse("job_cancel", args=[job.id]), HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200 and html.startswith("<article")
    assert 'data-status="canceled"' in html and "hx-trigger" not in html


def test_it_rejects_cancel_by_a_viewer(shop, user, add_member, client_for):
    job = make_job(shop, user)
    viewer = add_member(shop, Role.VIEWER)
    assert client_for(viewer, shop).post(reverse("job_cancel", args=[job.id])).status_code == 403
    job.refresh_from_db()
    assert job.status == Job.Status.QUEUED


def test_it_rejects_cancel_of_a_finished_job(owner_client, shop, user):
    job = make_job(shop, user)
    actions.cancel_job(job)
    response = owner_client.post(reverse("job_cancel", args=[job.id]), follow=True)
    assert "This job is already canceled." in response.content.decode()
    assert LedgerEntry.objects.filter(job=job, kind="refund").count() == 1


def test_it_rejects_unknown_job_ids(owner_client):
    assert owner_client.get("/jobs/00000000-0000-0000-0000-000000000000/").status_code == 404
    assert owner_client.get("/jobs/not-a-uuid/").status_code == 404


def test_it_handles_an_operation_job_with_result_data(owner_client, shop, user):
    job = actions.submit_job(
        shop, kind="detect_objects", params={"count": 1}, cost_cents=0, user=user
    )
    Job.objects.filter(id=job.id).update(status="completed", result={"boxes": [[1, 2, 3, 4]]})
    html = owner_client.get(reverse("job_detail", args=[job.id])).content.decode()
    assert "Detect objects" in html and "Result data" in html and "&#x27;boxes&#x27;" in html


def test_the_job_list_pages_and_filters_by_status_and_kind(owner_client, shop, user):
    from generations import views

    jobs = [make_job(shop, user, prompt=f"job number {i}") for i in range(views.JOBS_PAGE + 5)]
    Job.objects.filter(id=jobs[0].id).update(status="failed", kind="upscale")
    first = owner_client.get(reverse("job_list")).content.decode()
    assert f"job number {len(jobs) - 1}" in first and "job number 0<" not in first
    assert "Page 1 of 2" in first and "page=2" in first
    second = owner_client.get(reverse("job_list"), {"page": 2}).content.decode()
    assert "job number 0" in second and f"job number {len(jobs) - 1}" not in second

    failed = owner_client.get(reverse("job_list"), {"status": "failed"}).content.decode()
    assert failed.count('class="job-card') == 1 and "job number 0" in failed
    assert "Page 1 of" not in failed
    upscale = owner_client.get(reverse("job_list"), {"kind": "upscale", "status": "queued"})
    assert "No jobs match these filters." in upscale.content.decode()
    # Unknown filter values and page numbers fall back to the defaults rather than failing.
    other = owner_client.get(reverse("job_list"), {"status": "nope", "kind": "x", "page": "zz"})
    assert other.status_code == 200 and "Page 1 of 2" in other.content.decode()
