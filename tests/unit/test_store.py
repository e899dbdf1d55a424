"""The encodings store: exact round trip, owner-only files, and what makes an entry stale.

Encodings are computed from the demo register's reference photo (made at set-up from the
public-domain `astronaut` photo in scikit-image), in a private copy of the register.
"""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from faceimages import photo
from postguard.config import FaceSettings
from postguard.consent.enrol import encode_photo, enrol
from postguard.consent.register import load_register, validate_register
from postguard.consent.store import (
    MODEL_CHANGED,
    NO_CONSENT,
    PHOTO_CHANGED,
    PHOTO_REMOVED,
    StoreError,
    load_store,
    model_version,
    read_state,
    save_store,
    store_path,
)

SETTINGS = FaceSettings()


@pytest.fixture
def enrolled(register_copy: Path) -> Path:
    """The demo register copy with P1002's reference photo enrolled, and nothing else."""
    result = enrol(load_register(register_copy), SETTINGS, add=True)
    assert [e.pupil_id for e in result.added] == ["P1002"] and not result.failed
    return register_copy


def _reasons(register: Path, settings: FaceSettings = SETTINGS) -> list[tuple[str, str]]:
    loaded, _ = validate_register(register)
    assert loaded is not None
    return [(s.entry.pupil_id, s.reason) for s in read_state(loaded, settings).stale]


def test_round_trip_is_exact(enrolled):
    (entry,) = load_store(enrolled)
    assert (entry.pupil_id, entry.photo) == ("P1002", "reference/P1002/maya-2025.jpg")
    assert entry.model == model_version(SETTINGS)
    fresh, _ = encode_photo(enrolled / entry.photo, SETTINGS)
    assert fresh is not None and np.array_equal(entry.encoding, fresh)


def test_store_is_readable_by_its_owner_only(enrolled):
    folder = store_path(enrolled).parent
    folder.chmod(0o755)
    store_path(enrolled).chmod(0o644)
    old_umask = os.umask(0)
    try:
        save_store(enrolled, load_store(enrolled))
    finally:
        os.umask(old_umask)
    assert os.stat(folder).st_mode & 0o777 == 0o700
    assert os.stat(store_path(enrolled)).st_mode & 0o777 == 0o600
    assert sorted(p.name for p in folder.iterdir()) == ["store.json"], "no temporary file left"


def test_an_encoding_never_shows_in_a_repr(enrolled):
    (entry,) = load_store(enrolled)
    assert "encoding" not in repr(entry) and "encoding" not in str(entry)


def test_model_version_follows_encoding_settings_not_thresholds():
    assert model_version(FaceSettings(min_face_px=100)) != model_version(SETTINGS)
    assert model_version(FaceSettings(detect_max_side=1200)) != model_version(SETTINGS)
    assert model_version(FaceSettings(match_distance=0.4, match_margin=0.2)) == model_version(
        SETTINGS
    )


def test_settings_change_makes_entries_stale(enrolled):
    settings = replace(SETTINGS, detect_max_side=1200)
    assert _reasons(enrolled, settings) == [("P1002", MODEL_CHANGED)]
    state = read_state(load_register(enrolled), settings)
    assert [p.pupil_id for p in state.missing] == ["P1002"] and state.usable == []


def test_changed_and_removed_photos_make_entries_stale(enrolled):
    folder = enrolled / "reference" / "P1002"
    Image.fromarray(np.ascontiguousarray(photo("astronaut")[20:330, 90:400])).save(
        folder / "second.jpg", quality=92
    )
    assert [e.pupil_id for e in enrol(load_register(enrolled), SETTINGS, add=True).added] == [
        "P1002"
    ]
    (folder / "second.jpg").unlink()
    (folder / "maya-2025.jpg").write_bytes((folder / "maya-2025.jpg").read_bytes() + b"\0")
    assert sorted(_reasons(enrolled)) == [("P1002", PHOTO_CHANGED), ("P1002", PHOTO_REMOVED)]


def test_renamed_photo_keeps_its_encoding(enrolled):
    folder = enrolled / "reference" / "P1002"
    (folder / "maya-2025.jpg").rename(folder / "maya.jpg")
    state = read_state(load_register(enrolled), SETTINGS)
    assert [e.pupil_id for e in state.usable] == ["P1002"] and not state.missing


def test_withdrawn_consent_makes_entries_stale(enrolled):
    with (enrolled / "consents.csv").open("a", encoding="utf-8") as handle:
        handle.write("P1002,Face matching for photo consent,withdrawn,parent,2026-10-01,,\n")
    assert _reasons(enrolled) == [("P1002", NO_CONSENT)]


@pytest.mark.parametrize(
    ("content", "detail"),
    [
        ("{", "JSONDecodeError"),
        ('{"format": "postguard-encodings", "version": 2, "entries": []}', "not a version 1"),
        ("[]", "not a version 1"),
        ('{"format": "postguard-encodings", "version": 1, "entries": [{}]}', "without 'pupil_id'"),
    ],
)
def test_unreadable_store_is_an_input_error_that_enrol_repairs(enrolled, content, detail):
    store_path(enrolled).write_text(content, encoding="utf-8")
    with pytest.raises(StoreError, match="run `postguard register enrol` to rebuild it") as error:
        load_store(enrolled)
    assert detail in str(error.value)
    result = enrol(load_register(enrolled), SETTINGS, add=True)
    assert result.rebuilt and [e.pupil_id for e in result.added] == ["P1002"]
    assert [e.pupil_id for e in load_store(enrolled)] == ["P1002"]


def test_entry_with_a_wrong_encoding_is_refused(enrolled):
    document = json.loads(store_path(enrolled).read_text(encoding="utf-8"))
    document["entries"][0]["encoding"] = document["entries"][0]["encoding"][:64]
    store_path(enrolled).write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(StoreError, match="not 128 finite numbers"):
        load_store(enrolled)
