"""The encodings store: face encodings of the register's reference photos, kept between runs.

Encoding a reference photo means decoding it, finding its one face and running dlib's network
(0.12 s for a 300 px photo on the 2-core CPU here, after 1.3 s of loading models: a minute per
500 pupils), so `postguard register enrol` does it once and `check` only reads the result.
An encoding is valid for one photo's exact bytes (its sha256) under one *model version*: the
pinned sha256 of the model files that shape it (the CenterFace detector draws the box the
landmarks start from, then the 5-point landmarks and the encoder) plus the settings that change
which face is found and whether it may be encoded. Anything else is stale.

Face encodings are biometric data (DESIGN.md §2): the store only ever holds pupils whose
biometric consent is in place on the day it is written, its folder is 0700 and its file 0600,
and an encoding is never part of a repr, a message or a log.

The format is JSON rather than NumPy's .npz: the store is small (about 3 kB per photo), JSON
round-trips float64 exactly, parsing it can never run code (no pickle to forget to disable), and a
data-protection officer answering a subject-access or erasure request can see with `jq` whose
data is held and from which photo, without Python.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from postguard.atomic import atomic_output
from postguard.config import FaceSettings
from postguard.consent.match import ALIGNMENT, ENCODING_SIZE, LANDMARKS_MODEL, NUM_JITTERS
from postguard.consent.register import Register
from postguard.errors import InputError
from postguard.modelfiles import manifest

STORE_DIR = ".encodings"
STORE_FILE = "store.json"
STORE_FORMAT = "postguard-encodings"
STORE_VERSION = 1
# Model files whose output an encoding depends on, named as in models/manifest.yaml.
_MODEL_FILES = ("centerface", "face_encoder", "landmarks_5")
# FaceSettings that change which face a reference photo yields, or whether it may be encoded.
# The matching thresholds are absent on purpose: tightening them must not invalidate the store.
_ENCODING_SETTINGS = ("detect_max_side", "centerface_threshold", "hog_upsample", "min_face_px")

NO_CONSENT = "no biometric consent today"
PHOTO_CHANGED = "reference photo changed"
PHOTO_REMOVED = "reference photo removed"
MODEL_CHANGED = "face model or settings changed"


class StoreError(InputError):
    """The store cannot be read; it is derived data, so `register enrol` rebuilds it."""

    def __init__(self, path: Path, detail: str) -> None:
        self.detail = detail
        super().__init__(
            path,
            f"encodings store unreadable ({detail}): run `postguard register enrol` to rebuild it",
        )


@dataclass(frozen=True)
class ReferencePhoto:
    """A reference photo of a pupil with biometric consent today, as it is on disk now."""

    pupil_id: str
    path: Path
    photo: str  # path inside the register folder, as the store records it
    sha256: str


@dataclass(frozen=True, eq=False)
class StoredEncoding:
    """One photo's encoding. `encoding` is kept out of repr so it can never reach a log."""

    pupil_id: str
    photo: str
    sha256: str
    model: str
    encoding: np.ndarray = field(repr=False)

    def to_json(self) -> dict[str, Any]:
        return {
            "pupil_id": self.pupil_id,
            "photo": self.photo,
            "sha256": self.sha256,
            "model": self.model,
            "encoding": [float(x) for x in self.encoding],
        }


@dataclass(frozen=True)
class Stale:
    """A stored encoding that must not be used, and why."""

    entry: StoredEncoding
    reason: str


@dataclass
class StoreState:
    """The store compared with the register today: what `check` may use, and what is off."""

    usable: list[StoredEncoding]
    missing: list[ReferencePhoto]
    stale: list[Stale]

    @property
    def enrolled_pupils(self) -> list[str]:
        return sorted({e.pupil_id for e in self.usable})

    @property
    def single_photo_pupils(self) -> list[str]:
        """Enrolled pupils with one usable encoding. One photo is a thin reference: on the
        shared photos one reference recognised 88 % of a person's later photos, two 96 %
        (docs/benchmarks.md), and every miss is a consented child redacted for nothing."""
        counts = Counter(e.pupil_id for e in self.usable)
        return sorted(pupil for pupil, count in counts.items() if count == 1)

    @property
    def unenrolled_pupils(self) -> list[str]:
        """Pupils with reference photos but no usable encoding at all: nobody can match them."""
        enrolled = set(self.enrolled_pupils)
        return sorted({p.pupil_id for p in self.missing} - enrolled)


def store_path(directory: Path) -> Path:
    return directory / STORE_DIR / STORE_FILE


