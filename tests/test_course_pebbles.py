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


def test_redraw_integrals():
    # the square's integral in closed form, (int a)^2 = (2 - h/2)^2 for h <= 1 (regression check), and the
    # limit is their ratio; the circle gets less than its area pi (A <= 1), more than pi - (4 - int A)
    for h in [0.1, 0.3, 0.9]:
        circle, square = pebbles.redraw_integrals(h)
        assert square == pytest.approx((2 - h / 2) ** 2, abs=1e-12)
        assert pebbles.redraw_limit(h) == pytest.approx(4 * circle / square, abs=1e-14)
        assert np.pi - (4 - square) < circle < np.pi


def test_hastings_rejection_share_against_the_corrected_walk():
    # The corrected walk started uniform is already stationary: its share of rejected re-drawn proposals
    # must match the formula. Catches a wrong rejection formula (e.g. max(0, 1 - A(x')/A(x)), or a factor 2 in
    # the symmetrised score). Tolerance: 4 combined standard errors (pebbles are independent walks).
    h, n_pebbles, n_steps = 0.3, 300, 600
    rng = np.random.default_rng(11)
    x = rng.uniform(-1, 1, size=(n_pebbles, 2))
    rejected = np.empty((n_pebbles, n_steps))
    for t in range(n_steps):
        proposal = x + rng.uniform(-h, h, size=x.shape)
        outside = np.any(np.abs(proposal) > 1, axis=1)
        while outside.any():
            proposal[outside] = x[outside] + rng.uniform(-h, h, size=(outside.sum(), 2))
            outside = np.any(np.abs(proposal) > 1, axis=1)
        reject = rng.uniform(size=n_pebbles) >= pebbles.stay_probability(x, h) / pebbles.stay_probability(proposal, h)
        proposal[reject] = x[reject]
        rejected[:, t] = reject
        x = proposal
    per_pebble = rejected.mean(axis=1)
    walk, walk_se = per_pebble.mean(), per_pebble.std(ddof=1) / np.sqrt(n_pebbles)
    share, share_se = pebbles.hastings_rejection_share(h, n=400_000, seed=3)
    assert abs(walk - share) < 4 * np.hypot(walk_se, share_se), (walk, walk_se, share, share_se)
    assert pebbles.hastings_rejection_share(2.5, n=1000) == (0.0, 0.0)  # A constant: nothing to correct


def _clamp_walkers(h, n_walkers, n_steps, burn_in, seed):
    rng = np.random.default_rng(seed)
    t = rng.uniform(-1, 1, size=n_walkers)
    out = np.empty((n_walkers, n_steps - burn_in))
    for i in range(n_steps):
        t = np.clip(t + rng.uniform(-h, h, size=n_walkers), -1, 1)
        if i >= burn_in:
            out[:, i - burn_in] = t
    return out


def test_clamp_stationary_against_simulated_walkers():
    # 4000 independent one-dimensional clamp walks: the share of time on an edge and the limit of the 2-D
    # estimate (pairing walkers as the two coordinates) against the grid solution. Catches a wrong transition
    # matrix (e.g. steps beyond an edge sent to the cells, or a transposed balance equation). Tolerance:
    # 4 standard errors from the spread of the walkers' own averages (walkers are independent).
    h = 0.3
    walk = _clamp_walkers(h, 4000, 1000, 200, seed=5)
    on_edge = (np.abs(walk) == 1).mean(axis=1) / 2        # per walker, share of time on one given edge
    _, cell_mass, edge_mass = pebbles.clamp_stationary_1d(h)
    assert abs(on_edge.mean() - edge_mass) < 4 * on_edge.std(ddof=1) / np.sqrt(len(on_edge))
    inside = 4.0 * (walk[:2000] ** 2 + walk[2000:] ** 2 < 1).mean(axis=1)
    assert abs(inside.mean() - pebbles.clamp_limit(h)) < 4 * inside.std(ddof=1) / np.sqrt(len(inside))
    assert cell_mass.sum() + 2 * edge_mass == pytest.approx(1.0, abs=1e-12)
    np.testing.assert_allclose(cell_mass, cell_mass[::-1], atol=1e-12)   # symmetric about 0


def test_clamp_limit_converges_with_the_grid():
    # regression check of the discretisation error stated in the docstring (about 3e-6 at h = 0.3)
    assert abs(pebbles.clamp_limit(0.3, 500) - pebbles.clamp_limit(0.3, 1000)) < 1e-5
    assert abs(pebbles.clamp_limit(0.3) - 2.5791) < 1e-4
    with pytest.raises(ValueError, match="n_cells"):
        pebbles.clamp_stationary_1d(0.3, n_cells=1)
