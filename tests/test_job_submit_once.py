"""One job per form submission, a fresh seed per submission, distinct images in a batch, and
derived images that keep their source's words."""

from __future__ import annotations

import io
from unittest import mock

import numpy as np
import pytest
from PIL import Image

from generations import actions, operations
from generations.engines.base import EngineImage, GenerationRequest
from generations.library import store_asset
from generations.models import Asset, Job
from studio.models import LedgerEntry
from tests.conftest import png_bytes

pytestmark = pytest.mark.django_db

TOKEN = "0123456789abcdef0123456789abcdef"


def spec(**kw):
    return actions.GenerationSpec(prompt=kw.pop("prompt", "a red circle on navy"), **kw)


def test_it_handles_one_submit_token_as_one_job_and_one_charge(shop, user):
    first = actions.submit_generation(shop, spec(count=2), user=user, submit_key=TOKEN)
    again = actions.submit_generation(shop, spec(count=2), user=user, submit_key=TOKEN)
    assert again.id == first.id and getattr(again, "replayed", False)
    assert not getattr(first, "replayed", False)
    assert Job.objects.count() == 1
    assert LedgerEntry.objects.filter(kind="charge").count() == 1
    # Another token (the next deliberate click) is another job.
    other = actions.submit_generation(shop, spec(count=2), user=user, submit_key=TOKEN[::-1])
    assert other.id != first.id and Job.objects.count() == 2


def test_it_handles_a_token_per_shop(shop, user, make_user):
    other_shop = make_user("other@example.com").memberships.get().shop
    a = actions.submit_generation(shop, spec(), user=user, submit_key=TOKEN)
    b = actions.submit_generation(other_shop, spec(), submit_key=TOKEN)
    assert a.id != b.id


@pytest.mark.parametrize("token", ["", "short", "has spaces in it!", "x" * 65])
def test_it_rejects_a_malformed_token_by_not_deduplicating(shop, user, token):
    actions.submit_generation(shop, spec(), user=user, submit_key=token)
    actions.submit_generation(shop, spec(), user=user, submit_key=token)
    assert Job.objects.count() == 2
    assert set(Job.objects.values_list("submit_key", flat=True)) == {""}


def test_it_handles_two_submissions_racing_with_one_token(shop, user):
    """GIVEN a job already made with the token by a request that committed meanwhile WHEN this
    request, which looked before that commit, inserts THEN the database refuses the second job
    and the first is returned, with no charge left behind."""
    winner = actions.submit_generation(shop, spec(), user=user, submit_key=TOKEN)
    with mock.patch("generations.actions.submitted_job", side_effect=[None, None, winner]):
        loser = actions.submit_generation(shop, spec(), user=user, submit_key=TOKEN)
    assert loser.id == winner.id
    assert Job.objects.count() == 1 and LedgerEntry.objects.filter(kind="charge").count() == 1


def test_it_handles_an_operation_sent_twice_as_one_job(shop, user):
    asset = store_asset(shop, png_bytes(40, 30), kind=Asset.Kind.UPLOAD, user=user)
    one = operations.submit_operation(shop, asset, "sketch", {}, user, submit_key=TOKEN)
    two = operations.submit_operation(shop, asset, "sketch", {}, user, submit_key=TOKEN)
    assert one.id == two.id and Job.objects.filter(kind="sketch").count() == 1


def test_it_handles_a_blank_seed_as_a_fresh_seed_per_submission(shop, user):
    seeds = {actions.prepare_generation(shop, spec())[0]["seed"] for _ in range(5)}
    assert None not in seeds and len(seeds) == 5
    assert all(0 <= s < 2**31 for s in seeds)
    assert actions.prepare_generation(shop, spec(seed=42))[0]["seed"] == 42


class LookalikeEngine:
    """Draws the same grey picture for seeds 100 and 101, a distinct one for any other seed."""

    name = "builtin"

    def __init__(self) -> None:
        self.seeds: list[int] = []

    def generate(self, request: GenerationRequest, progress) -> list[EngineImage]:
        assert request.count == 1
        self.seeds.append(request.seed)
        level = 128 if request.seed in (100, 101) else (request.seed * 37) % 256
        pixels = np.full((32, 32), level, np.uint8)
        buf = io.BytesIO()
        Image.fromarray(pixels).save(buf, "PNG")
        return [EngineImage(buf.getvalue(), "image/png", 32, 32, seed=request.seed)]


def test_it_redraws_a_lookalike_image_of_a_batch_at_the_next_seed():
    engine = LookalikeEngine()
    request = GenerationRequest(prompt="p", count=3, seed=100)
    images = actions.distinct_batch(engine, request, lambda p, s: None)
    # Seed 101 looked like seed 100: it was redrawn at 103, past the batch's own seeds.
    assert [i.seed for i in images] == [100, 103, 102]
    assert engine.seeds == [100, 101, 103, 102]
    again = actions.distinct_batch(LookalikeEngine(), request, lambda p, s: None)
    assert [i.seed for i in again] == [100, 103, 102]  # deterministic


def test_it_handles_derived_captions_and_search_words(shop, user):
    source = store_asset(
        shop, png_bytes(), kind=Asset.Kind.GENERATED, user=user, prompt="a quokka skating"
    )
    derived = store_asset(
        shop,
        png_bytes(),
        kind=Asset.Kind.DERIVED,
        user=user,
        parent=source,
        parameters={
            "operation": "remove-background",
            "operation_label": "Remove background",
            "source_prompt": source.prompt,
        },
    )
    assert derived.caption == "Remove background: a quokka skating"
    assert "quokka" in derived.search_text and "remove background" in derived.search_text
    old = store_asset(shop, png_bytes(), kind=Asset.Kind.DERIVED, parameters={"operation": "erase"})
    assert old.caption == "Erase"
    upload = store_asset(
        shop, png_bytes(), kind=Asset.Kind.UPLOAD, parameters={"filename": "a.png"}
    )
    assert upload.caption == "a.png" and source.caption == "a quokka skating"


def test_it_runs_an_operation_whose_result_keeps_the_source_prompt(shop, user):
    source = store_asset(
        shop, png_bytes(48, 40), kind=Asset.Kind.GENERATED, user=user, prompt="a teal badge"
    )
    job = operations.submit_operation(shop, source, "sketch", {}, user)
    actions.execute_job(str(job.id))
    result = Asset.objects.get(parent=source)
    assert result.parameters["source_prompt"] == "a teal badge"
    assert result.caption == "Sketch: a teal badge"
    assert "a teal badge" in result.search_text and "sketch" in result.search_text
