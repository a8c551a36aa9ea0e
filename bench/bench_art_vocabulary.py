"""How many everyday product-art subjects the builtin engine draws (issue 12): a held-out list.

`bench/data/art_subjects_heldout.txt` lists 245 subjects (animals, food, objects, places,
hobbies) written before measuring. Each is read as a prompt ("<subject> sticker"); the first
subject the engine draws is compared with `bench/data/art_subjects_judged.tsv`, where a person
recorded, after looking at each drawing on the contact sheet, whether it shows the thing named
(y) or not (n). A word whose drawing changed since it was judged counts as not relevant until
it is judged again, so the figure never credits an unseen picture. Goal: ≥ 90 % relevant.

`ART_SHEET=path.png python -m bench art_vocabulary` also writes the contact sheet.
"""

from __future__ import annotations

import os
from pathlib import Path

from generations.engines.builtin import icons
from generations.engines.builtin.subjects import read_subjects

HERE = Path(__file__).parent / "data"
TARGET = 0.90


def heldout() -> list[tuple[str, str]]:
    out, kind = [], ""
    for line in (HERE / "art_subjects_heldout.txt").read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            kind = line.strip("[]")
            continue
        out.append((kind, line))
    return out


def judged() -> dict[str, tuple[str, bool]]:
    path = HERE / "art_subjects_judged.tsv"
    if not path.exists():
        return {}
    out = {}
    for line in path.read_text().splitlines():
        if line.startswith("#") or not line.strip():
            continue
        word, subject, verdict = line.split("\t")[:3]
        out[word] = (subject, verdict.strip() == "y")
    return out


def subject_for(word: str) -> str:
    reading = read_subjects(f"{word} sticker")
    return reading.subjects[0] if reading.subjects else ""


def contact_sheet(rows: list[tuple[str, str, str]], path: str) -> None:
    import random

    from PIL import Image, ImageDraw

    from generations.engines.builtin.canvas import _draw_subjects
    from generations.engines.builtin.design import design_for

    cell, cols = 128, 12
    sheet = Image.new("RGB", (cell * cols, (cell + 14) * (len(rows) // cols + 1)), "white")
    draw = ImageDraw.Draw(sheet)
    for i, (_, word, subject) in enumerate(rows):
        x, y = (i % cols) * cell, (i // cols) * (cell + 14)
        if subject:
            d = design_for(word, "", random.Random(1))
            tile = Image.new("RGB", (cell * 2, cell * 2), (255, 255, 255))
            _draw_subjects(tile, [(subject, cell, cell, cell * 0.8, 0.0)], d, random.Random(1))
            sheet.paste(tile.reduce(2), (x, y + 14))
        draw.text(
            (x + 3, y + 1), f"{word} → {subject.removeprefix(icons.PREFIX)}"[:24], fill="black"
        )
    sheet.save(path)


def run() -> dict:
    rows = [(kind, word, subject_for(word)) for kind, word in heldout()]
    verdicts = judged()
    drawn = sum(1 for _, _, s in rows if s)
    relevant, unjudged, misses = 0, [], []
    for _, word, subject in rows:
        seen = verdicts.get(word)
        if seen is None or seen[0] != subject:
            unjudged.append(f"{word}\t{subject}")
        elif seen[1]:
            relevant += 1
        else:
            misses.append(f"{word} → {subject or '(nothing)'}")
    by_kind: dict[str, list[int]] = {}
    for kind, word, subject in rows:
        ok = verdicts.get(word) == (subject, True)
        by_kind.setdefault(kind, [0, 0])
        by_kind[kind][0] += ok
        by_kind[kind][1] += 1
    result = {
        "subjects": len(rows),
        "drawn": drawn,
        "relevant": relevant,
        "relevant_share": round(relevant / len(rows), 3),
        "unjudged": len(unjudged),
        "by_kind": {k: f"{a}/{b}" for k, (a, b) in by_kind.items()},
        "vocabulary": len(icons.icon_set().icons),
    }
    for key, value in result.items():
        print(f"{key:>15}: {value}")
    for line in misses:
        print("  not relevant:", line)
    for line in unjudged:
        print("  unjudged:", line)
    if os.environ.get("ART_SHEET"):
        contact_sheet(rows, os.environ["ART_SHEET"])
        print("contact sheet:", os.environ["ART_SHEET"])
    verdict = "PASS" if result["relevant_share"] >= TARGET else "MISS"
    print(f"{verdict} relevant_share {result['relevant_share']} (target ≥ {TARGET})")
    return result
