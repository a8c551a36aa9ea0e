"""The Create page: the prompt form, preset variable fields, remix and bad input."""

from __future__ import annotations

import pytest
from django.urls import reverse

from generations.models import Job, PriceRule
from studio.models import LedgerEntry, Role
from tests.pagekit import make_asset, make_preset

pytestmark = pytest.mark.django_db

GENERATE = reverse("generate")


def post(client, htmx=False, **data):
    base = {"prompt": "a teal fox", "negative_prompt": "", "count": "2", "aspect_ratio": ""}
    base.update(data)
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    return client.post(GENERATE, base, **headers)


def nothing_created():
    return not Job.objects.exists() and not LedgerEntry.objects.filter(kind="charge").exists()


@pytest.mark.parametrize("role", [Role.OWNER, Role.DESIGNER, Role.VIEWER])
def test_it_handles_the_dashboard_for_each_role(role, shop, add_member, client_for):
    member = add_member(shop, role)
    response = client_for(member, shop).get(reverse("dashboard"))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="prompt-form"' in html and '<label for="id_prompt">' in html
    assert ("data-generate>" in html) is (role != Role.VIEWER)


def test_it_handles_a_submitted_generation_without_js(owner_client, shop):
    response = post(owner_client, count="2", seed="42", aspect_ratio="16:9")
    job = Job.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "job_detail", args=[job.id]
    )
    assert job.params["count"] == 2 and job.params["seed"] == 42
    assert (job.params["width"], job.params["height"]) == (1024, 576)
    assert job.created_by.email == "owner@example.com" and job.source == "web"
    assert LedgerEntry.objects.get(job=job, kind="charge").amount_cents == -2


def test_it_handles_a_generation_with_htmx(owner_client):
    response = post(owner_client, htmx=True, prompt="a teal fox zebracorn")
    assert response.status_code == 200
    job = Job.objects.get()
    html = response.content.decode()
    assert f'id="job-{job.id}"' in html and 'hx-trigger="every 1s"' in html
    # The form comes back out of band, cleared of errors and keeping the prompt.
    assert 'id="prompt-form"' in html and 'hx-swap-oob="true"' in html
    assert "zebracorn" in html
    # The balance next to the button already reflects the charge (2 images at 1¢ from $5.00).
    assert "$4.98 in credits" in html


def test_it_handles_a_preset_with_its_variables(owner_client, shop):
    preset = make_preset(shop)
    response = post(
        owner_client,
        prompt="",
        preset=str(preset.id),
        var_subject="a happy cactus",
        var_style="",
    )
    assert response.status_code == 302
    job = Job.objects.get()
    assert job.params["prompt"] == "a sticker of a happy cactus in pastel"
    assert job.preset == preset
    # Aspect ratio "auto" takes the preset's.
    assert job.params["aspect_ratio"] == "2:3"


