"""The reported scale: 100 to 1000, monotonic, the cut at exactly 700 and nothing below it reaching 700."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from exam_service.scoring.scaling import scaled_score

percents = st.fractions(min_value=0, max_value=100, max_denominator=10_000)
cuts = st.fractions(min_value=Fraction(1, 100), max_value=Fraction(9999, 100), max_denominator=1000)


@given(cut=cuts)
def test_the_cut_maps_to_exactly_700_and_the_ends_to_100_and_1000(cut: Fraction) -> None:
    assert scaled_score(cut, cut) == 700
    assert scaled_score(Fraction(0), cut) == 100
    assert scaled_score(Fraction(100), cut) == 1000


@given(a=percents, b=percents, cut=cuts)
def test_scaling_is_monotonic_and_within_bounds(a: Fraction, b: Fraction, cut: Fraction) -> None:
    low, high = sorted((a, b))
    assert 100 <= scaled_score(low, cut) <= scaled_score(high, cut) <= 1000


@given(percent=percents, cut=cuts)
def test_a_failing_percent_never_shows_700_and_a_passing_one_never_less(percent: Fraction, cut: Fraction) -> None:
    assert (scaled_score(percent, cut) >= 700) == (percent >= cut)


def test_the_pieces_are_linear_between_their_anchors() -> None:
    cut = Fraction(70)
    assert scaled_score(Fraction(35), cut) == 400  # half-way to the cut: half-way from 100 to 700
    assert scaled_score(Fraction(85), cut) == 850  # half-way from the cut to 100: half-way from 700 to 1000
    assert scaled_score(Fraction(6999, 100), cut) == 699  # just below the cut rounds down, not up to 700


@pytest.mark.parametrize(("percent", "cut"), [(Fraction(-1), Fraction(70)), (Fraction(50), Fraction(100))])
def test_impossible_inputs_are_refused(percent: Fraction, cut: Fraction) -> None:
    with pytest.raises(ValueError, match="between"):
        scaled_score(percent, cut)
