"""What every `vetted` command group shares."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import click

from service.db import MAX_ID
from service.errors import Invalid, VettedError

P = ParamSpec("P")
R = TypeVar("R")

# A row id as an argument: past MAX_ID no row has it, and SQLite cannot even bind it.
ROW_ID = click.IntRange(1, MAX_ID)


def domain_errors_as_messages(func: Callable[P, R]) -> Callable[P, R]:
    """Prints a domain error as a one-line message and exits 1, instead of a traceback."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except Invalid as exc:  # its detail ("Some fields need your attention") names none
            raise click.ClickException(
                "; ".join(f"{error.field}: {error.detail}" for error in exc.errors)
            ) from exc
        except VettedError as exc:
            raise click.ClickException(exc.detail) from exc

    return wrapper
