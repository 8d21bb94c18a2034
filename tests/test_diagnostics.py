"""The from-scratch diagnostics agree with ArviZ within 1% (the issue's requirement) on the same draws."""

import arviz as az
import numpy as np
import pytest

from bayeskit import diagnostics as d


def ar1(rng, chains, n, phi, offsets=0.0):
    x = np.empty((chains, n))
    x[:, 0] = rng.normal(size=chains) / np.sqrt(1 - phi**2)
    for i in range(1, n):
        x[:, i] = phi * x[:, i - 1] + rng.normal(size=chains)
    return x + offsets


CASES = [(4, 1000, 0.9), (2, 501, 0.5), (1, 2000, 0.99), (4, 300, -0.3), (3, 5000, 0.0)]


@pytest.mark.parametrize("chains,n,phi", CASES)
@pytest.mark.parametrize("skew", [False, True])
def test_ess_and_rhat_match_arviz(chains, n, phi, skew):
    rng = np.random.default_rng(chains * 1000 + n)
    x = ar1(rng, chains, n, phi, offsets=rng.normal(size=(chains, 1)) * 0.2)
    if skew:
        x = np.exp(x / 2)
    for mine, method in [(d.ess_bulk, "bulk"), (d.ess_tail, "tail"), (d.ess, "mean")]:
        assert mine(x) == pytest.approx(float(az.ess(x, method=method)), rel=0.01), method
    if chains > 1:
        assert d.rhat(x) == pytest.approx(float(az.rhat(x, method="rank")), rel=0.01)
    assert d.mcse_mean(x) == pytest.approx(np.ravel(az.mcse(x, method="mean"))[0], rel=0.01)
    assert d.mcse_sd(x) == pytest.approx(arviz_mcse_sd(x), rel=0.01)


def arviz_mcse_sd(x):
    """``az.mcse(method="sd")``; ArviZ 0.23 fails there when numba is installed (it calls float() on a
    1-element array), so it runs with ArviZ's numba path switched off."""
    numba_was_on = az.Numba.numba_flag
    az.Numba.disable_numba()
    try:
        return float(np.ravel(az.mcse(x, method="sd"))[0])
    finally:
        if numba_was_on:
            az.Numba.enable_numba()


def test_mcse_sd_of_independent_normal_draws():
    # For n independent N(0, s^2) draws the sd estimate has standard error s / sqrt(2 n) (kurtosis 3);
    # with n = 40000 the MCSE estimate itself is within ~1.5% (its ESS estimate and fourth moment).
    rng = np.random.default_rng(11)
    x = rng.normal(0, 3.0, size=(4, 10000))
    assert d.mcse_sd(x) == pytest.approx(3.0 / np.sqrt(2 * x.size), rel=0.05)
    assert d.mcse_sd(x, ess_override=x.size / 4) == pytest.approx(2 * 3.0 / np.sqrt(2 * x.size), rel=0.05)


def test_ess_of_ar1_matches_theory():
    # For AR(1), tau = (1 + phi) / (1 - phi); with 4 x 20000 draws the estimate is within ~5%.
    rng = np.random.default_rng(7)
    phi = 0.8
    x = ar1(rng, 4, 20000, phi)
    assert d.integrated_autocorr_time(x) == pytest.approx((1 + phi) / (1 - phi), rel=0.08)


def test_autocorrelation_of_ar1_decays_geometrically():
    rng = np.random.default_rng(3)
    rho = d.autocorrelation(ar1(rng, 1, 200000, 0.7)[0])
    assert rho[0] == 1.0
    # sd of the lag-k estimate is about sqrt((1+phi^2)/(1-phi^2) / n) ~ 0.004 here
    np.testing.assert_allclose(rho[1:4], 0.7 ** np.arange(1, 4), atol=0.02)


def test_rhat_flags_chains_that_disagree():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4, 500)) + np.array([[0], [0], [0], [3]])
    assert d.rhat(x) > 1.1


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="NaN or infinite"):
        d.ess_bulk(np.array([[1.0, 2, np.nan, 4, 5]]))
    with pytest.raises(ValueError, match=r"shape \(chain, draw\)"):
        d.ess(np.zeros((2, 3, 4)))


def test_tail_ess_of_a_nearly_constant_discrete_quantity_is_nan_not_an_error():
    x = np.full((2, 500), 45.0)
    x[0, 10] = 44.0  # both the 5% and 95% quantiles are 45, and every draw is <= 45: no tail
    assert np.isnan(d.ess_tail(x))
    assert d.ess_bulk(x) > 0
