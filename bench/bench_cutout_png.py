"""Encoding a cut-out's transparent PNG (issue 18, goal 3): 1024 px products on textured
backdrops (bench/bgset.py's hard set) with their true alpha, encoded as before (backdrop colours
kept under alpha 0; zlib level 6, Pillow's default that the rembg engine used, and level 3, the
builtin operations') and as now (colour zeroed under alpha 0, generations.imageops.common's level).

Target: the new encoding at most half the time of the old builtin one, and a smaller file.
"""

from __future__ import annotations

import io
import os
import time
from typing import Any

from bench.support import machine_load, summary

SIZE = int(os.environ.get("BENCH_CUTOUT_SIZE", "1024"))
SHOTS = (0, 1, 2, 3)
RUNS = 5


def _encode(array: Any, level: int) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(array, "RGBA").save(buf, "PNG", compress_level=level)
    return buf.getvalue()


def run() -> dict[str, Any]:
    import numpy as np

    from bench.bgset import make_hard_shot
    from generations.imageops.common import PNG_COMPRESS_LEVEL, encode_png

    ways = {
        "before_rembg_level6": lambda a: _encode(a, 6),
        "before_builtin_level3": lambda a: _encode(a, 3),
        f"now_zeroed_level{PNG_COMPRESS_LEVEL}": encode_png,
    }
    times: dict[str, list[float]] = {name: [] for name in ways}
    sizes: dict[str, list[int]] = {name: [] for name in ways}
    for index in SHOTS:
        shot = make_hard_shot(index, SIZE)
        alpha = (np.clip(shot.alpha, 0, 1) * 255).astype(np.uint8)
        rgba = np.dstack([shot.image, alpha])
        for name, encode in ways.items():
            for _ in range(RUNS):
                started = time.perf_counter()
                data = encode(rgba)
                times[name].append((time.perf_counter() - started) * 1000)
            sizes[name].append(len(data))
    result: dict[str, Any] = {"size_px": SIZE, "shots": len(SHOTS)}
    for name in ways:
        s = result[name] = summary(times[name])
        s["mean_kib"] = round(sum(sizes[name]) / len(sizes[name]) / 1024)
        print(
            f"  {name:24s} p50 {s['p50_ms']:6.1f} ms   p95 {s['p95_ms']:6.1f} ms   {s['mean_kib']:5d} KiB"
        )
    result["machine"] = machine_load()
    print(result["machine"])
    old, new = result["before_builtin_level3"], result[f"now_zeroed_level{PNG_COMPRESS_LEVEL}"]
    ratio = new["p50_ms"] / old["p50_ms"]
    ok = ratio <= 0.5 and new["mean_kib"] < old["mean_kib"]
    line = (
        f"{'PASS' if ok else 'MISS'} cut-out PNG encode: ×{ratio:.2f} the time of the old builtin "
        f"encoding (target ≤ ×0.5), {new['mean_kib']} vs {old['mean_kib']} KiB"
    )
    print(line)
    result["verdicts"] = [line]
    return result
