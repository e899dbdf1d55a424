"""Enrol reference photos into the encodings store, and check them for `register validate`.

A reference photo is usable only if it decodes and shows exactly one face big enough to encode
(`match.encode_reference` says why a second face is refused). `validate_register` must stay
cheap because every `check` runs it, so the photo checks live here, and they skip photos the
store already holds under the current model version: those passed the same check when enrolled.

Enrolment reconciles the store with the register as it is today. Removing is always safe, so
entries of pupils whose biometric consent is gone, and of photos that changed or went, are
dropped on every run. Adding is not: a consent row the loader had to skip (a bad date, an unknown
status) could be the withdrawal, so nothing is added from a register with problems.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from postguard.config import FaceSettings
from postguard.consent.register import Problem, Register
from postguard.consent.store import (
    ReferencePhoto,
    Stale,
    StoredEncoding,
    StoreError,
    compare,
    load_store,
    model_version,
    reference_photos,
    save_store,
    store_path,
)
from postguard.images.decode import ImageDecodeError, decode_image
from postguard.images.faces import FaceDetectionError


@dataclass
class EnrolResult:
    """What one `register enrol` run did to the store."""

    store: Path
    added: list[StoredEncoding]
    kept: list[StoredEncoding]
    removed: list[Stale]
    failed: list[Problem]
    waiting: list[ReferencePhoto]  # not encoded because the register has problems
    rebuilt: str | None = None  # why the old store was unreadable, when it was

    @property
    def entries(self) -> list[StoredEncoding]:
        return self.kept + self.added


def encode_photo(path: Path, settings: FaceSettings) -> tuple[np.ndarray | None, str]:
    """The encoding of a reference photo file, or None and the reason it cannot be enrolled."""
    from postguard.consent.match import encode_reference

    try:
        return encode_reference(decode_image(path).pixels, settings)
    except ImageDecodeError as exc:
        return None, f"unreadable reference photo: {exc}"
    except FaceDetectionError as exc:
        return None, str(exc)


def photo_problems(register: Register, settings: FaceSettings) -> list[Problem]:
    """Each reference photo that could not be enrolled: unreadable, no face, several, too small.

    Photos already enrolled under the current model version are not decoded again. An unreadable
    store is a problem too (then every photo is checked).
    """
    problems: list[Problem] = []
    photos = reference_photos(register)
    try:
        entries = load_store(register.directory)
    except StoreError as exc:
        problems.append(Problem(store_path(register.directory), None, exc.problem))
        entries = []
    state = compare(register, photos, entries, model_version(settings))
    for photo in state.missing:
        encoding, reason = encode_photo(photo.path, settings)
        if encoding is None:
            problems.append(Problem(photo.path, None, reason))
    return problems


def enrol(register: Register, settings: FaceSettings, *, add: bool) -> EnrolResult:
    """Bring the store in line with the register today; encode new photos only when `add`.

    Only photos without a usable entry are encoded (incremental). The store is rewritten on
    every run, so that it never outlives a withdrawal.
    """
    model = model_version(settings)
    rebuilt = None
    try:
        entries = load_store(register.directory)
    except StoreError as exc:
        rebuilt, entries = exc.detail, []
    state = compare(register, reference_photos(register), entries, model)
    added: list[StoredEncoding] = []
    failed: list[Problem] = []
    for photo in state.missing if add else []:
        encoding, reason = encode_photo(photo.path, settings)
        if encoding is None:
            failed.append(Problem(photo.path, None, reason))
            continue
        added.append(StoredEncoding(photo.pupil_id, photo.photo, photo.sha256, model, encoding))
    result = EnrolResult(
        store=store_path(register.directory),
        added=added,
        kept=state.usable,
        removed=state.stale,
        failed=failed,
        waiting=[] if add else state.missing,
        rebuilt=rebuilt,
    )
    save_store(register.directory, result.entries)
    return result
