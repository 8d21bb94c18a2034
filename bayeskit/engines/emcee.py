"""Engine ``"emcee"``: the affine-invariant ensemble sampler (Foreman-Mackey et al. 2013).

Walkers become chains. emcee keeps its own ``numpy.random.RandomState``; this adapter seeds it with one
draw from ``np.random.default_rng(seed)`` (a Generator is used as it is). Note that walkers of an ensemble
are not independent chains, so R-hat computed across them is only indicative.

Options (declared in :mod:`bayeskit.engines.registry`): ``tune`` burn-in steps discarded (default
``draws``), ``initial`` ``(walkers, ndim)`` (its rows set the number of walkers when ``chains`` is None),
``moves`` (an emcee move). Default walkers: ``max(32, 2 * ndim + 2)``.

Starting points are checked on entry: every walker must have a finite log posterior, and the walkers must
span all dimensions. emcee's stretch move proposes ``x_k + z (x_j - x_k)`` along lines through other walkers,
so an ensemble that starts on a line or a plane (or at one point) never leaves it.

References
----------
Goodman, J., Weare, J. (2010). Ensemble samplers with affine invariance. CAMCoS 5, 65-80.
Foreman-Mackey, D., Hogg, D. W., Lang, D., Goodman, J. (2013). emcee: the MCMC hammer. PASP 125, 306.
"""

from __future__ import annotations

import emcee
import numpy as np

from bayeskit._checks import as_rng, check_start_points
from bayeskit.engines.walk_space import walk_space
from bayeskit.results import build_inference_data

#: emcee's own rule (``get_autocorr_time``'s ``tol``): tau is trustworthy once the chain is 50 tau long.
AUTOCORR_TOL = 50


def run(problem, record, *, draws, chains, seed, progressbar, tune, initial, moves, space="unconstrained",
        log_likelihood=None):
    """Run emcee's EnsembleSampler on ``problem.log_density``, the unconstrained space, and report
    constrained draws (``space="constrained"``: on the parameters themselves, see
    :mod:`bayeskit.engines.walk_space`); called by :func:`bayeskit.sample`. Starting points are given, and
    checked, on the constrained space."""
    walk = walk_space(problem, space, "emcee")
    ndim = walk.layout.ndim
    if chains is None:
        chains = np.shape(initial)[0] if initial is not None and np.ndim(initial) == 2 else max(32, 2 * ndim + 2)
    walkers = chains
    if walkers < 2 * ndim:
        raise ValueError(f"emcee needs at least 2 * ndim = {2 * ndim} walkers (chains), got {walkers}")
    tune = draws if tune is None else tune
    rng = as_rng(seed)
    if initial is None:
        start = problem.initial_points(walkers, rng)
    else:
        start = check_start_points(initial, problem.log_posterior, walkers, problem.ndim, unit="walker")
    start = walk.from_parameters(start)
    if initial is not None:  # spanning is judged where the walkers move (a simplex spans one dimension less)
        check_start_points(start, walk.log_density, walkers, ndim, unit="walker", spanning=True)
    sampler = emcee.EnsembleSampler(walkers, ndim, walk.log_density, vectorize=True, moves=moves)
    sampler.random_state = np.random.RandomState(rng.integers(2**32 - 1)).get_state()
    with record.measure():
        sampler.run_mcmc(start, tune + draws, progress=progressbar)
    chain = np.swapaxes(sampler.get_chain(discard=tune), 0, 1)  # (walkers, draws, unconstrained ndim)
    samples = walk.to_parameters(chain.reshape(-1, ndim)).reshape(*chain.shape[:2], problem.ndim)
    lp = np.swapaxes(sampler.get_log_prob(discard=tune), 0, 1)
    tau = _autocorr_time(sampler, tune)
    if np.any(~np.isfinite(tau) | (AUTOCORR_TOL * tau > draws)):
        record.note(f"emcee: the chains are shorter than {AUTOCORR_TOL} times the integrated autocorrelation time "
                    f"(tau up to {np.nanmax(tau):.1f} steps, {draws} draws): the estimate of tau is unreliable; run longer")
    return build_inference_data(
        problem, samples, sample_stats={"lp": lp}, log_likelihood=log_likelihood,
        attrs={"acceptance_rate": float(np.mean(sampler.acceptance_fraction)), "autocorr_time": np.asarray(tau, float),
               "tune": tune},
    )


def _autocorr_time(sampler, tune: int) -> np.ndarray:
    """emcee's integrated autocorrelation time per parameter, without emcee's own log line when the chain is
    short: the caller records that caveat once, in ``attrs["warnings"]``. It concerns only
    ``attrs["autocorr_time"]``; the ESS and R-hat of the result are ArviZ's, computed from the draws."""
    import logging

    logger = logging.getLogger("emcee.autocorr")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        return sampler.get_autocorr_time(discard=tune, quiet=True)
    finally:
        logger.setLevel(level)
