"""Detection without a classifier: salient objects, text regions, wires and lines.

No model names what an object is, so every object is reported honestly as object_type "object".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from generations.imageops.background import backdrop_distance, eval_backdrop, fit_backdrop
from generations.imageops.common import resize_long
from studio.lazymodules import lazy_module

if TYPE_CHECKING:
    import cv2
    import numpy as np
else:  # loaded on first use (studio/lazymodules.py)
    cv2 = lazy_module("cv2")
    np = lazy_module("numpy")

WORK_LONG_SIDE = 512


@dataclass
class DetectedObject:
    bbox: list[int]  # [x1, y1, x2, y2], x2/y2 exclusive
    mask: np.ndarray  # bool, the size of the bbox
    accuracy: float


def _spectral_residual(grey: np.ndarray) -> np.ndarray:
    """Hou & Zhang's spectral-residual saliency on a 64-pixel thumbnail, as [0, 1]."""
    small = cv2.resize(grey, (64, 64), interpolation=cv2.INTER_AREA).astype(np.float32)
    spectrum = np.fft.fft2(small)
    log_amp = np.log(np.abs(spectrum) + 1e-6)
    phase = np.angle(spectrum)
    residual = log_amp - cv2.blur(log_amp, (3, 3))
    sal = np.abs(np.fft.ifft2(np.exp(residual + 1j * phase))) ** 2
    sal = cv2.GaussianBlur(sal.astype(np.float32), (0, 0), 2.5)
    sal -= sal.min()
    return sal / (sal.max() or 1.0)


def saliency(rgb: np.ndarray) -> np.ndarray:
    """Per-pixel saliency in [0, 1] at the given resolution: distance from the border backdrop
    model blended with spectral residual (for busy scenes where the border says little)."""
    h, w = rgb.shape[:2]
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB).astype(np.float32)
    border = max(2, round(min(h, w) * 0.03))
    coef, inliers, sigma = fit_backdrop(lab, border)
    dist = backdrop_distance(lab, eval_backdrop(coef, h, w))
    dist = np.clip(dist / max(5.0 * sigma, 20.0), 0, 1)
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    sr = cv2.resize(_spectral_residual(grey), (w, h), interpolation=cv2.INTER_LINEAR)
    # A clean border (most samples fit the model) means the backdrop model is trustworthy.
    trust = float(inliers.mean())
    weight = 0.85 if trust > 0.7 and sigma < 12 else 0.5
    return (weight * dist + (1 - weight) * sr).astype(np.float32)


