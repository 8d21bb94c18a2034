"""Engine ``"pymc"``: ``pm.sample`` on the PyMC model behind the Problem.

NUTS for continuous variables; with discrete variables PyMC builds a compound step (NUTS for the
continuous ones, Metropolis for the discrete ones). Options (declared in
:mod:`bayeskit.engines.registry`): ``tune`` (default ``draws``), ``step_factory`` (a callable returning
PyMC step method(s), called inside the model context, e.g. ``lambda: pm.Metropolis()``), ``cores``
(default 1: reproducible and without process start-up cost), ``log_likelihood``, and the keywords of
``pm.sample`` and of NUTS (``target_accept``, ``max_treedepth``, ...). NUTS keywords are handed to PyMC
as ``nuts={...}``, so they also reach the NUTS part of a compound step.

The result is ``pm.sample``'s own, without the warm-up groups: posterior (Deterministics included),
sample_stats, observed_data, constant_data and, unless it would be huge, the pointwise log_likelihood
(for LOO and WAIC), computed by :mod:`bayeskit.results` as for every engine (PyMC's own refuses models
with ``initval=``): ``attrs["log_likelihood"]`` says whether it was computed, and why not.

PyMC's convergence checks (divergences, maximum tree depth, R-hat, ESS) run on every result; their
warnings are shown through PyMC's logger (``pymc.stats.convergence``), at warning level or higher, and
recorded in ``attrs["warnings"]``, with ``attrs["n_divergences"]`` and ``attrs["max_r_hat"]``. Timing facts:
``attrs["sampling_time_s"]`` (PyMC's timing of the sampling loop, after compilation; with ``cores=1`` the chains
run one after the other), ``attrs["sampling_without_compile_s"]`` (the same), ``attrs["result_time_s"]`` and
``attrs["cores"]``. PyMC's
info-level notes that a check could not run (fewer than 4 chains) are shown only with the progress bar,
like its other progress messages.
"""

from __future__ import annotations

import logging
import time

import numpy as np

from bayeskit.engines.record import pymc_progress_logs
from bayeskit.engines.registry import pymc_nuts_keywords

_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warn": logging.WARNING, "warning": logging.WARNING,
           "error": logging.ERROR, "critical": logging.CRITICAL}


def run(problem, record, *, draws, chains, seed, progressbar, tune, step_factory, log_likelihood, cores,
        compute_convergence_checks, **sample_kwargs):
    """Run ``pm.sample``; called by :func:`bayeskit.sample`."""
    import pymc as pm

    chains = 4 if chains is None else chains
    tune = draws if tune is None else tune
    model = problem.pymc_model
    nuts = dict(sample_kwargs.pop("nuts", None) or {})
    nuts.update({key: sample_kwargs.pop(key) for key in sorted(pymc_nuts_keywords() & set(sample_kwargs))})
    if nuts:
        sample_kwargs["nuts"] = nuts
    idata_kwargs = dict(sample_kwargs.pop("idata_kwargs", None) or {})
    if log_likelihood is None and "log_likelihood" in idata_kwargs:
        log_likelihood = bool(idata_kwargs["log_likelihood"])
    # the pointwise log-likelihood comes from bayeskit.results (PyMC's own refuses models with initval=)
    idata_kwargs["log_likelihood"] = False
    with model, pymc_progress_logs(progressbar):
        step = step_factory() if step_factory is not None else None
        full = pm.sample(
            draws=draws, tune=tune, chains=chains, cores=cores, random_seed=seed, progressbar=progressbar,
            step=step, discard_tuned_samples=False, compute_convergence_checks=False, idata_kwargs=idata_kwargs,
            **sample_kwargs,
        )
    idata, warm = finish_pymc_result(
        problem, record, full, log_likelihood=log_likelihood, progressbar=progressbar,
        compute_convergence_checks=compute_convergence_checks, quiet=bool(sample_kwargs.get("quiet", False)))
    stats = idata.sample_stats

    # evaluations: NUTS makes one gradient evaluation per leapfrog step; other steps are not counted
    n_gradient = gradient_evaluations(stats, warm)
    methods = _step_methods(step)
    only_nuts = (not any(problem.layout.discrete)) if methods is None else all(isinstance(m, pm.NUTS) for m in methods)
    record.set_evaluations(n_gradient if only_nuts else None)
    attrs = {"step": ",".join(sorted({type(m).__name__ for m in methods})) if methods else "auto", "tune": tune,
             "cores": cores}  # processes running the chains (1: one chain after the other)
    if n_gradient is not None and not only_nuts:
        attrs["n_gradient_evaluations"] = n_gradient
    idata.attrs.update(attrs)
    return idata


