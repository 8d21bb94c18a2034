"""Helpers of notebook 05 (nested sampling and model evidence), kept out of the core package.

* :class:`CountingLikelihood` wraps a vectorised log-likelihood and records what a sampler asked of it:
  how many calls, how many points in each, and the time spent inside (the vectorisation demo).
* :func:`lindley_table` and :func:`log_bf_sign_change`: the exact Bayes factor of one switchpoint against
  none for Poisson counts as the Exponential prior on the rates widens (Lindley's paradox), beside the
  likelihood-ratio statistic, which no prior enters, and what happens to the posterior.
* :func:`count_hops`: how often a chain crosses between two regions (the random walk on a bimodal density).
* :func:`exact_loo_poisson`: exact leave-one-out predictive densities of the no-change and
  one-switchpoint Poisson models, the reference for ArviZ's PSIS-LOO estimate;
  :func:`switch_year_loo_shift`: how far leaving one count out moves the exact posterior of the switchpoint.
* :func:`poisson_no_change_model`, :func:`normal_no_change_model`: the no-change models in PyMC (one
  rate; one mean and sd), the partners of :mod:`bayeskit.models.switchpoint` in a LOO comparison.
* :func:`ultranest_slice_run`: UltraNest with its population slice sampler and a given number of steps,
  with its insertion-order test in the result (the slice-step sweep on the Gaussian shells).

All exact results here come from :mod:`bayeskit.segments` (segment integrals in closed form).

References
----------
Buchner, J. (2023). Nested sampling methods. Statistics Surveys 17, 169-215.
Fowlie, A., Handley, W. & Su, L. (2020). Nested sampling cross-checks using order statistics.
MNRAS 497, 5256-5263 (arXiv:2006.03371).
Lindley, D. V. (1957). A statistical paradox. Biometrika 44, 187-192.
Vehtari, A., Gelman, A. & Gabry, J. (2017). Practical Bayesian model evaluation using leave-one-out
cross-validation and WAIC. Statistics and Computing 27, 1413-1432.
"""

from __future__ import annotations

import time
from typing import Callable

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

from bayeskit import segments

__all__ = ["CountingLikelihood", "count_hops", "lindley_table", "log_bf_sign_change",
           "poisson_max_log_likelihood_ratio", "exact_loo_poisson", "switch_year_loo_shift", "poisson_no_change_model",
           "normal_no_change_model", "ultranest_slice_run"]


class CountingLikelihood:
    """Wrap a log-likelihood and record each call: its number of points and the seconds spent inside.

    Parameters
    ----------
    log_likelihood : callable
        Vectorised ``(n, d) -> (n,)``.
    vectorized : bool, default True
        True: the wrapper is called with batches ``(n, d)``; False: with one point ``(d,)`` at a time, as
        UltraNest's one-point interface does, returning a float.
    """

    def __init__(self, log_likelihood: Callable[[np.ndarray], np.ndarray], vectorized: bool = True):
        self.log_likelihood = log_likelihood
        self.vectorized = vectorized
        self.points_per_call: list[int] = []
        self.seconds = 0.0

    def __call__(self, x: np.ndarray):
        start = time.perf_counter()
        if self.vectorized:
            value = self.log_likelihood(x)
            self.points_per_call.append(len(x))
        else:
            value = self.log_likelihood(np.asarray(x)[None, :])[0]
            self.points_per_call.append(1)
        self.seconds += time.perf_counter() - start
        return value

    def summary(self) -> dict[str, float]:
        """Calls, points evaluated, mean and largest points per call, calls of more than one point, seconds inside."""
        sizes = np.asarray(self.points_per_call)
        return {"likelihood calls": int(sizes.size), "points evaluated": int(sizes.sum()),
                "mean points per call": float(sizes.mean()), "largest call": int(sizes.max()),
                "calls of more than one point": int((sizes > 1).sum()), "seconds inside the likelihood": self.seconds}


def count_hops(x, low: float, high: float) -> int:
    """Number of moves of the sequence ``x`` from below ``low`` to above ``high`` or back.

    Values between ``low`` and ``high`` keep the previous side (hysteresis), so wiggles around a single
    boundary are not counted: with ``low = -1``, ``high = 1`` on a density with bumps at -2 and 2, a hop is
    a passage from one bump to the other.

    Parameters
    ----------
    x : array_like
        The sequence (flattened).
    low, high : float
        The two thresholds, ``low < high``.

    Returns
    -------
    int

    Raises
    ------
    ValueError
        ``low >= high``.

    Examples
    --------
    >>> count_hops([-2, 0.5, 2, 0, -2, 2], -1, 1)
    3
    """
    x = np.asarray(x, float).ravel()
    if not low < high:
        raise ValueError(f"low must be below high, got low={low}, high={high}")
    side = np.where(x < low, -1, np.where(x > high, 1, 0))
    side = side[side != 0]
    return int(np.count_nonzero(side[1:] != side[:-1]))


