"""Targets with exact answers shared by the HMC and NUTS tests (test_hmc.py, test_nuts.py)."""

import numpy as np

from bayeskit import diagnostics

#: Means and sds are checked within this many MCSE: over a few dozen such checks per file, a correct sampler
#: fails one with probability about 1e-3.
K_MCSE = 4.0


def gaussian(mean, cov):
    """log N(z | mean, cov) up to a constant, and its gradient, vectorised."""
    precision = np.linalg.inv(cov)

    def f(z):
        r = z - mean
        g = -r @ precision
        return 0.5 * np.sum(r * g, axis=1), g

    return f


def correlated_gaussian_50d():
    """A 50-D Gaussian from a 3-factor model: correlations up to 0.98 (median |correlation| 0.47), sds from 0.5
    to 2, condition number 6e3. A diagonal mass matrix leaves the correlations; a dense one removes them."""
    rng = np.random.default_rng(50)
    loadings = rng.normal(size=(50, 3))
    cov = loadings @ loadings.T + 0.1 * np.eye(50)
    corr = cov / np.sqrt(np.outer(np.diag(cov), np.diag(cov)))
    scales = np.logspace(-0.3, 0.3, 50)
    return np.linspace(-5, 5, 50), corr * np.outer(scales, scales)


def gumbel(z):
    """Standard Gumbel log-density and gradient: a skewed 1-D target with a closed-form CDF."""
    x = z[:, 0]
    return -(x + np.exp(-x)), (np.exp(-x) - 1.0)[:, None]


def assert_moments(x, mean, sd, k=K_MCSE):
    """Each coordinate's mean and sd within k MCSE of the exact ones. ``x`` is (chain, draw, ndim)."""
    failures = []
    for j in range(x.shape[-1]):
        xj = x[..., j]
        z_mean = (xj.mean() - mean[j]) / diagnostics.mcse_mean(xj)
        z_sd = (xj.std() - sd[j]) / diagnostics.mcse_sd(xj)
        if abs(z_mean) > k or abs(z_sd) > k:
            failures.append(f"coordinate {j}: mean {z_mean:+.1f} MCSE, sd {z_sd:+.1f} MCSE")
    assert not failures, "\n".join(failures)
