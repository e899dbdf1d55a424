"""`postguard audit`: every past post re-checked; bad ones reported, good ones still checked."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from badinputs import made_unreadable, unreadable_command
from cli_helpers import invoke


def _archive(tmp_path: Path, demo_draft: Path) -> Path:
    archive = tmp_path / "archive"
    archive.mkdir()
    shutil.copytree(demo_draft, archive / "2026-07-sports-day")
    (archive / "2026-08-broken").mkdir()
    (archive / "2026-08-broken" / "post.md").write_text("---\nimages: [x\n---\nHi", "utf-8")
    (archive / "2026-09-trip").mkdir()
    (archive / "2026-09-trip" / "post.md").write_text("Year 4 visited the museum.", "utf-8")
    (archive / "2026-10-display").mkdir()
    (archive / "2026-10-display" / "post.md").write_text("Our harvest display.", "utf-8")
    (archive / "2026-10-display" / "display.jpg").write_text("not a photo", "utf-8")
    (archive / "2026-11-note.txt").write_text("Choir concert on Friday at 6pm.", "utf-8")
    return archive


def test_audit_reports_bad_drafts_and_checks_all_good_ones(capsys, tmp_path, demo_draft):
    archive = _archive(tmp_path, demo_draft)
    result = invoke(capsys, "audit", archive)
    assert result.code == 1
    lines = result.out.splitlines()
    assert lines[0].startswith(f"BLOCK {archive}/2026-07-sports-day: 3 blocking")
    assert lines[1] == f"ERROR {archive}/2026-08-broken/post.md: malformed front matter at line 2"
    assert lines[2] == f"PASS  {archive}/2026-09-trip"
    assert lines[3] == f"BLOCK {archive}/2026-10-display: 1 blocking (unreadable_input)"
    assert lines[4] == f"PASS  {archive}/2026-11-note.txt"
    assert lines[5] == "4 posts checked, 1 could not be read"
    assert "okafor" not in result.out.lower()


def test_audit_uses_todays_consent(capsys, tmp_path, demo_draft, register_copy):
    """Consent withdrawn since publication: the face that was consented now needs redacting."""
    archive = tmp_path / "archive"
    archive.mkdir()
    shutil.copytree(demo_draft, archive / "sports-day")
    assert invoke(capsys, "register", "enrol", "--register", register_copy).code == 0
    before = invoke(capsys, "audit", archive, "--register", register_copy, "--json")
    faces = json.loads(before.out.splitlines()[0])["images"][0]["faces"]
    assert sorted(f["decision"] for f in faces) == ["consented", "redact"]
    with (register_copy / "consents.csv").open("a", encoding="utf-8") as handle:
        handle.write("P1002,Social media photographs,withdrawn,parent,2026-10-01,,2026-10-01\n")
    after = invoke(capsys, "audit", archive, "--register", register_copy, "--json")
    faces = json.loads(after.out.splitlines()[0])["images"][0]["faces"]
    assert [f["decision"] for f in faces] == ["redact", "redact"]
    assert any("withdrawn by parent" in f["reason"] for f in faces)


def test_audit_input_errors(capsys, tmp_path):
    missing = invoke(capsys, "audit", tmp_path / "nowhere")
    assert missing.code == 2 and "archive folder not found" in missing.err
    (tmp_path / "empty").mkdir()
    empty = invoke(capsys, "audit", tmp_path / "empty")
    assert empty.code == 2 and "no drafts found" in empty.err and empty.out == ""


def test_audit_carries_on_past_drafts_it_may_not_read(tmp_path, demo_draft):
    """Permission bits count (even for root, through setpriv): each locked draft is one ERROR
    line and every readable draft is still checked."""
    try:
        command = unreadable_command()
    except LookupError as exc:
        pytest.skip(f"cannot make a folder unreadable here: {exc}")
    archive = _archive(tmp_path, demo_draft)
    (archive / "2026-08-broken").rename(archive / "2026-08-locked")
    (archive / "2026-08-locked" / "post.md").write_text("Sports day results.", "utf-8")
    with made_unreadable(archive / "2026-08-locked"):
        done = subprocess.run([*command, "audit", str(archive)], capture_output=True, text=True,
                              timeout=600, check=False)
    lines = done.stdout.splitlines()
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert lines[1] == (f"ERROR {archive}/2026-08-locked: permission denied: the folder cannot "
                        "be listed or entered")
    assert lines[2] == f"PASS  {archive}/2026-09-trip"
    assert lines[-1] == "4 posts checked, 1 could not be read"