# ------------------------------------------------------------------------------------------ Lindley's paradox
def poisson_max_log_likelihood_ratio(counts) -> float:
    """``max log L(one switchpoint) - max log L(no change)`` for Poisson counts. No prior enters.

    The maximum is over the split ``k`` (first segment ``counts[:k]``, ``1 <= k < T``) with each segment's
    rate at its mean.

    Parameters
    ----------
    counts : array_like of int
        The series.

    Returns
    -------
    float
    """
    c = np.asarray(counts, float)

    def max_ll(segment):
        rate = segment.mean()
        return float(stats.poisson.logpmf(segment, rate).sum()) if rate > 0 else 0.0

    return max(max_ll(c[:k]) + max_ll(c[k:]) for k in range(1, len(c))) - max_ll(c)


def lindley_table(t, counts, prior_means) -> pd.DataFrame:
    """Exact facts of the one-switchpoint model against no change, for ``rate ~ Exponential(1 / m)`` and several ``m``.

    Columns: the log Bayes factor; ``P(s = last time)``, the posterior probability of the switchpoint value
    that means no change (``1 / (T BF)`` exactly: the no-change model is that one value of ``s``); the
    posterior mean of each rate and the posterior median of the later rate (the median ignores the prior's
    tail that an empty later segment leaves); the posterior mode and mean of the switchpoint.

    Parameters
    ----------
    t : array_like of int
        Times (years), strictly increasing integers.
    counts : array_like of int
        Non-negative counts at ``t``.
    prior_means : iterable of float
        The prior means ``m`` of the rates.

    Returns
    -------
    pandas.DataFrame
        Indexed by the prior mean.
    """
    t, counts = np.asarray(t), np.asarray(counts)
    rows = []
    for m in prior_means:
        prior = segments.PoissonSegmentPrior(shape=1.0, rate=1.0 / float(m))
        one = segments.one_switchpoint(t, counts, prior)
        none = segments.no_switchpoint(t, counts, prior)
        rows.append({"prior mean of a rate": float(m), "log BF (one switchpoint vs none)": one.log_evidence - none.log_evidence,
                     "P(s = last year)": float(one.pmf[-1]),
                     "posterior mean rate before": one.mean["rate_before"],
                     "posterior mean rate after": one.mean["rate_after"],
                     "posterior median rate after": _median_rate_after(t, counts, prior, one.pmf),
                     "mode of the switch year": one.mode(), "mean of the switch year": one.mean["switchpoint"]})
    return pd.DataFrame(rows).set_index("prior mean of a rate")


def _median_rate_after(t, counts, prior, pmf) -> float:
    """Median of the later rate's posterior, a mixture over ``s`` of Gamma posteriors (the prior for ``s = t[-1]``)."""
    c = np.asarray(counts, float)
    after_total = c.sum() - np.cumsum(c)  # counts after s = t[k]
    after_n = len(c) - np.arange(1, len(c) + 1)
    shape, rate = prior.shape + after_total, prior.rate + after_n

    def cdf(x):
        return float(pmf @ special.gammainc(shape, rate * x)) - 0.5

    hi = 1.0
    while cdf(hi) < 0:
        hi *= 10
    return float(optimize.brentq(cdf, 0.0, hi, xtol=1e-12, rtol=1e-10))


def log_bf_sign_change(t, counts, log10_range=(0.0, 30.0)) -> float:
    """The prior mean ``m`` of the rates at which the exact log Bayes factor changes sign.

    With ``rate ~ Exponential(1 / m)``, the log Bayes factor of one switchpoint against none crosses zero at
    the returned ``m`` (root of a smooth function of ``log10 m``, by Brent's method).

    Parameters
    ----------
    t : array_like of int
        Times (years), strictly increasing integers.
    counts : array_like of int
        Non-negative counts at ``t``.
    log10_range : tuple of float, default (0.0, 30.0)
        Bracket of ``log10 m``; the log Bayes factor must change sign in it.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        The sign does not change in ``log10_range``.
    """
    def log_bf(log10_m):
        prior = segments.PoissonSegmentPrior(shape=1.0, rate=10.0 ** -log10_m)
        return segments.one_switchpoint(t, counts, prior).log_evidence - segments.no_switchpoint(t, counts, prior).log_evidence

    return float(10 ** optimize.brentq(log_bf, *log10_range, xtol=1e-10))


