"""Engine ``"metropolis"``: the from-scratch sampler of :mod:`bayeskit.samplers.metropolis`."""

from __future__ import annotations

import numpy as np

from bayeskit._checks import as_rng, seed_for_attrs
from bayeskit.samplers.metropolis import metropolis


def run(problem, draws, chains=None, seed=None, progressbar=True, tune=None, initial=None, **options):
    """Options: ``tune`` (default ``draws``), ``initial`` ``(chains, ndim)`` (default: spread over the
    central half of the prior), and any keyword of :func:`bayeskit.metropolis`."""
    chains = 4 if chains is None else chains
    tune = draws if tune is None else tune
    rng = as_rng(seed)
    start = problem.initial_points(chains, rng) if initial is None else np.asarray(initial, float)
    before = problem.n_evaluations
    idata = metropolis(
        problem.log_posterior, start, draws=draws, tune=tune, chains=chains, seed=rng,
        integer=problem.layout.discrete_mask, layout=problem.layout, progressbar=progressbar, **options,
    )
    idata.attrs["seed"] = seed_for_attrs(seed)
    idata.attrs["n_evaluations"] = problem.n_evaluations - before
    return idata
