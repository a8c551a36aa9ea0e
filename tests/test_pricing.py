"""The one price lookup and staff's model rows: cached, and forgotten the moment they change."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import DatabaseError

from generations import model_configs
from generations.engines import registry
from generations.models import ModelConfig, PriceRule
from generations.pricing import best_rule, price_per_output

pytestmark = pytest.mark.django_db


def test_it_reads_the_price_table_once_and_forgets_it_on_save_and_delete(
    settings: Any, django_assert_num_queries: Any
) -> None:
    settings.DEFAULT_PRICE_CENTS_PER_IMAGE = 1
    rule = PriceRule.objects.create(model="m", cents_per_output=5)
    with django_assert_num_queries(1):
        assert price_per_output(model="m", kind="generate") == 5
        assert price_per_output(model="other", kind="generate") == 1
    rule.cents_per_output = 6
    rule.save()
    assert price_per_output(model="m") == 6
    PriceRule.objects.create(model="m", kind="generate", cents_per_output=7)
    assert price_per_output(model="m", kind="generate") == 7
    PriceRule.objects.filter(model="m").delete()
    assert price_per_output(model="m", kind="generate") == 1


def test_the_most_specific_rule_wins_among_the_accepted() -> None:
    PriceRule.objects.create(engine="e", cents_per_output=4)
    PriceRule.objects.create(kind="k", cents_per_output=2)
    assert best_rule(engine="e", kind="k").cents_per_output == 4  # engine beats kind
    only_kind = best_rule(engine="e", kind="k", among=lambda r: r.kind == "k")
    assert only_kind is not None and only_kind.cents_per_output == 2
    assert best_rule(engine="x", kind="y") is None


def test_staff_model_rows_are_cached_and_forgotten_when_edited(
    settings: Any, django_assert_num_queries: Any
) -> None:
    settings.REPLICATE_API_TOKEN = "r8"
    config = ModelConfig.objects.create(name="house", engine="replicate", provider_model="me/x")
    names = lambda: {m.name for m in registry.all_models()}  # noqa: E731
    assert "house" in names()
    with django_assert_num_queries(0):
        for _ in range(5):
            registry.resolve("house")
    config.enabled = False
    model_configs.save_model_config(config)
    assert "house" not in names()
    config.delete()
    assert "house" not in names()


def test_a_database_error_does_not_bring_back_disabled_models(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The catalogue used to swallow a DatabaseError and serve the built-in list, re-enabling
    every model staff had turned off; now the error surfaces."""
    ModelConfig.objects.create(name="ideogram-v2", engine="replicate", enabled=False)
    assert "ideogram-v2" not in {m.name for m in registry.all_models()}
    from django.core.cache import cache

    cache.clear()

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise DatabaseError("the database is down")

    monkeypatch.setattr(ModelConfig.objects, "order_by", broken)
    with pytest.raises(DatabaseError):
        registry.all_models()
