"""`postguard register validate | enrol | status`: keep the consent register fit for `check`.

Exit codes follow cli.py's contract: 0 all good, 1 problems found (each printed on stdout as
`FILE:LINE: reason` or `FILE: reason`), 2 usage or input error (raised as InputError; `cli.run`
prints it as one line on stderr). Output names pupils by id only, never by name.

Each command reads the policy file like `check` does, because the face settings there are part of
the encodings' model version: enrolling with other settings than `check` uses would leave every
encoding stale.
"""

from __future__ import annotations

from pathlib import Path

import typer

from postguard.commands.options import ConfigOption, RegisterOption
from postguard.config import FaceSettings, resolve_config
from postguard.consent.register import PURPOSES, Problem, Register, validate_register
from postguard.consent.wording import plural, pupil_list, stale_reasons
from postguard.errors import InputError

register_app = typer.Typer(
    help="The photo-consent register: validate it, enrol reference photos, show its state.",
    no_args_is_help=True,
)



def _open(
    register: Path | None, config: Path | None
) -> tuple[Register, list[Problem], FaceSettings]:
    """The register with its problems, and the face settings `check` would use."""
    settings = resolve_config(config)
    loaded, problems = validate_register(register or settings.register)
    if loaded is None:
        raise InputError(problems[0].path, problems[0].reason)
    return loaded, problems, settings.faces


def _echo_problems(problems: list[Problem]) -> None:
    for problem in problems:
        typer.echo(str(problem))


@register_app.command()
def validate(register: RegisterOption = None, config: ConfigOption = None) -> None:
    """Check the register files and every reference photo; exit 0 valid, 1 problems found."""
    from postguard.consent.enrol import photo_problems

    loaded, problems, faces = _open(register, config)
    problems += photo_problems(loaded, faces)
    _echo_problems(problems)
    if problems:
        typer.echo(f"{plural(len(problems), 'problem')} in {loaded.directory}")
        raise typer.Exit(1)
    events = sum(len(e) for e in loaded.events.values())
    photos = sum(len(p) for p in loaded.references.values())
    typer.echo(
        f"{loaded.directory}: valid: {plural(len(loaded.pupils), 'pupil')}, "
        f"{plural(events, 'consent event')}, "
        f"{plural(len(loaded.biometric_pupils()), 'pupil')} with biometric consent, "
        f"{plural(photos, 'reference photo')}"
    )


@register_app.command()
def enrol(register: RegisterOption = None, config: ConfigOption = None) -> None:
    """Encode new reference photos and drop encodings no longer allowed; exit 1 on any problem.

    Only photos without a stored encoding for the current model are encoded. Nothing is added
    while the register has problems (a skipped row could be a withdrawal); removals always run.
    """
    from postguard.consent.enrol import enrol as enrol_photos

    loaded, problems, faces = _open(register, config)
    result = enrol_photos(loaded, faces, add=not problems)
    if result.rebuilt:
        typer.echo(f"{result.store}: unreadable ({result.rebuilt}): rebuilt from the photos")
    _echo_problems(problems + result.failed)
    for verb, entries in (("added", result.added), ("kept", result.kept)):
        who = f" ({pupil_list(e.pupil_id for e in entries)})" if entries else ""
        typer.echo(f"{verb} {plural(len(entries), 'encoding')}{who}")
    why = f" ({stale_reasons(result.removed)})" if result.removed else ""
    typer.echo(f"removed {plural(len(result.removed), 'encoding')}{why}")
    if result.waiting:
        typer.echo(
            f"not added: {plural(len(result.waiting), 'reference photo')} "
            f"({pupil_list(p.pupil_id for p in result.waiting)}): fix the register's problems, "
            "then run `postguard register enrol` again"
        )
    if result.failed:
        which = "it" if len(result.failed) == 1 else "each"
        typer.echo(
            f"{plural(len(result.failed), 'reference photo')} could not be enrolled: replace "
            f"{which} with a photo showing only that pupil's face, then enrol again"
        )
    pupils = {e.pupil_id for e in result.entries}
    typer.echo(
        f"store: {result.store}: {plural(len(result.entries), 'encoding')} "
        f"of {plural(len(pupils), 'pupil')}"
    )
    raise typer.Exit(1 if problems or result.failed else 0)


@register_app.command()
def status(register: RegisterOption = None, config: ConfigOption = None) -> None:
    """Consent granted today by purpose, and how the encodings store compares with it."""
    from postguard.consent.store import read_state

    loaded, problems, faces = _open(register, config)
    state = read_state(loaded, faces)
    on_roll = [p for p in loaded.pupils.values() if p.on_roll]
    typer.echo(f"register: {loaded.directory}")
    typer.echo(f"pupils on roll: {len(on_roll)} of {len(loaded.pupils)}")
    typer.echo(f"do-not-photograph: {sum(p.do_not_photograph for p in on_roll)}")
    typer.echo("consent granted today:")
    for purpose in PURPOSES:
        granted = sum(loaded.consent(pupil_id, purpose).granted for pupil_id in loaded.pupils)
        typer.echo(f"  {purpose:<19} {granted}")
    typer.echo(
        f"pupils with biometric consent: {len(loaded.biometric_pupils())} "
        f"({len(loaded.references)} with reference photos)"
    )
    typer.echo(
        f"pupils enrolled: {len(state.enrolled_pupils)} ({plural(len(state.usable), 'encoding')})"
    )
    if state.single_photo_pupils:
        typer.echo(
            f"enrolled from one photo only: {len(state.single_photo_pupils)} "
            f"({pupil_list(state.single_photo_pupils)}): a second reference photo each "
            "recognises them more reliably"
        )
    stale = f" ({stale_reasons(state.stale)})" if state.stale else ""
    typer.echo(f"stale encodings: {len(state.stale)}{stale}")
    missing = f" ({pupil_list(p.pupil_id for p in state.missing)})" if state.missing else ""
    typer.echo(f"missing encodings: {len(state.missing)}{missing}")
    if problems:
        typer.echo(f"problems: {len(problems)}: run `postguard register validate`")
    if state.stale or state.missing:
        typer.echo("run `postguard register enrol` to bring the encodings store up to date")
