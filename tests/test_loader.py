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


# --- reduced decoding (`scale`): JPEG decodes at 1/2, 1/4 or 1/8 when the caller needs less ----


def jpeg_bytes(width: int, height: int, orientation: int | None = None) -> bytes:
    img = Image.new("RGB", (width, height), (30, 140, 220))
    buf = io.BytesIO()
    if orientation is None:
        img.save(buf, "JPEG")
    else:
        exif = img.getexif()
        exif[0x0112] = orientation
        img.save(buf, "JPEG", exif=exif.tobytes())
    return buf.getvalue()


def with_sof_size(jpeg: bytes, width: int, height: int) -> bytes:
    """The same JPEG with the frame header (SOF0) claiming another size."""
    at = jpeg.index(b"\xff\xc0")
    return jpeg[: at + 5] + struct.pack(">HH", height, width) + jpeg[at + 9 :]


@pytest.mark.parametrize(
    ("fraction", "decoded"),
    [(0.3, (400, 300)), (0.2, (200, 150)), (0.1, (100, 75)), (0.05, (100, 75)), (0.6, (800, 600))],
)
def test_it_decodes_a_jpeg_reduced_to_what_the_caller_needs(settings, fraction, decoded):
    seen = []

    def scale(width, height):
        seen.append((width, height))
        return fraction

    loaded = load_image(jpeg_bytes(800, 600), scale=scale)
    assert seen == [(800, 600)]
    assert loaded.image.size == decoded
    assert loaded.image.width >= 800 * fraction and loaded.image.height >= 600 * fraction
    assert (loaded.width, loaded.height) == (800, 600)  # the full size, for placement
    assert loaded.image.getpixel((10, 10)) == pytest.approx((30, 140, 220), abs=4)


def test_it_reduces_an_exif_turned_jpeg_in_its_displayed_orientation(settings):
    seen = []

    def scale(width, height):
        seen.append((width, height))
        return 0.25

    loaded = load_image(jpeg_bytes(800, 400, orientation=6), scale=scale)
    assert seen == [(400, 800)]
    assert loaded.image.size == (100, 200)
    assert (loaded.width, loaded.height) == (400, 800)


def test_it_decodes_other_formats_at_full_size_whatever_the_scale(settings):
    loaded = load_image(png_bytes(400, 300), scale=lambda w, h: 0.1)
    assert loaded.image.size == (400, 300) == (loaded.width, loaded.height)


def test_the_reduced_path_rejects_over_the_pixel_limit_before_asking_for_a_scale(settings):
    asked = []
    with pytest.raises(ImageRejected, match="limit is 1,000 pixels"):
        load_image(jpeg_bytes(64, 64), max_pixels=1000, scale=lambda w, h: asked.append(1) or 0.1)
    assert asked == []


def test_the_reduced_path_rejects_a_jpeg_bomb_from_its_header(settings):
    bomb = with_sof_size(jpeg_bytes(16, 16), 65_000, 65_000)
    with pytest.raises(ImageRejected, match="too large"):
        load_image(bomb, scale=lambda w, h: 0.001)
    with pytest.raises(ImageRejected, match="pixels"):
        load_image(with_sof_size(jpeg_bytes(16, 16), 8_000, 8_000), scale=lambda w, h: 0.01)


@pytest.mark.parametrize("cut", [0.5, 0.9])
def test_the_reduced_path_rejects_a_truncated_jpeg(settings, cut):
    data = jpeg_bytes(640, 480)
    with pytest.raises(ImageRejected, match="corrupt"):
        load_image(data[: int(len(data) * cut)], scale=lambda w, h: 0.2)


@pytest.mark.parametrize("data", [b"", b"hello, not an image", b"%PDF-1.4 ...", b"\xff\xd8\xff"])
def test_the_reduced_path_rejects_non_images(settings, data):
    with pytest.raises(ImageRejected):
        load_image(data, scale=lambda w, h: 0.2)


def test_the_reduced_path_keeps_the_format_allow_list(settings):
    with pytest.raises(ImageRejected, match="not an image in an accepted format"):
        load_image(jpeg_bytes(64, 64), formats=frozenset({"PNG"}), scale=lambda w, h: 0.2)


def _encode(image: Image.Image, fmt: str = "PNG") -> bytes:
    buf = io.BytesIO()
    image.save(buf, fmt)
    return buf.getvalue()


