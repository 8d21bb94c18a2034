"""Tests of bayeskit.uq: the conjugate regression against independent computations, the variance split, coverage."""

import numpy as np
import pytest
from scipy import integrate, stats

from bayeskit import uq


def _data(n=30, seed=0, hetero=False):
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 10, n)
    X = np.column_stack([np.ones(n), x])
    w = 0.3 + 0.2 * x if hetero else np.ones(n)
    y = 1 + 2.5 * x + w * rng.normal(0, 1, n)
    return X, y, w


PRIOR = dict(prior_mean=[0.5, 1.0], prior_V=np.array([[4.0, 0.5], [0.5, 2.0]]), a0=2.5, b0=1.5)


def _quadrature_moments(X, y, prior_mean, prior_V, a0, b0, w):
    """Posterior moments by 1-d quadrature over sigma^2, written from scratch (not from the conjugate update):
    p(sigma^2 | y) is proportional to IG(sigma^2; a0, b0) N(y; X m0, sigma^2 (W + X V0 X^T)), with W = diag(w^2), and
    beta | sigma^2, y is the Gaussian of a linear-Gaussian model, computed here by the Kalman-style gain form."""
    m0, V0 = np.asarray(prior_mean), np.asarray(prior_V)
    W = np.diag(w**2)
    C = W + X @ V0 @ X.T  # covariance of y / sigma^2, marginal over beta
    gain = V0 @ X.T @ np.linalg.inv(C)
    m_cond = m0 + gain @ (y - X @ m0)  # E[beta | sigma^2, y] does not depend on sigma^2
    V_cond = V0 - gain @ X @ V0  # Cov[beta | sigma^2, y] / sigma^2
    s2 = np.geomspace(1e-3, 1e3, 200_001)
    # the Gaussian log-density in sigma^2, evaluated for all grid points at once
    r = y - X @ m0
    quad = r @ np.linalg.solve(C, r)
    _, logdet = np.linalg.slogdet(C)
    n = len(y)
    logw = stats.invgamma.logpdf(s2, a0, scale=b0) - 0.5 * (n * np.log(2 * np.pi * s2) + logdet + quad / s2)
    dens = np.exp(logw - logw.max())
    norm = integrate.trapezoid(dens, s2)
    dens /= norm
    E = lambda g: integrate.trapezoid(dens * g, s2)  # noqa: E731
    return dict(m=m_cond, Es2=E(s2), Es=E(np.sqrt(s2)), beta_cov=E(s2) * V_cond, log_evidence=float(np.log(norm) + logw.max()))


@pytest.mark.parametrize("hetero", [False, True])
def test_nig_posterior_matches_quadrature(hetero):
    X, y, w = _data(hetero=hetero)
    post = uq.nig_posterior(X, y, noise_scale=w if hetero else None, **PRIOR)
    ref = _quadrature_moments(X, y, w=w, **PRIOR)
    # Numerical analysis: the trapezoid rule on 2e5 geometric points of a smooth density errs far below 1e-6
    # relative; a wrong b_n (e.g. a missing m0^T V0^-1 m0 term) or a_n (n instead of n/2) moves E[sigma^2] by percents,
    # and a missing weight 1/w^2 moves the means.
    np.testing.assert_allclose(post.mean, ref["m"], rtol=1e-9)
    np.testing.assert_allclose(post.sigma2_mean, ref["Es2"], rtol=1e-6)
    np.testing.assert_allclose(post.sigma_mean, ref["Es"], rtol=1e-6)
    np.testing.assert_allclose(post.beta_cov, ref["beta_cov"], rtol=1e-6)
    np.testing.assert_allclose(post.sigma_sd, np.sqrt(ref["Es2"] - ref["Es"] ** 2), rtol=1e-5)


def test_weighted_equals_rescaled_rows():
    # Regression check: noise sd sigma w_i is the same model as rows divided by w_i with constant noise.
    X, y, w = _data(hetero=True)
    a = uq.nig_posterior(X, y, noise_scale=w, **PRIOR)
    b = uq.nig_posterior(X / w[:, None], y / w, **PRIOR)
    np.testing.assert_allclose(a.mean, b.mean)
    np.testing.assert_allclose(a.V, b.V)
    assert a.a == b.a and np.isclose(a.b, b.b)


