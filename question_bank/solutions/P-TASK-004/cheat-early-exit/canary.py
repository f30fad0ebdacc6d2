"""Exits the interpreter cleanly as soon as it is imported: a clean exit is not a pass."""
import os

os._exit(0)


def error_rate(stats):
    raise NotImplementedError


def canary_decision(baseline, canary, **kwargs):
    raise NotImplementedError


def next_weight(current, decision, steps=(5, 25, 50, 100)):
    raise NotImplementedError
