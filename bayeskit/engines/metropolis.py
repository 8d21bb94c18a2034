"""Engine ``"metropolis"``: the from-scratch sampler of :mod:`bayeskit.samplers.metropolis`.

Options (declared in :mod:`bayeskit.engines.registry`): ``tune`` (default ``draws``), ``initial``
``(chains, ndim)`` or ``(ndim,)`` (default: spread over the central half of the prior; its rows set the
number of chains when ``chains`` is None), and the keywords of :func:`bayeskit.metropolis`
(``target_accept``, ``proposal_sd``, ``adapt_covariance``). Default: 4 chains.
"""

from __future__ import annotations

import numpy as np

from bayeskit._checks import as_rng, check_start_points
from bayeskit.engines.walk_space import walk_space
from bayeskit.results import build_inference_data
from bayeskit.samplers.metropolis import metropolis


def run(problem, record, *, draws, chains, seed, progressbar, tune, initial, space="unconstrained", log_likelihood=None,
        **options):
    """Run :func:`bayeskit.metropolis` on ``problem.log_density``, the unconstrained space (discrete
    parameters keep their integer steps; ``space="constrained"`` walks on the parameters themselves, see
    :mod:`bayeskit.engines.walk_space`), and report constrained draws; called by :func:`bayeskit.sample`.
    Starting points are given, and checked, on the constrained space."""
    if initial is not None and np.ndim(initial) == 1:  # one start shared by every chain
        initial = np.tile(np.asarray(initial), (4 if chains is None else chains, 1))
    elif initial is not None and chains is None and np.ndim(initial) == 2:
        chains = np.shape(initial)[0]
    chains = 4 if chains is None else chains
    tune = draws if tune is None else tune
    rng = as_rng(seed)
    if initial is None:
        start = problem.initial_points(chains, rng)
    else:
        start = check_start_points(initial, problem.log_posterior, chains, problem.ndim, unit="chain")
    walk = walk_space(problem, space, "metropolis")
    with record.measure():
        idata = metropolis(
            walk.log_density, walk.from_parameters(start), draws=draws, tune=tune, chains=chains, seed=rng,
            integer=walk.layout.discrete_mask, layout=walk.layout, progressbar=progressbar, **options,
        )
    z = walk.layout.flatten({name: idata.posterior[name].values for name in walk.layout.names})
    samples = walk.to_parameters(z.reshape(-1, z.shape[-1])).reshape(*z.shape[:2], problem.ndim)
    stats = {name: idata.sample_stats[name].values for name in idata.sample_stats.data_vars}
    attrs = {k: v for k, v in idata.attrs.items() if k in ("acceptance_rate", "proposal_scale", "tune")}
    return build_inference_data(problem, samples, sample_stats=stats, attrs=attrs, log_likelihood=log_likelihood)
