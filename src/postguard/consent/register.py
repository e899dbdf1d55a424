"""Load the photo-consent register exported from the school MIS, and resolve consent.

The register is one row per consent *event* (DESIGN.md §5), as SIMS / Arbor / Bromcom record
them, so the current state of a pupil's consent has to be worked out: the latest event per person
wins, and any refusal or withdrawal beats a grant from somebody else. Exports come out of Excel, so
the loader accepts UTF-8 with or without BOM, cp1252, comma or semicolon separators, blank lines and
DD/MM/YYYY dates; anything it cannot read is a problem with its file and line number, never a guess.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import yaml

from postguard.errors import InputError

PURPOSES: tuple[str, ...] = (
    "social_media",
    "website",
    "press",
    "print",
    "video",
    "name_first_only",
    "name_full",
    "biometric_matching",
)
PUBLICATION_PURPOSES: frozenset[str] = frozenset(
    {"social_media", "website", "press", "print", "video"}
)
STATUSES: tuple[str, ...] = ("granted", "refused", "withdrawn")
GIVERS: tuple[str, ...] = ("parent", "pupil", "carer")
PUPIL_COLUMNS: tuple[str, ...] = (
    "pupil_id",
    "legal_forename",
    "legal_surname",
    "preferred_forename",
    "preferred_surname",
    "year_group",
    "on_roll",
    "do_not_photograph",
)
CONSENT_COLUMNS: tuple[str, ...] = (
    "pupil_id",
    "purpose",
    "status",
    "given_by",
    "recorded_at",
    "expires_on",
    "withdrawn_at",
)
PHOTO_SUFFIXES: frozenset[str] = frozenset({".jpg", ".jpeg", ".png", ".webp", ".heic", ".heif"})
TRUE_WORDS = frozenset({"true", "yes", "y", "1"})
FALSE_WORDS = frozenset({"false", "no", "n", "0", ""})


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the register, located as precisely as the file allows."""

    path: Path
    line: int | None
    reason: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else str(self.path)
        return f"{where}: {self.reason}"


@dataclass(frozen=True)
class Pupil:
    pupil_id: str
    legal_forename: str
    legal_surname: str
    preferred_forename: str
    preferred_surname: str
    year_group: str
    on_roll: bool
    do_not_photograph: bool

    @property
    def forenames(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(n for n in (self.preferred_forename, self.legal_forename) if n))

    @property
    def surnames(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(n for n in (self.preferred_surname, self.legal_surname) if n))

    @property
    def display_forename(self) -> str:
        """The name the school uses day to day: what a first-name-only caption should say."""
        return self.preferred_forename or self.legal_forename


@dataclass(frozen=True)
class ConsentEvent:
    pupil_id: str
    purpose: str
    status: str
    given_by: str
    recorded_at: date
    expires_on: date | None
    withdrawn_at: date | None
    line: int


@dataclass(frozen=True)
class ConsentDecision:
    granted: bool
    reason: str


@dataclass
class Register:
    """A loaded, validated register. Only `consent()` decides whether a pupil may be published."""

    directory: Path
    school: str
    pupils: dict[str, Pupil]
    events: dict[tuple[str, str], list[ConsentEvent]]
    references: dict[str, list[Path]] = field(default_factory=dict)

    def consent(self, pupil_id: str, purpose: str, on: date | None = None) -> ConsentDecision:
        """Resolve consent for one pupil and one purpose on a given day (DESIGN.md §5)."""
        on = on or date.today()
        pupil = self.pupils.get(pupil_id)
        if pupil is None:
            return ConsentDecision(False, f"{pupil_id} is not in the register")
        if not pupil.on_roll:
            return ConsentDecision(False, f"{pupil_id} is no longer on roll")
        if pupil.do_not_photograph and purpose in PUBLICATION_PURPOSES:
            # Not for biometric_matching: recognising such a pupil is how postguard blocks
            # a photo of them that would otherwise only be blurred.
            return ConsentDecision(False, f"{pupil_id} is marked do-not-photograph")
        latest_by_giver: dict[str, ConsentEvent] = {}
        for event in self.events.get((pupil_id, purpose), []):
            if event.recorded_at > on:
                continue
            current = latest_by_giver.get(event.given_by)
            if current is None or (event.recorded_at, event.line) >= (
                current.recorded_at,
                current.line,
            ):
                latest_by_giver[event.given_by] = event
        if not latest_by_giver:
            return ConsentDecision(False, f"{pupil_id} has no {purpose} consent on record")
        for event in sorted(latest_by_giver.values(), key=lambda e: e.given_by != "pupil"):
            if event.status != "granted" or (event.withdrawn_at and event.withdrawn_at <= on):
                when = event.withdrawn_at or event.recorded_at
                verb = "refused" if event.status == "refused" else "withdrawn"
                return ConsentDecision(
                    False, f"{pupil_id}: {purpose} consent {verb} by {event.given_by} on {when}"
                )
        live = [e for e in latest_by_giver.values() if not e.expires_on or e.expires_on >= on]
        if not live:
            return ConsentDecision(False, f"{pupil_id}: {purpose} consent expired")
        granted = max(live, key=lambda e: e.recorded_at)
        return ConsentDecision(
            True,
            f"{pupil_id}: {purpose} consent granted by {granted.given_by} on {granted.recorded_at}",
        )

    def biometric_pupils(self, on: date | None = None) -> list[str]:
        """Pupils whose faces may be enrolled for matching: biometric consent granted now."""
        return [p for p in self.pupils if self.consent(p, "biometric_matching", on).granted]


