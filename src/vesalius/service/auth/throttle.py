"""Login throttling: too many password attempts for one account, or from one address, wait.

Every password attempt is counted *before* the (slow) password check, in one step that
also decides whether it may go ahead (:meth:`LoginThrottle.reserve`): N guesses sent in
parallel count N, so no burst slips through while the first ones are still being verified.
A successful attempt takes its own count back and clears the account's count; a failed one
stays counted. Counts live in a sliding window of :attr:`LoginThrottle.window_s` seconds;
once a key holds its limit, further attempts are refused (HTTP 429) until the oldest one
leaves the window. Unknown usernames are counted the same as known ones, so the answer
never tells which accounts exist.

What is counted depends on how the password is sent:

- the browser login form (``/api/login``) counts per account, from every address together
  (:attr:`~LoginThrottle.limit`), and per address (:attr:`~LoginThrottle.address_limit`):
  a person's account is protected against guessing from many addresses;
- HTTP Basic (DICOMweb clients, often a PACS signed in as a service account) counts per
  *address and account pair* and per address, never per account alone: a stranger
  guessing at the PACS account's password from elsewhere is throttled without locking the
  PACS out. Guessing from many addresses is bounded by each address's limit; API tokens
  (``vesalius user token``) are the recommended credentials for services, as they cannot be
  guessed and bad tokens count only against the sender's address.

Examples
--------
>>> throttle = LoginThrottle(limit=2, window_s=60, clock=lambda: 0.0)
>>> throttle.reserve("dr.grey", "10.0.0.7").wait_s, throttle.reserve("dr.grey", "10.0.0.8").wait_s
(0.0, 0.0)
>>> throttle.reserve("dr.grey", "10.0.0.9").wait_s
60.0
>>> throttle.reserve("dr.house", "10.0.0.9").wait_s
0.0
>>> throttle.reserve("pacs", "10.0.0.66", account_wide=False).wait_s
0.0
>>> throttle.reserve("pacs", "10.0.0.66", account_wide=False).wait_s
0.0
>>> throttle.reserve("pacs", "10.0.0.66", account_wide=False).wait_s
60.0
>>> throttle.reserve("pacs", "10.0.0.5", account_wide=False).wait_s
0.0
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

Key = tuple[str, ...]


@dataclass(frozen=True)
class Attempt:
    """One password attempt as counted by :meth:`LoginThrottle.reserve`.

    ``wait_s > 0``: refused, nothing was counted; retry after that many seconds.
    """

    wait_s: float
    account_key: Key
    address_key: Key
    at: float


class LoginThrottle:
    """Per-account and per-address password-attempt counters (in memory, thread-safe)."""

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
        self._failures: dict[Key, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: Key, now: float) -> deque[float]:
        times = self._failures.get(key)
        if times is None:
            return deque()
        while times and times[0] <= now - self.window_s:
            times.popleft()
        if not times:
            del self._failures[key]
        return times

    def _wait(self, key: Key, limit: int, now: float) -> float:
        times = self._recent(key, now)
        if len(times) < limit:
            return 0.0
        return max(0.0, times[-limit] + self.window_s - now)

    def reserve(self, username: str, address: str, *, account_wide: bool = True) -> Attempt:
        """Count one attempt of ``username`` from ``address`` unless either key is full.

        ``account_wide=False`` (HTTP Basic) counts the account only together with the
        address. Check and count happen under one lock, so parallel attempts count each.
        """
        account: Key = ("user", username) if account_wide else ("pair", address, username)
        by_address: Key = ("addr", address)
        with self._lock:
            now = self._clock()
            wait = max(
                self._wait(account, self.limit, now),
                self._wait(by_address, self.address_limit, now),
            )
            if wait == 0.0:
                for key in (account, by_address):
                    self._failures.setdefault(key, deque()).append(now)
            return Attempt(wait, account, by_address, now)

    def succeeded(self, attempt: Attempt) -> None:
        """The attempt was right: take its count back and clear the account's count."""
        with self._lock:
            self._failures.pop(attempt.account_key, None)
            times = self._failures.get(attempt.address_key)
            if times is not None and attempt.at in times:
                times.remove(attempt.at)
                if not times:
                    del self._failures[attempt.address_key]

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
