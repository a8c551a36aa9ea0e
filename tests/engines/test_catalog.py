"""Public model names: defaults for the seeds' names, provider choice by configured
credentials, ModelConfig rows from the admin, STUDIO_MODELS, GET /models and the prompt form."""

from __future__ import annotations

import pytest
from django.test import Client

from generations import model_configs
from generations.engines import registry
from generations.engines.base import Capability, EngineNotConfigured
from generations.models import ModelConfig, PriceRule
from generations.pricing import price_per_output

pytestmark = pytest.mark.django_db

SEED_NAMES = [
    "gpt-image-1",
    "fal-ai/flux/dev",
    "flux-schnell",
    "google:4@2",
    "gemini-3-pro-image-preview",
    "nano-banana-pro",
    "ideogram-v2",
    "gemini-3-pro",
    # seed 004
    "nanobanana2",
    "nanobananapro",
    "nanobanana",
    "kontext-pro",
    "kontext-max",
    "seedream",
    "gpt-high",
]


def names(capability: Capability = Capability.TEXT_TO_IMAGE) -> list[str]:
    return [m.name for m in registry.available_models(capability)]


def test_every_seed_model_name_maps_to_a_remote_engine():
    specs = {m.name: m for m in registry.all_models()}
    for name in SEED_NAMES:
        assert name in specs, name
        assert specs[name].engine in {"openai", "fal", "replicate"}, name
        assert specs[name].provider_model, name


def test_unconfigured_remote_models_are_not_available_and_say_what_enables_them():
    assert names() == ["builtin:procedural"]
    with pytest.raises(EngineNotConfigured, match="set FAL_KEY to enable it"):
        registry.resolve("fal-ai/flux/dev")
    with pytest.raises(EngineNotConfigured, match="OPENAI_API_KEY"):
        registry.resolve("gpt-image-1")


def test_the_first_configured_provider_serves_a_model(settings, monkeypatch):
    settings.REPLICATE_API_TOKEN = "r8"
    spec, engine = registry.resolve("flux-schnell")
    assert (spec.engine, spec.provider_model) == ("replicate", "black-forest-labs/flux-schnell")
    settings.FAL_KEY = "k"
    spec, engine = registry.resolve("flux-schnell")
    assert (spec.engine, spec.provider_model) == ("fal", "fal-ai/flux/schnell")
    assert engine.name == "fal"
    assert "gpt-image-1" not in names() and "flux-schnell" in names()


def test_operation_models_are_found_by_capability(monkeypatch, settings):
    # Offline, the studio's own engine serves background removal; a remote one must be asked for.
    spec, engine = registry.resolve_operation(Capability.BACKGROUND_REMOVAL)
    assert spec.name == "builtin:remove-bg"
    with pytest.raises(EngineNotConfigured, match="STABILITY_API_KEY"):
        registry.resolve_operation(Capability.BACKGROUND_REMOVAL, "stability-remove-background")
    settings.STABILITY_API_KEY = "s"
    spec, engine = registry.resolve_operation(
        Capability.BACKGROUND_REMOVAL, "stability-remove-background"
    )
    assert engine.name == "stability" and spec.name == "stability-remove-background"
    settings.DEFAULT_OPERATION_MODELS = {"background-removal": "stability-remove-background"}
    spec, engine = registry.resolve_operation(Capability.BACKGROUND_REMOVAL)
    assert engine.name == "stability"
    assert "automatic1111" not in names(Capability.UPSCALE)
    settings.A1111_URL = "http://127.0.0.1:7860"
    assert "automatic1111" in names(Capability.UPSCALE)


def test_a_model_config_row_adds_overrides_and_hides_names(settings, monkeypatch):
    settings.REPLICATE_API_TOKEN = "r8"
    model_configs.save_model_config(
        ModelConfig(
            name="my-sdxl",
            engine="replicate",
            provider_model="stability-ai/sdxl:39ed52f2",
            capabilities=["text-to-image"],
            label="House SDXL",
            price_cents=7,
        )
    )
    spec, _ = registry.resolve("my-sdxl")
    assert spec.provider_model == "stability-ai/sdxl:39ed52f2" and spec.label == "House SDXL"
    assert price_per_output(engine="replicate", model="my-sdxl", kind="generate") == 7
    # Override a default and hide another.
    ModelConfig.objects.create(
        name="flux-schnell", engine="replicate", provider_model="me/fast-flux"
    )
    ModelConfig.objects.create(name="ideogram-v2", engine="replicate", enabled=False)
    assert registry.resolve("flux-schnell")[0].provider_model == "me/fast-flux"
    assert "ideogram-v2" not in names()
    # Clearing the price removes the model's price rule.
    config = ModelConfig.objects.get(name="my-sdxl")
    config.price_cents = None
    model_configs.save_model_config(config)
    assert not PriceRule.objects.filter(model="my-sdxl").exists()


