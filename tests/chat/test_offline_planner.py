"""The offline planner's reading of requests and its plans (pure: no database)."""

from __future__ import annotations

import pytest

from generations.chat.intent import read_request
from generations.chat.offline import HELP, decide

CABIN = {
    "design": {
        "assetId": "11111111-1111-1111-1111-111111111111",
        "brief": {"subject": "cozy cabin", "art_format": "sticker"},
        "prompt": "cozy cabin sticker",
        "cutout": True,
    },
    "images": ["00000000-0000-0000-0000-000000000000"],
    "product": {"slug": "mug", "variant": ""},
}


@pytest.mark.parametrize(
    ("request_text", "expected"),
    [
        (
            "make a cozy cabin sticker and put it on a mug",
            {"subject": "cozy cabin", "art_format": "sticker", "product": "mug"},
        ),
        (
            'a retro sunset poster with the text "STAY WILD" on a black tee',
            {
                "subject": "sunset",
                "styles": ["retro"],
                "text": "STAY WILD",
                "art_format": "poster",
                "product": "tshirt",
                "variant": "black",
            },
        ),
        (
            "a minimalist line drawing of a mountain, black on white",
            {
                "subject": "mountain",
                "styles": ["minimalist", "line art"],
                "colours": ["black", "white"],
                "colour_phrase": "black on white",
            },
        ),
        (
            "make 2 versions of a fox badge on a navy hoodie",
            {
                "subject": "fox",
                "art_format": "badge",
                "product": "hoodie",
                "variant": "navy",
                "count": 2,
            },
        ),
        ("try three versions", {"count": 3, "again": True}),
        ("make it dark blue", {"colours": ["blue"], "colour_phrase": "dark blue"}),
        ("now on a grey hoodie please", {"product": "hoodie", "variant": "grey"}),
        ("put it on a throw pillow", {"product_query": "throw pillow"}),
        ("as a sticker", {"product": "sticker"}),
        ("sell it for $24.50", {"listing": True, "price_cents": 2450}),
        ("remove the background", {"background": "remove"}),
        ("a cat sitting on a rock", {"subject": "cat sitting on a rock"}),
        (
            "design a tee with a wolf howling at the moon",
            {"subject": "wolf howling at the moon", "product": "tshirt"},
        ),
    ],
)
def test_it_reads_design_requests(request_text: str, expected: dict) -> None:
    intent = read_request(request_text).as_dict()
    for key, value in expected.items():
        assert intent.get(key) == value, (key, intent)


def test_it_plans_the_seed_chain() -> None:
    plan = decide(read_request("make a cozy cabin sticker and put it on a mug"), {})
    assert plan.brief is not None and plan.brief.prompt() == "cozy cabin sticker"
    assert (plan.count, plan.seed, plan.product, plan.mockup) == (1, None, "mug", True)
    assert plan.remove_background  # a sticker's backdrop is cut away on a product
    assert plan.intro() == (
        "I'll make a cozy cabin sticker, cut it out of its background and put it on a mug."
    )


def test_it_handles_make_it_blue_by_changing_the_current_design() -> None:
    plan = decide(read_request("make it blue"), CABIN, seed=7)
    assert plan.brief is not None
    assert plan.brief.prompt() == "cozy cabin sticker in blue"
    assert plan.product == "mug" and plan.mockup  # the product is kept
    assert plan.remove_background


def test_it_handles_now_on_a_hoodie_by_reusing_the_design() -> None:
    plan = decide(read_request("now on a hoodie"), CABIN)
    assert plan.brief is None
    assert plan.reuse_design == CABIN["design"]["assetId"]
    assert (plan.product, plan.mockup, plan.remove_background) == ("hoodie", True, False)
    assert plan.intro() == "I'll put your design on a hoodie."


def test_it_handles_three_versions_with_a_new_seed() -> None:
    plan = decide(read_request("try three versions"), CABIN, seed=1234)
    assert plan.brief is not None and plan.brief.prompt() == "cozy cabin sticker"
    assert (plan.count, plan.seed, plan.product) == (3, 1234, "mug")
    assert plan.intro().startswith("I'll make 3 versions of a cozy cabin sticker")


def test_it_caps_versions_at_the_engine_limit() -> None:
    plan = decide(read_request("make ten versions of a fox logo"), {}, seed=1)
    assert plan.count == 4
    assert "I can make at most 4 versions at once." in plan.notes


def test_it_keeps_the_product_colour_and_changes_only_what_is_asked() -> None:
    state = {**CABIN, "product": {"slug": "tshirt", "variant": "black"}}
    plan = decide(read_request("make it retro"), state)
    assert plan.brief is not None and plan.brief.styles == ["retro"]
    assert (plan.product, plan.variant) == ("tshirt", "black")


def test_it_regenerates_the_same_request_with_another_seed() -> None:
    intent = read_request("make a cozy cabin sticker and put it on a mug")
    assert decide(intent, {}).seed is None
    assert decide(intent, {}, regenerate=True, seed=99).seed == 99


def test_it_chooses_by_what_suits_when_no_product_is_named() -> None:
    plan = decide(read_request("show it on something"), CABIN)
    assert plan.by_suits and plan.mockup and plan.product == ""
    assert plan.intro() == "I'll find a product that suits your design and show it there."


def test_it_lists_with_a_price() -> None:
    plan = decide(read_request("sell it for $30"), CABIN)
    assert plan.listing and plan.price_cents == 3000
    assert plan.product == "mug" and plan.mockup


def test_it_answers_with_help_when_it_does_not_understand() -> None:
    plan = decide(read_request("hello"), {})
    assert not plan.understood and plan.intro() == HELP
    plan = decide(read_request("now on a hoodie"), {})
    assert not plan.understood
    assert plan.notes == ["There is no design in this conversation yet to use."]


def test_a_format_that_is_a_product_shows_on_that_product() -> None:
    plan = decide(read_request("make a cozy cabin sticker"), {})
    assert plan.product == "sticker" and plan.remove_background


def test_it_remakes_the_mockup_when_asked_for_a_bigger_design() -> None:
    plan = decide(read_request("make it bigger"), CABIN)
    assert plan.brief is None and plan.mockup and plan.scale == 1.3 and plan.product == "mug"
