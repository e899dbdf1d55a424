"""Every case of the bad-input corpus: exit code, message, nothing written, originals intact."""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

import pytest

from badinputs import CASES, Case, made_unreadable, unreadable_command
from cli_helpers import Result, invoke


def _digests(path: Path) -> dict[str, str]:
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in files if p.exists()}


def _run_unreadable(case: Case, draft: Path, args: list[str | Path]) -> Result:
    """The real command in a child process, with `case.unreadable` at mode 000 meanwhile."""
    try:
        command = unreadable_command()
    except LookupError as exc:
        pytest.skip(f"cannot make a file unreadable here: {exc}")
    target = draft if case.unreadable == "." else draft / str(case.unreadable)
    with made_unreadable(target, case.unreadable_mode):
        done = subprocess.run(
            [*command, *map(str, args)],
            capture_output=True,
            text=True,
            encoding="utf-8",
            env={**os.environ, "PYTHONUTF8": "1"},
            timeout=600,
            check=False,
        )
    return Result(done.returncode, done.stdout, done.stderr)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_bad_input(capsys, tmp_path, case: Case) -> None:
    draft = case.build(tmp_path / "in")
    register = case.register(tmp_path / "reg") if case.register else None
    before = _digests(draft)
    out = tmp_path / "out"
    args: list[str | Path] = ["check", draft, "--out", out, "--format", "json"]
    if register is not None:
        args += ["--register", register]
    if case.unreadable is not None:
        result = _run_unreadable(case, draft, args)
    else:
        result = invoke(capsys, *args)
    assert result.code == case.code, (result.out[-2000:], result.err)
    assert "Traceback" not in result.out + result.err
    assert _digests(draft) == before, "originals are never modified"
    if case.code == 2:
        assert result.out == ""
        assert result.err.count("\n") == 1 and case.message in result.err
        assert not out.exists()
    elif case.code == 1:
        report = result.json()
        blocking = [f for f in report["findings"] if f["severity"] == "error" and not f["fixed"]]
        assert any(case.message in f["message"] for f in blocking), blocking
        assert any(Path(f["location"].get("image", "")).parent == draft for f in blocking)
        assert not out.exists(), "no partial output"
    else:
        assert result.json()["verdict"] in ("pass", "warn")


def test_output_folder_that_cannot_be_created_is_one_line(tmp_path, demo_draft) -> None:
    """`--out` under a folder postguard may not write to: exit 2, one line, no traceback."""
    try:
        command = unreadable_command()
    except LookupError as exc:
        pytest.skip(f"cannot make a folder read-only here: {exc}")
    locked = tmp_path / "locked"
    locked.mkdir()
    with made_unreadable(locked, 0o500):
        done = subprocess.run(
            [*command, "check", str(demo_draft), "--out", str(locked / "out")],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
    assert done.returncode == 2, done.stderr
    assert done.stdout == "" and "Traceback" not in done.stderr
    assert done.stderr == f"postguard: error: {locked / 'out'}: permission denied\n"
    assert not (locked / "out").exists()
