"""Reading a scene prompt: surfaces and their tones, colours and where they go, light, camera,
props, and what was not understood."""

from __future__ import annotations

import pytest

from generations.engines.builtin import COLOUR_WORDS
from generations.scenes.spec import (
    SURFACES,
    WOOD_TONES,
    Prop,
    parse_colour,
    parse_scene,
    photographic,
    with_overrides,
)


def test_it_handles_the_seeds_prompt() -> None:
    spec = parse_scene(
        "Place the product on a marble table with soft natural lighting and a minimalist background"
    )
    assert spec.surface == "marble" and spec.light == "natural"
    assert spec.softness == pytest.approx(0.85)  # "soft" softens the natural light
    assert spec.minimal and spec.props == () and spec.ignored == ()
    assert spec.summary() == "marble · natural light · eye-level camera"


@pytest.mark.parametrize(
    ("prompt", "surface", "colour"),
    [
        ("on a walnut table", "wood", WOOD_TONES["walnut"]),
        ("light pink backdrop, dark wood", "wood", WOOD_TONES["dark"]),
        ("on oak", "wood", WOOD_TONES["oak"]),
        ("black marble slab", "marble", (34, 34, 38)),
        ("concrete floor", "concrete", None),
        ("natural linen cloth", "linen", None),
        ("terrazzo", "terrazzo", None),
        ("seamless paper sweep", "paper", None),
        ("gradient studio backdrop", "studio", None),
        ("on slate", "slate", None),
        ("glossy acrylic", "acrylic", None),
    ],
)
def test_it_reads_surfaces_and_their_tones(prompt: str, surface: str, colour: tuple | None) -> None:
    spec = parse_scene(prompt)
    assert spec.surface == surface
    assert spec.surface_colour == colour


def test_colours_go_where_their_noun_says() -> None:
    spec = parse_scene("sage green backdrop with pink spheres on a terracotta podium")
    assert spec.backdrop_colour == photographic(COLOUR_WORDS["sage"])
    assert spec.backdrop_colour_name == "sage green"
    kinds = {p.kind: p.colour for p in spec.props}
    assert kinds == {"spheres": COLOUR_WORDS["pink"], "podium": COLOUR_WORDS["terracotta"]}
    # Without a surface word, a coloured backdrop reads as a paper sweep in that colour.
    assert spec.surface == "paper"


def test_a_modifier_does_not_reach_across_a_comma() -> None:
    spec = parse_scene("soft studio light, sage backdrop")
    assert spec.backdrop_colour_name == "sage"
    assert parse_scene("light pink backdrop").backdrop_colour_name == "light pink"


@pytest.mark.parametrize(
    ("prompt", "light", "side", "camera", "gobo"),
    [
        ("dramatic light from the left", "dramatic", "left", "eye", ""),
        ("backlit", "backlit", "back", "eye", ""),
        ("golden hour with leaf shadows, low angle", "golden", "", "low", "leaves"),
        ("soft natural window light", "natural", "", "eye", "window"),
        ("bright airy flat lay", "bright", "", "top", ""),
        ("moody, high angle, blinds", "dramatic", "", "high", "blinds"),
        ("cool overcast light from the right", "cool", "right", "eye", ""),
    ],
)
def test_it_reads_light_camera_and_shadows(
    prompt: str, light: str, side: str, camera: str, gobo: str
) -> None:
    spec = parse_scene(prompt)
    assert (spec.light, spec.side, spec.camera, spec.gobo) == (light, side, camera, gobo)


def test_golden_hour_is_a_light_not_a_gold_backdrop() -> None:
    spec = parse_scene("black marble, golden hour")
    assert spec.light == "golden" and spec.backdrop_colour is None


def test_warm_and_cool_tint_another_mood() -> None:
    assert parse_scene("dramatic warm light").warmth == pytest.approx(0.45)
    assert parse_scene("dramatic cool light").warmth == pytest.approx(-0.4)
    assert parse_scene("warm light").light == "soft"


def test_it_lists_words_it_did_not_use() -> None:
    spec = parse_scene("on linen with pebbles and dried flowers")
    assert spec.props == (Prop("pebbles", None),)
    assert spec.ignored == ("dried", "flowers")


def test_overrides_win_and_are_checked() -> None:
    spec = with_overrides(parse_scene("on oak"), surface="marble", light="dramatic")
    assert (spec.surface, spec.light) == ("marble", "dramatic")
    with pytest.raises(ValueError, match="surface must be one of"):
        with_overrides(spec, surface="lava")
    spec = parse_scene("on paper", backdrop_colour="#a0c0e0")
    assert spec.backdrop_colour == (160, 192, 224)


def test_parse_colour_accepts_names_hex_and_triples() -> None:
    assert parse_colour("sage") == COLOUR_WORDS["sage"]
    assert parse_colour("#FF0080") == (255, 0, 128)
    assert parse_colour([300, -4, 10]) == (255, 0, 10)
    with pytest.raises(ValueError, match="Unknown colour"):
        parse_colour("ultraviolet-ish")


def test_every_surface_has_a_texture_width() -> None:
    from generations.scenes.textures import WIDTHS

    kinds = {"studio": "plain", "acrylic": "plain"}
    assert all(kinds.get(k, k) in WIDTHS for k in SURFACES)