def test_studio_models_setting_wins(settings, monkeypatch):
    settings.FAL_KEY = "k"
    settings.STUDIO_MODELS = {
        "fal-ai/flux/dev": {"engine": "fal", "model": "fal-ai/flux/dev?num_inference_steps=12"}
    }
    assert registry.resolve("fal-ai/flux/dev")[0].provider_model.endswith("steps=12")


def test_models_json_lists_only_available_models_with_prices(settings, client, monkeypatch):
    PriceRule.objects.create(model="gpt-image-1", cents_per_output=5)
    data = client.get("/models").json()["data"]
    assert [m["id"] for m in data] == ["builtin:procedural"]
    settings.OPENAI_API_KEY = "sk"
    data = {m["id"]: m for m in client.get("/models").json()["data"]}
    assert data["gpt-image-1"]["price_cents_per_image"] == 5
    assert data["gpt-image-1"]["engine"] == "openai"
    assert "flux-schnell" not in data


def test_the_prompt_form_offers_configured_models_with_prices(settings, owner_client, monkeypatch):
    settings.FAL_KEY = "k"
    PriceRule.objects.create(model="nano-banana-pro", cents_per_output=15)
    page = owner_client.get("/").content.decode()
    assert "Nano Banana Pro (Gemini 3 Pro Image) · 15¢/image" in page
    assert "gpt-image-1" not in page


def test_staff_edit_models_in_the_admin(settings, make_user, monkeypatch):
    admin = make_user("staff@example.com")
    admin.is_staff = admin.is_superuser = True
    admin.save()
    client = Client()
    client.force_login(admin)
    assert client.get("/admin/generations/modelconfig/add/").status_code == 200
    bad = client.post(
        "/admin/generations/modelconfig/add/",
        {"name": "x", "engine": "nope", "capabilities": '["text-to-image"]', "max_count": 4},
    )
    assert bad.status_code == 200 and "nope" in bad.content.decode()
    assert not ModelConfig.objects.exists()
    bad_caps = client.post(
        "/admin/generations/modelconfig/add/",
        {"name": "x", "engine": "fal", "capabilities": '["telepathy"]', "max_count": 4},
    )
    assert "telepathy" not in [c for m in ModelConfig.objects.all() for c in m.capabilities]
    assert bad_caps.status_code == 200
    ok = client.post(
        "/admin/generations/modelconfig/add/",
        {
            "name": "fal-ai/recraft-v3",
            "engine": "fal",
            "provider_model": "fal-ai/recraft-v3",
            "capabilities": '["text-to-image"]',
            "label": "Recraft v3",
            "enabled": "on",
            "max_count": 1,
            "price_cents": 6,
        },
    )
    assert ok.status_code == 302
    assert PriceRule.objects.get(model="fal-ai/recraft-v3").cents_per_output == 6
    settings.FAL_KEY = "k"
    assert "fal-ai/recraft-v3" in names()
    assert client.get("/admin/generations/modelconfig/").status_code == 200


def test_no_engine_errors_name_the_settings_that_would_enable_one(settings, monkeypatch):
    for var in (
        "OPENAI_API_KEY",
        "FAL_KEY",
        "REPLICATE_API_TOKEN",
        "STABILITY_API_KEY",
        "A1111_URL",
        "COMFYUI_URL",
    ):
        setattr(settings, var, "")
    with pytest.raises(EngineNotConfigured) as inpaint:
        registry.resolve_operation(Capability.INPAINT)
    message = str(inpaint.value)
    assert "OPENAI_API_KEY" in message and "STABILITY_API_KEY" in message
    assert "STUDIO_MODELS" in message
    # Every provider that could serve a name counts, not only the first in its list.
    assert "REPLICATE_API_TOKEN" in registry.settings_enabling(Capability.VIDEO)
    # A capability no catalog model has names only the custom-model route.
    headshot = registry.settings_enabling(Capability.HEADSHOT)
    assert headshot.startswith("STUDIO_MODELS") and "API_KEY" not in headshot
