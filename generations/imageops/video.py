"""Image → video: a camera move over a still, encoded to H.264 MP4 with the ffmpeg binary that
the imageio-ffmpeg wheel ships (no system ffmpeg, no ffprobe: we parse `ffmpeg -i` instead).

Motion comes from words in the prompt ("slow zoom", "zoom out", "pan left", "tilt up", "drift",
"static"), eased in and out so the move starts and stops gently.
"""

from __future__ import annotations

import math
import os
import re
import struct
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from studio.lazymodules import lazy_module

if TYPE_CHECKING:
    import cv2
    import numpy as np
else:  # loaded on first use (studio/lazymodules.py)
    cv2 = lazy_module("cv2")
    np = lazy_module("numpy")

FPS = 24
DURATION = 6
LONG_CAP = {720: 1280, 1080: 1920}


@dataclass
class Motion:
    zoom: tuple[float, float] = (1.0, 1.15)
    # Crop-centre offset as a fraction of the output size, start → end.
    offset: tuple[tuple[float, float], tuple[float, float]] = ((0.0, 0.0), (0.0, 0.0))
    words: list[str] = field(default_factory=list)


def parse_motion(prompt: str) -> Motion:
    text = prompt.lower()
    speed = 1.0
    if re.search(r"\b(slow|slowly|gentle|gently|subtle|soft)\b", text):
        speed = 0.6
    if re.search(r"\b(fast|quick|dramatic|rapid)\b", text):
        speed = 1.6
    words: list[str] = []
    z0, z1 = 1.0, 1.0
    dx0 = dy0 = dx1 = dy1 = 0.0
    if re.search(r"\b(static|still|locked)\b", text):
        return Motion((1.0, 1.0), ((0, 0), (0, 0)), ["static"])
    if re.search(r"zoom(ing)? out|pull(ing)? (back|out)|dolly out", text):
        z0, z1 = 1.0 + 0.25 * speed, 1.0
        words.append("zoom out")
    elif re.search(r"zoom|push(ing)? in|dolly in|close in", text):
        z0, z1 = 1.0, 1.0 + 0.25 * speed
        words.append("zoom in")
    pan = 0.08 * speed
    if re.search(r"pan(ning)? left|move left|track left", text):
        dx0, dx1 = pan, -pan
        words.append("pan left")
    elif re.search(r"pan(ning)? right|move right|track right", text):
        dx0, dx1 = -pan, pan
        words.append("pan right")
    if re.search(r"tilt(ing)? up|pan(ning)? up|rise|crane up", text):
        dy0, dy1 = pan, -pan
        words.append("tilt up")
    elif re.search(r"tilt(ing)? down|pan(ning)? down|descend|crane down", text):
        dy0, dy1 = -pan, pan
        words.append("tilt down")
    if "drift" in text or "float" in text:
        d = 0.035 * speed
        dx0, dy0, dx1, dy1 = dx0 - d, dy0 + d * 0.6, dx1 + d, dy1 - d * 0.6
        words.append("drift")
    if not words:
        z0, z1 = 1.0, 1.0 + 0.25 * speed
        words.append("zoom in (default)")
    # Panning needs room: zoom in at least enough that the crop never leaves the picture.
    need = 1.0 + 2.0 * max(abs(dx0), abs(dx1), abs(dy0), abs(dy1)) + 0.01
    if min(z0, z1) < need:
        lift = need - min(z0, z1)
        z0, z1 = z0 + lift, z1 + lift
    return Motion((z0, z1), ((dx0, dy0), (dx1, dy1)), words)


def ease_in_out(t: float) -> float:
    return 0.5 - 0.5 * math.cos(math.pi * t)


def output_size(width: int, height: int, resolution: int) -> tuple[int, int]:
    """Short side = resolution, long side by the image's aspect, capped at 16:9; even numbers."""
    cap = LONG_CAP[resolution]
    if width >= height:
        w, h = resolution * width / height, resolution
        if w > cap:
            w, h = cap, cap * height / width
    else:
        w, h = resolution, resolution * height / width
        if h > cap:
            w, h = cap * width / height, cap
    return int(round(w / 2) * 2), int(round(h / 2) * 2)


