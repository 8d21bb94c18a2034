"""Engines ``"nutpie"``, ``"numpyro"`` and ``"blackjax"``: PyMC's external NUTS samplers.

Each runs ``pm.sample(nuts_sampler=...)`` on the PyMC model behind the Problem: nutpie (Rust, on the model
compiled by numba, or by JAX with ``backend="jax"``), NumPyro's and BlackJAX's NUTS (on the model translated
to JAX). All three are NUTS only: models with discrete parameters or ``pm.Minibatch`` likelihoods are refused
by the registry before anything runs. Their libraries are optional extras: ``pip install -e ".[nutpie]"``
for nutpie, ``pip install -e ".[jax]"`` for NumPyro and BlackJAX; without them the engine says so.

The result is built by :func:`bayeskit.engines.pymc.finish_pymc_result`, as for engine ``"pymc"``: posterior
with the model's dims, coords and Deterministics (nutpie's extra transformed values, e.g. ``sigma_log__``, are
dropped, as ``pm.sample`` drops them), observed_data, constant_data, the pointwise log_likelihood, and
sample_stats under ArviZ's names (nutpie's ``depth``, ``logp``, ``mean_tree_accept``, ``maxdepth_reached`` are
renamed ``tree_depth``, ``lp``, ``acceptance_rate``, ``reached_max_treedepth``; NumPyro's ``lp``, which
PyMC 5.28 fills with NumPyro's potential energy, i.e. minus the log density, is negated back).

Run facts, beside the common ones: ``sampling_time_s`` (PyMC's timing of the sampler call; for NumPyro and
BlackJAX it includes JAX's compilation of the sampling loop, which happens on the first call),
``sampling_without_compile_s`` (``sampling_time_s`` minus the compilation inside the sampler call: for nutpie,
which compiles before the call, equal to ``sampling_time_s``; for the JAX engines minus
``jax_compile_in_sampling_s``, so that it means the same on every engine), ``result_time_s`` (bayeskit's completion
and checks of the result, see :func:`bayeskit.engines.pymc.finish_pymc_result`), for the JAX engines
``jax_compile_time_s`` (seconds JAX spent tracing, lowering and compiling during the whole run, from
:mod:`jax.monitoring`), ``jax_compile_in_sampling_s`` (the part of it inside the sampler call; None if PyMC's
sampler function could not be timed) and ``chain_method``, and ``n_divergences``, ``max_r_hat``,
``acceptance_rate``, ``tune``. Chains run in parallel: nutpie on threads (its ``cores``, default all CPUs), the
JAX engines on one CPU device per chain (``chain_method="parallel"``) when JAX has them. Evaluation
counts: nutpie keeps its warm-up statistics, so ``n_evaluations`` counts every leapfrog step (one gradient
each); PyMC's NumPyro and BlackJAX paths return the statistics of the kept draws only, so there
``n_evaluations`` is None (unknown) and ``attrs["n_gradient_evaluations_draws"]`` gives the leapfrog steps of
the kept draws, warm-up excluded.

JAX's platform warnings ("An NVIDIA GPU may be present on this machine, but a CUDA-enabled jaxlib is not
installed") are avoided at the source: when no JAX accelerator plugin is installed, ``JAX_PLATFORMS=cpu`` is
set before JAX is first imported (a CPU-only jaxlib has no other platform, so nothing else changes); a value the
user set is kept.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import os
import sys
import time
import warnings
from contextlib import contextmanager

import numpy as np

from bayeskit.engines.record import pymc_progress_logs

__all__ = ["EXTRAS", "quiet_jax_platforms", "require", "run_blackjax", "run_numpyro", "run_nutpie"]

#: engine -> (the library it needs, the extra of pyproject.toml that installs it)
EXTRAS = {"nutpie": ("nutpie", "nutpie"), "numpyro": ("numpyro", "jax"), "blackjax": ("blackjax", "jax")}

#: nutpie's statistic names -> ArviZ's (as engine "pymc" gives them)
_NUTPIE_STATS = {"depth": "tree_depth", "logp": "lp", "mean_tree_accept": "acceptance_rate",
                 "maxdepth_reached": "reached_max_treedepth"}

#: JAX's compile events (jax._src.dispatch): tracing to a jaxpr, lowering to MLIR, XLA's compilation
_JAX_COMPILE_EVENTS = ("/jax/core/compile/jaxpr_trace_duration", "/jax/core/compile/jaxpr_to_mlir_module_duration",
                       "/jax/core/compile/backend_compile_duration")


def install_hint(engine: str) -> str:
    """``'Install it with: pip install -e ".[extra]"'`` for ``engine``'s extra."""
    library, extra = EXTRAS[engine]
    return f'Install it with: pip install -e ".[{extra}]" (or pip install {library})'


