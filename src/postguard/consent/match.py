"""Match a detected face to an enrolled pupil, or decide that we cannot.

The consent decision hangs on this: a face that matches nobody has no consent and is redacted,
so a false match is the dangerous error (an unconsented child published) and a missed match only
costs a redaction. DESIGN.md §6 measured dlib's encoder on 24 adult identities: the closest
different-person distance was 0.516, false matches appeared at 0.60, and the model confuses
children more. So a match is accepted only when it is close (`match_distance`, 0.45), clearly
closer than any other pupil (`match_margin`, 0.10), and the face is big enough to encode
(`min_face_px`); anything else is "unknown".

The encoding is face_recognition's (dlib's ResNet on a face aligned by the 5-point landmark
model), computed by calling dlib with the same two model files directly: importing
face_recognition loads four model files, two of them unused, which cost 1.4 s on every check with
a face. tests/unit/test_match.py holds our encodings to face_recognition's, bit for bit. The files
are checked against their pinned hashes before dlib reads them.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np

from postguard.config import FaceSettings
from postguard.images.faces import detect_faces
from postguard.modelfiles import model_path

# Landmarks for aligning the face before encoding. The 5-point model is the one dlib pairs with
# its encoder, it is CC0 (the 68-point model is research-only iBUG 300-W data) and on the shared
# photos it separated identities as well as the 68-point one did (same person: max 0.57 vs 0.58;
# different people: min 0.58 vs 0.59, 73 faces of 18 people, boxes from our own detector).
LANDMARKS_MODEL = "small"  # face_recognition's name for it; part of the store's model version
ENCODING_SIZE = 128
# One jitter: encodings must be reproducible so the store can key them by photo and model.
NUM_JITTERS = 1
# Which box the landmarks are found in (see DetectedFace.align_box); part of the store's model
# version, because encodings made with another alignment are not comparable.
ALIGNMENT = "hog-box"


@dataclass(frozen=True)
class MatchResult:
    """Who a face is, if anyone. `distance` is the closest pupil's, also when not accepted."""

    pupil_id: str | None
    distance: float | None
    reason: str


@cache
def _dlib_models() -> tuple[Any, Any]:
    """The landmark model and the encoder, loaded once, after their files proved to be ours.

    Raises postguard.modelfiles.ModelError when a file is missing or altered.
    """
    landmarks, encoder = model_path("landmarks_5"), model_path("face_encoder")
    import dlib

    return dlib.shape_predictor(str(landmarks)), dlib.face_recognition_model_v1(str(encoder))


def compute_encoding(pixels: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    """The 128-d encoding of the face in `box` (x, y, w, h), whatever its size.

    For matching use `encode_face`, which refuses faces too small to encode reliably; this is
    for checks that compare a face with itself (redaction verification), where a noisy
    encoding of a small face is still better than none.
    """
    import dlib

    landmarks, encoder = _dlib_models()
    x, y, w, h = box
    image = np.ascontiguousarray(pixels)  # dlib refuses strided views such as crops
    shape = landmarks(image, dlib.rectangle(x, y, x + w, y + h))
    return np.asarray(encoder.compute_face_descriptor(image, shape, NUM_JITTERS), dtype=np.float64)


def encode_face(
    pixels: np.ndarray,
    box: tuple[int, int, int, int],
    settings: FaceSettings,
    align: tuple[int, int, int, int] | None = None,
) -> np.ndarray | None:
    """The encoding of the face in `box`, or None when its shorter side is under `min_face_px`.

    Small faces give encodings that wander towards other people's, so they are not matched at
    all: the caller treats them as unknown, which means redacted. `align` is the box to find
    the landmarks in (a detected face's `align_box`); the size test is on the face's own box.
    """
    if min(box[2], box[3]) < settings.min_face_px:
        return None
    return compute_encoding(pixels, align or box)


def encode_reference(pixels: np.ndarray, settings: FaceSettings) -> tuple[np.ndarray | None, str]:
    """Encode a pupil's reference photo, which must show exactly one face, big enough.

    A photo with a second face (a sibling, a face in a poster) could enrol the wrong person, and
    enrolling the wrong person is how an unconsented child gets matched; so it is refused.
    """
    faces = detect_faces(pixels, settings)
    if len(faces) != 1:
        return None, f"reference photo has {len(faces)} faces (needs exactly one)"
    box = faces[0].box
    side = min(box[2], box[3])
    encoding = encode_face(pixels, box, settings, faces[0].align_box)
    if encoding is None:
        return None, (
            f"reference face too small to encode reliably ({side} px < {settings.min_face_px} px)"
        )
    return encoding, f"one face, {side} px"


class FaceMatcher:
    """Matches encodings against the enrolled pupils (only those with biometric consent)."""

    def __init__(self, references: dict[str, list[np.ndarray]], settings: FaceSettings) -> None:
        self._settings = settings
        self._references: dict[str, np.ndarray] = {}
        for pupil_id, encodings in references.items():
            if not encodings:
                continue
            stacked = np.stack([np.asarray(e, dtype=np.float64) for e in encodings])
            if stacked.shape[1:] != (ENCODING_SIZE,):
                raise ValueError(
                    f"reference encodings for {pupil_id} have shape {stacked.shape[1:]}, "
                    f"expected ({ENCODING_SIZE},)"
                )
            self._references[pupil_id] = stacked

    def match(self, encoding: np.ndarray | None) -> MatchResult:
        """The pupil this face belongs to, or None with the reason nobody was accepted.

        Per pupil the distance is the closest of their reference encodings (a pupil enrolled
        from several photos should match if any one is close); then the closest pupil must be
        within `match_distance` and at least `match_margin` closer than the runner-up.
        """
        settings = self._settings
        if encoding is None:
            return MatchResult(
                None, None, f"face too small to encode reliably (< {settings.min_face_px} px)"
            )
        if not self._references:
            return MatchResult(None, None, "no pupils enrolled for matching")
        query = np.asarray(encoding, dtype=np.float64)
        distances = sorted(
            (float(np.linalg.norm(refs - query, axis=1).min()), pupil_id)
            for pupil_id, refs in self._references.items()
        )
        best, best_id = distances[0]
        if best > settings.match_distance:
            return MatchResult(
                None,
                best,
                f"closest {best_id} at {best:.2f} > {settings.match_distance:.2f}: "
                "treated as unknown",
            )
        if len(distances) == 1:
            return MatchResult(
                best_id, best, f"matched {best_id} at {best:.2f} (only pupil enrolled)"
            )
        second, second_id = distances[1]
        if second - best < settings.match_margin:
            return MatchResult(
                None, best, f"ambiguous: {best_id} {best:.2f} vs {second_id} {second:.2f}"
            )
        return MatchResult(best_id, best, f"matched {best_id} at {best:.2f} (next {second:.2f})")
