"""Page anchors: the row at a position of a shop's library, oldest-first, found from every
ANCHOR_EVERY-th row's key (taken by a worker task, cached) instead of by skipping every row
before it; without usable anchors, from the nearer end of the index, asking for new ones."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from generations import library, tasks
from generations.library import delete_asset, library_total, position_key, store_asset
from generations.models import Asset
from studio.models import Shop
from tests.conftest import png_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def small_steps(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(library, "ANCHOR_EVERY", 3)
    monkeypatch.setattr(library, "ANCHOR_SLACK", 4)
    cache.clear()


@pytest.fixture
def asked(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The anchor tasks requests ask for (sent after commit, as delay_on_commit does)."""
    sent: list[str] = []
    monkeypatch.setattr(tasks.take_library_anchors, "delay_on_commit", sent.append)
    return sent


def _generated(shop: Shop, n: int) -> list[Asset]:
    png = png_bytes(4, 4)
    made = [store_asset(shop, png, kind=Asset.Kind.GENERATED, prompt="a lake") for _ in range(n)]
    # Ties on created_at: the id orders them.
    Asset.objects.filter(pk__in=[a.pk for a in made[1:4]]).update(created_at=timezone.now())
    return made


def _oldest_first(shop: Shop) -> list[tuple[Any, Any]]:
    assets = Asset.objects.filter(shop=shop, kind=Asset.Kind.GENERATED)
    return list(assets.order_by("created_at", "id").values_list("created_at", "id"))


def _check_every_rank(shop: Shop) -> None:
    expected = _oldest_first(shop)
    total = library_total(shop.pk)
    assert total == len(expected)
    for rank in range(-1, total + 1):
        want = expected[rank] if 0 <= rank < total else None
        assert position_key(shop.pk, total, rank) == want, rank


def _forget_asking(shop: Shop) -> None:
    cache.delete(f"library-anchors-asked:{shop.pk}")


def test_without_anchors_it_counts_from_the_nearer_end_and_asks_once(
    shop: Shop, asked: list[str]
) -> None:
    _generated(shop, 11)
    _check_every_rank(shop)
    assert asked == [str(shop.pk)]  # once, however many requests needed them


def test_the_task_takes_them_and_positions_read_from_them(shop: Shop, asked: list[str]) -> None:
    _generated(shop, 11)
    assert tasks.take_library_anchors(str(shop.pk)) == 4  # ranks 0, 3, 6, 9
    anchors = cache.get(library._anchors_key(shop.pk))
    assert anchors.total == 11 and anchors.key(1) == _oldest_first(shop)[3]
    _check_every_rank(shop)
    assert asked == []


def test_an_empty_library_has_none(shop: Shop) -> None:
    assert library.take_anchors(shop.pk) == 0
    assert position_key(shop.pk, 0, 0) is None


def test_newer_assets_keep_the_anchors(shop: Shop, asked: list[str]) -> None:
    _generated(shop, 7)
    library.take_anchors(shop.pk)
    _generated(shop, 3)  # newest: positions counted from the oldest end do not move
    _check_every_rank(shop)
    assert asked == []
    _generated(shop, 2)  # grown by 5 since they were taken: past the slack
    _check_every_rank(shop)
    assert asked == [str(shop.pk)]
    library.take_anchors(shop.pk)
    _forget_asking(shop)
    _check_every_rank(shop)
    assert asked == [str(shop.pk)]


@pytest.mark.parametrize("which", [0, 4, -1])
def test_a_deletion_is_noticed(shop: Shop, asked: list[str], which: int) -> None:
    made = _generated(shop, 8)
    library.take_anchors(shop.pk)
    delete_asset(made[which])
    _generated(shop, 1)  # the same total as before: still noticed
    _check_every_rank(shop)
    assert asked == [str(shop.pk)]


def test_an_older_row_arriving_late_is_noticed(shop: Shop, asked: list[str]) -> None:
    _generated(shop, 8)
    library.take_anchors(shop.pk)
    late = _generated(shop, 1)[0]  # e.g. committed out of order: older than the newest anchor
    Asset.objects.filter(pk=late.pk).update(created_at=timezone.now() - timedelta(days=3))
    _check_every_rank(shop)
    assert asked == [str(shop.pk)]


def test_a_deep_position_reads_few_rows(shop: Shop, asked: list[str], settings: Any) -> None:
    settings.PREPARED_QUERIES = False  # the SQL itself in the log, not EXECUTE <statement>
    _generated(shop, 10)
    library.take_anchors(shop.pk)
    total = library_total(shop.pk)
    with CaptureQueriesContext(connection) as queries:
        found = position_key(shop.pk, total, 8)
    assert found == _oldest_first(shop)[8]
    # The check that the anchors still hold, then the row: both bounded by the anchor spacing.
    assert len(queries) == 2, [q["sql"] for q in queries]
    assert queries[1]["sql"].upper().endswith("LIMIT 1 OFFSET 2")
