"""The integrity rules: a sitting's log in, findings out. Pure; documented in docs/PROCTORING.md.

A finding has a stable ``key`` (rule and occurrence), so evaluating the same log twice finds
the same incidents and a proctor's confirm or dismiss sticks to the incident it was given on.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

FOCUS_LOST_TIMES = 3  # more than this many losses of focus is an incident
FOCUS_LOST_SECONDS = 30  # one loss of focus longer than this is an incident
REPEAT_CAP = 5  # repeated rules count at most this many occurrences

LOSS = {"visibility_hidden", "window_blur"}
REGAIN = {"visibility_visible", "window_focus"}
# the only kinds the rules read; other entries never change the findings
RELEVANT = frozenset(
    LOSS
    | REGAIN
    | {
        "fullscreen_exit",
        "paste",
        "connection_lost",
        "second_tab",
        "concurrent_session",
        "webcam_unavailable",
        "devtools_suspected",
        "print_attempt",
        "irregularity_reported",
    }
)


class LogEntry(Protocol):
    @property
    def seq(self) -> int: ...
    @property
    def kind(self) -> str: ...
    @property
    def source(self) -> str: ...
    @property
    def detail(self) -> dict[str, Any]: ...
    @property
    def at(self) -> datetime: ...


@dataclass(frozen=True)
class Finding:
    rule: str
    key: str
    points: int
    severity: str
    seq: int
    summary: str


@dataclass(frozen=True)
class Policy:
    webcam_required: bool


POINTS = {
    "focus_lost_repeatedly": 15,
    "focus_lost_long": 10,
    "fullscreen_exit": 5,
    "paste": 10,
    "connection_lost": 5,
    "second_device": 35,
    "webcam_missing": 25,
    "devtools_suspected": 10,
    "print_attempt": 10,
    "irregularity": 40,
}


def _finding(rule: str, occurrence: int, seq: int, summary: str) -> Finding:
    points = POINTS[rule]
    severity = "high" if points >= 25 else "medium" if points >= 10 else "low"
    return Finding(rule, f"{rule}:{occurrence}", points, severity, seq, summary)


def evaluate(entries: Iterable[LogEntry], policy: Policy) -> list[Finding]:
    findings: list[Finding] = []
    counts: dict[str, int] = {}
    losses = 0
    lost_since: datetime | None = None
    lost_seq = 0

    def repeat(rule: str, seq: int, summary: str, cap: int = REPEAT_CAP) -> None:
        counts[rule] = counts.get(rule, 0) + 1
        if counts[rule] <= cap:
            findings.append(_finding(rule, counts[rule], seq, summary))

    for entry in entries:
        kind = entry.kind
        if kind in LOSS and entry.source == "candidate":
            if lost_since is None:
                losses += 1
                lost_since, lost_seq = entry.at, entry.seq
                if losses == FOCUS_LOST_TIMES + 1:
                    findings.append(
                        _finding("focus_lost_repeatedly", 1, entry.seq, f"the exam lost focus {losses} times")
                    )
        elif kind in REGAIN and lost_since is not None:
            away = entry.at - lost_since
            if away > timedelta(seconds=FOCUS_LOST_SECONDS):
                repeat("focus_lost_long", lost_seq, f"away from the exam for {int(away.total_seconds())} s")
            lost_since = None
        elif kind == "fullscreen_exit":
            repeat("fullscreen_exit", entry.seq, "left full screen")
        elif kind == "paste":
            where = entry.detail.get("position")
            into = f" into question {where}" if where else ""
            repeat("paste", entry.seq, f"pasted {entry.detail.get('length', '?')} characters{into}")
        elif kind == "connection_lost":
            repeat("connection_lost", entry.seq, "heartbeats stopped")
        elif kind in ("second_tab", "concurrent_session"):
            repeat("second_device", entry.seq, "the exam was open in a second tab, browser or device", cap=1)
        elif kind == "webcam_unavailable" and policy.webcam_required:
            repeat("webcam_missing", entry.seq, f"camera unavailable ({entry.detail.get('reason', 'unknown')})", cap=1)
        elif kind == "devtools_suspected":
            repeat("devtools_suspected", entry.seq, "window sizes suggest developer tools", cap=2)
        elif kind == "print_attempt":
            repeat("print_attempt", entry.seq, "tried to print", cap=2)
        elif kind == "irregularity_reported":
            category = entry.detail.get("category", "other")
            repeat("irregularity", entry.seq, f"proctor reported an irregularity ({category})", cap=1000)
    return findings


def risk_score(points: Iterable[int]) -> int:
    return min(100, sum(points))
