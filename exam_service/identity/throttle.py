"""Failed-login throttling per account and per client address.

After ``login_slow_after`` failures within the window each further try must wait
``2**(failures - login_slow_after)`` seconds (capped); after ``login_lock_after`` the key is
refused for ``login_lock_minutes``. A successful login clears the account's record only, so
an address that guesses many accounts stays throttled.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from exam_service.core.errors import TooManyRequests
from exam_service.core.settings import Settings
from exam_service.identity.repository import ThrottleRepository
from exam_service.models import LoginThrottle

MAX_BACKOFF_SECONDS = 300


def throttle_keys(email: str, address: str) -> list[str]:
    return [f"account:{email.lower()}", f"address:{address}"]


def _in_window(row: LoginThrottle, now: datetime, settings: Settings) -> bool:
    return now - row.window_started_at < timedelta(minutes=settings.login_window_minutes)


def retry_after(row: LoginThrottle, now: datetime, settings: Settings) -> int:
    """Seconds the key must still wait, 0 when a try is allowed now."""
    if row.locked_until is not None and row.locked_until > now:
        return math.ceil((row.locked_until - now).total_seconds())
    if not _in_window(row, now, settings) or row.failures < settings.login_slow_after:
        return 0
    backoff = min(2 ** (row.failures - settings.login_slow_after), MAX_BACKOFF_SECONDS)
    wait = (row.last_failure_at + timedelta(seconds=backoff) - now).total_seconds()
    return max(0, math.ceil(wait))


async def ensure_allowed(repo: ThrottleRepository, keys: list[str], now: datetime, settings: Settings) -> None:
    for row in await repo.get_many(keys):
        wait = retry_after(row, now, settings)
        if wait > 0:
            locked = row.locked_until is not None and row.locked_until > now
            reason = "locked after repeated failed logins" if locked else "too many failed logins"
            raise TooManyRequests(f"Login {reason}; try again in {wait} s", retry_after=wait)


async def record_failure(repo: ThrottleRepository, keys: list[str], now: datetime, settings: Settings) -> None:
    for key in keys:
        row = await repo.get(key)
        if row is None:
            await repo.add(LoginThrottle(key=key, failures=1, window_started_at=now, last_failure_at=now))
            continue
        expired_lock = row.locked_until is not None and row.locked_until <= now
        if not _in_window(row, now, settings) or expired_lock:
            row.failures, row.window_started_at, row.locked_until = 0, now, None
        row.failures += 1
        row.last_failure_at = now
        if row.failures >= settings.login_lock_after:
            row.locked_until = now + timedelta(minutes=settings.login_lock_minutes)
