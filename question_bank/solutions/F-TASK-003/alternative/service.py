"""The prediction API's request handling (alternative style).

FastAPI-like error details (a list of {loc, msg, type}), every problem of the request
collected before answering, HTTPStatus members as status codes, names imported from the
model module, and an extra "count" field in the 200 payload.
"""

import json
import logging
import math
from http import HTTPStatus

from model import FEATURES, MODEL_VERSION, predict

MAX_INSTANCES = 32
logger = logging.getLogger("churn.api")


def handle_health():
    return HTTPStatus.OK, {"status": "ok", "model_version": MODEL_VERSION}


def _errors(document):
    if type(document) is not dict or "instances" not in document:
        return [{"loc": ["body"], "msg": "expected an object with 'instances'", "type": "missing"}]
    instances = document["instances"]
    if type(instances) is not list:
        return [{"loc": ["body", "instances"], "msg": "expected a list", "type": "list_type"}]
    if not instances or len(instances) > MAX_INSTANCES:
        return [{"loc": ["body", "instances"], "msg": f"expected 1..{MAX_INSTANCES} items", "type": "too_long"}]
    errors = []
    for i, instance in enumerate(instances):
        if type(instance) is not dict:
            errors.append({"loc": ["body", "instances", i], "msg": "expected an object", "type": "dict_type"})
            continue
        for key in sorted(set(instance) ^ set(FEATURES), key=str):
            kind = "extra_forbidden" if key in instance else "missing"
            errors.append({"loc": ["body", "instances", i, key], "msg": kind.replace("_", " "), "type": kind})
        for name in FEATURES:
            value = instance.get(name)
            if name in instance and not (type(value) in (int, float) and math.isfinite(value) and value >= 0):
                errors.append({"loc": ["body", "instances", i, name], "msg": "expected a finite number >= 0", "type": "value_error"})
    return errors


def handle_predict(body):
    try:
        document = json.loads(body)
    except ValueError:  # also UnicodeDecodeError and JSONDecodeError
        return HTTPStatus.BAD_REQUEST, {"detail": "malformed JSON body"}
    errors = _errors(document)
    if errors:
        return HTTPStatus.UNPROCESSABLE_ENTITY, {"detail": errors}
    vectors = [[float(instance[name]) for name in FEATURES] for instance in document["instances"]]
    try:
        scores = predict(vectors)
    except Exception as exc:  # noqa: BLE001 - logged, never shown
        logger.error("prediction failed: %r", exc)
        return HTTPStatus.INTERNAL_SERVER_ERROR, {"detail": "internal error"}
    return HTTPStatus.OK, {"predictions": scores, "model_version": MODEL_VERSION, "count": len(scores)}
