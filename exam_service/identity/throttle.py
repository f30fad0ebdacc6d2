"""Failed-login throttling that slows guessing down without letting anyone lock a user out.

Three records count failed tries; each is forgotten after ``login_window_minutes`` without a
failure:

- one account from one address (``pair:``): after ``login_slow_after`` failures each further try
  must wait ``2**(failures - login_slow_after)`` seconds after the last one, at most
  ``MAX_WAIT_SECONDS``. This is what stops a guesser at one address.
- one account from every address (``account:``): the same slow-down, by the account's failures
  from all addresses, but only for an address that has itself failed on the account lately, and
  counted from that address's own last failure. An address with no recent failure for the
  account (a clean address) is never slowed by it, so the owner of an account that others are
  guessing at still gets in at once with the right password. An account is never locked.
- one address (``address:``): refused for ``login_lock_minutes`` once it has failed on
  ``login_lock_after`` different accounts within the window (password spraying). Only failures
  whose check has ended count here, so a test centre behind one NAT whose candidates all sign in
  at the same moment is not taken for a sprayer; a sprayer that sends tries in parallel gets at
  most as many extra tries as it has in flight. People behind one address who mistype their own
  passwords are each their own pair and do not slow one another down.

Every wait is under a minute, except the lock of an address that sprays.

Every try is counted *before* the password is checked, under row locks taken in key order, and
committed before the check, so parallel guesses cannot slip through one check and a request that
fails later cannot take its count back. A try still being checked counts as a failure of its pair
and account until it succeeds (``checking`` says how many of a pair's failures are such tries).
A successful try clears its pair and its account records, and lifts its address's lock
when the address no longer fails on enough accounts without it.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from exam_service.core.errors import TooManyRequests
from exam_service.core.settings import Settings
from exam_service.identity.repository import ThrottleRepository
from exam_service.models import LoginThrottle

# the longest slow-down; a guesser at one address gets about two tries a minute
MAX_WAIT_SECONDS = 30


@dataclass(frozen=True)
class ThrottleKeys:
    """The records one try counts against."""

    account: str
    address: str
    pair: str
    address_pairs: str  # what the keys of every pair of this address start with

    @property
    def all(self) -> list[str]:
        return [self.account, self.address, self.pair]


def throttle_keys(email: str, address: str) -> ThrottleKeys:
    """The account part is a digest, so any typed username fits the column."""
    account = hashlib.sha256(email.strip().lower().encode()).hexdigest()
    address = address[:200]
    pairs = f"pair:{address}|"
    return ThrottleKeys(f"account:{account}", f"address:{address}", f"{pairs}{account}", pairs)


def _locked(row: LoginThrottle, now: datetime) -> bool:
    return row.locked_until is not None and row.locked_until > now


def _forget_if_stale(row: LoginThrottle, now: datetime, settings: Settings) -> None:
    """A record quiet for a whole window, whose lock (if any) is over, starts afresh."""
    if _locked(row, now):
        return
    row.locked_until = None
    if now - row.last_failure_at >= timedelta(minutes=settings.login_window_minutes):
        row.failures, row.checking, row.window_started_at = 0, 0, now


def _slow_down(failures: int, since: datetime, now: datetime, settings: Settings) -> int:
    """Seconds still to wait after ``failures`` failures, the last one at ``since``."""
    if failures < settings.login_slow_after:
        return 0
    delay = min(2 ** min(failures - settings.login_slow_after, 8), MAX_WAIT_SECONDS)
    return max(0, math.ceil((since + timedelta(seconds=delay) - now).total_seconds()))


def retry_after(account: LoginThrottle, pair: LoginThrottle, now: datetime, settings: Settings) -> int:
    """Seconds this address must still wait before trying this account again, 0 when it may try now.

    The account's failures count only once the address has failed on the account itself.
    """
    if pair.failures == 0:
        return 0
    return _slow_down(max(pair.failures, account.failures), pair.last_failure_at, now, settings)


async def admit(repo: ThrottleRepository, keys: ThrottleKeys, now: datetime, settings: Settings) -> None:
    """Refuses a try the throttle forbids; otherwise counts it as a failure until refunded."""
    rows = await repo.lock(keys.all, now)
    account, address, pair = rows[keys.account], rows[keys.address], rows[keys.pair]
    for row in (account, address, pair):
        _forget_if_stale(row, now, settings)
    if address.locked_until is not None:
        wait = math.ceil((address.locked_until - now).total_seconds())
        raise TooManyRequests(
            f"Login locked for this address after failures on many accounts; try again in {wait} s", retry_after=wait
        )
    wait = retry_after(account, pair, now, settings)
    if wait > 0:
        raise TooManyRequests(f"Login slowed after repeated failures; try again in {wait} s", retry_after=wait)
    for row in (account, pair):
        row.failures += 1
        row.last_failure_at = now
    pair.checking += 1
    await _recount(repo, keys, address, now, settings)


async def confirm(repo: ThrottleRepository, keys: ThrottleKeys, now: datetime, settings: Settings) -> None:
    """A failed try: its check has ended, so it now counts towards its address's lock too."""
    rows = await repo.lock(keys.all, now)
    pair = rows[keys.pair]
    pair.checking = max(0, pair.checking - 1)
    await _recount(repo, keys, rows[keys.address], now, settings)


async def _recount(
    repo: ThrottleRepository, keys: ThrottleKeys, address: LoginThrottle, now: datetime, settings: Settings
) -> None:
    """The accounts this address failed on lately, checks ended; locks the address at the limit."""
    since = now - timedelta(minutes=settings.login_window_minutes)
    address.failures = await repo.count_failing(keys.address_pairs, since)
    address.last_failure_at = now
    if address.failures >= settings.login_lock_after and not _locked(address, now):
        address.locked_until = now + timedelta(minutes=settings.login_lock_minutes)


async def refund(repo: ThrottleRepository, keys: ThrottleKeys, now: datetime, settings: Settings) -> None:
    """A successful try: its account and pair start afresh, and its address is recounted."""
    rows = await repo.lock(keys.all, now)
    await repo.clear([keys.account, keys.pair])
    address = rows[keys.address]
    since = now - timedelta(minutes=settings.login_window_minutes)
    address.failures = await repo.count_failing(keys.address_pairs, since)
    if address.failures < settings.login_lock_after:
        address.locked_until = None
