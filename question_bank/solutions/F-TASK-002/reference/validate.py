"""Validation of an incoming batch of taxi trips, run before the batch may be used for training.

Reference solution: one pass over the rows, column by column, reporting every problem.
"""

import math

# The schema of one trip record (see the task for the full rules).
REQUIRED = ("trip_id", "distance_km", "passenger_count", "payment_type", "fare_eur")
OPTIONAL = ("tip_eur",)
PAYMENT_TYPES = {"card", "cash", "voucher"}


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _check_value(column, value):
    """Returns a problem text (without the row prefix) or None."""
    if column == "trip_id":
        if not isinstance(value, str) or not value.strip():
            return f"trip_id must be a non-blank string, got {value!r}"
    elif column == "distance_km":
        if not _is_number(value) or not 0 <= value <= 200:
            return f"distance_km must be a finite number from 0 to 200, got {value!r}"
    elif column == "passenger_count":
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 6:
            return f"passenger_count must be an integer from 1 to 6, got {value!r}"
    elif column == "payment_type":
        if not isinstance(value, str) or value not in PAYMENT_TYPES:
            return f"payment_type must be one of card, cash, voucher, got {value!r}"
    elif column == "fare_eur":
        if not _is_number(value) or not 0 < value <= 1000:
            return f"fare_eur must be a finite number greater than 0 and at most 1000, got {value!r}"
    elif column == "tip_eur":
        if not _is_number(value) or not 0 <= value <= 1000:
            return f"tip_eur must be null or a finite number from 0 to 1000, got {value!r}"
    return None


def validate_batch(rows):
    """Return a list of problem descriptions for the batch; an empty list means it is valid."""
    if not isinstance(rows, list):
        return [f"batch must be a list of rows, got {type(rows).__name__}"]
    if not rows:
        return ["batch is empty"]
    problems = []
    seen = {}
    for number, row in enumerate(rows, start=1):
        if not isinstance(row, dict):
            problems.append(f"row {number}: batch rows must be objects, got {type(row).__name__}")
            continue
        for column in row:
            if column not in REQUIRED and column not in OPTIONAL:
                problems.append(f"row {number}: {column} is not a column of the schema")
        for column in REQUIRED:
            if row.get(column) is None:
                problems.append(f"row {number}: {column} is missing")
                continue
            problem = _check_value(column, row[column])
            if problem:
                problems.append(f"row {number}: {problem}")
        for column in OPTIONAL:
            if row.get(column) is not None:
                problem = _check_value(column, row[column])
                if problem:
                    problems.append(f"row {number}: {problem}")
        trip_id = row.get("trip_id")
        if isinstance(trip_id, str) and trip_id.strip():
            if trip_id in seen:
                problems.append(f"row {number}: trip_id {trip_id!r} repeats row {seen[trip_id]}")
            else:
                seen[trip_id] = number
    return problems
