"""Fixtures shared by the whole suite: the repository, the demo draft, the shared data set."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_IMAGES = ROOT.parent / "shared" / "data" / "images"
DEMO = ROOT / "fixtures" / "demo"
REGISTER = ROOT / "consent_data"


@pytest.fixture(scope="session")
def shared_images() -> Path:
    """The shared evaluation photos (never copied into the repo); skip when absent."""
    if not SHARED_IMAGES.is_dir():
        pytest.skip(f"shared evaluation data not found at {SHARED_IMAGES}")
    return SHARED_IMAGES


@pytest.fixture
def demo_draft(tmp_path: Path) -> Path:
    """A private copy of the demo draft, so a test can never alter the bundled one."""
    if not (DEMO / "finish-line.jpg").exists():
        pytest.fail("demo photos missing: run `make fixtures` (make test does it)")
    copy = tmp_path / "draft"
    shutil.copytree(DEMO, copy)
    return copy


@pytest.fixture
def register_copy(tmp_path: Path) -> Path:
    """A private copy of the demo register that a test may edit."""
    copy = tmp_path / "register"
    shutil.copytree(REGISTER, copy, ignore=shutil.ignore_patterns(".encodings"))
    return copy
