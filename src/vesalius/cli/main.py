"""Entry point of the ``vesalius`` command.

Each command lives in its own module of :mod:`vesalius.cli` as a plain function whose
heavy imports happen inside it; this module registers them and turns a user's mistake
(:class:`~vesalius.errors.InputError`, :class:`~vesalius.errors.ConfigError`) into a
one-line message on stderr and exit code 2, never a traceback; any other
:class:`~vesalius.errors.VesaliusError` (a store that refused, say) exits with code 1.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from typing import Any, ParamSpec, TypeVar

import typer

P = ParamSpec("P")
R = TypeVar("R")

app = typer.Typer(
    name="vesalius",
    help="Vesalius: medical imaging from the scanner to a signed report.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

EXIT_USER_ERROR = 2
EXIT_FAILURE = 1


@app.callback()
def _root() -> None:
    """Vesalius: medical imaging from the scanner to a signed report."""


def user_errors_exit_2(func: Callable[P, R]) -> Callable[P, R]:
    """Wrap a command so that user errors print one line and exit with code 2."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        from vesalius.errors import ConfigError, InputError, VesaliusError

        try:
            return func(*args, **kwargs)
        except (InputError, ConfigError) as err:
            typer.echo(f"error: {err}", err=True)
            raise typer.Exit(EXIT_USER_ERROR) from None
        except VesaliusError as err:
            typer.echo(f"error: {err}", err=True)
            raise typer.Exit(EXIT_FAILURE) from None

    return wrapper


def _register(name: str, func: Callable[..., Any]) -> None:
    app.command(name=name)(user_errors_exit_2(func))


def _register_all() -> None:
    from vesalius.cli import commands

    for name, func in commands.COMMANDS.items():
        _register(name, func)


_register_all()


def main() -> None:  # pragma: no cover - thin wrapper for ``python -m``
    """Run the command line."""
    sys.exit(app())
