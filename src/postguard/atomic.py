"""Write output files so that nobody ever sees half of one.

A sanitised copy that is half-written, or written but not yet verified, could be picked up by a
person or a sync client and published. Every output is first written to a hidden temporary file
in the destination folder, checked, and only then renamed into place (atomic on POSIX).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_output(final: Path, mode: int = 0o644) -> Iterator[Path]:
    """Yield a temporary path beside `final`; rename it into place only if the block succeeds.

    `mode` is set before the rename: 0644 for copies meant for publishing, 0600 for biometric
    data, which must never be readable by others, not even for an instant.
    """
    fd, name = tempfile.mkstemp(dir=final.parent, prefix=".postguard-", suffix=final.suffix)
    os.close(fd)
    temp = Path(name)
    try:
        yield temp
        with temp.open("rb+") as handle:
            os.fsync(handle.fileno())
        temp.chmod(mode)
        os.replace(temp, final)
        _fsync_dir(final.parent)
    finally:
        temp.unlink(missing_ok=True)


def _fsync_dir(directory: Path) -> None:
    """Make the rename durable; not every platform can open a directory, which is harmless."""
    try:
        descriptor = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def write_text_atomic(final: Path, text: str) -> None:
    with atomic_output(final) as temp:
        temp.write_text(text, encoding="utf-8")
