"""A Dask distributed executor: the pipeline's tasks run on a Dask cluster's workers.

Needs the optional ``distributed`` package (``pip install "dask[distributed]"``). Tasks and
their results travel to and from the workers pickled, so an app must be a module-level
function (or another picklable callable) and each worker must be able to read the task's
files (shared storage, or the same machine).

Use it as ``DaskExecutor(distributed.Client(...))`` wherever an
:class:`~vesalius.pipeline.executors.Executor` is taken, for example
``run_jobs(store, apps=apps, executor=DaskExecutor(client), blobs=blobs)``. The client is
typed by the two calls used here, so this module imports without ``distributed``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol, TypeVar

from vesalius.errors import ConfigError

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")

INSTALL_HINT = 'the Dask executor needs distributed: pip install "dask[distributed]"'


class DaskFuture(Protocol):
    """The part of ``distributed.Future`` used here."""

    def result(self) -> Any:
        """Wait for the task and return its result (or raise its error)."""
        ...


class DaskClient(Protocol):
    """The part of ``distributed.Client`` used here."""

    def map(self, func: Callable[..., Any], *iterables: Any, pure: bool = ...) -> Any:
        """Submit ``func`` over ``iterables``; a list of futures."""
        ...


def _require_distributed() -> None:
    try:
        import distributed  # noqa: F401
    except ImportError:
        raise ConfigError(INSTALL_HINT) from None


class DaskExecutor:
    """Runs tasks on the workers of the Dask ``client`` (which the caller owns and closes).

    Raises
    ------
    ConfigError
        When ``distributed`` is not installed.
    """

    def __init__(self, client: DaskClient) -> None:
        _require_distributed()
        self.client = client

    def map(self, fn: Callable[[T], R], tasks: Sequence[T]) -> Iterator[R]:
        """Submit every task to the cluster; yield the results in task order."""
        if not tasks:
            return iter(())
        futures: list[DaskFuture] = list(self.client.map(fn, list(tasks), pure=False))
        log.debug("submitted %d tasks to %s", len(futures), self.client)
        return (future.result() for future in futures)

    def close(self) -> None:
        """Nothing to release: the client belongs to the caller."""
