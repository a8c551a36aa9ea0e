"""Chat turns run by the offline planner (the job runner called inline, as a worker does):
the seed's chain, follow-ups that reuse earlier results, charges and refunds, retries."""

from __future__ import annotations

from typing import Any

import pytest

from generations import actions
from generations.chat import tools
from generations.chat.actions import ChatError, cancel_turn, keep_image, start_turn
from generations.chat.models import ChatEvent, ChatToolCall, ChatTurn, Conversation
from generations.engines import registry
from generations.engines.base import EngineError
from generations.models import Asset, Job
from mockups.models import Listing
from studio.actions import InsufficientCredits
from studio.models import LedgerEntry, Shop

pytestmark = pytest.mark.django_db


def tool_names(turn: ChatTurn) -> list[str]:
    return list(ChatToolCall.objects.filter(turn=turn).values_list("name", flat=True))


def generate_jobs(shop: Shop) -> int:
    return Job.objects.filter(shop=shop, kind="generate").count()


def test_it_handles_the_seed_request(shop: Shop, say: Any) -> None:
    """GIVEN a shop WHEN "make a cozy cabin sticker and put it on a mug" THEN the art is
    generated, cut out and shown on the mug, each priced tool charged once, the reply says so."""
    balance = shop.balance_cents
    turn = say("make a cozy cabin sticker and put it on a mug")
    assert turn.job.status == Job.Status.COMPLETED, turn.job.error
    assert tool_names(turn) == ["generate_image", "remove_background", "build_mockup"]
    produced = turn.state["produced"]
    sticker = Asset.objects.get(id=produced["images"][0])
    cutout = Asset.objects.get(id=produced["cutouts"][0])
    assert sticker.kind == "generated" and sticker.prompt == "cozy cabin sticker"
    assert cutout.parent_id == sticker.id and cutout.content_type == "image/png"
    assert produced["mockup"]["product"] == "mug"
    assert produced["mockup"]["imageId"] == str(cutout.id)
    assert produced["mockup"]["params"]["scale"] > 1  # the cut-out fills the print area
    assert turn.reply == (
        "I'll make a cozy cabin sticker, cut it out of its background and put it on a mug.\n\n"
        "Here is a cozy cabin sticker, cut out of its background. It's on the Ceramic mug "
        "11oz. This cost 3¢."
    )
    assert turn.cost_cents == 3  # art, cut-out, and the mockup's fresh render (seed 000)
    shop.refresh_from_db()
    assert shop.balance_cents == balance - 3
    charges = LedgerEntry.objects.filter(shop=shop, kind="charge", amount_cents__lt=0)
    kinds = sorted(c.job.kind if c.job else c.memo.split(":")[0] for c in charges)
    assert kinds == ["Mockup render", "generate", "remove-background"]
    # The turn's own job is free: one zero charge, no refund.
    assert turn.job.cost_cents == 0 and turn.job.kind == "chat"
    kinds = list(ChatEvent.objects.filter(turn=turn).values_list("kind", flat=True))
    assert kinds[:4] == ["stage", "text-start", "text-delta", "text-end"]  # written at submit
    assert kinds.count("image") == 2 and kinds.count("mockup") == 1 and kinds[-1] == "finish"


def test_it_handles_follow_ups_that_reuse_earlier_results(shop: Shop, say: Any) -> None:
    first = say("make a cozy cabin sticker and put it on a mug")
    design = first.state["produced"]["design"]["assetId"]

    hoodie = say("now on a hoodie", after=first)
    assert tool_names(hoodie) == ["build_mockup"]
    mockup = hoodie.state["produced"]["mockup"]
    assert (mockup["product"], mockup["imageId"]) == ("hoodie", design)
    assert hoodie.cost_cents == 1 and generate_jobs(shop) == 1  # only the new render

    blue = say("make it blue", after=hoodie)
    assert tool_names(blue) == ["generate_image", "remove_background", "build_mockup"]
    call = ChatToolCall.objects.get(turn=blue, name="generate_image")
    assert call.arguments["prompt"] == "cozy cabin sticker in blue"
    assert blue.state["produced"]["mockup"]["product"] == "hoodie"  # the product is kept

    three = say("try three versions", after=blue)
    call = ChatToolCall.objects.get(turn=three, name="generate_image")
    assert call.arguments["count"] == 3 and call.arguments["seed"] >= 0
    assert len(three.state["produced"]["images"]) == 3
    assert three.reply.startswith("I'll make 3 versions of a cozy cabin sticker in blue")
    assert three.cost_cents == 5  # three images, one cut-out and a fresh mockup render
    conversation = Conversation.objects.get(id=first.conversation_id)
    assert conversation.turns.count() == 4
    assert conversation.state["images"] == three.state["produced"]["images"]


def test_it_handles_a_kept_version_in_later_turns(shop: Shop, say: Any) -> None:
    three = say("make three versions of a fox badge")
    second = three.state["produced"]["images"][1]
    keep_image(three.conversation, second)
    hoodie = say("now on a black hoodie", after=three)
    mockup = hoodie.state["produced"]["mockup"]
    assert (mockup["product"], mockup["variant"]) == ("hoodie", "black")
    # The kept version is the design: cut out first (a badge on a garment), then shown.
    assert tool_names(hoodie) == ["remove_background", "build_mockup"]
    cut = ChatToolCall.objects.get(turn=hoodie, name="remove_background")
    assert cut.arguments["imageId"] == second


