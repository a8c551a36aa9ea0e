"""Maps public model names (as the seeds and users name them) to engines.

Engines register their class with @register_engine; models are declared in MODELS below, can be
added by the STUDIO_MODELS setting, and (issue-6 onward) by staff in the admin.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field

from django.conf import settings

from generations.engines.base import Capability, Engine, EngineNotConfigured, UnknownModel

_ENGINES: dict[str, type[Engine]] = {}
_INSTANCES: dict[str, Engine] = {}


def register_engine(cls: type[Engine]) -> type[Engine]:
    _ENGINES[cls.name] = cls
    _INSTANCES.pop(cls.name, None)
    return cls


@dataclass(frozen=True)
class ModelSpec:
    name: str
    engine: str
    provider_model: str = ""
    capabilities: frozenset[Capability] = field(
        default_factory=lambda: frozenset({Capability.TEXT_TO_IMAGE})
    )
    label: str = ""
    description: str = ""
    max_count: int = 4


BUILTIN_MODELS: list[ModelSpec] = [
    ModelSpec(
        name="builtin:procedural",
        engine="builtin",
        provider_model="procedural-v1",
        label="Procedural (offline)",
        description="Deterministic procedural renderer: palettes, motifs, typography. Not a neural model.",
    ),
]


REMOTE_ENGINE_MODULES = (
    "generations.engines.openai_images",
    "generations.engines.replicate",
    "generations.engines.fal",
    "generations.engines.stability",
    "generations.engines.automatic1111",
    "generations.engines.comfyui",
    "generations.engines.local",
    "generations.engines.catalog",
    "generations.scenes.engine",
)
_LOADED: list[bool] = []  # importing one engine module directly must not skip the others


def load_engines() -> None:
    """Import every engine module (importing one registers it): called by GenerationsConfig.ready
    in every process, and by the lookups below in a process that never ran it (a script).
    Extra modules (plugins, test engines) come from settings.STUDIO_EXTRA_ENGINES. Idempotent."""
    if _LOADED:
        return
    importlib.import_module("generations.engines.builtin")
    importlib.import_module("generations.imageops.engine")
    # Remote engines (issue 6) and the catalogue of public model names they serve.
    for module in REMOTE_ENGINE_MODULES:
        importlib.import_module(module)
    _LOADED.append(True)
    for path in settings.STUDIO_EXTRA_ENGINES:
        importlib.import_module(path)


def engine(name: str) -> Engine:
    if not _LOADED:
        load_engines()
    if name not in _INSTANCES:
        if name not in _ENGINES:
            raise EngineNotConfigured(f"engine {name!r}", "STUDIO_EXTRA_ENGINES")
        _INSTANCES[name] = _ENGINES[name]()
    return _INSTANCES[name]


def all_models() -> list[ModelSpec]:
    if not _LOADED:
        load_engines()
    specs: dict[str, ModelSpec] = {spec.name: spec for spec in BUILTIN_MODELS}
    for module_specs in _EXTRA_MODEL_SOURCES:
        for spec in module_specs():
            specs[spec.name] = spec
    for name, conf in getattr(settings, "STUDIO_MODELS", {}).items():
        specs[name] = ModelSpec(
            name=name,
            engine=conf["engine"],
            provider_model=conf.get("model", name),
            capabilities=frozenset(
                Capability(c) for c in conf.get("capabilities", ["text-to-image"])
            ),
            label=conf.get("label", name),
            description=conf.get("description", ""),
        )
    return list(specs.values())


# Functions returning more ModelSpecs (remote engines' defaults, admin-edited rows).
_EXTRA_MODEL_SOURCES: list = []
# Functions naming every engine that could serve a capability (also the alternatives a catalog
# name would fall back to), for "no engine configured" errors.
_ENGINE_SOURCES: list = []


def add_engine_source(source) -> None:  # type: ignore[no-untyped-def]
    _ENGINE_SOURCES.append(source)


def add_model_source(source) -> None:  # type: ignore[no-untyped-def]
    if source not in _EXTRA_MODEL_SOURCES:
        _EXTRA_MODEL_SOURCES.append(source)


def available_models(capability: Capability = Capability.TEXT_TO_IMAGE) -> list[ModelSpec]:
    """Models whose engine exists and is configured, for a capability."""
    out = []
    for spec in all_models():
        if capability not in spec.capabilities or spec.engine not in _ENGINES:
            continue
        if engine(spec.engine).is_configured():
            out.append(spec)
    return out


def resolve(
    name: str, capability: Capability = Capability.TEXT_TO_IMAGE
) -> tuple[ModelSpec, Engine]:
    """The model spec and engine for a public model name, or a clear error."""
    specs = {spec.name: spec for spec in all_models()}
    spec = specs.get(name)
    if spec is None or capability not in spec.capabilities:
        raise UnknownModel(name, [s.name for s in available_models(capability)])
    if spec.engine not in _ENGINES:
        raise EngineNotConfigured(f"model {name!r}", f"the engine {spec.engine!r}")
    eng = engine(spec.engine)
    if not eng.is_configured():
        raise EngineNotConfigured(f"model {name!r}", eng.required_setting or spec.engine)
    return spec, eng


# Which setting enables an engine for a capability, named in "no engine configured" errors when
# no model in the catalog declares the capability.
CAPABILITY_SETTINGS: dict[Capability, str] = {}


def settings_enabling(capability: Capability) -> str:
    """The settings that would enable some catalog model with this capability, for errors:
    "OPENAI_API_KEY, FAL_KEY or STABILITY_API_KEY (or a STUDIO_MODELS entry declaring ...)"."""
    engines = [spec.engine for spec in all_models() if capability in spec.capabilities]
    for source in _ENGINE_SOURCES:
        engines.extend(source(capability))
    names: list[str] = []
    for name in engines:
        setting = engine(name).required_setting if name in _ENGINES else ""
        if setting and setting not in names:
            names.append(setting)
    custom = f"STUDIO_MODELS (a model declaring the {capability.value!r} capability)"
    if not names:
        return CAPABILITY_SETTINGS.get(capability, custom)
    listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]
    return f"{listed} (or {custom})"


def resolve_operation(capability: Capability, model: str = "") -> tuple[ModelSpec, Engine]:
    """The engine for an image operation: the named model, or the first configured model that
    declares the capability (settings.DEFAULT_OPERATION_MODELS[capability] first)."""
    if model:
        return resolve(model, capability)
    preferred = getattr(settings, "DEFAULT_OPERATION_MODELS", {}).get(str(capability))
    candidates = available_models(capability)
    candidates.sort(key=lambda s: s.name != preferred)
    if not candidates:
        raise EngineNotConfigured(str(capability.value), settings_enabling(capability))
    spec = candidates[0]
    return spec, engine(spec.engine)


def default_model_name(shop_default: str = "") -> str:
    return shop_default or settings.DEFAULT_MODEL
