"""Decode an image file into upright sRGB pixels, or refuse it with a one-line reason.

Every later step (face detection, OCR, redaction, the sanitised copy) works on these pixels, and
the sanitised copy carries no orientation tag or colour profile. So the pixels must already look
the way a viewer shows the original: EXIF orientation applied (a sideways face is a missed face,
DESIGN.md §6) and colours converted to sRGB. Whatever cannot be decoded completely and
unambiguously is refused (fail closed, DESIGN.md §2): a truncated file, an animation whose other
frames nobody checked, a header that announces a decompression bomb.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pillow_heif
from PIL import Image, ImageCms, ImageFile, ImageOps, UnidentifiedImageError

# HEIC/HEIF (iPhone photos) come through pillow-heif; Pillow 13 decodes AVIF itself.
pillow_heif.register_heif_opener()

_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))

# Formats whose extra frames are an animation; any other multi-frame file is a page set.
_ANIMATION_FORMATS = frozenset({"GIF", "PNG", "WEBP", "AVIF", "FLI"})

# ISO media brands that are still images (HEIF/AVIF); any other `ftyp` file is video or alike.
_STILL_BRANDS = frozenset(
    {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"mif2", b"avif", b"avio"}
)
_VIDEO_BRANDS = {
    b"qt  ": "QuickTime",
    b"3gp4": "3GP",
    b"3gp5": "3GP",
    b"3gp6": "3GP",
    b"3g2a": "3GP",
}
_VIDEO_MAGIC = (
    (b"\x1a\x45\xdf\xa3", "Matroska/WebM"),
    (b"FLV\x01", "Flash video"),
    (b"\x00\x00\x01\xba", "MPEG"),
    (b"\x00\x00\x01\xb3", "MPEG"),
    (b"\x30\x26\xb2\x75\x8e\x66\xcf\x11", "Windows Media"),
)
_IMAGE_MAGIC = (b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"II*\x00", b"MM\x00*", b"BM")
_VIDEO_MESSAGE = "video file ({}): postguard does not process animations or video"


class ImageDecodeError(Exception):
    """The file cannot be checked as a still image; str() is a short reason without the path.

    `fix` is what the user should do, when it is not the usual "re-export the photo".
    """

    def __init__(self, reason: str, fix: str | None = None) -> None:
        super().__init__(reason)
        self.fix = fix


@dataclass
class DecodedImage:
    """One still image, as a viewer would show it.

    `pixels` (HxWx3 uint8, RGB, sRGB) and `alpha` (HxW uint8, or None when the source had no
    transparency) already have the EXIF orientation applied; both arrays are read-only so that a
    redaction cannot silently alter the decoded original. `orientation` is the source's EXIF tag
    (1 when absent), kept for reports; `format` is Pillow's name for the source format.
    """

    path: Path
    pixels: np.ndarray
    alpha: np.ndarray | None
    format: str
    orientation: int


def decode_image(path: Path, max_pixels: int = 100_000_000) -> DecodedImage:
    """Decode `path` fully, or raise ImageDecodeError saying why it cannot be checked.

    The pixel count is checked from the header before any pixel is decoded, so a small file that
    claims a huge canvas costs nothing. Pillow's own decompression-bomb guard (2 x
    Image.MAX_IMAGE_PIXELS) still applies on top of `max_pixels`.
    """
    # Some libraries (face_recognition among them) switch this on process-wide; a truncated
    # photo must never decode as a partly grey picture that then passes the checks.
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    head = _read_head(path)
    video = _video_kind(head)
    if video:
        raise ImageDecodeError(_VIDEO_MESSAGE.format(video))
    # Pillow warns about damaged EXIF, odd palettes and large canvases; none of it changes the
    # pixels (errors do), our own max_pixels check is the size limit, and the metadata scan
    # reports damaged metadata. Left on, the warnings would reach the user as noise.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            image = Image.open(path)
        except UnidentifiedImageError as exc:
            raise ImageDecodeError(_describe_non_image(head)) from exc
        except Image.DecompressionBombError as exc:
            raise ImageDecodeError("image too large: possible decompression bomb") from exc
        except Exception as exc:  # plugins raise many types on malformed headers
            raise ImageDecodeError(_corrupt(exc, path)) from exc
        with image:
            return _decode_opened(path, image, max_pixels)


def _decode_opened(path: Path, image: Image.Image, max_pixels: int) -> DecodedImage:
    width, height = image.size
    if width <= 0 or height <= 0:
        raise ImageDecodeError("truncated or corrupt image data (empty canvas)")
    if width * height > max_pixels:
        raise ImageDecodeError(
            f"image too large: {width}x{height} pixels exceeds the limit of "
            f"{max_pixels:,} (possible decompression bomb)"
        )
    fmt = image.format or "unknown"
    try:
        frames = int(getattr(image, "n_frames", 1))
        # An MPO (many phone JPEGs) is a primary image plus previews or gain maps, not an
        # animation: its first frame is what every viewer shows, and the rest is metadata.
        if frames > 1 and fmt != "MPO":
            if fmt in _ANIMATION_FORMATS:
                raise ImageDecodeError(
                    f"animated image ({frames} frames): postguard does not process "
                    "animations or video"
                )
            raise ImageDecodeError(
                f"multi-frame image ({frames} frames): postguard checks single images only"
            )
        image.load()
        orientation = _orientation(image)
        if 2 <= orientation <= 8 and fmt != "HEIF":
            ImageOps.exif_transpose(image, in_place=True)
    except ImageDecodeError:
        raise
    except MemoryError as exc:
        raise ImageDecodeError("not enough memory to decode this image") from exc
    except Exception as exc:  # decoders raise OSError, SyntaxError, ValueError, EOFError, ...
        raise ImageDecodeError(_corrupt(exc, path)) from exc
    pixels, alpha = _to_srgb_arrays(image)
    return DecodedImage(path, pixels, alpha, fmt, orientation)


def _read_head(path: Path) -> bytes:
    try:
        with path.open("rb") as handle:
            head = handle.read(512)
    except FileNotFoundError as exc:
        raise ImageDecodeError("file not found") from exc
    except IsADirectoryError as exc:
        raise ImageDecodeError("is a folder, not an image file") from exc
    except PermissionError as exc:
        raise ImageDecodeError(
            "permission denied",
            fix="make the file readable (check its permissions), or save a copy that is",
        ) from exc
    except OSError as exc:
        raise ImageDecodeError(f"cannot read file ({exc.strerror or exc})") from exc
    if not head:
        raise ImageDecodeError("empty file (0 bytes)")
    return head


def _video_kind(head: bytes) -> str | None:
    """Name the video container `head` starts with, if any."""
    if head[4:8] == b"ftyp":
        size = int.from_bytes(head[:4], "big")
        brands = {head[8:12]} | {head[i : i + 4] for i in range(16, min(size, len(head)), 4)}
        if brands & _STILL_BRANDS:
            return None
        return _VIDEO_BRANDS.get(head[8:12], "MP4")
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "AVI"
    for magic, kind in _VIDEO_MAGIC:
        if head.startswith(magic):
            return kind
    return None


def _describe_non_image(head: bytes) -> str:
    """Say what a file Pillow cannot identify looks like, so the user knows what went wrong."""
    lowered = head.lstrip().lower()
    if head.startswith(_IMAGE_MAGIC) or head[8:12] == b"WEBP" or head[4:8] == b"ftyp":
        return "truncated or corrupt image data (unreadable header)"
    if head.startswith(b"%PDF"):
        return "not an image file (looks like a PDF document)"
    if head.startswith(b"PK\x03\x04"):
        return "not an image file (looks like a ZIP archive or Office document)"
    if b"<svg" in lowered:
        return "SVG drawings are not supported: export the picture as JPEG or PNG"
    if lowered.startswith((b"<!doctype html", b"<html")):
        return "not an image file (looks like a web page)"
    if b"\x00" not in head:
        text = head.decode("utf-8", errors="ignore")
        if text and all(ch.isprintable() or ch in "\t\r\n\f" for ch in text):
            return "not an image file (looks like text)"
    return "not an image file (unrecognised or unsupported format)"


def _corrupt(exc: BaseException, path: Path) -> str:
    """The one-line reason for a decoder failure, without the path (the caller adds it)."""
    detail = str(exc).replace(str(path), "").strip(" :'\"") or exc.__class__.__name__
    return f"truncated or corrupt image data ({detail.splitlines()[0][:100]})"


def _orientation(image: Image.Image) -> int:
    """The EXIF orientation of the source (1 when absent or unreadable).

    pillow-heif has already applied the HEIF rotation and reset the EXIF tag to 1, keeping the
    camera's value as `original_orientation`, which is the one worth reporting.
    """
    original = image.info.get("original_orientation")
    if isinstance(original, int) and 1 <= original <= 8:
        return original
    try:
        value = int(image.getexif().get(0x0112, 1))
    except Exception:  # a broken EXIF block must not stop the decode; the pixels are intact
        return 1
    return value if 1 <= value <= 8 else 1


def _to_srgb_arrays(image: Image.Image) -> tuple[np.ndarray, np.ndarray | None]:
    """RGB pixels in sRGB, plus the alpha channel when the source has real transparency."""
    icc = image.info.get("icc_profile")
    try:
        image = _to_8bit(image)
        alpha: np.ndarray | None = None
        if image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info:
            rgba = image.convert("RGBA")
            alpha = np.asarray(rgba.getchannel("A"))
            if int(alpha.min()) == 255:
                alpha = None  # an alpha channel that hides nothing is no transparency
            image = rgba.convert("RGB")
        elif image.mode in ("P", "1"):
            image = image.convert("RGB")
        if icc:
            image = _apply_icc(image, icc)
        if image.mode != "RGB":
            image = image.convert("RGB")
    except (ValueError, OSError) as exc:
        raise ImageDecodeError(f"unsupported colour mode {image.mode}") from exc
    return np.asarray(image), alpha


def _to_8bit(image: Image.Image) -> Image.Image:
    """Scale 16-bit and float greyscale to 8 bits; Pillow's convert("L") would clip at 255."""
    if image.mode.startswith("I"):
        wide = np.asarray(image).astype(np.int64).clip(0, 65535)
        return Image.fromarray(((wide * 255 + 32767) // 65535).astype(np.uint8), "L")
    if image.mode == "F":
        values = np.nan_to_num(np.asarray(image, dtype=np.float64))
        if values.max(initial=0.0) <= 1.0:
            values = values * 255.0  # float images conventionally hold 0..1
        return Image.fromarray(np.rint(values.clip(0, 255)).astype(np.uint8), "L")
    return image


def _apply_icc(image: Image.Image, icc: bytes) -> Image.Image:
    """Convert to sRGB through the embedded profile; plain conversion if it is unusable."""
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        converted = ImageCms.profileToProfile(image, source, _SRGB, outputMode="RGB")
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return image.convert("RGB")
    return converted if converted is not None else image.convert("RGB")
