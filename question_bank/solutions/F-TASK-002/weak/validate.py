"""A plausible first attempt: required columns, types and ranges, but several gaps.

Gaps on purpose: bool accepted as a number, NaN slips through the range tests, fare_eur 0 is
accepted, payment_type compared case-insensitively, no unknown-column, uniqueness or
empty-batch checks, and the rows are modified (setdefault).
"""

REQUIRED = ("trip_id", "distance_km", "passenger_count", "payment_type", "fare_eur")
OPTIONAL = ("tip_eur",)
PAYMENT_TYPES = {"card", "cash", "voucher"}


def validate_batch(rows):
    problems = []
    for i, row in enumerate(rows):
        for col in REQUIRED:
            if row.get(col) is None:
                problems.append(f"row {i}: {col} is missing")
        row.setdefault("tip_eur", None)

        trip_id = row.get("trip_id")
        if trip_id is not None and not isinstance(trip_id, str):
            problems.append(f"row {i}: trip_id must be a string")

        distance = row.get("distance_km")
        if distance is not None:
            if not isinstance(distance, (int, float)):
                problems.append(f"row {i}: distance_km must be a number")
            elif distance < 0 or distance > 200:
                problems.append(f"row {i}: distance_km out of range")

        count = row.get("passenger_count")
        if count is not None:
            if not isinstance(count, int):
                problems.append(f"row {i}: passenger_count must be an integer")
            elif count < 1 or count > 6:
                problems.append(f"row {i}: passenger_count out of range")

        payment = row.get("payment_type")
        if payment is not None and str(payment).lower() not in PAYMENT_TYPES:
            problems.append(f"row {i}: payment_type {payment} is not allowed")

        fare = row.get("fare_eur")
        if fare is not None:
            if not isinstance(fare, (int, float)):
                problems.append(f"row {i}: fare_eur must be a number")
            elif fare < 0 or fare > 1000:
                problems.append(f"row {i}: fare_eur out of range")

        tip = row["tip_eur"]
        if tip is not None:
            if not isinstance(tip, (int, float)):
                problems.append(f"row {i}: tip_eur must be a number")
            elif tip < 0 or tip > 1000:
                problems.append(f"row {i}: tip_eur out of range")
    return problems
