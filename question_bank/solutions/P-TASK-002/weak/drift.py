"""PSI drift check (first version)."""
import math


def bin_edges(reference, bins=10):
    lo, hi = min(reference), max(reference)
    step = (hi - lo) / bins
    return [lo + i * step for i in range(bins + 1)]


def _counts(values, edges):
    counts = [0] * (len(edges) - 1)
    for v in values:
        for i in range(len(edges) - 1):
            if edges[i] <= v < edges[i + 1] or (i == len(edges) - 2 and v == edges[-1]):
                counts[i] += 1
                break
    return counts


def psi(reference, current, bins=10, eps=1e-4):
    edges = bin_edges(reference, bins)
    ref = [c / len(reference) for c in _counts(reference, edges)]
    cur = [c / len(current) for c in _counts(current, edges)]
    ref = [p if p > 0 else eps for p in ref]
    cur = [p if p > 0 else eps for p in cur]
    return sum((c - r) * math.log(c / r) for r, c in zip(ref, cur))


def classify(value, moderate=0.1, significant=0.25):
    if value <= moderate:
        return "stable"
    if value <= significant:
        return "moderate"
    return "significant"
