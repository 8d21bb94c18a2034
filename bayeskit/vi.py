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

Did it work? Without any exact answer, :func:`psis_diagnostic` draws from a fitted Gaussian, computes the
importance ratios ``log p(theta, D) - log q(theta)`` and Pareto-smooths them (PSIS): the estimated shape
``k_hat`` of the ratios' tail says whether ``q`` can be trusted (Yao et al. 2018): below 0.5 the ratios have
a finite variance and ``q`` is close to the posterior; from 0.5 their variance is infinite, but PSIS estimates
still converge, more slowly; above 0.7 (the practical limit of Vehtari et al. 2024, ``min(1 - 1/log10 S, 0.7)``
for ``S`` draws) they converge too slowly to be useful: the posterior has (relatively) heavier tails or mass where
``q`` has almost none, and importance sampling from ``q`` is not reliable. A ``k_hat`` above 1 from a finite
sample, where the true shape cannot exceed 1 (the ratios' mean, the evidence, is finite), is estimation noise.
``k_hat`` is scale-free: it reads the shape of the ratios' tail, not its size, so a Gaussian ``q`` whose means and
sds are right can still get ``k_hat`` > 0.7 when the posterior's tails are not Gaussian; the effective sample size
of the weights (:attr:`PSISResult.ess`) shows how uneven they are in the draws at hand.

:class:`FitHistory` is a ``pm.fit`` callback that records the fitted Gaussian along the way (its mean and sd
every few iterations, and PyMC's raw parameters), so that a notebook can plot the optimisation and replay
PyMC's own parameter-change stopping rule (:meth:`FitHistory.parameter_change_stop`).

References
----------
Kucukelbir, A., Tran, D., Ranganath, R., Gelman, A., Blei, D. M. (2017). Automatic differentiation
variational inference. JMLR 18, 1-45.
Yao, Y., Vehtari, A., Simpson, D., Gelman, A. (2018). Yes, but did it work?: Evaluating variational
inference. ICML, PMLR 80, 5581-5590.
Vehtari, A., Simpson, D., Gelman, A., Yao, Y., Gabry, J. (2024). Pareto smoothed importance sampling.
JMLR 25(72), 1-58.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

import numpy as np

from bayeskit._checks import as_rng, check_positive_int

__all__ = ["GaussianVI", "fit_gaussian", "elbo_by_quadrature", "fit_gaussian_by_quadrature", "gaussian_log_density",
           "pareto_khat", "PSISResult", "psis_diagnostic", "FitHistory"]

LogDensityGrad = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class GaussianVI:
    """A fitted Gaussian approximation ``q = N(mean, chol chol^T)``, from :func:`fit_gaussian` or
    :func:`fit_gaussian_by_quadrature`.

    Parameters
    ----------
    mean : numpy.ndarray, shape (d,)
        Mean of ``q``.
    chol : numpy.ndarray, shape (d, d)
        Lower-triangular ``L`` with ``cov = L L^T`` (diagonal for mean-field).
    elbo_trace : numpy.ndarray
        The ELBO along the optimisation (Monte Carlo estimates per step, or per L-BFGS iteration).
    family : {"meanfield", "fullrank"}
        The variational family.
    """
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
        """ELBO of the fitted q by Monte Carlo with ``n`` draws: estimate and standard error.

        Parameters
        ----------
        log_density_grad : callable
            Vectorised ``theta (n, d) -> (log p (n,), grad (n, d))``: the unnormalised log posterior and its
            gradient.
        n : int, default 20000
            Draws from ``q``.
        seed : None, int, numpy.random.SeedSequence or numpy.random.Generator, optional
            Randomness of the draws.

        Returns
        -------
        elbo : float
            ``mean(log p) + H[q]`` (the entropy exactly).
        standard_error : float
            Monte Carlo standard error of the estimate.
        """
        eps = as_rng(seed).standard_normal((n, len(self.mean)))
        logp, _ = log_density_grad(self.mean + eps @ self.chol.T)
        d = len(self.mean)
        entropy = np.log(np.abs(np.diag(self.chol))).sum() + 0.5 * d * np.log(2 * np.pi * np.e)
        return float(logp.mean() + entropy), float(logp.std(ddof=1) / np.sqrt(n))

    def sample(self, n: int, seed=None) -> np.ndarray:
        """Draws from ``q``.

        Parameters
        ----------
        n : int
            Number of draws.
        seed : None, int, numpy.random.SeedSequence or numpy.random.Generator, optional
            Randomness; the same seed gives the same draws.

        Returns
        -------
        numpy.ndarray, shape (n, d)
        """
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
    """``E_q[log p] + H[q]`` for ``q = N(mean, chol chol^T)``, by a tensor Gauss-Hermite rule.

    The rule has ``n_nodes`` points per dimension (exact for polynomials of degree ``2 n_nodes - 1``; for a
    smooth log density it converges fast: compare two ``n_nodes``).

    Parameters
    ----------
    log_density_grad : callable
        Vectorised ``theta (n, d) -> (log p (n,), grad (n, d))``: the unnormalised log posterior and its
        gradient. Only the log density is used.
    mean : array_like, shape (d,)
        Mean of ``q``, ``d`` from 1 to 3.
    chol : array_like, shape (d, d)
        Cholesky factor of ``q``'s covariance.
    n_nodes : int, default 32
        Gauss-Hermite nodes per dimension.

    Returns
    -------
    float
        The ELBO.

    Raises
    ------
    ValueError
        ``d`` outside 1 to 3, or ``n_nodes`` not a positive integer.
    """
    mean, chol = np.atleast_1d(np.asarray(mean, float)), np.atleast_2d(np.asarray(chol, float))
    z, w = _hermite_rule(mean.size, check_positive_int("n_nodes", n_nodes))
    logp, _ = log_density_grad(mean + z @ chol.T)
    entropy = np.log(np.abs(np.diag(chol))).sum() + 0.5 * mean.size * np.log(2 * np.pi * np.e)
    return float(w @ np.asarray(logp, float) + entropy)


def fit_gaussian_by_quadrature(log_density_grad: LogDensityGrad, initial_mean, family: str = "meanfield",
                               n_nodes: int = 32, initial_sd: float = 1.0) -> GaussianVI:
    """The Gaussian that maximises the ELBO, with no Monte Carlo.

    The ELBO and its gradient by Gauss-Hermite quadrature (:func:`elbo_by_quadrature`), maximised by L-BFGS.
    For 1 to 3 dimensions: the exact reference that stochastic fits are checked against.

    Parameters
    ----------
    log_density_grad : callable
        Vectorised ``theta (n, d) -> (log p (n,), grad (n, d))``: the unnormalised log posterior and its
        gradient.
    initial_mean : array_like, shape (d,)
        Starting mean.
    family : {"meanfield", "fullrank"}, default "meanfield"
        Diagonal or full covariance.
    n_nodes : int, default 32
        Gauss-Hermite nodes per dimension.
    initial_sd : float, default 1.0
        Starting sd of every coordinate.

    Returns
    -------
    GaussianVI
        The optimum; ``elbo_trace`` holds the ELBO at each L-BFGS iteration.

    Raises
    ------
    ValueError
        Unknown ``family``, ``d`` outside 1 to 3.
    RuntimeError
        L-BFGS did not converge.
    """
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


# ---------------------------------------------------------------- did it work? PSIS k-hat (Yao et al. 2018)
def gaussian_log_density(theta, mean, cov) -> np.ndarray:
    """``log N(theta | mean, cov)`` at each row of ``theta``.

    Parameters
    ----------
    theta : array_like, shape (n, d)
        Points.
    mean : array_like, shape (d,)
        Mean.
    cov : array_like, shape (d, d)
        Covariance, positive definite.

    Returns
    -------
    numpy.ndarray, shape (n,)
        The normalised log density.

    Raises
    ------
    numpy.linalg.LinAlgError
        ``cov`` is not positive definite.
    """
    theta = np.atleast_2d(np.asarray(theta, float))
    mean = np.atleast_1d(np.asarray(mean, float))
    chol = np.linalg.cholesky(np.atleast_2d(np.asarray(cov, float)))
    z = np.linalg.solve(chol, (theta - mean).T)  # (d, n): L^-1 (theta - mean)
    return -0.5 * (z**2).sum(axis=0) - np.log(np.diag(chol)).sum() - 0.5 * mean.size * np.log(2 * np.pi)


def pareto_khat(log_ratios) -> float:
    """Estimated Pareto shape ``k_hat`` of the largest importance ratios.

    ArviZ's ``psislw`` with ``reff=1`` (the ratios come from independent draws).

    Parameters
    ----------
    log_ratios : array_like, shape (n,)
        Log importance ratios ``log p(theta) - log q(theta)`` of at least 100 independent draws from ``q``.

    Returns
    -------
    float
        ``k_hat``: below 0.5 good, 0.5-0.7 usable with care, above 0.7 unreliable.

    Raises
    ------
    ValueError
        Fewer than 100 ratios or not a vector; non-finite ratios; all ratios equal to rounding (within 1e-8:
        then ``q`` is the target up to a constant and there is no tail to fit).

    References
    ----------
    Vehtari, A., Simpson, D., Gelman, A., Yao, Y., Gabry, J. (2024). Pareto smoothed importance sampling.
    JMLR 25(72), 1-58.
    """
    return _psis(log_ratios)[1]


def _psis(log_ratios) -> tuple[np.ndarray, float]:
    """Checked ArviZ ``psislw``: (smoothed normalised log weights, k_hat)."""
    import arviz as az

    log_ratios = np.asarray(log_ratios, float)
    if log_ratios.ndim != 1 or log_ratios.size < 100:
        raise ValueError(f"log_ratios must be a vector of at least 100 draws, got shape {log_ratios.shape}")
    if not np.all(np.isfinite(log_ratios)):
        raise ValueError(f"{np.sum(~np.isfinite(log_ratios))} log ratios are not finite (a draw of q outside the "
                         "target's support, or an overflow): k_hat is undefined")
    if np.ptp(log_ratios) < 1e-8:  # equal up to rounding
        raise ValueError("all log ratios are equal: q equals the target up to a constant, k_hat is undefined")
    log_weights, khat = az.psislw(log_ratios, reff=1.0)
    return np.asarray(log_weights, float), float(khat)


@dataclass(frozen=True)
class PSISResult:
    """Draws from q, their log importance ratios, the Pareto-smoothed normalised log weights and ``khat``.

    Parameters
    ----------
    khat : float
        Estimated Pareto shape of the ratios' tail.
    draws : numpy.ndarray, shape (n, d)
        The draws from ``q``.
    log_ratios : numpy.ndarray, shape (n,)
        ``log p(theta) - log q(theta)``, unnormalised.
    log_weights : numpy.ndarray, shape (n,)
        Smoothed and normalised log weights (their logsumexp is 0).
    """

    khat: float
    draws: np.ndarray  # (n, d) from q
    log_ratios: np.ndarray  # (n,), log p(theta) - log q(theta), unnormalised
    log_weights: np.ndarray  # (n,), smoothed and normalised (logsumexp = 0)

    @property
    def weights(self) -> np.ndarray:
        return np.exp(self.log_weights)

    @property
    def ess(self) -> float:
        """Kish's effective sample size of the smoothed weights, ``1 / sum(w^2)``: ``n`` when all weights are equal,
        near 1 when one draw carries them all. It describes the draws at hand; when ``khat`` >= 0.5 the weights
        have infinite variance and larger samples can bring much larger weights."""
        return float(1.0 / np.sum(self.weights**2))

    def mean(self) -> np.ndarray:
        """Importance-weighted posterior mean (trustworthy only when ``khat`` < 0.7)."""
        return self.weights @ self.draws

    def sd(self) -> np.ndarray:
        """Importance-weighted posterior sd (trustworthy only when ``khat`` < 0.7)."""
        return np.sqrt(self.weights @ (self.draws - self.mean()) ** 2)


def psis_diagnostic(log_density: Callable[[np.ndarray], np.ndarray], mean, cov, n_draws: int = 4000,
                    seed=None) -> PSISResult:
    """PSIS diagnostic of a Gaussian approximation ``q = N(mean, cov)`` of the density ``log_density``.

    Draws ``n_draws`` points from ``q``, computes the log importance ratios ``log_density(theta) - log q(theta)``
    (``log_density`` unnormalised, vectorised ``(n, d) -> (n,)``, on the space where ``q`` lives: for PyMC's
    ADVI that is ``Problem.log_density``, the unconstrained space with its Jacobian) and Pareto-smooths them.

    ``khat`` < 0.5: ``q`` is close to the target (importance ratios of finite variance); 0.5-0.7: infinite
    variance, but PSIS estimates still converge, more slowly: usable with care; > 0.7: too slow to be useful,
    importance sampling from ``q`` is unreliable and ``q`` misses target mass, at least in the tails (Yao et al.
    2018; Vehtari et al. 2024; a ``khat`` above 1 from a finite sample is estimation noise): look further (``ess``, a richer
    family, MCMC). ``khat`` needs no exact answer, only the unnormalised density; it is itself estimated from the
    draws, for a fixed ``q`` and 4000 draws its sd over seeds was 0.06-0.26 in notebook 06.

    Parameters
    ----------
    log_density
        Unnormalised log density of the target, vectorised ``(n, d) -> (n,)``.
    mean, cov
        The Gaussian ``q``: mean ``(d,)`` and covariance ``(d, d)``.
    n_draws
        Draws from ``q`` (independent, so ArviZ's relative efficiency ``reff`` is 1).
    seed
        Seed or ``np.random.Generator`` for the draws.

    Returns
    -------
    PSISResult
        ``khat``, the draws, their log ratios and smoothed log weights; ``ess``, ``mean()``, ``sd()``.

    Raises
    ------
    ValueError
        ``cov`` of the wrong shape, ``log_density`` returning the wrong shape, non-finite ratios, or ratios all
        equal (``q`` is the target).

    References
    ----------
    Yao, Y., Vehtari, A., Simpson, D., Gelman, A. (2018). Yes, but did it work?: Evaluating variational
    inference. ICML, PMLR 80, 5581-5590.
    """
    mean = np.atleast_1d(np.asarray(mean, float))
    cov = np.atleast_2d(np.asarray(cov, float))
    if cov.shape != (mean.size, mean.size):
        raise ValueError(f"cov must be ({mean.size}, {mean.size}) for a mean of {mean.size} values, got {cov.shape}")
    n_draws = check_positive_int("n_draws", n_draws)
    draws = mean + as_rng(seed).standard_normal((n_draws, mean.size)) @ np.linalg.cholesky(cov).T
    log_p = np.asarray(log_density(draws), float)
    if log_p.shape != (n_draws,):
        raise ValueError(f"log_density must return shape ({n_draws},) for {n_draws} draws, got {log_p.shape}")
    log_ratios = log_p - gaussian_log_density(draws, mean, cov)
    log_weights, khat = _psis(log_ratios)
    return PSISResult(khat, draws, log_ratios, log_weights)


# ---------------------------------------------------------------- watching pm.fit
class FitHistory:
    """``pm.fit`` callback: at iteration 1 and every ``every`` iterations, the fitted Gaussian's mean and sd
    (on PyMC's unconstrained space, in the order of ``approx.groups``) and its raw parameters (``approx.params``:
    the means and, for mean-field, ``rho`` with sd = log(1 + exp(rho))).

    Attributes ``steps`` (k,), ``mean`` and ``sd`` (k, d), ``params`` (k, n_params) and ``times`` (k,: the
    ``time.perf_counter()`` clock at each record) are arrays after the fit; :meth:`timing` splits the run time
    into a fixed cost and a cost per iteration.

    Parameters
    ----------
    every
        Record at iteration 1 and at every multiple of ``every``.

    Examples
    --------
    >>> history = FitHistory(every=100)                                   # doctest: +SKIP
    >>> with model:                                                        # doctest: +SKIP
    ...     approx = pm.fit(20_000, method="advi", callbacks=[history])
    >>> history.parameter_change_stop(tolerance=1e-2)                     # doctest: +SKIP
    """

    def __init__(self, every: int = 100):
        self.every = check_positive_int("every", every)
        self._steps, self._mean, self._sd, self._params, self._times = [], [], [], [], []
        self._function = None
        self.created = time.perf_counter()

    def __call__(self, approx, losses, i) -> None:
        if i != 1 and i % self.every:
            return
        if self._function is None:
            import pytensor

            self._function = pytensor.function([], [approx.mean, approx.std])
        mean, sd = self._function()
        self._times.append(time.perf_counter())
        self._steps.append(int(i))
        self._mean.append(np.array(mean, float))
        self._sd.append(np.array(sd, float))
        self._params.append(np.concatenate([np.asarray(p.get_value(), float).ravel() for p in approx.params]))

    steps = property(lambda self: np.array(self._steps))
    mean = property(lambda self: np.array(self._mean))
    sd = property(lambda self: np.array(self._sd))
    params = property(lambda self: np.array(self._params))
    times = property(lambda self: np.array(self._times))

    def timing(self) -> tuple[float, float]:
        """``(fixed_s, per_step_s)``: the time from this callback's creation to iteration 1 (create it just before
        ``pm.fit``: that is the compilation of the ELBO and its gradient, and the setup), and the cost of one
        iteration, the slope of the clock between the second record (iteration ``every``) and the last one. Each
        call of ``pm.fit`` compiles afresh, so the fixed cost is paid once per fit."""
        if len(self._times) < 3:
            raise ValueError(f"need at least 3 records (iterations 1, {self.every}, ...), have {len(self._times)}")
        steps, times = self.steps, self.times
        return float(times[0] - self.created), float((times[-1] - times[1]) / (steps[-1] - steps[1]))

    def parameter_change_stop(self, tolerance: float = 1e-3, diff: str = "relative") -> int | None:
        """The iteration at which PyMC's ``CheckParametersConvergence`` would have stopped this fit.

        That is ``CheckParametersConvergence(every=self.every, tolerance, diff)`` (norm: the largest change): it
        stops at the first check where every raw parameter changed by less than ``tolerance`` since the previous
        check (``relative``: ``(|change| + 1e-6) / (|previous| + 1e-6)``, as PyMC computes it).

        Parameters
        ----------
        tolerance : float, default 1e-3
            Largest change allowed.
        diff : {"relative", "absolute"}, default "relative"
            How a change is measured.

        Returns
        -------
        int or None
            The iteration, or None if the rule never fired in the recorded history.

        Raises
        ------
        ValueError
            ``diff`` is neither "relative" nor "absolute".
        """
        if diff not in ("relative", "absolute"):
            raise ValueError(f"diff must be 'relative' or 'absolute', got {diff!r}")
        steps, params = self.steps, self.params
        for k in range(1, len(steps)):
            change = np.abs(params[k] - params[k - 1])
            if diff == "relative":
                change = (change + 1e-6) / (np.abs(params[k - 1]) + 1e-6)
            if steps[k] >= self.every and change.max() < tolerance:
                return int(steps[k])
        return None