def render_frames(
    rgb: np.ndarray, resolution: int, motion: Motion, fps: int = FPS, duration: int = DURATION
) -> tuple[tuple[int, int], Callable[[int], np.ndarray], int]:
    out_w, out_h = output_size(rgb.shape[1], rgb.shape[0], resolution)
    zmax = max(motion.zoom)
    # A base that covers the output at the deepest zoom, so zoomed frames stay sharp.
    scale = max(out_w / rgb.shape[1], out_h / rgb.shape[0]) * zmax
    bw, bh = max(out_w, round(rgb.shape[1] * scale)), max(out_h, round(rgb.shape[0] * scale))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    base = cv2.resize(rgb, (bw, bh), interpolation=interp)
    cover = max(out_w / bw, out_h / bh)  # base pixels → output pixels at zoom 1
    count = fps * duration
    (dx0, dy0), (dx1, dy1) = motion.offset

    def frame(i: int) -> np.ndarray:
        e = ease_in_out(i / max(1, count - 1))
        z = motion.zoom[0] + (motion.zoom[1] - motion.zoom[0]) * e
        s = cover * z
        cx = bw / 2 + (dx0 + (dx1 - dx0) * e) * out_w / s
        cy = bh / 2 + (dy0 + (dy1 - dy0) * e) * out_h / s
        m = np.array([[s, 0, out_w / 2 - s * cx], [0, s, out_h / 2 - s * cy]], np.float32)
        return cv2.warpAffine(
            base, m, (out_w, out_h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT
        )

    return (out_w, out_h), frame, count


def ffmpeg_exe() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


class VideoEncodeError(RuntimeError):
    pass


def encode_mp4(
    size: tuple[int, int],
    frame: Callable[[int], np.ndarray],
    count: int,
    fps: int = FPS,
    progress: Callable[[int], None] | None = None,
    threads: int = 0,
) -> bytes:
    w, h = size
    with tempfile.TemporaryDirectory(prefix="studio-video-") as tmp:
        path = os.path.join(tmp, "out.mp4")
        cmd = [
            ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y",
            "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{w}x{h}", "-r", str(fps), "-i", "-",
            "-c:v", "libx264", "-preset", "superfast", "-crf", "20", "-pix_fmt", "yuv420p",
            "-profile:v", "high", "-movflags", "+faststart", "-threads", str(threads),
            "-frames:v", str(count), path,
        ]  # fmt: skip
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stderr=subprocess.PIPE)  # noqa: S603
        try:
            stdin = proc.stdin
            if stdin is None:
                raise VideoEncodeError("ffmpeg has no input pipe")
            for i in range(count):
                stdin.write(np.ascontiguousarray(frame(i)).tobytes())
                if progress and i % 12 == 0:
                    progress(i)
            stdin.close()
        except BrokenPipeError:
            pass
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
        if proc.wait() != 0:
            raise VideoEncodeError(f"ffmpeg failed: {err.strip()[:500]}")
        with open(path, "rb") as fh:
            return fh.read()


def make_video(
    rgb: np.ndarray,
    prompt: str,
    resolution: int,
    progress: Callable[[int], None] | None = None,
    threads: int = 0,
) -> tuple[bytes, np.ndarray, dict]:
    """Returns (mp4 bytes, poster frame RGB, facts)."""
    motion = parse_motion(prompt)
    size, frame, count = render_frames(rgb, resolution, motion)
    data = encode_mp4(size, frame, count, progress=progress, threads=threads)
    facts = {
        "duration": DURATION,
        "fps": FPS,
        "frames": count,
        "width": size[0],
        "height": size[1],
        "codec": "h264",
        "motion": ", ".join(motion.words),
    }
    return data, frame(0), facts


# --- reading a video back (ffprobe is not shipped) ----------------------------------------------------


def mp4_top_level_boxes(data: bytes) -> list[str]:
    boxes, pos = [], 0
    while pos + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[pos : pos + 8])
        if size == 1 and pos + 16 <= len(data):
            size = struct.unpack(">Q", data[pos + 8 : pos + 16])[0]
        elif size == 0:
            size = len(data) - pos
        if size < 8:
            break
        boxes.append(kind.decode("latin-1"))
        pos += size
    return boxes


def probe_video(path: str) -> dict:
    """Duration, frame count, codec, pixel format, size and fps of a video file."""
    exe = ffmpeg_exe()
    info = subprocess.run(  # noqa: S603
        [exe, "-hide_banner", "-i", path], capture_output=True, text=True, check=False
    ).stderr
    count = subprocess.run(  # noqa: S603
        [exe, "-hide_banner", "-i", path, "-map", "0:v:0", "-c", "copy", "-f", "null", "-"],
        capture_output=True,
        text=True,
        check=False,
    ).stderr
    out: dict = {}
    if m := re.search(r"Duration: (\d+):(\d+):([\d.]+)", info):
        out["duration"] = int(m[1]) * 3600 + int(m[2]) * 60 + float(m[3])
    if m := re.search(r"Video: (\w+)[^,]*, (\w+)[^,]*(?:\([^)]*\))?, (\d+)x(\d+)", info):
        out["codec"], out["pix_fmt"] = m[1], m[2]
        out["width"], out["height"] = int(m[3]), int(m[4])
    if m := re.search(r"([\d.]+) fps", info):
        out["fps"] = float(m[1])
    frames = re.findall(r"frame=\s*(\d+)", count)
    if frames:
        out["frames"] = int(frames[-1])
    with open(path, "rb") as fh:
        boxes = mp4_top_level_boxes(fh.read())
    out["faststart"] = (
        "moov" in boxes and "mdat" in boxes and boxes.index("moov") < boxes.index("mdat")
    )
    return out