def grey16_png(width: int, height: int) -> bytes:
    """A 16-bit greyscale PNG: a horizontal ramp over the whole 0-65535 range."""
    import numpy as np

    ramp = np.linspace(0, 65535, width, dtype=np.float64).astype("<u2")
    data = np.ascontiguousarray(np.tile(ramp, (height, 1)))
    return _encode(Image.frombytes("I;16", (width, height), data.tobytes()))


def palette_with_transparency() -> bytes:
    image = Image.new("P", (40, 30))
    image.putpalette([0, 0, 0, 250, 20, 20] + [0] * 762)
    image.paste(1, (10, 10, 30, 20))
    image.info["transparency"] = 0
    return _encode(image)


@pytest.mark.parametrize(
    ("make", "mode"),
    [
        (lambda: _encode(Image.new("1", (30, 20), 1)), "L"),
        (lambda: _encode(Image.new("RGB", (30, 20), (9, 99, 199)).convert("P")), "RGB"),
        (palette_with_transparency, "RGBA"),
        (lambda: _encode(Image.new("LA", (30, 20), (100, 128))), "RGBA"),
        (lambda: _encode(Image.new("CMYK", (30, 20), (10, 20, 30, 40)), "JPEG"), "RGB"),
        (lambda: grey16_png(64, 8), "L"),
        (lambda: _encode(Image.new("L", (30, 20), 77)), "L"),
        (lambda: _encode(Image.new("RGBA", (30, 20), (1, 2, 3, 4))), "RGBA"),
    ],
)
def test_it_normalises_every_accepted_mode(settings, make, mode):
    loaded = load_image(make())
    assert loaded.image.mode == mode


def test_it_scales_16_bit_grey_to_8_bits_instead_of_clipping(settings):
    loaded = load_image(grey16_png(256, 4))
    row = list(loaded.image.crop((0, 0, 256, 1)).getdata())
    assert row[0] == 0 and row[-1] == 255 and 120 <= row[128] <= 135


def test_it_keeps_palette_transparency(settings):
    image = load_image(palette_with_transparency()).image
    assert image.getpixel((0, 0))[3] == 0 and image.getpixel((15, 15)) == (250, 20, 20, 255)


@pytest.mark.django_db
def test_it_handles_a_16_bit_greyscale_upload_around_2500_px(owner_client, shop):
    """GIVEN a 16-bit greyscale PNG of 2500×2000 WHEN uploaded from the library page THEN it is
    stored with a thumbnail (this used to be a 500 from the thumbnailer)."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from generations.models import Asset

    upload = SimpleUploadedFile("deep.png", grey16_png(2500, 2000), content_type="image/png")
    response = owner_client.post("/library/upload/", {"file": upload})
    assert response.status_code in (200, 201, 302), response.content[:300]
    asset = Asset.objects.get(shop=shop)
    assert (asset.width, asset.height) == (2500, 2000) and asset.thumbnail


# --- made_image: our own lossless encodings, not decoded again ------------------------------------


@pytest.mark.parametrize("mode", ["L", "RGB", "RGBA"])
def test_made_image_says_what_the_loader_would_without_decoding(settings, mode):
    from generations.loader import made_image

    image = Image.new(mode, (40, 30), 200 if mode == "L" else (10, 200, 90, 128)[: len(mode)])
    buf = io.BytesIO()
    image.save(buf, "PNG")
    made = made_image(buf.getvalue(), image, "image/png")
    loaded = load_image(buf.getvalue())
    assert made.image is image
    assert (made.format, made.content_type, made.width, made.height) == (
        loaded.format,
        loaded.content_type,
        loaded.width,
        loaded.height,
    )


def test_made_image_keeps_the_byte_and_pixel_limits(settings):
    from generations.loader import made_image

    image = Image.new("RGB", (40, 30))
    data = png_bytes(40, 30)
    settings.IMAGE_MAX_BYTES = len(data) - 1
    with pytest.raises(ImageRejected, match="bytes"):
        made_image(data, image, "image/png")
    settings.IMAGE_MAX_BYTES = 10_000_000
    settings.IMAGE_MAX_PIXELS = 40 * 30 - 1
    with pytest.raises(ImageRejected, match="pixels"):
        made_image(data, image, "image/png")


def test_made_image_refuses_what_the_loader_never_returns(settings):
    from generations.loader import made_image

    with pytest.raises(ValueError, match="not a loader result"):
        made_image(png_bytes(4, 4), Image.new("P", (4, 4)), "image/png")
    with pytest.raises(ValueError, match="not a loader result"):
        made_image(b"....", Image.new("RGB", (4, 4)), "video/mp4")
