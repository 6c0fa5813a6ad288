"""The table of commands: name -> function. Each function imports what it needs inside."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from vesalius.cli.analyze import analyze
from vesalius.cli.batch import batch
from vesalius.cli.calcium import calcium
from vesalius.cli.convert import convert
from vesalius.cli.deid import deid
from vesalius.cli.demo import demo
from vesalius.cli.export import export
from vesalius.cli.info import info
from vesalius.cli.phantom import phantom
from vesalius.cli.query import query
from vesalius.cli.retrieve import retrieve
from vesalius.cli.send import send
from vesalius.cli.serve import serve
from vesalius.cli.store import store_status
from vesalius.cli.suv import suv
from vesalius.cli.user import user

COMMANDS: dict[str, Callable[..., Any]] = {
    "info": info,
    "convert": convert,
    "deid": deid,
    "suv": suv,
    "store": store_status,
    "phantom": phantom,
    "demo": demo,
    "serve": serve,
    "send": send,
    "query": query,
    "retrieve": retrieve,
    "calcium": calcium,
    "analyze": analyze,
    "batch": batch,
    "export": export,
    "user": user,
}
