"""Real photos for the face tests, and the arithmetic to compare boxes with where faces are.

Two sources, never committed to the repository: the public-domain photos inside scikit-image
(`astronaut` has one face, `camera` a cameraman that HOG misses; `coffee`, `rocket` and the cat
`chelsea` have none) and the shared labelled photos in ../shared/data/images (hand counts of
visible faces in LABELS.tsv; the `shared_images` fixture in conftest.py skips when absent).
"""

from __future__ import annotations

import csv
from functools import cache
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageOps
from skimage import data

# Where the faces are, by eye, as (x0, y0, x1, y1) in the 512x512 originals.
ASTRONAUT_FACE = (175, 76, 266, 170)
CAMERAMAN_FACE = (205, 118, 258, 195)

Box = tuple[int, int, int, int]


@cache
def photo(name: str) -> np.ndarray:
    """A scikit-image photo as HxWx3 uint8 RGB (grey photos repeated into three channels).

    Read-only, because the cached array is shared by every test that asks for it.
    """
    pixels = getattr(data, name)()
    if pixels.ndim == 2:
        pixels = np.stack([pixels] * 3, axis=-1)
    pixels.setflags(write=False)
    return pixels


def scaled(pixels: np.ndarray, factor: float) -> np.ndarray:
    """The photo resized by `factor` (area averaging down, cubic up), as a camera would see it."""
    size = (round(pixels.shape[1] * factor), round(pixels.shape[0] * factor))
    method = cv2.INTER_AREA if factor < 1 else cv2.INTER_CUBIC
    return cv2.resize(pixels, size, interpolation=method)


def pasted(
    pixels: np.ndarray, canvas: tuple[int, int], at: tuple[int, int]
) -> np.ndarray:
    """`pixels` placed at (x, y) on a plain grass-green canvas of (width, height)."""
    out = np.empty((canvas[1], canvas[0], 3), dtype=np.uint8)
    out[...] = (96, 152, 72)
    x, y = at
    out[y : y + pixels.shape[0], x : x + pixels.shape[1]] = pixels
    return out


def xyxy(box: Box) -> Box:
    """(x, y, w, h) as (x0, y0, x1, y1)."""
    x, y, w, h = box
    return x, y, x + w, y + h


def coverage(box: Box, truth: Box) -> float:
    """How much of `truth` (x0, y0, x1, y1) the (x, y, w, h) `box` covers, 0..1."""
    x0, y0, x1, y1 = xyxy(box)
    w = max(0, min(x1, truth[2]) - max(x0, truth[0]))
    h = max(0, min(y1, truth[3]) - max(y0, truth[1]))
    return w * h / ((truth[2] - truth[0]) * (truth[3] - truth[1]))


def load_rgb(path: Path) -> np.ndarray:
    """A shared photo decoded with its EXIF orientation applied (as postguard decodes)."""
    if path.suffix.lower() in (".heic", ".heif"):
        import pillow_heif

        pillow_heif.register_heif_opener()
    with Image.open(path) as image:
        return np.asarray(ImageOps.exif_transpose(image).convert("RGB"))


def hand_counts(images: Path) -> dict[str, int]:
    """File name -> hand-counted visible faces, for every labelled shared photo."""
    with (images / "LABELS.tsv").open(encoding="utf-8") as handle:
        return {
            row["file"]: int(row["faces_visible"])
            for row in csv.DictReader(handle, delimiter="\t")
            if row["faces_visible"].isdigit()
        }
