"""Render the scene compositor's gallery for the docs: `python -m bench.scene_gallery [dir]`
writes docs/screenshots/scene-*.png (640 px wide) from the generated product shots."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import django
import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
# (file, product, prompt, variant, width, height)
CASES = (
    (
        "scene-marble.png",
        "bottle",
        "Place the product on a marble table with soft natural lighting and a minimalist "
        "background",
        0,
        1024,
        1024,
    ),
    (
        "scene-walnut.png",
        "box",
        "on a dark walnut table, dramatic light from the left",
        1,
        1024,
        768,
    ),
    ("scene-linen.png", "mug", "on natural linen, golden hour with leaf shadows", 0, 1024, 768),
    (
        "scene-terrazzo.png",
        "jar",
        "on a terrazzo podium with sage spheres, soft studio light, pale pink backdrop",
        0,
        1024,
        1024,
    ),
    (
        "scene-concrete.png",
        "box",
        "on concrete with pebbles, hard light from the right",
        2,
        1024,
        576,
    ),
    ("scene-backlit.png", "mug", "sage backdrop with a podium, backlit", 1, 768, 1024),
)


def main(out_dir: Path) -> None:
    from bench import productshots
    from generations.scenes.product import prepare_product
    from generations.scenes.render import plan_layouts, render
    from generations.scenes.spec import parse_scene

    out_dir.mkdir(parents=True, exist_ok=True)
    cuts = {}
    for name, kind, prompt, variant, w, h in CASES:
        if kind not in cuts:
            cuts[kind] = prepare_product(productshots.shot(kind, 1024))
        spec = parse_scene(prompt)
        layout = plan_layouts(spec, variant + 1, 21, w / h)[variant]
        image, _info = render(cuts[kind], spec, w, h, layout, 21)
        _save(image, out_dir / name)
        print(f"{name}: {spec.summary()}")
    # A product shot on a busy backdrop, and the same product photographed on black marble.
    photo = productshots.shot("busy", 1024)
    spec = parse_scene("on black marble, soft studio light")
    layout = plan_layouts(spec, 1, 21, 0.75)[0]
    image, _info = render(prepare_product(photo), spec, 768, 1024, layout, 21)
    _save(np.hstack([photo, image]), out_dir / "scene-busy-backdrop.png")
    print("scene-busy-backdrop.png: the source photo beside the result")


def _save(image: np.ndarray, path: Path) -> None:
    picture = Image.fromarray(image)
    width = 640 if picture.width <= 1024 else 960
    picture = picture.resize((width, round(picture.height * width / picture.width)), Image.LANCZOS)
    picture.save(path, "PNG", optimize=True)


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studio.settings")
    django.setup()
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "screenshots")
