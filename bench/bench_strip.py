"""Measure metadata stripping alone: decode + write_clean (which includes verify_clean).

Builds a 12 MP phone-like JPEG (the scikit-image astronaut upscaled to 4000x3000 with
sensor-like noise, quality 92, with GPS, Artist and an XMP PersonInImage), pins the process to
one CPU core, and prints the median seconds of each step over a few runs, plus the metadata scan
that precedes stripping. The same figures are printed for the real 12 MP camera photo in
../shared/data/images when that folder is present.

Usage: .venv/bin/python bench/bench_strip.py [RUNS]
"""

from __future__ import annotations

import io
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image
from skimage import data

from postguard.images.decode import decode_image
from postguard.images.metadata import scan_metadata, verify_clean, write_clean

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "images"
REAL_12MP = SHARED / "exifsamples__tests_42_IndexError.jpg"
XMP = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
    b'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description '
    b'xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/"><Iptc4xmpExt:PersonInImage>'
    b"<rdf:Bag><rdf:li>Jane Example</rdf:li></rdf:Bag></Iptc4xmpExt:PersonInImage>"
    b"</rdf:Description></rdf:RDF></x:xmpmeta>"
)


def make_photo(path: Path) -> None:
    exif = Image.Exif()
    exif[0x013B] = "Jane Example"
    exif[0x8825] = {1: "N", 2: (51.0, 30.0, 12.5), 3: "W", 4: (0.0, 7.0, 40.2)}
    smooth = Image.fromarray(data.astronaut()).resize((4000, 3000), Image.Resampling.LANCZOS)
    # Sensor-like noise, so the file is as large (and as slow to decode) as a real phone photo.
    noise = np.random.default_rng(0).normal(0, 6, (3000, 4000, 3))
    picture = Image.fromarray((np.asarray(smooth) + noise).clip(0, 255).astype(np.uint8))
    buffer = io.BytesIO()
    picture.save(buffer, "JPEG", quality=92, exif=exif, xmp=XMP)
    path.write_bytes(buffer.getvalue())


def median_seconds(step: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def report(photo: Path, out: Path, runs: int) -> None:
    decoded = decode_image(photo)
    written = write_clean(decoded, decoded.pixels, out, "clean")
    assert verify_clean(written) == []
    print(f"\n{photo.name}: {photo.stat().st_size / 1e6:.1f} MB, {decoded.pixels.shape}")
    print(f"  metadata found: {[item.field for item in scan_metadata(photo)]}")
    scan = median_seconds(lambda: scan_metadata(photo), runs)
    decode = median_seconds(lambda: decode_image(photo), runs)
    write = median_seconds(lambda: write_clean(decoded, decoded.pixels, out, "clean"), runs)
    verify = median_seconds(lambda: verify_clean(written), runs)
    strip = median_seconds(
        lambda: write_clean(decode_image(photo), decoded.pixels, out, "clean"), runs
    )
    print(f"  median of {runs} runs, seconds:")
    print(f"    scan_metadata                   {scan:6.2f}")
    print(f"    decode_image                    {decode:6.2f}")
    print(f"    write_clean (encode + verify)   {write:6.2f}")
    print(f"      of which verify_clean         {verify:6.2f}")
    print(f"    strip = decode + write_clean    {strip:6.2f}")


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
        print(f"pinned to {len(os.sched_getaffinity(0))} core")
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        out = work / "out"
        out.mkdir()
        photo = work / "synthetic-12mp.jpg"
        make_photo(photo)
        report(photo, out, runs)
        if REAL_12MP.is_file():
            report(REAL_12MP, out, runs)


if __name__ == "__main__":
    main()
