import numpy as np
import pytest
from scipy import stats

from bayeskit.exact import LinearGaussian, grid_posterior
from bayeskit.models import ten_gift_model


def test_grid_recovers_a_normalised_correlated_gaussian():
    mean, cov = np.array([1.0, -2.0]), np.array([[1.0, 0.6], [0.6, 0.5]])
    dist = stats.multivariate_normal(mean, cov)
    g = grid_posterior(lambda x: dist.logpdf(x) + 3.0, [(-7, 9), (-7, 3)], n=401)
    # Simpson's rule on a 401-point grid of a smooth density: errors far below 1e-6
    np.testing.assert_allclose(g.mean, mean, atol=1e-6)
    np.testing.assert_allclose(g.sd, np.sqrt(np.diag(cov)), atol=1e-6)
    assert g.log_evidence == pytest.approx(3.0, abs=1e-6)


def test_grid_rejects_three_dimensions_and_nan():
    with pytest.raises(ValueError, match="1 or 2 dimensions"):
        grid_posterior(lambda x: x[:, 0], [(0, 1)] * 3)
    with pytest.raises(ValueError, match="NaN"):
        grid_posterior(lambda x: np.full(len(x), np.nan), [(0, 1)])


def test_linear_gaussian_matches_brute_force_in_one_dimension():
    # One weight, two noisy measurements: compare with a 1-D grid.
    lg = LinearGaussian.from_arrays([[1.0], [2.0]], [3.1, 5.8], noise_sd=0.7, prior_mean=1.0, prior_sd=2.0)
    g = grid_posterior(lambda w: lg.log_posterior(w), [(-10, 15)], n=4001)
    assert g.mean[0] == pytest.approx(lg.mean[0], abs=1e-8)
    assert g.sd[0] == pytest.approx(lg.sd[0], abs=1e-8)
    assert g.log_evidence == pytest.approx(lg.log_evidence, abs=1e-8)


def test_ten_gift_posterior_is_consistent():
    lg = ten_gift_model().exact
    # posterior mean solves the normal equations
    resid = lg.precision @ lg.mean - (lg.A.T @ lg.y / lg.noise_sd**2 + lg.prior_mean / 4.0)
    np.testing.assert_allclose(resid, 0, atol=1e-10)
    # mean-field sds are never larger than the true marginal sds
    assert np.all(lg.mean_field_sd <= lg.sd + 1e-12)


def test_bad_inputs():
    with pytest.raises(ValueError, match="y must have one value per row of A"):
        LinearGaussian.from_arrays(np.ones((3, 2)), [1, 2], 1.0, 0.0, 1.0)
    with pytest.raises(ValueError, match="y contains NaN"):
        LinearGaussian.from_arrays(np.ones((2, 2)), [1, np.nan], 1.0, 0.0, 1.0)
    with pytest.raises(ValueError, match="noise_sd must be positive"):
        LinearGaussian.from_arrays(np.ones((2, 2)), [1, 2], -1.0, 0.0, 1.0)