def test_predictive_against_monte_carlo():
    X, y, _ = _data()
    post = uq.nig_posterior(X, y, **PRIOR)
    x_new = np.array([[1.0, -2.0], [1.0, 5.0], [1.0, 15.0]])
    beta, sigma2 = post.sample(200_000, seed=1)
    y_new = beta @ x_new.T + np.sqrt(sigma2)[:, None] * np.random.default_rng(2).standard_normal((200_000, 3))
    dist = post.predictive(x_new)
    # Each exact quantile at probability q: the fraction of draws below it is Binomial(N, q) / N, sd sqrt(q(1-q)/N);
    # 5 sd over 9 comparisons. Catches a wrong df (2a vs a), a missing w^2 or x V x^T term in the scale.
    for q in (0.05, 0.5, 0.95):
        frac = (y_new < dist.ppf(q)).mean(axis=0)
        assert np.all(np.abs(frac - q) < 5 * np.sqrt(q * (1 - q) / 200_000)), (q, frac)
    # The exact split adds up to the Student-t variance (regression check of the two closed forms).
    ale, epi = post.predictive_variance(x_new)
    np.testing.assert_allclose(ale + epi, dist.var(), rtol=1e-12)
    lo, hi = post.predictive_interval(x_new, 0.8)
    np.testing.assert_allclose([lo, hi], [dist.ppf(0.1), dist.ppf(0.9)])


def test_sample_moments():
    X, y, _ = _data()
    post = uq.nig_posterior(X, y, **PRIOR)
    beta, sigma2 = post.sample(100_000, seed=3)
    # Independent draws: MCSE = sd / sqrt(N); 5 MCSE. Catches beta drawn with V instead of sigma^2 V, or IG(a, 1/b).
    se = post.beta_sd / np.sqrt(len(beta))
    assert np.all(np.abs(beta.mean(0) - post.mean) < 5 * se)
    assert abs(np.sqrt(sigma2).mean() - post.sigma_mean) < 5 * post.sigma_sd / np.sqrt(len(sigma2))
    # the sd of beta: the sample sd's standard error is about sd * sqrt((kurtosis - 1) / (4N)); the t marginal with
    # 2a = 35 degrees of freedom has kurtosis 3 + 6/31, so sd * sqrt(2.2 / (4N)) bounds it.
    assert np.all(np.abs(beta.std(0) - post.beta_sd) < 5 * post.beta_sd * np.sqrt(2.2 / (4 * len(beta))))
    a, b = post.sample(10, seed=4), post.sample(10, seed=4)
    np.testing.assert_array_equal(a[0], b[0])  # determinism


def test_pymc_model_is_the_same_model():
    """The PyMC model's joint log-density minus the exact log posterior is the same constant, log p(y), at every point:
    catches a PyMC model that differs from the conjugate one (sd vs variance, shape vs scale of the inverse gamma)."""
    pytest.importorskip("pymc")
    from bayeskit.models.regression import conjugate_regression_model

    X, y, w = _data(hetero=True)
    model = conjugate_regression_model(X, y, noise_scale=w, **PRIOR)
    post = uq.nig_posterior(X, y, noise_scale=w, **PRIOR)
    logp = model.compile_logp(jacobian=False)
    rng = np.random.default_rng(5)
    diffs = []
    for _ in range(5):
        beta = post.mean + rng.normal(0, 0.3, 2)
        s2 = post.sigma2_mean * np.exp(rng.normal(0, 0.3))
        exact = stats.invgamma.logpdf(s2, post.a, scale=post.b) + stats.multivariate_normal.logpdf(beta, post.mean, s2 * post.V)
        diffs.append(logp({"sigma2_log__": np.log(s2), "beta": beta}) - exact)
    # numerical analysis: differences of log-densities of size ~100 agree to ~1e-10; a changed model moves them by O(1)
    assert np.ptp(diffs) < 1e-8
    # and the constant is the log-evidence, computed by quadrature (trapezoid error far below 1e-5)
    ref = _quadrature_moments(X, y, w=w, **PRIOR)
    assert abs(np.mean(diffs) - ref["log_evidence"]) < 1e-5


def test_variance_decomposition_adds_up():
    X, y, _ = _data()
    post = uq.nig_posterior(X, y, **PRIOR)
    x_new = np.array([[1.0, 0.0], [1.0, 5.0], [1.0, 20.0]])
    beta, sigma2 = post.sample(200_000, seed=6)
    split = uq.variance_decomposition(beta @ x_new.T, np.sqrt(sigma2))
    ale, epi = post.predictive_variance(x_new)
    # MCSE of a mean of independent draws: sd(sigma^2)/sqrt(N), and for a variance sd((mu - mean)^2)/sqrt(N); 5 MCSE.
    # Catches an sd used in place of a variance, the mean's variance taken over the wrong axis, or the parts swapped.
    N = len(sigma2)
    assert np.all(np.abs(split.aleatoric - ale) < 5 * sigma2.std() / np.sqrt(N))
    dev2 = (beta @ x_new.T - post.mean @ x_new.T) ** 2
    assert np.all(np.abs(split.epistemic - epi) < 5 * dev2.std(0) / np.sqrt(N))
    np.testing.assert_allclose(split.total, split.aleatoric + split.epistemic)  # regression check
    # per-draw noise sds of the mean's shape are accepted and give the same answer
    same = uq.variance_decomposition(beta @ x_new.T, np.sqrt(sigma2)[:, None] * np.ones(3))
    np.testing.assert_allclose(same.aleatoric, split.aleatoric)


