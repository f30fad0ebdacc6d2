"""The result lifecycle as one table of actions: the states each may start from, where it leads, who may take it.

``score`` is the system's: after every scoring the result goes where its facts put it
(``automatic``), except from an examiner's decision (released, invalidated), which scoring never
undoes. Every other action is an examiner's (or an administrator's).
"""

from __future__ import annotations

from dataclasses import dataclass

from exam_service.core.errors import Conflict
from exam_service.models import ResultState as S
from exam_service.models import Role

STAFF = frozenset({Role.examiner, Role.admin})
OPEN = frozenset({S.provisional, S.withheld, S.ready})


@dataclass(frozen=True)
class Action:
    starts: frozenset[S]
    leads_to: S | None  # None: the state stays
    roles: frozenset[Role]


ACTIONS: dict[str, Action] = {
    "release": Action(frozenset({S.ready, S.withheld}), S.released, STAFF),
    "override": Action(OPEN | {S.released}, None, STAFF),
    "confirm_change": Action(frozenset({S.released}), None, STAFF),
    "request_invalidation": Action(OPEN | {S.released}, None, STAFF),
    "withdraw_invalidation": Action(OPEN | {S.released}, None, STAFF),
    "confirm_invalidation": Action(OPEN | {S.released}, S.invalidated, STAFF),
}


class IllegalAction(Conflict):
    error = "illegal_action"


def check(action: str, current: S, role: Role) -> Action:
    rule = ACTIONS[action]
    if current not in rule.starts:
        allowed = ", ".join(sorted(s.value for s in rule.starts))
        raise IllegalAction(
            f"a {current.value} result cannot be given '{action}' (only a result that is {allowed})",
            state=current.value,
            action=action,
        )
    if role not in rule.roles:
        raise IllegalAction(f"'{action}' is an examiner's decision", action=action)
    return rule


def automatic(current: S | None, *, complete: bool, review: bool) -> S:
    """Where scoring puts a result: integrity review first, then pending marks, else ready to release."""
    if current in (S.released, S.invalidated):
        return current
    if review:
        return S.withheld
    return S.ready if complete else S.provisional
