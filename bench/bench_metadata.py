"""Metadata: every shared photo gets one clean copy, verified three ways, upright.

Over ../shared/data/images (hand labels in LABELS.tsv): for each file, scan the original (is a
GPS-tagged file reported before stripping?), decode with orientation applied, write the clean
copy (write_clean re-encodes from pixels and verifies the temporary file before renaming it), then
verify the written copy again independently. Orientation: a file tagged 5-8 must come out with
width and height swapped relative to its stored pixels, and each of the exif-samples orientation
sets must match its orientation-1 sibling pixel for pixel (up to JPEG noise).
Usage: .venv/bin/python bench/bench_metadata.py
"""

from __future__ import annotations

import csv
import sys
import tempfile
from collections import Counter
from pathlib import Path

import numpy as np
from PIL import Image

from postguard.images.decode import ImageDecodeError, decode_image
from postguard.images.metadata import scan_metadata, verify_clean, write_clean

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "images"
SWAPS = {5, 6, 7, 8}


def stored_size(path: Path) -> tuple[int, int]:
    with Image.open(path) as image:
        return image.size


def main() -> int:
    if not SHARED.is_dir():
        print(f"shared images not found at {SHARED}")
        return 0
    with (SHARED / "LABELS.tsv").open(encoding="utf-8", newline="") as handle:
        labels = {row["file"]: row for row in csv.DictReader(handle, delimiter="\t")}
    inputs, written, clean = Counter(), Counter(), Counter()
    gps_files = gps_reported = oriented = upright = 0
    problems: list[str] = []
    outputs: dict[str, np.ndarray] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for index, (name, row) in enumerate(sorted(labels.items())):
            path = SHARED / name
            kind = path.suffix.lower().lstrip(".").replace("jpeg", "jpg")
            inputs[kind] += 1
            if row["has_gps"] == "yes":
                gps_files += 1
                gps_reported += any(i.kind == "location" for i in scan_metadata(path))
            try:
                decoded = decode_image(path)
                copy = write_clean(decoded, decoded.pixels, Path(tmp), f"{index:03d}")
            except (ImageDecodeError, OSError, ValueError) as exc:
                problems.append(f"{name}: {exc}")
                continue
            written[kind] += 1
            issues = verify_clean(copy)
            clean[kind] += not issues
            problems += [f"{name}: {issue}" for issue in issues]
            if decoded.orientation != 1 and decoded.format != "HEIF":
                oriented += 1
                w, h = stored_size(path)
                expected = (h, w) if decoded.orientation in SWAPS else (w, h)
                with Image.open(copy) as image:
                    upright += image.size == expected
            if "orientation_" in name:
                with Image.open(copy) as image:
                    outputs[name] = np.asarray(image.convert("RGB"), dtype=np.int16)
    siblings = matched = 0
    for name, pixels in outputs.items():
        reference = outputs.get(name.rsplit("_", 1)[0] + "_1.jpg")
        if reference is None or name.endswith("_1.jpg"):
            continue
        siblings += 1
        matched += pixels.shape == reference.shape and np.abs(pixels - reference).mean() < 8
    print("| format | inputs | copies written | copies passing all three verifications |")
    print("|---|---|---|---|")
    for kind in sorted(inputs):
        print(f"| {kind} | {inputs[kind]} | {written[kind]} | {clean[kind]} |")
    total = sum(inputs.values())
    print(f"| all | {total} | {sum(written.values())} | {sum(clean.values())} |")
    print()
    print(f"GPS-tagged files reported before stripping: {gps_reported} of {gps_files}")
    print(f"EXIF-oriented files (2-8) written at their displayed size: {upright} of {oriented}")
    print(f"orientation 2-8 copies matching their orientation-1 sibling: {matched} of {siblings}")
    for problem in problems:
        print(f"problem: {problem}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
