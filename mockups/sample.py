"""A sample design (drawn by code) for template previews, tests and benchmarks."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from PIL import Image, ImageDraw, ImageFont


def sample_design(size: int = 800, transparent: bool = True) -> Image.Image:
    """An orange sun behind a blue mountain with a caption, on transparency."""
    s = size / 800
    im = Image.new("RGBA", (size, size), (0, 0, 0, 0) if transparent else (250, 240, 220, 255))
    d = ImageDraw.Draw(im)
    d.ellipse((100 * s, 100 * s, 700 * s, 700 * s), fill=(255, 120, 40, 255))
    d.polygon([(150 * s, 620 * s), (400 * s, 250 * s), (650 * s, 620 * s)], fill=(40, 60, 140, 255))
    d.polygon(
        [(330 * s, 360 * s), (400 * s, 250 * s), (470 * s, 360 * s)], fill=(255, 255, 255, 255)
    )
    font_path = Path(settings.BASE_DIR) / "static" / "fonts" / "DejaVuSans-Bold.ttf"
    try:
        font = ImageFont.truetype(str(font_path), max(int(90 * s), 8))
    except OSError:
        font = ImageFont.load_default()
    d.text((400 * s, 720 * s), "STUDIO", font=font, fill=(30, 30, 30, 255), anchor="mm")
    return im
