"""A tiny nested sampler, written to be read (Skilling 2006): live points, shrinking prior volume,
and new points drawn from the prior by rejection until they beat the worst live point.

Rejection from the whole prior is what makes it tiny and hopeless at once: the chance that a prior
draw beats the worst live point is the remaining prior volume ``X_i ~ exp(-i / n_live)``, which
becomes astronomically small when the posterior occupies a tiny fraction of the prior, as it does
in more than a few dimensions. Real implementations (UltraNest, dynesty, MultiNest) sample from the
constrained prior more cleverly.

References
----------
Skilling, J. (2006). Nested sampling for general Bayesian computation. Bayesian Analysis 1, 833-859.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
from scipy import special

from bayeskit._checks import as_rng, check_positive_int, evaluate_batch

__all__ = ["NestedResult", "nested_sampling"]


@dataclass(frozen=True)
class NestedResult:
    """What :func:`nested_sampling` returns.

    Parameters
    ----------
    log_evidence : float
        Estimate of ``log Z``.
    log_evidence_err : float
        ``sqrt(H / n_live)``, Skilling's estimate of its error.
    information : float
        ``H``, in nats: how much the posterior is narrower than the prior.
    points : numpy.ndarray, shape (m, d)
        Dead points, then the final live points.
    log_weights : numpy.ndarray, shape (m,)
        Their normalised posterior weights, log.
    log_likelihood : numpy.ndarray, shape (m,)
        Their log-likelihoods.
    log_volume : numpy.ndarray, shape (n_iter,)
        ``log X_i`` at each iteration.
    n_iterations : int
        Iterations run.
    n_likelihood_calls : int
        Points evaluated: the initial live points plus every candidate of every batch.
    acceptance : numpy.ndarray, shape (n_iter,)
        Fraction of prior draws that beat the worst live point, per iteration.
    n_likelihood_needed : int
        Evaluations one-at-a-time rejection would need: the initial live points plus, per iteration, the
        draws up to and including the first one that beats the worst.

    References
    ----------
    Skilling, J. (2006). Nested sampling for general Bayesian computation. Bayesian Analysis 1, 833-859.
    """
    log_evidence: float
    log_evidence_err: float  # sqrt(H / n_live), Skilling's estimate
    information: float  # H, in nats: how much the posterior is narrower than the prior
    points: np.ndarray  # (m, d): dead points, then the final live points
    log_weights: np.ndarray  # (m,): normalised posterior weights, log
    log_likelihood: np.ndarray  # (m,)
    log_volume: np.ndarray  # (n_iter,): log X_i at each iteration
    n_iterations: int
    n_likelihood_calls: int  # evaluated: the initial live points plus every candidate of every batch
    acceptance: np.ndarray  # (n_iter,): fraction of prior draws that beat the worst live point
    n_likelihood_needed: int  # needed by one-at-a-time rejection: the initial live points plus, per
    #                           iteration, the draws up to and including the first one that beats the worst

    def resample(self, n: int, seed=None) -> np.ndarray:
        """``n`` equally weighted posterior draws (with replacement).

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
        rng = as_rng(seed)
        return self.points[rng.choice(len(self.points), size=n, p=np.exp(self.log_weights))]


def nested_sampling(log_likelihood: Callable[[np.ndarray], np.ndarray],
                    prior_draws: Callable[[np.random.Generator, int], np.ndarray],
                    n_live: int = 200, dlogz: float = 0.01, max_iterations: int = 100_000,
                    max_calls: int = 10_000_000, batch: int = 256, seed=None) -> NestedResult:
    """Estimate ``log Z = log integral of L(theta) p(theta) d theta`` and weighted posterior samples.

    Parameters
    ----------
    log_likelihood
        Vectorised ``(n, d) -> (n,)``.
    prior_draws
        ``(rng, n) -> (n, d)``: independent draws from the prior.
    dlogz
        Stop when the live points can add at most this much to ``log Z``
        (``max log L_live + log X_i < log Z + log(dlogz)``, roughly).
    batch
        Prior draws per rejection round (vectorised); the first one that beats the threshold is used.
        A batch is evaluated whole, so each iteration costs at least ``batch`` calls even when the first
        draw succeeds: ``n_likelihood_calls`` counts what was evaluated, ``n_likelihood_needed`` what
        rejection one draw at a time would have evaluated (the draws up to the first success), the cost
        of the algorithm itself; given the threshold, its expectation is ``1 / X_i`` per iteration.

    Returns
    -------
    NestedResult
        ``log_evidence`` and its error ``sqrt(H / n_live)``, the information ``H``, the dead points
        followed by the final live points with their normalised log-weights and log-likelihoods, the
        expected ``log X_i``, the acceptance of each iteration and both call counts.

    Raises
    ------
    RuntimeError
        More than ``max_calls`` likelihood evaluations: rejection from the prior has become too
        inefficient (the point of the exercise; use a real nested sampler).
    """
    n_live = check_positive_int("n_live", n_live, minimum=2)
    rng = as_rng(seed)
    live = np.asarray(prior_draws(rng, n_live), float)
    if live.ndim != 2 or live.shape[0] != n_live:
        raise ValueError(f"prior_draws(rng, {n_live}) must return shape ({n_live}, d), got {live.shape}")
    live_logl = evaluate_batch(log_likelihood, live, "log_likelihood")
    calls = needed = n_live
    dead, dead_logl, log_volume, log_widths, acceptance = [], [], [], [], []
    log_z = -np.inf
    for i in range(1, max_iterations + 1):
        worst = int(np.argmin(live_logl))
        threshold = live_logl[worst]
        log_x = -i / n_live  # expected log of the remaining prior volume
        log_width = np.log(np.exp(-(i - 1) / n_live) - np.exp(log_x))
        log_z = np.logaddexp(log_z, threshold + log_width)
        dead.append(live[worst].copy())
        dead_logl.append(threshold)
        log_volume.append(log_x)
        log_widths.append(log_width)
        tried = accepted = 0
        while True:  # rejection: draw from the prior until a point beats the worst live point
            if calls >= max_calls:
                raise RuntimeError(f"{calls} likelihood calls after {i} iterations: rejection from the prior accepts "
                                   f"about {accepted / max(tried, 1):.1e} of draws; use a real nested sampler")
            candidates = np.asarray(prior_draws(rng, batch), float)
            logl = evaluate_batch(log_likelihood, candidates, "log_likelihood")
            calls += batch
            tried += batch
            better = np.flatnonzero(logl > threshold)
            accepted += better.size
            if better.size:
                live[worst], live_logl[worst] = candidates[better[0]], logl[better[0]]
                needed += tried - batch + better[0] + 1  # earlier rounds in full, this one up to its first success
                break
        acceptance.append(accepted / tried)
        if live_logl.max() + log_x < log_z + np.log(dlogz):
            break
    # the final live points share the remaining volume equally
    log_z = np.logaddexp(log_z, special.logsumexp(live_logl) + log_x - np.log(n_live))
    points = np.vstack([np.array(dead), live])
    logl = np.concatenate([dead_logl, live_logl])
    x = np.array(log_volume)
    log_w = logl + np.concatenate([log_widths, np.full(n_live, x[-1] - np.log(n_live))]) - log_z
    information = float(np.sum(np.exp(log_w) * (logl - log_z)))
    return NestedResult(float(log_z), float(np.sqrt(max(information, 0.0) / n_live)), information, points,
                        log_w, logl, x, len(x), int(calls), np.array(acceptance), int(needed))
