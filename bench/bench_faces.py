"""Measure the face-detection ensemble on the shared labelled photos.

Prints, per image with a `faces_visible` hand count in ../shared/data/images/LABELS.tsv, how many
faces CenterFace, HOG and the merged ensemble report; then recall per group of images, false
detections on face-free images, seconds per image at about 1 MP and 12 MP, and what encoding,
redacting and verifying a crowd cost on top.

The labels are counts, not boxes, so "found" is min(detections, hand count): an extra detection
can hide a miss. Read the per-image rows for the crowd photos, not just the totals.

Usage: .venv/bin/python bench/bench_faces.py [IMAGES_DIR]
"""

from __future__ import annotations

import csv
import sys
import time
from collections import defaultdict
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageOps

from postguard.config import FaceSettings
from postguard.consent.match import compute_encoding
from postguard.images.faces import detect_faces
from postguard.images.redact import redact, verify_redaction

DEFAULT_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "images"


def load_rgb(path: Path) -> np.ndarray:
    """Decode with EXIF orientation applied, as the pipeline does (DESIGN.md §6)."""
    if path.suffix.lower() in (".heic", ".heif"):
        import pillow_heif

        pillow_heif.register_heif_opener()
    with Image.open(path) as image:
        return np.asarray(ImageOps.exif_transpose(image).convert("RGB"))


def group_of(count: int) -> str:
    if count == 0:
        return "no faces"
    if count == 1:
        return "single face"
    return "group 2-9" if count < 10 else "crowd/street 10+"


def main(images: Path) -> None:
    settings = FaceSettings()
    with (images / "LABELS.tsv").open(encoding="utf-8") as handle:
        rows = [r for r in csv.DictReader(handle, delimiter="\t") if r["faces_visible"].isdigit()]

    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])  # n, hand, ens, cf, hog
    false_positive_images: list[str] = []
    print(f"{'image':48} {'size':>10} {'hand':>4} {'ens':>4} {'cf':>4} {'hog':>4} {'sec':>5}")
    for row in rows:
        path = images / row["file"]
        try:
            pixels = load_rgb(path)
        except Exception as exc:  # a bench row, not a check: report and go on
            print(f"{row['file']:48} cannot decode ({exc.__class__.__name__})")
            continue
        start = time.perf_counter()
        faces = detect_faces(pixels, settings)
        seconds = time.perf_counter() - start
        hand = int(row["faces_visible"])
        by_cf = sum("centerface" in f.detectors for f in faces)
        by_hog = sum("hog" in f.detectors for f in faces)
        size = f"{pixels.shape[1]}x{pixels.shape[0]}"
        print(
            f"{row['file']:48} {size:>10} {hand:>4} {len(faces):>4} {by_cf:>4} {by_hog:>4} "
            f"{seconds:5.2f}"
        )
        total = totals[group_of(hand)]
        for k, value in enumerate(
            (1, hand, min(len(faces), hand), min(by_cf, hand), min(by_hog, hand))
        ):
            total[k] += value
        if hand == 0 and faces:
            false_positive_images.append(f"{row['file']} ({len(faces)})")

    print(f"\n{'group':18} {'images':>6} {'hand':>5} {'ensemble':>9} {'centerface':>10} {'hog':>6}")
    for group, (n, hand, ens, cf, hog) in sorted(totals.items()):
        if hand:
            print(
                f"{group:18} {n:>6} {hand:>5} {ens / hand:>9.0%} {cf / hand:>10.0%} "
                f"{hog / hand:>6.0%}"
            )
    print(f"\nface-free images with detections: {len(false_positive_images)}")
    for item in false_positive_images:
        print(f"  {item}")

    sample = load_rgb(images / "dlib__2008_002470.jpg")
    print("\nseconds per image (mean of 3 runs, after a warm-up):")
    for label, size in (("~1 MP", (1200, 900)), ("~12 MP", (4000, 3000))):
        scaled = cv2.resize(sample, size, interpolation=cv2.INTER_CUBIC)
        detect_faces(scaled, settings)
        start = time.perf_counter()
        for _ in range(3):
            found = len(detect_faces(scaled, settings))
        print(f"  {label:7} {size[0]}x{size[1]}: {(time.perf_counter() - start) / 3:.2f} s "
              f"({found} faces)")

    crowd = load_rgb(images / "retinaface__crowd_test.jpg")
    boxes = [f.box for f in detect_faces(crowd, settings)]
    start = time.perf_counter()
    compute_encoding(crowd, boxes[0])
    print(f"\nface_recognition import + first encoding: {time.perf_counter() - start:.2f} s")
    start = time.perf_counter()
    for box in boxes:
        compute_encoding(crowd, box)
    print(f"encoding, per face: {(time.perf_counter() - start) / len(boxes):.3f} s")
    start = time.perf_counter()
    redacted = redact(crowd, boxes, settings)
    middle = time.perf_counter()
    problems = verify_redaction(crowd, redacted, boxes, settings)
    print(
        f"crowd ({len(boxes)} faces): redact {middle - start:.3f} s, "
        f"verify {time.perf_counter() - middle:.2f} s, problems: {len(problems)}"
    )


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_DIR)
