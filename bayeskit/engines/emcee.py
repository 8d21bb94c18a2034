"""Engine ``"emcee"``: the affine-invariant ensemble sampler (Foreman-Mackey et al. 2013).

Walkers become chains. emcee keeps its own ``numpy.random.RandomState``; this adapter seeds it
from ``seed``. Note that walkers of an ensemble are not independent chains, so R-hat computed
across them is only indicative.

References
----------
Goodman, J., Weare, J. (2010). Ensemble samplers with affine invariance. CAMCoS 5, 65-80.
Foreman-Mackey, D., Hogg, D. W., Lang, D., Goodman, J. (2013). emcee: the MCMC hammer. PASP 125, 306.
"""

from __future__ import annotations

import time

import emcee
import numpy as np

from bayeskit._checks import as_rng, seed_for_attrs
from bayeskit.engines import require_continuous
from bayeskit.layout import to_inference_data


def run(problem, draws, chains=None, seed=None, progressbar=True, tune=None, initial=None, moves=None):
    """Options: ``tune`` burn-in steps discarded (default ``draws``), ``initial`` ``(walkers, ndim)``,
    ``moves`` (an emcee move). Default walkers: ``max(32, 2 * ndim + 2)``."""
    require_continuous(problem, "emcee")
    ndim = problem.ndim
    walkers = max(32, 2 * ndim + 2) if chains is None else chains
    if walkers < 2 * ndim:
        raise ValueError(f"emcee needs at least 2 * ndim = {2 * ndim} walkers (chains), got {walkers}")
    tune = draws if tune is None else tune
    rng = as_rng(seed)
    start = problem.initial_points(walkers, rng) if initial is None else np.asarray(initial, float)
    sampler = emcee.EnsembleSampler(walkers, ndim, problem.log_posterior, vectorize=True, moves=moves)
    sampler.random_state = np.random.RandomState(rng.integers(2**32 - 1)).get_state()
    before = problem.n_evaluations
    started = time.perf_counter()
    sampler.run_mcmc(start, tune + draws, progress=progressbar)
    wall = time.perf_counter() - started
    chain = sampler.get_chain(discard=tune)  # (draws, walkers, ndim)
    samples = np.swapaxes(chain, 0, 1)
    lp = np.swapaxes(sampler.get_log_prob(discard=tune), 0, 1)
    tau = sampler.get_autocorr_time(discard=tune, quiet=True)
    return to_inference_data(
        samples, problem.layout, sample_stats={"lp": lp},
        attrs={
            "engine": "emcee", "seed": seed_for_attrs(seed), "wall_time_s": wall,
            "n_evaluations": problem.n_evaluations - before, "acceptance_rate": float(np.mean(sampler.acceptance_fraction)),
            "autocorr_time": np.asarray(tau, float), "tune": tune,
        },
    )
