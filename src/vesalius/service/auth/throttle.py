"""Login throttling: too many failed logins for one user, or from one address, wait.

Failures are counted in a sliding window, separately per username and per client address;
once either has :attr:`LoginThrottle.limit` failures in :attr:`LoginThrottle.window_s`
seconds, further attempts are refused (HTTP 429) until the oldest failure leaves the
window. A successful login clears the username's count. Unknown usernames are counted the
same as known ones, so the answer never tells which accounts exist.

Examples
--------
>>> throttle = LoginThrottle(limit=2, window_s=60, clock=lambda: 0.0)
>>> throttle.wait_s("dr.grey", "10.0.0.7")
0.0
>>> throttle.failed("dr.grey", "10.0.0.7"); throttle.failed("dr.grey", "10.0.0.8")
>>> throttle.wait_s("dr.grey", "10.0.0.9")
60.0
>>> throttle.wait_s("dr.house", "10.0.0.9")
0.0
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable


class LoginThrottle:
    """Per-username and per-address failed-login counters (in memory, thread-safe)."""

    def __init__(
        self,
        *,
        limit: int = 5,
        window_s: float = 300.0,
        address_limit: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.address_limit = address_limit if address_limit is not None else 4 * limit
        self.window_s = window_s
        self._clock = clock
        self._failures: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: tuple[str, str], now: float) -> deque[float]:
        times = self._failures.get(key)
        if times is None:
            return deque()
        while times and times[0] <= now - self.window_s:
            times.popleft()
        if not times:
            del self._failures[key]
        return times

    def _wait(self, key: tuple[str, str], limit: int, now: float) -> float:
        times = self._recent(key, now)
        if len(times) < limit:
            return 0.0
        return max(0.0, times[-limit] + self.window_s - now)

    def wait_s(self, username: str, address: str) -> float:
        """Seconds to wait before trying again (0 when an attempt may go ahead)."""
        with self._lock:
            now = self._clock()
            return max(
                self._wait(("user", username), self.limit, now),
                self._wait(("addr", address), self.address_limit, now),
            )

    def failed(self, username: str, address: str) -> None:
        """Count one failed login of ``username`` from ``address``."""
        with self._lock:
            now = self._clock()
            for key in (("user", username), ("addr", address)):
                self._failures.setdefault(key, deque()).append(now)

    def address_failed(self, address: str) -> float:
        """Count one failure from ``address`` (a bad API token); seconds it must now wait.

        Only the address counts: a token names no user, and valid tokens are looked up
        before this is asked, so their holders are never slowed by someone else's guesses.
        """
        with self._lock:
            now = self._clock()
            wait = self._wait(("addr", address), self.address_limit, now)
            if wait == 0.0:
                self._failures.setdefault(("addr", address), deque()).append(now)
            return wait

    def succeeded(self, username: str) -> None:
        """Forget the failures of ``username`` (the address keeps its count)."""
        with self._lock:
            self._failures.pop(("user", username), None)
