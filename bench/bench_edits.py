"""Erase-text, erase and expand on generated tasks with known truth (`bench/editset.py`, issue 12).

- erase-text: recall of the display type's pixels covered by the detected mask, false positives
  (mask pixels that are not type, as a share of the image), and how many designs still show
  type after erase-text (a design counts as cleared when ≥ 90 % of its type pixels were found).
- erase: structure error (MAE of the blurred fill against the true backdrop), texture kept
  (detail energy of the fill over the truth's) and bleed (share of filled pixels that took the
  erased object's colour) and smear (share of filled pixels visibly off the truth when blurred:
  smears, ghosts, a neighbour's colour leaking in), and blockiness (`editset.blockiness`: hard
  straight seams of copied tiles): the fill's score less the truth's in the same area, mean of
  tasks: ≈ 0 seamless, ≥ 1 tiled).
- expand: the same structure error, texture ratio and blockiness in the new area, against the
  picture the crop was cut from.
CPU time per task on one core is printed beside each, with the load average.
"""

from __future__ import annotations

import time
from pathlib import Path

import cv2
import numpy as np

from bench import editset

COUNT = 24


def _load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def _seam_excess(out: np.ndarray, truth: np.ndarray, mask: np.ndarray) -> float:
    # A difference, not a ratio: on flat art the truth scores 0.
    return editset.blockiness(out, mask) - editset.blockiness(truth, mask)


def bench_erase_text() -> dict:
    from generations.imageops import detect, erase

    recalls, false_pos, cleared, cpu = [], [], 0, 0.0
    for i in range(COUNT):
        task = editset.text_task(i)
        c0 = time.process_time()
        found = detect.detect_text(task.image)
        if found.any():
            erase.erase(task.image, found)
        cpu += time.process_time() - c0
        recall = float(found[task.text].mean())
        recalls.append(recall)
        false_pos.append(
            float(
                (
                    found
                    & ~cv2.dilate(task.text.astype(np.uint8), np.ones((9, 9), np.uint8)).astype(
                        bool
                    )
                ).mean()
            )
        )
        cleared += recall >= 0.9
    out = {
        "designs": COUNT,
        "mean_recall": round(float(np.mean(recalls)), 3),
        "cleared": f"{cleared}/{COUNT}",
        "false_positive_share": round(float(np.mean(false_pos)), 4),
        "cpu_ms_per_design": round(1000 * cpu / COUNT),
        "load": _load(),
    }
    print(f"erase-text: {out}")
    return out


def bench_erase() -> dict:
    from generations.imageops import erase

    mae, tex, bleed, smear, blocky, cpu = [], [], [], [], [], 0.0
    for i in range(COUNT):
        task = editset.erase_task(i)
        c0 = time.process_time()
        out = erase.erase(task.image, task.mask)
        cpu += time.process_time() - c0
        mae.append(editset.lowpass_mae(out, task.truth, task.mask))
        tex.append(editset.texture_ratio(out, task.truth, task.mask))
        bleed.append(editset.bleed_share(out, task.truth, task.colour, task.mask))
        smear.append(editset.smear_share(out, task.truth, task.mask))
        blocky.append(_seam_excess(out, task.truth, task.mask))
    res = {
        "tasks": COUNT,
        "structure_mae": round(float(np.mean(mae)), 2),
        "texture_ratio": round(float(np.median(tex)), 2),
        "bleed_share": round(float(np.mean(bleed)), 4),
        "smear_share": round(float(np.mean(smear)), 4),
        "worst_smear": round(float(np.max(smear)), 3),
        "blockiness": round(float(np.mean(blocky)), 2),
        "worst_blockiness": round(float(np.max(blocky)), 2),
        "cpu_ms_per_task": round(1000 * cpu / COUNT),
        "load": _load(),
    }
    print(f"erase: {res}")
    return res


def bench_expand() -> dict:
    from generations.imageops import outpaint

    mae, tex, blocky, cpu = [], [], [], 0.0
    for i in range(COUNT):
        task = editset.expand_task(i)
        c0 = time.process_time()
        canvas, area = outpaint.expand_canvas(task.image, task.margins)
        out = outpaint.outpaint(canvas, area)
        cpu += time.process_time() - c0
        mae.append(editset.lowpass_mae(out, task.truth, area))
        tex.append(editset.texture_ratio(out, task.truth, area))
        blocky.append(_seam_excess(out, task.truth, area))
    res = {
        "tasks": COUNT,
        "structure_mae": round(float(np.mean(mae)), 2),
        "texture_ratio": round(float(np.median(tex)), 2),
        "blockiness": round(float(np.mean(blocky)), 2),
        "worst_blockiness": round(float(np.max(blocky)), 2),
        "cpu_ms_per_task": round(1000 * cpu / COUNT),
        "load": _load(),
    }
    print(f"expand: {res}")
    return res


def run() -> dict:
    cv2.setNumThreads(1)
    return {"erase_text": bench_erase_text(), "erase": bench_erase(), "expand": bench_expand()}
