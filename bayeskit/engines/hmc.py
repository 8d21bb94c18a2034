"""Engines ``"hmc"`` and ``"nuts"``: the from-scratch samplers of :mod:`bayeskit.samplers.hmc` and
:mod:`bayeskit.samplers.nuts` on the Problem's unconstrained space.

They move on ``problem.log_density_and_grad`` (the log posterior of the constrained values plus the log
Jacobian of the map, as PyMC, Stan and nutpie do), and report constrained draws with everything
:func:`bayeskit.results.build_inference_data` gives every engine (dims and coords, Deterministics, pointwise
log-likelihood, observed and constant data), plus ``sample_stats`` under ArviZ's and PyMC's names
(``diverging``, ``tree_depth``, ``step_size``, ``energy``, ``acceptance_rate``, ``n_steps``, ``lp``, ...).

Options (declared in :mod:`bayeskit.engines.registry`): ``tune`` (default ``draws``), ``target_accept``
(0.8), ``mass_matrix`` (``"diag"`` or ``"dense"``), ``initial`` (starting points on the constrained space)
or ``init_jitter`` (PyMC's initial point moved by ``U(-a, a)`` on the unconstrained space, as ``pm.sample``'s
``jitter+adapt_diag`` does with ``a = 1``), ``step_size`` (the first one; None: Stan's heuristic), and
``max_treedepth`` (NUTS) or ``n_steps`` / ``path_length`` / ``jitter`` / ``max_steps`` (HMC). Default: 4
chains. ``attrs["n_evaluations"]`` counts gradient evaluations (warm-up included).

Only Problems with a gradient can run here: a Problem built from scipy priors and a numpy log-likelihood
has none, and is refused with a pointer to the gradient-free engines.
"""

from __future__ import annotations

import numpy as np

from bayeskit._checks import as_rng, check_start_points
from bayeskit.engines.record import ConvergenceWarning
from bayeskit.results import build_inference_data

#: Starting points are redrawn this many times when a jittered start lands where the density is zero.
_START_ATTEMPTS = 20


def _check_gradient(problem, engine: str) -> None:
    if not problem.has_gradient:
        raise ValueError(
            f"engine {engine!r} needs the gradient of the log posterior, which a Problem built from scipy priors and "
            "a numpy log-likelihood does not have; use engine 'metropolis' or 'emcee' (no gradient needed), or write "
            "the model in PyMC and build the Problem with Problem.from_pymc(model)")


def _starts(problem, chains, initial, init_jitter, rng) -> np.ndarray:
    """Unconstrained starting points: from ``initial`` (constrained), or PyMC's initial point jittered."""
    if initial is not None:
        start = np.asarray(initial, dtype=float)
        if start.ndim == 1:
            start = np.tile(start, (chains, 1))
        x = check_start_points(start, problem.log_posterior, chains, problem.ndim, unit="chain")
        return problem.to_unconstrained(x)
    layout = problem.unconstrained_layout
    point = problem.pymc_model.initial_point()
    z0 = layout.flatten({name: np.asarray(point[name])[None] for name in layout.names})[0]
    for _ in range(_START_ATTEMPTS):
        z = z0 + rng.uniform(-init_jitter, init_jitter, size=(chains, z0.size))
        lp, grad = problem.log_density_and_grad(z)
        if np.all(np.isfinite(lp)) and np.all(np.isfinite(grad)):
            return z
        if init_jitter == 0:
            break
    raise ValueError("could not find starting points with a finite log posterior and gradient around the model's "
                     f"initial point (init_jitter={init_jitter}); pass starting points with initial=")


def _chains_and_starts(problem, chains, initial, init_jitter, rng):
    if initial is not None and chains is None and np.ndim(initial) == 2:
        chains = np.shape(initial)[0]
    chains = 4 if chains is None else chains
    return chains, _starts(problem, chains, initial, init_jitter, rng)


def _result(problem, record, run, engine: str, log_likelihood, extra: dict):
    """Constrained draws and the run's statistics as InferenceData; divergences recorded as warnings."""
    z = run.draws
    samples = problem.to_constrained(z.reshape(-1, z.shape[-1])).reshape(*z.shape[:2], problem.ndim)
    record.set_evaluations(run.n_evaluations)
    n_div = int(np.sum(run.stats["diverging"]))
    draws = z.shape[0] * z.shape[1]
    if n_div:
        record.warn(f"{n_div} of {draws} transitions after warm-up diverged: the draws may be biased (the sampler "
                    "could not follow the posterior's curvature there); raise target_accept or reparameterise the "
                    "model (e.g. non-centred)", ConvergenceWarning)
    if "reached_max_treedepth" in run.stats:
        n_max = int(np.sum(run.stats["reached_max_treedepth"]))
        if n_max:
            record.warn(f"{n_max} of {draws} transitions reached the maximum tree depth: the trajectories were cut "
                        "short, so the chain explores slowly; raise max_treedepth or improve the geometry "
                        "(mass_matrix='dense', reparameterisation)", ConvergenceWarning)
    attrs = {"tune": run.tune, "acceptance_rate": float(np.mean(run.stats["acceptance_rate"])),
             "n_divergences": n_div, "n_warmup_divergences": run.warmup_divergences,
             "step_size": [float(s) for s in run.step_size], **extra}
    return build_inference_data(problem, samples, sample_stats=run.stats, attrs=attrs, log_likelihood=log_likelihood)


def run_hmc(problem, record, *, draws, chains, seed, progressbar, tune, initial, init_jitter, target_accept,
            mass_matrix, step_size, n_steps, path_length, jitter, max_steps, log_likelihood):
    """Static-path HMC (:func:`bayeskit.samplers.hmc.sample_hmc`); called by :func:`bayeskit.sample`."""
    from bayeskit.samplers.hmc import sample_hmc

    _check_gradient(problem, "hmc")
    rng = as_rng(seed)
    tune = draws if tune is None else tune
    chains, start = _chains_and_starts(problem, chains, initial, init_jitter, rng)
    with record.measure():
        run = sample_hmc(problem.log_density_and_grad, start, draws, tune, chains, rng, n_steps=n_steps,
                         path_length=path_length, jitter=jitter, max_steps=max_steps, mass_matrix=mass_matrix,
                         target_accept=target_accept, step_size=step_size, progressbar=progressbar)
    return _result(problem, record, run, "hmc", log_likelihood, {"mass_matrix": mass_matrix})


def run_nuts(problem, record, *, draws, chains, seed, progressbar, tune, initial, init_jitter, target_accept,
             mass_matrix, step_size, max_treedepth, log_likelihood):
    """The No-U-Turn sampler (:func:`bayeskit.samplers.nuts.sample_nuts`); called by :func:`bayeskit.sample`."""
    from bayeskit.samplers.nuts import sample_nuts

    _check_gradient(problem, "nuts")
    rng = as_rng(seed)
    tune = draws if tune is None else tune
    chains, start = _chains_and_starts(problem, chains, initial, init_jitter, rng)
    with record.measure():
        run = sample_nuts(problem.log_density_and_grad, start, draws, tune, chains, rng,
                          max_treedepth=max_treedepth, mass_matrix=mass_matrix, target_accept=target_accept,
                          step_size=step_size, progressbar=progressbar)
    return _result(problem, record, run, "nuts", log_likelihood,
                   {"mass_matrix": mass_matrix, "max_treedepth": max_treedepth})
