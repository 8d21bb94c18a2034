import numpy as np
import pytest
from scipy import stats

from bayeskit.exact import LinearGaussian, affine_grid_reference, grid_posterior
from bayeskit.models import four_gift_model, ten_gift_model


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


def test_affine_grid_on_a_thin_gaussian_sheet():
    # Four gifts on the precise scale: sds from 0.005 to 2, a grid along the eigen-axes with 21 points
    # per axis. The trapezoid rule converges exponentially on a Gaussian: errors at rounding level.
    exact = four_gift_model(noise_sd=0.01).exact
    lam, vec = np.linalg.eigh(exact.cov)
    ref = affine_grid_reference(exact.log_posterior, exact.mean, vec * np.sqrt(lam), [f"w[{i}]" for i in range(4)], n=21)
    np.testing.assert_allclose(list(ref.mean.values()), exact.mean, rtol=0, atol=1e-9)
    np.testing.assert_allclose(list(ref.sd.values()), exact.sd, rtol=1e-9)
    assert ref.log_evidence == pytest.approx(exact.log_evidence, abs=1e-9)


def test_affine_grid_across_a_support_edge_converges_like_the_spacing():
    # x ~ HalfNormal(1) (a jump of sqrt(2/pi) at 0), y | x ~ Normal(x, 0.1): a tilted ridge cut by x = 0.
    # Across a jump the trapezoid rule errs by O(h): the error must stay below h (the spacing along the
    # ridge, in x) and shrink at least in proportion to h.
    def log_density(p):
        x, y = p[:, 0], p[:, 1]
        return np.where(x >= 0, stats.halfnorm.logpdf(np.abs(x)) + stats.norm.logpdf(y, x, 0.1), -np.inf)

    scale = np.array([[1.0, -0.1], [1.0, 0.1]]) / np.sqrt(2)  # ridge axis first, then across it
    exact_mean = np.sqrt(2 / np.pi)
    errors = []
    for n in (101, 201, 401):
        ref = affine_grid_reference(log_density, [0.8, 0.8], scale, ["x", "y"], n=(n, n), half_width=(9, 8))
        errors.append(abs(ref.mean["x"] - exact_mean))
        h = 18 / (n - 1) / np.sqrt(2)  # spacing along the ridge, in x
        assert ref.log_evidence == pytest.approx(0.0, abs=h)  # normalised density: log Z = 0
        assert ref.sd["x"] == pytest.approx(np.sqrt(1 - 2 / np.pi), abs=h)
        assert errors[-1] < h
    assert errors[2] < errors[0] / 4  # at least first order: h / 4 gives an error 4 times smaller


def test_affine_grid_refuses_a_box_that_cuts_the_posterior():
    with pytest.raises(ValueError, match="faces"):
        affine_grid_reference(lambda p: -0.5 * (p**2).sum(axis=1), [0.0, 0.0], np.eye(2), ["a", "b"], half_width=2)
    with pytest.raises(ValueError, match="non-singular"):
        affine_grid_reference(lambda p: -0.5 * (p**2).sum(axis=1), [0.0, 0.0], np.zeros((2, 2)), ["a", "b"])


def test_grids_call_the_density_in_bounded_batches_with_the_same_answer():
    # Memory is bounded by evaluating at most max_batch points per call; a slicing bug (a dropped or
    # repeated tail chunk, points out of order) would change the answer or leave cells unset.
    sizes = []

    def log_density(x):
        sizes.append(len(x))
        return stats.multivariate_normal([0.3, -0.2], [[1.0, 0.6], [0.6, 2.0]]).logpdf(x)

    whole = grid_posterior(log_density, [(-7, 7), (-9, 9)], n=201, max_batch=10**6)
    assert sizes == [201 * 201]
    sizes.clear()
    chunked = grid_posterior(log_density, [(-7, 7), (-9, 9)], n=201, max_batch=1000)
    assert max(sizes) == 1000 and sum(sizes) == 201 * 201
    np.testing.assert_array_equal(chunked.density, whole.density)
    assert chunked.log_evidence == whole.log_evidence
    sizes.clear()
    ref = affine_grid_reference(log_density, [0.3, -0.2], np.diag([1.0, 1.5]), ["a", "b"], n=41,
                                      max_batch=7)
    assert max(sizes) == 7 and sum(sizes) == 41 * 41
    assert abs(ref.mean["a"] - 0.3) < 1e-6  # trapezoid on a Gaussian: exponentially accurate
    with pytest.raises(ValueError, match="max_batch"):
        grid_posterior(log_density, [(-7, 7)], n=11, max_batch=0)
