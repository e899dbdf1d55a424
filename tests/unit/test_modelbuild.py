"""The derived sentence model: made at set-up from the verified packaged file, pinned by sha256.

Real builds (about 3 s each): the recipe must reproduce the pinned file byte for byte, a missing
or damaged copy must stop the model from running, and `build` must repair it.
"""

from __future__ import annotations

import pytest

from postguard import modelfiles
from postguard.modelbuild import build_all
from postguard.modelfiles import ModelError, model_path

NAME = "sentence_encoder_fast"


@pytest.fixture
def derived_dir(tmp_path, monkeypatch):
    """An empty folder for derived files, so the checkout's own copy is left alone."""
    monkeypatch.setattr(modelfiles, "DERIVED_DIR", tmp_path / "derived")
    model_path.cache_clear()
    yield tmp_path / "derived"
    monkeypatch.undo()
    model_path.cache_clear()


def test_missing_derived_model_is_refused_with_the_fix(derived_dir) -> None:
    with pytest.raises(ModelError, match=r"model file 'sentence_encoder_fast' run `make setup`"):
        model_path(NAME)


def test_build_reproduces_the_pinned_file_and_repairs_a_damaged_copy(derived_dir) -> None:
    [(name, path)] = build_all()
    assert name == NAME and path.parent == derived_dir
    assert modelfiles.sha256_of(path) == modelfiles.manifest()[NAME].sha256

    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    model_path.cache_clear()
    with pytest.raises(ModelError, match="does not match the pinned"):
        model_path(NAME)

    build_all()
    assert modelfiles.sha256_of(path) == modelfiles.manifest()[NAME].sha256
    assert not [p for p in derived_dir.iterdir() if p.name.startswith(".postguard-")]