# ----------------------------------------------------------------------------------------------------- LOO
def _masked_stats(counts: np.ndarray, keep: np.ndarray) -> segments.SegmentStats:
    """Prefix statistics of the counts with the points where ``keep`` is False left out, for each row of
    ``keep`` at once: arrays of shape ``(rows, T + 1)``."""
    c = np.asarray(counts, float)[None, :] * keep
    zero = np.zeros((keep.shape[0], 1))
    return segments.SegmentStats(np.concatenate([zero, np.cumsum(keep, axis=1)], axis=1),
                                 np.concatenate([zero, np.cumsum(c, axis=1)], axis=1),
                                 np.concatenate([zero, np.cumsum(c**2, axis=1)], axis=1),
                                 np.concatenate([zero, np.cumsum(special.gammaln(c + 1) * keep, axis=1)], axis=1))


def _poisson_log_ml(prior: segments.PoissonSegmentPrior, n, total, log_factorials):
    a, b = prior.shape + total, prior.rate + n
    return (prior.shape * np.log(prior.rate) - special.gammaln(prior.shape) + special.gammaln(a) - a * np.log(b)
            - log_factorials)


def _leave_one_out_log_joints(counts, prior: segments.PoissonSegmentPrior):
    """For all the data (row 0) and each count left out (row ``i + 1``): the no-change log evidence ``(T + 1,)``
    and the one-switchpoint log joint ``log p(y, s = t_k)`` for each split ``k`` ``(T + 1, T)``."""
    c = np.asarray(counts, float)
    T = len(c)
    keep = np.vstack([np.ones(T, bool), ~np.eye(T, dtype=bool)]).astype(float)  # row 0: all data; row i+1: without y_i
    st = _masked_stats(c, keep)
    full = st.take((slice(None), [T]))
    log_z0 = _poisson_log_ml(prior, full.n, full.total, full.log_factorials)[:, 0]
    k = np.arange(1, T + 1)
    first = segments.SegmentStats(st.n[:, k], st.total[:, k], st.squares[:, k], st.log_factorials[:, k])
    second = full - first
    log_joint = (_poisson_log_ml(prior, first.n, first.total, first.log_factorials)
                 + _poisson_log_ml(prior, second.n, second.total, second.log_factorials) - np.log(T))
    return log_z0, log_joint


def exact_loo_poisson(counts, prior: segments.PoissonSegmentPrior) -> pd.DataFrame:
    """Exact ``log p(y_i | y_-i)`` for each observation under the no-change and the one-switchpoint Poisson models.

    Leaving out ``y_i`` removes its term from the likelihood and nothing else (the switchpoint keeps its uniform
    prior over all ``T`` times), so ``log p(y_i | y_-i) = log Z(y) - log Z(y_-i)``, each evidence a sum of segment
    integrals as in :func:`bayeskit.segments.one_switchpoint`.

    Parameters
    ----------
    counts : array_like of int
        The series.
    prior : bayeskit.segments.PoissonSegmentPrior
        Gamma prior of each segment's rate.

    Returns
    -------
    pandas.DataFrame
        One row per observation, columns ``"no change"`` and ``"one switchpoint"``.
    """
    log_z0, log_joint = _leave_one_out_log_joints(counts, prior)
    log_z1 = special.logsumexp(log_joint, axis=1)
    return pd.DataFrame({"no change": log_z0[0] - log_z0[1:], "one switchpoint": log_z1[0] - log_z1[1:]})


def switch_year_loo_shift(counts, prior: segments.PoissonSegmentPrior) -> np.ndarray:
    """How far leaving each observation out moves the switchpoint's posterior.

    For each observation ``i``: the total variation distance between the exact posteriors of the switchpoint
    with and without ``y_i``, ``0.5 * sum_s |P(s | y) - P(s | y_-i)|``.

    Parameters
    ----------
    counts : array_like of int
        The series.
    prior : bayeskit.segments.PoissonSegmentPrior
        Gamma prior of each segment's rate.

    Returns
    -------
    numpy.ndarray, shape (len(counts),)
    """
    _, log_joint = _leave_one_out_log_joints(counts, prior)
    pmf = np.exp(log_joint - special.logsumexp(log_joint, axis=1, keepdims=True))
    return 0.5 * np.abs(pmf[1:] - pmf[0]).sum(axis=1)