def test_it_handles_preset_fields_partial(owner_client, shop):
    preset = make_preset(shop)
    response = owner_client.get(
        reverse("preset_fields"), {"preset": str(preset.id)}, HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert 'name="var_subject"' in html and 'name="var_style"' in html
    assert '<label for="var_subject">Subject' in html
    assert owner_client.get(reverse("preset_fields"), {"preset": "not-a-uuid"}).status_code == 200


def test_it_handles_preset_fields_without_js(owner_client, shop):
    """The no-JS "Show fields" button GETs the dashboard with the preset chosen."""
    preset = make_preset(shop)
    response = owner_client.get(
        reverse("dashboard"), {"preset": str(preset.id), "prompt": "kept", "show_fields": "1"}
    )
    html = response.content.decode()
    assert 'name="var_subject"' in html and "kept</textarea>" in html


def test_it_rejects_a_missing_preset_variable(owner_client, shop):
    preset = make_preset(shop)
    response = post(owner_client, prompt="", preset=str(preset.id), var_subject="  ")
    assert response.status_code == 422
    html = response.content.decode()
    assert "Missing required variable: Subject (subject)." in html
    # The form comes back with the preset's fields so the user can fill them in.
    assert 'name="var_subject"' in html
    assert nothing_created()


def test_it_rejects_a_missing_preset_variable_with_htmx(owner_client, shop):
    preset = make_preset(shop)
    response = post(owner_client, htmx=True, prompt="", preset=str(preset.id))
    assert response.status_code == 422
    assert response["HX-Retarget"] == "#prompt-form" and response["HX-Reswap"] == "outerHTML"
    assert "Missing required variable" in response.content.decode()
    assert nothing_created()


@pytest.mark.parametrize("count", ["0", "-1", "5", "99", "two", ""])
def test_it_rejects_a_bad_count(owner_client, count):
    response = post(owner_client, count=count)
    assert response.status_code == 422
    assert "Count must be a whole number from 1 to 4." in response.content.decode()
    assert nothing_created()


def test_it_rejects_an_unknown_model(owner_client):
    response = post(owner_client, model="dall-e-99")
    assert response.status_code == 422
    assert "Unknown model dall-e-99" in response.content.decode()
    assert nothing_created()


def test_it_rejects_an_empty_prompt(owner_client):
    response = post(owner_client, prompt="   ")
    assert response.status_code == 422
    assert "A prompt is required." in response.content.decode()
    assert nothing_created()


def test_it_rejects_another_shops_preset(owner_client, make_user):
    other = make_user("other@example.com").memberships.get().shop
    preset = make_preset(other)
    response = post(owner_client, preset=str(preset.id), var_subject="x")
    assert response.status_code == 422
    assert "Select a valid choice" in response.content.decode()
    assert nothing_created()


def test_it_rejects_a_generation_the_shop_cannot_pay(owner_client, shop):
    PriceRule.objects.create(cents_per_output=10_000)
    response = post(owner_client)
    assert response.status_code == 422
    assert "Not enough credits" in response.content.decode()
    assert nothing_created()


def test_it_rejects_generation_by_a_viewer(shop, add_member, client_for):
    viewer = add_member(shop, Role.VIEWER)
    response = post(client_for(viewer, shop))
    assert response.status_code == 403
    assert "cannot do this" in response.content.decode()
    assert nothing_created()


def test_it_handles_remix_prefill(owner_client, shop, user):
    asset = make_asset(
        shop,
        user,
        prompt="a purple owl",
        negative_prompt="green",
        seed=1234,
        parameters={"aspect_ratio": "3:2"},
    )
    response = owner_client.get(reverse("dashboard"), {"remix": str(asset.id)})
    form = response.context["form"]
    assert form["prompt"].value() == "a purple owl"
    assert form["negative_prompt"].value() == "green"
    assert form["seed"].value() == 1234
    assert form["model"].value() == "builtin:procedural"
    assert form["aspect_ratio"].value() == "3:2"
    html = response.content.decode()
    assert "a purple owl</textarea>" in html and 'value="1234"' in html
    assert '<option value="builtin:procedural" selected>' in html


def test_it_rejects_remix_of_another_shops_asset(owner_client, make_user):
    other_user = make_user("other@example.com")
    asset = make_asset(other_user.memberships.get().shop, other_user)
    assert owner_client.get(reverse("dashboard"), {"remix": str(asset.id)}).status_code == 404
    assert owner_client.get(reverse("dashboard"), {"remix": "junk"}).status_code == 404


def test_it_handles_a_user_without_a_shop(client, django_user_model):
    lonely = django_user_model.objects.create_user("lonely@example.com", password="x" * 12)
    client.force_login(lonely)
    response = client.get(reverse("dashboard"))
    assert response.status_code == 302 and response["Location"] == reverse("shop_create")


def test_it_rejects_anonymous_visitors(client):
    response = client.get(reverse("dashboard"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_it_handles_a_preset_image_variable(owner_client, shop, user, make_user):
    logo = make_asset(shop, user, prompt="our logo", kind="upload")
    preset = make_preset(
        shop,
        template="a mug with {{logo}} on it",
        variables=[{"key": "logo", "label": "Logo", "required": True, "type": "file"}],
    )
    fields = owner_client.get(reverse("preset_fields"), {"preset": str(preset.id)}).content.decode()
    assert f'<option value="{logo.id}"' in fields and 'name="var_logo"' in fields
    response = post(owner_client, prompt="", preset=str(preset.id), var_logo=str(logo.id))
    assert response.status_code == 302
    job = Job.objects.get()
    assert job.params["prompt"] == "a mug with the logo on it"
    assert job.params["reference_asset_ids"] == [str(logo.id)]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("not-a-uuid", "Logo: choose an image from the library."),
        ("other-shop", "A reference image is not in this shop&#x27;s library."),
    ],
)
def test_it_rejects_a_bad_preset_image_variable(owner_client, shop, make_user, value, message):
    other_user = make_user("other@example.com")
    foreign = make_asset(other_user.memberships.get().shop, other_user)
    preset = make_preset(
        shop,
        template="a mug with {{logo}}",
        variables=[{"key": "logo", "label": "Logo", "required": True, "type": "file"}],
    )
    chosen = str(foreign.id) if value == "other-shop" else value
    response = post(owner_client, prompt="", preset=str(preset.id), var_logo=chosen)
    assert response.status_code == 422
    assert message in response.content.decode()
    assert nothing_created()
