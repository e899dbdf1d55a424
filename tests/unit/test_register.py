"""Consent resolution and the loader's handling of real-world MIS exports."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from postguard.config import FaceSettings
from postguard.consent.enrol import photo_problems
from postguard.consent.register import load_register, validate_register
from postguard.errors import InputError

TERM = date(2026, 7, 10)


@pytest.fixture(scope="module")
def demo(request: pytest.FixtureRequest):
    from conftest import REGISTER

    return load_register(REGISTER)


@pytest.mark.parametrize(
    ("pupil", "purpose", "granted", "reason_part"),
    [
        ("P1002", "social_media", True, "granted by parent"),
        ("P1002", "press", False, "no press consent"),
        ("P1003", "social_media", False, "withdrawn by parent"),
        ("P1005", "social_media", False, "refused by pupil"),
        ("P1004", "social_media", False, "do-not-photograph"),
        ("P1007", "social_media", False, "no longer on roll"),
        ("P1001", "biometric_matching", False, "no biometric_matching consent"),
        ("P9999", "social_media", False, "not in the register"),
    ],
)
def test_consent_resolution(demo, pupil, purpose, granted, reason_part):
    decision = demo.consent(pupil, purpose, TERM)
    assert decision.granted is granted
    assert reason_part in decision.reason


def test_do_not_photograph_still_allows_recognition(tmp_path):
    """Biometric consent survives the flag, so a photo of the pupil can be recognised and
    blocked rather than merely blurred; publication purposes do not."""
    folder = _write_register(
        tmp_path / "reg",
        (PUPIL_HEADER + "P1;A;B;;;5;yes;yes\r\n").encode(),
        (
            CONSENT_HEADER
            + "P1;biometric_matching;granted;parent;01/09/2025;;\r\n"
            + "P1;Website photographs;granted;parent;01/09/2025;;\r\n"
        ).encode(),
    )
    register = load_register(folder)
    assert register.consent("P1", "biometric_matching", TERM).granted
    assert not register.consent("P1", "website", TERM).granted


def test_consent_expires(demo):
    assert demo.consent("P1008", "social_media", date(2026, 8, 31)).granted
    decision = demo.consent("P1008", "social_media", date(2026, 9, 1))
    assert not decision.granted and "expired" in decision.reason


def test_grant_recorded_after_the_day_does_not_count(demo):
    assert not demo.consent("P1002", "social_media", date(2025, 9, 2)).granted


def test_only_biometric_pupils_have_reference_photos(demo):
    assert demo.biometric_pupils(TERM) == ["P1002"]
    assert set(demo.references) <= {"P1002"}


def _write_register(folder: Path, pupils: bytes, consents: bytes) -> Path:
    folder.mkdir()
    (folder / "manifest.yaml").write_text(
        "schema_version: 1\nschool: Test\npurpose_map:\n  Website photographs: website\n",
        encoding="utf-8",
    )
    (folder / "pupils.csv").write_bytes(pupils)
    (folder / "consents.csv").write_bytes(consents)
    return folder


PUPIL_HEADER = (
    "pupil_id;legal_forename;legal_surname;preferred_forename;preferred_surname;"
    "year_group;on_roll;do_not_photograph\r\n"
)
CONSENT_HEADER = "pupil_id;purpose;status;given_by;recorded_at;expires_on;withdrawn_at\r\n"


def test_excel_export_cp1252_bom_semicolons_uk_dates(tmp_path):
    pupils = (PUPIL_HEADER + "P1;Chloé;Brontë;;;5;Yes;No\r\n\r\n").encode("cp1252")
    consents = "\ufeff".encode() + (
        CONSENT_HEADER + "P1;Website photographs;Granted;Parent;03/09/2025;31/08/2027;\r\n"
    ).encode("utf-8")
    register = load_register(_write_register(tmp_path / "reg", pupils, consents))
    assert register.pupils["P1"].legal_forename == "Chloé"
    assert register.consent("P1", "website", TERM).granted


@pytest.mark.parametrize(
    ("pupil_rows", "consent_rows", "file", "line", "problem"),
    [
        ("P1;A;B;;;5;yes;no\r\nP1;C;D;;;5;yes;no\r\n", "", "pupils.csv", 3, "duplicate pupil_id"),
        (
            "P1;A;B;;;5;yes;no\r\n",
            "P1;website;granted;parent;31/02/2025;;\r\n",
            "consents.csv",
            2,
            "bad date",
        ),
        (
            "P1;A;B;;;5;yes;no\r\n",
            "P1;Yearbook;granted;parent;01/02/2025;;\r\n",
            "consents.csv",
            2,
            "unknown purpose 'Yearbook'",
        ),
        ("P1;A;B;;;5;maybe;no\r\n", "", "pupils.csv", 2, "not yes/no"),
        (
            "P1;A;B;;;5;yes;no\r\n",
            "P2;website;granted;parent;01/02/2025;;\r\n",
            "consents.csv",
            2,
            "unknown pupil_id P2",
        ),
    ],
)
def test_problems_name_file_and_line(tmp_path, pupil_rows, consent_rows, file, line, problem):
    folder = _write_register(
        tmp_path / "reg",
        (PUPIL_HEADER + pupil_rows).encode(),
        (CONSENT_HEADER + consent_rows).encode(),
    )
    _, problems = validate_register(folder)
    assert [(p.path.name, p.line) for p in problems] == [(file, line)]
    assert problem in problems[0].reason
    with pytest.raises(InputError, match=f"{file}: invalid consent register: line {line}"):
        load_register(folder)


def test_reference_photos_without_biometric_consent_are_refused(tmp_path):
    folder = _write_register(
        tmp_path / "reg",
        (PUPIL_HEADER + "P1;A;B;;;5;yes;no\r\n").encode(),
        CONSENT_HEADER.encode(),
    )
    (folder / "reference" / "P1").mkdir(parents=True)
    (folder / "reference" / "P1" / "face.jpg").write_bytes(b"not read")
    register, problems = validate_register(folder)
    assert register is not None and register.references == {}
    assert "without biometric consent" in problems[0].reason


def test_missing_register_folder(tmp_path):
    with pytest.raises(InputError, match="consent register folder not found"):
        load_register(tmp_path / "nowhere")


def test_validate_register_leaves_photos_to_the_photo_checks(register_copy):
    """`check` runs validate_register every time, so it never decodes a reference photo."""
    photo = register_copy / "reference" / "P1002" / "maya-2025.jpg"
    photo.write_text("not a photo", encoding="utf-8")
    register, problems = validate_register(register_copy)
    assert register is not None and problems == []
    assert [str(p) for p in photo_problems(register, FaceSettings())] == [
        f"{photo}: unreadable reference photo: not an image file (looks like text)"
    ]
