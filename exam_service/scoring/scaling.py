"""The reported scale: 100 to 1000, with the tier's cut score at exactly 700.

Piecewise linear in the weighted percent ``p`` with cut ``c`` (0 < c < 100)::

    p <  c:  100 + 600 * p / c                  rounded down, at most 699
    p >= c:  700 + 300 * (p - c) / (100 - c)    rounded down

Rounding down on both pieces keeps the map monotonic, never shows a failing total as 700, and
gives 700 at the cut and 1000 only for 100 percent. The arithmetic is exact (fractions), so the
same percent always gives the same scaled score.
"""

from __future__ import annotations

import math
from fractions import Fraction

LOWEST, CUT, HIGHEST = 100, 700, 1000


def scaled_score(percent: Fraction, cut: Fraction) -> int:
    if not 0 < cut < 100:
        raise ValueError(f"the cut score must lie strictly between 0 and 100, not {cut}")
    if not 0 <= percent <= 100:
        raise ValueError(f"a percent lies between 0 and 100, not {percent}")
    if percent < cut:
        return min(CUT - 1, math.floor(LOWEST + (CUT - LOWEST) * percent / cut))
    return math.floor(CUT + (HIGHEST - CUT) * (percent - cut) / (100 - cut))


def exact(value: float) -> Fraction:
    """A stored float as the decimal it was written as (points are kept to six places)."""
    return Fraction(repr(round(value, 6)))
