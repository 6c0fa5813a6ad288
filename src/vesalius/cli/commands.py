"""The table of commands: name -> function. Each function imports what it needs inside."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

COMMANDS: dict[str, Callable[..., Any]] = {}
