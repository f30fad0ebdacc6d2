"""Failed-login throttling per account and per client address.

After ``login_slow_after`` failures within the window each further try must wait
``2**(failures - login_slow_after)`` seconds (capped); after ``login_lock_after`` the key is
refused for ``login_lock_minutes``.

Every try is counted *before* the password is checked, under a row lock, so parallel guesses
cannot all slip through one check; a successful try is refunded afterwards. Success clears
the account's record but only refunds the address's, so an address that guesses many
accounts stays throttled.
"""

from __future__ import annotations

import hashlib
import math
from datetime import datetime, timedelta

from exam_service.core.errors import TooManyRequests
from exam_service.core.settings import Settings
from exam_service.identity.repository import ThrottleRepository
from exam_service.models import LoginThrottle

MAX_BACKOFF_SECONDS = 300


def throttle_keys(email: str, address: str) -> list[str]:
    """The account key is a digest, so any typed username fits the column."""
    account = hashlib.sha256(email.strip().lower().encode()).hexdigest()
    return [f"account:{account}", f"address:{address[:200]}"]


def _stale(row: LoginThrottle, now: datetime, settings: Settings) -> bool:
    expired_lock = row.locked_until is not None and row.locked_until <= now
    return expired_lock or now - row.window_started_at >= timedelta(minutes=settings.login_window_minutes)


def retry_after(row: LoginThrottle, now: datetime, settings: Settings) -> int:
    """Seconds the key must still wait, 0 when a try is allowed now."""
    if row.locked_until is not None and row.locked_until > now:
        return math.ceil((row.locked_until - now).total_seconds())
    if _stale(row, now, settings) or row.failures < settings.login_slow_after:
        return 0
    backoff = min(2 ** (row.failures - settings.login_slow_after), MAX_BACKOFF_SECONDS)
    wait = (row.last_failure_at + timedelta(seconds=backoff) - now).total_seconds()
    return max(0, math.ceil(wait))


async def admit(repo: ThrottleRepository, keys: list[str], now: datetime, settings: Settings) -> None:
    """Refuses a try the throttle forbids; otherwise counts it as a failure until refunded."""
    rows = await repo.lock(keys, now)
    for row in rows:
        wait = retry_after(row, now, settings)
        if wait > 0:
            locked = row.locked_until is not None and row.locked_until > now
            reason = "locked after repeated failed logins" if locked else "too many failed logins"
            raise TooManyRequests(f"Login {reason}; try again in {wait} s", retry_after=wait)
    for row in rows:
        if _stale(row, now, settings):
            row.failures, row.window_started_at, row.locked_until = 0, now, None
        row.failures += 1
        row.last_failure_at = now
        if row.failures >= settings.login_lock_after:
            row.locked_until = now + timedelta(minutes=settings.login_lock_minutes)


async def refund(repo: ThrottleRepository, keys: list[str], now: datetime, settings: Settings) -> None:
    """A successful try: the account starts afresh, the address gets its count back."""
    account, address = keys
    await repo.clear(account)
    [row] = await repo.lock([address], now)
    row.failures = max(0, row.failures - 1)
    if row.failures < settings.login_lock_after:
        row.locked_until = None
