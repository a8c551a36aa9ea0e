"""Preset pages: list, create, edit (variables editor), delete, permissions."""

from __future__ import annotations

import pytest
from django.urls import reverse

from generations.models import Preset
from studio.models import Role
from tests.pagekit import make_preset

pytestmark = pytest.mark.django_db


def form_data(**kw):
    data = {
        "name": "Mug wrap",
        "template": "a {{pattern}} pattern around {{motif}}",
        "negative_prompt": "red",
        "aspect_ratio": "21:9",
        "model": "",
        "var-TOTAL_FORMS": "3",
        "var-INITIAL_FORMS": "0",
        "var-MIN_NUM_FORMS": "0",
        "var-MAX_NUM_FORMS": "30",
        "var-0-key": "pattern",
        "var-0-label": "Pattern",
        "var-0-type": "text",
        "var-0-default": "striped",
        "var-1-key": "logo",
        "var-1-label": "Logo",
        "var-1-type": "file",
        "var-1-required": "on",
        "var-2-key": "",
    }
    data.update(kw)
    return data


@pytest.mark.parametrize("role", [Role.OWNER, Role.DESIGNER, Role.VIEWER])
def test_it_handles_the_preset_list_for_each_role(role, shop, add_member, client_for):
    preset = make_preset(shop)
    member = add_member(shop, role)
    client = client_for(member, shop)
    html = client.get(reverse("preset_list")).content.decode()
    assert "Sticker" in html and "subject*" in html
    can_edit = role != Role.VIEWER
    assert (reverse("preset_edit", args=[preset.id]) in html) is can_edit
    assert client.get(reverse("preset_new")).status_code == (200 if can_edit else 403)
    assert client.get(reverse("preset_edit", args=[preset.id])).status_code == (
        200 if can_edit else 403
    )


def test_it_handles_creating_a_preset_with_the_variables_editor(owner_client, shop, user):
    response = owner_client.post(reverse("preset_new"), form_data())
    assert response.status_code == 302 and response["Location"] == reverse("preset_list")
    preset = Preset.objects.get()
    assert (preset.shop, preset.created_by, preset.aspect_ratio) == (shop, user, "21:9")
    assert preset.variables == [
        {
            "key": "pattern",
            "label": "Pattern",
            "required": False,
            "default": "striped",
            "type": "text",
        },
        {"key": "logo", "label": "Logo", "required": True, "default": "", "type": "file"},
        # {{motif}} had no row: it becomes a required text variable, never silently empty.
        {"key": "motif", "label": "Motif", "required": True, "type": "text"},
    ]


def test_it_handles_editing_and_removing_a_variable(owner_client, shop):
    preset = make_preset(shop)
    page = owner_client.get(reverse("preset_edit", args=[preset.id])).content.decode()
    assert 'value="subject"' in page and 'value="pastel"' in page
    data = form_data(
        name="Sticker 2",
        template="a sticker of {{subject}}",
        **{
            "var-TOTAL_FORMS": "2",
            "var-0-key": "subject",
            "var-0-label": "Subject",
            "var-0-required": "on",
            "var-0-default": "",
            "var-1-key": "style",
            "var-1-DELETE": "on",
        },
    )
    data.pop("var-1-required")
    response = owner_client.post(reverse("preset_edit", args=[preset.id]), data)
    assert response.status_code == 302
    preset.refresh_from_db()
    assert preset.name == "Sticker 2"
    assert [v["key"] for v in preset.variables] == ["subject"]


def test_it_handles_add_a_row_without_js(owner_client):
    response = owner_client.post(reverse("preset_new"), form_data(add_variable="1"))
    assert response.status_code == 200
    assert 'name="var-TOTAL_FORMS" value="4"' in response.content.decode()
    assert not Preset.objects.exists()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"var-0-key": "9lives"}, "Use letters, digits or _ and start with a letter"),
        ({"var-1-key": "pattern"}, "Variable &#x27;pattern&#x27; is declared twice."),
        ({"name": ""}, "This field is required."),
        ({"aspect_ratio": "7:3"}, "Select a valid choice."),
        ({"model": "nope:nope"}, "Select a valid choice."),
    ],
)
def test_it_rejects_bad_preset_input(owner_client, changes, message):
    response = owner_client.post(reverse("preset_new"), form_data(**changes))
    assert response.status_code == 422
    assert message in response.content.decode()
    assert not Preset.objects.exists()


def test_it_handles_deleting_a_preset(owner_client, shop):
    preset = make_preset(shop)
    response = owner_client.post(reverse("preset_delete", args=[preset.id]))
    assert response.status_code == 302 and not Preset.objects.exists()


def test_it_rejects_preset_changes_by_a_viewer(shop, add_member, client_for):
    preset = make_preset(shop)
    client = client_for(add_member(shop, Role.VIEWER), shop)
    assert client.post(reverse("preset_delete", args=[preset.id])).status_code == 403
    assert client.post(reverse("preset_edit", args=[preset.id]), form_data()).status_code == 403
    assert client.post(reverse("preset_new"), form_data()).status_code == 403
    assert Preset.objects.get().name == "Sticker"


@pytest.mark.parametrize("total", ["abc", "", "999999"])
def test_it_rejects_a_tampered_row_count(owner_client, total):
    data = form_data(**{"var-TOTAL_FORMS": total})
    assert (
        owner_client.post(reverse("preset_new"), {**data, "add_variable": "1"}).status_code == 200
    )
    assert owner_client.post(reverse("preset_new"), data).status_code in (302, 422)
    assert Preset.objects.count() <= 1
