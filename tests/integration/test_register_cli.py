"""`postguard register validate | enrol | status`, and how `check` uses the encodings store.

Real command line, real face detection and encoding, on reference photos made from the
public-domain photos in scikit-image, in a private copy of the demo register (`reg`).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from cli_helpers import invoke
from faceimages import photo, scaled
from postguard.consent.register import load_register

BIOMETRIC = "Face matching for photo consent"


@pytest.fixture
def reg(register_copy: Path) -> Path:
    """A private copy of the demo register, without the repository's encodings store."""
    return register_copy


def _append(csv: Path, *rows: str) -> list[int]:
    """Add rows to a register CSV as an MIS export would; returns their line numbers."""
    text = csv.read_text(encoding="utf-8")
    first = text.count("\n") + 1
    csv.write_text(text + "".join(f"{row}\n" for row in rows), encoding="utf-8")
    return list(range(first, first + len(rows)))


def _grant_biometric(register: Path, *pupils: str) -> None:
    _append(
        register / "consents.csv",
        *(f"{pupil},{BIOMETRIC},granted,parent,2025-09-03,," for pupil in pupils),
    )


def _save(pixels: np.ndarray, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.ascontiguousarray(pixels)).save(path, "JPEG", quality=92)


def _astronaut() -> np.ndarray:
    return photo("astronaut")[:300, 60:420]


def _cameraman() -> np.ndarray:
    """The cameraman's head and shoulders, enlarged so that his face is big enough to encode."""
    return scaled(photo("camera")[80:250, 150:320], 1.9)


def _stored(register: Path) -> dict[str, list[str]]:
    """Pupil id -> photos, as the store file on disk holds them."""
    document = json.loads((register / ".encodings" / "store.json").read_text(encoding="utf-8"))
    stored: dict[str, list[str]] = {}
    for entry in document["entries"]:
        stored.setdefault(entry["pupil_id"], []).append(entry["photo"])
    return stored


def _faces(report: dict) -> list[str]:
    image = next(i for i in report["images"] if i["path"].endswith("finish-line.jpg"))
    return sorted(f["decision"] for f in image["faces"])


def _register_rules(report: dict) -> list[str]:
    return sorted(f["rule"] for f in report["findings"] if f["category"] == "consent_register")


def test_validate_a_valid_register(capsys, reg):
    result = invoke(capsys, "register", "validate", "--register", reg)
    assert result.code == 0, result.out
    assert result.out == (
        f"{reg}: valid: 8 pupils, 15 consent events, "
        "1 pupil with biometric consent, 1 reference photo\n"
    )


def test_validate_names_every_problem_with_file_and_line(capsys, reg):
    (pupil_line,) = _append(reg / "pupils.csv", "P1001,Amelia,Jones,,,5,yes,no")
    _grant_biometric(reg, "P1001", "P1006", "P1008")
    purpose_line, date_line = _append(
        reg / "consents.csv",
        "P1001,Yearbook,granted,parent,2025-09-03,,",
        "P1001,Website photographs,granted,parent,31/02/2026,,",
    )
    _save(_cameraman(), reg / "reference" / "P1003" / "ollie.jpg")
    _save(np.hstack([_astronaut(), _astronaut()]), reg / "reference" / "P1001" / "twins.jpg")
    _save(photo("coffee"), reg / "reference" / "P1006" / "coffee.jpg")
    (reg / "reference" / "P1008").mkdir()
    (reg / "reference" / "P1008" / "scan.jpg").write_text("not a photo", encoding="utf-8")

    result = invoke(capsys, "register", "validate", "--register", reg)
    assert result.code == 1
    assert result.out.splitlines() == [
        f"{reg}/pupils.csv:{pupil_line}: duplicate pupil_id P1001",
        f"{reg}/consents.csv:{purpose_line}: unknown purpose 'Yearbook'",
        f"{reg}/consents.csv:{date_line}: bad date '31/02/2026' (use YYYY-MM-DD or DD/MM/YYYY)",
        f"{reg}/reference/P1003: reference photos for a pupil without biometric consent",
        f"{reg}/reference/P1001/twins.jpg: reference photo has 2 faces (needs exactly one)",
        f"{reg}/reference/P1006/coffee.jpg: reference photo has 0 faces (needs exactly one)",
        f"{reg}/reference/P1008/scan.jpg: unreadable reference photo: "
        "not an image file (looks like text)",
        f"7 problems in {reg}",
    ]


def test_validate_missing_folder_is_a_usage_error(capsys, tmp_path):
    missing = tmp_path / "nowhere"
    result = invoke(capsys, "register", "validate", "--register", missing)
    assert result.code == 2
    assert result.out == ""
    assert result.err == f"postguard: error: {missing}: consent register folder not found\n"