def test_it_rejects_keeping_an_image_from_elsewhere(shop: Shop, say: Any, image_bytes: Any) -> None:
    from generations.library import upload_asset

    turn = say("make a fox badge")
    other = upload_asset(shop, image_bytes(), user=None)
    with pytest.raises(ChatError, match="not made in this conversation"):
        keep_image(turn.conversation, str(other.id))


def test_it_creates_a_listing_with_a_buy_link(shop: Shop, say: Any) -> None:
    first = say("make a cozy cabin sticker and put it on a mug")
    sold = say("sell it for $19.50", after=first)
    listing = Listing.objects.get(shop=shop)
    assert listing.price_cents == 1950 and listing.template.slug == "mug"
    assert sold.state["produced"]["listing"]["token"] == listing.token
    assert "listed for $19.50" in sold.reply


def test_it_refunds_a_generation_that_fails(
    shop: Shop, say: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self: Any, request: Any, progress: Any) -> Any:
        raise EngineError("The GPU caught fire.")

    monkeypatch.setattr(type(registry.engine("builtin")), "generate", broken)
    balance = shop.balance_cents
    turn = say("make a cozy cabin sticker and put it on a mug")
    assert turn.job.status == Job.Status.COMPLETED  # the turn answers; the tool failed
    assert "I could not make the image: The generation failed: The GPU caught fire." in turn.reply
    call = ChatToolCall.objects.get(turn=turn)
    assert call.status == "failed" and call.job.status == Job.Status.FAILED
    assert turn.cost_cents == 0
    shop.refresh_from_db()
    assert shop.balance_cents == balance
    assert LedgerEntry.objects.filter(job=call.job, kind="refund", amount_cents=1).exists()


def test_it_rejects_a_turn_the_shop_cannot_pay_for(shop: Shop) -> None:
    Shop.objects.filter(id=shop.id).update(plan_budget_cents=1, wallet_cents=0)
    with pytest.raises(InsufficientCredits) as err:
        start_turn(Shop.objects.get(id=shop.id), "make a cozy cabin sticker and put it on a mug")
    assert err.value.required_cents == 2
    assert not ChatTurn.objects.exists() and not Job.objects.exists()


def test_it_rejects_a_second_message_while_replying(shop: Shop) -> None:
    turn = start_turn(shop, "make a fox badge")
    with pytest.raises(ChatError, match="still being made") as err:
        start_turn(shop, "now on a mug", conversation=turn.conversation)
    assert err.value.status == 409


def test_it_rejects_empty_and_overlong_messages(shop: Shop) -> None:
    with pytest.raises(ChatError, match="empty"):
        start_turn(shop, "   ")
    with pytest.raises(ChatError, match="longer than 4000"):
        start_turn(shop, "x" * 4001)
    assert not Conversation.objects.exists()


def test_it_cancels_a_turn_and_its_tool_job(shop: Shop) -> None:
    turn = start_turn(shop, "make a fox badge")
    cancel_turn(turn)
    job = Job.objects.get(id=turn.job_id)
    assert job.status == Job.Status.CANCELED
    assert actions.execute_job(str(job.id)) is None  # a late message is skipped


def test_a_retried_turn_reuses_the_tools_it_finished(
    shop: Shop, run_turn: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GIVEN a turn whose first attempt stops after generating (a retryable error) WHEN the
    job runs again THEN the generation is reused: one generate job, one charge."""
    real = tools.TOOLS["remove_background"]
    state = {"calls": 0}

    def flaky(run: Any, args: Any, resume: Any) -> Any:
        state["calls"] += 1
        if state["calls"] == 1:
            raise EngineError("The worker's network blinked.", retryable=True)
        return real.run(run, args, resume)

    monkeypatch.setitem(
        tools.TOOLS, "remove_background", real.__class__(**{**real.__dict__, "run": flaky})
    )
    turn = start_turn(shop, "make a cozy cabin sticker and put it on a mug")
    first = run_turn(turn)
    assert first.job.status == Job.Status.QUEUED and first.job.attempts == 1
    again = run_turn(turn)
    assert again.job.status == Job.Status.COMPLETED and again.job.attempts == 2
    assert generate_jobs(shop) == 1
    calls = list(ChatToolCall.objects.filter(turn=turn).values_list("name", "status"))
    assert calls == [
        ("generate_image", "done"),
        ("remove_background", "failed"),  # interrupted with the first attempt
        ("remove_background", "done"),
        ("build_mockup", "done"),
    ]
    assert again.cost_cents == 3


def test_it_keeps_each_shops_conversations_apart(shop: Shop, say: Any, make_user: Any) -> None:
    from generations.chat.actions import find_conversation
    from studio.models import Membership

    turn = say("make a fox badge")
    other = Membership.objects.get(user=make_user("other@example.com")).shop
    with pytest.raises(ChatError) as err:
        find_conversation(other, conversation_id=str(turn.conversation_id))
    assert err.value.status == 404
    with pytest.raises(ChatError):
        start_turn(other, "now on a mug", conversation=turn.conversation)
