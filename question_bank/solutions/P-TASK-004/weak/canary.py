"""A first attempt: the rules are there, but no validation and the order is off."""


def error_rate(stats):
    return stats["errors"] / stats["requests"] if stats["requests"] else 0.0


def canary_decision(baseline, canary, *, min_requests=500,
                    max_error_rate_increase=0.01, max_latency_ratio=1.2):
    # checks the regressions first, then the traffic
    if error_rate(canary) >= error_rate(baseline) + max_error_rate_increase:
        return "rollback"
    if canary["p95_latency_ms"] >= baseline["p95_latency_ms"] * max_latency_ratio:
        return "rollback"
    if canary["requests"] < min_requests:
        return "continue"
    return "promote"


def next_weight(current, decision, steps=(5, 25, 50, 100)):
    if decision == "rollback":
        return 0
    if decision == "promote":
        for step in steps:
            if step > current:
                return step
    return current
