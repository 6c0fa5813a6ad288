"""The table of commands: name -> function. Each function imports what it needs inside."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from vesalius.cli.suv import suv

COMMANDS: dict[str, Callable[..., Any]] = {
    "suv": suv,
}
