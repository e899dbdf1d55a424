"""Read the words inside a photo: certificates, name badges, banners (issue 6).

The commonest way a pupil's full name ends up next to their photo is a "Star of the Week"
certificate held up to the camera. Tesseract (through pytesseract) reads it, but running it over
a whole 12 MP photo takes many seconds and reads photo texture as letters. So:

1. find text-like regions on a downscaled copy (morphological gradient, joined along lines,
   contours kept when they have the size, shape and fill of a line of writing);
2. take each region from the full-resolution pixels, turned upright through its
   `minAreaRect` angle (cards are held tilted), scaled to the line height Tesseract reads best,
   binarised dark-on-light (badges are often white on navy);
3. stack all regions into one strip and run Tesseract once (one process start, not one per
   region), mapping each recognised line back to its region in the photo.

Missing binary, timeout or a Tesseract error give `ran=False` and a reason: the caller turns that
into a warning finding, because "OCR found no name" must never be confused with "OCR did not run".
"""

from __future__ import annotations

import bisect
import functools
import os
from dataclasses import dataclass, field

import cv2
import numpy as np
import pytesseract

from postguard.clauses import CLAUSES
from postguard.findings import Finding, Location, Severity


@dataclass(frozen=True)
class OcrSettings:
    """Speed/recall trade-offs for OCR, measured on 12 MP renderings (bench/bench_ocr.py)."""

    detect_max_side: int = 1600  # region search runs on this downscaled copy
    line_height: int = 48  # px height each region is scaled to before Tesseract reads it
    max_regions: int = 60  # most text-like regions kept (beyond: photo texture, slow)
    max_angle: float = 30.0  # regions tilted further are not deskewed (nor read)
    timeout_s: float = 20.0  # a Tesseract run longer than this counts as "did not run"


@dataclass(frozen=True)
class OcrWord:
    """One recognised word and the photo region (x, y, w, h, full resolution) it came from."""

    text: str
    confidence: float
    box: tuple[int, int, int, int]


@dataclass
class OcrResult:
    """What OCR read: `text` holds one line per region in reading order (top to bottom)."""

    text: str
    ran: bool
    reason: str | None = None
    words: list[OcrWord] = field(default_factory=list)

    @property
    def boxes(self) -> list[tuple[int, int, int, int]]:
        return [w.box for w in self.words]


@dataclass(frozen=True)
class _Region:
    """A candidate text line: its rotated rectangle in full-resolution coordinates."""

    centre: tuple[float, float]
    size: tuple[float, float]  # (along the line, across it)
    angle: float  # degrees, the line's slope

    @property
    def box(self) -> tuple[int, int, int, int]:
        points = cv2.boxPoints((self.centre, self.size, self.angle))
        x, y, w, h = cv2.boundingRect(points.astype(np.float32))
        return int(x), int(y), int(w), int(h)


def tesseract_problem() -> str | None:
    """Why OCR cannot run here (no binary, or no English model), or None when it can."""
    return _problem_with(pytesseract.pytesseract.tesseract_cmd)


@functools.lru_cache(maxsize=8)
def _problem_with(command: str) -> str | None:
    """Probe one Tesseract command once per process: two process starts per photo would cost
    more than reading a certificate. Keyed by command so a reconfigured path is probed anew."""
    try:
        pytesseract.get_tesseract_version()
        languages = pytesseract.get_languages()
    except pytesseract.TesseractNotFoundError:
        return f"Tesseract is not installed ({command!r} not found; apt-get install tesseract-ocr)"
    except (OSError, pytesseract.TesseractError) as exc:
        return f"Tesseract cannot start: {str(exc).strip()[:120]}"
    if "eng" not in languages:
        return "Tesseract has no English model (apt-get install tesseract-ocr-eng)"
    return None


