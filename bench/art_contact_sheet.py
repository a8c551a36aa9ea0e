"""The builtin engine's contact sheet for docs/engines-builtin.md: twelve prompts, the second six
outside the forty hand-drawn subjects. `python -m bench.art_contact_sheet [out.png]`."""

from __future__ import annotations

import os
import sys

PROMPTS = [
    ('vintage badge with pine trees "CAMP FOREVER"', 3),
    ("a minimalist line drawing of a mountain, black on white", 1),
    ('retro sunset poster with palm trees "STAY WILD"', 2),
    ('neon lightning bolt "POWER UP"', 1),
    ("seamless pattern of mushrooms and leaves", 4),
    ('cute cat sticker "meow"', 1),
    # Outside the old vocabulary: drawn from the icon set.
    ("a teal fox under a golden moon", 2),
    ("a golden retriever playing with a ball, poster", 1),
    ('pastel strawberry sticker "berry sweet"', 2),
    ("seamless pattern of avocados and lemons", 3),
    ('vintage bicycle badge "RIDE ON"', 1),
    ("line drawing of an owl reading a book", 2),
]


def main(out: str) -> None:
    from PIL import Image, ImageDraw, ImageFont

    from generations.engines import builtin
    from generations.engines.builtin import typography

    cell, cols, label = 384, 4, 40
    rows = (len(PROMPTS) + cols - 1) // cols
    sheet = Image.new("RGB", (cell * cols, (cell + label) * rows), (255, 255, 255))
    draw = ImageDraw.Draw(sheet)
    font = ImageFont.truetype(str(typography.FONT_DIR / "DejaVuSans-Bold.ttf"), 13)
    for i, (prompt, seed) in enumerate(PROMPTS):
        x, y = (i % cols) * cell, (i // cols) * (cell + label)
        sheet.paste(builtin.render(prompt, cell, cell, seed), (x, y + label))
        words = prompt if len(prompt) <= 52 else prompt[:50] + "…"
        draw.text((x + 6, y + 4), words, fill=(20, 20, 24), font=font)
        draw.text(
            (x + 6, y + 21),
            f"seed {seed}" + (" · new vocabulary" if i >= 6 else ""),
            fill=(110, 110, 118),
            font=font,
        )
    sheet.save(out, optimize=True)
    print(out)


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studio.settings")
    import django

    django.setup()
    main(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots/art-contact-sheet.png")
