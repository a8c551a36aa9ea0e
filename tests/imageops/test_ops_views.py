"""The asset page's operation controls and the submit view."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from PIL import Image

from generations import actions
from generations.library import upload_asset
from generations.models import Asset, Job
from studio.models import LedgerEntry, Membership, Role

pytestmark = pytest.mark.django_db


def png(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(array).save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture
def asset(shop, user):
    img = np.full((40, 50, 3), 90, np.uint8)
    img[12:18, 14:26] = (200, 40, 40)  # something for the erase test's mask to remove
    return upload_asset(shop, png(img), user=user)


def test_it_shows_controls_and_unavailable_operations_with_the_reason(owner_client, asset, user):
    page = owner_client.get(f"/library/{asset.id}/").content.decode()
    assert 'id="op-erase"' in page and 'id="op-video"' in page and "data-painter" in page
    # Setting names are for staff: an owner reads that the edit is not set up.
    assert '<span>Headshot</span><span class="badge">Not set up</span>' in page
    assert "STUDIO_MODELS" not in page
    assert "maskpainter.js" in page and "25¢" in page  # video price shown
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    page = owner_client.get(f"/library/{asset.id}/").content.decode()
    assert "set STUDIO_MODELS" in page


def test_it_submits_an_operation_from_the_form(owner_client, asset):
    response = owner_client.post(f"/library/{asset.id}/operations/upscale/", {"zoom_factor": "4"})
    job = Job.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/jobs/{job.id}/"
    assert job.kind == "upscale" and job.params["options"] == {"zoom_factor": 4}
    assert job.input_asset_id == asset.id and job.source == "web"


def test_it_takes_a_painted_mask_as_a_data_url_and_answers_htmx_with_a_job_card(
    owner_client, asset
):
    mask = np.zeros((40, 50), np.uint8)
    mask[10:20, 10:30] = 255
    data_url = "data:image/png;base64," + base64.b64encode(png(mask)).decode()
    response = owner_client.post(
        f"/library/{asset.id}/operations/erase/",
        {"mask_data": data_url, "method": "auto"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200 and b"job-card" in response.content
    job = Job.objects.get()
    done = actions.execute_job(str(job.id))
    assert done.status == Job.Status.COMPLETED
    child = Asset.objects.get(parent=asset)
    page = owner_client.get(f"/library/{child.id}/").content.decode()
    assert "data-compare" in page and 'id="lineage-h"' in page and "erase" in page


def test_it_refuses_a_bad_mask_with_422_and_creates_nothing(owner_client, asset):
    wrong = png(np.full((10, 10), 255, np.uint8))
    data_url = "data:image/png;base64," + base64.b64encode(wrong).decode()
    response = owner_client.post(
        f"/library/{asset.id}/operations/erase/", {"mask_data": data_url}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 422 and b"must be the same size" in response.content
    assert response["HX-Retarget"] == "#op-error-erase"  # under the Erase button
    assert not Job.objects.exists() and not LedgerEntry.objects.exists()
    response = owner_client.post(f"/library/{asset.id}/operations/erase/", {})
    assert response.status_code == 302  # without htmx: back to the asset page with a message
    assert not Job.objects.exists()


def test_another_shops_asset_is_a_404(client_for, make_user, asset):
    stranger = make_user()
    other = Membership.objects.get(user=stranger).shop
    response = client_for(stranger, other).post(f"/library/{asset.id}/operations/restore/")
    assert response.status_code == 404


def test_a_viewer_cannot_run_operations(client_for, add_member, shop, asset):
    viewer = add_member(shop, Role.VIEWER)
    client = client_for(viewer, shop)
    assert client.post(f"/library/{asset.id}/operations/restore/").status_code == 403
    assert (
        b"Your role can look at images but not edit them."
        in client.get(f"/library/{asset.id}/").content
    )
