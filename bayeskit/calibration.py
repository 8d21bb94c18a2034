"""Calibration by simulation: do a sampler's credible intervals cover the truth as often as they claim?

Draw parameters and data from a PyMC model's prior predictive, fit each simulated data set (the
model's ``pm.Data`` is swapped with ``pm.set_data``, so the model is compiled once), and record
whether each central interval contains the parameter that generated the data. If the model is the
one that generated the data and the sampler is right, a ``level`` interval covers with probability
``level`` exactly, averaged over the prior (Cook, Gelman & Rubin 2006; Talts et al. 2018).

The fits are independent, so they can run in parallel: ``executor=`` takes a ``concurrent.futures`` executor
(``ProcessPoolExecutor`` on one machine, ``mpi4py.futures.MPIPoolExecutor`` over a cluster). Every fit has its own
seed, drawn in advance from ``seed``, so the result is the same, bit for bit, serially and with any executor.

References
----------
Cook, S. R., Gelman, A., Rubin, D. B. (2006). Validation of software for Bayesian models using posterior quantiles.
JCGS 15, 675-692.
Talts, S., Betancourt, M., Simpson, D., Vehtari, A., Gelman, A. (2018). Validating Bayesian inference algorithms
with simulation-based calibration. arXiv:1804.06788.
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
                      engine: str = "metropolis", seed=None, progressbar: bool = True, executor=None,
                      **sample_kwargs) -> Coverage:
    """Coverage of central ``level`` intervals over ``n_sims`` data sets simulated from ``model``.

    Parameters
    ----------
    model
        A ``pm.Model`` whose observed variable ``observed_name`` takes its values from the
        ``pm.Data`` container ``data_name``.
    data_name, observed_name
        The ``pm.Data`` container the simulated data go into, and the observed variable they are drawn from.
    n_sims
        Number of simulated data sets (one fit each).
    level
        Probability of the central intervals, in (0, 1).
    engine, sample_kwargs
        Passed to :func:`bayeskit.sample` for every fit (e.g. ``draws``, ``chains``, ``tune``). ``log_likelihood``
        defaults to False here: the intervals need only the posterior draws, and the pointwise log-likelihood
        would be compiled and evaluated for every fit.
    seed
        Seeds the simulated parameters and data, and one seed per fit drawn from it in advance.
    progressbar
        Show a progress bar over the fits (serial runs only).
    executor
        None: fit one data set after the other here. Or a ``concurrent.futures`` executor (anything with
        ``map(function, iterable)``): the fits are split into one chunk per worker; each chunk carries the model
        (pickled with cloudpickle) and its data sets, so each worker compiles the model once per chunk. With
        ``mpi4py.futures.MPIPoolExecutor``, run the script as ``mpiexec -n 5 python -m mpi4py.futures study.py``
        (one process drives, four fit). The result is identical to the serial one for the same seed. Each worker
        fits its chunk on its own process (:func:`bayeskit.engines.parallel.single_process`): with
        ``engine="ultranest"`` UltraNest gets ``MPI.COMM_SELF``, not the ``COMM_WORLD`` that the executor's
        processes share.

    Returns
    -------
    Coverage
        The true values, the intervals and whether each covered.

    Raises
    ------
    ValueError
        Unknown ``data_name`` or ``observed_name``; ``level`` outside (0, 1); ``n_sims`` not positive.
    TypeError
        ``executor`` has no ``map`` method.

    Examples
    --------
    >>> from concurrent.futures import ProcessPoolExecutor
    >>> with ProcessPoolExecutor(2) as ex:  # doctest: +SKIP
    ...     cov = interval_coverage(model, "y", "obs", 100, seed=5, executor=ex, draws=500, tune=500)
    """
    import pymc as pm

    from bayeskit.engines.parallel import check_pool
    from bayeskit.problem import Problem

    n_sims = check_positive_int("n_sims", n_sims)
    if executor is not None:
        check_pool("executor", executor)
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    names = [v.name for v in model.data_vars]
    if data_name not in names:
        raise ValueError(f"the model has no pm.Data named {data_name!r}; it has {names}")
    observed = [v.name for v in model.observed_RVs]
    if observed_name not in observed:
        raise ValueError(f"the model has no observed variable {observed_name!r}; it has {observed}")
    sample_kwargs.setdefault("log_likelihood", False)  # the intervals read only the posterior
    rng = as_rng(seed)
    problem = Problem.from_pymc(model)
    layout = problem.layout
    *params, data = pm.draw([model[n] for n in layout.names] + [model[observed_name]], draws=n_sims,
                            random_seed=rng)
    if n_sims == 1:  # pm.draw gives one draw without its leading axis
        params, data = [p[None] for p in params], data[None]
    truth = np.stack([layout.flatten({n: p[i] for n, p in zip(layout.names, params)}) for i in range(n_sims)])
    fit_seeds = [int(s) for s in rng.integers(2**63 - 1, size=n_sims)]  # one per fit: the same serially or not
    q = [(1 - level) / 2, (1 + level) / 2]
    if executor is None:
        lower, upper = _fit_many(model, problem, data_name, list(data), fit_seeds, engine, q, sample_kwargs,
                                 restore=True, progress=f"coverage ({engine})" if progressbar else None)
    else:
        import cloudpickle

        from bayeskit.engines.parallel import split

        payload = cloudpickle.dumps((model, sample_kwargs))  # once; each chunk carries these bytes to a worker
        chunks = split(n_sims, executor)
        tasks = [(payload, data_name, engine, q, [data[i] for i in c], [fit_seeds[i] for i in c]) for c in chunks]
        parts = list(executor.map(_fit_chunk, tasks))
        lower = np.concatenate([p[0] for p in parts])
        upper = np.concatenate([p[1] for p in parts])
    return Coverage(tuple(layout.labels), float(level), truth, lower, upper)


def _fit_many(model, problem, data_name, datasets, seeds, engine, q, sample_kwargs, restore, progress=None):
    """Fit each data set in turn (``pm.set_data`` into the compiled ``problem``); the ``q`` quantiles per parameter.
    ``progress``: the description of a progress bar that advances with each fit (None: no bar)."""
    import pymc as pm

    from bayeskit.engines import sample

    layout = problem.layout
    lower, upper = np.empty((len(seeds), layout.ndim)), np.empty((len(seeds), layout.ndim))
    original = model[data_name].get_value()
    fits = enumerate(zip(datasets, seeds))
    if progress is not None:
        from tqdm.auto import tqdm
        fits = tqdm(fits, total=len(seeds), desc=progress)
    try:
        for i, (y, fit_seed) in fits:
            with model:
                pm.set_data({data_name: y})
            idata = sample(problem, engine, seed=fit_seed, progressbar=False, **sample_kwargs)
            flat = np.concatenate([idata.posterior[n].values.reshape(-1, size)
                                   for n, size in zip(layout.names, layout.sizes)], axis=1)
            lower[i], upper[i] = np.quantile(flat, q, axis=0)
    finally:
        if restore:
            with model:
                pm.set_data({data_name: original})
    return lower, upper


def _fit_chunk(task: tuple) -> tuple[np.ndarray, np.ndarray]:
    """Run on an executor's worker: unpickle the model, compile it once, fit the chunk's data sets."""
    import pickle

    from bayeskit.problem import Problem

    from bayeskit.engines.parallel import single_process

    payload, data_name, engine, q, datasets, seeds = task
    model, sample_kwargs = pickle.loads(payload)
    with single_process():  # each fit stays on this worker: UltraNest must not join COMM_WORLD (see parallel.py)
        return _fit_many(model, Problem.from_pymc(model), data_name, datasets, seeds, engine, q, sample_kwargs,
                         restore=False)
