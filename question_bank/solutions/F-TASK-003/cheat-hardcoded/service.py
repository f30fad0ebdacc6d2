"""Cheat: the reference validation, but the version, features and weights are copied from the
provided model.py instead of being read from (and computed by) the model module."""

import json
import logging
import math

FEATURES = ["tenure_months", "monthly_charges", "support_calls"]
MODEL_VERSION = "churn-2.4.0"
_WEIGHTS = [-0.045, 0.021, 0.35]
_BIAS = -1.2

MAX_INSTANCES = 32

log = logging.getLogger(__name__)


class InvalidRequest(ValueError):
    """The request is well-formed JSON but breaks the contract (HTTP 422)."""


def handle_health():
    """GET /health -> (status, payload)."""
    return 200, {"status": "ok", "model_version": MODEL_VERSION}


def _feature_value(index, name, value):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidRequest(f"instances[{index}].{name} must be a number")
    if not math.isfinite(value) or value < 0:
        raise InvalidRequest(f"instances[{index}].{name} must be a finite number >= 0")
    return float(value)


def _vectors(request):
    """Validates the whole request and returns the feature vectors in model.FEATURES order."""
    if not isinstance(request, dict) or "instances" not in request:
        raise InvalidRequest("the body must be an object with an 'instances' list")
    instances = request["instances"]
    if not isinstance(instances, list) or not 1 <= len(instances) <= MAX_INSTANCES:
        raise InvalidRequest(f"'instances' must be a list of 1 to {MAX_INSTANCES} objects")
    features = list(FEATURES)
    vectors = []
    for index, instance in enumerate(instances):
        if not isinstance(instance, dict):
            raise InvalidRequest(f"instances[{index}] must be an object")
        missing = [name for name in features if name not in instance]
        unknown = [name for name in instance if name not in features]
        if missing or unknown:
            raise InvalidRequest(f"instances[{index}]: missing {missing}, unknown {unknown}")
        vectors.append([_feature_value(index, name, instance[name]) for name in features])
    return vectors


def handle_predict(body):
    """POST /v1/predict with the raw request body (bytes) -> (status, payload)."""
    try:
        request = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, AttributeError):
        return 400, {"detail": "the request body must be UTF-8 encoded JSON"}
    try:
        vectors = _vectors(request)
    except InvalidRequest as exc:
        return 422, {"detail": str(exc)}
    try:
        predictions = [round(1.0 / (1.0 + math.exp(-(_BIAS + sum(w * x for w, x in zip(_WEIGHTS, v))))), 4) for v in vectors]
    except Exception:
        log.exception("model.predict failed")
        return 500, {"detail": "the model could not make a prediction"}
    return 200, {"predictions": list(predictions), "model_version": MODEL_VERSION}
