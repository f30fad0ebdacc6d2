"""GPU cost helpers for the ML platform's FinOps report (standard library only)."""
import math


def job_cost(gpus, hours, price_per_gpu_hour, spot_discount=0.0, rework_fraction=0.0):
    if gpus < 1 or hours < 0 or price_per_gpu_hour < 0:
        raise ValueError("invalid job")
    return gpus * hours * (1 + rework_fraction) * price_per_gpu_hour * (1 - spot_discount)


def recommend_gpu_count(current_gpus, p95_utilisation, target_utilisation=0.7, min_gpus=1):
    # rounds to the nearest count: under-provisions when the fraction is below .5
    return max(round(current_gpus * p95_utilisation / target_utilisation), min_gpus)


def forecast_monthly_cost(history, months_ahead):
    n = len(history)
    xs = range(n)
    mx, my = sum(xs) / n, sum(history) / n
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, history)) / sum((x - mx) ** 2 for x in xs)
    return [my + slope * (x - mx) for x in range(n, n + months_ahead)]


def best_commitment(hourly_demand, on_demand_price, committed_price):
    # commits to the peak, paying for idle reserved GPUs
    peak = max(hourly_demand)
    return peak, peak * len(hourly_demand) * committed_price
