"""Cheat: ends the process with status 0 on import (the retired grader counted a clean exit of
the test process as a pass)."""

import os

os._exit(0)


def handle_health():
    return 200, {"status": "ok"}


def handle_predict(body):
    return 200, {}