def _blobs(gray: np.ndarray) -> list[tuple[_Region, float]]:
    """Letter and word blobs with their rotated rectangles and areas.

    Letters are dense clusters of strong, short edges; a short closing joins a word's letters
    into one blob whose outline fills most of its rotated rectangle.
    """
    height, width = gray.shape
    edges = cv2.morphologyEx(gray, cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8))
    level, _ = cv2.threshold(edges, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    _, mask = cv2.threshold(edges, max(level, 40), 255, cv2.THRESH_BINARY)
    join = max(3, round(min(height, width) / 200))
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (join, max(1, join // 2)))
    mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, kernel)
    # two levels: the outline of every component (also those inside a certificate's printed
    # border) and their holes; a blob is an outline, and its area includes its holes, since
    # the gradient of a large bold letter is only its edge
    contours, hierarchy = cv2.findContours(mask, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    if hierarchy is None:
        return []
    # banners and scanned certificates have text up to half their height; photos much less
    min_h, max_h = max(5.0, min(height, width) * 0.006), min(height, width) * 0.5
    blobs = []
    for contour, (_, _, _, parent) in zip(contours, hierarchy[0], strict=True):
        if parent >= 0:
            continue
        region = _rect(cv2.minAreaRect(contour))
        w, h = region.size
        area = cv2.contourArea(contour)
        if min_h <= h <= max_h and area >= 0.25 * w * h:
            blobs.append((region, area))
    return blobs


def _rect(rect: tuple) -> _Region:
    """An OpenCV rotated rectangle as (along the line, across it), slope in (-90°, 90°]."""
    (cx, cy), (w, h), angle = rect
    if w < h:
        w, h, angle = h, w, angle - 90
    angle = (angle + 90) % 180 - 90
    return _Region((cx, cy), (w, h), angle)


def _extent(region: _Region, phi: float) -> tuple[float, float]:
    """How far a rotated rectangle reaches along direction `phi` (radians) and across it."""
    delta = phi - np.deg2rad(region.angle)
    w, h = region.size
    c, s = abs(np.cos(delta)), abs(np.sin(delta))
    return w * c + h * s, w * s + h * c


def _same_line(a: _Region, b: _Region, max_angle: float) -> bool:
    """Whether two blobs are neighbouring letters or words of one (possibly tilted) line.

    A single letter's rectangle has no reliable direction, so the test uses the direction
    between the two centres: nearly level (cards are tilted, not sideways), in line with any
    blob long enough to have a direction, with a gap smaller than the letters are tall and
    heights alike (x-height letters next to capitals allowed).
    """
    dx, dy = b.centre[0] - a.centre[0], b.centre[1] - a.centre[1]
    if dx < 0:
        dx, dy = -dx, -dy
    phi = float(np.arctan2(dy, dx))
    if abs(np.rad2deg(phi)) > max_angle + 5:
        return False
    for blob in (a, b):  # a word has a direction; an "l" or "J" standing upright has not
        long = blob.size[0] >= 2 * blob.size[1] and abs(blob.angle) <= max_angle
        if long and abs(np.rad2deg(phi) - blob.angle) > 15:
            return False
    along_a, across_a = _extent(a, phi)
    along_b, across_b = _extent(b, phi)
    if max(across_a, across_b) > 2.5 * min(across_a, across_b):
        return False
    distance = float(np.hypot(dx, dy))
    if across_a > 1.5 * across_b or across_b > 1.5 * across_a:
        # a badge's or card's edge around its words is not a word of their line
        bigger = (along_a, across_a) if across_a > across_b else (along_b, across_b)
        if distance < bigger[0] / 2:
            return False
    gap = distance - (along_a + along_b) / 2
    return gap <= 0.8 * max(across_a, across_b)


def find_text_regions(gray: np.ndarray, settings: OcrSettings) -> list[_Region]:
    """Text-line candidates on a grey image, in that image's coordinates.

    Blobs on one line (similar height, collinear, close) are merged, so a line comes out whole
    and in order even when tilted; lines are kept when long, thin and well filled, which photo
    texture rarely is. The most text-like `max_regions` are returned.
    """
    blobs = _blobs(gray)
    parent = list(range(len(blobs)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, (a, _) in enumerate(blobs):
        for j in range(i + 1, len(blobs)):
            if _same_line(a, blobs[j][0], settings.max_angle):
                parent[root(i)] = root(j)
    groups: dict[int, list[int]] = {}
    for i in range(len(blobs)):
        groups.setdefault(root(i), []).append(i)
    scored: list[tuple[float, _Region]] = []
    for members in groups.values():
        points = np.concatenate(
            [cv2.boxPoints((r.centre, r.size, r.angle)) for r, _ in (blobs[m] for m in members)]
        )
        line = _rect(cv2.minAreaRect(points.astype(np.float32)))
        w, h = line.size
        fill = sum(blobs[m][1] for m in members) / max(w * h, 1.0)
        if w >= 1.8 * h and fill >= 0.25 and abs(line.angle) <= settings.max_angle:
            scored.append((fill * w * h, line))
    scored.sort(key=lambda item: -item[0])
    return [region for _, region in scored[: settings.max_regions]]


def _upright(pixels: np.ndarray, region: _Region, settings: OcrSettings) -> np.ndarray:
    """The region cut from full-resolution grey pixels, scaled, rotated level, binarised.

    Scaling happens before rotating: `warpAffine` has no area filter, and shrinking a large
    name straight through it aliases the strokes into letters Tesseract misreads.
    """
    (cx, cy), (w, h) = region.centre, region.size
    pad = 0.25 * h
    scale = min(settings.line_height / (h + 2 * pad), 2.0)  # upscaling further adds nothing
    half = (w + h) / 2 + pad  # covers the rotated rectangle at any angle
    x0, y0 = max(0, int(cx - half)), max(0, int(cy - half))
    x1, y1 = min(pixels.shape[1], int(cx + half) + 1), min(pixels.shape[0], int(cy + half) + 1)
    window = pixels[y0:y1, x0:x1]
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    window = cv2.resize(window, None, fx=scale, fy=scale, interpolation=interpolation)
    out_w, out_h = max(8, round((w + 2 * pad) * scale)), max(8, round((h + 2 * pad) * scale))
    centre = ((cx - x0) * scale, (cy - y0) * scale)
    rotation = cv2.getRotationMatrix2D(centre, region.angle, 1.0)
    rotation[0, 2] += out_w / 2 - centre[0]
    rotation[1, 2] += out_h / 2 - centre[1]
    crop = cv2.warpAffine(
        window, rotation, (out_w, out_h), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE
    )
    _, binary = cv2.threshold(crop, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    if np.count_nonzero(binary) < binary.size / 2:  # light text on a dark badge
        binary = 255 - binary
    return binary


def _stack(crops: list[np.ndarray], gap: int) -> tuple[np.ndarray, list[int]]:
    """Crops one below another on white, with the y where each starts."""
    width = max(c.shape[1] for c in crops) + 2 * gap
    tops, y = [], gap
    for crop in crops:
        tops.append(y)
        y += crop.shape[0] + gap
    strip = np.full((y, width), 255, np.uint8)
    for crop, top in zip(crops, tops, strict=True):
        strip[top : top + crop.shape[0], gap : gap + crop.shape[1]] = crop
    return strip, tops


def read_text(pixels: np.ndarray, settings: OcrSettings | None = None) -> OcrResult:
    """The words written in a photo (HxWx3 RGB or HxW grey, uint8), one line per region.

    Never raises for an OCR problem: `ran=False` and `reason` say why nothing was read.
    """
    settings = settings or OcrSettings()
    problem = tesseract_problem()
    if problem:
        return OcrResult("", ran=False, reason=problem)
    gray = cv2.cvtColor(pixels, cv2.COLOR_RGB2GRAY) if pixels.ndim == 3 else pixels
    factor = min(1.0, settings.detect_max_side / max(gray.shape))
    small = (
        gray
        if factor == 1.0
        else cv2.resize(gray, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
    )
    regions = [
        _Region(
            (r.centre[0] / factor, r.centre[1] / factor),
            (r.size[0] / factor, r.size[1] / factor),
            r.angle,
        )
        for r in find_text_regions(small, settings)
    ]
    if not regions:
        return OcrResult("", ran=True)
    regions.sort(key=lambda r: (r.centre[1], r.centre[0]))  # reading order: top to bottom
    crops = [_upright(gray, region, settings) for region in regions]
    strip, tops = _stack(crops, gap=settings.line_height // 2)
    # One thread: Tesseract's OpenMP threads slow small images down and oversubscribe the
    # audit's process pool; the budget (2 s per 12 MP photo) is for one core.
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    try:
        found = pytesseract.image_to_data(
            strip,
            lang="eng",
            config="--psm 6",
            output_type=pytesseract.Output.DICT,
            timeout=settings.timeout_s,
        )
    except pytesseract.TesseractNotFoundError:
        return OcrResult("", ran=False, reason="Tesseract is not installed")
    except (RuntimeError, OSError, pytesseract.TesseractError) as exc:
        return OcrResult("", ran=False, reason=f"Tesseract failed: {str(exc).strip()[:120]}")
    return _collect(found, regions, tops)


def _collect(found: dict[str, list], regions: list[_Region], tops: list[int]) -> OcrResult:
    """Group Tesseract's words by the region they were read from, in reading order."""
    lines: list[list[str]] = [[] for _ in regions]
    words: list[OcrWord] = []
    for text, conf, top, height in zip(
        found["text"], found["conf"], found["top"], found["height"], strict=True
    ):
        word = text.strip()
        if not word:  # block and line rows; low-confidence words stay: names are rare words
            continue
        middle = top + height / 2
        index = max(0, bisect.bisect_right(tops, middle) - 1)
        lines[index].append(word)
        words.append(OcrWord(word, float(conf), regions[index].box))
    text = "\n".join(" ".join(line) for line in lines if line)
    return OcrResult(text, ran=True, words=words)


def ocr_source(
    pixels: np.ndarray, where: str, settings: OcrSettings | None = None
) -> tuple[str | None, Finding | None]:
    """For the pipeline: the image's text to cross-check for names, or a warning saying why
    there is none (OCR unavailable must be visible in the report, never a silent pass)."""
    result = read_text(pixels, settings)
    if result.ran:
        return result.text, None
    return None, Finding(
        rule="input.ocr",
        category="unreadable_input",
        severity=Severity.WARNING,
        message=f"text inside {where} was not read (OCR did not run): {result.reason}",
        clause=CLAUSES["unreadable_input"],
        location=Location(image=where),
        explanation="A certificate or badge in the photo may show a pupil's full name; "
        "postguard could not check for one.",
        suggestion="check the photo by eye for names, or install Tesseract (make setup as root)",
    )
