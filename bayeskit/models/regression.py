"""Bayesian linear regression, for large data: the PyMC model (optionally on minibatches) and its exact posterior.

``beta ~ N(0, beta_sd^2 I)``, ``sigma ~ HalfNormal(sigma_sd)``, ``y ~ N(X beta, sigma^2 I)``.

The exact posterior needs only the sufficient statistics ``X^T X``, ``X^T y``, ``y^T y``, so it costs
nothing extra for 10^5 or 10^7 rows. Given ``sigma`` the model is linear-Gaussian:
``beta | sigma, y ~ N(m(sigma), S(sigma))`` with ``S^-1 = X^T X / sigma^2 + I / beta_sd^2``,
``m = S X^T y / sigma^2``, and the marginal likelihood ``p(y | sigma)`` is closed form (matrix
determinant lemma and Woodbury identity). The one remaining dimension, ``sigma``, is integrated by
the trapezoid rule on a fine grid around its mode; the mixture over ``sigma`` gives the exact
means and sds of ``beta`` and ``sigma`` and the log-evidence.

References
----------
Bishop, C. M. (2006). Pattern Recognition and Machine Learning, section 3.3 (and 3.5 for the evidence).
"""

from __future__ import annotations

import numpy as np
from scipy import integrate, stats

from bayeskit.exact import Reference

__all__ = ["linear_regression_model", "linear_regression_reference"]


def _check(X, y) -> tuple[np.ndarray, np.ndarray]:
    X = np.asarray(X, float)
    y = np.asarray(y, float)
    if X.ndim != 2 or y.shape != (X.shape[0],):
        raise ValueError(f"X must be (n, p) and y (n,), got shapes {X.shape} and {y.shape}")
    if not (np.all(np.isfinite(X)) and np.all(np.isfinite(y))):
        raise ValueError("X and y must be finite (no NaN or infinite values)")
    return X, y


def linear_regression_model(X, y, beta_sd: float = 10.0, sigma_sd: float = 5.0, batch_size: int | None = None,
                            ):
    """The PyMC model (variables ``beta`` of shape ``(p,)`` and ``sigma``). With ``batch_size`` the likelihood
    sees a random minibatch of that many rows at each evaluation, scaled up to all ``n`` rows
    (``total_size``): for stochastic optimisation (ADVI) only, not for MCMC; ``pm.fit(random_seed=...)`` fixes
    the batches."""
    import pymc as pm

    X, y = _check(X, y)
    with pm.Model() as model:
        if batch_size is None:
            X_data, y_data, total = X, y, None
        else:
            if not 1 <= int(batch_size) <= len(y):
                raise ValueError(f"batch_size must be between 1 and n = {len(y)}, got {batch_size}")
            X_data, y_data = pm.Minibatch(X, y, batch_size=int(batch_size))
            total = len(y)
        beta = pm.Normal("beta", 0.0, beta_sd, shape=X.shape[1])
        sigma = pm.HalfNormal("sigma", sigma_sd)
        pm.Normal("y", X_data @ beta, sigma, observed=y_data, total_size=total)
    return model


def _given_sigma(xtx, xty, yty, n, sigma, beta_sd):
    """Posterior mean and covariance of beta given sigma, and ``log p(y | sigma)``, from sufficient statistics."""
    p = len(xty)
    precision = xtx / sigma**2 + np.eye(p) / beta_sd**2
    chol = np.linalg.cholesky(precision)
    cov = np.linalg.inv(precision)
    mean = cov @ xty / sigma**2
    # log N(y | 0, sigma^2 I + beta_sd^2 X X^T): the matrix determinant lemma gives
    # log det = 2n log sigma + 2p log beta_sd + log det(precision); Woodbury gives y^T C^-1 y = (y^T y - xty^T mean) / sigma^2
    log_det = 2 * n * np.log(sigma) + 2 * p * np.log(beta_sd) + 2 * np.log(np.diag(chol)).sum()
    log_marginal = -0.5 * (n * np.log(2 * np.pi) + log_det + (yty - xty @ mean) / sigma**2)
    return mean, cov, float(log_marginal)


def linear_regression_reference(X, y, beta_sd: float = 10.0, sigma_sd: float = 5.0, n_grid: int = 2001,
                                width: float = 12.0) -> Reference:
    """Exact posterior means and sds of ``beta[i]`` and ``sigma``, and ``log p(y)``: closed forms given ``sigma``,
    and trapezoid quadrature over ``sigma`` on ``n_grid`` points within ``width`` approximate posterior sds
    of the least-squares residual sd (raises if the posterior has mass at the grid's ends)."""
    X, y = _check(X, y)
    n, p = X.shape
    xtx, xty, yty = X.T @ X, X.T @ y, float(y @ y)
    # the posterior of sigma is concentrated near the residual sd, with relative sd about 1/sqrt(2n)
    rss = float(yty - xty @ np.linalg.lstsq(xtx, xty, rcond=None)[0])
    centre = np.sqrt(max(rss, 1e-300) / n)
    half = width * centre / np.sqrt(2 * n)
    sigma = np.linspace(max(centre - half, centre * 1e-3), centre + half, int(n_grid))

    log_joint = np.empty_like(sigma)
    means = np.empty((len(sigma), p))
    second = np.empty((len(sigma), p, p))
    for k, s in enumerate(sigma):
        mean, cov, log_marginal = _given_sigma(xtx, xty, yty, n, s, beta_sd)
        means[k], second[k] = mean, cov + np.outer(mean, mean)
        log_joint[k] = log_marginal + stats.halfnorm.logpdf(s, scale=sigma_sd)
    top = log_joint.max()
    weight = np.exp(log_joint - top)
    if max(weight[0], weight[-1]) > 1e-12:
        raise ValueError("the posterior of sigma reaches the end of the quadrature grid; increase width")
    norm = integrate.trapezoid(weight, sigma)
    weight = weight / norm
    beta_mean = integrate.trapezoid(weight[:, None] * means, sigma, axis=0)
    beta_second = integrate.trapezoid(weight[:, None, None] * second, sigma, axis=0)
    beta_sd_post = np.sqrt(np.diag(beta_second) - beta_mean**2)
    sigma_mean = integrate.trapezoid(weight * sigma, sigma)
    sigma_sd_post = np.sqrt(integrate.trapezoid(weight * sigma**2, sigma) - sigma_mean**2)
    labels = [f"beta[{i}]" for i in range(p)]
    return Reference(
        mean={**dict(zip(labels, beta_mean)), "sigma": float(sigma_mean)},
        sd={**dict(zip(labels, beta_sd_post)), "sigma": float(sigma_sd_post)},
        log_evidence=float(top + np.log(norm)),
    )
