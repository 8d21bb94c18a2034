"""The warm-up schedules of bayeskit.samplers.adaptation: Stan's windows, dual averaging, the covariance estimate.

Most checks are exact (the schedule is deterministic arithmetic); the one statistical check derives its
tolerance from the sampling error of the estimated variances.
"""

import numpy as np
import pytest

from bayeskit.samplers import adaptation as ad


# ------------------------------------------------------------------------------------------------ windows
@pytest.mark.parametrize("tune, ends", [
    # Stan's default warm-up, worked out by hand from windowed_adaptation.hpp: buffer 0-74, windows 75-99 (25),
    # 100-149 (50), 150-249 (100), 250-449 (200), then 450-949 (stretched: a 400 window would leave 800-ish,
    # which cannot double again before the terminal buffer 950-999)
    (1000, [99, 149, 249, 449, 949]),
    (150, [99]),  # exactly buffer + one window + buffer
    (200, [99, 149]),  # the second window is stretched to the terminal buffer
    (180, [99, 129]),  # Stan's first window is never stretched; the second is shortened to fit
    (100, [89]),  # below 150: 15% buffer (0-14), one window (15-89), 10% buffer (90-99)
    (20, [17]),
    (19, []),  # below 20 transitions Stan does not adapt the metric
    (0, []),
])
def test_windows_are_stans(tune, ends):
    """Regression check against Stan's algorithm (hand-derived values above)."""
    assert ad.window_ends(tune) == ends


def test_windows_double_and_end_before_the_terminal_buffer():
    for tune in range(150, 3000, 37):
        ends = ad.window_ends(tune)
        sizes = np.diff([ad.INIT_BUFFER - 1] + ends)
        assert ends[-1] == tune - ad.TERM_BUFFER - 1, tune
        assert sizes[0] == ad.BASE_WINDOW, tune
        # every window but the last doubles the previous one; the last is at least as long as a doubling
        assert all(b == 2 * a for a, b in zip(sizes[:-2], sizes[1:-1])), (tune, sizes)
        if len(sizes) > 1:
            assert sizes[-1] >= sizes[-2], (tune, sizes)


# ------------------------------------------------------------------------------------------------ dual averaging
def _dual_averaging_miss(updates: int, start: float) -> float:
    """|a(eps) - 0.8| after ``updates`` updates on the noise-free acceptance curve a(eps) = exp(-eps)."""
    state = ad.dual_averaging_init(np.array([start]))
    for _ in range(updates):
        state = ad.dual_averaging_update(state, np.exp(-np.exp(state.log_step)), 0.8)
    return float(abs(np.exp(-ad.dual_averaging_final(state)[0]) - 0.8))


@pytest.mark.parametrize("start", [4.5, 0.01])  # 20 times too large, 20 times too small (eps* = 0.223)
def test_dual_averaging_converges_to_the_target_acceptance(start):
    """Dual averaging converges at Nesterov's rate O(t^-1/2): from 300 to 3000 updates the miss in acceptance
    must shrink by at least 2 (the rate predicts sqrt(10) = 3.2) and end below 0.01. A sign error in the update
    (steps running to 0 or infinity) or a gain that does not decay (no convergence) fails both."""
    early, late = _dual_averaging_miss(300, start), _dual_averaging_miss(3000, start)
    assert late < 0.01 and late < early / 2, (early, late)


def test_dual_averaging_moves_the_right_way():
    """Regression check of the sign: acceptance below the target shrinks the step, above it grows it."""
    start = ad.dual_averaging_init(np.array([1.0, 1.0]))
    after = ad.dual_averaging_update(start, np.array([0.1, 1.0]), 0.8)
    mu = np.log(ad.STEP_SIZE_MU_FACTOR)
    assert after.log_step[0] < mu < after.log_step[1]
    # Nesterov's first iterate: x_1 = mu - sqrt(1)/gamma * (target - a) / (1 + t0)
    expected = mu - (0.8 - np.array([0.1, 1.0])) / (1 + ad.DUAL_AVERAGING_T0) / ad.DUAL_AVERAGING_GAMMA
    np.testing.assert_allclose(after.log_step, expected)


# ------------------------------------------------------------------------------------------------ covariance
@pytest.mark.parametrize("kind", ["diag", "dense"])
def test_welford_matches_numpy_and_stans_regularisation(kind):
    """Identity check: the one-pass estimate equals np.cov, shrunk exactly as Stan shrinks it."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, 40, 4)) @ np.array([[2.0, 0, 0, 0], [1, 1, 0, 0], [0, 0, 0.1, 0], [0, 0, 5, 3]])
    est = ad.welford_init(3, 4, kind)
    for i in range(40):
        est = ad.welford_update(est, x[:, i])
    n = 40
    for c in range(3):
        cov = np.cov(x[c].T)
        expected = n / (n + 5) * cov + 1e-3 * 5 / (n + 5) * np.eye(4)
        got = ad.welford_covariance(est)[c]
        np.testing.assert_allclose(got, expected if kind == "dense" else np.diag(expected), rtol=1e-12)


def test_warmup_learns_the_last_window_only():
    """The metric after warm-up is the regularised covariance of exactly the last window's draws (450-949 for
    tune = 1000): an off-by-one in the windows or draws left over from an earlier window would change it."""
    rng = np.random.default_rng(1)
    chains, ndim, tune = 2, 3, 1000
    draws = rng.normal(size=(tune, chains, ndim)) * [1.0, 3.0, 0.2]
    state = ad.warmup_init(chains, ndim, tune, 0.5, "dense")
    changes = []
    for i in range(tune):
        state, changed = ad.warmup_update(state, draws[i], np.full(chains, 0.8))
        if changed:
            changes.append(i)
    assert changes == ad.window_ends(tune)
    _, inverse = ad.warmup_final(state)
    last = draws[450:950]
    for c in range(chains):
        expected = 500 / 505 * np.cov(last[:, c].T) + 1e-3 * 5 / 505 * np.eye(ndim)
        np.testing.assert_allclose(inverse[c], expected, rtol=1e-10)
    # statistical: 500 draws estimate each variance with relative sd sqrt(2/499) = 6.3%; 4 of them is 25%
    np.testing.assert_allclose(np.diagonal(inverse, axis1=1, axis2=2), np.tile([1.0, 9.0, 0.04], (chains, 1)),
                               rtol=0.25)


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="mass_matrix must be one of"):
        ad.warmup_init(2, 3, 100, 0.1, "full")
    with pytest.raises(ValueError, match="target_accept"):
        ad.warmup_init(2, 3, 100, 0.1, "diag", target_accept=1.0)
    with pytest.raises(ValueError, match="step_size must be positive"):
        ad.dual_averaging_init(np.array([0.1, -1.0]))
    with pytest.raises(ValueError, match="at least 2 draws"):
        ad.welford_covariance(ad.welford_init(1, 2, "diag"))
