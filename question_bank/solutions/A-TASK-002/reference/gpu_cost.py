"""GPU cost helpers for the ML platform's FinOps report (standard library only)."""
import math


def job_cost(gpus, hours, price_per_gpu_hour, spot_discount=0.0, rework_fraction=0.0):
    """Cost of a job on `gpus` GPUs for `hours` hours, with optional spot discount and rework."""
    if gpus < 1:
        raise ValueError("gpus must be at least 1")
    if hours < 0:
        raise ValueError("hours must not be negative")
    if price_per_gpu_hour < 0:
        raise ValueError("price must not be negative")
    if rework_fraction < 0:
        raise ValueError("rework_fraction must not be negative")
    if not 0 <= spot_discount < 1:
        raise ValueError("spot_discount must be in [0, 1)")
    gpu_hours = gpus * hours * (1 + rework_fraction)
    return gpu_hours * price_per_gpu_hour * (1 - spot_discount)


def recommend_gpu_count(current_gpus, p95_utilisation, target_utilisation=0.7, min_gpus=1):
    """Smallest GPU count that carries the p95 load at or below the target utilisation."""
    if not 0 <= p95_utilisation <= 1:
        raise ValueError("p95_utilisation must be in [0, 1]")
    if not 0 < target_utilisation <= 1:
        raise ValueError("target_utilisation must be in (0, 1]")
    if current_gpus < 1 or min_gpus < 1:
        raise ValueError("GPU counts must be at least 1")
    needed = math.ceil(current_gpus * p95_utilisation / target_utilisation)
    return max(int(needed), int(min_gpus))


def forecast_monthly_cost(history, months_ahead):
    """Least-squares linear forecast of the next `months_ahead` monthly costs (never negative)."""
    values = [float(v) for v in history]
    n = len(values)
    if n < 2:
        raise ValueError("need at least two months of history")
    if months_ahead < 1:
        raise ValueError("months_ahead must be at least 1")
    mean_x = (n - 1) / 2
    mean_y = sum(values) / n
    sxx = sum((x - mean_x) ** 2 for x in range(n))
    sxy = sum((x - mean_x) * (y - mean_y) for x, y in enumerate(values))
    slope = sxy / sxx
    intercept = mean_y - slope * mean_x
    return [max(0.0, intercept + slope * x) for x in range(n, n + months_ahead)]


def best_commitment(hourly_demand, on_demand_price, committed_price):
    """(gpus_to_commit, total_cost) minimising cost for the given hourly GPU demand."""
    hours = len(hourly_demand)
    peak = max(hourly_demand, default=0)
    best = None
    for commit in range(0, int(peak) + 1):
        cost = commit * hours * committed_price
        cost += sum(max(0, d - commit) for d in hourly_demand) * on_demand_price
        if best is None or cost < best[1]:
            best = (commit, cost)
    return best
