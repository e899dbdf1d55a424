"""A draft post as postguard sees it: body text, attached images with alt texts, channel, date.

A draft is a folder holding `post.md` or `post.txt` plus its photos, or a text file given with
`--image` options. Anything that makes the draft ambiguous (an image named but missing, a malformed
front matter, an unknown key) is an input error: postguard must know exactly what will be
published before it can say it is safe.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from postguard.config import CHANNELS
from postguard.errors import InputError

TEXT_NAMES: tuple[str, ...] = ("post.md", "post.txt")
IMAGE_SUFFIXES: frozenset[str] = frozenset(
    {".jpg", ".jpeg", ".png", ".webp", ".heic", ".heif", ".avif", ".gif", ".tif", ".tiff", ".bmp"}
)
# Video is attached so that it is refused loudly rather than skipped silently.
VIDEO_SUFFIXES: frozenset[str] = frozenset({".mp4", ".mov", ".m4v", ".avi", ".mkv", ".webm"})
MEDIA_SUFFIXES = IMAGE_SUFFIXES | VIDEO_SUFFIXES
FRONT_MATTER = re.compile(r"\A(?:\ufeff)?---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.S)
FRONT_MATTER_KEYS = frozenset({"channel", "date", "images", "title"})
MAX_TEXT_BYTES = 2_000_000


@dataclass(frozen=True)
class ImageRef:
    """One attached image: where it is, how the post refers to it, and its alt text."""

    path: Path
    name: str
    alt: str | None = None


@dataclass
class Draft:
    """What will be published. `body` is the text after any front matter; spans index into it."""

    source: Path
    text_path: Path | None
    body: str
    body_offset: int = 0
    body_line: int = 1
    channel: str | None = None
    date: dt.date | None = None
    images: list[ImageRef] = field(default_factory=list)
    unchecked: list[Path] = field(default_factory=list)


def read_text_file(path: Path) -> str:
    """Read post text the way staff save it: UTF-8 (with or without BOM), else Windows-1252."""
    try:
        size = path.stat().st_size
        if size > MAX_TEXT_BYTES:
            raise InputError(path, f"post text is {size // 1_000_000} MB; the limit is 2 MB")
        raw = path.read_bytes()
    except PermissionError:
        raise InputError(path, "permission denied") from None
    except OSError as exc:
        raise InputError(
            path, f"cannot read file ({exc.strerror or exc.__class__.__name__})"
        ) from None
    if b"\x00" in raw[:4096]:
        raise InputError(path, "not a text file (binary data)")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")
    return text.replace("\r\n", "\n")


def _parse_front_matter(path: Path, text: str) -> tuple[dict[str, Any], str, int]:
    match = FRONT_MATTER.match(text)
    if not match:
        if text.lstrip("\ufeff").startswith("---\n"):
            raise InputError(path, "front matter starts with '---' but has no closing '---' line")
        return {}, text, 0
    try:
        data = yaml.safe_load(match.group(1)) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" at line {mark.line + 2}" if mark is not None else ""
        raise InputError(path, f"malformed front matter{line}") from None
    if not isinstance(data, dict):
        raise InputError(path, "front matter must be a mapping of keys to values")
    unknown = sorted(set(map(str, data)) - FRONT_MATTER_KEYS)
    if unknown:
        raise InputError(path, f"unknown front matter key '{unknown[0]}'")
    return data, text[match.end() :], match.end()


def _channel(path: Path, value: Any) -> str | None:
    if value is None:
        return None
    if value not in CHANNELS:
        raise InputError(path, f"channel '{value}' is not one of {', '.join(CHANNELS)}")
    return str(value)


def _date(path: Path, value: Any) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise InputError(path, f"date '{value}' is not YYYY-MM-DD") from None


def _listed_images(path: Path, folder: Path, entries: Any) -> list[ImageRef]:
    if not isinstance(entries, list):
        raise InputError(path, "front matter 'images' must be a list of {file, alt}")
    refs: list[ImageRef] = []
    for entry in entries:
        item = {"file": entry} if isinstance(entry, str) else entry
        if not isinstance(item, dict) or not isinstance(item.get("file"), str):
            raise InputError(path, f"front matter image entry {entry!r} needs a 'file'")
        extra = set(item) - {"file", "alt"}
        if extra:
            raise InputError(path, f"unknown image key '{sorted(extra)[0]}' for {item['file']}")
        image = (folder / item["file"]).resolve()
        if folder.resolve() not in image.parents:
            raise InputError(path, f"image '{item['file']}' is outside the draft folder")
        alt = item.get("alt")
        refs.append(
            ImageRef(folder / item["file"], item["file"], None if alt is None else str(alt))
        )
    return refs


def _require_files(images: list[ImageRef]) -> None:
    for ref in images:
        if ref.path.is_symlink() and not ref.path.exists():
            raise InputError(ref.path, "broken or looping symbolic link")
        if not ref.path.exists():
            raise InputError(ref.path, "image named in the draft is missing")
        if not ref.path.is_file():
            raise InputError(ref.path, "image is not a regular file")


def _folder_media(folder: Path, text_path: Path) -> tuple[list[Path], list[Path]]:
    """Media files in a draft folder (name order) and other files that will not be checked."""
    media, other = [], []
    for entry in sorted(folder.iterdir(), key=lambda p: p.name):
        if entry.name.startswith(".") or entry == text_path or entry.is_dir():
            continue
        (media if entry.suffix.lower() in MEDIA_SUFFIXES else other).append(entry)
    return media, other


def load_draft(path: Path, extra_images: list[Path] | None = None) -> Draft:
    """Load a draft folder, or a text file plus `--image` files."""
    extra_images = extra_images or []
    if path.is_dir():
        if not os.access(path, os.R_OK | os.X_OK):
            raise InputError(path, "permission denied: the folder cannot be listed or entered")
        candidates = [path / name for name in TEXT_NAMES if (path / name).is_file()]
        if not candidates:
            raise InputError(path, "not a draft: folder has no post.md or post.txt")
        text_path = candidates[0]
        folder = path
    elif path.is_file():
        text_path, folder = path, path.parent
    elif path.exists():
        raise InputError(path, "not a draft: neither a folder nor a text file")
    else:
        raise InputError(path, "no such file or folder")

    text = read_text_file(text_path)
    front, body, offset = _parse_front_matter(text_path, text)
    draft = Draft(
        source=path,
        text_path=text_path,
        body=body,
        body_offset=offset,
        body_line=text.count("\n", 0, offset) + 1,
        channel=_channel(text_path, front.get("channel")),
        date=_date(text_path, front.get("date")),
    )
    if "images" in front:
        draft.images = _listed_images(text_path, folder, front["images"])
        listed = {ref.path.resolve() for ref in draft.images}
        if path.is_dir():
            media, other = _folder_media(folder, text_path)
            draft.unchecked = [p for p in media if p.resolve() not in listed] + other
    elif path.is_dir():
        media, other = _folder_media(folder, text_path)
        draft.images = [ImageRef(p, p.name) for p in media]
        draft.unchecked = other
    draft.images += [ImageRef(p, p.name) for p in extra_images]
    _require_files(draft.images)
    return draft