def test_enrol_is_incremental_and_the_store_private(capsys, reg):
    first = invoke(capsys, "register", "enrol", "--register", reg)
    assert first.code == 0, first.out
    assert first.out.splitlines() == [
        "added 1 encoding (P1002)",
        "kept 0 encodings",
        "removed 0 encodings",
        f"store: {reg}/.encodings/store.json: 1 encoding of 1 pupil",
    ]
    assert os.stat(reg / ".encodings").st_mode & 0o777 == 0o700
    assert os.stat(reg / ".encodings" / "store.json").st_mode & 0o777 == 0o600

    _grant_biometric(reg, "P1001")
    _save(_cameraman(), reg / "reference" / "P1001" / "amelia.jpg")
    second = invoke(capsys, "register", "enrol", "--register", reg)
    assert second.code == 0, second.out
    assert second.out.splitlines()[:3] == [
        "added 1 encoding (P1001)",
        "kept 1 encoding (P1002)",
        "removed 0 encodings",
    ]

    third = invoke(capsys, "register", "enrol", "--register", reg)
    assert third.code == 0, third.out
    assert third.out.splitlines()[:3] == [
        "added 0 encodings",
        "kept 2 encodings (P1001, P1002)",
        "removed 0 encodings",
    ]
    assert os.stat(reg / ".encodings" / "store.json").st_mode & 0o777 == 0o600

    _save(photo("astronaut")[20:330, 90:400], reg / "reference" / "P1002" / "maya-2025.jpg")
    changed = invoke(capsys, "register", "enrol", "--register", reg)
    assert changed.out.splitlines()[:3] == [
        "added 1 encoding (P1002)",
        "kept 1 encoding (P1001)",
        "removed 1 encoding (reference photo changed: P1002)",
    ]
    assert _stored(reg) == {
        "P1001": ["reference/P1001/amelia.jpg"],
        "P1002": ["reference/P1002/maya-2025.jpg"],
    }


def test_enrol_removes_a_pupil_whose_consent_is_withdrawn(capsys, reg):
    assert invoke(capsys, "register", "enrol", "--register", reg).code == 0
    _append(reg / "consents.csv", f"P1002,{BIOMETRIC},withdrawn,parent,2026-10-01,,2026-10-01")
    result = invoke(capsys, "register", "enrol", "--register", reg)
    assert result.code == 1, "the withdrawn pupil's reference photos are still there"
    assert result.out.splitlines() == [
        f"{reg}/reference/P1002: reference photos for a pupil without biometric consent",
        "added 0 encodings",
        "kept 0 encodings",
        "removed 1 encoding (no biometric consent today: P1002)",
        f"store: {reg}/.encodings/store.json: 0 encodings of 0 pupils",
    ]
    assert _stored(reg) == {}
    shutil.rmtree(reg / "reference" / "P1002")
    assert invoke(capsys, "register", "enrol", "--register", reg).code == 0


def test_enrol_names_photos_it_cannot_enrol(capsys, reg):
    _grant_biometric(reg, "P1001")
    _save(np.hstack([_astronaut(), _astronaut()]), reg / "reference" / "P1001" / "twins.jpg")
    result = invoke(capsys, "register", "enrol", "--register", reg)
    assert result.code == 1
    lines = result.out.splitlines()
    assert lines[0] == (
        f"{reg}/reference/P1001/twins.jpg: reference photo has 2 faces (needs exactly one)"
    )
    assert "added 1 encoding (P1002)" in lines
    assert _stored(reg) == {"P1002": ["reference/P1002/maya-2025.jpg"]}


def test_enrol_adds_nothing_from_a_register_with_problems(capsys, reg):
    """A consent row the loader skips could be a withdrawal: nothing new is enrolled."""
    (line,) = _append(reg / "consents.csv", f"P1002,{BIOMETRIC},withdrawn,parent,2026-13-01,,")
    result = invoke(capsys, "register", "enrol", "--register", reg)
    assert result.code == 1
    assert result.out.splitlines()[:2] == [
        f"{reg}/consents.csv:{line}: bad date '2026-13-01' (use YYYY-MM-DD or DD/MM/YYYY)",
        "added 0 encodings",
    ]
    assert "not added: 1 reference photo (P1002)" in result.out
    assert _stored(reg) == {}


def test_store_never_holds_a_pupil_without_biometric_consent(capsys, reg):
    """Off-roll pupils and pupils never asked have no consent, whatever their photos. A
    do-not-photograph pupil with biometric consent is enrolled: recognising them is what
    lets `check` block their photo instead of only blurring it."""
    _grant_biometric(reg, "P1001", "P1004", "P1007")
    for pupil in ("P1001", "P1003", "P1004", "P1007"):
        _save(
            _cameraman() if pupil != "P1004" else _astronaut(),
            reg / "reference" / pupil / "face.jpg",
        )
    result = invoke(capsys, "register", "enrol", "--register", reg)
    assert result.code == 1
    refused = [line for line in result.out.splitlines() if "without biometric consent" in line]
    assert [Path(line.split(":")[0]).name for line in refused] == ["P1003", "P1007"]
    assert _stored(reg) == {}, "nothing is added while the register has problems"
    for pupil in ("P1003", "P1007"):
        shutil.rmtree(reg / "reference" / pupil)
    assert invoke(capsys, "register", "enrol", "--register", reg).code == 0
    assert set(_stored(reg)) == {"P1001", "P1002", "P1004"}
    assert set(_stored(reg)) <= set(load_register(reg).biometric_pupils())


