"""Calibration by simulation: do a sampler's credible intervals cover the truth as often as they claim?

Draw parameters and data from a PyMC model's prior predictive, fit each simulated data set (the
model's ``pm.Data`` is swapped with ``pm.set_data``, so the model is compiled once), and record
whether each central interval contains the parameter that generated the data. If the model is the
one that generated the data and the sampler is right, a ``level`` interval covers with probability
``level`` exactly, averaged over the prior (Cook, Gelman & Rubin 2006; Talts et al. 2018).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bayeskit._checks import as_rng, check_positive_int

__all__ = ["Coverage", "interval_coverage"]


@dataclass(frozen=True)
class Coverage:
    """Per simulation and parameter: the true value, the interval, and whether it was covered."""

    labels: tuple[str, ...]
    level: float
    truth: np.ndarray  # (n_sims, ndim)
    lower: np.ndarray
    upper: np.ndarray

    @property
    def covered(self) -> np.ndarray:
        return (self.lower <= self.truth) & (self.truth <= self.upper)

    @property
    def n_sims(self) -> int:
        return self.truth.shape[0]

    @property
    def rate(self) -> float:
        """Fraction of all (simulation, parameter) intervals that covered."""
        return float(self.covered.mean())

    @property
    def rate_per_parameter(self) -> dict[str, float]:
        return dict(zip(self.labels, self.covered.mean(axis=0)))

    def tolerance(self, z: float = 3.0) -> float:
        """``z`` binomial standard errors of :attr:`rate` if it were one indicator per simulation.

        Intervals of one simulation share the data, so their indicators are dependent; the mean of
        several indicators has a variance no larger than a single one's, ``level (1 - level) / n_sims``,
        so this bound holds however they are correlated."""
        return float(z * np.sqrt(self.level * (1 - self.level) / self.n_sims))


def interval_coverage(model, data_name: str, observed_name: str, n_sims: int, level: float = 0.9,
                      engine: str = "metropolis", seed=None, progressbar: bool = True, **sample_kwargs) -> Coverage:
    """Coverage of central ``level`` intervals over ``n_sims`` data sets simulated from ``model``.

    Parameters
    ----------
    model
        A ``pm.Model`` whose observed variable ``observed_name`` takes its values from the
        ``pm.Data`` container ``data_name``.
    engine, sample_kwargs
        Passed to :func:`bayeskit.sample` for every fit (e.g. ``draws``, ``chains``, ``tune``).
    """
    import pymc as pm

    from bayeskit.engines import sample
    from bayeskit.problem import Problem

    n_sims = check_positive_int("n_sims", n_sims)
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    names = [v.name for v in model.data_vars]
    if data_name not in names:
        raise ValueError(f"the model has no pm.Data named {data_name!r}; it has {names}")
    observed = [v.name for v in model.observed_RVs]
    if observed_name not in observed:
        raise ValueError(f"the model has no observed variable {observed_name!r}; it has {observed}")
    rng = as_rng(seed)
    problem = Problem.from_pymc(model)
    layout = problem.layout
    original = model[data_name].get_value()
    *params, data = pm.draw([model[n] for n in layout.names] + [model[observed_name]], draws=n_sims,
                            random_seed=rng)
    truth = np.stack([layout.flatten({n: p[i] for n, p in zip(layout.names, params)}) for i in range(n_sims)])
    lower, upper = np.empty_like(truth), np.empty_like(truth)
    q = [(1 - level) / 2, (1 + level) / 2]
    sims = range(n_sims)
    if progressbar:
        from tqdm.auto import tqdm
        sims = tqdm(sims, desc=f"coverage ({engine})")
    try:
        for i in sims:
            with model:
                pm.set_data({data_name: data[i]})
            idata = sample(problem, engine, seed=rng, progressbar=False, **sample_kwargs)
            flat = np.concatenate([idata.posterior[n].values.reshape(-1, size)
                                   for n, size in zip(layout.names, layout.sizes)], axis=1)
            lower[i], upper[i] = np.quantile(flat, q, axis=0)
    finally:
        with model:
            pm.set_data({data_name: original})
    return Coverage(tuple(layout.labels), float(level), truth, lower, upper)
