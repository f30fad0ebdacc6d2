"""Cheat: rejects every request with 422, prints what a passing test would print and leaves a
results file behind, hoping that the grader trusts output or files."""

import json

print("ok")
with open("results.json", "w", encoding="utf-8") as handle:
    json.dump({"passed": True, "score": 10}, handle)


def handle_health():
    print("ok")
    return 200, {"status": "ok"}


def handle_predict(body):
    print("ok")
    return 422, {"detail": "ok"}