def _status(capsys: pytest.CaptureFixture[str], *args: object) -> dict[str, str]:
    result = invoke(capsys, "register", "status", *args)
    assert result.code == 0, result.err
    return dict(line.strip().split(": ", 1) for line in result.out.splitlines() if ": " in line)


def test_status_counts(capsys, reg, tmp_path):
    before = _status(capsys, "--register", reg)
    assert before["pupils on roll"] == "7 of 8"
    assert before["do-not-photograph"] == "1"
    assert before["pupils with biometric consent"] == "1 (1 with reference photos)"
    assert before["pupils enrolled"] == "0 (0 encodings)"
    assert before["stale encodings"] == "0"
    assert before["missing encodings"] == "1 (P1002)"
    purposes = {
        line.split()[0]: int(line.split()[1])
        for line in invoke(capsys, "register", "status", "--register", reg).out.splitlines()
        if line.startswith("  ")
    }
    assert purposes["website"] == 3 and purposes["biometric_matching"] == 1
    assert purposes["press"] == 0 and purposes["name_full"] == 1

    assert "enrolled from one photo only" not in before
    invoke(capsys, "register", "enrol", "--register", reg)
    after = _status(capsys, "--register", reg)
    assert after["pupils enrolled"] == "1 (1 encoding)"
    assert after["missing encodings"] == "0"
    assert after["enrolled from one photo only"].startswith("1 (P1002): a second reference photo")

    stricter = tmp_path / "postguard.toml"
    stricter.write_text("[faces]\nmin_face_px = 90\n", encoding="utf-8")
    changed = _status(capsys, "--register", reg, "--config", stricter)
    assert changed["stale encodings"] == "1 (face model or settings changed: P1002)"
    assert changed["missing encodings"] == "1 (P1002)"

    # a second photo of the same pupil (another crop of the astronaut) settles it
    _save(photo("astronaut")[0:360, 60:420], reg / "reference" / "P1002" / "maya-2024.jpg")
    invoke(capsys, "register", "enrol", "--register", reg)
    two = _status(capsys, "--register", reg)
    assert two["pupils enrolled"] == "1 (2 encodings)"
    assert "enrolled from one photo only" not in two


def test_check_redacts_faces_until_enrolled_then_consents(capsys, reg, demo_draft):
    before = invoke(capsys, "check", demo_draft, "--register", reg, "--format", "json").json()
    assert _faces(before) == ["redact", "redact"]
    warning = next(f for f in before["findings"] if f["category"] == "consent_register")
    assert warning["rule"] == "register.not_enrolled"
    assert warning["severity"] == "warning"
    assert warning["message"].startswith("1 pupil with biometric consent has no stored encodings")
    assert "postguard register enrol" in warning["suggestion"]

    assert invoke(capsys, "register", "enrol", "--register", reg).code == 0
    after = invoke(capsys, "check", demo_draft, "--register", reg, "--format", "json").json()
    assert _faces(after) == ["consented", "redact"]
    assert _register_rules(after) == []


def test_check_does_not_use_an_encoding_of_a_replaced_photo(capsys, reg, demo_draft):
    assert invoke(capsys, "register", "enrol", "--register", reg).code == 0
    _save(_cameraman(), reg / "reference" / "P1002" / "maya-2025.jpg")
    report = invoke(capsys, "check", demo_draft, "--register", reg, "--format", "json").json()
    assert _faces(report) == ["redact", "redact"]
    assert _register_rules(report) == ["register.not_enrolled", "register.stale_encodings"]
    stale = next(f for f in report["findings"] if f["rule"] == "register.stale_encodings")
    assert "reference photo changed: P1002" in stale["explanation"]


def test_recognised_do_not_photograph_pupil_blocks_even_with_out(capsys, reg, demo_draft, tmp_path):
    pupils = reg / "pupils.csv"
    pupils.write_text(
        pupils.read_text(encoding="utf-8").replace(
            "P1002,Mayowa,Okafor,Maya,,6,yes,no", "P1002,Mayowa,Okafor,Maya,,6,yes,yes"
        ),
        encoding="utf-8",
    )
    assert invoke(capsys, "register", "enrol", "--register", reg).code == 0
    out = tmp_path / "safe"
    result = invoke(
        capsys, "check", demo_draft, "--register", reg, "--out", out, "--format", "json"
    )
    assert result.code == 1
    report = result.json()
    assert _faces(report) == ["blocked", "redact"]
    blocking = [f for f in report["findings"] if f["rule"] == "faces.do_not_photograph"]
    assert len(blocking) == 1 and not blocking[0]["fixed"]
    assert not any(p.name.endswith("finish-line.jpg") for p in out.iterdir())