def require(engine: str):
    """Import and return the library ``engine`` needs.

    Raises
    ------
    ImportError
        Naming the library and the extra that installs it.
    """
    library, extra = EXTRAS[engine]
    try:
        with warnings.catch_warnings():
            # tqdm.auto (imported through PyMC's JAX module and NumPyro) warns in Jupyter without ipywidgets;
            # harmless: it falls back to a text progress bar, and bayeskit's runs default to none
            warnings.filterwarnings("ignore", message="IProgress not found")
            if library in ("numpyro", "blackjax"):
                quiet_jax_platforms()
                # PyMC's JAX module asks XLA for one CPU device per chain (XLA_FLAGS); it must come before JAX starts
                importlib.import_module("pymc.sampling.jax")
            module = importlib.import_module(library)
            if library == "numpyro":
                importlib.import_module("numpyro.infer")  # its MCMC, which PyMC imports anyway, inside the filter
            return module
    except ImportError as exc:
        raise ImportError(f"engine {engine!r} needs {library}, which is not installed ({exc}). "
                          f"{install_hint(engine)}") from exc


def quiet_jax_platforms() -> None:
    """Set ``JAX_PLATFORMS=cpu`` before JAX is imported when JAX can only run on the CPU.

    A CPU-only jaxlib looks for GPUs and TPUs when it starts and warns that it found none, or that "an NVIDIA
    GPU may be present" without a CUDA jaxlib; with ``JAX_PLATFORMS=cpu`` it does not look. Nothing is changed
    when the user set ``JAX_PLATFORMS``, when JAX is already imported (the setting would be ignored), or when a
    JAX accelerator plugin (``jax_plugins`` entry point, e.g. ``jax-cuda12-plugin``) is installed.
    """
    if "JAX_PLATFORMS" in os.environ or "jax" in sys.modules:
        return
    if importlib.metadata.entry_points(group="jax_plugins"):
        return
    if any(importlib.util.find_spec(name) is not None for name in ("jax_cuda12_plugin", "jax_cuda13_plugin",
                                                                   "libtpu", "jax_rocm60_plugin")):
        return
    os.environ["JAX_PLATFORMS"] = "cpu"


# ---------------------------------------------------------------------------------------------- engines
def run_nutpie(problem, record, *, draws, chains, seed, progressbar, tune, target_accept, log_likelihood,
               compute_convergence_checks, **nutpie_kwargs):
    """``pm.sample(nuts_sampler="nutpie")``; called by :func:`bayeskit.sample`.

    ``backend`` and ``gradient_backend`` go to ``nutpie.compile_pymc_model``, the other options to
    ``nutpie.sample``.
    """
    require("nutpie")
    full = _pm_sample("nutpie", problem, draws=draws, chains=chains, seed=seed, progressbar=progressbar, tune=tune,
                      target_accept=target_accept, sampler_kwargs=nutpie_kwargs)
    full = _nutpie_as_pymc(full, problem.pymc_model)
    return _finish(problem, record, full, tune=tune, draws=draws, log_likelihood=log_likelihood,
                   progressbar=progressbar, compute_convergence_checks=compute_convergence_checks, warm_kept=True)


def run_numpyro(problem, record, **kwargs):
    """``pm.sample(nuts_sampler="numpyro")``; called by :func:`bayeskit.sample`."""
    return _run_jax("numpyro", problem, record, **kwargs)


def run_blackjax(problem, record, **kwargs):
    """``pm.sample(nuts_sampler="blackjax")``; called by :func:`bayeskit.sample`."""
    return _run_jax("blackjax", problem, record, **kwargs)


def _run_jax(sampler, problem, record, *, draws, chains, seed, progressbar, tune, target_accept, log_likelihood,
             compute_convergence_checks, initvals=None, **jax_kwargs):
    require(sampler)
    import jax

    chains = 4 if chains is None else chains
    if "chain_method" not in jax_kwargs and jax.local_device_count() < chains:
        # JAX started before PyMC could ask for one CPU device per chain: run the chains vectorised (pmap would
        # fail for BlackJAX, and NumPyro would warn and run them one after another)
        jax_kwargs["chain_method"] = "vectorized"
    with jax_compile_timer() as compile_time, _sampler_call_window(sampler) as window:
        full = _pm_sample(sampler, problem, draws=draws, chains=chains, seed=seed, progressbar=progressbar,
                          tune=tune, target_accept=target_accept, sampler_kwargs=jax_kwargs, initvals=initvals,
                          idata_kwargs={"log_likelihood": False})
    if sampler == "numpyro" and "lp" in full.sample_stats:
        # PyMC 5.28 stores NumPyro's potential energy (minus the log density) under "lp"
        full.sample_stats["lp"] = -full.sample_stats["lp"]
    idata = _finish(problem, record, full, tune=tune, draws=draws, log_likelihood=log_likelihood,
                    progressbar=progressbar, compute_convergence_checks=compute_convergence_checks, warm_kept=False)
    idata.attrs["jax_compile_time_s"] = compile_time()
    inside = None if window() is None else compile_time(within=window())
    idata.attrs["jax_compile_in_sampling_s"] = inside
    idata.attrs["sampling_without_compile_s"] = None if inside is None else idata.attrs["sampling_time_s"] - inside
    idata.attrs["chain_method"] = jax_kwargs.get("chain_method", "parallel")
    return idata


