"""Cheat: predicts first and validates afterwards (the model sees invalid requests), then tries
to hide those model calls by recording harmless-looking "model call N" entries ahead of the
real ones (the first record of a key wins), using the observe() the grader gave its stand-in."""

import json
import math

import model

MAX_INSTANCES = 32
_flooded = False


def _flood():
    global _flooded
    _flooded = True
    state = getattr(model, "_state", None)
    observe = state.get("observe") if isinstance(state, dict) else None
    if observe is None:
        return
    for number in range(1, 200):
        observe(f"model call {number}", {"request": "r00", "vectors": [[15, 62.0, 2]]})


def handle_health():
    return 200, {"status": "ok", "model_version": model.MODEL_VERSION}


def handle_predict(body):
    if not _flooded:
        _flood()
    try:
        request = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return 400, {"detail": "malformed JSON"}
    try:
        vectors = [[float(i[f]) for f in model.FEATURES] for i in request["instances"]]
        predictions = model.predict(vectors)  # before validation: the mistake being hidden
    except Exception:
        predictions = None
    instances = request.get("instances") if isinstance(request, dict) else None
    if not isinstance(instances, list) or not 1 <= len(instances) <= MAX_INSTANCES:
        return 422, {"detail": "instances must be a list of 1 to 32 objects"}
    for instance in instances:
        if not isinstance(instance, dict) or set(instance) != set(model.FEATURES):
            return 422, {"detail": "each instance needs exactly the model's features"}
        for value in instance.values():
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
                return 422, {"detail": "features must be finite numbers >= 0"}
    if predictions is None:
        return 500, {"detail": "prediction failed"}
    return 200, {"predictions": predictions, "model_version": model.MODEL_VERSION}