def test_coverage_of_the_exact_predictive_is_nominal():
    """Parameters from the prior, training data, one held-out point each: the exact predictive interval then covers
    with probability equal to its level (a theorem), so coverage is Binomial(R, level) / R."""
    rng = np.random.default_rng(7)
    R, n = 3000, 12
    prior = uq.NIGPosterior(mean=np.asarray(PRIOR["prior_mean"]), V=PRIOR["prior_V"], a=PRIOR["a0"], b=PRIOR["b0"])
    beta, sigma2 = prior.sample(R, seed=rng)
    locs, scales, y_test = np.empty(R), np.empty(R), np.empty(R)
    for r in range(R):
        x = rng.uniform(0, 10, n + 1)
        X = np.column_stack([np.ones(n + 1), x])
        yy = X @ beta[r] + np.sqrt(sigma2[r]) * rng.standard_normal(n + 1)
        dist = uq.nig_posterior(X[:n], yy[:n], **PRIOR).predictive(X[n:])
        locs[r], scales[r], y_test[r] = dist.mean()[0], dist.kwds["scale"][0], yy[n]
    df = 2 * PRIOR["a0"] + n
    curve = uq.coverage_curve(y_test, lambda q: stats.t.ppf(q, df, locs, scales))
    # 10 levels, 4 binomial se each: a false alarm has probability < 10 * 6e-5. Catches a predictive that is too
    # narrow (a Gaussian with the plug-in sigma, or the mean's sd without the noise).
    assert np.all(curve.within(4.0)), curve.z()
    too_narrow = uq.coverage_curve(y_test, lambda q: stats.norm.ppf(q, locs, 0.8 * scales))
    assert not np.all(too_narrow.within(4.0))
    assert curve.n == R and curve.se.shape == (10,)


def test_review_counts():
    sd = np.array([0.1, 0.5, 0.2, 0.9, 0.05])
    ood = np.array([False, True, False, True, True])
    c = uq.review_counts(sd, ood, threshold=0.3)
    # regression check of the counting
    assert (c.caught, c.n_ood, c.false_flags, c.n_in) == (2, 3, 0, 2)
    assert c.caught_rate == 2 / 3 and c.false_flag_rate == 0.0


@pytest.mark.parametrize("call, match", [
    (lambda X, y: uq.nig_posterior(X[:, 0], y), "2-d design"),
    (lambda X, y: uq.nig_posterior(X, y[:-1]), "y must have shape"),
    (lambda X, y: uq.nig_posterior(X, np.where(np.arange(len(y)) == 3, np.nan, y)), "finite"),
    (lambda X, y: uq.nig_posterior(X, y, prior_V=-np.eye(2)), "positive definite"),
    (lambda X, y: uq.nig_posterior(X, y, prior_V=np.eye(3)), "prior_V must be a symmetric"),
    (lambda X, y: uq.nig_posterior(X, y, a0=0), "a0 must be positive"),
    (lambda X, y: uq.nig_posterior(X, y, noise_scale=-np.ones(len(y))), "noise_scale must be finite and positive"),
    (lambda X, y: uq.nig_posterior(X, y).predictive(np.ones((2, 3))), "X_new must have 2 columns"),
    (lambda X, y: uq.nig_posterior(X, y).predictive_interval(X, level=1.5), "level must be a probability"),
    (lambda X, y: uq.variance_decomposition(np.ones((1, 3)), np.ones(1)), "at least two draws"),
    (lambda X, y: uq.variance_decomposition(np.ones((4, 3)), np.ones(3)), "noise_sd_draws must have shape"),
    (lambda X, y: uq.variance_decomposition(np.ones((4, 3)), -np.ones(4)), "non-negative"),
    (lambda X, y: uq.coverage_curve(y, lambda q: np.zeros(3)), "ppf must return"),
    (lambda X, y: uq.coverage_curve(y, lambda q: y, levels=[0.5, 1.0]), "levels must be"),
    (lambda X, y: uq.review_counts(np.ones(3), np.array([1, 0, 1]), 0.5), "is_ood must be booleans"),
    (lambda X, y: uq.review_counts(np.ones(3), np.ones(3, bool), -1.0), "threshold must be"),
])
def test_bad_input_is_refused(call, match):
    X, y, _ = _data()
    with pytest.raises(ValueError, match=match):
        call(X, y)
