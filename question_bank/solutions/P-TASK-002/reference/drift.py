"""Population Stability Index (PSI) drift check, standard library only."""
import math


def _check(values, name):
    if not values:
        raise ValueError(f"{name} must not be empty")


def bin_edges(reference, bins=10):
    """Return bins + 1 equally spaced edges from min(reference) to max(reference)."""
    _check(reference, "reference")
    if isinstance(bins, bool) or not isinstance(bins, int) or bins < 1:
        raise ValueError("bins must be a positive integer")
    lo, hi = min(reference), max(reference)
    if lo == hi:
        raise ValueError("all reference values are equal")
    width = (hi - lo) / bins
    return [lo + i * width for i in range(bins)] + [hi]


def _proportions(values, edges, eps):
    bins = len(edges) - 1
    counts = [0] * bins
    for v in values:
        i = 0
        while i < bins - 1 and v >= edges[i + 1]:
            i += 1
        counts[i] += 1
    return [(c / len(values)) or eps for c in counts]


def psi(reference, current, bins=10, eps=1e-4):
    """Return the PSI of `current` against `reference`."""
    _check(current, "current")
    edges = bin_edges(reference, bins)
    ref = _proportions(reference, edges, eps)
    cur = _proportions(current, edges, eps)
    return sum((c - r) * math.log(c / r) for r, c in zip(ref, cur))


def classify(value, moderate=0.1, significant=0.25):
    """Return "stable", "moderate" or "significant"."""
    if value < moderate:
        return "stable"
    if value < significant:
        return "moderate"
    return "significant"
