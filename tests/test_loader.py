"""The one image loader: formats, byte and pixel limits, corrupt and bomb files."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image

from generations.loader import ImageRejected, load_image
from tests.conftest import png_bytes


def huge_png_header(width: int, height: int) -> bytes:
    """A tiny PNG whose header declares enormous dimensions (a decompression bomb)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
def test_it_loads_the_allowed_formats(settings, fmt):
    loaded = load_image(png_bytes(40, 30, fmt=fmt))
    assert (loaded.width, loaded.height, loaded.format) == (40, 30, fmt)
    assert loaded.content_type.startswith("image/")


def test_it_rejects_a_format_off_the_allow_list(settings):
    buf = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buf, "BMP")
    with pytest.raises(ImageRejected, match="not an image in an accepted format"):
        load_image(buf.getvalue())


@pytest.mark.parametrize("data", [b"", b"hello, not an image", b"%PDF-1.4 ..."])
def test_it_rejects_non_images(settings, data):
    with pytest.raises(ImageRejected):
        load_image(data)


def test_it_rejects_a_truncated_file(settings):
    data = png_bytes(200, 200, (10, 200, 30))
    with pytest.raises(ImageRejected, match="corrupt"):
        load_image(data[: len(data) // 2])


def test_it_rejects_too_many_bytes_before_decoding(settings):
    with pytest.raises(ImageRejected, match="limit is 100 bytes"):
        load_image(png_bytes(64, 64), max_bytes=100)


def test_it_rejects_a_bomb_from_its_header(settings):
    with pytest.raises(ImageRejected, match="too large"):
        load_image(huge_png_header(100_000, 100_000))
    with pytest.raises(ImageRejected, match="pixels"):
        load_image(huge_png_header(8_000, 8_000))


def test_it_rejects_over_the_pixel_limit(settings):
    with pytest.raises(ImageRejected, match="limit is 1,000 pixels"):
        load_image(png_bytes(50, 50), max_pixels=1000)


def test_it_applies_exif_orientation(settings):
    img = Image.new("RGB", (40, 20), (255, 0, 0))
    exif = img.getexif()
    exif[0x0112] = 6  # rotate 90° on display
    buf = io.BytesIO()
    img.save(buf, "JPEG", exif=exif.tobytes())
    loaded = load_image(buf.getvalue())
    assert (loaded.width, loaded.height) == (20, 40)
