"""The bad-input corpus: what schools' phones, scanners, Excel and platforms really produce.

Every case is built with real encoders (Pillow, pillow-heif) and real truncation, in a fresh
draft folder, and run through `postguard check DRAFT --out OUT`. Each case states the exit code
and the words the one-line error or blocking finding must contain. The same list generates the
table "What postguard does with bad input" in the README (`bench/bad_input_table.py`).

An "unreadable" case (mode 000) runs the installed `postguard` command in a child process: root
ignores permission bits, so as root the child runs under `setpriv` without the DAC capabilities
(still uid 0, so a virtual environment under /root still runs) and the bits count again.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import stat
import struct
import sys
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pillow_heif
from PIL import Image
from skimage import data


@dataclass(frozen=True)
class Case:
    name: str
    what: str  # as the README table describes the input
    build: Callable[[Path], Path]  # makes the draft (or text file) under the given folder
    code: int
    message: str  # words the error line (exit 2) or a blocking finding (exit 1) contains
    register: Callable[[Path], Path] | None = None  # builds a register folder if needed
    unreadable: str | None = None  # its mode set after the build: a path in the draft, "." itself
    unreadable_mode: int = 0  # 0o400 for a folder that can be listed but not entered


def unreadable_command() -> list[str]:
    """The real `postguard` command, run so that permission bits count even for root.

    Raises LookupError saying what is missing when that cannot be arranged here.
    """
    script = Path(sys.executable).with_name("postguard")
    if not script.is_file():
        raise LookupError(f"no `postguard` command installed next to {sys.executable}")
    if os.geteuid() != 0:
        return [str(script)]
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        raise LookupError(
            "running as root, where permission bits are ignored, and `setpriv` (util-linux) is "
            "not installed to drop the DAC capabilities"
        )
    return [setpriv, "--bounding-set", "-dac_override,-dac_read_search", str(script)]


@contextlib.contextmanager
def made_unreadable(path: Path, new_mode: int = 0) -> Iterator[None]:
    """`new_mode` (000) on `path` for the duration, then its mode back (so temporary folders
    clean up)."""
    mode = stat.S_IMODE(path.stat().st_mode)
    path.chmod(new_mode)
    try:
        yield
    finally:
        path.chmod(mode)


def _photo(size: tuple[int, int] = (640, 480)) -> Image.Image:
    return Image.fromarray(data.coffee()).resize(size)


def _encoded(image: Image.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def _heic(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    pillow_heif.from_pillow(image).save(buffer, quality=80)
    return buffer.getvalue()


def _draft(folder: Path, files: dict[str, bytes], text: str = "Harvest festival display.") -> Path:
    draft = folder / "draft"
    draft.mkdir(parents=True)
    (draft / "post.md").write_text(text, encoding="utf-8")
    for name, content in files.items():
        (draft / name).write_bytes(content)
    return draft


def _with_image(name: str, content: Callable[[], bytes]) -> Callable[[Path], Path]:
    return lambda folder: _draft(folder, {name: content()})


def _cut(content: bytes, share: float = 0.6) -> bytes:
    return content[: int(len(content) * share)]


def _bad_crc_png() -> bytes:
    png = bytearray(_encoded(_photo(), "PNG"))
    idat = png.index(b"IDAT")
    png[idat + 10] ^= 0xFF  # flip bits inside the compressed data: the chunk CRC no longer holds
    return bytes(png)


def _bomb_png() -> bytes:
    """A valid PNG header claiming 40000×40000 pixels, with a tiny IDAT."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + body))
        return struct.pack(">I", len(body)) + kind + body + crc

    header = struct.pack(">IIBBBBB", 40000, 40000, 8, 2, 0, 0, 0)
    pixels = chunk(b"IDAT", zlib.compress(b"\0" * 64))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + pixels + chunk(b"IEND", b"")


def _animated_gif() -> bytes:
    face = _photo((160, 120))
    frames = [face.rotate(angle) for angle in (0, 10, 20)]
    return _encoded(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100)


def _broken_exif_jpeg() -> bytes:
    exif = Image.Exif()
    exif[0x010E] = "Harvest"
    raw = bytearray(exif.tobytes())
    raw[10:14] = b"\xff\xff\xff\x7f"  # the first IFD entry's count/offset now point nowhere
    return _encoded(_photo(), "JPEG", exif=bytes(raw))


