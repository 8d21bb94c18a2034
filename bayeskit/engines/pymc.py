"""Engine ``"pymc"``: ``pm.sample`` on the PyMC model behind the Problem.

NUTS for continuous variables; with discrete variables PyMC builds a compound step (NUTS for the
continuous ones, Metropolis for the discrete ones). Any ``pm.sample`` keyword can be passed, e.g.
``step=pm.Metropolis()`` inside the model context via ``step_factory``.
"""

from __future__ import annotations

import time

import numpy as np

from bayeskit._checks import seed_for_attrs

from bayeskit.engines import require_pymc


def run(problem, draws, chains=None, seed=None, progressbar=True, tune=None, step_factory=None, **sample_kwargs):
    """Options: ``tune`` (default ``draws``), ``step_factory`` (a callable returning PyMC step
    method(s), called inside the model context, e.g. ``lambda: pm.Metropolis()``), ``cores``
    (default 1: reproducible and without process start-up cost) and other ``pm.sample`` keywords."""
    import pymc as pm

    require_pymc(problem, "pymc")
    chains = 4 if chains is None else chains
    tune = draws if tune is None else tune
    model = problem.pymc_model
    sample_kwargs.setdefault("cores", 1)
    sample_kwargs.setdefault("compute_convergence_checks", False)
    started = time.perf_counter()
    with model:
        step = step_factory() if step_factory is not None else None
        idata = pm.sample(
            draws=draws, tune=tune, chains=chains, random_seed=seed, progressbar=progressbar,
            step=step, discard_tuned_samples=False, **sample_kwargs,
        )
    wall = time.perf_counter() - started
    stats = idata.sample_stats
    warm = idata.get("warmup_sample_stats")
    n_evals = None
    if "n_steps" in stats:  # NUTS: one gradient evaluation per leapfrog step
        n_evals = int(np.nansum(stats["n_steps"].values) + (np.nansum(warm["n_steps"].values) if warm is not None else 0))
    step_names = sorted({type(s).__name__ for s in np.atleast_1d(step)}) if step is not None else None
    out = idata.__class__(posterior=idata.posterior[list(problem.layout.names)], sample_stats=stats)
    out.attrs.update({
        "engine": "pymc", "seed": seed_for_attrs(seed), "wall_time_s": wall,
        "sampling_time_s": float(idata.posterior.attrs.get("sampling_time", np.nan)),
        "n_evaluations": n_evals if n_evals is not None else -1,
        "step": ",".join(step_names) if step_names else "auto", "tune": tune,
    })
    if "acceptance_rate" in stats:
        out.attrs["acceptance_rate"] = float(np.nanmean(stats["acceptance_rate"].values))
    elif "accepted" in stats:
        out.attrs["acceptance_rate"] = float(np.nanmean(stats["accepted"].values))
    return out
