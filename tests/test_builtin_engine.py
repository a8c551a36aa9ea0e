"""The procedural engine: deterministic, honours size, ratio, count, seed, palette, negative prompt."""

from __future__ import annotations

import io
import random
from dataclasses import replace

import cv2
import numpy as np
import pytest
from PIL import Image

from generations.actions import ASPECT_RATIOS, size_for
from generations.engines import builtin, registry
from generations.engines.base import Capability, GenerationRequest

RED = builtin.COLOUR_WORDS["red"]


def rgb(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"), dtype=np.int16)


def arr(img: Image.Image) -> np.ndarray:
    return np.asarray(img.convert("RGB"), dtype=np.int16)


def generate(**kw):
    req = GenerationRequest(**{"prompt": "blue circles", "width": 128, "height": 96, **kw})
    return builtin.ProceduralEngine().generate(req, lambda p, s: None)


def near_red_share(a: np.ndarray) -> float:
    """Share of pixels that read as red: close to it in RGB or saturated with a red hue."""
    hsv = cv2.cvtColor(a.astype(np.uint8), cv2.COLOR_RGB2HSV).astype(np.int16)
    hue = hsv[..., 0]  # OpenCV hue is 0..179
    red_hue = ((hue <= 8) | (hue >= 172)) & (hsv[..., 1] > 110) & (hsv[..., 2] > 90)
    close = np.sqrt(((a - np.array(RED)) ** 2).sum(axis=2)) < 60
    return float((red_hue | close).mean())


def test_it_is_deterministic_for_prompt_size_and_seed():
    a, b = generate(seed=5), generate(seed=5)
    assert a[0].data == b[0].data
    assert generate(seed=6)[0].data != a[0].data


def test_it_honours_size_and_count():
    images = generate(count=3, width=200, height=120, seed=1)
    assert len(images) == 3
    assert all((i.width, i.height) == (200, 120) for i in images)
    assert Image.open(io.BytesIO(images[0].data)).size == (200, 120)
    assert len({i.data for i in images}) == 3


@pytest.mark.parametrize("ratio", ASPECT_RATIOS)
def test_every_aspect_ratio_renders_at_its_size(ratio):
    width, height = size_for(ratio, 256)
    for seed, prompt in ((1, 'retro poster of a cat "HELLO WORLD"'), (2, "mountain lake scene")):
        img = builtin.render(prompt, width, height, seed)
        assert img.size == (width, height)
        assert arr(img).std() > 3  # something was drawn, not a blank canvas


@pytest.mark.parametrize("size", [(64, 4096), (4096, 64)])
def test_extreme_sizes_render(size):
    (img,) = generate(width=size[0], height=size[1], seed=1)
    assert (img.width, img.height) == size


@pytest.mark.parametrize("seed", range(6))
def test_a_line_drawing_of_a_mountain_is_black_line_art_on_white(seed):
    img = arr(
        builtin.render("a minimalist line drawing of a mountain, black on white", 256, 256, seed)
    )
    white = (img > 225).all(axis=2)
    dark = (img < 90).all(axis=2)
    colourful = (img.max(axis=2) - img.min(axis=2)) > 40
    assert white.mean() > 0.85
    assert dark.mean() > 0.005
    assert colourful.mean() < 0.001  # black and white only, no palette colours
    # The strokes form a real drawing: one connected dark stroke spans a good part of the image.
    n, _, stats, _ = cv2.connectedComponentsWithStats(dark.astype(np.uint8), connectivity=8)
    widest = max(stats[i, cv2.CC_STAT_WIDTH] for i in range(1, n))
    assert widest > 256 * 0.4


def test_the_line_drawing_draws_the_mountain_not_just_a_frame():
    prompt = "a minimalist line drawing of a mountain, black on white"
    d = builtin.design_for(prompt, "", random.Random(1))
    assert d.line and d.subjects == ["mountain"]
    assert builtin.contrast(d.palette.dark, d.palette.bg) > 15
    for seed in range(8):  # minimalist: the bare drawing every time, never inside badge rings
        assert builtin._choose_composition(d, random.Random(seed)) == "emblem"
    for seed in range(3):
        img = arr(builtin.render(prompt, 200, 200, seed))
        ys, xs = np.nonzero((img < 90).all(axis=2))
        # The ink sits in the middle (the mountain), not along the edges (a frame).
        assert xs.min() > 10 and xs.max() < 190 and ys.min() > 10 and ys.max() < 190


@pytest.mark.parametrize("seed", range(4))
def test_colour_words_drive_the_palette(seed):
    img = arr(builtin.render("red red red", 128, 128, seed))
    hsv = cv2.cvtColor(img.astype(np.uint8), cv2.COLOR_RGB2HSV)
    saturated = hsv[..., 1] > 100
    hue = hsv[..., 0][saturated]
    assert saturated.mean() > 0.03
    assert (((hue <= 10) | (hue >= 170)).mean()) > 0.2  # red is a lead colour, not a speck
    assert builtin.palette_for("red", "", random.Random(seed))[1] == RED


@pytest.mark.parametrize(
    "prompt",
    [
        "red heart sticker",
        'red retro poster of a sunset "HOT"',
        "red pattern of hearts",
        "red badge with a crown",
        "sunset landscape with mountains",
        "pop art halftone red heart",
        'red t-shirt slogan "HELLO"',
    ],
)
def test_the_negative_prompt_keeps_a_named_colour_out_of_the_pixels(prompt):
    for seed in range(4):
        with_red = arr(builtin.render(prompt, 128, 128, seed))
        without = arr(builtin.render(prompt, 128, 128, seed, negative="red"))
        assert near_red_share(without) < 0.003, (seed, near_red_share(without))
        if "red" in prompt:
            assert near_red_share(with_red) > 0.01  # the check itself can see red


def test_the_negative_prompt_removes_a_named_colour_from_the_palette():
    palette = builtin.palette_for("red and blue", "red", random.Random(1))
    assert RED not in palette
    assert builtin.COLOUR_WORDS["blue"] in palette


def test_the_negative_prompt_removes_a_named_motif():
    assert "star" not in builtin.motifs_for("stars and waves", "stars", random.Random(1))
    assert "wave" in builtin.motifs_for("stars and waves", "stars", random.Random(1))
    # Synonyms count both ways: "kitten" in the negative removes the cat.
    assert "cat" not in builtin.motifs_for("a cat and a moon", "kitten", random.Random(1))
    for seed in range(10):  # the seed's fallback subject respects the negative prompt too
        assert "abstract" not in builtin.motifs_for(
            "something nice", "abstract", random.Random(seed)
        )


def test_a_negated_subject_changes_the_drawing():
    a = arr(builtin.render("sticker of a cat and a heart", 128, 128, 3))
    b = arr(builtin.render("sticker of a cat and a heart", 128, 128, 3, negative="heart"))
    assert np.abs(a - b).mean() > 1


def test_negative_text_drops_the_typography():
    """GIVEN a quoted slogan WHEN the negative prompt says "text" THEN nothing of it is drawn."""
    for seed in range(3):
        texted = builtin.render('a heart badge "HELLO"', 160, 160, seed, negative="text")
        plain = builtin.render("a heart badge", 160, 160, seed, negative="text")
        assert arr(texted).tobytes() == arr(plain).tobytes()


def test_negative_gradient_gives_a_flat_backdrop():
    d = builtin.design_for("a sun", "gradient", random.Random(1))
    for seed in range(5):
        backdrop = builtin._backdrop(64, 64, d.palette.bg, d, random.Random(seed))
        assert backdrop.getcolors() is not None and len(backdrop.getcolors()) == 1


@pytest.mark.parametrize(
    "composition", ["sticker", "badge", "poster", "pattern", "scene", "tshirt", "icon", "stickers"]
)
def test_quoted_text_is_set_as_type_in_every_composition(composition):
    prompt = f"{composition} of a mountain"
    for seed in range(2):
        plain = arr(builtin.render(prompt, 192, 192, seed))
        texted = arr(builtin.render(f'{prompt} "SALE"', 192, 192, seed))
        changed = (np.abs(plain - texted).sum(axis=2) > 60).mean()
        assert changed > 0.005


def test_typography_has_legible_contrast():
    pal = builtin._palette("yellow", "", set(), random.Random(1))
    for bg in [(250, 211, 60), (20, 20, 24), (128, 128, 128), (240, 240, 240)]:
        img = Image.new("RGB", (200, 100), bg)
        builtin.set_text(img, "BIG SALE", (10, 10, 190, 90), "sans", pal, [pal.primary])
        a = arr(img)
        ink = (np.abs(a - np.array(bg)).sum(axis=2)) > 60
        assert ink.mean() > 0.05  # the text is big and visible
        inked = tuple(int(v) for v in np.median(a[ink], axis=0))
        assert builtin.contrast(inked, bg) >= 3


def test_quoted_text_is_read_from_the_prompt():
    assert builtin.quoted_text('a poster "Hello there" now') == "Hello there"
    assert builtin.quoted_text("a poster “Curly quotes”") == "Curly quotes"
    assert builtin.quoted_text("it's a cat's life") == ""


def test_fit_text_wraps_long_text_into_lines():
    size, lines = builtin.fit_text("the quick brown fox jumps over the lazy dog", "sans", 300, 300)
    assert len(lines) > 1
    font = builtin._font("sans", size)
    assert all(font.getlength(line) <= 300 for line in lines)


@pytest.mark.django_db
def test_it_is_registered_and_resolvable():
    spec, engine = registry.resolve("builtin:procedural", Capability.TEXT_TO_IMAGE)
    assert spec.engine == "builtin" and isinstance(engine, builtin.ProceduralEngine)


def test_every_subject_draws_in_both_looks():
    d = builtin.design_for("a thing", "", random.Random(1))
    for name in builtin.MOTIFS:
        for line in (False, True):
            d.line = line
            img = Image.new("RGB", (96, 96), d.palette.bg)
            builtin._draw_subjects(img, [(name, 48, 48, 40, 0.0)], d, random.Random(1))
            assert arr(img).std() > 2, name


def test_neon_draws_glowing_lines_on_a_dark_backdrop():
    for seed in range(3):
        img = arr(builtin.render("neon heart", 160, 160, seed))
        hsv = cv2.cvtColor(img.astype(np.uint8), cv2.COLOR_RGB2HSV)
        assert (hsv[..., 2] < 90).mean() > 0.5  # mostly night
        assert ((hsv[..., 1] > 150) & (hsv[..., 2] > 200)).mean() > 0.005  # bright saturated tubes
    assert builtin.design_for("neon heart", "", random.Random(1)).line
    assert not builtin.design_for("neon heart", "line drawing", random.Random(1)).line


def test_x_on_y_sets_ink_and_paper():
    d = builtin.design_for("a line drawing of a cat, white on navy", "", random.Random(1))
    assert d.palette.bg == builtin.COLOUR_WORDS["navy"]
    assert d.palette.dark == builtin.COLOUR_WORDS["white"]


def test_plural_and_compound_subject_words():
    d = builtin.design_for("vintage badge with pine trees", "", random.Random(1))
    assert d.subjects == ["pine"] and "pine" in d.plural  # "trees" refines "pine", once
    entries = builtin._arrange(d.subjects, 100, 100, 50, random.Random(1), d.plural)
    assert [e[0] for e in entries] == ["pine", "pine", "pine"]
    assert builtin.design_for("a palm tree", "", random.Random(1)).subjects == ["palm"]


def test_geometric_without_a_subject_draws_abstract_geometry():
    assert builtin.design_for("geometric poster", "", random.Random(4)).subjects == ["abstract"]
    assert builtin.design_for("geometric cat poster", "", random.Random(4)).subjects == ["cat"]


@pytest.mark.parametrize("composition", list(builtin.COMPOSERS))
@pytest.mark.parametrize("size", [(256, 32), (32, 256), (80, 80)])
def test_every_composition_survives_extreme_canvases(composition, size):
    rng = random.Random(7)
    d = builtin.design_for('a cat and a sun "A LONGER SLOGAN HERE"', "", rng)
    img = builtin.COMPOSERS[composition](size[0], size[1], d, rng)
    assert img.size[0] in (size[0], size[0] // 2) and img.mode == "RGB"


def test_a_sticker_sheet_is_a_grid_of_die_cut_stickers():
    d = builtin.design_for("sticker sheet of cats", "heart", random.Random(1))
    assert builtin._choose_composition(d, random.Random(1)) == "sheet"
    img = builtin.render("sticker sheet of cats", 200, 200, 1, negative="heart")
    white = (arr(img) > 250).all(axis=2)
    n, _, stats, _ = cv2.connectedComponentsWithStats(white.astype(np.uint8), connectivity=8)
    borders = [i for i in range(1, n) if stats[i, cv2.CC_STAT_AREA] > 60]
    assert len(borders) >= 4  # one white die-cut border per sticker


@pytest.mark.parametrize(
    ("prompt", "negative", "near"),
    [
        ("cute cat sticker", "white", lambda a: (a > 232).all(axis=2)),
        ('sticker sheet "HI"', "white", lambda a: (a > 232).all(axis=2)),
        ('t-shirt slogan "GOOD VIBES" sun', "black", lambda a: (a < 40).all(axis=2)),
        ("a minimalist line drawing of a mountain", "black", lambda a: (a < 40).all(axis=2)),
    ],
)
def test_a_negated_neutral_stays_out_of_fixed_inks_too(prompt, negative, near):
    for seed in range(4):
        img = arr(builtin.render(prompt, 128, 128, seed, negative=negative))
        assert near(img).mean() < 0.01, seed


# --- the drawn-subject vocabulary (issue 12) ---------------------------------------------------


def hue_share(a: np.ndarray, colour: tuple[int, int, int], tol: int = 12) -> float:
    """Share of saturated pixels within `tol` OpenCV hue steps of `colour`'s hue."""
    hsv = cv2.cvtColor(a.astype(np.uint8), cv2.COLOR_RGB2HSV).astype(np.int16)
    ref = cv2.cvtColor(np.uint8([[colour]]), cv2.COLOR_RGB2HSV)[0, 0].astype(np.int16)
    dh = np.abs(hsv[..., 0] - ref[0])
    dh = np.minimum(dh, 180 - dh)
    return float(((dh <= tol) & (hsv[..., 1] > 90) & (hsv[..., 2] > 60)).mean())


def test_it_draws_a_teal_fox_under_a_golden_moon():
    d = builtin.design_for("a teal fox under a golden moon", "", random.Random(1))
    assert d.subjects == ["icon:fox", "moon"]
    assert d.colours == {
        "icon:fox": builtin.COLOUR_WORDS["teal"],
        "moon": builtin.COLOUR_WORDS["gold"],
    }
    for seed in range(4):
        img = arr(builtin.render("a teal fox under a golden moon", 256, 256, seed))
        assert hue_share(img, builtin.COLOUR_WORDS["teal"]) > 0.01, seed  # the fox
        assert hue_share(img, builtin.COLOUR_WORDS["gold"], tol=7) > 0.005, seed  # the moon
        # The fox keeps its drawing: its white chest and dark ears are still there.
        assert ((img > 225).all(axis=2)).mean() + ((img < 60).all(axis=2)).mean() > 0.005


@pytest.mark.parametrize(
    ("prompt", "subjects"),
    [
        ("a golden retriever playing with a ball", ["icon:dog", "icon:soccer-ball"]),
        ("portrait of a woman in a red dress", ["icon:woman", "icon:dress"]),
        ("ice cream and hot dogs sticker", ["icon:soft-ice-cream", "icon:hot-dog"]),
        ("vintage badge with pine trees", ["pine"]),  # the hand-drawn subjects keep their words
        ("a red rose tattoo", ["icon:rose"]),
        ("an orange sticker", ["icon:tangerine"]),
        ("three bicycles on a poster", ["icon:bicycle"]),
    ],
)
def test_it_reads_common_nouns_as_drawn_subjects(prompt, subjects):
    assert builtin.design_for(prompt, "", random.Random(1)).subjects == subjects


def test_it_reports_words_that_name_nothing():
    (img,) = generate(prompt="a zorblax and a fox, majestic", seed=1)
    assert img.metadata["unrecognized_words"] == ["zorblax", "majestic"]
    assert img.metadata["subjects"] == ["fox"]
    (plain,) = generate(prompt='a cute red fox sticker "HELLO" 4k', seed=1)
    assert plain.metadata["unrecognized_words"] == []  # style, format, colour and filler words


def test_an_icon_subject_in_line_style_is_ink_on_paper():
    for seed in range(3):
        img = arr(
            builtin.render("a minimalist line drawing of a giraffe, black on white", 200, 200, seed)
        )
        colourful = (img.max(axis=2) - img.min(axis=2)) > 40
        assert colourful.mean() < 0.001
        assert ((img < 90).all(axis=2)).mean() > 0.01  # the drawing's strokes


def test_the_negative_prompt_keeps_icon_subjects_and_colours_out():
    assert builtin.motifs_for("a fox and a bear", "fox", random.Random(1)) == ["icon:bear"]
    for seed in range(4):
        img = arr(builtin.render("strawberry sticker", 128, 128, seed, negative="red"))
        assert near_red_share(img) < 0.003, seed


@pytest.mark.parametrize("composition", list(builtin.COMPOSERS))
def test_every_composition_draws_an_icon_subject(composition):
    rng = random.Random(3)
    d = builtin.design_for('an otter with a guitar "ROCK ON"', "", rng)
    img = builtin.COMPOSERS[composition](192, 192, d, rng)
    plain = builtin.COMPOSERS[composition](
        192, 192, replace(d, subjects=["heart"]), random.Random(3)
    )
    assert np.abs(arr(img) - arr(plain)).sum(axis=2).astype(bool).mean() > 0.02


def test_the_vocabulary_ships_with_its_licence():
    from generations.engines.builtin import icons

    assert len(icons.icon_set().icons) > 1500
    licences = icons.DATA.parent.parent / "LICENSES"
    assert "MIT License" in (licences / "fluent-emoji-MIT.txt").read_text()
    assert "MIT" in icons.icon_set().source


@pytest.mark.django_db
def test_the_job_card_names_the_words_that_drew_nothing(owner_client, shop, user):
    """GIVEN a prompt with a word the engine cannot draw WHEN the job completes THEN the stored
    asset keeps the words in `parameters["unrecognized_words"]` and the job card shows them."""
    from django.urls import reverse

    from generations import actions
    from tests.pagekit import make_job

    job = make_job(shop, user, prompt="a zorblax beside a fox", width=64, height=64)
    done = actions.execute_job(str(job.id))
    assert done.status == "completed"
    (asset,) = done.outputs.all()
    assert asset.parameters["unrecognized_words"] == ["zorblax"]
    assert asset.parameters["subjects"] == ["fox"]
    card = owner_client.get(reverse("job_detail", args=[job.id]), HTTP_HX_REQUEST="true")
    assert "Not drawn (no subject known for): zorblax" in card.content.decode()
