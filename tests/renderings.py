"""Photos with names inside them, drawn the way schools actually post them.

The issue this serves (issue 6): a pupil holds up a "Star of the Week" certificate, or wears a
name badge, and the photo goes out with the full name legible. To test the OCR path on something
close to that, these helpers draw real text with real fonts (DejaVu, else Pillow's bundled
FreeType font) onto real photos shipped in scikit-image, at a phone's 12 MP resolution, with
text 2–5 % of the photo's height and the card tilted as a child holds it (0°, ±8°, ±15°).
Nothing here is a mock: the pixels go through the same decode-free path as a decoded upload.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont
from skimage import data

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
PHOTO_SIZE = (4000, 3000)  # 12 MP, landscape, as a phone camera writes it
Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


def font(size: int, *, bold: bool = False, serif: bool = False) -> Font:
    """A TrueType font at `size` px: DejaVu when installed, else Pillow's bundled font."""
    name = ("DejaVuSerif" if serif else "DejaVuSans") + ("-Bold" if bold else "") + ".ttf"
    path = FONT_DIR / name
    if path.exists():
        return ImageFont.truetype(str(path), size)
    return ImageFont.load_default(size=size)


@cache
def _scene(kind: str) -> Image.Image:
    """A 12 MP photo built from scikit-image's public-domain photos, with sensor-like noise.

    Upscaled photos are unnaturally smooth; real phone photos carry noise and texture that a
    text detector must not mistake for writing, so noise is added (fixed seed: reproducible).
    """
    height = PHOTO_SIZE[1]
    if kind == "classroom":
        background = Image.fromarray(data.coffee()).resize(PHOTO_SIZE, Image.Resampling.BICUBIC)
        person = Image.fromarray(data.astronaut()).resize((1700, 1700), Image.Resampling.BICUBIC)
        background.paste(person, (200, height - 1700))
    elif kind == "cat":
        background = Image.fromarray(data.chelsea()).resize(PHOTO_SIZE, Image.Resampling.BICUBIC)
    else:
        raise ValueError(kind)
    rng = np.random.default_rng(6)
    pixels = np.asarray(background, dtype=np.int16)
    noisy = pixels + rng.normal(0, 4, pixels.shape).astype(np.int16)
    return Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8))


def plain_photo(kind: str = "classroom") -> np.ndarray:
    """The 12 MP photo with no writing in it (HxWx3 RGB): what OCR must read nothing from."""
    return np.asarray(_scene(kind))


def certificate(name: str, text_px: int, title: str = "Star of the Week") -> Image.Image:
    """A printed certificate: cream card, border, title line and the pupil's name below it.

    `text_px` is the height of the name's capital letters in the photo, which is what decides
    whether OCR can read it; the card is sized around the text like an A5 sheet.
    """
    name_font = font(int(text_px * 1.4), bold=True, serif=True)
    title_font = font(int(text_px * 1.0), serif=True)
    small_font = font(int(text_px * 0.6))
    name_w = int(name_font.getlength(name))
    title_w = int(title_font.getlength(title))
    width = max(name_w, title_w) + 4 * text_px
    height = int(text_px * 9)
    card = Image.new("RGBA", (width, height), (250, 246, 232, 255))
    draw = ImageDraw.Draw(card)
    border = max(4, text_px // 6)
    draw.rectangle(
        (border, border, width - border, height - border), outline=(150, 110, 20), width=border
    )
    draw.text(
        ((width - title_w) // 2, int(text_px * 1.3)), title, font=title_font, fill=(120, 30, 30)
    )
    draw.text(((width - name_w) // 2, int(text_px * 3.6)), name, font=name_font, fill=(20, 20, 60))
    footer = "for fantastic effort in maths"
    footer_w = int(small_font.getlength(footer))
    draw.text(
        ((width - footer_w) // 2, int(text_px * 6.6)), footer, font=small_font, fill=(60, 60, 60)
    )
    return card


def name_badge(name: str, text_px: int, *, dark: bool = False) -> Image.Image:
    """A lanyard name badge: one line, plain sans, light or dark (white text) background."""
    badge_font = font(int(text_px * 1.4), bold=True)
    width = int(badge_font.getlength(name)) + 2 * text_px
    height = int(text_px * 3)
    back, ink = ((30, 60, 130, 255), (255, 255, 255)) if dark else ((255, 255, 255, 255), (0, 0, 0))
    badge = Image.new("RGBA", (width, height), back)
    ImageDraw.Draw(badge).text((text_px, int(text_px * 0.6)), name, font=badge_font, fill=ink)
    return badge


def photo_with(
    card: Image.Image,
    angle: float = 0.0,
    *,
    kind: str = "classroom",
    at: tuple[float, float] = (0.62, 0.55),
) -> np.ndarray:
    """The 12 MP photo with `card` held at `angle` degrees, centred at `at` (fractions).

    Returns HxWx3 uint8 RGB, the form `decode_image` gives the pipeline.
    """
    photo = _scene(kind).copy()
    tilted = card.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True)
    # a printed card photographed from a metre away is slightly soft
    tilted = tilted.filter(ImageFilter.GaussianBlur(0.8))
    x = int(at[0] * photo.width - tilted.width / 2)
    y = int(at[1] * photo.height - tilted.height / 2)
    photo.paste(tilted, (x, y), tilted)
    return np.asarray(photo)


def text_px_for(fraction: float) -> int:
    """Capital-letter height in pixels for text `fraction` of the photo's height."""
    return int(PHOTO_SIZE[1] * fraction)


def save_jpeg(pixels: np.ndarray, path: Path, quality: int = 88) -> Path:
    """Write `pixels` as a phone-quality JPEG (no metadata) and return the path."""
    Image.fromarray(pixels).save(path, "JPEG", quality=quality)
    return path
