"""Executors: where the pipeline's analyses run.

An :class:`Executor` maps a function over tasks and yields the results in task order.
:class:`LocalExecutor` (the default) runs them on a pool of threads in this process;
:class:`ProcessExecutor` on a pool of processes; :class:`InlineExecutor` one after the other
in the caller's thread (the fake for tests, and the choice for one worker).

Why threads, not processes: the analyses spend their time in numpy and scipy.ndimage
kernels, which release the GIL, so threads do run them in parallel; and threads share the
process's imports and memory, so no volume, finding or open store is pickled or copied
between processes, and a worker starts at once instead of re-importing the scientific
stack. The analyses still run some Python between kernels, so on a CPU-bound batch a
process pool can be somewhat faster (``bench/pipeline_batch.py`` measures both);
:class:`ProcessExecutor` is there for that, at the price of picklable apps. Work across
machines belongs to the Dask executor.

Examples
--------
>>> list(InlineExecutor().map(abs, [-1, 2, -3]))
[1, 2, 3]
>>> with LocalExecutor(workers=2) as pool:
...     list(pool.map(abs, [-1, 2, -3]))
[1, 2, 3]
>>> with ProcessExecutor(workers=2) as pool:
...     list(pool.map(abs, [-1, 2, -3]))
[1, 2, 3]
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor as FuturesExecutor
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from types import TracebackType
from typing import Protocol, Self, TypeVar

from vesalius.errors import InputError

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")


class Executor(Protocol):
    """Runs a function over tasks; results come back in task order."""

    def map(self, fn: Callable[[T], R], tasks: Sequence[T]) -> Iterator[R]:
        """Yield ``fn(task)`` for each task, in order, as each becomes available."""
        ...

    def close(self) -> None:
        """Release the executor's workers."""
        ...


class InlineExecutor:
    """Runs each task in the caller's thread, one after the other."""

    def map(self, fn: Callable[[T], R], tasks: Sequence[T]) -> Iterator[R]:
        """Yield ``fn(task)`` for each task, computed when asked for."""
        return (fn(task) for task in tasks)

    def close(self) -> None:
        """Nothing to release."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, err: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class _Pool(ABC):
    """A ``concurrent.futures`` pool behind the :class:`Executor` interface."""

    _pool: FuturesExecutor

    def __init__(self, *, workers: int = 2) -> None:
        if workers < 1:
            raise InputError(None, f"the number of workers must be at least 1, got {workers}")
        self.workers = workers
        self._pool = self._make(workers)

    @abstractmethod
    def _make(self, workers: int) -> FuturesExecutor:
        """The pool of ``workers`` workers this executor runs tasks on."""

    def map(self, fn: Callable[[T], R], tasks: Sequence[T]) -> Iterator[R]:
        """Submit every task now; yield the results in order as they finish."""
        log.debug("running %d tasks on %s(%d)", len(tasks), type(self).__name__, self.workers)
        return self._pool.map(fn, tasks)

    def close(self) -> None:
        """Wait for running tasks and stop the workers."""
        self._pool.shutdown(wait=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, err: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class LocalExecutor(_Pool):
    """A pool of ``workers`` threads in this process (the default).

    Raises
    ------
    InputError
        When ``workers`` is less than 1.
    """

    def _make(self, workers: int) -> FuturesExecutor:
        return ThreadPoolExecutor(max_workers=workers, thread_name_prefix="vesalius")


class ProcessExecutor(_Pool):
    """A pool of ``workers`` processes; tasks, apps and results must be picklable.

    Raises
    ------
    InputError
        When ``workers`` is less than 1.
    """

    def _make(self, workers: int) -> FuturesExecutor:
        return ProcessPoolExecutor(max_workers=workers)