def finish_pymc_result(problem, record, full, *, log_likelihood, progressbar: bool, compute_convergence_checks: bool,
                       quiet: bool):
    """The result of ``pm.sample`` (any ``nuts_sampler``) made complete, checked and described.

    Shared by the engines that call ``pm.sample`` ("pymc", "nutpie", "numpyro", "blackjax"): the warm-up groups
    are split off, the result is completed by :func:`bayeskit.results.complete_pymc_inference_data` (dims and
    coords, Deterministics, observed and constant data, pointwise log-likelihood), PyMC's convergence checks run
    and are recorded, and ``attrs`` get ``sampling_time_s`` (PyMC's measure of the sampler call),
    ``sampling_without_compile_s`` (the same; the JAX engines subtract the compilation inside their call),
    ``result_time_s`` (the seconds spent here), ``n_divergences``, ``max_r_hat`` and ``acceptance_rate``.

    Parameters
    ----------
    problem : bayeskit.Problem
        The Problem built from the PyMC model that was sampled.
    record : bayeskit.engines.record.RunRecord
        The run record; convergence warnings are noted in it.
    full : arviz.InferenceData
        ``pm.sample``'s result, warm-up groups included when it has them; posterior and sample_stats under
        ArviZ's names.
    log_likelihood : bool or None
        As in :func:`bayeskit.results.build_inference_data`.
    progressbar, compute_convergence_checks, quiet : bool
        PyMC's info-level notes follow the progress bar; run PyMC's convergence checks; do not log them.

    Returns
    -------
    idata : arviz.InferenceData
        The complete result, without warm-up groups.
    warm : xarray.Dataset or None
        The warm-up sample_stats, when the sampler kept them.
    """
    from bayeskit.results import complete_pymc_inference_data

    start = time.perf_counter()
    warm = full.get("warmup_sample_stats")
    idata = full.__class__(**{g: full[g] for g in full.groups() if not g.startswith("warmup_")})
    idata = complete_pymc_inference_data(problem, idata, log_likelihood=log_likelihood)
    stats = idata.sample_stats
    model = problem.pymc_model
    if compute_convergence_checks:
        with pymc_progress_logs(progressbar):  # PyMC's info-level notes ("run 4 chains") follow the progress bar
            _convergence_checks(idata, model, record, quiet=quiet)
    sampling_time = float(idata.posterior.attrs.get("sampling_time", np.nan))
    attrs = {
        "sampling_time_s": sampling_time,
        # PyMC and nutpie compile before the sampler call; the JAX engines overwrite this (their compilation is inside)
        "sampling_without_compile_s": sampling_time,
        "n_divergences": int(stats["diverging"].sum()) if "diverging" in stats else None,
        "max_r_hat": _max_r_hat(idata, model),
    }
    if "acceptance_rate" in stats:
        attrs["acceptance_rate"] = float(np.nanmean(stats["acceptance_rate"].values))
    elif "accepted" in stats:
        attrs["acceptance_rate"] = float(np.nanmean(stats["accepted"].values))
    attrs["result_time_s"] = time.perf_counter() - start
    idata.attrs.update(attrs)
    return idata, warm


def gradient_evaluations(stats, warm) -> int | None:
    """Leapfrog steps (one gradient evaluation each) in the draws and, when kept, the warm-up; None without
    an ``n_steps`` statistic."""
    if "n_steps" not in stats:
        return None
    return int(np.nansum(stats["n_steps"].values) + (np.nansum(warm["n_steps"].values) if warm is not None else 0))


def _convergence_checks(idata, model, record, quiet: bool) -> None:
    """PyMC's own checks, shown through PyMC's logger as pm.sample does (but at warning level at least, so
    that R-hat, which PyMC logs at info level, is not lost), and recorded; notes that a check could not run
    (too few draws or chains) keep PyMC's level (info: shown with the progress bar) and are not recorded as
    warnings."""
    from pymc.stats.convergence import WarningType, run_convergence_checks

    logger = logging.getLogger("pymc.stats.convergence")
    for warning in run_convergence_checks(idata, model):
        level = _LEVELS.get(warning.level, logging.WARNING)
        if warning.kind is not WarningType.BAD_PARAMS:
            level = max(level, logging.WARNING)
            record.note(warning.message)
        if not quiet:
            logger.log(level, warning.message)


def _max_r_hat(idata, model) -> float | None:
    """Largest rank-normalised split R-hat over the free variables (as PyMC's check computes it); None when
    it cannot be computed (too few draws)."""
    import arviz as az

    names = [rv.name for rv in model.free_RVs if rv.name in idata.posterior]
    if not names or idata.posterior.sizes["draw"] < 4:
        return None
    with np.errstate(invalid="ignore", divide="ignore"):
        rhat = az.rhat(idata, var_names=names)
    values = np.concatenate([np.ravel(rhat[name].values) for name in names])
    return float(np.nanmax(values)) if np.isfinite(values).any() else None


def _step_methods(step) -> list | None:
    """The step method instances the user's step_factory gave (a CompoundStep's parts), None when PyMC chose."""
    if step is None:
        return None
    methods = []
    for s in step if isinstance(step, (list, tuple)) else [step]:
        methods += list(getattr(s, "methods", [s]))
    return methods
