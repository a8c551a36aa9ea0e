"""A blank seed means a fresh random seed per submission, and the images of one batch differ.

The jobs run in this process (`execute_job`, what a worker calls) while the page polls them.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from generations.actions import execute_job
from generations.models import Asset, Job
from tests.browser.conftest import shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# The procedural engine drew this prompt almost identically at neighbouring seeds.
PROMPT = 'retro sunset poster with mountains, "GO OUTSIDE"'


def grey(asset: Asset) -> np.ndarray:
    with asset.file.open("rb") as fh:
        image = Image.open(io.BytesIO(fh.read())).convert("L").resize((48, 48))
    return np.asarray(image, np.float32)


def test_it_handles_generate_twice_with_a_blank_seed_as_new_images(signed_in, make_user):
    """GIVEN the Create page with the seed left blank WHEN Generate is pressed twice with the
    same prompt THEN the jobs get different seeds and different pictures (they used to be
    byte-identical, paid duplicates), and within each batch the two images differ visibly."""
    user = make_user("seeds@example.com")
    page = signed_in(user)
    page.goto("/")
    page.get_by_label("Prompt", exact=True).fill(PROMPT)
    page.get_by_label("Count").fill("2")
    assert page.get_by_label("Seed").input_value() == ""
    for n in (1, 2):
        page.get_by_role("button", name="Generate", exact=True).click()
        page.wait_for_function(f"() => document.querySelectorAll('#jobs .job-card').length == {n}")
    for job in Job.objects.order_by("created_at"):
        execute_job(str(job.id))
    page.locator('#jobs .job-card[data-status="completed"]').nth(1).wait_for(timeout=60_000)
    shot(page, "create-two-batches")

    first, second = Job.objects.order_by("created_at")
    assert first.params["seed"] is not None and second.params["seed"] is not None
    assert first.params["seed"] != second.params["seed"]
    batches = [list(job.outputs.order_by("parameters__index")) for job in (first, second)]
    assert all(len(b) == 2 for b in batches)
    assert {a.sha256 for a in batches[0]}.isdisjoint({a.sha256 for a in batches[1]})
    for one, two in batches:
        assert one.seed != two.seed
        difference = float(np.abs(grey(one) - grey(two)).mean())
        assert difference >= 10, f"the batch's two images are near-identical ({difference:.1f})"
    # Each image records the seed that redraws it on its own (remix keeps it).
    page.goto(f"/library/{batches[0][1].id}/")
    assert page.locator("dd", has_text=str(batches[0][1].seed)).count() >= 1


def test_it_handles_an_explicit_seed_as_the_same_images(signed_in, make_user):
    """GIVEN a seed typed in WHEN the same prompt is generated twice THEN the same images."""
    user = make_user("same-seed@example.com")
    page = signed_in(user)
    page.goto("/")
    page.get_by_label("Prompt", exact=True).fill(PROMPT)
    page.get_by_label("Count").fill("2")
    page.get_by_text("More options").click()
    page.get_by_label("Seed").fill("4242")
    for n in (1, 2):
        page.get_by_role("button", name="Generate", exact=True).click()
        page.wait_for_function(f"() => document.querySelectorAll('#jobs .job-card').length == {n}")
    jobs = list(Job.objects.order_by("created_at"))
    for job in jobs:
        execute_job(str(job.id))
    hashes = [sorted(a.sha256 for a in job.outputs.all()) for job in jobs]
    assert hashes[0] == hashes[1] and len(set(hashes[0])) == 2
