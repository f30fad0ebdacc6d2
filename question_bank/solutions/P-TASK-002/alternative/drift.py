"""PSI drift check using bisect for binning (standard library only)."""
from bisect import bisect_right
from math import log
from collections import Counter


def bin_edges(reference, bins=10):
    if len(reference) == 0:
        raise ValueError("empty reference")
    if type(bins) is not int or bins <= 0:
        raise ValueError("bins must be a positive integer")
    low, high = min(reference), max(reference)
    if high <= low:
        raise ValueError("constant reference cannot be binned")
    return [low + (high - low) * k / bins for k in range(bins + 1)]


def _shares(values, edges, eps):
    n_bins = len(edges) - 1
    counts = Counter(min(max(bisect_right(edges, v) - 1, 0), n_bins - 1) for v in values)
    total = len(values)
    return [counts[i] / total if counts[i] else eps for i in range(n_bins)]


def psi(reference, current, bins=10, eps=1e-4):
    if len(current) == 0:
        raise ValueError("empty current")
    edges = bin_edges(reference, bins)
    expected = _shares(reference, edges, eps)
    actual = _shares(current, edges, eps)
    return float(sum((a - e) * log(a / e) for e, a in zip(expected, actual)))


def classify(value, moderate=0.1, significant=0.25):
    return "stable" if value < moderate else ("moderate" if value < significant else "significant")
