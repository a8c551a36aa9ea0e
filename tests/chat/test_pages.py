"""The chat page in process: send (HTMX and plain POST), the turn partial it polls, the SSE
stream for htmx's sse extension, keep / regenerate / stop, roles and shop isolation."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from generations import actions
from generations.chat.actions import start_turn
from generations.chat.models import ChatTurn, Conversation
from generations.models import Job
from studio.models import Membership, Role, Shop

pytestmark = pytest.mark.django_db

SEED = "make a cozy cabin sticker and put it on a mug"
HTMX = {"HX-Request": "true"}


def events_of(response: Any) -> list[tuple[str, str, str]]:
    """(id, event, data) for each SSE event of a streamed page response."""
    body = b"".join(response.streaming_content).decode()
    out = []
    for block in body.split("\n\n"):
        lines = [line for line in block.split("\n") if line and not line.startswith(":")]
        if not lines:
            continue
        fields: dict[str, list[str]] = {}
        for line in lines:
            name, _, value = line.partition(": ")
            fields.setdefault(name, []).append(value)
        out.append((fields["id"][0], fields["event"][0], "\n".join(fields.get("data", []))))
    return out


def test_it_shows_the_chat_page(owner_client: Any) -> None:
    html = owner_client.get(reverse("chat")).content.decode()
    assert "Design chat" in html and 'name="message"' in html
    assert "js/htmx-ext-sse.js" in html  # vendored, no CDN
    assert 'href="/chat/" aria-current="page"' in html


def test_it_sends_a_message_without_javascript(owner_client: Any, shop: Shop) -> None:
    response = owner_client.post(reverse("chat_send"), {"message": SEED})
    turn = ChatTurn.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/chat/{turn.conversation_id}/#turn-{turn.id}"
    assert turn.job.source == "chat" and turn.job.created_by.email == "owner@example.com"
    page = owner_client.get(response["Location"].split("#")[0]).content.decode()
    assert "I&#x27;ll make a cozy cabin sticker" in page
    assert 'data-status="running"' in page and "Reload</a> to see the reply" in page
    actions.execute_job(str(turn.job_id))
    page = owner_client.get(f"/chat/{turn.conversation_id}/").content.decode()
    assert 'data-status="done"' in page
    assert page.count('class="muted">Cut-out</small>') == 1
    assert "/m/mug?" in page and "Ceramic mug 11oz" in page
    assert "This cost 3¢." in page


def test_it_sends_with_htmx_and_starts_the_stream(owner_client: Any) -> None:
    response = owner_client.post(reverse("chat_send"), {"message": SEED}, headers=HTMX)
    turn = ChatTurn.objects.get()
    html = response.content.decode()
    assert response["HX-Push-Url"] == f"/chat/{turn.conversation_id}/"
    assert f'sse-connect="/chat/turns/{turn.id}/events/?after=4"' in html
    assert 'hx-trigger="every 1s [!window.EventSource]"' in html  # polling without SSE
    assert f'id="chat-conversation-id" value="{turn.conversation_id}" hx-swap-oob' in html
    # The next message goes to the same conversation.
    actions.execute_job(str(turn.job_id))
    owner_client.post(
        reverse("chat_send"),
        {"message": "now on a hoodie", "conversation": str(turn.conversation_id)},
        headers=HTMX,
    )
    assert Conversation.objects.get().turns.count() == 2


def test_a_suggestion_button_sends_its_words(owner_client: Any, shop: Shop) -> None:
    turn = start_turn(shop, SEED)
    actions.execute_job(str(turn.job_id))
    owner_client.post(
        reverse("chat_send"),
        {"message": "", "suggestion": "now on a hoodie", "conversation": str(turn.conversation_id)},
    )
    assert ChatTurn.objects.order_by("position").last().request == "now on a hoodie"


def test_it_streams_a_turn_as_html_events(owner_client: Any, shop: Shop) -> None:
    turn = start_turn(shop, SEED)
    actions.execute_job(str(turn.job_id))
    events = events_of(owner_client.get(reverse("chat_turn_events", args=[turn.id]) + "?after=4"))
    names = [name for _id, name, _data in events]
    assert names[0] == "stage" and names[-1] == "done"
    assert {"steps", "images", "mockup", "text"} <= set(names)
    ids = [int(i) for i, _n, _d in events]
    assert ids == sorted(ids) and ids[0] > 4
    stages = [data for _i, name, data in events if name == "stage"]
    assert stages[:3] == ["Planning", "Generating image", "Removing background"]
    done = events[-1][2]
    assert done.startswith(f'<article class="turn status-done" id="turn-{turn.id}"')
    assert "sse-connect" not in done  # finished: nothing more to follow
    # A reconnect resumes after the last event it saw.
    again = owner_client.get(
        reverse("chat_turn_events", args=[turn.id]), headers={"Last-Event-ID": str(ids[-2])}
    )
    assert [name for _i, name, _d in events_of(again)] == ["done"]


def test_it_draws_a_running_turn_for_polling(owner_client: Any, shop: Shop) -> None:
    turn = start_turn(shop, SEED)
    html = owner_client.get(reverse("chat_turn", args=[turn.id])).content.decode()
    assert 'data-status="running"' in html and "Queued" in html
    actions.execute_job(str(turn.job_id))
    html = owner_client.get(reverse("chat_turn", args=[turn.id])).content.decode()
    assert 'data-status="done"' in html and "hx-trigger" not in html


def test_it_keeps_an_image_and_regenerates(owner_client: Any, shop: Shop) -> None:
    turn = start_turn(shop, "make three versions of a fox badge")
    actions.execute_job(str(turn.job_id))
    second = ChatTurn.objects.get(id=turn.id).state["produced"]["images"][1]
    html = owner_client.post(
        reverse("chat_keep", args=[turn.id]), {"image": second}, headers=HTMX
    ).content.decode()
    assert html.count('<span class="badge public">Kept</span>') == 1
    assert Conversation.objects.get().state["kept"] == second
    owner_client.post(reverse("chat_regenerate", args=[turn.id]))
    regenerated = ChatTurn.objects.order_by("position").last()
    assert regenerated.trigger == "regenerate" and regenerated.request == turn.request


def test_it_stops_a_running_turn(owner_client: Any, shop: Shop) -> None:
    turn = start_turn(shop, SEED)
    html = owner_client.post(reverse("chat_cancel", args=[turn.id]), headers=HTMX).content.decode()
    assert Job.objects.get(id=turn.job_id).status == Job.Status.CANCELED
    assert 'data-status="canceled"' in html and "Stopped" in html


def test_it_shows_errors_inline(owner_client: Any, shop: Shop) -> None:
    Shop.objects.filter(id=shop.id).update(plan_budget_cents=0, wallet_cents=0)
    response = owner_client.post(reverse("chat_send"), {"message": SEED}, headers=HTMX)
    assert response.status_code == 422 and response["HX-Retarget"] == "#chat-error"
    assert "Not enough credits: this costs 2¢" in response.content.decode()
    response = owner_client.post(reverse("chat_send"), {"message": "  "})
    assert response.status_code == 400
    assert "The message is empty" in response.content.decode()
    assert not ChatTurn.objects.exists()


def test_it_lets_viewers_read_but_not_send(
    shop: Shop, add_member: Any, client_for: Any, owner_client: Any
) -> None:
    turn = start_turn(shop, SEED)
    actions.execute_job(str(turn.job_id))
    viewer = client_for(add_member(shop, Role.VIEWER), shop)
    page = viewer.get(f"/chat/{turn.conversation_id}/").content.decode()
    assert "can read conversations but not send messages" in page
    assert "Regenerate" not in page and ">Keep<" not in page
    assert viewer.post(reverse("chat_send"), {"message": "x"}).status_code == 403
    assert viewer.post(reverse("chat_regenerate", args=[turn.id])).status_code == 403


def test_it_rejects_another_shops_conversations(
    owner_client: Any, make_user: Any, shop: Shop
) -> None:
    other = Membership.objects.get(user=make_user("other@example.com")).shop
    turn = start_turn(other, SEED)
    for url in (
        f"/chat/{turn.conversation_id}/",
        reverse("chat_turn", args=[turn.id]),
        reverse("chat_turn_events", args=[turn.id]),
    ):
        assert owner_client.get(url).status_code == 404
    for name in ("chat_keep", "chat_regenerate", "chat_cancel"):
        assert owner_client.post(reverse(name, args=[turn.id])).status_code == 404
    response = owner_client.post(
        reverse("chat_send"), {"message": "now on a mug", "conversation": str(turn.conversation_id)}
    )
    assert response.status_code == 404
    assert str(turn.conversation_id) not in owner_client.get(reverse("chat")).content.decode()