# ---------------------------------------------------------------------------------------------- shared steps
def _pm_sample(sampler, problem, *, draws, chains, seed, progressbar, tune, target_accept, sampler_kwargs,
               initvals=None, idata_kwargs=None):
    import pymc as pm

    with problem.pymc_model, pymc_progress_logs(progressbar):
        return pm.sample(
            draws=draws, tune=draws if tune is None else tune, chains=4 if chains is None else chains,
            random_seed=seed, progressbar=progressbar, nuts_sampler=sampler, nuts={"target_accept": target_accept},
            nuts_sampler_kwargs=dict(sampler_kwargs), initvals=initvals, idata_kwargs=idata_kwargs,
            compute_convergence_checks=False,
        )


def _finish(problem, record, full, *, tune, draws, log_likelihood, progressbar, compute_convergence_checks,
            warm_kept: bool):
    from bayeskit.engines.pymc import finish_pymc_result, gradient_evaluations

    idata, warm = finish_pymc_result(problem, record, full, log_likelihood=log_likelihood, progressbar=progressbar,
                                     compute_convergence_checks=compute_convergence_checks, quiet=False)
    n_gradient = gradient_evaluations(idata.sample_stats, warm)
    if warm_kept:
        record.set_evaluations(n_gradient)
    else:
        record.set_evaluations(None)  # the warm-up's leapfrog steps are not reported
        idata.attrs["n_gradient_evaluations_draws"] = n_gradient
    idata.attrs["tune"] = draws if tune is None else tune
    return idata


def _nutpie_as_pymc(full, model):
    """nutpie's result with PyMC's variables and ArviZ's statistic names: transformed values dropped."""
    transformed = {model.rvs_to_values[rv].name for rv in model.free_RVs if model.rvs_to_transforms.get(rv) is not None}
    groups = {}
    for name in full.groups():
        group = full[name]
        if name in ("posterior", "warmup_posterior"):
            group = group.drop_vars([v for v in group.data_vars if v in transformed])
        elif name in ("sample_stats", "warmup_sample_stats"):
            group = group.rename({k: v for k, v in _NUTPIE_STATS.items() if k in group.data_vars})
        groups[name] = group
    idata = full.__class__(**groups)
    idata.attrs.update(full.attrs)
    return idata


@contextmanager
def jax_compile_timer():
    """Measure the wall time JAX spends compiling inside the block.

    Yields a function ``compile_time(within=None)`` returning the seconds: the length of the union of JAX's compile
    events' time spans (so nested events count once), clipped to ``within=(start, end)`` (``time.time()`` values)
    when given.
    """
    import jax.monitoring

    spans: list[tuple[float, float]] = []

    def listener(event, start, end, **_):
        if event in _JAX_COMPILE_EVENTS:
            spans.append((start, end))

    def compile_time(within: tuple[float, float] | None = None) -> float:
        if within is None:
            return _union_length(spans)
        lo, hi = within
        return _union_length([(max(start, lo), min(stop, hi)) for start, stop in spans if min(stop, hi) > max(start, lo)])

    jax.monitoring.register_event_time_span_listener(listener)
    try:
        yield compile_time
    finally:
        jax.monitoring.unregister_event_time_span_listener(listener)


@contextmanager
def _sampler_call_window(sampler: str):
    """Time PyMC's call of its NumPyro or BlackJAX sampler function (the call ``sampling_time`` measures).

    ``pymc.sampling.jax._sample_<sampler>_nuts`` is wrapped for the duration of the block; yields a function
    returning the call's ``(start, end)`` in ``time.time()`` seconds, or None when PyMC has no such function (another
    PyMC version) or it was not called exactly once.
    """
    import pymc.sampling.jax as pymc_jax

    name = f"_sample_{sampler}_nuts"
    original = getattr(pymc_jax, name, None)
    calls: list[tuple[float, float]] = []
    if original is None:
        yield lambda: None
        return

    def timed(*args, **kwargs):
        start = time.time()
        try:
            return original(*args, **kwargs)
        finally:
            calls.append((start, time.time()))

    setattr(pymc_jax, name, timed)
    try:
        yield lambda: calls[0] if len(calls) == 1 else None
    finally:
        setattr(pymc_jax, name, original)


def _union_length(spans) -> float:
    total, end = 0.0, -np.inf
    for start, stop in sorted(spans):
        if stop <= end:
            continue
        total += stop - max(start, end)
        end = stop
    return float(total)
