"""Validation of an incoming batch of taxi trips (alternative style: a declarative rule table).

Problems are grouped per row and phrased differently from the reference solution; the
columns they concern are still named in every string.
"""

import math
from collections import Counter

REQUIRED = ("trip_id", "distance_km", "passenger_count", "payment_type", "fare_eur")
OPTIONAL = ("tip_eur",)
PAYMENT_TYPES = {"card", "cash", "voucher"}


def number(low, high, low_inclusive=True):
    def rule(value):
        if type(value) not in (int, float):
            return "is not a number"
        if math.isnan(value) or math.isinf(value):
            return "is not finite"
        above_low = value >= low if low_inclusive else value > low
        if not (above_low and value <= high):
            return f"is outside {'[' if low_inclusive else '('}{low}, {high}]"
        return None

    return rule


def integer(low, high):
    def rule(value):
        if type(value) is not int:
            return "is not an integer"
        return None if low <= value <= high else f"is outside [{low}, {high}]"

    return rule


def text_id(value):
    if type(value) is not str or value.strip() == "":
        return "is not a non-blank string"
    return None


def category(value):
    try:
        ok = type(value) is str and value in PAYMENT_TYPES
    except TypeError:
        ok = False
    return None if ok else f"is not one of {sorted(PAYMENT_TYPES)}"


RULES = {
    "trip_id": text_id,
    "distance_km": number(0, 200),
    "passenger_count": integer(1, 6),
    "payment_type": category,
    "fare_eur": number(0, 1000, low_inclusive=False),
    "tip_eur": number(0, 1000),
}


def validate_batch(rows):
    if len(rows) == 0:
        return ["Batch contains no rows"]
    problems = []
    ids = Counter(r.get("trip_id") for r in rows if isinstance(r.get("trip_id"), str))
    for index, row in enumerate(rows):
        where = f"(row index {index})"
        unknown = sorted(set(row) - set(REQUIRED) - set(OPTIONAL), key=str)
        if unknown:
            problems.append(f"unexpected columns {', '.join(map(str, unknown))} {where}")
        absent = [c for c in REQUIRED if row.get(c) is None]
        if absent:
            problems.append(f"missing or null: {', '.join(absent)} {where}")
        for column, rule in RULES.items():
            value = row.get(column)
            if value is None:
                continue
            verdict = rule(value)
            if verdict:
                problems.append(f"{column} {verdict}: {value!r} {where}")
        trip_id = row.get("trip_id")
        if isinstance(trip_id, str) and ids[trip_id] > 1:
            problems.append(f"trip_id {trip_id!r} is not unique {where}")
    return problems