def _read_table(path: Path, columns: tuple[str, ...], problems: list[Problem]) -> list[dict]:
    """Read an MIS CSV export into dicts with their line numbers; problems are collected."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        problems.append(Problem(path, None, "file missing"))
        return []
    except OSError as exc:
        problems.append(Problem(path, None, f"cannot read file ({exc.strerror})"))
        return []
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[dict] = []
    header: list[str] | None = None
    for cells in reader:
        line = reader.line_num
        if not any(c.strip() for c in cells):
            continue
        if header is None:
            header = [c.strip().lower() for c in cells]
            missing = [c for c in columns if c not in header]
            if missing:
                problems.append(Problem(path, line, f"missing column(s): {', '.join(missing)}"))
                return []
            continue
        if len(cells) != len(header):
            problems.append(
                Problem(path, line, f"expected {len(header)} fields, found {len(cells)}")
            )
            continue
        row = {name: value.strip() for name, value in zip(header, cells, strict=True)}
        row["_line"] = line
        rows.append(row)
    if header is None:
        problems.append(Problem(path, None, "file is empty"))
    return rows


def parse_date(value: str) -> date:
    """ISO (2025-09-01) or UK (01/09/2025) dates, as MIS exports and Excel write them."""
    for fmt in ("%Y-%m-%d", "%d/%m/%Y", "%d/%m/%y", "%d-%m-%Y", "%d.%m.%Y"):
        try:
            return datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    raise ValueError(f"bad date '{value}' (use YYYY-MM-DD or DD/MM/YYYY)")


def _parse_bool(value: str) -> bool:
    word = value.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValueError(f"'{value}' is not yes/no")


def _load_manifest(directory: Path, problems: list[Problem]) -> tuple[str, dict[str, str]]:
    path = directory / "manifest.yaml"
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        problems.append(Problem(path, None, "file missing"))
        return "", {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        problems.append(Problem(path, None, f"cannot read manifest ({exc.__class__.__name__})"))
        return "", {}
    if not isinstance(data, dict):
        problems.append(Problem(path, None, "manifest must be a mapping"))
        return "", {}
    purpose_map = data.get("purpose_map") or {}
    if not isinstance(purpose_map, dict):
        problems.append(Problem(path, None, "purpose_map must map MIS consent names to purposes"))
        return str(data.get("school", "")), {}
    for name, purpose in purpose_map.items():
        if purpose not in PURPOSES:
            problems.append(
                Problem(path, None, f"purpose_map '{name}': unknown purpose '{purpose}'")
            )
    if data.get("schema_version") != 1:
        problems.append(Problem(path, None, "schema_version must be 1"))
    return str(data.get("school", "")), {str(k).strip().lower(): v for k, v in purpose_map.items()}


def _load_pupils(path: Path, problems: list[Problem]) -> dict[str, Pupil]:
    pupils: dict[str, Pupil] = {}
    for row in _read_table(path, PUPIL_COLUMNS, problems):
        line = row["_line"]
        pupil_id = row["pupil_id"]
        if not pupil_id:
            problems.append(Problem(path, line, "empty pupil_id"))
            continue
        if pupil_id in pupils:
            problems.append(Problem(path, line, f"duplicate pupil_id {pupil_id}"))
            continue
        if not row["legal_forename"] or not row["legal_surname"]:
            problems.append(Problem(path, line, f"{pupil_id}: legal forename and surname required"))
            continue
        try:
            on_roll = _parse_bool(row["on_roll"] or "yes")
            do_not_photograph = _parse_bool(row["do_not_photograph"])
        except ValueError as exc:
            problems.append(Problem(path, line, f"{pupil_id}: {exc}"))
            continue
        pupils[pupil_id] = Pupil(
            pupil_id,
            row["legal_forename"],
            row["legal_surname"],
            row["preferred_forename"],
            row["preferred_surname"],
            row["year_group"],
            on_roll,
            do_not_photograph,
        )
    return pupils


def _load_events(
    path: Path, pupils: dict[str, Pupil], purpose_map: dict[str, str], problems: list[Problem]
) -> dict[tuple[str, str], list[ConsentEvent]]:
    events: dict[tuple[str, str], list[ConsentEvent]] = defaultdict(list)
    for row in _read_table(path, CONSENT_COLUMNS, problems):
        line = row["_line"]
        pupil_id = row["pupil_id"]
        purpose = purpose_map.get(row["purpose"].lower(), row["purpose"])
        status = row["status"].lower()
        given_by = row["given_by"].lower()
        if pupil_id not in pupils:
            problems.append(Problem(path, line, f"unknown pupil_id {pupil_id or '(empty)'}"))
            continue
        if purpose not in PURPOSES:
            problems.append(Problem(path, line, f"unknown purpose '{row['purpose']}'"))
            continue
        if status not in STATUSES:
            problems.append(Problem(path, line, f"unknown status '{row['status']}'"))
            continue
        if given_by not in GIVERS:
            problems.append(Problem(path, line, f"unknown given_by '{row['given_by']}'"))
            continue
        try:
            recorded = parse_date(row["recorded_at"])
            expires = parse_date(row["expires_on"]) if row["expires_on"] else None
            withdrawn = parse_date(row["withdrawn_at"]) if row["withdrawn_at"] else None
        except ValueError as exc:
            problems.append(Problem(path, line, str(exc)))
            continue
        events[(pupil_id, purpose)].append(
            ConsentEvent(pupil_id, purpose, status, given_by, recorded, expires, withdrawn, line)
        )
    return dict(events)


def _find_references(directory: Path, register: Register, problems: list[Problem]) -> None:
    """Reference photos, kept only for pupils whose biometric consent is in place now."""
    root = directory / "reference"
    if not root.is_dir():
        return
    allowed = set(register.biometric_pupils())
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        photos = sorted(p for p in folder.iterdir() if p.suffix.lower() in PHOTO_SUFFIXES)
        if folder.name not in register.pupils:
            problems.append(Problem(folder, None, "reference photos for an unknown pupil_id"))
        elif folder.name not in allowed:
            problems.append(
                Problem(folder, None, "reference photos for a pupil without biometric consent")
            )
        elif photos:
            register.references[folder.name] = photos


def validate_register(directory: Path) -> tuple[Register | None, list[Problem]]:
    """Load the register and list every problem found (for `register validate` and `check`)."""
    problems: list[Problem] = []
    if not directory.is_dir():
        return None, [Problem(directory, None, "consent register folder not found")]
    school, purpose_map = _load_manifest(directory, problems)
    pupils = _load_pupils(directory / "pupils.csv", problems)
    events = _load_events(directory / "consents.csv", pupils, purpose_map, problems)
    register = Register(directory, school, pupils, events)
    _find_references(directory, register, problems)
    return register, problems


def load_register(directory: Path) -> Register:
    """Load a register that must be fully valid: any problem stops the check (fail closed)."""
    register, problems = validate_register(directory)
    if register is None or problems:
        first = problems[0]
        where = f"line {first.line}: " if first.line else ""
        more = (
            f" (+{len(problems) - 1} more: run `postguard register validate`)"
            if len(problems) > 1
            else ""
        )
        raise InputError(first.path, f"invalid consent register: {where}{first.reason}{more}")
    return register
