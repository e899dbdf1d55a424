"""How register messages count things and name pupils: by pupil id only, and briefly.

`register enrol`, `register status` and check's register warnings all say which pupils are
concerned. They use the MIS pupil id, never a name (reports must not carry pupils' names), and
cut the list short so that a whole school does not flood a report.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from postguard.consent.store import Stale

PUPIL_LIST_LIMIT = 10


def plural(n: int, noun: str) -> str:
    """`1 photo`, `2 photos`."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


def pupil_list(ids: Iterable[str]) -> str:
    """Distinct pupil ids in order, at most PUPIL_LIST_LIMIT of them, then how many more."""
    unique = sorted(set(ids))
    shown = ", ".join(unique[:PUPIL_LIST_LIMIT])
    hidden = len(unique) - PUPIL_LIST_LIMIT
    return f"{shown} and {hidden} more" if hidden > 0 else shown


def stale_reasons(stale: list[Stale]) -> str:
    """`no biometric consent today: P1003; reference photo changed: P1002`."""
    by_reason: dict[str, list[str]] = {}
    for item in stale:
        by_reason.setdefault(item.reason, []).append(item.entry.pupil_id)
    return "; ".join(f"{reason}: {pupil_list(ids)}" for reason, ids in sorted(by_reason.items()))
