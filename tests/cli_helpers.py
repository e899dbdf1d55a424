"""Run the real `postguard` command line in-process and capture what a user would see."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest

from postguard.cli import run


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


def invoke(capsys: pytest.CaptureFixture[str], *args: str) -> Result:
    code = run([str(a) for a in args])
    captured = capsys.readouterr()
    return Result(code, captured.out, captured.err)
