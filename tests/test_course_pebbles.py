"""bayeskit.course.pebbles: the chance a step stays inside, and the re-draw walk's limit (notebook 01)."""

import numpy as np
import pytest
from scipy import integrate

from bayeskit.course import pebbles


def test_stay_probability_1d_known_values():
    h = 0.3
    a = pebbles.stay_probability_1d(np.array([0.0, 0.7, 0.85, 1.0, -1.0]), h)
    # interior (at least h from the edges): 1; on an edge: half the steps leave; halfway in the edge band: 3/4
    np.testing.assert_allclose(a, [1.0, 1.0, 0.75, 0.5, 0.5], rtol=0, atol=1e-15)
    # a step of half-width >= 2 is a fresh uniform draw from [-1, 1] shifted: the same chance 1/h everywhere
    np.testing.assert_allclose(pebbles.stay_probability_1d(np.linspace(-1, 1, 7), 3.0), 1 / 3, atol=1e-15)


def test_stay_probability_matches_simulated_steps():
    # the chance a step stays inside, against the frequency of 200,000 simulated steps: catches a wrong
    # formula (e.g. forgetting that a corner point keeps a quarter of its steps); tolerance 4 binomial SEs
    rng = np.random.default_rng(1)
    n = 200_000
    for point in [(0.9, 0.2), (1.0, 1.0), (-0.95, 0.75), (0.0, 0.0)]:
        x = np.asarray(point) + rng.uniform(-0.3, 0.3, size=(n, 2))
        freq = np.all(np.abs(x) <= 1, axis=1).mean()
        a = pebbles.stay_probability(np.asarray(point), 0.3)
        assert abs(freq - a) < 4 * np.sqrt(a * (1 - a) / n) + 1e-12, (point, freq, a)
    assert pebbles.stay_probability(np.array([1.0, 1.0]), 0.3) == pytest.approx(0.25)


@pytest.mark.parametrize("h", [0.05, 0.3, 0.9, 1.0, 1.5, 2.0, 3.0])
def test_closed_form_integral_matches_quadrature(h):
    # regression check of the piecewise closed form against numerical quadrature, for steps below,
    # at and above the kinks (h = 1 and h = 2 change which pieces exist)
    for c in [0.0, 0.2, 0.5, 0.7, 0.95, 1.0]:
        numeric, _ = integrate.quad(lambda t: pebbles.stay_probability_1d(t, h), 0, c, points=[abs(1 - h)], epsabs=1e-13)
        assert pebbles._integral_of_a(c, h) == pytest.approx(numeric, abs=1e-12)


def test_redraw_marginal_density_is_normalised():
    value, _ = integrate.quad(lambda t: pebbles.redraw_marginal_density(t, 0.3), -1, 1, points=[-0.7, 0.7])
    assert value == pytest.approx(1.0, abs=1e-12)


def test_redraw_limit_against_two_dimensional_quadrature():
    # an independent computation (scipy's dblquad over the disc, no closed-form inner integral)
    h = 0.3

    def a(t):  # the fraction of [t - h, t + h] inside [-1, 1], written out for scalars (fast in quad)
        return (min(1.0, t + h) - max(-1.0, t - h)) / (2 * h)

    circle, err = integrate.dblquad(lambda y, x: a(x) * a(y), -1, 1,
                                    lambda x: -np.sqrt(1 - x * x), lambda x: np.sqrt(1 - x * x), epsabs=1e-10)
    square = (2 - h / 2) ** 2  # int_{-1}^{1} a = 2 (1 - h) + 2 h (3/4) for h <= 1
    assert pebbles.redraw_limit(h) == pytest.approx(4 * circle / square, abs=1e-7)
    assert pebbles.redraw_limit(h) == pytest.approx(3.3915, abs=5e-5)


def test_redraw_limit_by_weighted_direct_sampling():
    # the same limit as a weighted average over uniform throws: 4 sum(A * inside) / sum(A). Catches an
    # error shared by both quadratures (e.g. a wrong A); 4 standard errors of the ratio (delta method)
    rng = np.random.default_rng(7)
    x = rng.uniform(-1, 1, size=(400_000, 2))
    w = pebbles.stay_probability(x, 0.3)
    g = 4.0 * ((x**2).sum(axis=1) < 1)
    estimate = (w * g).sum() / w.sum()
    se = np.sqrt(np.mean((w * (g - estimate)) ** 2) / x.shape[0]) / w.mean()
    assert abs(estimate - pebbles.redraw_limit(0.3)) < 4 * se


def test_redraw_limit_is_pi_only_at_the_extremes():
    assert pebbles.redraw_limit(1e-4) == pytest.approx(np.pi, abs=1e-3)  # bias shrinks with the edge band
    assert pebbles.redraw_limit(2.0) == pytest.approx(np.pi, abs=1e-10)  # A constant: uniform target
    assert pebbles.redraw_limit(5.0) == pytest.approx(np.pi, abs=1e-10)
    assert pebbles.redraw_limit(0.3) > np.pi + 0.2


@pytest.mark.parametrize("bad", [0, -0.3, np.inf, np.nan])
def test_bad_step_is_refused(bad):
    with pytest.raises(ValueError, match="step"):
        pebbles.redraw_limit(bad)


def test_points_outside_the_square_are_refused():
    with pytest.raises(ValueError, match=r"\[-1, 1\]"):
        pebbles.stay_probability_1d(1.5, 0.3)
    with pytest.raises(ValueError, match="shape"):
        pebbles.stay_probability(np.zeros(3), 0.3)