# ------------------------------------------------------------------------------------------ no-change models
def poisson_no_change_model(counts, rate_lam: float = 1.0):
    """``rate ~ Exponential(rate_lam)``, ``counts ~ Poisson(rate)``.

    The no-change partner of :func:`bayeskit.models.switchpoint.poisson_switchpoint_model`.

    Parameters
    ----------
    counts : array_like of int
        The series.
    rate_lam : float, default 1.0
        Rate of the exponential prior.

    Returns
    -------
    pymc.Model
    """
    import pymc as pm

    with pm.Model() as model:
        rate = pm.Exponential("rate", rate_lam)
        pm.Poisson("counts", mu=rate, observed=np.asarray(counts).astype(int))
    return model


def normal_no_change_model(y, mu_sd: float = 10.0, sigma_sd: float = 5.0, mu_mean: float = 0.0):
    """``mu ~ Normal(mu_mean, mu_sd)``, ``sigma ~ HalfNormal(sigma_sd)``, ``y ~ Normal(mu, sigma)``.

    The no-change partner of :func:`bayeskit.models.switchpoint.normal_switchpoint_model`.

    Parameters
    ----------
    y : array_like
        The series.
    mu_sd : float, default 10.0
        Prior sd of the mean.
    sigma_sd : float, default 5.0
        Scale of the half-normal prior of the sd.
    mu_mean : float, default 0.0
        Prior mean of the mean.

    Returns
    -------
    pymc.Model
    """
    import pymc as pm

    with pm.Model() as model:
        mu = pm.Normal("mu", mu_mean, mu_sd)
        sigma = pm.HalfNormal("sigma", sigma_sd)
        pm.Normal("y", mu=mu, sigma=sigma, observed=np.asarray(y, float))
    return model


# ------------------------------------------------------------------------------------------ slice-step sweep
def ultranest_slice_run(problem, nsteps: int, n_live: int = 200, popsize: int = 50, seed: int = 0) -> dict:
    """One UltraNest run with its vectorised population slice sampler, for a sweep over ``nsteps``.

    What :func:`bayeskit.sample` does with ``slice_steps`` (there with 100 walkers), with the population size
    as an argument and UltraNest's insertion-order test in the result: ``insertion test passed`` is UltraNest's
    ``insertion_order_MWW_test["converged"]`` and ``shortest run`` its ``independent_iterations`` (the fewest
    iterations after which the Mann-Whitney-Wilcoxon statistic of the new points' likelihood ranks among the
    live points exceeded 4 sigma; infinite when it never did). Seeds NumPy's global state (UltraNest uses it).

    Parameters
    ----------
    problem : bayeskit.Problem
        With a prior transform.
    nsteps : int
        Slice steps per new point.
    n_live : int, default 200
        Minimum number of live points.
    popsize : int, default 50
        Walkers of the population slice sampler.
    seed : int, default 0
        Seed of NumPy's global state.

    Returns
    -------
    dict
        ``log Z``, ``error``, ``likelihood calls``, ``iterations``, ``insertion test passed``, ``shortest run``,
        ``seconds``, ``Kish ESS`` and ``samples`` (UltraNest's equally weighted posterior samples, ``(n, ndim)``).

    References
    ----------
    Buchner, J. (2023). Nested sampling methods. Statistics Surveys 17, 169-215 (section 4.5.2, the insertion-order
    test with a Mann-Whitney-Wilcoxon statistic).
    Fowlie, A., Handley, W. & Su, L. (2020). Nested sampling cross-checks using order statistics. MNRAS 497,
    5256-5263 (the insertion-order test, introduced with a Kolmogorov-Smirnov statistic).
    """
    import logging

    import ultranest
    import ultranest.popstepsampler as popstep

    np.random.seed(int(seed))
    sampler = ultranest.ReactiveNestedSampler(list(problem.layout.labels), problem.log_likelihood, problem.prior_transform,
                                              vectorized=True)
    for handler in logging.getLogger("ultranest").handlers:  # UltraNest's progress log goes to stdout
        handler.setLevel(logging.WARNING)
    sampler.stepsampler = popstep.PopulationSliceSampler(popsize=int(popsize), nsteps=int(nsteps),
                                                         generate_direction=popstep.generate_region_oriented_direction)
    start = time.perf_counter()
    result = sampler.run(show_status=False, viz_callback=False, min_num_live_points=int(n_live))
    seconds = time.perf_counter() - start
    weights = np.asarray(result["weighted_samples"]["weights"], float)
    test = result["insertion_order_MWW_test"]
    return {"log Z": float(result["logz"]), "error": float(result["logzerr"]), "likelihood calls": int(result["ncall"]),
            "iterations": int(result["niter"]), "insertion test passed": bool(test["converged"]),
            "shortest run": float(test["independent_iterations"]), "seconds": seconds,
            "Kish ESS": float(weights.sum() ** 2 / (weights**2).sum()), "samples": np.asarray(result["samples"], float)}
