"""decode_image: upright sRGB pixels from every still format, a clear refusal for anything else."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageCms, ImageFile

from imagefactory import (
    animation,
    bomb_png,
    encode,
    exif,
    png_chunk,
    portrait,
    stored_for,
    with_png_chunks,
)
from postguard.images.decode import ImageDecodeError, decode_image


def write(tmp_path: Path, name: str, content: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


def mean_difference(a: np.ndarray, b: np.ndarray) -> float:
    assert a.shape == b.shape
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())


# ---------------------------------------------------------------- orientation


@pytest.mark.parametrize("orientation", range(1, 9))
@pytest.mark.parametrize(
    ("fmt", "suffix", "options"),
    [("PNG", ".png", {}), ("WEBP", ".webp", {"lossless": True})],
)
def test_every_orientation_comes_out_upright_exactly(
    tmp_path: Path, orientation: int, fmt: str, suffix: str, options: dict[str, object]
) -> None:
    upright = portrait()
    stored = stored_for(upright, orientation)
    path = write(
        tmp_path,
        f"o{orientation}{suffix}",
        encode(stored, fmt, exif=exif(orientation=orientation), **options),
    )
    decoded = decode_image(path)
    assert decoded.orientation == orientation
    assert decoded.format == fmt
    np.testing.assert_array_equal(decoded.pixels, upright)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_orientation_comes_out_upright_from_jpeg(tmp_path: Path, orientation: int) -> None:
    upright = portrait()
    stored = stored_for(upright, orientation)
    jpeg = encode(stored, "JPEG", quality=95, exif=exif(orientation=orientation))
    decoded = decode_image(write(tmp_path, "photo.jpg", jpeg))
    assert decoded.orientation == orientation
    assert mean_difference(decoded.pixels, upright) < 3.0
    # the comparison is sharp enough to tell a mirror image apart
    assert mean_difference(decoded.pixels[:, ::-1], upright) > 20.0


def test_pixels_are_read_only_rgb_uint8(tmp_path: Path) -> None:
    decoded = decode_image(write(tmp_path, "a.png", encode(portrait(), "PNG")))
    assert decoded.pixels.dtype == np.uint8 and decoded.pixels.shape == (300, 200, 3)
    assert decoded.alpha is None
    assert decoded.orientation == 1
    with pytest.raises(ValueError):
        decoded.pixels[0, 0, 0] = 1


# ---------------------------------------------------------------- colour modes


def test_cmyk_jpeg_becomes_rgb(tmp_path: Path) -> None:
    upright = portrait()
    buffer = io.BytesIO()
    Image.fromarray(upright).convert("CMYK").save(buffer, "JPEG", quality=95)
    decoded = decode_image(write(tmp_path, "cmyk.jpg", buffer.getvalue()))
    assert decoded.pixels.shape == upright.shape
    assert mean_difference(decoded.pixels, upright) < 4.0


def test_greyscale_becomes_three_equal_channels(tmp_path: Path) -> None:
    grey = portrait()[:, :, 1].copy()
    decoded = decode_image(write(tmp_path, "grey.png", encode(grey, "PNG")))
    for channel in range(3):
        np.testing.assert_array_equal(decoded.pixels[:, :, channel], grey)


def test_16_bit_greyscale_is_scaled_not_clipped(tmp_path: Path) -> None:
    wide = np.array([[0, 257, 32768, 40000, 65535]], dtype=np.uint16).repeat(4, axis=0)
    buffer = io.BytesIO()
    Image.fromarray(wide).save(buffer, "PNG")  # mode I;16
    decoded = decode_image(write(tmp_path, "deep.png", buffer.getvalue()))
    np.testing.assert_array_equal(decoded.pixels[0, :, 0], [0, 1, 128, 156, 255])


def test_palette_with_transparency_keeps_alpha(tmp_path: Path) -> None:
    indices = np.zeros((8, 8), dtype=np.uint8)
    indices[2:6, 2:6] = 1
    image = Image.fromarray(indices, "P")
    image.putpalette([0, 0, 0, 200, 30, 40] + [0] * 762)
    buffer = io.BytesIO()
    image.save(buffer, "PNG", transparency=0)
    decoded = decode_image(write(tmp_path, "palette.png", buffer.getvalue()))
    assert decoded.alpha is not None
    assert decoded.alpha[0, 0] == 0 and decoded.alpha[3, 3] == 255
    assert tuple(decoded.pixels[3, 3]) == (200, 30, 40)


def test_grey_with_alpha_keeps_alpha(tmp_path: Path) -> None:
    grey = portrait()[:, :, 0]
    alpha = np.full_like(grey, 255)
    alpha[:50] = 0
    buffer = io.BytesIO()
    Image.merge("LA", [Image.fromarray(grey), Image.fromarray(alpha)]).save(buffer, "PNG")
    decoded = decode_image(write(tmp_path, "la.png", buffer.getvalue()))
    assert decoded.alpha is not None
    np.testing.assert_array_equal(decoded.alpha, alpha)
    np.testing.assert_array_equal(decoded.pixels[:, :, 2], grey)


def test_opaque_alpha_channel_is_not_transparency(tmp_path: Path) -> None:
    rgba = np.dstack([portrait(), np.full(portrait().shape[:2], 255, np.uint8)])
    decoded = decode_image(write(tmp_path, "opaque.png", encode(rgba, "PNG")))
    assert decoded.alpha is None


def test_alpha_follows_orientation(tmp_path: Path) -> None:
    upright = np.dstack([portrait(), np.full(portrait().shape[:2], 255, np.uint8)])
    upright[:40, :, 3] = 0  # transparent band at the top of the upright picture
    stored = stored_for(upright, 6)
    path = write(tmp_path, "rgba6.png", encode(stored, "PNG", exif=exif(orientation=6)))
    decoded = decode_image(path)
    assert decoded.alpha is not None
    np.testing.assert_array_equal(decoded.alpha, upright[:, :, 3])


def test_srgb_profile_leaves_pixels_alone(tmp_path: Path) -> None:
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    path = write(tmp_path, "srgb.png", encode(portrait(), "PNG", icc_profile=srgb))
    assert mean_difference(decode_image(path).pixels, portrait()) < 1.0


def test_unreadable_profile_falls_back_to_plain_conversion(tmp_path: Path) -> None:
    path = write(tmp_path, "junk.png", encode(portrait(), "PNG", icc_profile=b"junk" * 40))
    np.testing.assert_array_equal(decode_image(path).pixels, portrait())


def test_wide_gamut_profile_is_converted_to_srgb(tmp_path: Path, shared_images: Path) -> None:
    with Image.open(shared_images / "exifsamples__heic_mobile_iphone_13_pro_max.HEIC") as heic:
        display_p3 = heic.info["icc_profile"]
    assert b"Display P3" in display_p3 or b"P3" in display_p3
    path = write(tmp_path, "p3.png", encode(portrait(), "PNG", icc_profile=display_p3))
    pixels = decode_image(path).pixels.astype(int)
    difference = pixels - portrait().astype(int)
    # P3 red is more saturated than sRGB red: in sRGB numbers, reds go up and greens go down
    assert difference[:, :, 0].mean() > 2 and difference[:, :, 1].mean() < 0


# ---------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    ("name", "content", "fragment"),
    [
        ("empty.jpg", b"", "empty file (0 bytes)"),
        ("notes.jpg", b"Sports day notes\nYear 6 relay\n", "not an image file (looks like text)"),
        ("doc.jpg", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "looks like a PDF"),
        ("blob.png", bytes(range(256)) * 4, "not an image file (unrecognised"),
        ("clip.jpg", b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + bytes(64), "video"),
        ("clip.png", b"\x1a\x45\xdf\xa3" + bytes(64), "video file (Matroska/WebM)"),
        ("picture.jpg", b"<?xml version='1.0'?><svg xmlns='http://www.w3.org/2000/svg'/>", "SVG"),
    ],
)
def test_non_images_are_refused(tmp_path: Path, name: str, content: bytes, fragment: str) -> None:
    with pytest.raises(ImageDecodeError, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        decode_image(write(tmp_path, name, content))


def test_missing_file_and_folder_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ImageDecodeError, match="file not found"):
        decode_image(tmp_path / "nope.jpg")
    with pytest.raises(ImageDecodeError, match="folder"):
        decode_image(tmp_path)


def test_truncated_jpeg_is_refused(tmp_path: Path) -> None:
    jpeg = encode(portrait(), "JPEG", quality=90)
    path = write(tmp_path, "cut.jpg", jpeg[: int(len(jpeg) * 0.6)])
    with pytest.raises(ImageDecodeError, match="truncated or corrupt image data") as caught:
        decode_image(path)
    assert str(path) not in str(caught.value)
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


def test_truncated_jpeg_is_refused_after_face_recognition_is_loaded(tmp_path: Path) -> None:
    """face_recognition turns LOAD_TRUNCATED_IMAGES on at import; we must still refuse."""
    import face_recognition  # noqa: F401  (imported for its side effect)

    ImageFile.LOAD_TRUNCATED_IMAGES = True  # as face_recognition, or any other library, might
    jpeg = encode(portrait(), "JPEG", quality=90)
    path = write(tmp_path, "cut.jpg", jpeg[: int(len(jpeg) * 0.6)])
    with pytest.raises(ImageDecodeError, match="truncated or corrupt image data"):
        decode_image(path)


@pytest.mark.parametrize("offset", [16, 39, 60])  # IHDR, IDAT chunk type, IDAT data
def test_png_with_bad_checksum_is_refused(tmp_path: Path, offset: int) -> None:
    png = bytearray(encode(portrait(), "PNG"))
    png[offset] ^= 0xFF  # the chunk's CRC no longer matches
    with pytest.raises(ImageDecodeError, match="truncated or corrupt image data"):
        decode_image(write(tmp_path, "bad.png", bytes(png)))


@pytest.mark.parametrize(("fmt", "suffix"), [("GIF", ".gif"), ("PNG", ".png"), ("WEBP", ".webp")])
def test_animations_are_refused(tmp_path: Path, fmt: str, suffix: str) -> None:
    path = write(tmp_path, f"anim{suffix}", animation(fmt, frames=3))
    with pytest.raises(ImageDecodeError, match=r"animated image \(3 frames\): postguard does not"):
        decode_image(path)


def test_header_claiming_a_huge_canvas_is_refused_before_decoding(tmp_path: Path) -> None:
    path = write(tmp_path, "bomb.png", bomb_png(40000, 40000))
    with pytest.raises(ImageDecodeError, match="image too large"):
        decode_image(path)


def test_max_pixels_is_checked_from_the_header(tmp_path: Path) -> None:
    # 3000x3000 claimed, almost no data: if it were decoded first it would fail as truncated
    path = write(tmp_path, "claim.png", bomb_png(3000, 3000))
    with pytest.raises(ImageDecodeError, match=r"image too large: 3000x3000 .* 1,000,000"):
        decode_image(path, max_pixels=1_000_000)
    ok = write(tmp_path, "ok.png", encode(portrait(), "PNG"))
    assert decode_image(ok, max_pixels=60_000).pixels.shape == (300, 200, 3)
    with pytest.raises(ImageDecodeError, match="image too large"):
        decode_image(ok, max_pixels=59_999)


def test_single_frame_mpo_is_the_primary_image(tmp_path: Path) -> None:
    """Phone JPEGs with MPF previews open as MPO: the first frame is the photo, not a frame."""
    buffer = io.BytesIO()
    second = Image.fromarray(portrait()[::-1])
    Image.fromarray(portrait()).save(buffer, "MPO", save_all=True, append_images=[second])
    decoded = decode_image(write(tmp_path, "phone.jpg", buffer.getvalue()))
    assert decoded.format == "MPO"
    assert mean_difference(decoded.pixels, portrait()) < 4.0


def test_png_text_chunks_do_not_disturb_decoding(tmp_path: Path) -> None:
    png = with_png_chunks(encode(portrait(), "PNG"), png_chunk(b"tEXt", b"Author\x00Jane Smith"))
    np.testing.assert_array_equal(decode_image(write(tmp_path, "t.png", png)).pixels, portrait())


# ---------------------------------------------------------------- shared photos


ORIENTATION_SETS = [
    (f"exifsamples__orientation_{kind}_1.jpg", f"exifsamples__orientation_{kind}_{n}.jpg")
    for kind in ("landscape", "portrait")
    for n in range(2, 9)
] + [
    ("pillow__hopper.jpg", f"pillow__hopper_orientation_{n}.{ext}")
    for n, ext in ((2, "jpg"), (3, "jpg"), (6, "jpg"), (8, "jpg"), (6, "webp"))
]


@pytest.mark.parametrize(("reference", "rotated"), ORIENTATION_SETS, ids=lambda v: v)
def test_shared_orientation_sets_come_out_upright(
    shared_images: Path, reference: str, rotated: str
) -> None:
    expected = decode_image(shared_images / reference).pixels
    decoded = decode_image(shared_images / rotated)
    assert decoded.orientation == int(rotated.rsplit("_", 1)[1].split(".")[0])
    assert mean_difference(decoded.pixels, expected) < 8.0


def test_shared_heic_is_decoded_upright(shared_images: Path) -> None:
    decoded = decode_image(shared_images / "exifsamples__heic_mobile_iphone_13_pro_max.HEIC")
    assert decoded.format == "HEIF"
    assert decoded.orientation == 6
    height, width, _ = decoded.pixels.shape
    assert height > width  # stored landscape, shown portrait


def test_shared_jpeg_rotated_90_is_portrait(shared_images: Path) -> None:
    decoded = decode_image(shared_images / "exifsamples__hdr_canon_hdr_NO.jpg")
    assert decoded.orientation == 6
    assert decoded.pixels.shape == (2048, 1536, 3)


def test_shared_avif_and_webp_named_jpg_decode(shared_images: Path) -> None:
    assert decode_image(shared_images / "pillow__exif.avif").format == "AVIF"
    assert decode_image(shared_images / "deepface__img47.jpg").format == "WEBP"