def model_version(settings: FaceSettings) -> str:
    """The version an encoding is valid for: model files' pinned sha256 plus encoding settings.

    The pinned hashes are the ones `modelfiles.model_path` holds the installed files to, so a
    file that differs never gets to encode anything.
    """
    models = manifest()
    parts = {
        "models": {name: models[name].sha256 for name in _MODEL_FILES},
        "landmarks": LANDMARKS_MODEL,
        "jitters": NUM_JITTERS,
        "alignment": ALIGNMENT,
        "settings": {name: getattr(settings, name) for name in _ENCODING_SETTINGS},
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode("utf-8")).hexdigest()


def reference_photos(register: Register) -> list[ReferencePhoto]:
    """The register's current reference photos (biometric consent today), with their sha256."""
    photos = []
    for pupil_id, paths in sorted(register.references.items()):
        for path in paths:
            try:
                with path.open("rb") as handle:
                    digest = hashlib.file_digest(handle, "sha256").hexdigest()
            except OSError as exc:
                raise InputError(path, f"cannot read reference photo ({exc.strerror})") from None
            relative = path.relative_to(register.directory).as_posix()
            photos.append(ReferencePhoto(pupil_id, path, relative, digest))
    return photos


def load_store(directory: Path) -> list[StoredEncoding]:
    """Every entry of the register's store; none when there is no store yet."""
    path = store_path(directory)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise StoreError(path, exc.__class__.__name__) from None
    if not (
        isinstance(document, dict)
        and document.get("format") == STORE_FORMAT
        and document.get("version") == STORE_VERSION
        and isinstance(document.get("entries"), list)
    ):
        raise StoreError(path, f"not a version {STORE_VERSION} {STORE_FORMAT} file")
    try:
        return [_entry(item) for item in document["entries"]]
    except KeyError as exc:
        raise StoreError(path, f"entry without {exc}") from None
    except (TypeError, ValueError) as exc:
        raise StoreError(path, str(exc)) from None


def _entry(item: dict[str, Any]) -> StoredEncoding:
    texts = [item[key] for key in ("pupil_id", "photo", "sha256", "model")]
    if not all(isinstance(text, str) and text for text in texts):
        raise ValueError("entry with an empty or non-text field")
    encoding = np.asarray(item["encoding"], dtype=np.float64)
    if encoding.shape != (ENCODING_SIZE,) or not np.isfinite(encoding).all():
        raise ValueError(f"entry whose encoding is not {ENCODING_SIZE} finite numbers")
    encoding.setflags(write=False)
    return StoredEncoding(*texts, encoding=encoding)


def save_store(directory: Path, entries: list[StoredEncoding]) -> Path:
    """Replace the store with `entries`, atomically, readable by the owner only."""
    path = store_path(directory)
    folder = path.parent
    try:
        folder.mkdir(mode=0o700, exist_ok=True)
        folder.chmod(0o700)  # mkdir's mode is cut by the umask; an older folder may be wider
        document = {
            "format": STORE_FORMAT,
            "version": STORE_VERSION,
            "entries": [e.to_json() for e in sorted(entries, key=lambda e: (e.pupil_id, e.photo))],
        }
        with atomic_output(path, mode=0o600) as temp:
            temp.write_text(json.dumps(document), encoding="utf-8")
    except OSError as exc:
        raise InputError(path, f"cannot write encodings store ({exc.strerror})") from None
    return path


def compare(
    register: Register, photos: list[ReferencePhoto], entries: list[StoredEncoding], model: str
) -> StoreState:
    """Sort stored entries into usable and stale, and find photos that have no usable entry.

    An entry is usable only for a pupil with biometric consent today, for a reference photo
    with the same bytes in that pupil's folder, under the current model version.
    """
    consented = set(register.biometric_pupils())
    current = {(p.pupil_id, p.sha256) for p in photos}
    present = {p.photo for p in photos}
    usable: list[StoredEncoding] = []
    stale: list[Stale] = []
    for entry in entries:
        if entry.pupil_id not in consented:
            stale.append(Stale(entry, NO_CONSENT))
        elif (entry.pupil_id, entry.sha256) not in current:
            reason = PHOTO_CHANGED if entry.photo in present else PHOTO_REMOVED
            stale.append(Stale(entry, reason))
        elif entry.model != model:
            stale.append(Stale(entry, MODEL_CHANGED))
        else:
            usable.append(entry)
    have = {(e.pupil_id, e.sha256) for e in usable}
    missing = [p for p in photos if (p.pupil_id, p.sha256) not in have]
    return StoreState(usable, missing, stale)


def read_state(register: Register, settings: FaceSettings) -> StoreState:
    """The register's store compared with its reference photos today (for check and status)."""
    return compare(
        register,
        reference_photos(register),
        load_store(register.directory),
        model_version(settings),
    )
