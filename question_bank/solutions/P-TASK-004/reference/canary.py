"""Automated canary analysis: promote, continue or roll back a new model version.

Standard library only.
"""

KEYS = ("requests", "errors", "p95_latency_ms")


def error_rate(stats):
    """errors / requests, or 0.0 when there were no requests."""
    if stats["requests"] == 0:
        return 0.0
    return stats["errors"] / stats["requests"]


def _validate(name, stats):
    for key in KEYS:
        if key not in stats:
            raise ValueError(f"{name} metrics lack {key!r}")
        if stats[key] < 0:
            raise ValueError(f"{name} {key} is negative")
    if stats["errors"] > stats["requests"]:
        raise ValueError(f"{name} has more errors than requests")


def canary_decision(baseline, canary, *, min_requests=500,
                    max_error_rate_increase=0.01, max_latency_ratio=1.2):
    """Return "promote", "continue" or "rollback"."""
    _validate("baseline", baseline)
    _validate("canary", canary)
    if baseline["requests"] == 0:
        raise ValueError("the baseline has no requests to compare with")
    if canary["requests"] < min_requests:
        return "continue"
    if error_rate(canary) > error_rate(baseline) + max_error_rate_increase:
        return "rollback"
    if canary["p95_latency_ms"] > baseline["p95_latency_ms"] * max_latency_ratio:
        return "rollback"
    return "promote"


def next_weight(current, decision, steps=(5, 25, 50, 100)):
    """Return the canary's next traffic percentage."""
    if decision == "rollback":
        return 0
    if decision == "continue":
        return current
    if decision == "promote":
        higher = [step for step in steps if step > current]
        return min(higher) if higher else current
    raise ValueError(f"unknown decision {decision!r}")
