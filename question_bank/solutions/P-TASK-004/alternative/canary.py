"""Canary analysis written as a small policy table (standard library only)."""
from dataclasses import dataclass
from enum import Enum


class Decision(str, Enum):
    PROMOTE = "promote"
    CONTINUE = "continue"
    ROLLBACK = "rollback"


@dataclass(frozen=True)
class Window:
    requests: int
    errors: int
    p95_latency_ms: float

    @classmethod
    def parse(cls, stats):
        try:
            window = cls(stats["requests"], stats["errors"], stats["p95_latency_ms"])
        except (KeyError, TypeError) as exc:
            raise ValueError(f"incomplete metrics: {exc}") from None
        if min(window.requests, window.errors, window.p95_latency_ms) < 0:
            raise ValueError("metrics cannot be negative")
        if window.errors > window.requests:
            raise ValueError("errors exceed requests")
        return window

    @property
    def rate(self):
        return self.errors / self.requests if self.requests else 0.0


def error_rate(stats):
    return Window(stats["requests"], stats["errors"], stats.get("p95_latency_ms", 0.0)).rate


def canary_decision(baseline, canary, *, min_requests=500,
                    max_error_rate_increase=0.01, max_latency_ratio=1.2):
    base, new = Window.parse(baseline), Window.parse(canary)
    if not base.requests:
        raise ValueError("baseline without traffic")
    checks = [
        (new.requests < min_requests, Decision.CONTINUE),
        (new.rate - base.rate > max_error_rate_increase, Decision.ROLLBACK),
        (new.p95_latency_ms / base.p95_latency_ms > max_latency_ratio if base.p95_latency_ms
         else new.p95_latency_ms > 0, Decision.ROLLBACK),
    ]
    for failed, decision in checks:
        if failed:
            return decision.value
    return Decision.PROMOTE.value


def next_weight(current, decision, steps=(5, 25, 50, 100)):
    try:
        decision = Decision(decision)
    except ValueError:
        raise ValueError(f"unknown decision: {decision!r}") from None
    if decision is Decision.ROLLBACK:
        return 0
    if decision is Decision.CONTINUE:
        return current
    return next((step for step in sorted(steps) if step > current), current)
