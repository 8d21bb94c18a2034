"""Variational inference from scratch: fit a Gaussian q to a posterior by maximising the ELBO.

``ELBO(q) = E_q[log p(theta, D)] + H[q] = log p(D) - KL(q || p(theta | D)) <= log p(D)``.

The expectation is estimated by Monte Carlo with the **reparameterisation trick**,
``theta = m + L eps`` with ``eps ~ N(0, I)``, which makes the estimate a differentiable function of
``(m, L)``: ``grad_m = E[g]``, ``grad_L = E[g eps^T]`` (lower triangle), ``g = grad log p(theta, D)``;
the entropy ``H[q] = sum log L_ii + d/2 log(2 pi e)`` is exact. ``L`` is diagonal for the
mean-field family and lower-triangular for the full-rank one; its diagonal is kept positive by
optimising ``log L_ii``. Optimiser: Adam (Kingma & Ba 2015); the result averages the iterates of
the last ``average_fraction`` of the run (Polyak averaging), which removes most of the
stochastic-gradient jitter.

In one to three dimensions the same optimum can be found without any randomness:
:func:`elbo_by_quadrature` computes the ELBO with a tensor Gauss-Hermite rule and
:func:`fit_gaussian_by_quadrature` maximises it with L-BFGS. That is the exact reference the
stochastic fits (ours and PyMC's ADVI) are checked against.

References
----------
Kucukelbir, A., Tran, D., Ranganath, R., Gelman, A., Blei, D. M. (2017). Automatic differentiation
variational inference. JMLR 18, 1-45.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from bayeskit._checks import as_rng, check_positive_int

__all__ = ["GaussianVI", "fit_gaussian", "elbo_by_quadrature", "fit_gaussian_by_quadrature"]

LogDensityGrad = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class GaussianVI:
    mean: np.ndarray
    chol: np.ndarray  # lower-triangular L, cov = L L^T (diagonal for mean-field)
    elbo_trace: np.ndarray  # Monte Carlo ELBO at every step
    family: str

    @property
    def cov(self) -> np.ndarray:
        return self.chol @ self.chol.T

    @property
    def sd(self) -> np.ndarray:
        return np.sqrt(np.diag(self.cov))

    def elbo(self, log_density_grad: LogDensityGrad, n: int = 20_000, seed=None) -> tuple[float, float]:
        """ELBO of the fitted q by Monte Carlo with ``n`` draws: estimate and standard error."""
        eps = as_rng(seed).standard_normal((n, len(self.mean)))
        logp, _ = log_density_grad(self.mean + eps @ self.chol.T)
        d = len(self.mean)
        entropy = np.log(np.abs(np.diag(self.chol))).sum() + 0.5 * d * np.log(2 * np.pi * np.e)
        return float(logp.mean() + entropy), float(logp.std(ddof=1) / np.sqrt(n))

    def sample(self, n: int, seed=None) -> np.ndarray:
        return self.mean + as_rng(seed).standard_normal((n, len(self.mean))) @ self.chol.T


def _chol_from(params: np.ndarray, d: int, family: str) -> tuple[np.ndarray, np.ndarray]:
    """Unpack ``(m, log diag L, strictly-lower L)`` from one flat vector (the lower part only for full-rank)."""
    m, log_diag = params[:d], params[d:2 * d]
    chol = np.diag(np.exp(log_diag))
    if family == "fullrank":
        chol[np.tril_indices(d, k=-1)] = params[2 * d:]
    return m, chol


def _elbo_gradient(grad: np.ndarray, eps: np.ndarray, weights: np.ndarray, chol: np.ndarray):
    """Reparameterisation gradient of the ELBO from ``g = grad log p`` at ``theta = m + L eps``, averaged with
    ``weights``: ``(d/dm, d/d log L_ii (with the entropy's +1), d/dL (full matrix; keep its strict lower part))``."""
    g_chol = (grad * weights[:, None]).T @ eps
    return weights @ grad, np.diag(g_chol) * np.diag(chol) + 1.0, g_chol


def _hermite_rule(d: int, n_nodes: int) -> tuple[np.ndarray, np.ndarray]:
    """Tensor Gauss-Hermite nodes ``(n_nodes^d, d)`` and weights for expectations under N(0, I)."""
    if not 1 <= d <= 3:
        raise ValueError(f"quadrature ELBOs are for 1 to 3 dimensions ({n_nodes}^d nodes), got d = {d}")
    z, w = np.polynomial.hermite_e.hermegauss(n_nodes)
    w = w / w.sum()
    grids = np.meshgrid(*([z] * d), indexing="ij")
    weights = np.prod(np.meshgrid(*([w] * d), indexing="ij"), axis=0)
    return np.column_stack([g.ravel() for g in grids]), weights.ravel()


def elbo_by_quadrature(log_density_grad: LogDensityGrad, mean, chol, n_nodes: int = 32) -> float:
    """``E_q[log p] + H[q]`` for ``q = N(mean, chol chol^T)``, the expectation by a tensor Gauss-Hermite rule
    with ``n_nodes`` points per dimension (exact for polynomials of degree ``2 n_nodes - 1``; for a smooth
    log density it converges fast: compare two ``n_nodes``)."""
    mean, chol = np.atleast_1d(np.asarray(mean, float)), np.atleast_2d(np.asarray(chol, float))
    z, w = _hermite_rule(mean.size, check_positive_int("n_nodes", n_nodes))
    logp, _ = log_density_grad(mean + z @ chol.T)
    entropy = np.log(np.abs(np.diag(chol))).sum() + 0.5 * mean.size * np.log(2 * np.pi * np.e)
    return float(w @ np.asarray(logp, float) + entropy)


def fit_gaussian_by_quadrature(log_density_grad: LogDensityGrad, initial_mean, family: str = "meanfield",
                               n_nodes: int = 32, initial_sd: float = 1.0) -> GaussianVI:
    """The Gaussian that maximises the ELBO, with no Monte Carlo: the ELBO and its gradient by Gauss-Hermite
    quadrature (:func:`elbo_by_quadrature`), maximised by L-BFGS. For 1 to 3 dimensions. ``elbo_trace``
    holds the ELBO at each L-BFGS iteration; raises if L-BFGS does not converge."""
    from scipy import optimize

    if family not in ("meanfield", "fullrank"):
        raise ValueError(f"family must be 'meanfield' or 'fullrank', got {family!r}")
    m0 = np.atleast_1d(np.asarray(initial_mean, float))
    d = m0.size
    z, w = _hermite_rule(d, check_positive_int("n_nodes", n_nodes))
    lower = np.tril_indices(d, k=-1)
    n_lower = len(lower[0]) if family == "fullrank" else 0

    def negative_elbo(params):
        m, chol = _chol_from(params, d, family)
        logp, grad = log_density_grad(m + z @ chol.T)
        logp, grad = np.asarray(logp, float), np.asarray(grad, float)
        if not (np.all(np.isfinite(logp)) and np.all(np.isfinite(grad))):
            return np.inf, np.zeros_like(params)
        g_mean, g_log_diag, g_chol = _elbo_gradient(grad, z, w, chol)
        g = np.concatenate([g_mean, g_log_diag, g_chol[lower] if n_lower else []])
        elbo = w @ logp + np.log(np.diag(chol)).sum() + 0.5 * d * np.log(2 * np.pi * np.e)
        return -elbo, -g

    trace = []
    start = np.concatenate([m0, np.full(d, np.log(initial_sd)), np.zeros(n_lower)])
    result = optimize.minimize(negative_elbo, start, jac=True, method="L-BFGS-B",
                               callback=lambda p: trace.append(-negative_elbo(p)[0]),
                               options={"maxiter": 5000, "gtol": 1e-10, "ftol": 1e-15})
    if not result.success:
        raise RuntimeError(f"L-BFGS did not converge: {result.message}")
    m, chol = _chol_from(result.x, d, family)
    return GaussianVI(m, chol, np.asarray(trace), family)


def fit_gaussian(log_density_grad: LogDensityGrad, initial_mean, family: str = "meanfield", n_steps: int = 5000,
                 n_mc: int = 10, learning_rate: float = 0.05, initial_sd: float = 1.0, average_fraction: float = 0.2,
                 seed=None) -> GaussianVI:
    """Maximise the ELBO over Gaussians ``q = N(m, L L^T)``.

    Parameters
    ----------
    log_density_grad
        Vectorised ``(n, d) -> (log p (n,), grad (n, d))`` of the unnormalised log posterior.
    family
        ``"meanfield"`` (independent coordinates) or ``"fullrank"``.
    n_mc
        Monte Carlo draws per gradient estimate.
    """
    if family not in ("meanfield", "fullrank"):
        raise ValueError(f"family must be 'meanfield' or 'fullrank', got {family!r}")
    n_steps = check_positive_int("n_steps", n_steps)
    n_mc = check_positive_int("n_mc", n_mc)
    if not (learning_rate > 0 and initial_sd > 0 and 0 < average_fraction <= 1):
        raise ValueError("need learning_rate > 0, initial_sd > 0 and 0 < average_fraction <= 1")
    rng = as_rng(seed)
    m = np.array(initial_mean, float)
    if m.ndim != 1 or not np.all(np.isfinite(m)):
        raise ValueError(f"initial_mean must be a finite vector, got {initial_mean!r}")
    d = m.size
    log_diag = np.full(d, np.log(initial_sd))
    lower = np.zeros((d, d))  # strictly lower part (full-rank only)
    params = [m, log_diag, lower]
    first = [np.zeros_like(p) for p in params]
    second = [np.zeros_like(p) for p in params]
    beta1, beta2, tiny = 0.9, 0.999, 1e-8
    trace = np.empty(n_steps)
    start_avg = int(n_steps * (1 - average_fraction))
    sums = [np.zeros_like(p) for p in params]
    for step in range(1, n_steps + 1):
        m, log_diag, lower = params
        chol = np.diag(np.exp(log_diag)) + (lower if family == "fullrank" else 0.0)
        eps = rng.standard_normal((n_mc, d))
        theta = m + eps @ chol.T
        logp, grad = log_density_grad(theta)
        logp, grad = np.asarray(logp, float), np.asarray(grad, float)
        if logp.shape != (n_mc,) or grad.shape != (n_mc, d):
            raise ValueError(f"log_density_grad must return shapes ({n_mc},) and ({n_mc}, {d}), got {logp.shape}, {grad.shape}")
        if not (np.all(np.isfinite(logp)) and np.all(np.isfinite(grad))):
            raise ValueError(f"non-finite log density or gradient at step {step}: lower the learning rate or start closer")
        trace[step - 1] = logp.mean() + log_diag.sum() + 0.5 * d * np.log(2 * np.pi * np.e)
        g_mean, g_log_diag, g_chol = _elbo_gradient(grad, eps, np.full(n_mc, 1 / n_mc), chol)
        grads = [g_mean, g_log_diag,
                 np.where(np.tri(d, k=-1, dtype=bool), g_chol, 0.0) if family == "fullrank" else np.zeros((d, d))]
        for k, (p, g) in enumerate(zip(params, grads)):  # Adam, ascending the ELBO
            first[k] = beta1 * first[k] + (1 - beta1) * g
            second[k] = beta2 * second[k] + (1 - beta2) * g**2
            update = learning_rate * (first[k] / (1 - beta1**step)) / (np.sqrt(second[k] / (1 - beta2**step)) + tiny)
            params[k] = p + update
        if step > start_avg:
            for k in range(3):
                sums[k] += params[k]
    n_avg = n_steps - start_avg
    m, log_diag, lower = (s / n_avg for s in sums)
    chol = np.diag(np.exp(log_diag)) + (np.where(np.tri(d, k=-1, dtype=bool), lower, 0.0) if family == "fullrank" else 0.0)
    return GaussianVI(m, chol, trace, family)
