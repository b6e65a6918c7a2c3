"""What every `vetted` command group shares."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import click

from service.errors import VettedError

P = ParamSpec("P")
R = TypeVar("R")


def domain_errors_as_messages(func: Callable[P, R]) -> Callable[P, R]:
    """Prints a domain error as a one-line message and exits 1, instead of a traceback."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except VettedError as exc:
            raise click.ClickException(exc.detail) from exc

    return wrapper
