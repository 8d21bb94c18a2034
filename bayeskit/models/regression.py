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

__all__ = ["conjugate_regression_model", "linear_regression_model", "linear_regression_reference"]


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
    """The PyMC model (variables ``beta`` of shape ``(p,)`` and ``sigma``).

    ``beta ~ Normal(0, beta_sd)``, ``sigma ~ HalfNormal(sigma_sd)``, ``y ~ Normal(X beta, sigma)``. With
    ``batch_size`` the likelihood sees a random minibatch of that many rows at each evaluation, scaled up to all
    ``n`` rows (``total_size``): for stochastic optimisation (ADVI) only, not for MCMC; ``pm.fit(random_seed=...)``
    fixes the batches.

    Parameters
    ----------
    X : array_like, shape (n, p)
        Design matrix, finite.
    y : array_like, shape (n,)
        Responses, finite.
    beta_sd : float, default 10.0
        Prior sd of each coefficient.
    sigma_sd : float, default 5.0
        Scale of the half-normal prior of the noise sd.
    batch_size : int, optional
        Minibatch size, between 1 and ``n``.

    Returns
    -------
    pymc.Model

    Raises
    ------
    ValueError
        ``X`` not ``(n, p)`` or ``y`` not ``(n,)``, non-finite values, or ``batch_size`` outside ``1..n``.
    """
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
    """Exact posterior means and sds of ``beta[i]`` and ``sigma``, and ``log p(y)``, of :func:`linear_regression_model`.

    Closed forms given ``sigma``, and trapezoid quadrature over ``sigma`` on ``n_grid`` points within ``width``
    approximate posterior sds of the least-squares residual sd.

    Parameters
    ----------
    X, y, beta_sd, sigma_sd
        As for :func:`linear_regression_model`.
    n_grid : int, default 2001
        Quadrature points over ``sigma``.
    width : float, default 12.0
        Half-width of the ``sigma`` grid in approximate posterior sds.

    Returns
    -------
    bayeskit.exact.Reference
        Labels ``beta[0]``, ..., ``sigma``, and the log-evidence.

    Raises
    ------
    ValueError
        Bad ``X`` or ``y``, or the posterior of ``sigma`` reaches the end of the grid (increase ``width``).
    """
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


def conjugate_regression_model(X, y, prior_mean=None, prior_V=None, a0: float = 2.0, b0: float = 1.0,
                               noise_scale=None):
    """The PyMC model whose exact posterior is :func:`bayeskit.uq.nig_posterior` with the same arguments.

    ``sigma2 ~ InverseGamma(a0, b0)``, ``beta | sigma2 ~ N(prior_mean, sigma2 prior_V)`` (variables ``sigma2``,
    ``beta`` of shape ``(p,)``, and the Deterministic ``sigma``), ``y ~ N(X beta, sigma2 noise_scale^2)``.

    Parameters
    ----------
    X : array_like, shape (n, p)
        Design matrix (a column of ones for an intercept), finite.
    y : array_like, shape (n,)
        Responses, finite.
    prior_mean : array_like, shape (p,), optional
        ``m0``; default zeros.
    prior_V : array_like, shape (p, p), optional
        ``V0``, symmetric positive definite; default the identity.
    a0, b0 : float
        Shape and scale of the inverse-gamma prior of ``sigma2``.
    noise_scale : array_like, shape (n,) or scalar, optional
        Known noise shape ``w_i > 0`` (noise sd ``sigma w_i``); None for constant noise.

    Returns
    -------
    pymc.Model

    Raises
    ------
    ValueError
        On the same bad inputs as :func:`bayeskit.uq.nig_posterior` (it is called to check them).
    """
    import pymc as pm

    from bayeskit.uq.conjugate import nig_posterior

    X, y = _check(X, y)
    nig_posterior(X, y, prior_mean, prior_V, a0, b0, noise_scale)  # the same checks, the same defaults
    p = X.shape[1]
    m0 = np.zeros(p) if prior_mean is None else np.asarray(prior_mean, float)
    V0 = np.eye(p) if prior_V is None else np.asarray(prior_V, float)
    w = np.ones(len(y)) if noise_scale is None else np.broadcast_to(np.asarray(noise_scale, float), y.shape)
    with pm.Model() as model:
        sigma2 = pm.InverseGamma("sigma2", alpha=a0, beta=b0)
        beta = pm.MvNormal("beta", mu=m0, cov=sigma2 * V0)
        pm.Deterministic("sigma", pm.math.sqrt(sigma2))
        pm.Normal("y", X @ beta, pm.math.sqrt(sigma2) * w, observed=y)
    return model
