"""Loading drafts: what is attached, and clear errors for anything ambiguous."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from postguard.draft import load_draft
from postguard.errors import InputError


def _draft(folder: Path, text: str, images: tuple[str, ...] = ()) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "post.md").write_text(text, encoding="utf-8")
    for name in images:
        (folder / name).write_bytes(b"")
    return folder


def test_front_matter_channel_date_images_and_alt(tmp_path):
    folder = _draft(
        tmp_path / "d",
        "---\nchannel: website\ndate: 2026-07-10\nimages:\n  - file: b.jpg\n    alt: Team\n"
        "  - a.png\n---\nHello\n",
        ("a.png", "b.jpg", "spare.jpg"),
    )
    draft = load_draft(folder)
    assert draft.channel == "website"
    assert draft.date == dt.date(2026, 7, 10)
    assert [(i.name, i.alt) for i in draft.images] == [("b.jpg", "Team"), ("a.png", None)]
    assert [p.name for p in draft.unchecked] == ["spare.jpg"]
    assert draft.body == "Hello\n"
    assert draft.body_line == 9


def test_without_front_matter_every_image_in_name_order(tmp_path):
    folder = _draft(tmp_path / "d", "Hello", ("b.JPG", "a.heic", "clip.mov", "notes.docx"))
    draft = load_draft(folder)
    assert [i.name for i in draft.images] == ["a.heic", "b.JPG", "clip.mov"]
    assert [p.name for p in draft.unchecked] == ["notes.docx"]


def test_text_file_with_images(tmp_path):
    text = tmp_path / "note.txt"
    text.write_text("\ufeffMatch report\r\nWell played", encoding="utf-8")
    image = tmp_path / "x.jpg"
    image.write_bytes(b"")
    draft = load_draft(text, [image])
    assert draft.body == "Match report\nWell played"
    assert [i.path for i in draft.images] == [image]


def test_cp1252_text_is_read(tmp_path):
    text = tmp_path / "post.txt"
    text.write_bytes("Caf\xe9 morning \x96 all welcome".encode("latin-1"))
    assert load_draft(text).body == "Café morning – all welcome"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("---\nimages:\n  - file: gone.jpg\n---\nHi", "image named in the draft is missing"),
        ("---\nchannel: tiktok\n---\nHi", "channel 'tiktok' is not one of"),
        ("---\nchanel: website\n---\nHi", "unknown front matter key 'chanel'"),
        ("---\nimages: [unclosed\n---\nHi", "malformed front matter"),
        ("---\ndate: 10/07/2026\n---\nHi", "is not YYYY-MM-DD"),
        ("---\nchannel: website\nHi there", "no closing '---'"),
        ("---\nimages:\n  - file: ../../etc/passwd\n---\nHi", "outside the draft folder"),
    ],
)
def test_bad_drafts_are_input_errors(tmp_path, text, problem):
    folder = _draft(tmp_path / "d", text)
    with pytest.raises(InputError, match=problem) as info:
        load_draft(folder)
    assert "\n" not in str(info.value)


def test_folder_without_post_is_not_a_draft(tmp_path):
    with pytest.raises(InputError, match="not a draft"):
        load_draft(tmp_path)


def test_missing_path(tmp_path):
    with pytest.raises(InputError, match="no such file or folder"):
        load_draft(tmp_path / "nope")


def test_binary_file_is_not_a_post(tmp_path):
    fake = tmp_path / "post.txt"
    fake.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    with pytest.raises(InputError, match="not a text file"):
        load_draft(fake)
