"""GPU cost helpers for the ML platform's FinOps report (standard library only)."""
import math
import statistics
from collections import Counter


class InvalidInput(ValueError):
    """A FinOps input outside its documented range."""


def _require(condition, message):
    if not condition:
        raise InvalidInput(message)


def job_cost(gpus, hours, price_per_gpu_hour, spot_discount=0.0, rework_fraction=0.0):
    """Cost of a job on `gpus` GPUs for `hours` hours, with optional spot discount and rework."""
    _require(gpus >= 1, "need at least one GPU")
    _require(hours >= 0, "hours cannot be negative")
    _require(price_per_gpu_hour >= 0, "price cannot be negative")
    _require(0 <= spot_discount < 1, "spot discount must be in [0, 1)")
    _require(rework_fraction >= 0, "rework cannot be negative")
    effective_price = price_per_gpu_hour * (1 - spot_discount)
    effective_hours = hours * (1 + rework_fraction)
    return gpus * effective_hours * effective_price


def recommend_gpu_count(current_gpus, p95_utilisation, target_utilisation=0.7, min_gpus=1):
    """Smallest GPU count that carries the p95 load at or below the target utilisation."""
    _require(0.0 <= p95_utilisation <= 1.0, "p95 utilisation is a fraction in [0, 1]")
    _require(0.0 < target_utilisation <= 1.0, "target utilisation is a fraction in (0, 1]")
    _require(current_gpus >= 1 and min_gpus >= 1, "GPU counts start at 1")
    busy_gpus = current_gpus * p95_utilisation
    count = math.ceil(busy_gpus / target_utilisation)
    return count if count > min_gpus else min_gpus


def forecast_monthly_cost(history, months_ahead):
    """Least-squares linear forecast of the next `months_ahead` monthly costs (never negative)."""
    _require(len(history) >= 2, "need two or more months")
    _require(months_ahead >= 1, "forecast at least one month")
    months = list(range(len(history)))
    slope, intercept = statistics.linear_regression(months, [float(c) for c in history])
    future = range(len(history), len(history) + months_ahead)
    return [max(slope * m + intercept, 0.0) for m in future]


def best_commitment(hourly_demand, on_demand_price, committed_price):
    """(gpus_to_commit, total_cost) minimising cost for the given hourly GPU demand."""
    hours = len(hourly_demand)
    at_least = Counter()
    for demand in hourly_demand:
        for level in range(1, demand + 1):
            at_least[level] += 1
    # the k-th committed GPU replaces at_least[k] on-demand GPU-hours and costs `hours` committed
    # GPU-hours; total cost is convex in k, so commit while the next GPU strictly saves money
    commit = 0
    while at_least[commit + 1] and at_least[commit + 1] * on_demand_price > hours * committed_price:
        commit += 1
    overflow = sum(max(demand - commit, 0) for demand in hourly_demand)
    return commit, commit * hours * committed_price + overflow * on_demand_price
