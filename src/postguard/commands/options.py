"""Options shared by several commands, so each is spelt and documented once.

They are part of the stable interface (README "Exit codes" and each command's section): rename
one only together with the README and the tests.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from postguard.config import CHANNELS


class OutputFormat(StrEnum):
    text = "text"
    json = "json"
    sarif = "sarif"


def _channel(value: str | None) -> str | None:
    if value is not None and value not in CHANNELS:
        raise typer.BadParameter(f"'{value}' is not one of {', '.join(CHANNELS)}")
    return value


ChannelOption = Annotated[
    str | None,
    typer.Option(help=f"Where it will be posted: {', '.join(CHANNELS)}.", callback=_channel),
]
RegisterOption = Annotated[
    Path | None,
    typer.Option(help="Consent register folder [default: ./consent_data, or the config's]."),
]
ConfigOption = Annotated[
    Path | None, typer.Option(help="Policy file [default: ./postguard.toml if present].")
]
FormatOption = Annotated[OutputFormat, typer.Option("--format", help="text, json or sarif.")]
