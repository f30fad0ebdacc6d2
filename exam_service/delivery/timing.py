"""The server-authoritative clock of an attempt, as pure functions of its row and "now"."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from exam_service.delivery.state import SITTING
from exam_service.models import Attempt, AttemptState

# saves that arrive this long after the deadline are still accepted (network latency)
GRACE = timedelta(seconds=15)


def time_limit_seconds(minutes: int, multiplier: float, extra_minutes: int) -> int:
    """The candidate's limit: the blueprint's minutes times the accommodation, plus extra minutes."""
    return math.ceil(minutes * 60 * multiplier) + extra_minutes * 60


def paused_so_far(attempt: Attempt, now: datetime) -> timedelta:
    running_pause = now - attempt.paused_at if attempt.paused_at is not None else timedelta()
    return timedelta(seconds=attempt.paused_seconds) + running_pause


def active_seconds(attempt: Attempt, now: datetime) -> int:
    """Whole seconds the sitting has run, pauses left out: no item can have taken longer."""
    if attempt.started_at is None:
        return 0
    return max(0, math.ceil((now - attempt.started_at - paused_so_far(attempt, now)).total_seconds()))


def deadline(attempt: Attempt, now: datetime) -> datetime | None:
    if attempt.started_at is None or attempt.time_limit_seconds is None:
        return None
    return (
        attempt.started_at
        + timedelta(seconds=attempt.time_limit_seconds + attempt.extension_seconds)
        + paused_so_far(attempt, now)
    )


def remaining_seconds(attempt: Attempt, now: datetime) -> int | None:
    """Whole seconds left; frozen while paused, 0 once past the deadline."""
    if attempt.state not in SITTING:
        return None
    end = deadline(attempt, now)
    assert end is not None
    return max(0, math.floor((end - now).total_seconds()))


def accepts_saves(attempt: Attempt, now: datetime) -> bool:
    end = deadline(attempt, now)
    return attempt.state is AttemptState.in_progress and end is not None and now <= end + GRACE


def overdue(attempt: Attempt, now: datetime) -> bool:
    """Past the deadline and its grace: the attempt must be submitted now."""
    end = deadline(attempt, now)
    return attempt.state is AttemptState.in_progress and end is not None and now > end + GRACE