def detect_objects(rgb: np.ndarray, max_objects: int = 20) -> list[DetectedObject]:
    h, w = rgb.shape[:2]
    small, scale = resize_long(rgb, WORK_LONG_SIDE)
    sal = saliency(small)
    s8 = np.round(sal * 255).astype(np.uint8)
    otsu, _ = cv2.threshold(s8, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    fg = s8 > max(otsu, 60)
    fg = cv2.morphologyEx(fg.astype(np.uint8), cv2.MORPH_CLOSE, np.ones((5, 5), np.uint8))
    fg = cv2.morphologyEx(fg, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    n, labels, stats, _ = cv2.connectedComponentsWithStats(fg, 8)
    sh, sw = small.shape[:2]
    min_area = 0.002 * sh * sw
    found: list[DetectedObject] = []
    for i in range(1, n):
        area = stats[i, cv2.CC_STAT_AREA]
        if area < min_area or area > 0.95 * sh * sw:
            continue
        region = labels == i
        x, y, bw, bh = (int(v) for v in stats[i, :4])
        conf = float(np.clip(sal[region].mean() * 1.1, 0, 1))
        x1, y1 = int(x / scale), int(y / scale)
        x2, y2 = min(w, int(np.ceil((x + bw) / scale))), min(h, int(np.ceil((y + bh) / scale)))
        crop = region[y : y + bh, x : x + bw].astype(np.uint8)
        mask = cv2.resize(crop, (x2 - x1, y2 - y1), interpolation=cv2.INTER_NEAREST) > 0
        found.append(DetectedObject([x1, y1, x2, y2], mask, round(conf, 3)))
    found.sort(key=lambda o: o.accuracy, reverse=True)
    return found[:max_objects]


def detect_text(rgb: np.ndarray, *, sensitivity: float = 1.0) -> np.ndarray:
    """Mask (bool, full size) of text strokes, slightly dilated so an erase covers antialiasing.

    Body text is found at up to 1400 px; display type (headlines on posters, slogans on shirts,
    strokes tens of pixels wide) at coarser levels of a pyramid, where its letters become the
    thin strokes the same word finder looks for. The levels' masks are merged at full size.
    """
    h, w = rgb.shape[:2]
    out = _text_at(rgb, 1400, sensitivity)
    for long_side in (480, 240):
        if max(h, w) > long_side * 1.2:
            coarse = _text_at(rgb, long_side, sensitivity, display=True)
            out |= coarse
    return out


def _text_at(
    rgb: np.ndarray, long_side: int, sensitivity: float, *, display: bool = False
) -> np.ndarray:
    """Words at one pyramid level: morphological gradient, Otsu, a horizontal closing to join
    letters into words, then geometry filters per word box."""
    h, w = rgb.shape[:2]
    small, scale = resize_long(rgb, long_side)
    grey = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)
    sh, sw = grey.shape
    grad = cv2.morphologyEx(grey, cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8))
    otsu, _ = cv2.threshold(grad, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    binary = (grad > max(otsu, 40 / sensitivity)).astype(np.uint8)
    join = max(5, round(sw / 120)) if not display else max(5, round(max(sh, sw) / 30))
    words = cv2.morphologyEx(binary, cv2.MORPH_CLOSE, np.ones((1, join), np.uint8))
    n, _labels, stats, _ = cv2.connectedComponentsWithStats(words, 8)
    out = np.zeros((sh, sw), np.uint8)
    for i in range(1, n):
        x, y, bw, bh, area = (int(v) for v in stats[i])
        if bh < 6 or bh > 0.25 * sh or bw < 1.2 * bh or bw > 0.98 * sw:
            continue
        fill = area / float(bw * bh)
        if not 0.25 < fill < (0.95 if not display else 1.0):
            continue
        box = binary[y : y + bh, x : x + bw]
        # Letters: several stroke components across the box, not one blob or one line.
        _k, _lab, st, _ = cv2.connectedComponentsWithStats(box, 8)
        strokes = [s for s in st[1:] if s[4] >= 4 and s[3] >= 0.3 * bh]
        if len(strokes) < 2:
            continue
        region = grey[y : y + bh, x : x + bw].astype(np.int16)
        if display:
            # Bold type can cover most of its box: the backdrop is what rings the box.
            y0, y1, x0, x1 = max(0, y - 2), min(sh, y + bh + 2), max(0, x - 2), min(sw, x + bw + 2)
            frame = np.concatenate(
                [grey[y0, x0:x1], grey[y1 - 1, x0:x1], grey[y0:y1, x0], grey[y0:y1, x1 - 1]]
            ).astype(np.int16)
            background = int(np.median(frame))
        else:
            background = int(np.median(region))
        ink = np.abs(region - background) > max(18, 0.35 * float(np.abs(region - background).max()))
        if display:
            # Display type on a design: the letters are the box's ink, and the box must be
            # mostly letters over one backdrop (not a photo's busy patch): few distinct tones.
            if not 0.15 < float(ink.mean()) < 0.75:
                continue
            rest = region[~ink]
            if rest.size and float(np.std(rest)) > 28:
                continue
        out[y : y + bh, x : x + bw] |= ink.astype(np.uint8)
    pad = max(2, round(sh / 300)) if not display else 1
    out = cv2.dilate(out, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * pad + 1,) * 2))
    if scale < 1.0:
        out = cv2.resize(out, (w, h), interpolation=cv2.INTER_NEAREST)
    return out > 0


def detect_wires(rgb: np.ndarray) -> np.ndarray:
    """Mask (bool, full size) of long thin lines (wires, cables, scratches across the frame).

    A line is a thin ridge: black-hat / top-hat respond to dark / light strokes thinner than the
    kernel; a probabilistic Hough transform keeps only long straight-ish runs.
    """
    h, w = rgb.shape[:2]
    small, scale = resize_long(rgb, 1024)
    grey = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)
    sh, sw = grey.shape
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (9, 9))
    ridge = np.maximum(
        cv2.morphologyEx(grey, cv2.MORPH_BLACKHAT, kernel),
        cv2.morphologyEx(grey, cv2.MORPH_TOPHAT, kernel),
    )
    otsu, _ = cv2.threshold(ridge, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    thin = (ridge > max(otsu, 25)).astype(np.uint8) * 255
    min_len = int(0.2 * min(sh, sw))
    lines = cv2.HoughLinesP(
        thin, 1, np.pi / 360, threshold=max(20, min_len // 2), minLineLength=min_len, maxLineGap=6
    )
    out = np.zeros((sh, sw), np.uint8)
    if lines is not None:
        drawn = np.zeros_like(out)
        for x1, y1, x2, y2 in lines.reshape(-1, 4):
            cv2.line(drawn, (int(x1), int(y1)), (int(x2), int(y2)), 255, 7)
        # Keep the ridge pixels along each line (the wire's true width), then pad them.
        out = cv2.bitwise_and(thin, drawn)
        out = cv2.dilate(out, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5)))
    if scale < 1.0:
        out = cv2.resize(out, (w, h), interpolation=cv2.INTER_NEAREST)
    return out > 0


def detect_watermark(rgb: np.ndarray) -> np.ndarray:
    """Watermarks are overlaid text or logos: text detection at a higher sensitivity (faint,
    semi-transparent marks), so it finds low-contrast lettering as well."""
    return detect_text(rgb, sensitivity=2.0)
