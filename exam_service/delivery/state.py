"""The attempt lifecycle: one table of legal transitions; everything else asks it."""

from __future__ import annotations

from exam_service.core.errors import Conflict
from exam_service.models import AttemptState as S

TRANSITIONS: dict[S, frozenset[S]] = {
    S.registered: frozenset({S.checked_in, S.expired, S.terminated}),
    S.checked_in: frozenset({S.awaiting_authorization, S.in_progress, S.expired, S.terminated}),
    S.awaiting_authorization: frozenset({S.in_progress, S.expired, S.terminated}),
    S.in_progress: frozenset({S.paused, S.submitted, S.terminated}),
    S.paused: frozenset({S.in_progress, S.terminated}),
    # a sitting ends here; its result has a lifecycle of its own (``scoring.state``)
    S.submitted: frozenset(),
    S.terminated: frozenset(),
    S.expired: frozenset(),
}

# states in which the candidate is sitting the exam and the clock matters
SITTING = frozenset({S.in_progress, S.paused})
# states that can still expire when the window closes before the exam starts
NOT_STARTED = frozenset({S.registered, S.checked_in, S.awaiting_authorization})
# a candidate holds at most one attempt per tier in these states (booked, or being sat)
LIVE = NOT_STARTED | SITTING
# ... and sits at most one at a time: a form has been drawn and a proctor may be admitting them
STARTED = SITTING | {S.awaiting_authorization}


class IllegalTransition(Conflict):
    error = "illegal_transition"


def check(current: S, target: S) -> None:
    if target not in TRANSITIONS[current]:
        raise IllegalTransition(
            f"an attempt that is {current.value} cannot become {target.value}",
            state=current.value,
            requested=target.value,
        )
