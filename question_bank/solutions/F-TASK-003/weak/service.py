"""A plausible first attempt that works for the happy path but has the usual gaps.

Gaps on purpose: only JSONDecodeError is caught (a body that is not UTF-8 raises), booleans,
NaN and infinity pass the number test, unknown fields are accepted, the model is called once
per instance while validating (so a bad second instance is found after the first was already
scored), and a model failure is reported with the exception text.
"""

import json
import math

import model

MAX_INSTANCES = 32


def handle_health():
    return 200, {"status": "ok", "model_version": model.MODEL_VERSION}


def handle_predict(body):
    try:
        data = json.loads(body)
    except json.JSONDecodeError:
        return 400, {"detail": "invalid JSON"}
    if not isinstance(data, dict) or "instances" not in data:
        return 422, {"detail": "missing instances"}
    instances = data["instances"]
    if not isinstance(instances, list) or not 0 < len(instances) <= MAX_INSTANCES:
        return 422, {"detail": "instances must be a list of 1 to 32 items"}
    predictions = []
    for instance in instances:
        if not isinstance(instance, dict):
            return 422, {"detail": "each instance must be an object"}
        try:
            vector = [instance[name] for name in model.FEATURES]
        except KeyError as exc:
            return 422, {"detail": f"missing feature {exc}"}
        for value in vector:
            if not isinstance(value, (int, float)) or value < 0:
                return 422, {"detail": "features must be numbers >= 0"}
        try:
            predictions.extend(model.predict([vector]))
        except Exception as exc:
            return 500, {"detail": f"model error: {exc}"}
    return 200, {"predictions": predictions, "model_version": model.MODEL_VERSION}
