"""`postguard strip`: clean copies of photos through the same code path as `check --out`."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import exifread
import numpy as np
import pytest
from PIL import Image
from skimage import data

from cli_helpers import invoke


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_strip_removes_metadata_and_redacts_unconsented_faces(capsys, tmp_path, demo_draft):
    photo = demo_draft / "finish-line.jpg"
    before = _sha(photo)
    out = tmp_path / "clean"
    result = invoke(capsys, "strip", photo, "--out", out, "--format", "json")
    assert result.code == 0
    report = result.json()
    [image] = report["images"]
    assert sorted(f["decision"] for f in image["faces"]) == ["consented", "redact"]
    written = Path(image["output"])
    assert written == out / "finish-line.jpg"
    with written.open("rb") as handle:
        assert exifread.process_file(handle, details=False) == {}
    with Image.open(written) as copy:
        assert not copy.getexif() and copy.size == (1600, 1000)
    assert _sha(photo) == before
    text = invoke(capsys, "strip", photo, "--out", tmp_path / "again")
    assert "removed EXIF:GPS" in text.out and "1 face(s) redacted, 1 kept" in text.out


def test_animated_gif_is_refused_and_others_still_written(capsys, tmp_path, demo_draft):
    face = Image.fromarray(data.astronaut()).resize((128, 128))
    frames = [face.rotate(angle) for angle in (0, 10, 20)]
    gif = tmp_path / "wave.gif"
    frames[0].save(gif, save_all=True, append_images=frames[1:], duration=100, loop=0)
    out = tmp_path / "clean"
    result = invoke(capsys, "strip", gif, demo_draft / "banner.png", "--out", out)
    assert result.code == 1
    lines = result.out.splitlines()
    assert lines[0].startswith(f"{gif}: not written:") and "animated image (3 frames)" in lines[0]
    assert sorted(p.name for p in out.iterdir()) == ["banner.png"]


def test_same_names_from_two_folders_do_not_overwrite(capsys, tmp_path, demo_draft):
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        shutil.copy(demo_draft / "banner.png", tmp_path / folder / "banner.png")
    out = tmp_path / "clean"
    result = invoke(
        capsys, "strip", tmp_path / "a/banner.png", tmp_path / "b/banner.png", "--out", out
    )
    assert result.code == 0
    assert sorted(p.name for p in out.iterdir()) == ["banner-2.png", "banner.png"]


def test_heic_comes_out_as_jpeg(capsys, tmp_path, shared_images):
    out = tmp_path / "clean"
    result = invoke(
        capsys, "strip", shared_images / "exifsamples__heic_IMG_5195.HEIC", "--out", out
    )
    assert result.code == 0
    [written] = list(out.iterdir())
    assert written.suffix == ".jpg"
    with Image.open(written) as copy:
        assert copy.format == "JPEG" and not copy.getexif()
        assert np.asarray(copy).std() > 10


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("{tmp}/missing.jpg", "--out", "{tmp}/clean"), "missing.jpg: no such file"),
        (("{photo}", "--out", "{draft}"), "output folder holds an original file of the draft"),
    ],
)
def test_input_errors(capsys, tmp_path, demo_draft, args, message):
    values = {"tmp": tmp_path, "draft": demo_draft, "photo": demo_draft / "finish-line.jpg"}
    result = invoke(capsys, "strip", *(a.format(**values) for a in args))
    assert result.code == 2
    assert message in result.err and result.err.count("\n") == 1
