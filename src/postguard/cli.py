"""The `postguard` command line. Exit codes are a contract: 0 pass or warnings only,
1 blocked, 2 usage, input or configuration error (one line on stderr naming the file)."""

from __future__ import annotations

import sys

import typer

from postguard import modelfiles
from postguard.commands.audit import audit
from postguard.commands.check import check
from postguard.commands.register import register_app
from postguard.commands.rules import rules_app
from postguard.commands.strip import strip
from postguard.errors import InputError

app = typer.Typer(
    help="Check an official school post against the trust's social-media policy.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
models_app = typer.Typer(help="Model files shipped in PyPI packages, pinned by sha256.")
app.command()(check)
app.command()(strip)
app.command()(audit)
app.add_typer(register_app, name="register")
app.add_typer(rules_app, name="rules")
app.add_typer(models_app, name="models")


@models_app.command("build")
def models_build() -> None:
    """Make the derived model files (models/derived/) from their verified packaged sources."""
    from postguard.modelbuild import build_all

    for name, path in build_all():
        typer.echo(f"ok  {name}  {path}")


@models_app.command("verify")
def models_verify() -> None:
    """Check every model file against its pinned sha256, and run the sentence model once.

    Running it embeds the example sentences of the learned text rules, so set-up leaves their
    vectors cached and the first `check` does not pay for them.
    """
    from postguard.text.semantic import exemplar_set

    for name, path in modelfiles.verify_all():
        typer.echo(f"ok  {name}  {path}")
    typer.echo(f"ok  sentence model ran on {len(exemplar_set().sentences)} example sentences")


def run(argv: list[str] | None = None) -> int:
    """Run one command and return its exit code; input errors become one line on stderr."""
    try:
        code = app(args=argv, standalone_mode=False, prog_name="postguard")
    except (InputError, modelfiles.ModelError) as exc:
        typer.echo(f"postguard: error: {exc}", err=True)
        return 2
    except OSError as exc:  # a file system refusal nobody anticipated: still one line, exit 2
        where = f"{exc.filename}: " if exc.filename else ""
        typer.echo(f"postguard: error: {where}{(exc.strerror or str(exc)).lower()}", err=True)
        return 2
    except typer.Abort:
        typer.echo("postguard: aborted", err=True)
        return 2
    except typer.TyperException as exc:  # Typer's own (vendored click) usage errors
        message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
        typer.echo(f"postguard: usage error: {' '.join(message.split())}", err=True)
        return 2
    return int(code or 0)


def main() -> None:
    sys.exit(run())