def _ycck_jpeg() -> bytes:
    """A four-channel JPEG declared YCCK (Adobe transform 2), as Photoshop writes them.

    libjpeg as bundled with Pillow writes CMYK only, so the Adobe segment of a real CMYK JPEG is
    switched to transform 2: the decoder then takes the YCCK path.
    """
    jpeg = bytearray(_encoded(_photo().convert("CMYK"), "JPEG"))
    adobe = jpeg.index(b"Adobe")
    jpeg[adobe + 11] = 2
    return bytes(jpeg)


def _sixteen_bit_png() -> bytes:
    grey = (data.camera().astype(np.uint16) * 257).astype(np.uint16)
    return _encoded(Image.fromarray(grey), "PNG")


def _palette_png() -> bytes:
    image = _photo().convert("P", palette=Image.Palette.ADAPTIVE)
    return _encoded(image, "PNG", transparency=0)


def _symlink_loop(folder: Path) -> Path:
    draft = _draft(folder, {})
    os.symlink(draft / "b.jpg", draft / "a.jpg")
    os.symlink(draft / "a.jpg", draft / "b.jpg")
    return draft


def _text_file(content: bytes) -> Callable[[Path], Path]:
    def build(folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "post.txt"
        path.write_bytes(content)
        return path

    return build


def _register(pupils: str, consents: str, encoding: str = "utf-8") -> Callable[[Path], Path]:
    def build(folder: Path) -> Path:
        register = folder / "register"
        register.mkdir(parents=True)
        (register / "manifest.yaml").write_text(
            'schema_version: 1\nschool: Test\npurpose_map:\n  "Photos – web": website\n',
            encoding="utf-8",
        )
        header = "pupil_id;legal_forename;legal_surname;preferred_forename;preferred_surname;"
        header += "year_group;on_roll;do_not_photograph\r\n"
        (register / "pupils.csv").write_bytes((header + pupils).encode(encoding))
        consent_header = "pupil_id;purpose;status;given_by;recorded_at;expires_on;withdrawn_at\r\n"
        # Excel's "CSV UTF-8" starts with a byte-order mark; its plain "CSV" is Windows-1252
        (register / "consents.csv").write_bytes((consent_header + consents).encode("utf-8-sig"))
        return register

    return build


GOOD_PUPIL = "P1;Zoë;Brontë;;;5;Yes;No\r\n"
GOOD_CONSENT = "P1;Photos – web;Granted;Parent;03/09/2025;;\r\n"

CASES: tuple[Case, ...] = (
    Case(
        "truncated-jpeg",
        "truncated JPEG",
        _with_image("a.jpg", lambda: _cut(_encoded(_photo(), "JPEG"))),
        1,
        "truncated or corrupt",
    ),
    Case(
        "corrupt-png", "PNG with a corrupt chunk", _with_image("a.png", _bad_crc_png), 1, "corrupt"
    ),
    Case(
        "truncated-webp",
        "truncated WebP",
        _with_image("a.webp", lambda: _cut(_encoded(_photo(), "WEBP"))),
        1,
        "truncated or corrupt",
    ),
    Case(
        "truncated-heic",
        "truncated HEIC",
        _with_image("a.heic", lambda: _cut(_heic(_photo()))),
        1,
        "could not run",
    ),
    Case("empty-file", "0-byte .jpg", _with_image("a.jpg", lambda: b""), 1, "empty file"),
    Case(
        "text-as-jpeg",
        "a text file named .jpg",
        _with_image("a.jpg", lambda: b"Dear parents,\nthe trip is on Friday.\n"),
        1,
        "not an image file",
    ),
    Case(
        "jpeg-as-png",
        "a JPEG named .png",
        _with_image("a.png", lambda: _encoded(_photo(), "JPEG")),
        0,
        "",
    ),
    Case(
        "bomb",
        "decompression bomb (PNG header claiming 40000×40000)",
        _with_image("a.png", _bomb_png),
        1,
        "too large",
    ),
    Case("ycck-jpeg", "YCCK JPEG", _with_image("a.jpg", _ycck_jpeg), 0, ""),
    Case(
        "huge-photo",
        "a huge but legal 50 MP photo",
        _with_image("a.jpg", lambda: _encoded(_photo((8660, 5774)), "JPEG", quality=85)),
        0,
        "",
    ),
    Case("animated-gif", "animated GIF", _with_image("a.gif", _animated_gif), 1, "animated image"),
    Case(
        "cmyk-jpeg",
        "CMYK JPEG",
        _with_image("a.jpg", lambda: _encoded(_photo().convert("CMYK"), "JPEG")),
        0,
        "",
    ),
    Case("sixteen-bit-png", "16-bit greyscale PNG", _with_image("a.png", _sixteen_bit_png), 0, ""),
    Case("palette-png", "palette PNG with transparency", _with_image("a.png", _palette_png), 0, ""),
    Case(
        "grayscale-jpeg",
        "greyscale JPEG",
        _with_image("a.jpg", lambda: _encoded(_photo().convert("L"), "JPEG")),
        0,
        "",
    ),
    Case(
        "broken-exif",
        "JPEG whose EXIF has broken offsets",
        _with_image("a.jpg", _broken_exif_jpeg),
        0,
        "",
    ),
    Case(
        "huge-text",
        "5 MB of post text",
        _text_file(b"Sports day was great. " * 240_000),
        2,
        "the limit is 2 MB",
    ),
    Case(
        "cp1252-text",
        "Windows-1252 post text",
        _text_file("Café morning – all welcome".encode("cp1252")),
        0,
        "",
    ),
    Case(
        "bom-text", "UTF-8 with BOM", _text_file("\ufeffCafé morning – all welcome".encode()), 0, ""
    ),
    Case(
        "rtl-emoji",
        "right-to-left scripts and emoji",
        _text_file("عيد مبارك to all our families! חג שמח 🎉👍🏽".encode()),
        0,
        "",
    ),
    Case(
        "bad-front-matter",
        "malformed front matter",
        lambda f: _draft(f, {}, "---\nimages: [unclosed\n---\nHi"),
        2,
        "malformed front matter",
    ),
    Case("symlink-loop", "symbolic-link loop", _symlink_loop, 2, "broken or looping symbolic link"),
    Case(
        "unreadable-image",
        "a photo postguard may not read (mode 000)",
        _with_image("a.jpg", lambda: _encoded(_photo(), "JPEG")),
        1,
        "a.jpg: permission denied",
        unreadable="a.jpg",
    ),
    Case(
        "unreadable-text",
        "a post.md postguard may not read (mode 000)",
        lambda f: _draft(f, {}),
        2,
        "post.md: permission denied",
        unreadable="post.md",
    ),
    Case(
        "unreadable-folder",
        "a draft folder postguard may not read (mode 000)",
        lambda f: _draft(f, {}),
        2,
        "draft' is not readable",
        unreadable=".",
    ),
    Case(
        "unenterable-folder",
        "a draft folder that can be listed but not entered (mode 0400)",
        lambda f: _draft(f, {}),
        2,
        "permission denied",
        unreadable=".",
        unreadable_mode=0o400,
    ),
    Case(
        "excel-register",
        "register from Excel (cp1252, BOM, semicolons, DD/MM/YYYY)",
        _text_file(b"Choir concert tonight."),
        0,
        "",
        _register(GOOD_PUPIL, GOOD_CONSENT, "cp1252"),
    ),
    Case(
        "duplicate-ids",
        "register with duplicate pupil ids",
        _text_file(b"Choir concert tonight."),
        2,
        "duplicate pupil_id P1",
        _register(GOOD_PUPIL * 2, GOOD_CONSENT),
    ),
    Case(
        "impossible-date",
        "register with an impossible date",
        _text_file(b"Choir concert tonight."),
        2,
        "bad date '31/02/2026'",
        _register(GOOD_PUPIL, "P1;Photos – web;Granted;Parent;31/02/2026;;\r\n"),
    ),
    Case(
        "unknown-purpose",
        "register with an unknown purpose",
        _text_file(b"Choir concert tonight."),
        2,
        "unknown purpose 'Yearbook'",
        _register(GOOD_PUPIL, "P1;Yearbook;Granted;Parent;03/09/2025;;\r\n"),
    ),
)
