"""Scene presets: a few built in (ids are slugs), and the shop's own (ids are UUIDs)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from generations.scenes.models import ScenePreset
from studio.models import Shop


@dataclass(frozen=True)
class PresetChoice:
    """A preset as the actions use it, whichever kind it is."""

    id: str
    name: str
    prompt: str
    surface: str = ""
    light: str = ""
    camera: str = ""
    aspect_ratio: str = "1:1"
    builtin: bool = False

    def overrides(self) -> dict[str, str]:
        return {k: v for k, v in (("surface", self.surface), ("light", self.light),
                                  ("camera", self.camera)) if v}  # fmt: skip


BUILTIN_PRESETS: tuple[PresetChoice, ...] = (
    PresetChoice(
        "marble-window",
        "Marble in window light",
        "on a white marble table with soft natural window light and a minimalist background",
        "marble", "natural", "", "1:1", True,
    ),
    PresetChoice(
        "walnut-dramatic",
        "Walnut, dramatic",
        "on a dark walnut table, dramatic light from the left, deep shadows",
        "wood", "dramatic", "", "4:3", True,
    ),
    PresetChoice(
        "linen-leaves",
        "Linen with leaf shadows",
        "on natural linen, soft morning light with leaf shadows on a cream wall",
        "linen", "natural", "", "4:3", True,
    ),
    PresetChoice(
        "terrazzo-podium",
        "Terrazzo podium",
        "on a terrazzo podium with sage spheres, soft studio light, pale pink backdrop",
        "terrazzo", "studio", "", "1:1", True,
    ),
    PresetChoice(
        "pastel-sweep",
        "Pastel paper sweep",
        "on a pastel blue paper sweep with a podium, bright airy light",
        "paper", "bright", "", "3:4", True,
    ),
    PresetChoice(
        "studio-gradient",
        "Studio gradient",
        "gradient studio backdrop in warm grey, soft studio light",
        "studio", "studio", "", "1:1", True,
    ),
    PresetChoice(
        "concrete-golden",
        "Concrete at golden hour",
        "on concrete with pebbles, golden hour sunlight, long shadows",
        "concrete", "golden", "", "16:9", True,
    ),
    PresetChoice(
        "black-marble-backlit",
        "Black marble, backlit",
        "on black marble, backlit with a glowing backdrop",
        "marble", "backlit", "", "3:4", True,
    ),
)  # fmt: skip
BUILTIN_BY_ID = {p.id: p for p in BUILTIN_PRESETS}


def from_row(row: ScenePreset) -> PresetChoice:
    return PresetChoice(
        str(row.id), row.name, row.prompt, row.surface, row.light, row.camera, row.aspect_ratio
    )


def find_preset(shop: Shop, preset_id: str) -> PresetChoice | None:
    """A built-in preset by slug or one of the shop's by UUID; another shop's is not found."""
    preset_id = (preset_id or "").strip()
    if preset_id in BUILTIN_BY_ID:
        return BUILTIN_BY_ID[preset_id]
    try:
        ident = uuid.UUID(preset_id)
    except ValueError:
        return None
    row = ScenePreset.objects.filter(shop=shop, id=ident).first()
    return from_row(row) if row else None


def presets_for(shop: Shop) -> list[PresetChoice]:
    return [*BUILTIN_PRESETS, *(from_row(r) for r in ScenePreset.objects.filter(shop=shop))]
