"""A correct PSI that validates its inputs with pydantic: a third-party package, which the
task forbids (the import is inside the function, so a scan of the top of the file misses it)."""
import math


def _validated(values):
    from pydantic import TypeAdapter

    return TypeAdapter(list[float]).validate_python(values)


def bin_edges(reference, bins=10):
    reference = _validated(reference)
    if not reference or not isinstance(bins, int) or bins < 1:
        raise ValueError("bad input")
    lo, hi = min(reference), max(reference)
    if lo == hi:
        raise ValueError("constant reference")
    return [lo + (hi - lo) * i / bins for i in range(bins + 1)]


def _shares(values, edges, eps):
    n = len(edges) - 1
    counts = [0] * n
    for v in values:
        i = 0
        while i < n - 1 and v >= edges[i + 1]:
            i += 1
        counts[i] += 1
    return [c / len(values) or eps for c in counts]


def psi(reference, current, bins=10, eps=1e-4):
    current = _validated(current)
    if not current:
        raise ValueError("empty current")
    edges = bin_edges(reference, bins)
    ref, cur = _shares(reference, edges, eps), _shares(current, edges, eps)
    return sum((c - r) * math.log(c / r) for r, c in zip(ref, cur))


def classify(value, moderate=0.1, significant=0.25):
    if value < moderate:
        return "stable"
    return "moderate" if value < significant else "significant"
