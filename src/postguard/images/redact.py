"""Make faces without consent unrecognisable, in a way no model can undo, and prove it.

McPherson et al. (2016) recovered identities from faces that merely look blurred: with Gaussian
blur at sigma = w/20, dlib still identified 58 % of them. What brought identification down to
chance was a solid fill, or pixelation with at most 4x4 blocks over 1.5x the face box
(DESIGN.md §6). So the region we destroy is the box scaled up about its centre (hair, ears and
jaw line identify people too), and each block keeps only its mean colour.

`verify_redaction` does not trust the arithmetic: it looks for a face in each redacted region
with the same detectors that found it, and if one is there, compares its encoding with the
original face's.
"""

from __future__ import annotations

import math
from itertools import pairwise

import cv2
import numpy as np

from postguard.config import FaceSettings
from postguard.consent.match import compute_encoding
from postguard.images.faces import detect_faces

# A flat mid grey: it says "removed" without drawing the eye the way black boxes do, and unlike
# a mean colour it carries nothing at all from the face.
SOLID_COLOUR = (128, 128, 128)
# Encodings of one person sit below ~0.6 (DESIGN.md §6); at 0.7 or more a redacted face is
# further from the original than most strangers are.
MIN_DISTANCE_AFTER_REDACTION = 0.7
# The detector gets context around the region (a face is easier to find with its surroundings)
# and the face is scaled to about this size first: a small face is really looked for, a large
# one does not cost seconds.
_VERIFY_MARGIN = 0.5
_VERIFY_MIN_FACE_PX = 100
_VERIFY_MAX_UPSCALE = 8.0


def redaction_region(
    box: tuple[int, int, int, int], shape: tuple[int, ...], settings: FaceSettings
) -> tuple[int, int, int, int]:
    """The (x0, y0, x1, y1) pixels destroyed for a face box: the box scaled about its centre
    by `redaction_scale`, rounded outwards and clipped to an image of `shape`."""
    x, y, w, h = box
    cx, cy = x + w / 2, y + h / 2
    half_w, half_h = w * settings.redaction_scale / 2, h * settings.redaction_scale / 2
    height, width = shape[:2]
    return (
        max(0, math.floor(cx - half_w)),
        max(0, math.floor(cy - half_h)),
        min(width, math.ceil(cx + half_w)),
        min(height, math.ceil(cy + half_h)),
    )


def redact(
    pixels: np.ndarray, boxes: list[tuple[int, int, int, int]], settings: FaceSettings
) -> np.ndarray:
    """A new image with every box's region pixelated or filled; `pixels` is left untouched."""
    out = pixels.copy()
    for box in boxes:
        x0, y0, x1, y1 = redaction_region(box, out.shape, settings)
        if x1 <= x0 or y1 <= y0:
            continue  # the box lies outside the image: there is nothing of a face to destroy
        region = out[y0:y1, x0:x1]
        if settings.redaction == "solid":
            region[...] = SOLID_COLOUR
        else:
            _pixelate(region, settings.redaction_blocks)
    return out


def _pixelate(region: np.ndarray, blocks: int) -> None:
    """Replace `region` in place by at most `blocks` x `blocks` cells of their mean colour."""
    height, width = region.shape[:2]
    rows = np.linspace(0, height, min(blocks, height) + 1).round().astype(int)
    cols = np.linspace(0, width, min(blocks, width) + 1).round().astype(int)
    for top, bottom in pairwise(rows):
        for left, right in pairwise(cols):
            cell = region[top:bottom, left:right]
            cell[...] = cell.mean(axis=(0, 1)).round().astype(region.dtype)


def verify_redaction(
    original: np.ndarray,
    redacted: np.ndarray,
    boxes: list[tuple[int, int, int, int]],
    settings: FaceSettings,
) -> list[str]:
    """Problems that make `redacted` unsafe to publish; an empty list means every box is safe.

    Per box: the region must have changed, and either no face is detected there any more, or
    the face that is detected is at least 0.7 (encoding distance) away from the original.
    Raises FaceDetectionError / ModelError when the check itself cannot run: an unverified
    redaction must not be published either.
    """
    if original.shape != redacted.shape:
        return [f"redacted image is {redacted.shape}, the original {original.shape}"]
    problems = []
    for box in boxes:
        x0, y0, x1, y1 = redaction_region(box, original.shape, settings)
        if x1 <= x0 or y1 <= y0:
            continue
        if np.array_equal(original[y0:y1, x0:x1], redacted[y0:y1, x0:x1]):
            problems.append(f"face at {_fmt(box)} was not redacted (pixels unchanged)")
            continue
        distance = _closest_remaining_face(original, redacted, box, (x0, y0, x1, y1), settings)
        if distance is not None and distance < MIN_DISTANCE_AFTER_REDACTION:
            problems.append(
                f"face at {_fmt(box)} still recognisable after redaction (distance {distance:.2f})"
            )
    return problems


def _fmt(box: tuple[int, int, int, int]) -> str:
    return "({},{},{},{})".format(*box)


def _closest_remaining_face(
    original: np.ndarray,
    redacted: np.ndarray,
    box: tuple[int, int, int, int],
    region: tuple[int, int, int, int],
    settings: FaceSettings,
) -> float | None:
    """Encoding distance from the original face to the nearest face still detected whose centre
    lies in the redacted region; None when the detectors find no such face.

    Only faces centred in the region count: a consented neighbour overlapping its edge is a
    different person, whose distance says nothing about this redaction.
    """
    x0, y0, x1, y1 = region
    height, width = redacted.shape[:2]
    mx, my = round((x1 - x0) * _VERIFY_MARGIN), round((y1 - y0) * _VERIFY_MARGIN)
    cx0, cy0 = max(0, x0 - mx), max(0, y0 - my)
    cx1, cy1 = min(width, x1 + mx), min(height, y1 + my)
    crop = redacted[cy0:cy1, cx0:cx1]
    # Bring the face to about _VERIFY_MIN_FACE_PX: small faces are enlarged so the detectors
    # can see them at all, large ones shrunk so a crowd of big faces does not cost seconds each
    # (shrinking also makes the check stricter: detectors see through pixelation more easily
    # at small scale).
    factor = min(_VERIFY_MAX_UPSCALE, _VERIFY_MIN_FACE_PX / max(1, min(box[2], box[3])))
    if factor != 1.0:
        size = (max(1, round(crop.shape[1] * factor)), max(1, round(crop.shape[0] * factor)))
        method = cv2.INTER_CUBIC if factor > 1.0 else cv2.INTER_AREA
        crop = cv2.resize(crop, size, interpolation=method)
    crop = np.ascontiguousarray(crop)

    found = []
    for face in detect_faces(crop, settings):
        fx, fy, fw, fh = face.box
        centre_x, centre_y = cx0 + (fx + fw / 2) / factor, cy0 + (fy + fh / 2) / factor
        if x0 <= centre_x < x1 and y0 <= centre_y < y1:
            found.append(face.box)
    if not found:
        return None
    reference = compute_encoding(original, box)
    return min(float(np.linalg.norm(compute_encoding(crop, f) - reference)) for f in found)
