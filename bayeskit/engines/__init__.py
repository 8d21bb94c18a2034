"""Run one :class:`~bayeskit.Problem` on any engine; every engine returns ``arviz.InferenceData``.

Each engine module has one function ``run(problem, draws, chains, seed, progressbar, **options)``.
They all return the same variable names and dims ``(chain, draw, ...)``, with run facts in
``idata.attrs``: ``engine``, ``seed``, ``wall_time_s``, ``n_evaluations`` (log-density or gradient
evaluations, where known), and for nested sampling ``log_evidence`` and ``log_evidence_err``.
"""

from __future__ import annotations

import importlib

import arviz as az

from bayeskit._checks import check_positive_int
from bayeskit.problem import Problem

__all__ = ["ENGINES", "sample"]

ENGINES: dict[str, str] = {
    "metropolis": "bayeskit.engines.metropolis",
    "emcee": "bayeskit.engines.emcee",
    "pymc": "bayeskit.engines.pymc",
    "ultranest": "bayeskit.engines.ultranest",
    "advi": "bayeskit.engines.advi",
    "fullrank_advi": "bayeskit.engines.advi",
}


def sample(
    problem: Problem,
    engine: str = "metropolis",
    draws: int = 1000,
    chains: int | None = None,
    seed=None,
    progressbar: bool = True,
    **engine_options,
) -> az.InferenceData:
    """Sample ``problem``'s posterior with ``engine``.

    Parameters
    ----------
    problem
        The model, as a :class:`~bayeskit.Problem`.
    engine
        ``"metropolis"`` (from scratch), ``"emcee"``, ``"pymc"`` (NUTS, or a compound step with
        discrete variables), ``"ultranest"`` (nested sampling, gives the log-evidence), ``"advi"`` or
        ``"fullrank_advi"`` (variational).
    draws
        Draws per chain (for ultranest: ignored, all equally weighted posterior samples are kept;
        for ADVI: draws from the fitted approximation).
    chains
        Chains (emcee: walkers). Default depends on the engine.
    seed
        Integer seed; the same seed gives the same numbers.
    progressbar
        Show the engine's progress display.
    **engine_options
        Passed to the engine (e.g. ``tune`` for metropolis/emcee/pymc, ``n`` iterations for ADVI,
        ``min_num_live_points`` for ultranest); see each module in :mod:`bayeskit.engines`.
    """
    if not isinstance(problem, Problem):
        raise TypeError(f"problem must be a bayeskit.Problem, got {type(problem).__name__}")
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; expected one of {sorted(ENGINES)}")
    draws = check_positive_int("draws", draws)
    if chains is not None:
        chains = check_positive_int("chains", chains)
    if engine not in ("advi", "fullrank_advi") and _uses_minibatches(problem):
        raise ValueError(
            f"this model's likelihood sees random minibatches (pm.Minibatch), which only stochastic optimisation "
            f"('advi', 'fullrank_advi') can use; {engine!r} needs the likelihood of all the data: build the model "
            "without minibatches"
        )
    module = importlib.import_module(ENGINES[engine])
    options = dict(engine_options)
    if engine in ("advi", "fullrank_advi"):
        options["method"] = engine
    return module.run(problem, draws=draws, chains=chains, seed=seed, progressbar=progressbar, **options)


def _uses_minibatches(problem: Problem) -> bool:
    if problem.pymc_model is None:
        return False
    from pymc.variational.minibatch_rv import MinibatchRandomVariable

    return any(isinstance(rv.owner.op, MinibatchRandomVariable) for rv in problem.pymc_model.observed_RVs)


def require_continuous(problem: Problem, engine: str) -> None:
    """Engines that need a continuous parameter space reject discrete parameters clearly."""
    if problem.has_discrete:
        discrete = [n for n, d in zip(problem.layout.names, problem.layout.discrete) if d]
        raise ValueError(
            f"engine {engine!r} needs continuous parameters, but {discrete} are discrete. "
            "Marginalise them out of the model (sum over their values, e.g. with logsumexp), "
            "or use engine 'pymc', 'ultranest' or 'metropolis', which handle discrete parameters."
        )


def require_pymc(problem: Problem, engine: str) -> None:
    if problem.pymc_model is None:
        raise ValueError(
            f"engine {engine!r} runs the PyMC model behind the Problem; build it with Problem.from_pymc(model)"
        )
